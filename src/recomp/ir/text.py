"""The icode text form: ``format_region`` prints it and ``parse`` reads it back, so that
``format_region(parse(t)) == t`` for any printed ``t``.  The grammar is in ``ir/SPEC.md``::

    region tst27 @0x0000
    b0 @0x0000:
      guard 2
      insn 0x0000, 0                   ; ADD r0, r2
      %0:i32 = getreg r0
      ...
      cbr %4, b0, b1
"""

from __future__ import annotations

import re

from recomp.ir.core import Block, Op, Region, Value, result_type
from recomp.ir.ops import OPS, operand_kinds
from recomp.ir.types import TYPES, Type

COMMENT_COLUMN = 34


class ParseError(ValueError):
    """Malformed icode text; the message names the line."""


INT_FORMATS = {"i": "#x", "a": "#06x", "n": "d"}


def format_arg(arg: Value | int | str, kind: str) -> str:
    if isinstance(arg, int):
        return format(arg, INT_FORMATS[kind])
    return str(arg)


def format_op(op: Op) -> str:
    text = op.name
    if op.args:
        text += " " + ", ".join(format_arg(a, k) for a, k in zip(op.args, operand_kinds(op.spec, len(op.args))))
    if op.result is not None:
        text = f"{op.result}:{op.result.type} = {text}"
    if op.comment:
        text = f"{text:<{COMMENT_COLUMN}} ; {op.comment}"
    return "  " + text


def format_block(block: Block) -> str:
    lines = [f"{block.label} @{block.addr:#06x}:"]
    lines += [format_op(op) for op in block.ops]
    return "\n".join(lines)


def format_region(region: Region) -> str:
    parts = [f"region {region.guest} @{region.entry:#06x}"]
    parts += [format_block(b) for b in region.blocks]
    return "\n".join(parts) + "\n"


_REGION = re.compile(r"region\s+(\w+)\s+@(\w+)$")
_BLOCK = re.compile(r"(\w+)\s+@(\w+):$")
_DEF = re.compile(r"%(\d+):(i\d+)\s*=\s*(.*)$")
_NAME = re.compile(r"[A-Za-z_]\w*$")


def _int(text: str, lineno: int) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ParseError(f"line {lineno}: expected an integer, got {text!r}") from None


def _parse_op(text: str, lineno: int, values: dict[int, Value]) -> Op:
    text, _, comment = text.partition(";")
    text = text.strip()
    declared: Type | None = None
    result_id: int | None = None
    match = _DEF.match(text)
    if match:
        result_id = int(match.group(1))
        declared = TYPES.get(match.group(2))
        if declared is None:
            raise ParseError(f"line {lineno}: unknown type {match.group(2)}")
        text = match.group(3)
    name, _, rest = text.partition(" ")
    spec = OPS.get(name)
    if spec is None:
        raise ParseError(f"line {lineno}: unknown op {name!r}")
    words = [w.strip() for w in rest.split(",")] if rest.strip() else []
    kinds = operand_kinds(spec, len(words))
    if len(words) != len(kinds):
        raise ParseError(f"line {lineno}: {name} takes {len(kinds)} operands, got {len(words)}")
    args: list[Value | int | str] = []
    for word, kind in zip(words, kinds):
        if kind == "v":
            if not word.startswith("%") or not word[1:].isdigit():
                raise ParseError(f"line {lineno}: expected a value, got {word!r}")
            value = values.get(int(word[1:]))
            if value is None:
                raise ParseError(f"line {lineno}: {word} is used before it is defined")
            args.append(value)
        elif kind in INT_FORMATS:
            args.append(_int(word, lineno))
        else:
            if not _NAME.match(word):
                raise ParseError(f"line {lineno}: expected a name, got {word!r}")
            args.append(word)
    if spec.result is None and result_id is not None:
        raise ParseError(f"line {lineno}: {name} has no result")
    if spec.result is not None and name != "call" and result_id is None:
        raise ParseError(f"line {lineno}: {name} needs a result")
    rtype = result_type(name, args, declared)
    result = None
    if result_id is not None:
        if result_id in values:
            raise ParseError(f"line {lineno}: %{result_id} is defined twice")
        if rtype != declared:
            raise ParseError(f"line {lineno}: {name} gives {rtype}, not {declared}")
        result = values[result_id] = Value(result_id, declared)
    return Op(name, args, result, comment.strip())


def parse(text: str) -> Region:
    """Read one region from its text form."""
    region: Region | None = None
    block: Block | None = None
    values: dict[int, Value] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if region is None:
            match = _REGION.match(line)
            if not match:
                raise ParseError(f"line {lineno}: expected 'region GUEST @ADDR'")
            region = Region(match.group(1), _int(match.group(2), lineno))
            continue
        match = _BLOCK.match(line)
        if match and not raw.startswith(" "):
            block = Block(match.group(1), _int(match.group(2), lineno))
            region.blocks.append(block)
            continue
        if block is None:
            raise ParseError(f"line {lineno}: op outside a block")
        block.ops.append(_parse_op(line, lineno, values))
    if region is None:
        raise ParseError("no region in text")
    return region

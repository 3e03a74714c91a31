"""Constant folding and propagation.

A pure op whose operands are all constants becomes a ``const`` computed with
``recomp.ir.evaluate`` (the interpreter's own semantics, so folding cannot change a result);
identities (``x + 0``, ``x & 0``, ``select 1, a, b`` ...) are replaced by their operand; a ``cbr``
on a constant becomes a ``br``.  Values are block-local, so one forward scan per block suffices.
"""

from __future__ import annotations

from collections import Counter

from recomp.ir.core import Block, Op, Region, Value
from recomp.ir.evaluate import BINARY, CAST
from recomp.ir.guest import GuestSpec

# (op, which operand is the constant, constant as a function of the mask) -> result
#   "other": the other operand; "const": the constant itself
_IDENTITIES: dict[tuple[str, int], str] = {
    ("add", 0): "other", ("or", 0): "other", ("xor", 0): "other",
    ("sub", 0): "other", ("shl", 0): "other", ("lshr", 0): "other", ("ashr", 0): "other",
    ("mul", 1): "other", ("mul", 0): "const", ("and", 0): "const",
}


_FOLDABLE = set(BINARY) | set(CAST) | {"select"}


def _fold_block(block: Block, counts: Counter) -> None:
    consts: dict[int, int] = {}
    replaced: dict[int, Value] = {}
    for op in block.ops:
        op.args = [replaced.get(a.id, a) if isinstance(a, Value) else a for a in op.args]
        values = list(op.values())
        known = [consts.get(v.id) for v in values]
        if op.name == "const":
            consts[op.result.id] = op.args[0]
        elif op.name == "cbr" and known[0] is not None:
            op.name, op.args = "br", [op.args[1] if known[0] else op.args[2]]
            counts["branches"] += 1
        elif op.name in _FOLDABLE and None not in known:
            _to_const(op, _evaluate(op, values, known))
            consts[op.result.id] = op.args[0]
            counts["folded"] += 1
        elif op.name == "select" and known[0] is not None:
            replaced[op.result.id] = values[1] if known[0] else values[2]
            counts["identities"] += 1
        elif op.name in BINARY and op.spec.result == "arg0":
            _identity(op, values, known, replaced, consts, counts)


def _identity(op: Op, values: list[Value], known: list[int | None], replaced: dict[int, Value],
              consts: dict[int, int], counts: Counter) -> None:
    mask = op.result.type.mask
    for index, value in enumerate(known):
        if value is None or (index == 0 and op.name in ("sub", "shl", "lshr", "ashr")):
            continue
        if value == mask and op.name == "and":
            outcome = "other"
        else:
            outcome = _IDENTITIES.get((op.name, value))
        if outcome == "other":
            replaced[op.result.id] = values[1 - index]
        elif outcome == "const":
            _to_const(op, value)
            consts[op.result.id] = value
        else:
            continue
        counts["identities"] += 1
        return


def _evaluate(op: Op, values: list[Value], known: list[int]) -> int:
    if op.name in BINARY:
        return BINARY[op.name](values[0].type, *known)
    if op.name in CAST:
        return CAST[op.name](values[0].type, op.result.type, known[0])
    if op.name == "select":
        return known[1] if known[0] else known[2]
    raise AssertionError(f"no constant evaluation for {op.name}")


def _to_const(op: Op, value: int) -> None:
    op.name, op.args = "const", [value & op.result.type.mask]


def fold(region: Region, guest: GuestSpec | None = None) -> dict[str, int]:
    counts: Counter = Counter()
    for block in region.blocks:
        _fold_block(block, counts)
    return {key: counts[key] for key in ("folded", "identities", "branches")}

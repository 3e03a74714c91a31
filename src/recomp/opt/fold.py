"""Constant folding and algebraic simplification.

A pure op whose operands are all constants becomes a ``const`` computed with
``recomp.ir.evaluate`` (the reference engine's own semantics, so folding cannot change a result);
identities (``x + 0``, ``x & 0``, ``select 1, a, b`` ...) are replaced by their operand; chains
of constants are combined (``(x - 1) + 1`` is ``x``: a push followed by a pull addresses the same
stack byte); cast chains collapse (``trunc (zext x)`` is ``x``); a ``cbr`` on a constant becomes a
``br``, and a conditional exit on a constant disappears or ends the block.  Values are
block-local, so one forward scan per block suffices.
"""

from __future__ import annotations

from collections import Counter

from recomp.ir.core import Block, Op, Region, Value
from recomp.ir.evaluate import BINARY, CAST
from recomp.ir.ops import CONDITIONAL
from recomp.opt.context import Context
from recomp.opt.rewrite import NewValues, constant, substitute

# (op, constant operand) -> "other": the result is the other operand; "const": the constant
_IDENTITIES: dict[tuple[str, int], str] = {
    ("add", 0): "other", ("or", 0): "other", ("xor", 0): "other",
    ("sub", 0): "other", ("shl", 0): "other", ("lshr", 0): "other", ("ashr", 0): "other",
    ("mul", 1): "other", ("mul", 0): "const", ("and", 0): "const",
}
_ASSOCIATIVE = {"add", "and", "or", "xor"}
_FOLDABLE = set(BINARY) | set(CAST) | {"select"}
_UNCONDITIONAL = {conditional: terminator for terminator, conditional in CONDITIONAL.items()}


class _Folder:
    def __init__(self, region: Region) -> None:
        self.new = NewValues(region)
        self.counts: Counter = Counter()

    def block(self, block: Block) -> None:
        defs: dict[int, Op] = {}
        self.replaced: dict[int, Value] = {}
        out: list[Op] = []
        for op in block.ops:
            substitute(op, self.replaced)
            if op.name in _UNCONDITIONAL and constant(defs, op.args[0]) is not None:
                self.counts["branches"] += 1
                if not constant(defs, op.args[0]):
                    continue  # never leaves
                out.append(Op(_UNCONDITIONAL[op.name], [op.args[1]]))
                break  # always leaves: the rest of the block never runs
            self.fold(op, defs, out)
            if op.result is not None:
                defs[op.result.id] = op
            out.append(op)
        block.ops = out

    def fold(self, op: Op, defs: dict[int, Op], out: list[Op]) -> None:
        values = list(op.values())
        known = [constant(defs, v) for v in values]
        if op.spec.commutative and known[0] is not None and known[1] is None:
            op.args, values, known = op.args[::-1], values[::-1], known[::-1]
        if op.name == "cbr" and known[0] is not None:
            op.name, op.args = "br", [op.args[1] if known[0] else op.args[2]]
            self.counts["branches"] += 1
        elif op.name in _FOLDABLE and None not in known:
            _to_const(op, _evaluate(op, values, known))
            self.counts["folded"] += 1
        elif op.name == "select" and known[0] is not None:
            self.replace(op, values[1] if known[0] else values[2])
        elif op.name in BINARY and op.spec.result == "arg0" and known[1] is not None:
            self.binary(op, values, known[1], defs, out)
        elif op.name in CAST:
            self.cast(op, values[0], defs)

    def replace(self, op: Op, value: Value) -> None:
        self.replaced[op.result.id] = value
        self.counts["identities"] += 1

    def binary(self, op: Op, values: list[Value], c: int, defs: dict[int, Op], out: list[Op]) -> None:
        """``x op c``: an identity, or a constant chain ``(y op c1) op c`` to combine."""
        x, t = values[0], op.result.type
        if op.name == "sub":  # x - c is x + (-c): one form for chains
            c = -c & t.mask
            op.name, op.args = "add", [x, self.new.const(out, defs, t, c)]
        outcome = "other" if op.name == "and" and c == t.mask else _IDENTITIES.get((op.name, c))
        if outcome == "other":
            self.replace(op, x)
            return
        if outcome == "const":
            _to_const(op, c)
            self.counts["identities"] += 1
            return
        inner = defs.get(x.id)
        if op.name in _ASSOCIATIVE and inner is not None and inner.name == op.name:
            y, c1 = inner.args
            inner_c = constant(defs, c1)
            if inner_c is not None:
                combined = BINARY[op.name](t, inner_c, c)
                op.args = [y, self.new.const(out, defs, t, combined)]
                self.counts["chains"] += 1
                if _IDENTITIES.get((op.name, combined)) == "other":
                    self.replace(op, y)

    def cast(self, op: Op, x: Value, defs: dict[int, Op]) -> None:
        """Collapse ``cast (cast y)``: ``trunc (zext y)`` to y or one cast, two widenings to one."""
        inner = defs.get(x.id)
        if inner is None or inner.name not in CAST or inner.name == "sext":
            return
        (y,) = inner.values()
        want = op.result.type
        if op.name == "trunc" and inner.name == "zext" and want == y.type:
            self.replace(op, y)
        elif (op.name == "trunc" and want.bits < y.type.bits) or op.name == inner.name == "zext":
            op.args = [y]
            self.counts["casts"] += 1
        elif op.name == "trunc" and inner.name == "zext":
            op.name, op.args = "zext", [y]
            self.counts["casts"] += 1


def _evaluate(op: Op, values: list[Value], known: list[int]) -> int:
    if op.name in BINARY:
        return BINARY[op.name](values[0].type, *known)
    if op.name in CAST:
        return CAST[op.name](values[0].type, op.result.type, known[0])
    return known[1] if known[0] else known[2]  # select


def _to_const(op: Op, value: int) -> None:
    op.name, op.args = "const", [value & op.result.type.mask]


def fold(region: Region, context: Context) -> dict[str, int]:
    folder = _Folder(region)
    for block in region.blocks:
        folder.block(block)
    counts = folder.counts
    return {key: counts[key] for key in ("folded", "identities", "chains", "casts", "branches")}

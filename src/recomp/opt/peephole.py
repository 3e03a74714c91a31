"""Peephole fusion: small patterns of ops become fewer, simpler ones.

Each rule looks at one op and the ops defining its operands (``RULES``, by op name), and is
exact on every input, so it cannot change behaviour:

- a negated compare is the opposite compare (``BNE`` after ``CMP`` branches on ``a != m``, not on
  ``(Z of a - m) xor 1``);
- a compare of a difference with zero compares the operands (``CMP`` + ``BEQ``/``BNE``);
- a compare of ``x + c`` with a constant compares ``x`` (``DEX`` + ``BNE``: the loop branches on
  the old counter, so the decrement and the branch no longer depend on each other);
- ``x xor y == 0`` is ``x == y`` (``EOR`` + ``BEQ``);
- ``select c, 1, 0`` is ``c`` widened (a taken branch's extra cycle);
- a 16-bit add done as two 8-bit adds with the carry between them (``CLC; LDA lo; ADC; STA lo;
  LDA hi; ADC; STA hi``) is one 16-bit add (see ``_carry_chain``).

Together with forwarding, the first rules make every flag-based branch of a compare a single
compare-and-branch: the flags it went through are then dead for ``liveness``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from recomp.ir.core import Op, Region, Value
from recomp.ir.types import I1
from recomp.opt.context import Context
from recomp.opt.rewrite import NewValues, constant

# a compare and its negation, with operands swapped where needed: not (a < b) is b <= a
_NEGATED = {"eq": ("ne", False), "ne": ("eq", False), "ult": ("ule", True), "ule": ("ult", True),
            "slt": ("sle", True), "sle": ("slt", True)}


class _Block:
    """The state of one block's scan: definitions, replacements, the rebuilt op list."""

    def __init__(self, new: NewValues, counts: Counter) -> None:
        self.new = new
        self.counts = counts
        self.defs: dict[int, Op] = {}
        self.out: list[Op] = []

    def defining(self, value: Value, *names: str) -> Op | None:
        op = self.defs.get(value.id)
        return op if op is not None and op.name in names else None


def _negated_compare(b: _Block, op: Op) -> bool:
    """``xor (cmp a, b), 1`` -> the opposite compare."""
    x, one = op.args
    inner = b.defining(x, *_NEGATED)
    if x.type != I1 or constant(b.defs, one) != 1 or inner is None:
        return False
    name, swap = _NEGATED[inner.name]
    op.name, op.args = name, inner.args[::-1] if swap else list(inner.args)
    b.counts["compare_branch"] += 1
    return True


def _compare_with_constant(b: _Block, op: Op) -> bool:
    """``(a - b) == 0`` -> ``a == b``; ``(a ^ b) == 0`` -> ``a == b``; ``(x + c) == d`` ->
    ``x == d - c`` (and the same for ``!=``)."""
    left, right = op.args
    d = constant(b.defs, right)
    inner = b.defining(left, "sub", "xor", "add")
    if d is None or inner is None:
        return False
    if inner.name in ("sub", "xor") and d == 0:
        op.args = list(inner.args)
        b.counts["compare_branch"] += 1
        return True
    c = constant(b.defs, inner.args[1])
    if inner.name == "add" and c is not None:
        op.args = [inner.args[0], b.new.const(b.out, b.defs, left.type, d - c)]
        b.counts["step_branch"] += 1
        return True
    return False


def _select_bool(b: _Block, op: Op) -> bool:
    """``select c, 1, 0`` -> ``zext c``."""
    c, one, zero = op.args
    if constant(b.defs, one) != 1 or constant(b.defs, zero) != 0 or op.result.type == I1:
        return False
    op.name, op.args = "zext", [c]
    b.counts["selects"] += 1
    return True


RULES: dict[str, Callable[[_Block, Op], bool]] = {
    "xor": _negated_compare,
    "eq": _compare_with_constant,
    "ne": _compare_with_constant,
    "select": _select_bool,
}


def peephole(region: Region, context: Context) -> dict[str, int]:
    new = NewValues(region)
    counts: Counter = Counter()
    for block in region.blocks:
        b = _Block(new, counts)
        for op in block.ops:
            while op.name in RULES and RULES[op.name](b, op):
                pass
            if op.result is not None:
                b.defs[op.result.id] = op
            b.out.append(op)
        block.ops = b.out
    return {key: counts[key] for key in ("compare_branch", "step_branch", "selects")}

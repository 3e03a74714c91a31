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

from recomp.ir.core import Block, Op, Region, Value
from recomp.ir.types import I1, I8, I16, I32
from recomp.opt.context import Context
from recomp.opt.ranges import intersects, overlaps, touched
from recomp.opt.rewrite import NewValues, constant

# a compare and its negation, with operands swapped where needed: not (a < b) is b <= a
_NEGATED = {"eq": ("ne", False), "ne": ("eq", False), "ult": ("ule", True), "ule": ("ult", True),
            "slt": ("sle", True), "sle": ("slt", True)}


class _Block:
    """The state of one block's scan: definitions, replacements, the rebuilt op list."""

    def __init__(self, new: NewValues, counts: Counter, context: Context) -> None:
        self.new = new
        self.counts = counts
        self.context = context
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


def _byte_load(b: _Block, value: Value, shift: int) -> tuple[Op, int] | None:
    """``zext (load A)`` (``shift`` 0) or ``shl (zext (load A)), 8`` (``shift`` 8): the load and
    its constant address A."""
    if shift:
        shl = b.defining(value, "shl")
        if shl is None or constant(b.defs, shl.args[1]) != shift:
            return None
        value = shl.args[0]
    zext = b.defining(value, "zext")
    load = zext and b.defining(zext.args[0], "load")
    if load is None or load.result.type != I8:
        return None
    addr = constant(b.defs, load.args[0])
    return None if addr is None else (load, addr)


def _word_load(b: _Block, op: Op) -> bool:
    """``zext (load A) | zext (load A+1) << 8`` -> one 16-bit ``load A``, when neither byte is a
    device's and nothing may store to them between the two loads and here."""
    if op.result.type != I16 or b.context.devices is None:
        return False
    low, high = (_byte_load(b, v, shift) for v, shift in zip(op.args, (0, 8)))
    if low is None or high is None or high[1] != low[1] + 1 or high[1] >= (b.context.memory_size or 0):
        return False
    span = (low[1], high[1])
    if overlaps(span, b.context.devices):
        return False
    first = min(b.out.index(low[0]), b.out.index(high[0]))
    size = b.context.memory_size
    for other in b.out[first:]:
        if other.name == "call" or (other.name == "store" and intersects(touched(b.defs, other, size), span)):
            return False
    op.name, op.args = "load", [low[0].args[0]]
    b.counts["word_loads"] += 1
    return True


RULES: dict[str, Callable[[_Block, Op], bool]] = {
    "xor": _negated_compare,
    "eq": _compare_with_constant,
    "ne": _compare_with_constant,
    "select": _select_bool,
    "or": _word_load,
}


def _terms(defs: dict[int, Op], value: Value) -> list[Value | int] | None:
    """An i16 sum of zero-extended bytes, bits and constants, as its terms; None if it is not."""
    op = defs.get(value.id)
    if op is not None and op.name == "add":
        left, right = (_terms(defs, v) for v in op.args)
        return None if left is None or right is None else left + right
    if op is not None and op.name == "const":
        return [op.args[0]]
    if op is not None and op.name == "zext" and op.args[0].type in (I1, I8):
        return [op.args[0]]
    return None


def _most(terms: list[Value | int]) -> int:
    return sum(t if isinstance(t, int) else t.type.mask for t in terms)


def _carry_from(defs: dict[int, Op], bit: Value) -> Value | None:
    """The i16 sum whose bit 8 ``bit`` is (``trunc (lshr t, 8)``), if it is that."""
    trunc = defs.get(bit.id)
    shift = trunc is not None and trunc.name == "trunc" and defs.get(trunc.args[0].id)
    if not shift or shift.name != "lshr" or constant(defs, shift.args[1]) != 8:
        return None
    return shift.args[0]


def _stored_sum(defs: dict[int, Op], store: Op) -> tuple[int, Value] | None:
    """A byte store of ``trunc t`` to a constant address: (address, t)."""
    addr = constant(defs, store.args[0])
    trunc = defs.get(store.args[1].id)
    if addr is None or store.args[1].type != I8 or trunc is None or trunc.name != "trunc":
        return None
    return addr, trunc.args[0]


def _carry_chain(block: Block, new: NewValues, context: Context, counts: Counter) -> None:
    """Two 8-bit adds where the second takes the first's carry, stored to adjacent bytes
    (``CLC; LDA lo; ADC; STA lo; LDA hi; ADC; STA hi``, and SBC alike, which adds the
    complement), become one 16-bit add and one 16-bit store.  The low sum is at most $1FF, so
    its bit 8 is the carry into the high byte; nothing between the two stores reads or observes
    the low byte, so storing both at once is the same.  The low half's other results (A, the
    flags) stay as they were; ``liveness`` deletes them where the high half overwrites them."""
    if context.devices is None:
        return
    defs = {op.result.id: op for op in block.ops if op.result is not None}
    size = context.memory_size
    ops = block.ops
    for index, high_store in enumerate(ops):
        high = high_store.name == "store" and _stored_sum(defs, high_store)
        if not high or not 0 < high[0] < (size or 0):
            continue
        high_terms = _terms(defs, high[1])
        carries = [t for t in high_terms or () if isinstance(t, Value) and t.type == I1]
        low_sum = carries and _carry_from(defs, carries[0])
        low_terms = low_sum and _terms(defs, low_sum)
        if not low_terms or _most(low_terms) > 0x1FF or _most(high_terms) > 0xFFFF:
            continue
        low_addr = high[0] - 1
        stores = [i for i, op in enumerate(ops[:index]) if op.name == "store"
                  and _stored_sum(defs, op) == (low_addr, low_sum)]
        if not stores or overlaps((low_addr, high[0]), context.devices):
            continue
        between = ops[stores[-1] + 1:index]
        if any(op.spec.observes or op.name == "call" or (op.name in ("load", "fetch", "store")
               and intersects(touched(defs, op, size), (low_addr, low_addr))) for op in between):
            continue
        high_terms.remove(carries[0])
        _fuse(block, new, defs, stores[-1], index, low_terms, high_terms, high[1])
        counts["carry_chains"] += 1
        return _carry_chain(block, new, context, counts)  # the block changed: look again


def _pairs(defs: dict[int, Op], low: list[Value], high: list[Value]) -> list[tuple[Value | None, Value | None]]:
    """Low and high bytes paired into words: loads of adjacent addresses together (they become
    one 16-bit load), the rest in order."""
    def address(value: Value) -> int | None:
        op = defs.get(value.id)
        return constant(defs, op.args[0]) if op is not None and op.name == "load" else None

    pairs = []
    high = list(high)
    for byte in low:
        addr = address(byte)
        match = next((h for h in high if addr is not None and address(h) == addr + 1), None)
        if match is not None:
            high.remove(match)
            pairs.append((byte, match))
        else:
            pairs.append((byte, None))
    free = [i for i, (_, h) in enumerate(pairs) if h is None]
    for i, byte in zip(free, list(high)):
        pairs[i] = (pairs[i][0], byte)
        high.remove(byte)
    return pairs + [(None, h) for h in high]


def _fuse(block: Block, new: NewValues, defs: dict[int, Op], low_store: int, high_store: int,
          low_terms: list, high_terms: list, high_sum: Value) -> None:
    """Replace the stores with one of the 16-bit sum; the high sum with its bits 8 and up."""
    at = next(i for i, op in enumerate(block.ops) if op.result is high_sum)
    out: list[Op] = []
    constants = sum(t for t in low_terms if isinstance(t, int)) + 256 * sum(t for t in high_terms if isinstance(t, int))
    bits = [t for t in low_terms + high_terms if isinstance(t, Value) and t.type == I1]
    low, high = ([t for t in terms if isinstance(t, Value) and t.type == I8] for terms in (low_terms, high_terms))
    eight = new.const(out, defs, I16, 8)
    summands = []
    for lo, hi in _pairs(defs, low, high):
        word = lo and new.op(out, defs, "zext", [lo], I16)
        if hi is not None:
            shifted = new.op(out, defs, "shl", [new.op(out, defs, "zext", [hi], I16), eight], I16)
            word = shifted if word is None else new.op(out, defs, "or", [word, shifted], I16)
        summands.append(new.op(out, defs, "zext", [word], I32))
    summands += [new.op(out, defs, "zext", [bit], I32) for bit in bits]
    if constants:
        summands.append(new.const(out, defs, I32, constants))
    total = summands[0]
    for value in summands[1:]:
        total = new.op(out, defs, "add", [total, value], I32)
    word = new.op(out, defs, "trunc", [total], I16)
    upper = new.op(out, defs, "lshr", [total, new.const(out, defs, I32, 8)], I32)
    fused_high = new.op(out, defs, "trunc", [upper], I16)
    ops = block.ops
    ops[high_store] = Op("store", [ops[low_store].args[0], word])
    for op in ops:
        op.args = [fused_high if a is high_sum else a for a in op.args]
    kept = [op for i, op in enumerate(ops) if i != low_store]
    at -= low_store < at
    block.ops = kept[:at] + out + kept[at:]


def peephole(region: Region, context: Context) -> dict[str, int]:
    new = NewValues(region)
    counts: Counter = Counter()
    for block in region.blocks:
        _carry_chain(block, new, context, counts)
        b = _Block(new, counts, context)
        for op in block.ops:
            while op.name in RULES and RULES[op.name](b, op):
                pass
            if op.result is not None:
                b.defs[op.result.id] = op
            b.out.append(op)
        block.ops = b.out
    return {key: counts[key] for key in ("compare_branch", "step_branch", "selects", "carry_chains",
                                         "word_loads")}

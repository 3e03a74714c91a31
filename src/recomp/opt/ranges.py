"""The guest bytes a load or store can touch, from the shape of its address: constants, a base
plus a zero-extended index (``abs,X``), a page plus a byte (the stack page).  Used to prove that
an access cannot reach a device (so a load may be removed or reused), translated code (so a
store needs no self-modifying-code check) or a watchpoint."""

from __future__ import annotations

from collections.abc import Iterable, Set

from recomp.ir.core import Op, Region, Value
from recomp.ir.types import I8, Type


def access_type(op: Op) -> Type:
    """What a load reads or a store writes: i8 or i16."""
    return op.result.type if op.result is not None else op.args[1].type


def interval(defs: dict[int, Op], value: Value) -> tuple[int, int]:
    """Lowest and highest value ``value`` can take (unsigned, in its type)."""
    full = (0, value.type.mask)
    op = defs.get(value.id)
    if op is None:
        return full
    if op.name == "const":
        return op.args[0], op.args[0]
    if op.name == "zext":
        return interval(defs, op.args[0])
    if op.name in ("add", "or"):
        (alo, ahi), (blo, bhi) = (interval(defs, v) for v in op.values())
        if ahi + bhi > value.type.mask:
            return full
        # a | b lies between max(a, b) and a + b
        return (alo + blo, ahi + bhi) if op.name == "add" else (max(alo, blo), ahi + bhi)
    if op.name == "and":
        return 0, min(interval(defs, v)[1] for v in op.values())
    return full


def touched(defs: dict[int, Op], op: Op, memory_size: int | None) -> tuple[int, int] | None:
    """The bytes a load or store touches, as an inclusive range of guest addresses, or None when
    it may touch any byte (unknown memory size, or an address range that wraps)."""
    if memory_size is None:
        return None
    address = op.args[0]
    width = access_type(op).bits // I8.bits
    lo, hi = interval(defs, address)
    hi += width - 1
    if hi - lo + 1 >= memory_size or lo // memory_size != hi // memory_size:
        return None
    return lo % memory_size, hi % memory_size


def _offset(defs: dict[int, Op], value: Value) -> tuple[int, int]:
    """``value`` as (the id of a base value, a constant added to it): ``x + 3`` is (x, 3)."""
    op = defs.get(value.id)
    if op is not None and op.name == "add":
        base, addend = op.args
        c = defs.get(addend.id)
        if c is not None and c.name == "const":
            return base.id, c.args[0]
    return value.id, 0


def _paged(defs: dict[int, Op], value: Value) -> tuple[int, Value] | None:
    """``page | zext b`` with the page's low byte zero (the stack page): (page, b)."""
    op = defs.get(value.id)
    if op is None or op.name != "or":
        return None
    for index in (0, 1):
        page, low = defs.get(op.args[index].id), defs.get(op.args[1 - index].id)
        if page is not None and page.name == "const" and low is not None and low.name == "zext" \
                and page.args[0] & low.args[0].type.mask == 0:
            return page.args[0], low.args[0]
    return None


def distinct(defs: dict[int, Op], a: Value, b: Value) -> bool:
    """Whether two addresses of the same type are provably different: x + c1 and x + c2 with
    c1 != c2, or the same page with such bytes in it (a push and the push after it)."""
    if a.type != b.type:
        return False
    base_a, offset_a = _offset(defs, a)
    base_b, offset_b = _offset(defs, b)
    if base_a == base_b:
        return (offset_a - offset_b) & a.type.mask != 0
    paged_a, paged_b = _paged(defs, a), _paged(defs, b)
    return (paged_a is not None and paged_b is not None and paged_a[0] == paged_b[0]
            and distinct(defs, paged_a[1], paged_b[1]))


def intersects(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    """Whether two byte ranges (None: anywhere) may share a byte."""
    return a is None or b is None or (a[0] <= b[1] and b[0] <= a[1])


def overlaps(span: tuple[int, int] | None, addresses: Iterable[int] | None) -> bool:
    """Whether any of ``addresses`` (None: unknown, maybe all) lies in ``span`` (None: anywhere)."""
    if addresses is None:
        return True
    if span is None:
        return bool(addresses)
    lo, hi = span
    if isinstance(addresses, (set, frozenset, range)) and hi - lo < len(addresses):  # (a wide watchpoint)
        return any(a in addresses for a in range(lo, hi + 1))
    return any(lo <= a <= hi for a in addresses)


def may_access(region: Region, ops: Set[str], span: range, memory_size: int) -> bool:
    """Whether an op of the region named in ``ops`` ("load", "store") may touch a byte of ``span``."""
    for block in region.blocks:
        defs: dict[int, Op] = {}
        for op in block.ops:
            if op.name in ops and overlaps(touched(defs, op, memory_size), span):
                return True
            if op.result is not None:
                defs[op.result.id] = op
    return False

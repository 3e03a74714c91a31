"""The guest bytes a load or store can touch, from the shape of its address: constants, a base
plus a zero-extended index (``abs,X``), a page plus a byte (the stack page).  Used to prove that
an access cannot reach a device (so a load may be removed or reused) or translated code (so a
store needs no self-modifying-code check)."""

from __future__ import annotations

from collections.abc import Iterable

from recomp.ir.core import Op, Value
from recomp.ir.types import I8


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
    width = (op.result.type if op.name == "load" else op.args[1].type).bits // I8.bits
    lo, hi = interval(defs, address)
    hi += width - 1
    if hi - lo + 1 >= memory_size or lo // memory_size != hi // memory_size:
        return None
    return lo % memory_size, hi % memory_size


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
    return any(lo <= a <= hi for a in addresses)

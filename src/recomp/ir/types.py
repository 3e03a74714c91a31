"""The integer types of icode: every value is an unsigned bit vector of one of these widths."""

from __future__ import annotations

from typing import NamedTuple


class Type(NamedTuple):
    """An integer type; arithmetic on it wraps modulo 2**bits."""

    bits: int

    @property
    def name(self) -> str:
        return f"i{self.bits}"

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    def __str__(self) -> str:
        return self.name


I1 = Type(1)
I8 = Type(8)
I16 = Type(16)
I32 = Type(32)
I64 = Type(64)

TYPES: dict[str, Type] = {t.name: t for t in (I1, I8, I16, I32, I64)}

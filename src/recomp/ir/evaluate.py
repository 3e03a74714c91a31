"""The meaning of icode's pure ops on Python integers, written once: the reference engine
executes with it and constant folding folds with it, so the two cannot disagree."""

from __future__ import annotations

from collections.abc import Callable

from recomp.ir.types import Type


def signed(value: int, t: Type) -> int:
    return value - (1 << t.bits) if value >> (t.bits - 1) & 1 else value


def _shl(t: Type, a: int, b: int) -> int:
    return (a << b) & t.mask if b < t.bits else 0


def _lshr(t: Type, a: int, b: int) -> int:
    return a >> b if b < t.bits else 0


def _ashr(t: Type, a: int, b: int) -> int:
    return (signed(a, t) >> min(b, t.bits - 1)) & t.mask


# name -> f(operand type, *operands) for ops whose result has the operands' type or is i1
BINARY: dict[str, Callable[[Type, int, int], int]] = {
    "add": lambda t, a, b: (a + b) & t.mask,
    "sub": lambda t, a, b: (a - b) & t.mask,
    "mul": lambda t, a, b: (a * b) & t.mask,
    "and": lambda t, a, b: a & b,
    "or": lambda t, a, b: a | b,
    "xor": lambda t, a, b: a ^ b,
    "shl": _shl,
    "lshr": _lshr,
    "ashr": _ashr,
    "eq": lambda t, a, b: int(a == b),
    "ne": lambda t, a, b: int(a != b),
    "ult": lambda t, a, b: int(a < b),
    "ule": lambda t, a, b: int(a <= b),
    "slt": lambda t, a, b: int(signed(a, t) < signed(b, t)),
    "sle": lambda t, a, b: int(signed(a, t) <= signed(b, t)),
}

# name -> f(operand type, result type, operand)
CAST: dict[str, Callable[[Type, Type, int], int]] = {
    "zext": lambda src, dst, a: a,
    "sext": lambda src, dst, a: signed(a, src) & dst.mask,
    "trunc": lambda src, dst, a: a & dst.mask,
}


def select(c: int, a: int, b: int) -> int:
    return a if c else b

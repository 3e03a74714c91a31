"""Small tools the passes share for rewriting a block in one forward scan."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

from recomp.ir.core import Op, Region, Value
from recomp.ir.types import Type


def substitute(op: Op, replaced: dict[int, Value]) -> None:
    """Make ``op`` use the replacement of each value operand that has one."""
    if replaced:
        op.args = [replaced.get(a.id, a) if isinstance(a, Value) else a for a in op.args]


def constant(defs: dict[int, Op], value: Value) -> int | None:
    """The value's constant, if a ``const`` op defines it."""
    op = defs.get(value.id)
    return op.args[0] if op is not None and op.name == "const" else None


class NewValues:
    """Fresh value ids for ops a pass adds to a region."""

    def __init__(self, region: Region) -> None:
        self._ids: Iterator[int] = count(region.next_value_id())

    def const(self, out: list[Op], defs: dict[int, Op], t: Type, value: int) -> Value:
        """Append a constant to ``out`` (the block being rebuilt) and return it."""
        result = Value(next(self._ids), t)
        op = Op("const", [value & t.mask], result)
        out.append(op)
        defs[result.id] = op
        return result

    def op(self, out: list[Op], defs: dict[int, Op], name: str, args: list, t: Type) -> Value:
        result = Value(next(self._ids), t)
        op = Op(name, args, result)
        out.append(op)
        defs[result.id] = op
        return result

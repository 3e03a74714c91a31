"""The one description of a guest's state, from which the verifier, the ctypes structure of the
runtime and the LLVM struct type of the backend are all derived."""

from __future__ import annotations

from dataclasses import dataclass

from recomp.ir.types import I8, I32, I64, Type


@dataclass(frozen=True)
class Helper:
    """A runtime function compiled code may call: argument types and result type (None: void).

    ``state``: the helper may read or write guest state, so cached state is written back before
    the call and read again after it; other helpers (pure I/O) leave guest registers in host
    registers across the call.
    """

    args: tuple[Type, ...]
    result: Type | None = None
    state: bool = False


# Fields every guest has, ahead of its own registers: where it is, how far it got, its budget.
COMMON_FIELDS: tuple[tuple[str, Type], ...] = (
    ("pc", I32),  # guest address to continue at, written on every exit
    ("instructions", I64),  # guest instructions executed, exact
    ("cycles", I64),  # guest cycles executed, exact (0 for guests without a cycle model)
    ("limit", I64),  # a guard exits once instructions would pass this
)


@dataclass(frozen=True)
class GuestSpec:
    name: str
    registers: dict[str, Type]
    flags: tuple[str, ...]
    helpers: dict[str, Helper]
    memory_size: int  # bytes of guest memory; a power of two, addresses wrap modulo it
    has_cycles: bool = False

    def fields(self) -> list[tuple[str, Type]]:
        """The state layout: common fields, registers, then one byte per flag."""
        return list(COMMON_FIELDS) + list(self.registers.items()) + [(f, I8) for f in self.flags]

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


# Fields every guest has, ahead of its own registers: where it is, how far it got, its budgets.
COMMON_FIELDS: tuple[tuple[str, Type], ...] = (
    ("pc", I32),  # guest address to continue at, written on every exit
    ("instructions", I64),  # guest instructions executed, exact
    ("cycles", I64),  # guest cycles executed, exact (0 for guests without a cycle model)
    ("limit", I64),  # a guard exits once instructions would pass this
    ("cycle_limit", I64),  # ... or once cycles would pass this (the next device event)
    ("chained", I64),  # jumps compiled code made straight into other compiled code
    ("code_written", I8),  # 1 after a store hit translated code; the smc op leaves on it
    ("events", I8),  # 1 while an interrupt is pending; the poll op leaves on it
)

# Guest memory attributes, one byte per guest address, which loads and stores consult.
ATTR_CODE = 1  # the byte belongs to translated code: a store must invalidate it
ATTR_IO = 2  # the byte is a device register: loads and stores call the runtime's I/O helpers
ATTR_STOP = 4  # execution stops before this address (``run(until_pc=...)``): the native
# interpreter returns there, as compiled regions end there

# Runtime helpers behind load and store, the same for every guest: (address, [value,] cycles).
# They are given the cycle count (devices such as timers need it) rather than the state, so
# compiled code keeps guest registers in host registers across them.
MEMORY_HELPERS: dict[str, Helper] = {
    "io_read": Helper((I32, I64), I8),
    "io_write": Helper((I32, I8, I64), None),
    "code_write": Helper((I32,), None),
}


@dataclass(frozen=True)
class GuestSpec:
    """A guest's registers, flags, helpers and memory; ``dynamic_operands``: its lifter reads
    operand bytes that self-modifying code rewrote from memory at run time, so those bytes do
    not belong to translated code (see ``Emulator.volatile``)."""

    name: str
    registers: dict[str, Type]
    flags: tuple[str, ...]
    helpers: dict[str, Helper]
    memory_size: int  # bytes of guest memory; a power of two, addresses wrap modulo it
    has_cycles: bool = False
    dynamic_operands: bool = False
    # flags whose values at a region's entry key its translation (the 6502's decimal flag: ADC
    # and SBC lift to binary or decimal code), as QEMU keys on CPU mode bits; they also index
    # the native entry table, one guest address space per combination
    specialize: tuple[str, ...] = ()

    @property
    def address_bits(self) -> int:
        return self.memory_size.bit_length() - 1

    @property
    def entry_table_size(self) -> int:
        """Slots in the native entry table: one per guest address and specialization."""
        return self.memory_size << len(self.specialize)

    def fields(self) -> list[tuple[str, Type]]:
        """The state layout: common fields, registers, then one byte per flag."""
        return list(COMMON_FIELDS) + list(self.registers.items()) + [(f, I8) for f in self.flags]

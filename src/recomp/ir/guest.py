"""The one description of a guest's state, from which the verifier, the ctypes structure of the
runtime and the LLVM struct type of the backend are all derived; and the facts about a guest
that the runtime needs besides its instructions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from recomp.ir.types import I8, I32, I64, Type


class Helper(NamedTuple):
    """A runtime function compiled code may call: argument types and result type (None: void).

    ``touches_state``: the helper may read or write guest state, so cached state is written back
    before the call and read again after it; other helpers (pure I/O) leave guest registers in
    host registers across the call.
    """

    args: tuple[Type, ...]
    result: Type | None = None
    touches_state: bool = False


class StateField(NamedTuple):
    """A field of every guest's state.  ``shared``: the runtime, a helper or a signal handler may
    change it while compiled code runs (cutting a budget, raising an interrupt, Ctrl-C), so
    compiled code reads it in place, afresh each time (a volatile load), and never keeps a copy
    in a host register."""

    name: str
    type: Type
    shared: bool
    doc: str


# Fields every guest has, ahead of its own registers: where it is, how far it got, its budgets.
COMMON_FIELDS: tuple[StateField, ...] = (
    StateField("pc", I32, False, "guest address to continue at, written on every exit"),
    StateField("instructions", I64, False, "guest instructions executed, exact"),
    StateField("cycles", I64, False, "guest cycles executed, exact (0 for guests without a cycle model)"),
    StateField("limit", I64, True, "a guard leaves once `instructions` would pass this (the instruction budget)"),
    StateField("cycle_limit", I64, True, "... or once `cycles` would pass this (the next device event)"),
    StateField("hot", I32, False, "instructions run from one control transfer's target that make it hot on the "
                                  "native interpreter (set by the runtime before each run)"),
    StateField("chained", I64, False, "jumps compiled code made straight into other compiled code"),
    StateField("code_written", I8, False, "1 after a store hit translated code or a watched byte; `smc` leaves on it"),
    StateField("events", I8, True, "1 while an interrupt is pending, or after a load hit a watched byte; "
                                   "`poll` and `watched` leave on it"),
    StateField("interrupt", I8, True, "1 once Ctrl-C asked the run to stop (the runtime's signal handler "
                                      "also cuts the budgets and sets `events`)"),
    StateField("helpers", I64, False, "the address of the machine's table of helper functions, "
                                      "which compiled code calls through (constant)"),
    StateField("trace_ring", I64, False, "while tracing, the address of the ring of trace records that code "
                                         "compiled for tracing writes, one per instruction (else 0)"),
    StateField("trace_mask", I64, False, "... the ring's size less one (a power of two)"),
    StateField("trace_next", I64, False, "... the records written: the next goes at `trace_next & trace_mask`"),
)
# A trace record: the state before an instruction (its ``pc``, counters, registers and flags as
# they are then) and the first bytes at ``pc`` (more than any guest's longest instruction)
TRACE_CODE_BYTES = 8
SHARED_FIELDS = frozenset(f.name for f in COMMON_FIELDS if f.shared)

PAGE_BITS = 8  # a page (``GuestSpec.data_pages``) is 256 bytes


def pages(addresses: Iterable[int]) -> set[int]:
    """The pages ``addresses`` lie in."""
    return {addr >> PAGE_BITS for addr in addresses}


# Guest memory attributes, one byte per guest address, which loads and stores consult.
ATTR_CODE = 1  # the byte belongs to translated code: a store must invalidate it
ATTR_IO = 2  # the byte is a device register: loads and stores call the runtime's I/O helpers
ATTR_STOP = 4  # execution stops before this address (``run(until_pc=...)``, hooks): the native
# interpreter returns there, as compiled regions end there
ATTR_ROM = 8  # read-only memory: loads read memory, stores call the I/O helper (which drops them)
ATTR_WRITE_HELPER = ATTR_IO | ATTR_ROM  # the bits that send a store to the I/O helper
ATTR_READ_WATCH = 16  # a watchpoint on reads: loads call the I/O helper, which reports them
ATTR_WRITE_WATCH = 32  # a watchpoint on writes: stores call the code-write helper, which reports them
ATTR_READ_HELPER = ATTR_IO | ATTR_READ_WATCH  # the bits that send a load to the I/O helper
ATTR_WRITE_CHECK = ATTR_CODE | ATTR_WRITE_WATCH  # the bits that make a store to memory call ``code_write``

# Runtime helpers behind load and store, the same for every guest: (address, [value,] cycles,
# pc).  They are given the cycle count (devices such as timers need it) rather than the state, so
# compiled code keeps guest registers in host registers across them, and the address of the
# instruction making the access (a watchpoint reports it).
MEMORY_HELPERS: dict[str, Helper] = {
    "io_read": Helper((I32, I64, I32), I8),
    "io_write": Helper((I32, I8, I64, I32), None),
    "code_write": Helper((I32, I32), None),
}


class GuestSpec:
    """A guest's registers, flags, helpers and memory, and what the runtime must know of it (one
    object per guest: identity is equality).

    ``memory_size``: bytes of guest memory, a power of two; addresses wrap modulo it.
    ``dynamic_operands``: its lifter reads operand bytes that self-modifying code rewrote from
    memory at run time, so those bytes do not belong to translated code (see
    ``recomp.runtime.translations``).  ``specialize``: flags whose values at a region's entry key
    its translation (the 6502's decimal flag: ADC and SBC lift to binary or decimal code), as QEMU
    keys on CPU mode bits; they also index the native entry table, one guest address space per
    combination.  ``pc_type``: the type of guest addresses in icode (the 6502: i16).
    ``reset_vector``: where the reset address is stored (None: execution starts at 0).
    ``interrupts``: the guest takes IRQ and NMI (its frontend lifts their entry).  ``sign_zero``:
    the sign and zero flags, which most instructions set from one 8-bit result (its top bit,
    whether it is zero): code may keep the pair as that result (recomp.backend.sign_zero).
    ``console``: the default console's output and input addresses.  ``data_pages``: the 256-byte
    pages programs keep their busiest data in (the 6502's zero page and stack): compiled code
    accesses them without consulting attributes while none of their bytes has any (no device,
    watchpoint or translated code: ``recomp.runtime.translations``)."""

    def __init__(self, name: str, registers: dict[str, Type], flags: tuple[str, ...], helpers: dict[str, Helper],
                 memory_size: int, has_cycles: bool = False, dynamic_operands: bool = False,
                 specialize: tuple[str, ...] = (), pc_type: Type = I32, reset_vector: int | None = None,
                 interrupts: bool = False, sign_zero: tuple[str, str] | None = None,
                 console: tuple[int, int] | None = None, data_pages: tuple[int, ...] = ()) -> None:
        self.name = name
        self.registers = registers
        self.flags = flags
        self.helpers = helpers
        self.memory_size = memory_size
        self.has_cycles = has_cycles
        self.dynamic_operands = dynamic_operands
        self.specialize = specialize
        self.pc_type = pc_type
        self.reset_vector = reset_vector
        self.interrupts = interrupts
        self.sign_zero = sign_zero
        self.console = console
        self.data_pages = data_pages

    def __repr__(self) -> str:
        return f"GuestSpec({self.name!r})"

    @property
    def address_bits(self) -> int:
        return self.memory_size.bit_length() - 1

    @property
    def entry_table_size(self) -> int:
        """Slots in the native entry table: one per guest address and specialization."""
        return self.memory_size << len(self.specialize)

    # After the entry table's pointer slots come counters, one per guest address: the native
    # interpreter's (32-bit: instructions run from a transfer target, for hotness), then compiled
    # code's (64-bit: times a region starting there was entered, for ``regions`` in the monitor),
    # then the profile (64-bit: the instructions, then the cycles, run from each region entry
    # or transfer of the native interpreter until the next one anywhere, and one more pair for
    # what ran before the first;
    # then whether the profile is on, and the three marks the next entry counts from: see
    # ``recomp.backend.lower.profile_entry``).
    @property
    def hotness_offset(self) -> int:
        """Where the native interpreter's counters start, in bytes into the entry table."""
        return self.entry_table_size * 8

    @property
    def entered_offset(self) -> int:
        """Where the entry counts start, in bytes into the entry table."""
        return self.hotness_offset + self.memory_size * 4

    @property
    def profile_offset(self) -> int:
        """Where the profile's instruction counts start (the cycle counts, and then the marks,
        follow them), in bytes into the entry table."""
        return self.entered_offset + self.memory_size * 8

    @property
    def profile_cold(self) -> int:
        """The profile's index for what ran before the first entry (the runtime's)."""
        return self.memory_size

    @property
    def profile_marks_offset(self) -> int:
        """Where the profile's marks start: whether it is on, the index last entered, and the
        instructions and cycles counted then."""
        return self.profile_offset + 2 * (self.memory_size + 1) * 8

    @property
    def entry_table_bytes(self) -> int:
        return self.profile_marks_offset + 4 * 8

    def fields(self) -> list[tuple[str, Type]]:
        """The state layout: common fields, registers, then one byte per flag."""
        return ([(f.name, f.type) for f in COMMON_FIELDS] + list(self.registers.items())
                + [(f, I8) for f in self.flags])

    def helper_slots(self) -> list[Helper]:
        """The signatures of the machine's helper table, in order: the memory helpers, then the
        guest's own (compiled code calls helpers through this table, by index)."""
        return list(MEMORY_HELPERS.values()) + list(self.helpers.values())

    def helper_index(self, name: str) -> int:
        """The slot of one of the guest's own helpers in the helper table."""
        return len(MEMORY_HELPERS) + list(self.helpers).index(name)


def memory_helper_index(name: str) -> int:
    """The slot of a memory helper in every guest's helper table."""
    return list(MEMORY_HELPERS).index(name)

"""The native entry table: one slot per guest address and combination of specialized flags,
holding the compiled code to run there or null, which compiled code and the native interpreter
look up to jump straight into other compiled code (see ``recomp.backend.lower``).  After the
slots come counters, one per guest address: the native interpreter's hotness, and entries into
regions (``GuestSpec.hotness_offset``, ``entered_offset``).

The table is filled for one guard mode at a time (the mode of the current run), and never for
single steps, interrupt entries or stop addresses: those must come back to the run loop.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable

from recomp.ir.guest import GuestSpec
from recomp.runtime.keys import Key


class EntryTable:
    def __init__(self, guest: GuestSpec, stops: set[int]) -> None:
        self.guest = guest
        self.stops = stops  # the run's stop addresses (shared with the run loop)
        self.slots = (ctypes.c_void_p * (guest.entry_table_bytes // 8))()
        # times compiled code (or the Python tier) entered a region at each address
        self.entered = (ctypes.c_uint64 * guest.memory_size).from_buffer(self.slots, guest.entered_offset)
        # instructions the native interpreter ran from each address since it was last found hot
        self.hotness = (ctypes.c_uint32 * guest.memory_size).from_buffer(self.slots, guest.hotness_offset)
        # the profile: instructions and cycles run from each region entry (and in cold code, the
        # last index); whether it is on, the index last entered and the counts then
        # (``recomp.backend.lower.profile_entry``)
        counts = guest.memory_size + 1
        self.profiled = (ctypes.c_uint64 * counts).from_buffer(self.slots, guest.profile_offset)
        self.profiled_cycles = (ctypes.c_uint64 * counts).from_buffer(self.slots, guest.profile_offset + counts * 8)
        self.marks = (ctypes.c_uint64 * 4).from_buffer(self.slots, guest.profile_marks_offset)
        self.guards: bool | None = None  # the guard mode the table is filled for

    def start_profile(self, instructions: int, cycles: int) -> None:
        """Profile from now on, from nothing (what runs before the next entry counted apart)."""
        ctypes.memset(ctypes.addressof(self.profiled), 0, 2 * ctypes.sizeof(self.profiled))
        self.marks[0:4] = [1, self.guest.profile_cold, instructions, cycles]

    def enter(self, pc: int, instructions: int, cycles: int) -> None:
        """An entry into a region run by Python (the reference engine), counted and profiled as
        compiled code counts its own (``recomp.backend.lower.count_entry``)."""
        self.entered[pc] += 1
        self.settle(instructions, cycles, pc)

    def settle(self, instructions: int, cycles: int, index: int | None = None) -> None:
        """While the profile is on, count the instructions and cycles run since the last entry
        to the code entered then; ``index``: what runs from now (else the same)."""
        if not self.marks[0]:
            return
        last = self.marks[1]
        self.profiled[last] += instructions - self.marks[2]
        self.profiled_cycles[last] += cycles - self.marks[3]
        self.marks[2], self.marks[3] = instructions, cycles
        if index is not None:
            self.marks[1] = index

    def profile(self, instructions: int, cycles: int) -> dict[int, tuple[int, int]]:
        """Instructions and cycles by the region entry or interpreter transfer target (or
        ``GuestSpec.profile_cold``: before the first) that ran them, the run so far settled;
        only those that ran any."""
        self.settle(instructions, cycles)
        return {index: (self.profiled[index], self.profiled_cycles[index]) for index in range(len(self.profiled))
                if self.profiled[index]}

    def index(self, key: Key) -> int | None:
        """The slot of a translation key; None if compiled code must not jump there."""
        if key.single or key.guards != self.guards or key.pc in self.stops:
            return None
        return key.entry_index(self.guest)

    def link(self, key: Key, address: int | None) -> None:
        """Let compiled code jump straight into the native code at ``address`` (None: the
        translation at ``key`` is not native)."""
        index = self.index(key)
        if address is not None and index is not None:
            self.slots[index] = address

    def unlink(self, key: Key) -> None:
        index = self.index(key)
        if index is not None:
            self.slots[index] = None

    def relink(self, guards: bool, links: Iterable[tuple[Key, int | None]]) -> None:
        """Fill the table afresh for the guard mode of a run, from (key, native address) pairs."""
        self.clear()
        self.guards = guards
        for key, address in links:
            self.link(key, address)

    def clear(self) -> None:
        """Empty the slots and the counters, but the profile (it spans runs)."""
        ctypes.memset(self.slots, 0, self.guest.profile_offset)

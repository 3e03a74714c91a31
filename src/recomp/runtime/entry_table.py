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
        self.guards: bool | None = None  # the guard mode the table is filled for

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
        ctypes.memset(self.slots, 0, ctypes.sizeof(self.slots))

"""What the passes may assume about the machine a region will run on, as the runtime knows it
when it translates: the bytes the code came from, where devices are, the code at the region's
static exits, and state the translation is specialized on (it runs only when the state holds
those values).  Every field defaults to "unknown", which keeps each pass conservative."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from recomp.ir.core import Op, Region
from recomp.ir.guest import GuestSpec

# lifts the guest code at an address: the region and the bytes it was lifted from, or None
Lifter = Callable[[int], "tuple[Region, set[int]] | None"]


@dataclass(eq=False)
class Context:
    guest: GuestSpec | None = None
    code: frozenset[int] | None = None  # bytes the region was lifted from; None: unknown
    devices: frozenset[int] | None = None  # device addresses; None: any address may be a device
    lift: Lifter | None = None  # the code at a static exit; None: successors are unknown
    entry: dict[str, int] = field(default_factory=dict)  # registers and flags known at the entry
    watched: frozenset[int] = frozenset()  # bytes under a watchpoint: their accesses stay checked
    consulted: set[int] = field(default_factory=set)  # bytes of successor code relied upon
    _successors: dict[int, Region | None] = field(default_factory=dict)

    def successor(self, addr: int) -> Region | None:
        """The code a static exit to ``addr`` continues in, lifted (not optimized), or None when
        it is unknown.  Its bytes join ``consulted``: rewriting them must drop this region."""
        if addr not in self._successors:
            lifted = self.lift(addr) if self.lift is not None else None
            self._successors[addr] = lifted[0] if lifted is not None else None
            if lifted is not None:
                self.consulted |= lifted[1]
        return self._successors[addr]

    def protected(self) -> frozenset[int] | None:
        """Bytes a store must not change without leaving the region: its own code, the code
        consulted at its exits and watched bytes (None: unknown, every store might hit code)."""
        return None if self.code is None else self.code | self.consulted | self.watched

    def touches_state(self, op: Op) -> bool:
        """A helper call that may read or change guest state behind icode's back (every call,
        when the guest is unknown): the op table says the call's effects are its helper's, and
        the helper's declaration says whether it touches state."""
        return op.spec.helper and (self.guest is None or self.guest.helpers[op.args[0]].touches_state)

    @property
    def memory_size(self) -> int | None:
        return self.guest.memory_size if self.guest is not None else None

"""Watchpoints: a run stops right after the instruction that reads or writes a watched range of
memory, reporting the address, the value and the instruction's pc.

A watched range is mapped as a device over RAM (``ATTR_IO``: every tier's loads and stores of it
come here, and it reads and writes the RAM bytes as they would have been), and while any
watchpoint is set runs go one instruction at a time, so the stop is exact in every tier.  (They
run at the speed of single steps meanwhile: the compiled code's blocks have no instruction
boundary to leave at after a device access.)"""

from __future__ import annotations

from dataclasses import dataclass

from recomp.ir.guest import ATTR_CODE

ACCESSES = {"r": ("read",), "w": ("write",), "rw": ("read", "write")}


@dataclass(frozen=True)
class WatchHit:
    addr: int
    value: int
    access: str  # "read" or "write"
    pc: int  # the instruction that made the access (for an interrupt's pushes: where it was taken)


class Watch:
    """One watched range (a device: ``name`` names it in errors, such as an overlap)."""

    name = "watchpoint"

    def __init__(self, machine: object, span: range, on: str, hits: list[tuple[int, int, str]]) -> None:
        if on not in ACCESSES:
            raise ValueError(f"a watchpoint is on 'r', 'w' or 'rw', not {on!r}")
        self.machine = machine
        self.span = span
        self.on = ACCESSES[on]
        self.hits = hits  # shared by the machine's watches: (addr, value, access) as they happen

    def addresses(self) -> range:
        return self.span

    def read(self, addr: int, cycles: int) -> int:
        value = self.machine.memory_view[addr]
        if "read" in self.on:
            self.hits.append((addr, value, "read"))
        return value

    def write(self, addr: int, value: int, cycles: int) -> None:
        self.machine.memory_view[addr] = value
        if self.machine.attrs_view[addr] & ATTR_CODE:  # (a device's store skips the check for code)
            self.machine.code_write(addr)
        if "write" in self.on:
            self.hits.append((addr, value, "write"))

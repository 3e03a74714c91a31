"""Watchpoints: a run stops right after the instruction that reads or writes a watched range of
memory, reporting the address, the value and the instruction's pc.

Watched bytes carry ``ATTR_READ_WATCH`` or ``ATTR_WRITE_WATCH``, which every tier's loads and
stores consult as they consult ``ATTR_CODE``, so code runs at full speed until a watch hits:

- a store to a byte watched for writes calls the ``code_write`` helper (or the I/O helper, for a
  device's byte) and sets ``code_written``, and the ``smc`` check after the instruction leaves;
- a load of a byte watched for reads goes to the I/O helper, which sets ``events``; regions
  lifted while a read watch is set have a ``watched`` check (which leaves on ``events``) after
  every instruction that loads, and the optimizer deletes those whose loads cannot reach a
  watched byte; the native interpreter, which has none, stops at its next instruction's guard:
  the helper cuts the budget too.

The helpers are given the address of the instruction making the access, which the hit reports.
Setting a watch drops only the translations that could access its bytes unchecked: see
``Emulator.watch``."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from recomp.ir.guest import ATTR_READ_WATCH, ATTR_WRITE_WATCH

ACCESSES = {"r": ("read",), "w": ("write",), "rw": ("read", "write")}
BITS = {"read": ATTR_READ_WATCH, "write": ATTR_WRITE_WATCH}


def check_watch(span: range, on: str, value: int | None) -> None:
    """``ValueError`` unless a watch could be on these: one address or more, on ``"r"``, ``"w"``
    or ``"rw"``, of any byte or of one (the addresses are checked against memory by the caller,
    which knows how its users write them)."""
    if not span:
        raise ValueError("a watchpoint is from one address to the same or a later one")
    if on not in ACCESSES:
        raise ValueError(f"a watchpoint is on 'r', 'w' or 'rw', not {on!r}")
    if value is not None and not 0 <= value <= 0xFF:
        raise ValueError(f"a watchpoint's value is a byte, not {value:#x}")


class WatchHit(NamedTuple):
    addr: int
    value: int
    access: str  # "read" or "write"
    pc: int  # the instruction that made the access (for an interrupt's pushes: where it was taken)


class Watch:
    """One watched range of addresses, on reads, writes or both (``on``: "r", "w" or "rw"); with
    a ``value``, only accesses of that value stop a run.  (Each is its own: identity is equality.)"""

    def __init__(self, span: range, on: str, value: int | None = None) -> None:
        self.span = span
        self.on = on
        self.value = value

    def __repr__(self) -> str:
        return f"Watch(span={self.span!r}, on={self.on!r}, value={self.value!r})"

    def stops(self, addr: int, value: int, access: str) -> bool:
        return addr in self.span and access in self.accesses and self.value in (None, value)

    @property
    def accesses(self) -> tuple[str, ...]:
        return ACCESSES[self.on]


class Watchpoints:
    """A machine's watches, the attribute bits they set, and the hits since the run loop last
    looked (``hits``, in the order they happened)."""

    def __init__(self, attrs: memoryview) -> None:
        self.attrs = attrs
        self.watches: list[Watch] = []
        self.hits: list[WatchHit] = []
        self._counts = {access: Counter[int]() for access in BITS}  # address -> watches on it

    def __bool__(self) -> bool:
        return bool(self.watches)

    def add(self, span: range, on: str, value: int | None = None) -> Watch:
        check_watch(span, on, value)
        watch = Watch(span, on, value)
        self.watches.append(watch)
        for access in watch.accesses:
            counts = self._counts[access]
            for addr in span:
                counts[addr] += 1
                self.attrs[addr] |= BITS[access]
        return watch

    def remove(self, watch: Watch) -> None:
        self.watches.remove(watch)
        for access in watch.accesses:
            counts = self._counts[access]
            for addr in watch.span:
                counts[addr] -= 1
                if not counts[addr]:
                    del counts[addr]
                    self.attrs[addr] &= ~BITS[access]

    @property
    def reads(self) -> bool:
        """Whether any byte is watched for reads (regions are then lifted with load checks)."""
        return bool(self._counts["read"])

    def addresses(self) -> frozenset[int]:
        """Every watched byte: to the optimizer, one whose accesses must all happen, and checked."""
        return frozenset(self._counts["read"]) | frozenset(self._counts["write"])

    def shape(self) -> tuple[tuple[int, int, str], ...]:
        """The watches as (start, stop, on): what compiled code depends on (the code cache's context)."""
        return tuple(sorted((w.span.start, w.span.stop, w.on) for w in self.watches))

    def hit(self, addr: int, value: int, access: str, pc: int) -> bool:
        """An access of a watched byte: whether a watch stops the run for it (kept in ``hits``)."""
        if not any(watch.stops(addr, value, access) for watch in self.watches):
            return False
        self.hits.append(WatchHit(addr, value, access, pc))
        return True

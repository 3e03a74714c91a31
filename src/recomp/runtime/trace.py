"""Execution traces: every instruction a run executes, with the registers before it, kept in a
ring buffer of the last ``size`` (``emulator.trace(n)``) and handed to a sink as it happens
(``recomp run --trace FILE``).  While a trace is on, runs go one instruction at a time (on the
native interpreter where the guest has one), so a trace costs its run's speed, and it is exact in
every tier."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

CODE_BYTES = 8  # bytes kept from each instruction's address (more than any guest's longest)


@dataclass(frozen=True, slots=True)
class Traced:
    """One executed instruction: the counters and registers before it, and its bytes."""

    instructions: int
    cycles: int
    pc: int
    code: bytes  # the bytes at ``pc`` as it ran (the instruction and what follows it)
    registers: tuple[int, ...]  # in the order of ``Trace.names``


class Trace:
    def __init__(self, names: tuple[str, ...], size: int, sink: Callable[[Traced], None] | None = None) -> None:
        self.names = names  # the registers each entry holds
        self.entries: deque[Traced] = deque(maxlen=size)
        self.sink = sink

    def record(self, entry: Traced) -> None:
        self.entries.append(entry)
        if self.sink is not None:
            self.sink(entry)

    def __iter__(self) -> Iterator[Traced]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

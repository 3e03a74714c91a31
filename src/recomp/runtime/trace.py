"""Execution traces: every instruction a run executes, with the registers before it, kept in a
ring of the last ``size`` (``emulator.trace(n)``) and handed to a sink (``recomp run --trace
FILE``).

The ring is written where the instructions run: code compiled for tracing (and the native
interpreter's tracing variant) writes a record before each instruction, at native speed, as the
reference engine does in Python.  A record is the guest state before the instruction (``pc``,
counters, registers, flags) and the instruction's first bytes (``TRACE_CODE_BYTES``); code
compiled for tracing defers no register or flag write (the optimizer's ``liveness`` pass is off),
so the state in it is exact.  With a sink, a run goes in stretches of the ring's size and hands
each stretch's records to the sink between them."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from recomp.ir.guest import TRACE_CODE_BYTES

SINK_STRETCH = 4096  # instructions a run with a sink goes between handing records to it
MAX_TRACE = 1_000_000  # instructions a trace keeps at most (a ring of 2^20 records: 120 MiB for the 6502)
_RECORDS: dict[type, type[ctypes.Structure]] = {}


class Traced(NamedTuple):
    """One executed instruction: the counters and registers before it, and its bytes."""

    instructions: int
    cycles: int
    pc: int
    code: bytes  # the bytes at ``pc`` as it ran (the instruction and what follows it)
    registers: tuple[int, ...]  # in the order of ``Trace.names``


def record_type(state_type: type[ctypes.Structure]) -> type[ctypes.Structure]:
    """The ctypes layout of a trace record for a guest state type (the backend's, in LLVM)."""
    if state_type not in _RECORDS:
        _RECORDS[state_type] = type(f"{state_type.__name__}Record", (ctypes.Structure,),
                                    {"_fields_": [("state", state_type), ("code", ctypes.c_uint8 * TRACE_CODE_BYTES)]})
    return _RECORDS[state_type]


class Trace:
    """The last ``size`` instructions runs executed (iterate it), each also handed to ``sink``."""

    def __init__(self, state: ctypes.Structure, names: tuple[str, ...], size: int,
                 sink: Callable[[Traced], None] | None = None) -> None:
        self.state = state
        self.names = names  # the registers each entry holds
        self.size = size
        self.sink = sink
        capacity = 1 << (max(size, SINK_STRETCH if sink is not None else 1) - 1).bit_length()
        self.ring = (record_type(type(state)) * capacity)()
        self.mask = capacity - 1
        self.drained = 0  # the records handed to the sink
        state.trace_ring, state.trace_mask, state.trace_next = ctypes.addressof(self.ring), self.mask, 0

    @property
    def stretch(self) -> int:
        """Instructions a run may go before the sink must have the records (the ring's size)."""
        return self.mask + 1

    def record(self, pc: int, memory: Sequence[int]) -> None:
        """Record the instruction at ``pc`` with the state as it is (the reference engine)."""
        state = self.state
        count = state.trace_next
        record = self.ring[count & self.mask]
        record.state = state
        record.state.pc = pc
        for k in range(TRACE_CODE_BYTES):
            record.code[k] = memory[(pc + k) % len(memory)]
        state.trace_next = count + 1

    def drain(self) -> None:
        """Hand the records written since the last time to the sink."""
        end = self.state.trace_next
        if self.sink is not None:
            for index in range(max(self.drained, end - self.mask - 1), end):
                self.sink(self._entry(index))
        self.drained = end

    def _entry(self, index: int) -> Traced:
        record = self.ring[index & self.mask]
        state = record.state
        return Traced(state.instructions, state.cycles, state.pc, bytes(record.code),
                      tuple(getattr(state, name) for name in self.names))

    def __iter__(self) -> Iterator[Traced]:
        end = self.state.trace_next
        return (self._entry(index) for index in range(end - len(self), end))

    def __len__(self) -> int:
        return min(self.state.trace_next, self.size)

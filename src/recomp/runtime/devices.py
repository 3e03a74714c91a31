"""Memory-mapped devices. A device owns a few guest addresses (marked ``ATTR_IO``): loads and
stores there call it instead of touching RAM, from the reference engine and from native code alike.
"""

from __future__ import annotations

from typing import BinaryIO, Protocol, TextIO


class Device(Protocol):
    def addresses(self) -> range | tuple[int, ...]:
        ...

    def read(self, addr: int, cycles: int) -> int:
        ...

    def write(self, addr: int, value: int, cycles: int) -> None:
        ...


class Console:
    """py65's console: a store to ``putc`` prints the byte, a load of ``getc`` returns the next
    input byte (0 when there is none)."""

    def __init__(self, output: TextIO, input: BinaryIO | None, putc: int = 0xF001,
                 getc: int = 0xF004) -> None:
        self.output = output
        self.input = input
        self.putc = putc
        self.getc = getc

    def addresses(self) -> tuple[int, ...]:
        return (self.putc, self.getc)

    def read(self, addr: int, cycles: int) -> int:
        if addr != self.getc or self.input is None:
            return 0
        data = self.input.read(1)
        return data[0] if data else 0

    def write(self, addr: int, value: int, cycles: int) -> None:
        if addr != self.putc:
            return
        stream = getattr(self.output, "buffer", None)
        if stream is not None:
            self.output.flush()
            stream.write(bytes((value,)))
        else:
            self.output.write(chr(value))


class IntervalTimer:
    """A programmable interval timer that raises IRQ every ``period`` cycles.

    Registers at ``base``: +0/+1 period in cycles (low, high byte), +2 control (bit 0: enable;
    writing it starts a new period), +3 status (bit 0: IRQ pending; any access acknowledges the
    interrupt).  The line stays asserted until acknowledged, as a level-triggered IRQ source.
    """

    def __init__(self, base: int = 0xF010, period: int = 0) -> None:
        self.base = base
        self.period = period
        self.enabled = period > 0
        self.pending = False
        self.deadline: int | None = period if self.enabled else None

    def addresses(self) -> range:
        return range(self.base, self.base + 4)

    def read(self, addr: int, cycles: int) -> int:
        offset = addr - self.base
        if offset == 3:
            status, self.pending = int(self.pending), False
            return status
        return (self.period & 0xFF, self.period >> 8, int(self.enabled))[offset]

    def write(self, addr: int, value: int, cycles: int) -> None:
        offset = addr - self.base
        if offset == 0:
            self.period = (self.period & 0xFF00) | value
        elif offset == 1:
            self.period = (self.period & 0x00FF) | value << 8
        elif offset == 2:
            self.enabled = bool(value & 1) and self.period > 0
            self.deadline = cycles + self.period if self.enabled else None
        else:
            self.pending = False

    def advance(self, cycles: int) -> None:
        """Fire every period that has ended by ``cycles``."""
        while self.deadline is not None and cycles >= self.deadline:
            self.pending = True
            self.deadline += self.period

"""Memory-mapped devices. A device owns a few guest addresses (marked ``ATTR_IO``): loads and
stores there call it instead of touching RAM, from the reference engine and from native code alike.
"""

from __future__ import annotations

from typing import BinaryIO, Protocol, TextIO

from recomp.runtime.errors import StreamError


class Device(Protocol):
    name: str  # what error messages call it

    def addresses(self) -> range | tuple[int, ...]:
        ...

    def read(self, addr: int, cycles: int) -> int:
        ...

    def write(self, addr: int, value: int, cycles: int) -> None:
        ...


class Console:
    """py65's console: a store to ``putc`` prints the byte, a load of ``getc`` returns the next
    input byte (0 when there is none).  Input may be a binary or a text stream (text is read as
    UTF-8 bytes); a stream that fails is a ``StreamError``."""

    name = "console"

    def __init__(self, output: TextIO | None, input: BinaryIO | TextIO | None, putc: int = 0xF001,
                 getc: int = 0xF004) -> None:
        self.output = output
        self.input = input
        self.putc = putc
        self.getc = getc
        self._pending = b""  # the rest of a character read from a text stream

    def addresses(self) -> tuple[int, ...]:
        return (self.putc, self.getc)

    def read(self, addr: int, cycles: int) -> int:
        if addr != self.getc or self.input is None:
            return 0
        if not self._pending:
            try:
                data = self.input.read(1)
            except (OSError, ValueError) as error:
                raise StreamError(f"cannot read input: {describe(error)}") from None
            self._pending = data.encode() if isinstance(data, str) else bytes(data)
        if not self._pending:
            return 0
        value, self._pending = self._pending[0], self._pending[1:]
        return value

    def write(self, addr: int, value: int, cycles: int) -> None:
        if addr == self.putc:
            write_output(self.output, bytes((value,)))


def write_output(output: TextIO | None, data: bytes | str) -> None:
    """Write to the program's output stream (bytes go to a text stream's binary buffer, in
    order with its text); a stream that is closed or fails is a ``StreamError``."""
    if output is None:
        raise StreamError("cannot write output: standard output is closed")
    try:
        stream = getattr(output, "buffer", None) if isinstance(data, bytes) else None
        if stream is not None:
            output.flush()
            stream.write(data)
        else:
            output.write(data.decode("latin-1") if isinstance(data, bytes) else data)
    except (OSError, ValueError) as error:
        raise StreamError(f"cannot write output: {describe(error)}") from None


def flush_output(output: TextIO | None) -> None:
    """Flush the program's output stream (a ``StreamError`` if it fails)."""
    if output is None:
        return
    try:
        output.flush()
    except (OSError, ValueError) as error:
        raise StreamError(f"cannot write output: {describe(error)}") from None


def describe(error: BaseException) -> str:
    """An OS error as people read it: "No space left on device"."""
    return getattr(error, "strerror", None) or str(error)


class IntervalTimer:
    """A programmable interval timer that raises IRQ every ``period`` cycles.

    Registers at ``base``: +0/+1 period in cycles (low, high byte), +2 control (bit 0: enable;
    writing it starts a new period), +3 status (bit 0: IRQ pending; any access acknowledges the
    interrupt).  The line stays asserted until acknowledged, as a level-triggered IRQ source.
    """

    name = "timer"

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

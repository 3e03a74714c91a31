"""Memory-mapped devices. A device owns a few guest addresses (marked ``ATTR_IO``): loads and
stores there call it instead of touching RAM, from the reference engine and from native code alike.
"""

from __future__ import annotations

import fcntl
import os
import select
import stat
from collections.abc import Callable
from typing import BinaryIO, Protocol, TextIO

from recomp.runtime.errors import StreamError

WAIT_SLICE = 0.05  # seconds a wait for console input lasts before it checks for Ctrl-C
READ_CHUNK = 4096  # bytes (or characters) one read of an input stream asks for


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
    input byte (0 when there is none).  ``putc`` and ``getc`` may be one address, one register
    both ways, as a 6551's data register or VM65's character I/O.  Input may be a binary or a
    text stream (text is read as UTF-8 bytes); a stream that fails is a ``StreamError``.
    ``interrupted`` says whether Ctrl-C has stopped the run: a wait for input that never comes
    then ends, finding none."""

    name = "console"

    def __init__(self, output: TextIO | None, input: Input | BinaryIO | TextIO | None, putc: int = 0xF001,
                 getc: int = 0xF004, interrupted: Callable[[], bool] = lambda: False) -> None:
        self.output = output
        self.input = input if input is None or isinstance(input, Input) else Input(input, interrupted)
        self.putc = putc
        self.getc = getc

    def addresses(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys((self.putc, self.getc)))

    def read(self, addr: int, cycles: int) -> int:
        if addr != self.getc or self.input is None:
            return 0
        return self.input.byte()

    def write(self, addr: int, value: int, cycles: int) -> None:
        if addr == self.putc:
            write_output(self.output, bytes((value,)))


class Input:
    """A stream read a byte at a time.  A pipe or a terminal is read straight from its file
    descriptor, waiting for data in slices of ``WAIT_SLICE``, because a blocking read would
    outlast Ctrl-C: the kernel restarts it after the signal, and Python retries it.  Other
    streams (files, in-memory ones) never keep a read waiting."""

    def __init__(self, stream: BinaryIO | TextIO, interrupted: Callable[[], bool]) -> None:
        self.stream = stream
        self.fd = _waitable(stream)
        self.interrupted = interrupted
        self._pending = b""  # bytes read and not yet taken (the rest of a character, of a line)
        self.at_end = False  # the stream has ended (a read found nothing more)

    def byte(self) -> int:
        """The next byte, 0 when there is none (the end of input, or a wait cut by Ctrl-C)."""
        value = self.next()
        return 0 if value is None else value

    def next(self) -> int | None:
        """The next byte, waiting for it; None at the end of input (or a wait cut by Ctrl-C)."""
        data = self.read(1)
        return data[0] if data else None

    def read(self, count: int) -> bytes:
        """Up to ``count`` bytes, waiting for the first; b"" at the end of input."""
        if not self._pending:
            self._pending = self._fill(wait=True)
        data, self._pending = self._pending[:count], self._pending[count:]
        return data

    def ready(self) -> bool:
        """Whether a byte can be taken now without waiting (``at_end`` tells the end of input)."""
        if not self._pending and not self.at_end:
            self._pending = self._fill(wait=False)
        return bool(self._pending)

    def _fill(self, wait: bool) -> bytes:
        try:
            data = self._read(wait)
        except (OSError, ValueError) as error:
            raise StreamError(f"cannot read input: {describe(error)}") from None
        return data

    def _read(self, wait: bool) -> bytes:
        """Bytes from the stream: b"" at its end (``at_end`` set), when nothing came and
        ``wait`` is false, or when Ctrl-C cut the wait."""
        if self.fd is None:
            data = self.stream.read(READ_CHUNK)
            data = data.encode() if isinstance(data, str) else bytes(data)
        else:
            while not select.select([self.fd], [], [], WAIT_SLICE if wait else 0)[0]:
                if not wait or self.interrupted():
                    return b""
            data = os.read(self.fd, READ_CHUNK)
        self.at_end = not data
        return data


def _waitable(stream: BinaryIO | TextIO) -> int | None:
    """The file descriptor of a stream whose reads can wait (a pipe, a terminal, a socket, open
    for reading), else None."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
        readable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_WRONLY
    except (AttributeError, OSError, ValueError):
        return None
    return fd if readable and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode) else None


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


class ReadOnlyMemory:
    """ROM: its bytes are in guest memory, marked ``ATTR_ROM``; loads read them there, and
    stores come here, where they are dropped (as the chip ignores writes to ROM)."""

    def __init__(self, name: str, span: range) -> None:
        self.name = name
        self.span = span

    def addresses(self) -> range:
        return self.span

    def read(self, addr: int, cycles: int) -> int:
        raise AssertionError("ROM is read from memory, not through the I/O helper")

    def write(self, addr: int, value: int, cycles: int) -> None:
        pass


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

"""Files a user names on the command line or in the monitor: programs, ROMs, key scripts,
command scripts and memory images read; traces, stats, screen dumps and memory saved.

Each is opened without waiting (``O_NONBLOCK``, cleared once open): a FIFO with nobody at the
other end, where a plain open would wait for ever, reads as empty or fails to open for writing
("No such device or address") at once, while a pipe that has a writer (a shell's ``<(...)``)
reads as usual.  Reading stops one byte past a limit, so ``/dev/zero`` is never read whole and a
caller sees a file too large by its length."""

from __future__ import annotations

import fcntl
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from recomp.runtime.errors import FileError


def cannot(path: Path | str, doing: str, error: OSError) -> str:
    """The one line for a file that failed: ``prog.bin: cannot read: No such file or directory``."""
    return f"{path}: cannot {doing}: {error.strerror or error}"


def _open(path: Path | str, flags: int) -> int:
    """A descriptor opened without waiting, then made blocking."""
    fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except OSError:
        os.close(fd)
        raise
    return fd


def open_to_read(path: Path | str) -> BinaryIO:
    """A file opened for reading (OSError if it cannot be; a folder is refused)."""
    fd = _open(path, os.O_RDONLY)
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(21, "Is a directory", str(path))
    return os.fdopen(fd, "rb")


def open_to_write(path: Path | str) -> BinaryIO:
    """A file opened for writing, made or emptied (OSError if it cannot be)."""
    return os.fdopen(_open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb")


def read_file(path: Path, limit: int) -> bytes:
    """A file's bytes, never more than ``limit + 1`` of them (a regular file's size is checked
    before reading), so a caller sees a file too large by its length.  ``FileError`` if it
    cannot be read."""
    try:
        with open_to_read(path) as file:
            info = os.fstat(file.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                return bytes(limit + 1)  # (only its length matters)
            return file.read(limit + 1)
    except OSError as error:
        raise FileError(cannot(path, "read", error)) from None


def write_file(path: Path, data: bytes | str) -> None:
    """Write a whole file (text as UTF-8); ``FileError`` naming it if it cannot be written."""
    try:
        with open_to_write(path) as file:
            file.write(data.encode() if isinstance(data, str) else data)
    except OSError as error:
        raise FileError(cannot(path, "write", error)) from None


def text_lines(file: BinaryIO) -> io.TextIOWrapper:
    """A file read as UTF-8 text, bytes that are not UTF-8 replaced (U+FFFD)."""
    return io.TextIOWrapper(file, encoding="utf-8", errors="replace")

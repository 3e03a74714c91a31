"""Errors the runtime reports to users: each one becomes one line and the exit status it names
(the statuses ``recomp run`` documents)."""

from __future__ import annotations


class RecompError(Exception):
    """A user-facing error; ``str()`` is the one-line message (without file name)."""

    exit_status = 1


class LoadError(RecompError):
    """A program that cannot be loaded (unreadable, empty, too large, bad address)."""


class FileError(RecompError):
    """A file the user named (a trace, a key script, a memory image) cannot be read or written."""


class StreamError(RecompError):
    """The program's input or output failed (closed, unreadable, a full disk)."""


class ConfigError(RecompError):
    """A machine that cannot be built as asked: a device outside memory, or over another one."""

    exit_status = 2


class GuestFault(RecompError):
    """The guest reached an instruction it cannot execute."""

    exit_status = 4

    def __init__(self, addr: int, message: str) -> None:
        super().__init__(message)
        self.addr = addr
        self.message = message


class EndRun(Exception):
    """Raised by a hook or a device to end the run normally (not an error): the run returns a
    ``RunResult`` with this ``stop`` and ``status``.  From a device (inside compiled code) it ends
    the run at the next instruction boundary a guard checks."""

    def __init__(self, stop: str, status: int | None = None) -> None:
        super().__init__(stop)
        self.stop = stop
        self.status = status

"""Errors the runtime reports to users: each one becomes one line and a non-zero exit status."""

from __future__ import annotations


class RecompError(Exception):
    """A user-facing error; ``str()`` is the one-line message (without file name)."""

    exit_status = 1


class LoadError(RecompError):
    """A program that cannot be loaded (empty, too large, bad address)."""


class GuestFault(RecompError):
    """The guest reached an instruction it cannot execute."""

    exit_status = 2

    def __init__(self, addr: int, message: str) -> None:
        super().__init__(message)
        self.addr = addr
        self.message = message

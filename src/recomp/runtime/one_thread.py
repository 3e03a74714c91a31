"""An Emulator is used by one thread at a time: while one thread runs it, another that asks it
to run, step, or change what runs (memory, state, breakpoints, hooks, watchpoints, traces) gets
``Busy`` at once, instead of two threads compiling and freeing code under each other (a crash
inside LLVM).  The thread that runs may change the machine (hooks and devices do) but not run
it again from inside a run (the inner run would take over the outer one's budgets); other
threads may still read, and raise the interrupt lines (``irq``, ``nmi``), which is how a device
thread signals a running machine.  Several Emulators in several threads run freely."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Busy(RuntimeError):
    """The Emulator is running in another thread."""


class OneThread:
    """Which thread runs a machine now (None: none)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.thread: int | None = None

    @contextmanager
    def running(self) -> Iterator[None]:
        """The calling thread runs the machine for the block; ``Busy`` if a run is on already."""
        me = threading.get_ident()
        with self._lock:
            if self.thread == me:
                raise Busy("cannot run it: it is running (a hook or a device may change the machine, "
                           "not run it from inside a run)")
            if self.thread is not None:
                raise Busy(self._message("run it"))
            self.thread = me
        try:
            yield
        finally:
            self.thread = None

    def check(self, what: str) -> None:
        """``Busy`` if another thread runs the machine (``what``: what the caller wanted to do)."""
        thread = self.thread
        if thread is not None and thread != threading.get_ident():
            raise Busy(self._message(what))

    @staticmethod
    def _message(what: str) -> str:
        return (f"cannot {what}: this Emulator is running in another thread (an Emulator is used by one "
                f"thread at a time; use one Emulator per thread)")

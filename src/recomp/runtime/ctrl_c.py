"""Ctrl-C stops a run promptly wherever it is, and leaves the machine as of its last complete
instruction, so that it can be inspected and run on.

Python's own SIGINT handler only notes the signal and acts at the next bytecode, which a loop in
compiled code never reaches.  So while a machine runs, SIGINT sets its state's ``interrupt``
flag, raises ``events`` and cuts both budgets (``limit`` and ``cycle_limit`` to 0), the fields
compiled code reads afresh: compiled code leaves at its next guard (every block starts with one;
a region compiled without budget checks that still loops gets them, see ``recomp.backend.jit``)
or chaining point, the native interpreter after the instruction, the reference engine at its
next guard.  The run loop then puts back what the signal changed and raises
``KeyboardInterrupt``.

The handler that does it:

- once the process has LLVM (any JIT run), native code in front of Python's own
  (``recomp.backend.signals``): it marks every running machine, in a table of their states, and
  passes the signal on to Python's handler unless the main thread is running a machine (whose
  run loop raises ``KeyboardInterrupt`` then, at a clean point);
- for a run on the reference engine in a process without LLVM: a Python handler in the main
  thread for the run's duration (the reference engine runs bytecode, so it comes in time).
"""

from __future__ import annotations

import ctypes
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recomp.runtime.code_cache import CodeCache

SLOTS = 64  # machines running at once (nested in helpers, or in threads) that Ctrl-C can reach
SA_ONSTACK, SA_RESTART, SA_SIGINFO = 0x08000000, 0x10000000, 0x00000004
SIG_IGN = 1


class _Sigaction(ctypes.Structure):
    """glibc's ``struct sigaction`` on 64-bit Linux."""

    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16), ("flags", ctypes.c_int),
                ("restorer", ctypes.c_void_p)]


class _Running:
    """The process's table of running machines, and its native handler once there is one."""

    def __init__(self) -> None:
        self.slots = (ctypes.c_void_p * SLOTS)()  # state addresses
        self.free = list(range(SLOTS - 1, -1, -1))  # the empty slots (a run takes the last)
        self.busy = ctypes.c_int64(0)  # machines the main thread is running
        self.previous = ctypes.c_void_p(0)  # the handler ours passes the signal on to
        self.handler: int | None = None  # our native handler's address
        self.code: object = None  # (kept: the handler lives as long as it)
        self.lock = threading.Lock()
        self._sigaction: Callable[..., int] | None = None
        self._current = _Sigaction()

    def native_handler(self, offsets: dict[str, int], cache: CodeCache | None) -> int | None:
        if self.handler is None and sys.platform.startswith("linux"):
            from recomp.runtime.interpreters import interrupt_handler

            self.code = interrupt_handler({
                "slots": ctypes.addressof(self.slots), "count": SLOTS, "busy": ctypes.addressof(self.busy),
                "previous": ctypes.addressof(self.previous), **offsets}, cache)
            self.handler = self.code.address
        return self.handler

    def install(self, handler: int) -> None:
        """Put the native handler in front of the current one, unless it is there already or
        Ctrl-C is ignored (SIG_IGN) or left to kill the process (SIG_DFL)."""
        if self._sigaction is None:
            self._sigaction = ctypes.CDLL(None, use_errno=True).sigaction
        current = self._current
        if self._sigaction(signal.SIGINT, None, ctypes.byref(current)) != 0:
            return
        if current.handler in (handler, None, SIG_IGN):
            return
        self.previous.value = current.handler
        ours = _Sigaction(handler, current.mask, SA_SIGINFO | SA_ONSTACK | SA_RESTART)
        self._sigaction(signal.SIGINT, ctypes.byref(ours), None)


_RUNNING = _Running()


def mark(state: ctypes.Structure) -> None:
    """What the handler does to a running machine's state (the Python handler's own)."""
    state.interrupt = 1
    state.events = 1
    state.limit = 0
    state.cycle_limit = 0


@contextmanager
def watched(state: ctypes.Structure, native: bool, cache: CodeCache | None = None) -> Iterator[None]:
    """Ctrl-C reaches the machine with this state while the block runs; ``native``: it may run
    native code (a Python handler is not enough; the native one is filed in ``cache`` if it has
    to be built)."""
    main = threading.current_thread() is threading.main_thread()
    handler = _RUNNING.handler
    if handler is None and native:
        handler = _RUNNING.native_handler(_offsets(type(state)), cache)
    with _RUNNING.lock:
        slot = _RUNNING.free.pop() if _RUNNING.free else None
        if slot is not None:
            _RUNNING.slots[slot] = ctypes.addressof(state)
        if main:
            _RUNNING.busy.value += 1
    restore: Callable[[], None] | None = None
    if handler is not None:
        _RUNNING.install(handler)
    elif main:
        restore = _python_handler(state)
    try:
        yield
    finally:
        if restore is not None:
            restore()
        with _RUNNING.lock:
            if slot is not None:
                _RUNNING.slots[slot] = None
                _RUNNING.free.append(slot)
            if main:
                _RUNNING.busy.value -= 1


@cache
def _offsets(state_type: type) -> dict[str, int]:
    """Where the fields the handler writes are in a state structure."""
    from recomp.runtime.interpreters import HANDLER_FIELDS

    return {name: getattr(state_type, name).offset for name in HANDLER_FIELDS}


def _python_handler(state: ctypes.Structure) -> Callable[[], None] | None:
    """Have SIGINT mark the machine while it runs on the reference engine; returns what puts
    the previous handler back (None if Ctrl-C is ignored or left to kill the process)."""
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        return None
    signal.signal(signal.SIGINT, lambda signum, frame: mark(state))
    return lambda: signal.signal(signal.SIGINT, previous)

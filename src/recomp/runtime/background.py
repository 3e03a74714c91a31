"""Compiling on the second core: hot regions are compiled by a thread of their own while the
guest goes on running on the native interpreter, and their code joins the run when it is
ready, as HotSpot and Ryujinx compile in the background.

LLVM, called through ctypes, runs without the GIL, so the run loses only the Python part of
lowering a region.  Jobs wait in a bounded queue, in the order code became hot.  The thread
hands a result back by raising ``ready`` and calling ``wake`` (which sets the state's
``events``, so that the native interpreter returns to the run loop at its next control
transfer); the run loop ``take``s results at its next turn and decides, on its own thread,
whether they still fit the machine.  Nothing on the dispatch path is shared with the thread.

The thread lives while there is work.  What the process's exit waits for is the machine's to
say (``at_exit``): every job (``ALL``), the job in hand (``IN_HAND``, LLVM is never cut off
halfway; the rest are dropped), or nothing (``NOTHING``: a command then ends at once through
``exit_now``).  A job may ask to go to the back of the queue (``LATER``): a region that holds no
loop waits behind the others, whose loops the run needs more.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

ALL, IN_HAND, NOTHING = "all", "in hand", "nothing"  # what the process's exit waits for
# while a compile thread runs, Python hands the GIL over after this many seconds (instead of its
# 5 ms): the run loop's thread, back from native code, waits that long for the compile thread's
# Python part (lifting, optimizing, lowering), and its own Python work (stitching) shares the
# GIL with it turn about; cold cc65 runs ended 0.03 s sooner at 250 us than at 5 ms, and another
# 0.01 s sooner at 20 us (0.15 -> 0.14 s on the sieve; cold kernels 2 to 5 % sooner)
SWITCH_INTERVAL = 0.00002
MAX_JOBS = 32  # waiting at once; code that becomes hot meanwhile waits for its next turn
LATER = object()  # what a job returns to go to the back of the queue (once: it runs again later)


class Done(NamedTuple):
    key: Hashable
    result: Any  # what the job returned (None if it failed)
    error: Exception | None


class Background:
    """A compile thread for one machine: ``submit`` jobs, ``take`` what is done."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._jobs: deque[tuple[Hashable, Callable[[], Any]]] = deque()
        self._done: list[Done] = []
        self._thread: threading.Thread | None = None
        self.waiting: set[Hashable] = set()  # keys submitted and not yet taken
        self.ready = False  # results wait to be taken
        self.at_exit = IN_HAND

    def submit(self, key: Hashable, work: Callable[[], Any]) -> bool:
        """Run ``work`` on the compile thread; False if ``key`` waits already or the queue is full."""
        with self._lock:
            if key in self.waiting or len(self._jobs) >= MAX_JOBS or _closing:
                return False
            self.waiting.add(key)
            self._jobs.append((key, work))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="recomp-compile", daemon=True)
                self._thread.start()
                _alive.add(self)
        return True

    def _work(self) -> None:
        _SWITCHING.enter()
        while True:
            with self._lock:
                if not self._jobs or (_closing and self.at_exit != ALL):
                    self._jobs.clear()
                    self._thread = None
                    _SWITCHING.leave()
                    return
                key, work = self._jobs.popleft()
            try:
                done = Done(key, work(), None)
            except Exception as error:  # (handed to the run loop, which says so)
                done = Done(key, None, error)
            if done.result is LATER:
                with self._lock:
                    self._jobs.append((key, work))
                continue
            with self._lock:
                self._done.append(done)
                self.ready = True
            self._wake()

    def others_waiting(self) -> bool:
        """Whether jobs wait besides the one in hand (on the compile thread)."""
        return bool(self._jobs)

    def take(self) -> list[Done]:
        """The jobs done since the last time."""
        with self._lock:
            self.ready = False
            done, self._done = self._done, []
            for item in done:
                self.waiting.discard(item.key)
        return done

    def wait(self) -> None:
        """Until every job submitted is done (their results wait for ``take``)."""
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return
            thread.join()


class _Switching:
    """``SWITCH_INTERVAL`` while any compile thread runs; Python's own setting again after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads = 0
        self._saved = sys.getswitchinterval()

    def enter(self) -> None:
        with self._lock:
            if not self._threads:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, SWITCH_INTERVAL))
            self._threads += 1

    def leave(self) -> None:
        with self._lock:
            self._threads -= 1
            if not self._threads:
                sys.setswitchinterval(self._saved)


_SWITCHING = _Switching()
_closing = False
_alive: weakref.WeakSet[Background] = weakref.WeakSet()


@atexit.register
def _finish() -> None:
    """At exit: finish the jobs in hand, drop the rest (or finish them: ``ALL``)."""
    global _closing
    _closing = True
    for background in list(_alive):
        background.wait()


def exit_now(status: int) -> None:
    """End a command's process with ``status`` at once when all that is left is compiles its
    machines may drop (``NOTHING``: code for later runs only): Python's own exit waits for them,
    since LLVM's static destructors must not run under a compile.  Otherwise return (the exit
    then waits as ``_finish`` says)."""
    busy = [background for background in list(_alive) if background._thread is not None]
    if busy and all(background.at_exit == NOTHING for background in busy):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)

"""How a run ended: the ``Stop`` reasons the run loop returns and the CLI reports."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from recomp.runtime.watchpoints import WatchHit


class Stop(StrEnum):
    """Why ``Emulator.run`` returned (a ``str``: ``result.exit == "trap"`` holds)."""

    HALT = "halt"  # the guest stopped (TST27 END)
    TRAP = "trap"  # an instruction jumped to itself, with ``stop_on_trap``
    UNTIL = "until"  # execution reached ``until_pc`` (not executed)
    BREAKPOINT = "breakpoint"  # execution reached a breakpoint (not executed)
    WATCHPOINT = "watchpoint"  # the instruction before ``pc`` accessed a watched range (``watch``)
    MAX_INSTRUCTIONS = "max-instructions"  # the instruction budget ran out
    MAX_CYCLES = "max-cycles"  # the cycle budget ran out (at the first instruction boundary past it)
    EXIT = "exit"  # the program asked to end (sim65's exit call, an ``exit`` hook): ``status`` is its code
    INPUT_EXHAUSTED = "input-exhausted"  # the program waits for a key and its input is at its end
    FAULT = "fault"  # the guest reached an instruction it cannot execute (the CLI's report)
    ERROR = "error"  # the run ended with another error (the CLI's report)


class RunResult(NamedTuple):
    """How a run ended (``exit``), and where."""

    exit: Stop
    pc: int  # where the guest is: the next instruction to run
    instructions: int  # executed in all, exact
    status: int | None = None  # the program's exit status (``Stop.EXIT``)
    watch: WatchHit | None = None  # the access that stopped the run (``Stop.WATCHPOINT``)

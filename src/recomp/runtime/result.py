"""How a run ended: the ``Stop`` reasons the run loop returns and the CLI reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stop(StrEnum):
    """Why ``Emulator.run`` returned (a ``str``: ``result.exit == "trap"`` holds)."""

    HALT = "halt"  # the guest stopped (TST27 END)
    TRAP = "trap"  # an instruction jumped to itself, with ``stop_on_trap``
    UNTIL = "until"  # execution reached ``until_pc`` (not executed)
    MAX_INSTRUCTIONS = "max-instructions"  # the instruction budget ran out
    FAULT = "fault"  # the guest reached an instruction it cannot execute (the CLI's report)
    ERROR = "error"  # the run ended with another error (the CLI's report)


@dataclass
class RunResult:
    exit: Stop
    pc: int  # where the guest is: the next instruction to run
    instructions: int  # executed in all, exact

"""Running at a real clock speed (``--mhz``): the run goes in slices of 10 ms of guest cycles,
and sleeps whenever the guest is ahead of the wall clock."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from recomp.runtime.result import RunResult, Stop

if TYPE_CHECKING:
    from recomp.runtime.emulator import Emulator

SLICE_SECONDS = 0.01
MAX_MHZ = 100_000.0  # (a 100 GHz 6502: far past what any engine runs)


class Slices:
    """A run in slices of guest cycles (a paced run's, easy6502's frames) within the budgets of
    the whole run: ``max_instructions`` and ``max_cycles`` count from its start (``limits``: the
    rest of ``Emulator.run``'s arguments)."""

    def __init__(self, emulator: Emulator, max_instructions: int | None = None, max_cycles: int | None = None,
                 **limits: object) -> None:
        self.emulator = emulator
        self.instructions_end = None if max_instructions is None else emulator.instructions + max_instructions
        self.cycles_end = None if max_cycles is None else emulator.cycles + max_cycles
        self.limits = limits

    def run(self, cycles: int) -> tuple[RunResult, bool]:
        """Run a slice of ``cycles`` more: its result, and whether the whole run is over (it
        ended otherwise than at the slice's end, or its cycle budget is spent)."""
        emulator, cycles_end = self.emulator, self.cycles_end
        budget = None if self.instructions_end is None else self.instructions_end - emulator.instructions
        if cycles_end is not None:
            cycles = min(cycles, cycles_end - emulator.cycles)
        result = emulator.run(max_instructions=budget, max_cycles=cycles, **self.limits)
        return result, result.exit != Stop.MAX_CYCLES or (cycles_end is not None and emulator.cycles >= cycles_end)


def paced_run(emulator: Emulator, mhz: float, **limits: object) -> RunResult:
    """``emulator.run(**limits)`` at ``mhz`` million guest cycles a second."""
    if not 0 < mhz <= MAX_MHZ:  # (nan and inf too)
        raise ValueError(f"the clock speed is more than 0 and at most {MAX_MHZ:,} MHz, not {mhz}")
    hertz = mhz * 1e6
    per_slice = max(1, round(hertz * SLICE_SECONDS))
    first_cycle, started = emulator.cycles, time.perf_counter()
    slices = Slices(emulator, **limits)
    while True:
        result, over = slices.run(per_slice)
        if over:
            return result
        ahead = (emulator.cycles - first_cycle) / hertz - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)

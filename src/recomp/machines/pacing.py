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


def paced_run(emulator: Emulator, mhz: float, max_instructions: int | None = None, **limits: object) -> RunResult:
    """``emulator.run(max_instructions, **limits)`` at ``mhz`` million guest cycles a second."""
    if not 0 < mhz <= MAX_MHZ:  # (nan and inf too)
        raise ValueError(f"the clock speed is more than 0 and at most {MAX_MHZ:,} MHz, not {mhz}")
    hertz = mhz * 1e6
    per_slice = max(1, round(hertz * SLICE_SECONDS))
    first_cycle, started = emulator.cycles, time.perf_counter()
    end = None if max_instructions is None else emulator.instructions + max_instructions
    while True:
        budget = None if end is None else end - emulator.instructions
        result = emulator.run(max_instructions=budget, max_cycles=per_slice, **limits)
        if result.exit != Stop.MAX_CYCLES:
            return result
        ahead = (emulator.cycles - first_cycle) / hertz - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)

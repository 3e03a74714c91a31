"""``recomp demo``: the article's experiment, TST27 test1 and test2 on both engines.

The reference engine runs versions of the programs with a smaller loop bound (it would take minutes
otherwise); speed is compared as guest instructions per second of engine time (compile + run).
"""

from __future__ import annotations

import io
import sys

from recomp.data import PROGRAMS, SCALED_BOUNDS, program_source
from recomp.frontends.tst27 import assemble
from recomp.runtime.emulator import Emulator


def measure(source: str, engine: str) -> tuple[str, Emulator]:
    output = io.StringIO()
    emulator = Emulator("tst27", engine=engine, output=output)
    emulator.load(assemble(source))
    emulator.run()
    return output.getvalue(), emulator


def run_demo() -> None:
    from rich.table import Table

    from recomp.terminal import console as terminal_console

    console = terminal_console(stderr=True)
    table = Table(title="TST27 demo: JIT (LLVM) vs the reference engine")
    columns = ("program", "engine", "instructions", "compile ms", "run ms", "engine ms", "guest MIPS")
    for column in columns:
        table.add_column(column, justify="left" if column in ("program", "engine") else "right")
    speedups = []
    for name in PROGRAMS:
        mips = {}
        for engine, text, label in (("jit", program_source(name), name),
                                    ("interp", program_source(name, scaled=True),
                                     f"{name} (bound {SCALED_BOUNDS[name][1]})")):
            output, emulator = measure(text, engine)
            sys.stdout.write(f"{label} on {engine}:\n{output}")
            stats = emulator.stats
            seconds = stats.compile_seconds + stats.run_seconds
            mips[engine] = emulator.instructions / seconds / 1e6
            table.add_row(label, engine, f"{emulator.instructions:,}", f"{stats.compile_seconds * 1e3:.1f}",
                          f"{stats.run_seconds * 1e3:.1f}", f"{seconds * 1e3:.1f}", f"{mips[engine]:,.1f}")
        speedups.append((name, mips["jit"] / mips["interp"]))
    sys.stdout.flush()
    console.print(table)
    console.print("Engine time is compile + run; guest MIPS = instructions / engine time. The reference engine "
                  "runs the programs with a smaller loop bound. LLVM computes the counting loops in "
                  "closed form, so the JIT's run time hardly depends on the bound.")
    for name, ratio in speedups:
        console.print(f"{name}: the JIT engine is {ratio:,.0f}x faster than the reference engine")

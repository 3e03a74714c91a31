"""``recomp demo``: the article's experiment, TST27 test1 and test2 on both engines.

The interpreter runs versions of the programs with a smaller loop bound (it would take minutes
otherwise); speed is compared as guest instructions per second.
"""

from __future__ import annotations

import io
import sys

from recomp.data import data_path
from recomp.frontends.tst27 import assemble
from recomp.runtime.emulator import Emulator

# program -> (loop-bound literal in its source, the bound the interpreter runs instead)
PROGRAMS = {"test1": ("0x01FFFFFF", "0x0001FFFF"), "test2": ("0x00FFFFFF", "0x0000FFFF")}


def measure(source: str, engine: str) -> tuple[str, Emulator]:
    output = io.StringIO()
    emulator = Emulator("tst27", engine=engine, output=output)
    emulator.load(assemble(source))
    emulator.run()
    return output.getvalue(), emulator


def run_demo() -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title="TST27 demo: JIT (LLVM) vs the reference interpreter")
    for column in ("program", "engine", "instructions", "compile ms", "run ms", "guest MIPS"):
        table.add_column(column, justify="left" if column in ("program", "engine") else "right")
    speedups = []
    for name, (bound, scaled) in PROGRAMS.items():
        source = data_path("examples", "tst27", f"{name}.s").read_text()
        mips = {}
        for engine, text, label in (("jit", source, name), ("interp", source.replace(bound, scaled),
                                                             f"{name} (bound {scaled})")):
            output, emulator = measure(text, engine)
            sys.stdout.write(f"{label} on {engine}:\n{output}")
            stats = emulator.stats
            mips[engine] = emulator.instructions / max(stats.run_seconds, 1e-9) / 1e6
            table.add_row(label, engine, f"{emulator.instructions:,}",
                          f"{stats.compile_seconds * 1e3:.1f}", f"{stats.run_seconds * 1e3:.1f}",
                          f"{mips[engine]:,.1f}")
        speedups.append((name, mips["jit"] / mips["interp"]))
    sys.stdout.flush()
    console.print(table)
    console.print("The interpreter runs the programs with a smaller loop bound, so compare guest MIPS.")
    for name, ratio in speedups:
        console.print(f"{name}: JIT runs guest code {ratio:,.0f}x faster than the interpreter")

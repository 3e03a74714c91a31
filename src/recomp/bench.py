"""``recomp bench``: the JIT against an honest gcc -O2 switch interpreter of TST27, and the 6502
kernels of benchmarks/6502 on every engine and tier against py65.

The C interpreter (benchmarks/tst27_interp.c) is the yardstick a reader would write by hand; the
figure of merit is its loop time over the JIT engine's compile + run time (target >= 15x).  Each
6502 kernel runs on py65 and on the reference engine (for a bounded number of instructions:
they are slow, and MIPS is a rate), then on the JIT cold (an empty code cache) and warm (the
cache the cold run filled), and cold without the optimizer.  With Klaus Dormann's functional
test at hand, it runs cold and warm too.  The cc65-compiled C programs of benchmarks/cc65 run as
whole processes, as a user runs them: ``sim65 PROG`` against ``recomp run PROG`` cold (a fresh,
empty code cache) and warm (once the cache has settled: a run filed no new code), best of 3 wall
times, plus recomp's run-only MIPS from its own stats, and the same for the long program (the
sieve at 20x its rounds).  ``measure`` takes the numbers, ``show`` draws the tables,
``run_benchmarks`` does both and writes the JSON.  rich is imported inside the functions that
draw, so importing this module keeps CLI start-up fast.
"""

from __future__ import annotations

import gc
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recomp.data import PROGRAMS, data_path, program_source
from recomp.frontends.tst27 import assemble

KERNELS = ("sieve", "crc16", "mul16", "memcpy", "sort", "bcd")  # benchmarks/6502/*.bin
KERNEL_ORIGIN = 0x0200
REPEATS = 3
SETTLE_RUNS = 6  # runs on a cold run's code cache at most, until one files no new code
TARGET_SPEEDUP = 15.0
PROCESS_TIMEOUT = 300.0
KERNEL_TARGET = 500.0  # engine speed over py65's, cold (compiling included) and warm
PY65_INSTRUCTIONS = 1_000_000  # py65 runs about 2 MIPS: each kernel is timed over this many
INTERP_INSTRUCTIONS = 300_000  # ... and the reference engine over this many
# Klaus Dormann's functional test: in $RECOMP_TESTDATA, by default ../shared/testdata beside a checkout
FUNCTIONAL_TEST = Path(os.environ.get("RECOMP_TESTDATA") or "../shared/testdata") / "6502" / "6502_functional_test.bin"
FUNCTIONAL_ENTRY, FUNCTIONAL_SUCCESS = 0x0400, 0x3469
CC65_PROGRAMS = ("sieve", "crc32", "lz", "matmul")  # benchmarks/cc65/*.sim, each about 200 M sim65 cycles
CC65_LONG = ("sieve", ("840",))  # the long C program: the sieve at 20x its 42 default rounds, 4.2 G cycles
RECOMP = (sys.executable, "-m", "recomp")  # the process as the console script starts it (recomp.__main__)
CC65_TARGETS = {"warm_vs_sim65": 3.0, "cold_vs_sim65": 1.5, "long_cold_vs_sim65": 10.0, "run_mips": 1500.0}


@dataclass
class CRun:
    seconds: float  # the interpretation loop only, as the C program measures it
    instructions: int
    output: str


@dataclass
class EngineRun:
    compile_seconds: float
    run_seconds: float
    instructions: int
    output: str

    @property
    def engine_seconds(self) -> float:
        return self.compile_seconds + self.run_seconds


def build_c_interpreter(out_dir: Path) -> Path | None:
    """Compile the C baseline with gcc -O2 into ``out_dir``; None when gcc is not installed."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    exe = out_dir / "tst27_interp"
    source = data_path("benchmarks", "tst27_interp.c")
    done = subprocess.run([gcc, "-O2", "-o", str(exe), str(source)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"gcc failed on {source}:\n{done.stderr}")
    return exe


def run_c(exe: Path, program: Path) -> CRun:
    """One run of the C interpreter; its last stderr line is its JSON report."""
    done = subprocess.run([str(exe), str(program)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{exe.name} {program.name} failed: {done.stderr.strip()}")
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return CRun(report["seconds"], report["instructions"], done.stdout)


def run_engine(program: bytes, engine: str) -> EngineRun:
    """One run on a fresh Emulator without a code cache, so every run pays its own translation;
    the garbage earlier measurements left is collected first, as for ``run_6502`` (a collection
    of it landed in TST27 test1's third run, 5 ms: 1.6 ms more)."""
    from recomp.runtime.emulator import Emulator

    gc.collect()
    out = io.StringIO()
    emulator = Emulator("tst27", engine=engine, output=out, code_cache=None)
    emulator.load(program)
    emulator.run()
    stats = emulator.stats
    return EngineRun(stats.compile_seconds, stats.run_seconds, emulator.instructions, out.getvalue())


@dataclass
class KernelRun:
    instructions: int
    pc: int  # where it stopped
    compile_seconds: float
    run_seconds: float
    compiled: int  # regions compiled by LLVM
    cache_hits: int  # regions loaded from the code cache
    machine: bytes  # registers, flags and memory at the end, to compare runs

    @property
    def engine_seconds(self) -> float:
        return self.compile_seconds + self.run_seconds


def run_6502(image: bytes, at: int, entry: int, engine: str = "jit", optimize: bool = True,
             code_cache: Any = None, max_instructions: int | None = None) -> KernelRun:
    """One run of a 6502 program to its trap (or the budget) on a fresh Emulator; then the code
    still compiling in the background is finished (and filed in the code cache), as it would be
    by a process that goes on, so that the next run finds what became hot in this one.  The
    garbage earlier measurements left (py65's, LLVM's) is collected first: a full collection of
    it took 30 ms, and landed in a kernel's cold run."""
    from recomp.runtime.emulator import Emulator

    gc.collect()
    emulator = Emulator("6502", engine=engine, optimize=optimize, console=None, code_cache=code_cache)
    emulator.load(image, at=at)
    emulator.state.pc = entry
    emulator.run(stop_on_trap=True, max_instructions=max_instructions)
    emulator.finish_compiling()
    st, stats = emulator.state, emulator.stats
    machine = bytes([st.a, st.x, st.y, st.s, st.p]) + emulator.memory[0:0x10000]
    return KernelRun(emulator.instructions, st.pc, stats.compile_seconds, stats.run_seconds, stats.compiled,
                     stats.cache_hits, machine)


def kernel_image(name: str) -> bytes:
    return data_path("benchmarks", "6502", f"{name}.bin").read_bytes()


def run_kernel(name: str, **options: Any) -> KernelRun:
    """A 6502 kernel of benchmarks/6502 run to its final trap (options: see ``run_6502``)."""
    return run_6502(kernel_image(name), KERNEL_ORIGIN, KERNEL_ORIGIN, **options)


def py65_mips(image: bytes, at: int, entry: int, instructions: int) -> float | None:
    """py65's speed on a program over its first ``instructions``; None without py65."""
    try:
        from py65.devices.mpu6502 import MPU
    except ImportError:
        return None
    memory = bytearray(0x10000)
    memory[at:at + len(image)] = image
    mpu = MPU(memory=memory, pc=entry)
    step = mpu.step
    start = time.perf_counter()
    for _ in range(instructions):
        step()
    return instructions / (time.perf_counter() - start) / 1e6


def measure_kernel(name: str, cache_dir: Path, py65_instructions: int = PY65_INSTRUCTIONS,
                   interp_instructions: int = INTERP_INSTRUCTIONS, on_step: Any = None, on_done: Any = None,
                   repeats: int = REPEATS) -> dict[str, Any]:
    """One kernel on py65 and the reference engine (over their first instructions), then on the
    JIT cold (an empty code cache in ``cache_dir``, a fresh one for each run), warm (the last
    cold run's) and without the optimizer, the best of ``repeats`` runs each (a kernel runs 10
    to 30 ms: one run took the rest of the machine's hiccups whole): MIPS, compile times,
    speed-ups over py65, and whether the JIT runs ended in the same machine."""
    from recomp.runtime.code_cache import CodeCache

    def step(description: str) -> None:
        if on_step is not None:
            on_step(f"6502 {name}: {description}")

    def done() -> None:
        if on_done is not None:
            on_done()

    step(f"py65, {py65_instructions:,} instructions")
    row: dict[str, Any] = {"py65_mips": py65_mips(kernel_image(name), KERNEL_ORIGIN, KERNEL_ORIGIN, py65_instructions)}
    done()
    step(f"reference engine, {interp_instructions:,} instructions")
    interp = run_kernel(name, engine="interp", max_instructions=interp_instructions)
    row["interp_mips"] = _mips(interp.instructions, interp.engine_seconds)
    done()
    caches = [CodeCache(cache_dir / f"cold-{i}") for i in range(repeats)]
    runs: dict[str, KernelRun] = {}
    for tier, options in (("cold", [{"code_cache": cache} for cache in caches]),
                          ("warm", [{"code_cache": caches[-1]}] * repeats), ("noopt", [{"optimize": False}] * repeats)):
        step(f"JIT, {tier}")
        runs[tier] = min((run_kernel(name, **each) for each in options), key=lambda run: run.engine_seconds)
        done()
    for tier, run in runs.items():
        row[f"{tier}_engine_mips"] = _mips(run.instructions, run.engine_seconds)
        row[f"{tier}_run_mips"] = _mips(run.instructions, run.run_seconds)
        row[f"{tier}_compile_seconds"] = run.compile_seconds
        row[f"{tier}_compiled"] = run.compiled
    py65 = row["py65_mips"]
    row.update(instructions=runs["cold"].instructions, warm_cache_hits=runs["warm"].cache_hits,
               cold_vs_py65=row["cold_engine_mips"] / py65 if py65 else None,
               warm_vs_py65=row["warm_engine_mips"] / py65 if py65 else None,
               same_machines=len({run.machine for run in runs.values()}) == 1)
    return row


def build_native_interpreter() -> float:
    """Build the 6502 native interpreter, as installing recomp does (runs load the one built
    then: see ``recomp.runtime.interpreters``); its seconds."""
    from recomp.frontends import get_frontend
    from recomp.runtime.interpreters import build

    frontend = get_frontend("6502")
    start = time.perf_counter()
    build(frontend, stops=False, trace=False)
    return time.perf_counter() - start


def run_process(program: Path) -> tuple[float, str] | None:
    """Wall time and stdout of ``python -m recomp run``; None if the CLI fails."""
    try:
        return timed_process([*RECOMP, "run", "--frontend", "tst27", str(program)])
    except (RuntimeError, subprocess.TimeoutExpired):
        return None


@dataclass
class ProcessRun:
    seconds: float  # wall time of the whole process, start-up included
    stdout: str
    stats: dict[str, Any] | None  # recomp's --stats-json report (None for sim65)


def timed_process(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall time and stdout of one process that must exit 0: the bench compares whole runs, as a
    user sees them, so start-up is part of the time."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=PROCESS_TIMEOUT, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return wall, done.stdout


def cc65_program(name: str) -> Path:
    return data_path("benchmarks", "cc65", f"{name}.sim")


def run_sim65(sim65: str, program: Path, args: tuple[str, ...]) -> ProcessRun:
    """One run of the real sim65, the baseline recomp must beat as a process."""
    wall, stdout = timed_process([sim65, str(program), *args])
    return ProcessRun(wall, stdout, None)


def new_cache_home(work: Path) -> Path:
    """A fresh XDG_CACHE_HOME for a cold run; mkdtemp makes it 0700, as recomp wants its
    folders (a folder others may write is not trusted, and the cache would be skipped)."""
    return Path(tempfile.mkdtemp(prefix="cache-", dir=work))


def run_recomp(program: Path, args: tuple[str, ...], cache_home: Path, stats: bool = False) -> ProcessRun:
    """One ``recomp run`` process with its code cache in ``cache_home`` (so a cold run starts
    from nothing and never touches the user's cache); with ``stats``, the stats it wrote (its
    end then waits for the code still compiling in the background, so its time is not a user's)."""
    stats_path = cache_home / "stats.json"
    report = ("--stats-json", str(stats_path)) if stats else ()
    command = [*RECOMP, "run", *report, str(program), *args]
    wall, stdout = timed_process(command, env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    return ProcessRun(wall, stdout, json.loads(stats_path.read_text()) if stats else None)


def measure_startup(work: Path, repeats: int = REPEATS) -> dict[str, float]:
    """The CLI's start-up, best of ``repeats`` processes: ``recomp --version``, and ``recomp run``
    of the 72-instruction hello example with an empty code cache (cold) and with the one the
    last cold run filled (warm)."""
    hello = ("run", "--frontend", "6502", "--load", "$200", "--entry", "$200", "--stop-on-trap",
             str(data_path("examples", "6502", "hello.bin")))
    homes: list[Path] = []

    def best(args: tuple[str, ...], home: Callable[[], Path]) -> float:
        return min(timed_process([*RECOMP, *args],
                                 env={**os.environ, "XDG_CACHE_HOME": str(home())})[0] for _ in range(repeats))

    def fresh() -> Path:
        homes.append(new_cache_home(work))
        return homes[-1]

    return {"version_seconds": best(("--version",), fresh), "hello_cold_seconds": best(hello, fresh),
            "hello_warm_seconds": best(hello, lambda: homes[-1])}


def measure_cc65(name: str, args: tuple[str, ...], work: Path, repeats: int = REPEATS,
                 on_step: Any = None, on_done: Any = None) -> dict[str, Any]:
    """A cc65 program as whole processes, best of ``repeats`` each: sim65 (if installed), recomp
    cold (a fresh, empty code cache per run) and warm (the last cold run's cache, once it has
    settled: ``settle``); wall times,
    run-only MIPS, speed-ups over sim65, and whether every output agrees."""
    program, sim65 = cc65_program(name), shutil.which("sim65")
    label = " ".join((name, *args))

    def timed(what: str, run: Any) -> list[ProcessRun]:
        runs = []
        for i in range(repeats):
            if on_step is not None:
                on_step(f"cc65 {label}: {what}, run {i + 1}/{repeats}")
            runs.append(run())
            if on_done is not None:
                on_done()
        return runs

    homes: list[Path] = []

    def cold_run() -> ProcessRun:
        homes.append(new_cache_home(work))
        return run_recomp(program, args, homes[-1])

    baseline = timed("sim65", lambda: run_sim65(sim65, program, args)) if sim65 else []
    cold = timed("recomp cold", cold_run)
    if on_step is not None:
        on_step(f"cc65 {label}: recomp, until the code cache has settled")
    settling = settle(program, args, homes[-1])
    warm = timed("recomp warm", lambda: run_recomp(program, args, homes[-1]))
    if on_step is not None:
        on_step(f"cc65 {label}: recomp's stats, cold and warm")
    reports = [run_recomp(program, args, new_cache_home(work), stats=True),
               *(run_recomp(program, args, homes[-1], stats=True) for _ in range(repeats))]
    return _cc65_row(args, baseline, cold, settling, warm, reports)


def settle(program: Path, args: tuple[str, ...], cache_home: Path) -> list[ProcessRun]:
    """Runs on the code cache a cold run filled, until one files no new code (at most
    ``SETTLE_RUNS``): a run that finds code in the cache compiles, at its exit, what it found hot
    that the cache lacked, and the code it adds can make more of the program hot in the next run
    (the code around it then runs on the native interpreter alone).  Once a run files nothing,
    the cache holds all of the program's hot code: the runs after it are the warm runs."""
    from recomp.runtime.code_cache import CodeCache

    cache = CodeCache(cache_home / "recomp")
    runs, records = [], cache.info().records
    while len(runs) < SETTLE_RUNS:
        runs.append(run_recomp(program, args, cache_home))
        records, before = cache.info().records, records
        if records == before:
            break
    return runs


def _cc65_row(args: tuple[str, ...], sim65: list[ProcessRun], cold: list[ProcessRun], settling: list[ProcessRun],
              warm: list[ProcessRun], reports: list[ProcessRun]) -> dict[str, Any]:
    """The figures of one cc65 program from its runs: the best wall time of each kind (the least
    disturbed by the rest of the machine), the speed-ups they give, and from recomp's own stats
    (``reports``: a cold run, then warm runs) what the cold run compiled and run-only MIPS (no
    start-up, no compiling: the speed of the generated code; the best warm run's, as for the
    wall times: a warm run of these programs runs 30 to 60 ms)."""
    def best(runs: list[ProcessRun]) -> float | None:
        return min(r.seconds for r in runs) if runs else None

    cold_report, *warm_reports = (run.stats for run in reports)
    warm_report = min(warm_reports, key=lambda stats: stats["run_seconds"])
    instructions, run_seconds = cold_report["instructions"], warm_report["run_seconds"]
    sim65_seconds, cold_seconds, warm_seconds = best(sim65), best(cold), best(warm)
    return dict(
        args=list(args), instructions=instructions, cycles=cold_report["cycles"],
        sim65_seconds=sim65_seconds, cold_seconds=cold_seconds, warm_seconds=warm_seconds,
        sim65_seconds_runs=[r.seconds for r in sim65], cold_seconds_runs=[r.seconds for r in cold],
        warm_seconds_runs=[r.seconds for r in warm], settling_seconds_runs=[r.seconds for r in settling],
        cold_compile_seconds=cold_report["compile_seconds"],
        cold_interpreter_seconds=cold_report["interpreter_seconds"],
        warm_cache_hits=warm_report["cache_hits"], run_seconds=run_seconds,
        run_seconds_runs=[stats["run_seconds"] for stats in warm_reports],
        run_mips=_mips(instructions, run_seconds),
        cold_vs_sim65=sim65_seconds / cold_seconds if sim65_seconds and cold_seconds else None,
        warm_vs_sim65=sim65_seconds / warm_seconds if sim65_seconds and warm_seconds else None,
        stdout=cold[0].stdout, outputs_agree=len({r.stdout for r in sim65 + cold + settling + warm + reports}) == 1,
        same_instructions=instructions == warm_report["instructions"],
    )


def _median_run(runs: list[EngineRun]) -> EngineRun:
    """The run with the median engine time, so its compile and run add up to the reported total."""
    return sorted(runs, key=lambda r: r.engine_seconds)[len(runs) // 2]


def _mips(instructions: int, seconds: float | None) -> float | None:
    return instructions / seconds / 1e6 if seconds else None


def run_benchmarks(json_path: str | None = None, console: Any = None,
                   functional_test: Path | None = None) -> dict[str, Any]:
    """Measure every program, show the tables on ``console`` (stderr by default), write the
    numbers to ``json_path`` if given, and return them; ``functional_test``: Klaus Dormann's
    binary (default: ``FUNCTIONAL_TEST``)."""
    from recomp.terminal import console as terminal_console

    console = console if console is not None else terminal_console(stderr=True)
    results = measure(console, functional_test if functional_test is not None else FUNCTIONAL_TEST)
    show(results, console)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n")
    return results


class _Steps:
    """The progress bar of a benchmark run, and the mismatches it found on the way."""

    def __init__(self, progress: Any, total: int, results: dict[str, Any]) -> None:
        self.progress = progress
        self.task = progress.add_task("building the C interpreter (gcc -O2)", total=total)
        self.results = results

    def step(self, description: str) -> None:
        self.progress.update(self.task, description=description)

    def advance(self, steps: int = 1) -> None:
        self.progress.advance(self.task, steps)

    def mismatch(self, what: str) -> None:
        self.results["mismatches"].append(what)
        self.progress.console.print(f"[bold red]OUTPUT MISMATCH: {what}[/]")


STEPS_PER_PROGRAM = 3 * REPEATS + 2  # C, JIT, process; the C scaled run and the interp run
STEPS_PER_KERNEL = 5  # py65, the reference engine, the JIT cold, warm and without the optimizer
CC65_RUNS = len(CC65_PROGRAMS) + 1  # the programs and the long run: sim65 (if any), cold and warm, REPEATS each


def measure(console: Any, functional: Path) -> dict[str, Any]:
    """Every measurement of ``recomp bench``, with a progress bar on ``console``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    results: dict[str, Any] = {
        "target_speedup": TARGET_SPEEDUP, "repeats": REPEATS, "c_compiler": None,
        "first_compile_in_process_seconds": None, "first_compile_was_cold": None,
        "programs": {}, "kernels": {}, "functional": {}, "mismatches": [], "notes": [],
        "cc65": {"targets": CC65_TARGETS, "repeats": REPEATS, "programs": {}}, "startup": {},
    }
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    have_sim65 = shutil.which("sim65") is not None
    total = (5 + STEPS_PER_PROGRAM * len(PROGRAMS) + STEPS_PER_KERNEL * len(KERNELS)
             + (3 if have_sim65 else 2) * REPEATS * CC65_RUNS)
    with tempfile.TemporaryDirectory(prefix="recomp-bench-") as tmp, \
            Progress(*columns, console=console, transient=True) as progress:
        work = Path(tmp)
        steps = _Steps(progress, total, results)
        exe = build_c_interpreter(work)
        steps.advance()
        if exe is None:
            results["notes"].append("gcc not found: the C interpreter column is skipped")
        else:
            results["c_compiler"] = "gcc -O2"

        steps.step("start-up: recomp --version, recomp run of hello, cold and warm")
        results["startup"] = measure_startup(work)
        steps.advance()
        steps.step("warming up the JIT (first compile in the process)")
        from recomp.backend.jit import jit_made

        results["first_compile_was_cold"] = not jit_made()
        warm = run_engine(assemble_program(PROGRAMS[0]), "jit")
        results["first_compile_in_process_seconds"] = warm.compile_seconds
        steps.step("building the 6502 native interpreter")
        results["native_interpreter_build_seconds"] = build_native_interpreter()
        steps.advance()

        for name in PROGRAMS:
            results["programs"][name] = _measure_program(name, exe, work, steps)
        for name in KERNELS:
            row = measure_kernel(name, work / "cache" / name, on_step=steps.step, on_done=steps.advance)
            if not row.pop("same_machines"):
                steps.mismatch(f"6502 {name}: the JIT runs end in different machines")
            results["kernels"][name] = row
        if results["kernels"] and results["kernels"][KERNELS[0]]["py65_mips"] is None:
            results["notes"].append("py65 is not installed (pip install 'recomp[bench]'): no py65 column")
        if functional.is_file():
            results["functional"] = _measure_functional(functional, work / "cache" / "functional", steps)
        else:
            results["notes"].append(f"{functional} not found: the functional test is skipped")
            steps.advance(2)
        if not have_sim65:
            results["notes"].append("sim65 not found (apt-get install cc65): the cc65 table has no sim65 times")
        results["cc65"]["programs"] = _measure_cc65(work, steps)
    return results


def _measure_cc65(work: Path, steps: _Steps) -> dict[str, Any]:
    """The cc65 programs at their default counts, then the long run, keyed by command line; a
    run that fails or disagrees (with sim65, or with expected.json) is reported as a mismatch."""
    expected = json.loads(data_path("benchmarks", "cc65", "expected.json").read_text())
    rows: dict[str, Any] = {}
    for name, args in [*((name, ()) for name in CC65_PROGRAMS), CC65_LONG]:
        label = " ".join((name, *args))
        try:
            row = measure_cc65(name, args, work, on_step=steps.step, on_done=steps.advance)
        except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as error:
            steps.mismatch(f"cc65 {label}: {error}")
            continue
        if not row["outputs_agree"] or (not args and row["stdout"] != expected[name]["stdout"]["default"]):
            steps.mismatch(f"cc65 {label}: the outputs of sim65 and recomp (cold, warm) differ")
        if not row.pop("same_instructions"):
            steps.mismatch(f"cc65 {label}: recomp's runs counted different numbers of instructions")
        rows[label] = dict(row, long=(name, args) == CC65_LONG)
    return rows


def assemble_program(name: str, scaled: bool = False) -> bytes:
    """A TST27 demo program's image (``scaled``: its loop bound cut for the reference engine)."""
    return assemble(program_source(name, scaled))


def _measure_program(name: str, exe: Path | None, work: Path, steps: _Steps) -> dict[str, Any]:
    """A TST27 demo program on the C interpreter, the JIT, the reference engine (scaled) and
    the CLI: times, speed-up over C, and whether every output agrees."""
    program, scaled = assemble_program(name), assemble_program(name, scaled=True)
    binary, scaled_binary = work / f"{name}.bin", work / f"{name}_scaled.bin"
    binary.write_bytes(program)
    scaled_binary.write_bytes(scaled)

    c_runs: list[CRun] = []
    c_scaled: CRun | None = None
    if exe is not None:
        for i in range(REPEATS):
            steps.step(f"{name}: C interpreter, run {i + 1}/{REPEATS}")
            c_runs.append(run_c(exe, binary))
            steps.advance()
        steps.step(f"{name}: C interpreter, scaled")
        c_scaled = run_c(exe, scaled_binary)
    steps.advance(1 if exe is not None else REPEATS + 1)

    jit_runs: list[EngineRun] = []
    for i in range(REPEATS):
        steps.step(f"{name}: JIT engine, run {i + 1}/{REPEATS}")
        jit_runs.append(run_engine(program, "jit"))
        steps.advance()
    best = _median_run(jit_runs)

    steps.step(f"{name}: interp engine, scaled")
    interp = run_engine(scaled, "interp")
    steps.advance()

    walls: list[float] = []
    for i in range(REPEATS):
        steps.step(f"{name}: python -m recomp run, {i + 1}/{REPEATS}")
        measured = run_process(binary)
        if measured is None:
            steps.advance(REPEATS - i)
            steps.results["notes"].append(f"{name}: `python -m recomp run` failed; wall time is null")
            break
        wall, process_output = measured
        walls.append(wall)
        if c_runs and process_output != c_runs[0].output:
            steps.mismatch(f"{name}: `recomp run` output differs from the C interpreter's")
        steps.advance()

    c_seconds = statistics.median(r.seconds for r in c_runs) if c_runs else None
    if c_runs:
        if any(r.output != c_runs[0].output for r in jit_runs):
            steps.mismatch(f"{name}: JIT output differs from the C interpreter's")
        if any(r.instructions != c_runs[0].instructions for r in jit_runs):
            steps.mismatch(f"{name}: JIT counted {best.instructions} instructions, C counted {c_runs[0].instructions}")
    if c_scaled is not None and interp.output != c_scaled.output:
        steps.mismatch(f"{name}: interp engine output (scaled) differs from the C interpreter's")
    return dict(
        instructions=best.instructions,
        c_seconds=c_seconds,
        c_seconds_runs=[r.seconds for r in c_runs],
        c_mips=_mips(best.instructions, c_seconds),
        jit_compile_seconds=best.compile_seconds,
        jit_run_seconds=best.run_seconds,
        jit_engine_seconds=best.engine_seconds,
        jit_engine_seconds_runs=[r.engine_seconds for r in jit_runs],
        jit_mips=_mips(best.instructions, best.run_seconds),
        speedup_vs_c=c_seconds / best.engine_seconds if c_seconds is not None else None,
        interp_scaled_instructions=interp.instructions,
        interp_scaled_seconds=interp.run_seconds,
        interp_scaled_mips=_mips(interp.instructions, interp.run_seconds),
        process_wall_seconds=statistics.median(walls) if walls else None,
        process_wall_seconds_runs=walls,
        jit_output_matches_c=bool(c_runs) and all(r.output == c_runs[0].output for r in jit_runs),
    )


def _measure_functional(path: Path, cache_dir: Path, steps: _Steps) -> dict[str, Any]:
    """Klaus Dormann's functional test on the JIT, cold (an empty code cache) and warm."""
    from recomp.runtime.code_cache import CodeCache

    image, cache = path.read_bytes(), CodeCache(cache_dir)
    rows = {}
    for tier in ("cold", "warm"):
        steps.step(f"Klaus Dormann's functional test: JIT, {tier}")
        run = run_6502(image, 0, FUNCTIONAL_ENTRY, code_cache=cache)
        rows[tier] = dict(instructions=run.instructions, engine_seconds=run.engine_seconds,
                          compile_seconds=run.compile_seconds, run_seconds=run.run_seconds,
                          compiled=run.compiled, cache_hits=run.cache_hits, success=run.pc == FUNCTIONAL_SUCCESS)
        if run.pc != FUNCTIONAL_SUCCESS:
            steps.mismatch(f"functional test ({tier}): trapped at ${run.pc:04X}, not ${FUNCTIONAL_SUCCESS:04X}")
        steps.advance()
    return rows


def show(results: dict[str, Any], console: Any) -> None:
    """The tables and notes of a benchmark run, on a rich console."""
    from rich.table import Table

    console.print(_table(results, Table))
    console.print(_kernel_table(results, Table))
    if results.get("cc65", {}).get("programs"):
        console.print(_cc65_table(results["cc65"], Table))
    if results["functional"]:
        console.print(_functional_line(results["functional"]))
    if results["startup"]:
        console.print(_startup_line(results["startup"]))
    for what in results["mismatches"]:
        console.print(f"[bold red]OUTPUT MISMATCH: {what}[/]")
    for note in results["notes"]:
        console.print(f"[yellow]note:[/] {note}")


def _new_table(table_class: Any, title: str, caption: str, headers: tuple[str, ...]) -> Any:
    """A table of the bench's plain style, its first column (the names) left-aligned, the figures
    right-aligned."""
    from rich import box

    table = table_class(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                        collapse_padding=True)
    for header in headers:
        table.add_column(header, justify="left" if header == headers[0] else "right", no_wrap=True)
    return table


def _table(results: dict[str, Any], table_class: Any) -> Any:
    """The rich table of ``results``; the class is passed in because rich is imported lazily."""

    def fmt(value: float | None, spec: str, scale: float = 1.0) -> str:
        return "—" if value is None else format(value * scale, spec)

    def compact(value: float | None) -> str:
        return "—" if value is None else f"{value / 1e3:.0f}k" if value >= 1e4 else f"{value:.0f}"

    first = results["first_compile_in_process_seconds"]
    # short headers and values: the table fits an 80-column log; the JSON has the full numbers
    table = _new_table(table_class, "TST27: JIT engine vs a gcc -O2 switch interpreter",
                       f"first compile in process (LLVM start-up): {fmt(first, '.1f', 1e3)} ms; "
                       f"median of {results['repeats']} runs; speed-up target >= {results['target_speedup']:g}x",
                       ("program", "guest\ninsns", "C -O2\ns", "JIT\ncompile\nms", "JIT\nrun ms", "JIT\nengine\nms",
                        "speed-\nup vs C", "JIT\nMIPS", "interp\nMIPS\nscaled", "CLI\nwall s"))
    for name, row in results["programs"].items():
        speedup = row["speedup_vs_c"]
        style = "" if speedup is None else ("green" if speedup >= results["target_speedup"] else "red")
        table.add_row(
            name, f"{row['instructions'] / 1e6:.1f} M", fmt(row["c_seconds"], ".3f"),
            fmt(row["jit_compile_seconds"], ".2f", 1e3), fmt(row["jit_run_seconds"], ".3f", 1e3),
            fmt(row["jit_engine_seconds"], ".2f", 1e3),
            f"[{style}]{fmt(speedup, '.1f')}x[/]" if style else "—",
            compact(row["jit_mips"]), fmt(row["interp_scaled_mips"], ".2f"),
            fmt(row["process_wall_seconds"], ".2f"),
        )
    return table


def _kernel_table(results: dict[str, Any], table_class: Any) -> Any:
    """The 6502 kernels: MIPS on py65, the reference engine and the JIT's tiers."""

    def fmt(value: float | None, spec: str, scale: float = 1.0) -> str:
        return "—" if value is None else format(value * scale, spec)

    table = _new_table(table_class, "6502 kernels: MIPS per engine and tier, against py65",
                       f"engine = compile + run, tiered as `recomp run` (hot code compiled in the background); "
                       f"cold: no compiled code in the cache (the native interpreter is built when recomp is "
                       f"installed, in {results.get('native_interpreter_build_seconds') or 0:.2f} s); warm: the "
                       f"cache the cold run filled; the JIT's figures the best of {REPEATS} runs; "
                       f"py65 over {PY65_INSTRUCTIONS:,} and the reference engine over "
                       f"{INTERP_INSTRUCTIONS:,} instructions; target: cold and warm >= {KERNEL_TARGET:g}x py65",
                       ("kernel", "guest\ninsns", "py65\nMIPS", "interp\nMIPS", "cold\ncompile\nms", "cold\nMIPS",
                        "warm\nMIPS", "warm\nrun\nMIPS", "no-opt\ncold\nMIPS", "cold\nx py65", "warm\nx py65"))
    def against_target(speedup: float | None) -> str:
        if speedup is None:
            return "—"
        return f"[{'green' if speedup >= KERNEL_TARGET else 'red'}]{speedup:.0f}[/]"

    for name, row in results["kernels"].items():
        table.add_row(
            name, f"{row['instructions'] / 1e6:.1f} M", fmt(row["py65_mips"], ".2f"), fmt(row["interp_mips"], ".2f"),
            fmt(row["cold_compile_seconds"], ".0f", 1e3), fmt(row["cold_engine_mips"], ".0f"),
            fmt(row["warm_engine_mips"], ".0f"), fmt(row["warm_run_mips"], ".0f"),
            fmt(row["noopt_engine_mips"], ".0f"), against_target(row["cold_vs_py65"]),
            against_target(row["warm_vs_py65"]),
        )
    return table


def _startup_line(startup: dict[str, float]) -> str:
    """The CLI's start-up figures as one line."""
    return (f"start-up, whole processes, best of {REPEATS}: recomp --version {startup['version_seconds']:.3f} s; "
            f"recomp run hello (72 instructions) cold {startup['hello_cold_seconds']:.3f} s, warm "
            f"{startup['hello_warm_seconds']:.3f} s; targets: 0.08, 0.3 and 0.15 s")


def _functional_line(functional: dict[str, Any]) -> str:
    """Klaus Dormann's functional test, cold and warm, as one line."""
    parts = [f"{tier} {row['engine_seconds']:.2f} s (compile {row['compile_seconds']:.2f} s, "
             f"{row['compiled']} compiled, {row['cache_hits']} from the cache)" for tier, row in functional.items()]
    instructions = next(iter(functional.values()))["instructions"]
    return f"Klaus Dormann's functional test, {instructions / 1e6:.1f} M instructions, engine time: " + "; ".join(parts)


def _cc65_table(cc65: dict[str, Any], table_class: Any) -> Any:
    """The cc65 programs as whole processes: sim65 against recomp cold and warm, with the targets."""

    targets = cc65["targets"]

    def fmt(value: float | None, spec: str, target: float | None = None) -> str:
        if value is None:
            return "—"
        text = format(value, spec)
        return text if target is None else f"[{'green' if value >= target else 'red'}]{text}[/]"

    table = _new_table(table_class, "cc65 C programs: recomp run against sim65, whole processes",
                       f"best of {cc65['repeats']} wall times, start-up included; cold: a fresh, empty code cache "
                       f"each run (the native interpreter is built when recomp is installed); warm: the cache the "
                       f"last cold run filled, once a run on it has filed no new code (settled: the runs before "
                       f"in the JSON); run MIPS: recomp's own run time, warm (no start-up, no compiling; the best of "
                       f"{cc65['repeats']} runs); "
                       f"targets: warm >= {targets['warm_vs_sim65']:g}x sim65, cold >= "
                       f"{targets['cold_vs_sim65']:g}x (the long run: >= {targets['long_cold_vs_sim65']:g}x), "
                       f"run >= {targets['run_mips']:,.0f} MIPS",
                       ("program", "guest\ninsns", "sim65\ns", "cold\ns", "warm\ns", "cold\nx sim65",
                        "warm\nx sim65", "run\nMIPS"))
    for label, row in cc65["programs"].items():
        cold_target = targets["long_cold_vs_sim65" if row["long"] else "cold_vs_sim65"]
        table.add_row(
            f"{label} (long)" if row["long"] else label, f"{row['instructions'] / 1e6:.0f} M",
            fmt(row["sim65_seconds"], ".2f"), fmt(row["cold_seconds"], ".2f"), fmt(row["warm_seconds"], ".2f"),
            fmt(row["cold_vs_sim65"], ".1f", cold_target), fmt(row["warm_vs_sim65"], ".1f", targets["warm_vs_sim65"]),
            fmt(row["run_mips"], ",.0f", targets["run_mips"]),
        )
    return table

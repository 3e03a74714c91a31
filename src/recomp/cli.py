"""The ``recomp`` command: run, inspect, demo and bench.

Program output is the only thing written to stdout by ``run``; everything else (stats, errors)
goes to stderr.  Every user error is one line, ``recomp: error: FILE: ...``, and a non-zero
exit status; no traceback.  Heavy modules (llvmlite, capstone, rich) are imported only by the
commands that use them, to keep start-up fast.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from recomp.frontends import Frontend, UnknownFrontend, get_frontend
from recomp.ir.guest import GuestSpec
from recomp.opt import UnknownPass
from recomp.runtime.code_cache import CodeCache
from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import GuestFault, RecompError
from recomp.runtime.result import RunResult, Stop
from recomp.runtime.state import UNLIMITED

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings=HELP_OPTIONS,
                  help="recomp: a dynamic recompiler (guest code -> icode -> LLVM -> host code).")


class Interrupted(Exception):
    """Ctrl-C stopped a command; the message says where (``recomp: interrupted at ...``)."""


def _show_version(show: bool) -> None:
    if show:
        from recomp import __version__

        print(f"recomp {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version, help="print the version and exit")] = False) -> None:
    """recomp: a dynamic recompiler (guest code -> icode -> LLVM -> host code)."""

EXIT_LIMIT = 3  # --max-instructions reached


class Engine(StrEnum):
    jit = "jit"
    interp = "interp"


class Stage(StrEnum):
    guest = "guest"
    icode = "icode"
    opt = "opt"
    llvm = "llvm"
    host = "host"
    all = "all"


def fail(message: str, status: int = 1) -> NoReturn:
    print(f"recomp: error: {message}", file=sys.stderr)
    raise typer.Exit(status)


def parse_address(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an address (decimal, or hex with 0x)") from None


def find_frontend(name: str) -> Frontend:
    try:
        return get_frontend(name)
    except UnknownFrontend as error:
        fail(str(error), 2)


def make_emulator(frontend: Frontend, engine: Engine, no_opt: bool, passes: str | None, path: Path,
                  **kwargs) -> Emulator:
    try:
        names = [p.strip() for p in passes.split(",") if p.strip()] if passes is not None else None
        if names is not None:
            from recomp.opt import check_passes

            check_passes(names)
        return Emulator(frontend, engine=engine.value, optimize=not no_opt, passes=names, **kwargs)
    except UnknownPass as error:
        fail(str(error), 2)
    except RecompError as error:  # devices that do not fit the machine
        fail(f"{path}: {error}", error.exit_status)


MAX_SOURCE_BYTES = 1 << 24  # assembly text larger than this is not a program for any guest here


def read_program(emulator: Emulator, path: Path, load: int = 0) -> None:
    """Read a program file into guest memory (``.s`` files are assembled first), never reading
    more than could fit: a file's size is checked before it is read, and a stream (a pipe, a
    device such as /dev/zero) is read no further than one byte past what fits."""
    assembler = emulator.frontend.assemble if path.suffix == ".s" else None
    room = emulator.guest.memory_size - load
    limit = MAX_SOURCE_BYTES if assembler is not None else room
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            size = info.st_size if stat.S_ISREG(info.st_mode) else None
            data = file.read(limit + 1) if size is None or size <= limit else b""
    except OSError as error:
        fail(f"{path}: cannot read: {error.strerror or error}")
    if (size or len(data)) > limit:
        length = f"{size} bytes" if size is not None else f"more than {limit} bytes"
        fits = (f"only {room} fit in memory from {load:#06x}" if assembler is None
                else f"assembly sources are at most {limit}")
        fail(f"{path}: the program is {length}; {fits}")
    if assembler is not None:
        try:
            data = assembler(data.decode("utf-8", "replace"))
        except ValueError as error:
            fail(f"{path}: {error}")
    try:
        emulator.load(data, at=load)
    except RecompError as error:
        fail(f"{path}: {error}")


FrontendOpt = Annotated[str, typer.Option("--frontend", "-f", help="guest CPU: tst27 or 6502")]
EngineOpt = Annotated[Engine, typer.Option(help="jit (LLVM) or interp (the reference engine)")]
NoOptOpt = Annotated[bool, typer.Option("--no-opt", help="skip the icode optimizer")]
PassesOpt = Annotated[str | None, typer.Option(help="comma-separated optimizer passes to run, in order")]
ProgramArg = Annotated[Path, typer.Argument(help="program image (.bin), or assembly (.s)")]
LoadOpt = Annotated[str, typer.Option("--load", help="guest address the file is loaded at")]
AddressOpt = Annotated[str | None, typer.Option()]


def guest_address(guest: GuestSpec, text: str | None, option: str, path: Path) -> int | None:
    """An address option, checked against the guest's memory."""
    if text is None:
        return None
    addr = parse_address(text)
    size = guest.memory_size
    if not 0 <= addr < size:
        fail(f"{path}: {option} {text} is outside memory (0..{size - 1:#x})")
    return addr


def entry_point(emulator: Emulator) -> int:
    """Where execution starts by default: after a reset (the reset vector, for guests that have one)."""
    emulator.machine.reset()
    return emulator.state.pc


@app.command()
def run(
    program: ProgramArg,
    frontend: FrontendOpt = "tst27",
    engine: EngineOpt = Engine.jit,
    no_opt: NoOptOpt = False,
    passes: PassesOpt = None,
    load: LoadOpt = "0",
    entry: Annotated[str | None, typer.Option(help="start address (default: reset vector, or 0)")] = None,
    max_instructions: Annotated[int | None, typer.Option(min=0, max=UNLIMITED, help="stop after this many")] = None,
    stop_on_trap: Annotated[bool, typer.Option(
        "--stop-on-trap", help="stop after an instruction that jumps or branches to itself")] = False,
    until: Annotated[str | None, typer.Option(help="stop before executing this address")] = None,
    expect_pc: Annotated[str | None, typer.Option(
        help="exit status 0 only if execution stopped at this address")] = None,
    putc: Annotated[str | None, typer.Option(help="console output address (6502: 0xF001)")] = None,
    getc: Annotated[str | None, typer.Option(help="console input address (6502: 0xF004)")] = None,
    timer: Annotated[str | None, typer.Option(help="map an interval timer (IRQ) at this address")] = None,
    stats: Annotated[bool, typer.Option("--stats", help="print a stats table on stderr")] = False,
    stats_json: Annotated[Path | None, typer.Option(help="write stats as JSON to this file")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="neither use nor fill the persistent code cache")] = False,
) -> None:
    """Run a guest program; its output goes to stdout."""
    guest_cpu = find_frontend(frontend)
    addresses = {name: guest_address(guest_cpu.guest, text, f"--{name.replace('_', '-')}", program)
                 for name, text in (("load", load), ("entry", entry), ("until", until), ("expect_pc", expect_pc),
                                    ("putc", putc), ("getc", getc), ("timer", timer))}
    console = guest_cpu.guest.console
    if console is not None:
        console = (addresses["putc"] if putc is not None else console[0],
                   addresses["getc"] if getc is not None else console[1])
    code_cache = None if no_cache or engine != Engine.jit else trusted_cache()
    emulator = make_emulator(guest_cpu, engine, no_opt, passes, program, console=console, timer=addresses["timer"],
                             code_cache=code_cache)
    read_program(emulator, program, addresses["load"])
    emulator.state.pc = addresses["entry"] if entry is not None else entry_point(emulator)
    status, error, note = 0, None, None
    try:
        result = emulator.run(max_instructions=max_instructions, until_pc=addresses["until"],
                              stop_on_trap=stop_on_trap)
    except GuestFault as fault:
        result = RunResult(Stop.FAULT, fault.addr, emulator.instructions)
        status, error = fault.exit_status, f"{program}: {fault}"
    except RecompError as problem:
        result = RunResult(Stop.ERROR, emulator.state.pc, emulator.instructions)
        status, error = problem.exit_status, f"{program}: {problem}"
    except KeyboardInterrupt:
        flush_stdout()
        where = emulator.frontend.format_address(emulator.state.pc)
        raise Interrupted(f"interrupted at {where} after {emulator.instructions} instructions") from None
    where = emulator.frontend.format_address(result.pc)
    if result.exit == Stop.MAX_INSTRUCTIONS:
        status = EXIT_LIMIT
        error = (f"{program}: stopped at {where} after {result.instructions} instructions "
                 f"(--max-instructions {max_instructions} reached)")
    elif result.exit in (Stop.TRAP, Stop.UNTIL):
        note = f"recomp: {result.exit} at {where} after {result.instructions} instructions"
    if expect_pc is not None and not error and result.pc != addresses["expect_pc"]:
        status = 1
        error = (f"{program}: stopped at {where}, expected "
                 f"{emulator.frontend.format_address(addresses['expect_pc'])}")
    if not flush_stdout() and not error:
        status, error = 1, f"{program}: cannot write output"
    report = run_report(emulator, result)
    if note:
        print(note, file=sys.stderr)
    if stats:
        print_stats(report)
    if stats_json is not None:
        try:
            stats_json.write_text(json.dumps(report, indent=2) + "\n")
        except OSError as problem:
            fail(f"{stats_json}: cannot write: {problem.strerror or problem}")
    if error:
        fail(error, status)


def trusted_cache() -> CodeCache | None:
    """The user's code cache, or None (with one warning line) if it is not to be trusted."""
    cache = CodeCache()
    problem = cache.problem()
    if problem is None:
        return cache
    print(f"recomp: warning: not using the code cache {cache.root}: {problem} "
          f"(`recomp cache clear` removes it)", file=sys.stderr)
    return None


def flush_stdout() -> bool:
    """Flush the program's output; if that fails (closed, a full disk), drop what is left so that
    Python's own flush at exit adds no second error.  Whether it worked."""
    if sys.stdout is None:
        return True
    try:
        sys.stdout.flush()
        return True
    except (OSError, ValueError):
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            sys.stdout = None
        return False


def run_report(emulator: Emulator, result: RunResult) -> dict:
    """Where the run ended, and every counter of ``Stats`` but the optimizer's per-pass table."""
    counters = {name: value for name, value in asdict(emulator.stats).items() if name != "opt"}
    return {
        "instructions": emulator.instructions,
        "cycles": emulator.cycles if emulator.guest.has_cycles else None,
        "exit": str(result.exit),
        "pc": result.pc,
        **counters,
    }


def print_stats(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="recomp run", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in report.items():
        text = f"{value:.6f}" if isinstance(value, float) else "-" if value is None else str(value)
        table.add_row(key, f"{value:#06x}" if key == "pc" else text)
    for label, seconds in (("guest MIPS (run)", report["run_seconds"]),
                           ("guest MIPS (compile + run)", report["run_seconds"] + report["compile_seconds"])):
        if seconds > 0:
            table.add_row(label, f"{report['instructions'] / seconds / 1e6:,.1f}")
    Console(stderr=True).print(table)


@app.command()
def inspect(
    program: ProgramArg,
    frontend: FrontendOpt = "tst27",
    stage: Annotated[Stage, typer.Option(help="which stage of the pipeline to show")] = Stage.all,
    load: LoadOpt = "0",
    at: Annotated[str | None, typer.Option(help="guest address of the region (default: entry)")] = None,
    no_opt: NoOptOpt = False,
    passes: PassesOpt = None,
    plain: Annotated[bool, typer.Option("--plain", help="no colours or decoration")] = False,
    guards: Annotated[bool, typer.Option("--guards", help="compile with instruction-budget checks, "
                                         "as run --max-instructions does")] = False,
    entry: Annotated[str | None, typer.Option(help="with --explore: where to start (default: entry)")] = None,
    explore: Annotated[bool, typer.Option("--explore", help="lift all code reachable from the entry "
                                          "and count what the optimizer removes")] = False,
    stats_json: Annotated[Path | None, typer.Option(help="with --explore: write the counts here")] = None,
) -> None:
    """Show one region at every stage: guest code, icode, optimized icode, LLVM IR, host code."""
    from recomp.inspection import STAGES, inspect_region

    guest_cpu = find_frontend(frontend)
    emulator = make_emulator(guest_cpu, Engine.jit, no_opt, passes, program, console=None)
    read_program(emulator, program, guest_address(guest_cpu.guest, load, "--load", program))
    if explore:
        explore_program(emulator, guest_address(guest_cpu.guest, entry, "--entry", program), stats_json)
        return
    address = guest_address(guest_cpu.guest, at, "--at", program)
    view = inspect_region(emulator, entry_point(emulator) if address is None else address, guards)
    stages = STAGES if stage == Stage.all else (stage.value,)
    plain = plain or not sys.stdout.isatty()
    for name in stages:
        text = view.stage(name)
        if plain:
            if len(stages) > 1:
                print(f";; ---- {name} ----")
            sys.stdout.write(text)
        else:
            show(name, text)


def explore_program(emulator: Emulator, entry: int | None, stats_json: Path | None) -> None:
    from recomp.inspection import explore

    counts = explore(emulator, entry_point(emulator) if entry is None else entry)
    for key, value in counts.items():
        if key != "passes":
            print(f"{key:20} {value}")
    for name, removed in counts["passes"].items():
        print(f"pass {name:15} " + ", ".join(f"{k} {v}" for k, v in removed.items()))
    if stats_json is not None:
        try:
            stats_json.write_text(json.dumps(counts, indent=2) + "\n")
        except OSError as problem:
            fail(f"{stats_json}: cannot write: {problem.strerror or problem}")


def show(stage: str, text: str) -> None:
    from rich.console import Console
    from rich.rule import Rule
    from rich.syntax import Syntax

    from recomp.inspection import LEXERS

    console = Console()
    console.print(Rule(stage))
    console.print(Syntax(text, LEXERS[stage], theme="monokai", background_color="default"))


cache_app = typer.Typer(no_args_is_help=True, context_settings=HELP_OPTIONS,
                        help="The persistent code cache ($XDG_CACHE_HOME/recomp).")
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info() -> None:
    """Where the code cache is, whether it is trusted, and what it holds."""
    info = CodeCache().info()
    if info.problem is not None:
        print(f"{info.root}: not trusted, so not used: {info.problem} (`recomp cache clear` removes it)")
        return
    print(f"{info.root}: trusted (owner-only, records authenticated); {info.records} compiled regions, "
          f"{info.bytes / 1024:.1f} KiB, {info.contexts} contexts (recomp builds, CPUs and option sets)")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every compiled region from the code cache."""
    cache = CodeCache()
    try:
        count = cache.clear()
    except OSError as problem:
        fail(f"{cache.root}: cannot clear: {problem.strerror or problem}")
    print(f"{cache.root}: removed {count} compiled regions")


@app.command()
def demo() -> None:
    """Run the TST27 demo programs on both engines and compare their speed."""
    from recomp.demo import run_demo

    run_demo()


@app.command()
def bench(
    json_out: Annotated[Path | None, typer.Option("--json", help="write results here")] = None,
    functional_test: Annotated[Path | None, typer.Option(
        help="Klaus Dormann's 6502_functional_test.bin (default: $RECOMP_TESTDATA/6502/, "
             "$RECOMP_TESTDATA defaulting to ../shared/testdata)")] = None,
) -> None:
    """Benchmark the engines against a C interpreter (gcc -O2) and the 6502 kernels against py65."""
    from recomp.bench import run_benchmarks

    run_benchmarks(str(json_out) if json_out else None, functional_test=functional_test)


def main() -> None:
    """The ``recomp`` command.  Usage errors are one line too (``recomp: error: ...``, status 2);
    Ctrl-C ends a command with status 130 and says so."""
    try:
        status = app(standalone_mode=False)
    except typer.TyperException as error:
        message = error.format_message()
        if message:  # (none when the command line is empty: the help was shown)
            print(f"recomp: error: {message}", file=sys.stderr)
        sys.exit(error.exit_code)
    except Interrupted as interruption:
        print(f"recomp: {interruption}", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        status = 130
    if status == 130:
        print("recomp: interrupted", file=sys.stderr)
    sys.exit(status or 0)


if __name__ == "__main__":
    main()

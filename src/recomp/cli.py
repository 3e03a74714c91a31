"""The ``recomp`` command: run, inspect, demo and bench.

Program output is the only thing written to stdout by ``run``; everything else (stats, errors)
goes to stderr.  Every user error is one line, ``recomp: error: FILE: ...``, and a non-zero
exit status; no traceback.  Heavy modules (llvmlite, capstone, rich) are imported only by the
commands that use them, to keep start-up fast.  (Annotations are not postponed here: typer reads
every command's at each start, and evaluating them from strings took 6 ms of it.)
"""

import json
import os
import stat
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, NoReturn

import typer
from typer.core import TyperCommand

from recomp.frontends import Frontend, UnknownFrontend, get_frontend
from recomp.ir.guest import GuestSpec
from recomp.machines.loaders import SIM65_SIGNATURE, Format
from recomp.machines.pacing import MAX_MHZ

if TYPE_CHECKING:
    from recomp.debug.symbols import Symbols
    from recomp.machines.base import MachineType, Settings
    from recomp.machines.boot import Boot
    from recomp.runtime.code_cache import CodeCache
    from recomp.runtime.emulator import Emulator
    from recomp.runtime.trace import Traced
from recomp.runtime.addresses import AddressError, address
from recomp.runtime.errors import FileError, GuestFault, RecompError
from recomp.runtime.result import RunResult, Stop
from recomp.runtime.state import UNLIMITED
from recomp.runtime.trace import MAX_TRACE
from recomp.runtime.user_files import cannot
from recomp.runtime.watchpoints import check_watch

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
# (help as click writes it: each option's syntax whole at any width, and no rich to import)
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings=HELP_OPTIONS, rich_markup_mode=None,
                  help="recomp: a dynamic recompiler (guest code -> icode -> LLVM -> host code).")


class Interrupted(Exception):
    """Ctrl-C stopped a command; the message says where (``recomp: interrupted at ...``)."""


ARGUMENT_MACHINES = ("sim65",)  # the machines whose programs take arguments (their ``reads`` hold "args")


class ProgramCommand(TyperCommand):
    """A command that loads a PROGRAM (run, mon).  After a program that takes arguments (a sim65
    image, or any program on --machine sim65) every word is the program's, options included, as
    sim65 and python read their command lines (a ``--`` right after it is dropped, as before);
    after any other program, which takes none, recomp's options may follow it too."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        probe = self.make_parser(ctx)
        probe.allow_interspersed_args = False
        try:
            options = probe.parse_args(list(args))[0]
        except typer.TyperException:  # (the parse proper reports it)
            options = {}
        strict = takes_arguments(options.get("machine"), options.get("program"))
        ctx.allow_interspersed_args = not strict
        rest = super().parse_args(ctx, args)
        words = ctx.params.get("args") or ()
        if strict and words[:1] == ("--",):
            ctx.params["args"] = words[1:]
        return rest


def takes_arguments(machine: str | None, program: str | None) -> bool:
    """Whether a program gets the words after it: on a machine that takes arguments, or (no
    machine named) as a sim65 image, which runs on sim65.  Only a regular file is looked into
    (a pipe's first bytes are the program's)."""
    if machine is not None or program is None:
        return machine in ARGUMENT_MACHINES
    try:
        if not stat.S_ISREG(os.stat(program).st_mode):
            return False
        with open(program, "rb") as file:
            return file.read(len(SIM65_SIGNATURE)) == SIM65_SIGNATURE
    except OSError:
        return False


def _show_version(show: bool) -> None:
    if show:
        from recomp import __version__

        print(f"recomp {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_show_version, help="print the version and exit")] = False) -> None:
    """recomp: a dynamic recompiler (guest code -> icode -> LLVM -> host code)."""

EXIT_LIMIT = 3  # --max-instructions or --max-cycles reached (sim65 -x exits with 126)
MAX_ICODE_BYTES = 1 << 24  # an icode file larger than this is no region


class Engine(StrEnum):
    jit = "jit"
    interp = "interp"


class Log(StrEnum):
    regions = "regions"


class Stage(StrEnum):
    guest = "guest"
    icode = "icode"
    opt = "opt"
    llvm_raw = "llvm-raw"
    llvm = "llvm"
    host = "host"
    all = "all"


def fail(message: str, status: int = 1) -> NoReturn:
    print(f"recomp: error: {message}", file=sys.stderr)
    raise typer.Exit(status)


def refuse(message: str, status: int) -> NoReturn:
    """``fail`` for what a session goes on after (the monitor's): the error, raised."""
    from recomp.runtime.errors import ConfigError

    raise ConfigError(message)


def parse_address(text: str) -> int:
    try:
        return address(text)
    except AddressError as error:
        raise typer.BadParameter(str(error)) from None


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """A parser of a whole number option: plain ASCII digits (Python's int() also takes other
    scripts' digits), from ``low`` to ``high``."""
    def parse(text: str | int) -> int:
        if isinstance(text, int):  # (the default)
            return text
        body = text.strip()
        digits = body[1:] if body[:1] in "+-" else body
        if not (digits.isascii() and digits.isdigit()):
            raise typer.BadParameter(f"{text!r} is not a whole number")
        value = int(body)
        if not low <= value <= high:
            raise typer.BadParameter(f"{value} is not from {low:,} to {high:,}")
        return value
    return parse


def real_number(low: float, high: float) -> Callable[[str], float]:
    """A parser of a number option with a fraction (``1.5``, ``2e3``): finite, ASCII, from
    ``low`` to ``high``."""
    def parse(text: str | float) -> float:
        if isinstance(text, float | int):  # (the default)
            return float(text)
        try:
            if not text.isascii():
                raise ValueError
            value = float(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a number") from None
        if not low <= value <= high:  # (also refuses nan and inf)
            raise typer.BadParameter(f"{text} is not from {low:g} to {high:g}")
        return value
    return parse


def find_frontend(name: str) -> Frontend:
    try:
        return get_frontend(name)
    except UnknownFrontend as error:
        fail(str(error), 2)


def optimizer_passes(passes: str | None) -> list[str] | None:
    names = [p.strip() for p in passes.split(",") if p.strip()] if passes is not None else None
    if names is not None:
        from recomp.opt import UnknownPass, check_passes

        try:
            check_passes(names)
        except UnknownPass as error:
            fail(str(error), 2)
    return names


FrontendOpt = Annotated[str | None, typer.Option(
    "--cpu", "--frontend", "-f", metavar="CPU", help="guest CPU: 6502 (the NMOS chip, every opcode; the default), "
    "6502-documented (an undocumented opcode is an error), 65c02 (WDC; the default for cl65 -t sim65c02 images), "
    "or tst27 (the default for TST27 .s assembly)")]
SymbolsOpt = Annotated[list[Path] | None, typer.Option(
    "--symbols", metavar="FILE", help="symbols from a VICE label file (ld65 -Ln) or ld65 debug info (cl65 -g -Wl "
    "--dbgfile,FILE): names and C lines (prog.c:12) as addresses, shown beside them (repeatable)")]
EngineOpt = Annotated[Engine, typer.Option(metavar="jit|interp", help="jit (LLVM) or interp (the reference engine)")]
NoOptOpt = Annotated[bool, typer.Option("--no-opt", help="skip the icode optimizer")]
PassesOpt = Annotated[str | None, typer.Option(
    metavar="PASS[,PASS...]", help="comma-separated optimizer passes to run, in order")]
ProgramArg = Annotated[Path, typer.Argument(
    metavar="PROGRAM", help="a raw image, .prg, Intel HEX, sim65 image, or TST27 assembly (.s)")]
ArgsArg = Annotated[list[str] | None, typer.Argument(
    metavar="ARGS...", help="the program's arguments (sim65), options included: every word after a sim65 "
    "PROGRAM is its own, so recomp's options go before it")]
LoadOpt = Annotated[list[str] | None, typer.Option(
    "--load", metavar="ADDR|FILE@ADDR", help="where the program is loaded; or load another file there (repeatable)")]
TimerOpt = Annotated[str | None, typer.Option(metavar="ADDR", help="map an interval timer (IRQ) at this address")]
AciaOpt = Annotated[str | None, typer.Option(
    metavar="ADDR", help="map a 6551 ACIA (serial port on stdin/stdout) here")]
HookOpt = Annotated[list[str] | None, typer.Option(
    metavar="ADDR=ACTION", help="do a ROM routine in Python at ADDR; ACTION is putc, getc, getc-nowait, exit or rts "
    "(repeatable)")]
RomOpt = Annotated[list[str] | None, typer.Option(metavar="FILE@ADDR", help="read-only memory (repeatable)")]
PokeOpt = Annotated[list[str] | None, typer.Option(metavar="ADDR=BYTE[,BYTE...]", help="set memory (repeatable)")]
PutcOpt = Annotated[str | None, typer.Option(metavar="ADDR", help="console output address (6502: $F001)")]
GetcOpt = Annotated[str | None, typer.Option(metavar="ADDR", help="console input address (6502: $F004)")]
FormatOpt = Annotated[Format | None, typer.Option(
    "--format", metavar="|".join(Format), help="the program's format (default: by content)")]


def guest_address(guest: GuestSpec, text: str | None, option: str, symbols: "Symbols | None" = None) -> int | None:
    """An address option ($C000, 0xC000 or decimal; with ``symbols``, also a symbol, ``name+N``
    or a C line ``file.c:12``), checked against the guest's memory."""
    if text is None:
        return None
    addr = symbol_address(symbols, text, option) if symbols else None
    if addr is None:
        addr = parse_address(text)
    size = guest.memory_size
    if not 0 <= addr < size:
        fail(f"{option} {text} is outside memory (0..{size - 1:#x})", 2)
    return addr


def symbol_address(symbols: "Symbols", text: str, option: str) -> int | None:
    """The address a symbol names (None: it is no symbol; a number, perhaps)."""
    from recomp.debug.symbols import SymbolError

    try:
        return symbols.find(text)
    except SymbolError as error:
        fail(f"{option} {error}", 2)


def read_symbols(paths: list[Path] | None) -> "Symbols | None":
    """``--symbols FILE`` (repeatable): VICE label files and ld65 debug info, told apart by
    content; None without any."""
    if not paths:
        return None
    from recomp.debug.symbols import SymbolError, Symbols

    symbols = Symbols()
    for path in paths:
        try:
            symbols.load(path)
        except SymbolError as error:
            fail(str(error), 1)
    return symbols


def split_at(text: str, option: str, guest: GuestSpec) -> tuple[str, int]:
    """``FILE@ADDR`` (``--load``, ``--rom``) or ``ADDR=VALUE`` (``--poke``, ``--hook``): the file
    or value, and the address."""
    if option in ("--load", "--rom"):
        value, found, where = text.rpartition("@")
    else:
        where, found, value = text.partition("=")
    if not found or not value:
        fail(f"{option} {text}: expected {'FILE@ADDR' if option in ('--load', '--rom') else 'ADDR=VALUE'}", 2)
    return value, guest_address(guest, where, option)


def parse_bytes(text: str, option: str) -> bytes:
    try:
        values = [address(part) for part in text.split(",")]
    except AddressError:
        fail(f"{option}: {text!r} is not a list of bytes ($FF, 0xFF or decimal, comma-separated)", 2)
    if not all(0 <= v <= 0xFF for v in values):
        fail(f"{option}: {text!r}: bytes are 0..255", 2)
    return bytes(values)


# normal ends that are reported on stderr, and how
NOTED_STOPS = {Stop.TRAP: "trap", Stop.UNTIL: "until", Stop.BREAKPOINT: "breakpoint",
               Stop.INPUT_EXHAUSTED: "input exhausted"}

EXIT_STATUSES = """Exit status: 0 when the program ends (it halts, traps with --stop-on-trap, reaches --until
or a --break address, or its input is exhausted); the program's own status when it exits (sim65, an exit hook);
1 for a file that cannot be loaded (or looks like no program: a source file, text, another CPU's code), a file or
output that cannot be written, or a wrong --expect-pc; 2 for a usage error; 3 when --max-instructions or
--max-cycles is reached; 4 when the guest reaches an instruction it cannot execute, runs a BRK that jumps to itself
(empty memory), or would start where nothing was loaded; 130 when interrupted (Ctrl-C)."""


@app.command(cls=ProgramCommand, help=f"Run a guest program; its output goes to stdout.\n\n{EXIT_STATUSES}")
def run(
    program: Annotated[Path | None, typer.Argument(
        metavar="PROGRAM", help="a raw image, .prg, Intel HEX, sim65 image, or TST27 assembly (.s)")] = None,
    args: ArgsArg = None,
    machine: Annotated[str | None, typer.Option(
        "--machine", "-m", metavar="NAME", help="the machine: bare (default), sim65 (default for sim65 images), "
                                                "apple1, easy6502 (`recomp machines` lists them)")] = None,
    frontend: FrontendOpt = None,
    symbol_files: SymbolsOpt = None,
    engine: EngineOpt = Engine.jit,
    no_opt: NoOptOpt = False,
    passes: PassesOpt = None,
    file_format: FormatOpt = None,
    load: LoadOpt = None,
    rom: RomOpt = None,
    poke: PokeOpt = None,
    entry: Annotated[str | None, typer.Option(
        metavar="ADDR", help="start address (default: the image's, the machine's, else the reset vector)")] = None,
    max_instructions: Annotated[int | None, typer.Option(
        metavar="N", parser=whole_number(0, UNLIMITED),
        help="stop after this many instructions (exit status 3)")] = None,
    max_cycles: Annotated[int | None, typer.Option(
        "--max-cycles", "-x", metavar="N", parser=whole_number(0, UNLIMITED),
        help="stop after this many cycles, at the first instruction boundary at or past them, as sim65 -x "
             "(exit status 3)")] = None,
    stop_on_trap: Annotated[bool, typer.Option(
        "--stop-on-trap", help="stop after an instruction that jumps or branches to itself")] = False,
    until: Annotated[str | None, typer.Option(metavar="ADDR", help="stop before executing this address")] = None,
    watch: Annotated[list[str] | None, typer.Option(
        metavar="ADDR[-ADDR][:r|w|rw][=VALUE]", help="stop right after an instruction that writes (default) or "
        "reads this memory (that value), with a report (repeatable; full speed until it hits)")] = None,
    breakpoint: Annotated[list[str] | None, typer.Option(
        "--break", metavar="ADDR", help="stop before executing this address, wherever the run is (repeatable)")] = None,
    expect_pc: Annotated[str | None, typer.Option(
        metavar="ADDR", help="exit status 0 only if execution stopped at this address")] = None,
    putc: PutcOpt = None,
    getc: GetcOpt = None,
    timer: TimerOpt = None,
    acia: AciaOpt = None,
    hook: HookOpt = None,
    sandbox: Annotated[Path | None, typer.Option(
        metavar="DIR", help="sim65: the folder guest files are confined to (default: the working directory, unless "
             "it holds recomp's own files, such as your home folder with the code cache: then the guest has no "
             "files)")] = None,
    keep_running: Annotated[bool, typer.Option(
        "--keep-running", help="at the end of input, reads find no key instead of ending the run")] = False,
    mhz: Annotated[float | None, typer.Option(metavar="MHZ", parser=real_number(0.001, MAX_MHZ), help=(
        f"run at this clock speed in MHz, up to {MAX_MHZ:,} (default: flat out)"))] = None,
    fps: Annotated[float | None, typer.Option(
        metavar="N", parser=real_number(1, 1000), help="easy6502: frames per second (1 to 1000; default 30)")] = None,
    keys: Annotated[Path | None, typer.Option(
        metavar="FILE", help="easy6502: key script, one key per frame (headless)")] = None,
    screen_dump: Annotated[Path | None, typer.Option(
        metavar="FILE", help="easy6502: write the final screen here as text")] = None,
    seed: Annotated[int | None, typer.Option(
        metavar="N", parser=whole_number(0, (1 << 64) - 1), help="easy6502: seed of the random byte at $FE")] = None,
    dump: Annotated[list[str] | None, typer.Option(
        metavar="ADDR[:LEN]", help="print memory at the end of the run on stderr (repeatable)")] = None,
    trace: Annotated[Path | None, typer.Option(
        metavar="FILE", help="write every executed instruction to this file: count, cycles, pc, bytes, disassembly, "
             "registers (about 100,000 lines a second: writing them is the cost)")] = None,
    trace_last: Annotated[int, typer.Option(
        metavar="N", parser=whole_number(0, MAX_TRACE), help=f"keep the last N instructions (up to {MAX_TRACE:,}) "
                                                f"and print them on stderr if the run ends with an error, a trap "
                                                f"other than --expect-pc, or a wrong --expect-pc")] = 0,
    regs: Annotated[bool, typer.Option("--regs", help="print the registers at the end of the run on stderr")] = False,
    cycles: Annotated[bool, typer.Option(
        "--cycles", "-c", help="print the cycle count on stderr, as sim65 -c")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="say what was loaded where, the machine, the CPU and the start on stderr, as "
                                "sim65 -v")] = False,
    stats: Annotated[bool, typer.Option("--stats", help="print a stats table on stderr (after waiting for "
                                                        "the code compiling in the background)")] = False,
    stats_json: Annotated[Path | None, typer.Option(
        metavar="FILE", help="write stats as JSON to this file (as --stats)")] = None,
    profile: Annotated[bool, typer.Option(
        "--profile", help="print where the run spent its instructions and cycles, by function (with --symbols) "
                          "or region, on stderr")] = False,
    profile_json: Annotated[Path | None, typer.Option(
        metavar="FILE", help="write that profile as JSON to this file")] = None,
    log: Annotated[Log | None, typer.Option(
        "--log", metavar="regions", help="each compilation, promotion, invalidation and cache load on stderr, "
                                         "timed (as --stats)")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="neither use nor fill the persistent code cache")] = False,
) -> None:
    from recomp.machines.base import Settings
    from recomp.machines.boot import choose_frontend

    cpu = find_frontend(choose_frontend(program, frontend))
    guest = cpu.guest
    if max_cycles is not None and not guest.has_cycles:
        fail(f"--max-cycles: the {cpu.name} counts no cycles", 2)
    boot = placement(guest, program, file_format, load or [], rom or [], poke or [], entry)
    if program is None and not boot.files:
        fail("no program: give a PROGRAM, or files with --load FILE@ADDR or --rom FILE@ADDR", 2)
    name = program if program is not None else boot.files[0].path
    settings = Settings(errors=sys.stderr, args=[str(name), *(args or [])], sandbox=sandbox, keep_running=keep_running,
                        console=console_at(guest, putc, getc), fps=fps, keys=keys, screen_dump=screen_dump,
                        seed=seed, mhz=mhz, **added_devices(guest, timer, acia, hook))
    symbols = read_symbols(symbol_files)
    until_at = guest_address(guest, until, "--until", symbols)
    expect_at = guest_address(guest, expect_pc, "--expect-pc", symbols)
    dumps = memory_spans(guest, dump or [], symbols)
    breakpoints = [guest_address(guest, text, "--break", symbols) for text in breakpoint or []]
    watches = [parse_watch(guest, text, symbols) for text in watch or []]
    chosen, emulator = prepare(cpu, frontend is not None, machine, boot, settings, engine, no_opt, passes, no_cache)
    if verbose:
        print(loaded_line(chosen, emulator, boot), file=sys.stderr)
    for addr in breakpoints:
        emulator.breakpoints.add(addr)
    if log == Log.regions:
        emulator.stats.log = timed_log()
    for first, last, on, value in watches:
        emulator.watch(first, last, on, value)
    name_of = symbols.describe if symbols else no_name
    if profile or profile_json is not None:
        emulator.start_profile()
    trace_file = start_trace(emulator, trace, trace_last, name_of)
    stats_file = None if stats_json is None else opened_to_write(stats_json)  # (a path that fails, before the run)
    status, error, note = 0, None, None
    try:
        result = chosen.run(emulator, settings, max_instructions=max_instructions, until_pc=until_at,
                            stop_on_trap=stop_on_trap, max_cycles=max_cycles)
    except GuestFault as fault:
        from recomp.machines.boot import misfit_hint

        result = RunResult(Stop.FAULT, fault.addr, emulator.instructions)
        hint = misfit_hint(program, emulator)  # (text run as code, say)
        status, error = (1, hint) if hint else (fault.exit_status, f"{name}: {fault}")
    except RecompError as problem:
        result = RunResult(Stop.ERROR, emulator.state.pc, emulator.instructions)
        status, error = problem.exit_status, str(problem) if isinstance(problem, FileError) else f"{name}: {problem}"
    except KeyboardInterrupt:
        flush_stdout()
        where = emulator.frontend.format_address(emulator.state.pc)
        raise Interrupted(f"interrupted at {where} after {emulator.instructions} instructions") from None
    where = place(emulator, name_of, result.pc)
    if result.exit == Stop.MAX_INSTRUCTIONS:
        status = EXIT_LIMIT
        error = (f"{name}: stopped at {where} after {result.instructions} instructions "
                 f"(--max-instructions {max_instructions} reached)")
    elif result.exit == Stop.MAX_CYCLES:
        status = EXIT_LIMIT
        error = (f"{name}: stopped at {where} after {chosen.reported_cycles(emulator)} cycles "
                 f"(--max-cycles {max_cycles} reached)")
    elif result.exit == Stop.WATCHPOINT:
        hit = result.watch
        note = (f"recomp: watchpoint: {hit.access} of ${hit.value:02X} at {place(emulator, name_of, hit.addr)} by "
                f"the instruction at {place(emulator, name_of, hit.pc)}; stopped at {where} after "
                f"{result.instructions} instructions")
    elif result.exit in NOTED_STOPS:
        note = f"recomp: {NOTED_STOPS[result.exit]} at {where} after {result.instructions} instructions"
    elif result.exit == Stop.EXIT and result.status is not None:
        status = result.status & 0xFF  # (as a process's exit status)
    if expect_pc is not None and not error and result.pc != expect_at:
        status = 1
        error = f"{name}: stopped at {where}, expected {emulator.frontend.format_address(expect_at)}"
    if not flush_stdout() and not error:
        status, error = 1, f"{name}: cannot write output"
    unwritten = trace_file.close() if trace_file is not None else None
    if unwritten and not error:
        status, error = 1, unwritten
    unexpected = error or (result.exit == Stop.TRAP and expect_pc is None and not stop_on_trap)
    if trace_last and unexpected and emulator.tracing is not None:
        from recomp.inspection import trace_line

        print(f"recomp: the last {len(emulator.tracing)} instructions:", file=sys.stderr)
        for entry in emulator.tracing:
            print(trace_line(emulator, entry, emulator.tracing.names, name_of), file=sys.stderr)
    if stats or stats_file is not None or log:  # the figures and the log are whole once the code
        emulator.finish_compiling()  # compiling meanwhile is in
    report = run_report(emulator, result)
    if stats_file is not None:
        try:
            with stats_file:
                stats_file.write((json.dumps(report, indent=2) + "\n").encode())
        except OSError as problem:
            if not error:
                status, error = 1, cannot(stats_json, "write", problem)
    if note and not error:
        print(note, file=sys.stderr)
    source = symbols.source_line(result.pc) if symbols and (note or error) else None
    if source:
        print(f"recomp: {source}", file=sys.stderr)
    show_end_state(emulator, dumps, regs, chosen.reported_cycles(emulator) if cycles else None, name_of)
    if stats:
        print_stats(report)
    if profile or profile_json is not None:
        status, error = write_profile(emulator, name_of, profile, profile_json, status, error)
    if error:
        fail(error, status)
    raise typer.Exit(status)


def write_profile(emulator: "Emulator", name_of: Callable[[int], str | None], show: bool, path: Path | None,
                  status: int, error: str | None) -> tuple[int, str | None]:
    """``--profile`` and ``--profile-json FILE``: the run's profile on stderr and in a file;
    the run's status and error, or a file's that could not be written."""
    from recomp.debug.profile import profile_json, profile_rows, profile_text

    rows = profile_rows(emulator, name_of)
    if show:
        print(profile_text(rows), file=sys.stderr)
    if path is not None:
        try:
            with opened_to_write(path) as file:
                file.write((json.dumps(profile_json(rows), indent=1) + "\n").encode())
        except OSError as problem:
            if not error:
                return 1, cannot(path, "write", problem)
    return status, error


def prepare(cpu: Frontend, asked: bool, machine: str | None, boot: "Boot", settings: "Settings", engine: Engine,
            no_opt: bool, passes: str | None, no_cache: bool,
            fail: Callable[[str, int], NoReturn] = fail) -> "tuple[MachineType, Emulator]":
    """The machine a command runs: its kind (``--machine``, else sim65 for a sim65 image, else
    bare), built with its devices, the program and files placed, the CPU reset and started.
    The CPU is ``cpu``, or (unless ``asked`` for) the one a sim65 image's header names.
    ``fail`` reports what goes wrong (by default: one line, and the exit status)."""
    from recomp.machines import UnknownMachine, get_machine
    from recomp.machines.boot import boot as start
    from recomp.machines.boot import image_cpu, program_image

    name = boot.program if boot.program is not None else boot.files[0].path if boot.files else "recomp"
    try:
        image = None
        if boot.program is not None:
            image = program_image(boot.program, boot.format, cpu, cpu.guest.memory_size, boot.load_at or 0)
            cpu = cpu if asked else image_cpu(image, cpu)
        chosen = get_machine(machine or ("sim65" if image is not None and image.sim65 is not None else "bare"))
    except UnknownMachine as error:
        fail(str(error), 2)
    except RecompError as error:
        fail(str(error), error.exit_status)
    code_cache = None if no_cache or engine != Engine.jit else trusted_cache()
    try:
        emulator = chosen.emulator(cpu, settings, engine=engine.value, optimize=not no_opt,
                                   passes=optimizer_passes(passes), code_cache=code_cache)
    except RecompError as error:  # devices that do not fit the machine
        fail(f"{name}: {error}", error.exit_status)
    try:
        if image is not None or boot.files:
            start(chosen, emulator, image, boot)
    except RecompError as error:  # (its message names the file)
        fail(str(error), error.exit_status)
    return chosen, emulator


def loaded_line(machine: "MachineType", emulator: "Emulator", boot: "Boot") -> str:
    """``--verbose``, as sim65 -v says what it loaded: the one line of what was put where, on
    which machine and CPU, and where the run starts."""
    where = emulator.frontend.format_address
    placed = ", ".join(f"{what} at {where(start)}-{where(end - 1)} ({end - start:,} bytes)"
                       for start, end, what in boot.placed)
    return (f"recomp: {placed or 'nothing loaded'}; {machine.name} machine, {emulator.frontend.name} CPU; "
            f"starts at {where(emulator.state.pc)}")


def console_at(guest: GuestSpec, putc: str | None, getc: str | None) -> tuple[int, int] | None:
    """The console's (output, input) addresses as ``--putc`` and ``--getc`` move it (None: where
    the machine has it)."""
    console = guest.console
    if putc is None and getc is None:
        return None
    if console is None:
        fail(f"the {guest.name} has no console to move (--putc, --getc)", 2)
    return (guest_address(guest, putc, "--putc") if putc is not None else console[0],
            guest_address(guest, getc, "--getc") if getc is not None else console[1])


def added_devices(guest: GuestSpec, timer: str | None, acia: str | None, hooks: list[str] | None) -> dict:
    """``--timer``, ``--acia`` and ``--hook`` as ``Settings`` fields."""
    return {"timer": guest_address(guest, timer, "--timer"), "acia": guest_address(guest, acia, "--acia"),
            "hooks": {addr: action for action, addr in (split_at(t, "--hook", guest) for t in hooks or [])}}


def placement(guest: GuestSpec, program: Path | None, file_format: Format | None, loads: list[str],
              roms: list[str], pokes: list[str], entry: str | None) -> "Boot":
    """What ``--load``, ``--rom``, ``--poke`` and ``--entry`` put where (ROMs first, so what is
    loaded over one is named as overlapping it)."""
    from recomp.machines.boot import Boot, Placed

    load_at = [guest_address(guest, text, "--load") for text in loads if "@" not in text]
    if len(load_at) > 1:
        fail("--load ADDR is given twice (the program goes to one address; other files: --load FILE@ADDR)", 2)
    files = ([Placed(Path(f), a, rom=True) for f, a in (split_at(t, "--rom", guest) for t in roms)]
             + [Placed(Path(f), a) for f, a in (split_at(t, "--load", guest) for t in loads if "@" in t)])
    poked = [(a, parse_bytes(v, "--poke")) for v, a in (split_at(t, "--poke", guest) for t in pokes)]
    return Boot(program, file_format, load_at[0] if load_at else None, files, poked,
                guest_address(guest, entry, "--entry"))


def timed_log() -> Callable[[str], None]:
    """Events on stderr with the milliseconds since the run was set up, as QEMU's -d logs."""
    import time

    started = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{(time.perf_counter() - started) * 1e3:10.3f} ms] {text}", file=sys.stderr)

    return log


def parse_watch(guest: GuestSpec, text: str, symbols: "Symbols | None" = None
                ) -> tuple[int, int | None, str, int | None]:
    """``--watch ADDR[-ADDR][:r|w|rw][=VALUE]``: (first, last, on, value), checked before the run."""
    rest, equals, value_text = text.partition("=")
    span, colon, on = rest.partition(":")
    first_text, dash, last_text = span.partition("-")
    if (dash and not last_text) or (colon and not on) or (equals and not value_text):
        fail(f"--watch {text}: expected ADDR[-ADDR][:r|w|rw][=VALUE]", 2)
    first = guest_address(guest, first_text, "--watch", symbols)
    last = guest_address(guest, last_text, "--watch", symbols) if last_text else None
    value = parse_address(value_text) if value_text else None
    try:
        check_watch(range(first, (first if last is None else last) + 1), on or "w", value)
    except ValueError as error:
        fail(f"--watch {text}: {error}", 2)
    return first, last, on or "w", value


def no_name(addr: int) -> None:
    """Without symbols, no address has a name."""
    return None


def place(emulator: "Emulator", name_of: Callable[[int], str | None], addr: int) -> str:
    """An address as a stop report shows it: ``$0254``, with its symbol ``$0254 (_main+26)``."""
    name = name_of(addr)
    where = emulator.frontend.format_address(addr)
    return f"{where} ({name})" if name else where


class TraceFile:
    """``--trace FILE``: a line per executed instruction.  A file that cannot be written ends the
    run with one error line naming it (``FileError``)."""

    def __init__(self, emulator: "Emulator", path: Path, name_of: Callable[[int], str | None]) -> None:
        from recomp.inspection import trace_line

        self.path = path
        self.line = trace_line
        self.name_of = name_of
        self.emulator = emulator
        self.file = opened_to_write(path)

    def write(self, entry: "Traced") -> None:
        try:
            line = self.line(self.emulator, entry, self.emulator.tracing.names, self.name_of)
            self.file.write((line + "\n").encode())
        except OSError as error:
            raise FileError(self._problem(error)) from None

    def close(self) -> str | None:
        """Close the file: None, or why it could not be written."""
        try:
            self.file.close()
        except OSError as error:
            return self._problem(error)
        return None

    def _problem(self, error: OSError) -> str:
        return cannot(self.path, "write the trace", error)


def start_trace(emulator: "Emulator", path: Path | None, last: int,
                name_of: Callable[[int], str | None] = no_name) -> TraceFile | None:
    """``--trace FILE`` and ``--trace-last N``: record the run; the trace file, opened."""
    if path is None and not last:
        return None
    file = TraceFile(emulator, path, name_of) if path is not None else None
    emulator.trace(last, None if file is None else file.write)
    return file


def memory_spans(guest: GuestSpec, dumps: list[str], symbols: "Symbols | None" = None
                 ) -> list[tuple[int, int]]:
    """``--dump ADDR[:LEN]`` as (start, length) spans in memory, checked before the run."""
    spans = []
    for text in dumps:
        start_text, colon, length_text = text.partition(":")
        start = guest_address(guest, start_text, "--dump", symbols)
        try:
            length = address(length_text) if colon else 16
        except AddressError:
            length = 0
        if length < 1:
            fail(f"--dump {text}: LEN is a number of bytes from 1", 2)
        spans.append((start, min(length, guest.memory_size - start)))
    return spans


def show_end_state(emulator: "Emulator", dumps: list[tuple[int, int]], regs: bool, cycles: int | None,
                   name_of: Callable[[int], str | None] = no_name) -> None:
    """``--dump``, ``--regs`` and ``--cycles``: memory, registers and cycles as the run left them."""
    if dumps or regs:
        from recomp.inspection import hex_dump, register_line

        for start, length in dumps:
            print(hex_dump(emulator, start, length), file=sys.stderr, end="")
        if regs:
            print(register_line(emulator, name_of), file=sys.stderr)
    if cycles is not None:
        print(f"{cycles} cycles", file=sys.stderr)


def opened_to_write(path: Path) -> BinaryIO:
    """A file the user named to write (``--trace``, ``--stats-json``), or fail with one line."""
    from recomp.runtime.user_files import open_to_write

    try:
        return open_to_write(path)
    except OSError as error:
        fail(cannot(path, "write", error))


def save_text(path: Path, text: str) -> None:
    """Write a file the user named (``--stats-json``, ``-o``), or fail with one line."""
    from recomp.runtime.user_files import write_file

    try:
        write_file(path, text)
    except FileError as error:
        fail(str(error))


def trusted_cache() -> "CodeCache | None":
    """The user's code cache, or None (with one warning line) if it is not to be trusted."""
    from recomp.runtime.code_cache import CodeCache

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


def run_report(emulator: "Emulator", result: RunResult) -> dict:
    """Where the run ended, and every counter of ``Stats`` but the optimizer's per-pass table."""
    return {
        "instructions": emulator.instructions,
        "cycles": emulator.cycles if emulator.guest.has_cycles else None,
        "exit": str(result.exit),
        "pc": result.pc,
        **emulator.stats.counters(),
    }


def print_stats(report: dict) -> None:
    from rich.table import Table

    from recomp.terminal import console as terminal_console

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
    terminal_console(stderr=True).print(table)


@app.command()
def inspect(
    program: ProgramArg,
    frontend: FrontendOpt = None,
    stage: Annotated[Stage, typer.Option(
        metavar="|".join(Stage), help="which stage of the pipeline to show")] = Stage.all,
    load: Annotated[str | None, typer.Option("--load", metavar="ADDR", help="where the program is loaded")] = None,
    file_format: FormatOpt = None,
    at: Annotated[str | None, typer.Option(
        metavar="ADDR", help="guest address of the region (default: entry)")] = None,
    no_opt: NoOptOpt = False,
    passes: PassesOpt = None,
    plain: Annotated[bool, typer.Option("--plain", help="no colours or decoration")] = False,
    guards: Annotated[bool, typer.Option("--guards", help="compile with instruction-budget checks, "
                                         "as run --max-instructions does")] = False,
    entry: Annotated[str | None, typer.Option(metavar="ADDR", help="where execution starts (default: the image's, "
                                                             "else the reset vector)")] = None,
    explore: Annotated[bool, typer.Option("--explore", help="lift all code reachable from the entry "
                                          "and count what the optimizer removes")] = False,
    diff_passes: Annotated[bool, typer.Option("--diff-passes", help="show what each optimizer pass changed, "
                                              "as diffs of the icode")] = False,
    side_by_side: Annotated[bool, typer.Option("--side-by-side", help="each guest instruction beside its icode "
                                               "and the host code made of it")] = False,
    stats_json: Annotated[Path | None, typer.Option(
        metavar="FILE", help="with --explore: write the counts here")] = None,
) -> None:
    """Show one region at every stage: guest code, icode, optimized icode, LLVM IR, host code."""
    from recomp.inspection import STAGES, inspect_region
    from recomp.machines import get_machine
    from recomp.machines.base import Settings
    from recomp.machines.boot import Boot, boot, choose_frontend, image_cpu, program_image

    cpu = find_frontend(choose_frontend(program, frontend))
    guest = cpu.guest
    spec = Boot(program, file_format, guest_address(guest, load, "--load"),
                entry=guest_address(guest, entry, "--entry"))
    region_at = guest_address(guest, at, "--at")
    if region_at is not None and spec.entry is None:
        spec.entry = region_at  # (only the region matters: no reset vector needed)
    machine = get_machine("bare")
    try:
        image = program_image(program, file_format, cpu, guest.memory_size, spec.load_at or 0)
        cpu = cpu if frontend is not None else image_cpu(image, cpu)
        emulator = machine.emulator(cpu, Settings(), optimize=not no_opt, passes=optimizer_passes(passes))
        boot(machine, emulator, image, spec)
    except RecompError as error:
        fail(str(error), error.exit_status)
    if explore:
        explore_program(emulator, stats_json)
        return
    if diff_passes:
        from recomp.inspection import pass_diffs

        text = pass_diffs(emulator, emulator.state.pc)
        if plain or not sys.stdout.isatty():
            sys.stdout.write(text)
        else:
            from rich.syntax import Syntax

            from recomp.terminal import console

            console().print(Syntax(text, "diff", theme="monokai", background_color="default"))
        return
    view = inspect_region(emulator, emulator.state.pc, guards)
    if side_by_side:
        show_side_by_side(view.side_by_side(), plain or not sys.stdout.isatty())
        return
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


def show_side_by_side(rows: list[tuple[str, list[str], list[str]]], plain: bool) -> None:
    """``inspect --side-by-side``: a table on a terminal, aligned columns of text when piped."""
    from recomp.inspection import side_by_side_text

    if plain:
        sys.stdout.write(side_by_side_text(rows))
        return
    from rich.table import Table

    from recomp.terminal import console

    table = Table("guest", "icode (optimized)", "host", show_lines=True)
    for guest, icode, host in rows:
        table.add_row(guest, "\n".join(line.strip() for line in icode), "\n".join(host))
    console().print(table)


def explore_program(emulator: "Emulator", stats_json: Path | None) -> None:
    from recomp.inspection import explore

    counts = explore(emulator, emulator.state.pc)
    for key, value in counts.items():
        if key != "passes":
            print(f"{key:20} {value}")
    for name, removed in counts["passes"].items():
        print(f"pass {name:15} " + ", ".join(f"{k} {v}" for k, v in removed.items()))
    if stats_json is not None:
        save_text(stats_json, json.dumps(counts, indent=2) + "\n")


def show(stage: str, text: str) -> None:
    from rich.console import Console
    from rich.rule import Rule
    from rich.syntax import Syntax

    from recomp.inspection import LEXERS

    console = Console()
    console.print(Rule(stage))
    console.print(Syntax(text, LEXERS[stage], theme="monokai", background_color="default"))


cache_app = typer.Typer(no_args_is_help=True, context_settings=HELP_OPTIONS, rich_markup_mode=None,
                        help="The persistent code cache ($XDG_CACHE_HOME/recomp).")
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info() -> None:
    """Where the code cache is, whether it is trusted, and what it holds."""
    from recomp.runtime.code_cache import CodeCache

    info = CodeCache().info()
    if info.problem is not None:
        print(f"{info.root}: not trusted, so not used: {info.problem} (`recomp cache clear` removes it)")
        return
    print(f"{info.root}: trusted (owner-only, records authenticated); {info.records} compiled regions, "
          f"{info.bytes / 1024:.1f} KiB, {info.contexts} contexts (recomp builds, CPUs and option sets)")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every compiled region from the code cache."""
    from recomp.runtime.code_cache import CodeCache

    cache = CodeCache()
    try:
        count = cache.clear()
    except OSError as problem:
        fail(f"{cache.root}: cannot clear: {problem.strerror or problem}")
    print(f"{cache.root}: removed {count} compiled regions")


@app.command(cls=ProgramCommand)
def mon(
    program: Annotated[Path | None, typer.Argument(
        metavar="PROGRAM", help="program to load (as recomp run takes it)")] = None,
    args: ArgsArg = None,
    machine: Annotated[str | None, typer.Option(
        "--machine", "-m", metavar="NAME", help="the machine (as recomp run)")] = None,
    frontend: FrontendOpt = None,
    symbol_files: SymbolsOpt = None,
    engine: EngineOpt = Engine.jit,
    no_opt: NoOptOpt = False,
    file_format: FormatOpt = None,
    load: LoadOpt = None,
    rom: RomOpt = None,
    poke: PokeOpt = None,
    entry: Annotated[str | None, typer.Option(metavar="ADDR", help="start address (as recomp run)")] = None,
    timer: TimerOpt = None,
    acia: AciaOpt = None,
    hook: HookOpt = None,
    putc: PutcOpt = None,
    getc: GetcOpt = None,
    script: Annotated[Path | None, typer.Option(
        "-x", "--script", metavar="FILE", help="run the commands in this file, then quit")] = None,
) -> None:
    """An interactive monitor (py65mon's commands): registers, memory, disassembly, steps, runs,
    breakpoints and watchpoints at native speed.  `help` lists the commands."""
    from recomp.debug.monitor import Monitor
    from recomp.machines.base import Settings
    from recomp.machines.boot import choose_frontend

    cpu = find_frontend(choose_frontend(program, frontend))
    boot = placement(cpu.guest, program, file_format, load or [], rom or [], poke or [], entry)
    boot.lenient = True  # a monitor starts where the program is, when nothing says where to start
    guest = cpu.guest
    symbols = read_symbols(symbol_files)
    settings = Settings(errors=sys.stderr, args=[str(program), *(args or [])], console=console_at(guest, putc, getc),
                        **added_devices(guest, timer, acia, hook))
    _, emulator = prepare(cpu, frontend is not None, machine, boot, settings, engine, no_opt, None, False)

    def rebuild(chosen: Frontend) -> "Emulator":  # the monitor's ``mpu NAME``
        return prepare(chosen, True, machine, boot, settings, engine, no_opt, None, False, fail=refuse)[1]

    if script is not None:
        from recomp.runtime.user_files import open_to_read, text_lines

        try:
            commands = text_lines(open_to_read(script))
        except OSError as error:
            fail(cannot(script, "read", error))
        with commands:
            Monitor(emulator, stdin=commands, rebuild=rebuild, symbols=symbols).cmdloop(intro="")
        return
    interactive = sys.stdin.isatty()
    if not interactive:
        sys.stdin.reconfigure(errors="replace")  # (bytes that are not UTF-8 make an unknown command)
    monitor = Monitor(emulator, stdin=None if interactive else sys.stdin, rebuild=rebuild, symbols=symbols)
    if not interactive:
        monitor.cmdloop(intro="")
        return
    from recomp.debug.monitor import kept_history

    with kept_history():
        monitor.cmdloop(intro=f"recomp monitor: {emulator.frontend.name}, pc "
                              f"{emulator.frontend.format_address(emulator.state.pc)}; "
                              f"`help` lists the commands")


@app.command("opt")
def opt_command(
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="an icode file (the format of tests/opt: see recomp.icode_files)")],
    passes: Annotated[str | None, typer.Option(metavar="PASS[,PASS...]", help=(
        "comma-separated passes, in order (default: the file's `; passes:` line, else the pipeline)"))] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="write the result here (default: stdout)")] = None,
    stats_flag: Annotated[bool, typer.Option("--stats", help="what each pass removed, on stderr")] = False,
) -> None:
    """Run optimizer passes over an icode file and print the result, as LLVM's opt does."""
    from recomp.icode_files import read_icode
    from recomp.ir import format_region
    from recomp.opt import UnknownPass, optimize
    from recomp.runtime.user_files import read_file

    try:
        data = read_file(file, MAX_ICODE_BYTES)
        if len(data) > MAX_ICODE_BYTES:
            fail(f"{file}: an icode file is at most {MAX_ICODE_BYTES:,} bytes")
        case = read_icode(data.decode("utf-8"))
    except FileError as error:
        fail(str(error))
    except UnicodeDecodeError:
        fail(f"{file}: not an icode file: it is not UTF-8 text (`recomp inspect PROGRAM --stage icode --plain` "
             f"writes one)")
    except ValueError as error:
        fail(f"{file}: {error}")
    names = optimizer_passes(passes) if passes is not None else case.passes
    try:
        counts = optimize(case.region, case.context, names)
    except ValueError as error:  # (the verifier's, or an unknown pass in the file)
        fail(f"{file}: {error}", 2 if isinstance(error, UnknownPass) else 1)
    text = format_region(case.region)
    if stats_flag:
        for name, removed in counts.items():
            print(f"pass {name:10} " + ", ".join(f"{k} {v}" for k, v in removed.items()), file=sys.stderr)
    if output is None:
        sys.stdout.write(text)
        return
    save_text(output, text)


@app.command()
def machines() -> None:
    """List the machines `recomp run --machine NAME` can be."""
    from recomp.machines import MACHINES

    for name, kind in MACHINES.items():
        print(f"{name:10} {kind.summary}")


@app.command()
def demo() -> None:
    """Run the TST27 demo programs on both engines and compare their speed."""
    from recomp.demo import run_demo

    run_demo()


@app.command()
def bench(
    json_out: Annotated[Path | None, typer.Option("--json", metavar="FILE", help="write results here")] = None,
    functional_test: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Klaus Dormann's 6502_functional_test.bin (default: $RECOMP_TESTDATA/6502/, "
             "$RECOMP_TESTDATA defaulting to ../shared/testdata)")] = None,
) -> None:
    """Benchmark the engines against a C interpreter (gcc -O2) and the 6502 kernels against py65."""
    from recomp.bench import run_benchmarks

    run_benchmarks(str(json_out) if json_out else None, functional_test=functional_test)


def command() -> None:
    """The ``recomp`` command, ending in ``SystemExit``.  Usage errors are one line too
    (``recomp: error: ...``, status 2); Ctrl-C ends a command with status 130 and says so."""
    try:
        status = app(standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # no command given: the help, on stdout (as typer
            print(error.format_message())  # tells it, its class being private)
        else:
            print(f"recomp: error: {error.format_message()}", file=sys.stderr)
        sys.exit(error.exit_code)
    except Interrupted as interruption:
        print(f"recomp: {interruption}", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        status = 130
    if status == 130:
        print("recomp: interrupted", file=sys.stderr)
    sys.exit(status or 0)


def main() -> None:
    """The ``recomp`` command as its own process: ``command``, but a process whose only work
    left is code compiling for later runs ends at once, without waiting for it."""
    try:
        command()
    except SystemExit as end:
        if end.code is None or isinstance(end.code, int):
            from recomp.runtime.background import exit_now

            exit_now(end.code or 0)
        raise


if __name__ == "__main__":
    main()

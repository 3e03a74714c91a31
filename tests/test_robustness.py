"""Bad input, failing streams and hostile options: one clear line on stderr and the documented
exit status, never a traceback, a hang or unbounded memory (issue: trust and robustness)."""

from __future__ import annotations

import gc
import io
import shlex
import subprocess
import sys

import pytest

import recomp
from conftest import EXAMPLES
from recomp.runtime.errors import ConfigError, StreamError

CLI = [sys.executable, "-m", "recomp"]  # the process as the console script starts it
HELLO = [str(EXAMPLES / "6502" / "hello.bin"), "--load", "0x200", "--entry", "0x200", "--stop-on-trap"]
UPCASE = [str(EXAMPLES / "6502" / "upcase.bin"), "--load", "0x200", "--entry", "0x200", "--stop-on-trap"]


def shell(command: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """A recomp command line run by the shell (for redirections such as ``>&-``)."""
    line = " ".join(shlex.quote(part) for part in CLI) + " " + command
    return subprocess.run(["sh", "-c", line], input=stdin, capture_output=True, text=True, timeout=120)


def one_line(done: subprocess.CompletedProcess, status: int, message: str) -> None:
    assert done.returncode == status, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def quoted(*parts: str) -> str:
    return " ".join(shlex.quote(p) for p in parts)


def test_a_program_is_never_read_past_what_fits():
    """/dev/zero is endless: reading stops one byte past the 64 KiB that fit."""
    one_line(shell("run -f 6502 /dev/zero"), 1, "the program is more than 65536 bytes; only 65536 fit")
    one_line(shell("run -f 6502 /dev/zero --load 0xFF00"), 1, "more than 256 bytes; only 256 fit")


def test_a_directory_is_not_a_program(tmp_path):
    one_line(shell(f"run -f 6502 {tmp_path}"), 1, "cannot read: Is a directory")


@pytest.mark.parametrize("frontend, program, base", [
    ("6502", HELLO, "0xFFFE"), ("6502", HELLO, "0xFFFD"), ("6502", HELLO, "0xFFFF"),
    ("tst27", [str(EXAMPLES / "tst27" / "test1.bin")], "0xFFE"),
])
def test_a_timer_past_the_end_of_memory_is_refused(frontend, program, base):
    one_line(shell(f"run -f {frontend} {quoted(*program)} --timer {base}"), 2, "runs past the end of memory")


@pytest.mark.parametrize("options, message", [
    ("--timer 0xF000", "the timer at $F000..$F003 overlaps the console at $F001"),
    ("--putc 0xF010 --timer 0xF00E", "the timer at $F00E..$F011 overlaps the console at $F010"),
])
def test_devices_may_not_overlap(options, message):
    one_line(shell(f"run -f 6502 {quoted(*HELLO)} {options}"), 2, message)


def test_an_instruction_budget_beyond_the_counter_is_a_usage_error():
    one_line(shell(f"run -f 6502 {quoted(*HELLO)} --max-instructions 18446744073709551621"), 2,
             "Invalid value for '--max-instructions'")
    emu = recomp.Emulator("6502", console=None)
    with pytest.raises(ValueError, match="max_instructions"):
        emu.run(max_instructions=1 << 64)


@pytest.mark.parametrize("redirect, message", [
    (">&-", "cannot write output: standard output is closed"),
    (">/dev/full", "cannot write output: No space left on device"),
])
@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_output_that_cannot_be_written_is_one_error(redirect, message, engine):
    one_line(shell(f"run -f 6502 {quoted(*HELLO)} --engine {engine} {redirect}"), 1, message)
    test1 = str(EXAMPLES / "tst27" / "test1.bin")
    one_line(shell(f"run -f tst27 {test1} --engine {engine} {redirect}"), 1, message)


def test_input_that_cannot_be_read_is_one_error(tmp_path):
    one_line(shell(f"run -f 6502 {quoted(*UPCASE)} 0>{tmp_path / 'out'}"), 1, "cannot read input: Bad file descriptor")


def test_usage_errors_are_one_line_and_help_and_version_answer():
    one_line(shell("run"), 2, "recomp: error: no program: give a PROGRAM, or files with --load FILE@ADDR or "
                              "--rom FILE@ADDR")
    one_line(shell("run --bogus x"), 2, "recomp: error: No such option: --bogus")
    version = shell("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"recomp {recomp.__version__}"
    helped = shell("run -h")
    assert helped.returncode == 0 and "--max-instructions" in helped.stdout


def test_the_process_collects_garbage_once_the_command_line_is_imported(monkeypatch):
    """``recomp.__main__`` keeps the collector off only while the command line's modules import."""
    import recomp.__main__
    import recomp.cli

    seen = []
    monkeypatch.setattr(recomp.cli, "main", lambda: seen.append((gc.isenabled(), gc.get_freeze_count() > 0)))
    try:
        recomp.__main__.main()
    finally:
        gc.unfreeze()
    assert seen == [(True, True)] and gc.isenabled()


@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_the_console_reads_a_text_stream_too(engine):
    output = io.StringIO()
    emu = recomp.Emulator("6502", engine=engine, input=io.StringIO("abc\né\n"), output=output)
    emu.load((EXAMPLES / "6502" / "upcase.bin").read_bytes(), at=0x0200)
    emu.state.pc = 0x0200
    assert emu.run(stop_on_trap=True, max_instructions=100_000).exit == "trap"
    assert output.getvalue().encode("latin-1") == "ABC\né\n".encode()


class Garbled:
    """A device that answers with something that is not a byte."""

    name = "garbled device"

    def addresses(self) -> tuple[int, ...]:
        return (0xF100,)

    def read(self, addr: int, cycles: int) -> int:
        return "x"  # type: ignore[return-value]

    def write(self, addr: int, value: int, cycles: int) -> None:
        raise OSError(5, "Input/output error")


@pytest.mark.parametrize("threshold", [0, 8])
@pytest.mark.parametrize("code, error", [
    (bytes([0xAD, 0x00, 0xF1, 0x4C, 0x03, 0x02]), ValueError),  # LDA $F100: a str, not a byte
    (bytes([0x8D, 0x00, 0xF1, 0x4C, 0x03, 0x02]), OSError),  # STA $F100: the device fails
])
def test_an_error_in_a_device_stops_the_run_and_reaches_the_caller(capfd, threshold, code, error):
    emu = recomp.Emulator("6502", console=None, jit_threshold=threshold)
    emu.map_device(Garbled())
    emu.load(code, at=0x0200)
    emu.state.pc = 0x0200
    with pytest.raises(error):
        emu.run(stop_on_trap=True, max_instructions=1000)
    assert "Exception ignored" not in capfd.readouterr().err
    assert emu.instructions <= 2  # it stops at the next block at the latest


def test_a_device_is_refused_where_it_does_not_fit():
    emu = recomp.Emulator("6502", console=None)
    with pytest.raises(ConfigError, match="runs past the end of memory"):
        emu.map_device(recomp.runtime.devices.IntervalTimer(0xFFFE))
    assert not emu.machine.devices
    with pytest.raises(StreamError, match="standard output is closed"):
        recomp.runtime.devices.write_output(None, b"x")


# $0200 JMP $F000; at $F000, over the console: LDA #$41; STA $F001; LDA $F004; STA $F001; JMP *
IO_PAGE_CODE = {0x0200: bytes([0x4C, 0x00, 0xF0]),
                0xF000: bytes([0xA9, 0x41, 0x8D, 0x01, 0xF0, 0xAD, 0x04, 0xF0, 0x8D, 0x01, 0xF0, 0x4C, 0x0B, 0xF0])}


@pytest.mark.parametrize("mode", ["interp", "jit", "jit-noopt", "jit-single", "jit-tiered"])
def test_instruction_fetch_never_reaches_a_device(mode):
    """Code in the I/O page: its operand bytes are read from memory, as the CPU fetches them,
    whatever tier runs it (the native interpreter fetches operands at run time)."""
    from conftest import MODES_6502

    output = io.StringIO()
    emu = recomp.Emulator("6502", output=output, input=io.BytesIO(b"xyz"), **MODES_6502[mode])
    for at, code in IO_PAGE_CODE.items():
        emu.load(code, at=at)
    emu.state.pc = 0x0200
    assert emu.run(stop_on_trap=True, max_instructions=100).pc == 0xF00B
    assert output.getvalue() == "Ax"


def test_instruction_fetch_never_reaches_a_device_from_the_cli(tmp_path):
    image = bytearray(0x10000)
    for at, code in IO_PAGE_CODE.items():
        image[at:at + len(code)] = code
    program = tmp_path / "io.bin"
    program.write_bytes(bytes(image[0x0200:]))
    for engine in ("jit", "interp"):
        done = shell(f"run -f 6502 {program} --load 0x200 --entry 0x200 --stop-on-trap --engine {engine}", "xyz")
        assert (done.returncode, done.stdout) == (0, "Ax"), done.stderr


# --- every option of ``recomp run`` with hostile values ------------------------------------------
PROGRAMS = {"hello": HELLO, "snake": [str(EXAMPLES / "easy6502" / "snake.bin"), "-m", "easy6502"],
            "args": [str(EXAMPLES / "cc65" / "args.sim")],
            "test1": ["-f", "tst27", str(EXAMPLES / "tst27" / "test1.bin")],
            "bare": [str(EXAMPLES / "6502" / "hello.bin")], "-": []}
N = "\u0661\u0662"  # Arabic-Indic digits: int() reads them as 12
BIG = str(10 ** 30)
# (program, the options after it ({fifo}, {dir}, {keys}, {N}, {BIG}; those before PROGRAM go before it, as a sim65
# program's must: the words after it are its own), the exit status)
HOSTILE = [
    # huge
    ("hello", "--max-instructions {BIG}", 2), ("hello", "--trace-last 1000000000", 2), ("hello", "--mhz 1e300", 2),
    ("snake", "--fps 1e9", 2), ("snake", "--seed {BIG}", 2), ("hello", "--entry $FFFFFFFF", 2),
    ("hello", "--until $10000", 2), ("hello", "--break $10000", 2), ("hello", "--expect-pc $10000", 2),
    ("hello", "--watch $10000", 2), ("hello", "--putc $10000", 2), ("hello", "--timer $10000", 2),
    ("hello", "--acia $FFFF", 2), ("hello", "--poke $FFFF=1,2", 1), ("hello", "--dump $FFFFFFFF", 2),
    ("hello", "--hook $10000=rts", 2), ("hello", "--load {keys}@$10000", 2), ("args", "x" * 2000, 2),
    ("hello", "--max-cycles {BIG}", 2),
    # negative
    ("hello", "--max-instructions -1", 2), ("hello", "--trace-last -1", 2), ("hello", "--mhz -1", 2),
    ("snake", "--fps -5", 2), ("snake", "--seed -1", 2), ("hello", "--until -1", 2), ("hello", "--dump $10:-1", 2),
    ("hello", "--watch -1", 2), ("hello", "--poke $300=-1", 2), ("hello", "-x -1", 2),
    # infinite, not a number, unfinished
    ("hello", "--mhz inf", 2), ("hello", "--mhz nan", 2), ("snake", "--fps inf", 2), ("snake", "--fps nan", 2),
    ("hello", "--watch $10-", 2), ("hello", "--watch $10:", 2), ("hello", "--watch $10:x", 2),
    ("hello", "--dump $10:", 2), ("hello", "--hook $300=", 2),
    # not ASCII
    ("hello", "--max-instructions {N}", 2), ("hello", "--trace-last {N}", 2), ("hello", "--mhz {N}", 2),
    ("snake", "--seed {N}", 2), ("hello", "--until {N}", 2), ("hello", "--poke $300={N}", 2),
    ("hello", "--dump $10:{N}", 2), ("hello", "--max-cycles {N}", 2),
    # paths that are FIFOs, folders, endless or full
    ("-", "{fifo} --entry 0", 1), ("-", "{dir}", 1), ("-", "/dev/zero", 1), ("hello", "--trace {fifo}", 1),
    ("hello", "--trace {dir}", 1), ("hello", "--trace /dev/full", 1), ("hello", "--stats-json {fifo}", 1),
    ("hello", "--stats-json {dir}", 1), ("hello", "--stats-json /dev/full", 1), ("hello", "--load {fifo}@$300", 1),
    ("hello", "--load {dir}@$300", 1), ("hello", "--load /dev/zero@$300", 1), ("hello", "--rom {fifo}@$F000", 1),
    ("hello", "--rom /dev/zero@$F000", 1), ("args", "--sandbox {fifo} PROGRAM", 2),
    ("args", "--sandbox /dev/zero PROGRAM", 2), ("args", "--sandbox {dir}/missing PROGRAM", 2),
    ("snake", "--keys {dir}", 1), ("snake", "--keys /dev/zero", 1),
    ("snake", "--keys {keys} --screen-dump /dev/full", 1), ("snake", "--keys {keys} --screen-dump {fifo}", 1),
    ("snake", "--keys {keys} --screen-dump {dir}", 1),
    # options the machine has no use for
    ("hello", "--keys {keys}", 2), ("hello", "--sandbox {dir}", 2), ("hello", "--fps 10", 2), ("hello", "--seed 1", 2),
    ("hello", "--screen-dump {dir}/x", 2), ("hello", "extra", 2), ("snake", "--putc $F001", 2),
    ("args", "--keys {keys} PROGRAM", 2), ("test1", "--putc $10", 2), ("test1", "-x 5", 2),
    # names that name nothing
    ("hello", "--machine nope", 2), ("hello", "--frontend nope", 2), ("hello", "--engine nope", 2),
    ("hello", "--passes nope", 2), ("hello", "--format nope", 2), ("hello", "--log nope", 2),
    # the commonest mistakes: --load forgotten, --entry $200 unquoted (the shell makes it 00)
    ("bare", "--entry $200", 4), ("bare", "--load $200 --entry 00", 4),
]


def run_in_process(args: list[str], stdin: bytes = b"") -> tuple[int, str]:
    """``recomp ARGS`` in this process (as the console script runs it, but for ending its process at
    once): the exit status and stderr."""
    import contextlib
    from unittest import mock

    from recomp.cli import command

    err, out = io.StringIO(), io.StringIO()
    stdin_text = io.TextIOWrapper(io.BytesIO(stdin))
    with mock.patch.object(sys, "argv", ["recomp", *args]), mock.patch.object(sys, "stdin", stdin_text), \
            contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            command()
            status = 0
        except SystemExit as end:
            status = end.code
    return status, err.getvalue()


@pytest.mark.parametrize("program, options, status", HOSTILE, ids=[f"{p} {o[:40]}" for p, o, _ in HOSTILE])
def test_every_run_option_with_hostile_values_is_one_error_line(tmp_path, monkeypatch, program, options, status):
    import os

    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "keys.txt").write_text("w\n\nd\n")
    values = {"fifo": tmp_path / "fifo", "dir": tmp_path, "keys": tmp_path / "keys.txt", "N": N, "BIG": BIG}
    before, _, after = options.rpartition("PROGRAM")
    words = [[word.format(**values) for word in part.split()] for part in (before, after)]
    code, errors = run_in_process(["run", *words[0], *PROGRAMS[program], *words[1]])
    lines = errors.splitlines()
    assert code == status and len(lines) == 1 and lines[0].startswith("recomp: error: "), errors


def test_endless_standard_input_is_one_error_line():
    """easy6502 reads its key script from standard input when headless: /dev/zero is refused."""
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run([*CLI, "run", *PROGRAMS["snake"]], stdin=zero, capture_output=True, text=True,
                              timeout=120)
    one_line(done, 1, "standard input: a key script is at most 1,048,576 bytes")


def test_a_guest_read_from_a_file_on_stdin_takes_what_it_asks_for():
    """Standard input that is a file is read as much at a time as the guest asks (sim65's read
    once got one byte a call)."""
    from recomp.runtime.devices import Input

    lines = Input(io.BytesIO(b"one line\nand another\n"), lambda: False)
    assert lines.read(64) == b"one line\nand another\n" and lines.read(64) == b""

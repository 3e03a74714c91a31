"""Machines (recomp.machines): loaders, addresses, reset, ROM, hooks, the Apple-1's PIA, the
ACIA, the end of input, easy6502, pacing, and the ``recomp run`` options that go with them."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, MODES_6502, recomp_in_process
from recomp.machines import MACHINES, get_machine
from recomp.machines.base import Settings
from recomp.machines.loaders import Format, FormatError, detect, parse
from recomp.runtime import Emulator
from recomp.runtime.addresses import AddressError, parse_address
from recomp.runtime.result import Stop

HELLO = EXAMPLES / "6502" / "hello.bin"
ECHO_ROM = EXAMPLES / "apple1" / "echo.bin"
SNAKE = EXAMPLES / "easy6502" / "snake.bin"


def recomp(*args: object, input: str = "", cwd: object = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recomp.cli", *map(str, args)], input=input,
                          capture_output=True, text=True, timeout=300, cwd=cwd)


# --- addresses and formats ---------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [("$C000", 0xC000), ("0xC000", 0xC000), ("49152", 49152), ("$ff", 255),
                                         ("0XFF", 255), (" $0200 ", 0x200)])
def test_addresses_as_6502_users_write_them(text, value):
    assert parse_address(text) == value


@pytest.mark.parametrize("text", ["", "$", "0x", "C000", "$G1", "-1", "$-1", "1.5"])
def test_what_is_not_an_address(text):
    with pytest.raises(AddressError):
        parse_address(text)


def ihex(records: list[tuple[int, int, bytes]]) -> bytes:
    lines = []
    for kind, offset, payload in records:
        record = bytes([len(payload), offset >> 8, offset & 0xFF, kind]) + payload
        lines.append(":" + (record + bytes([-sum(record) & 0xFF])).hex().upper())
    return ("\n".join(lines) + "\n").encode()


@given(st.lists(st.tuples(st.integers(0, 0xFFF0), st.binary(min_size=1, max_size=16)), min_size=1, max_size=8))
def test_intel_hex_round_trip(segments):
    data = ihex([(0, at, payload) for at, payload in segments] + [(1, 0, b"")])
    assert detect(data, "x.bin") == Format.ihex
    assert parse(data, Format.ihex).segments == segments


def test_intel_hex_errors_are_one_line():
    first, rest = ihex([(0, 0x200, b"\xa9\x01"), (1, 0, b"")]).split(b"\n", 1)
    wrong_sum = first[:-2] + b"%02X" % (int(first[-2:], 16) ^ 1)
    with pytest.raises(FormatError, match="line 1: checksum mismatch"):
        parse(wrong_sum + b"\n" + rest, Format.ihex)
    with pytest.raises(FormatError, match="line 1: not an Intel HEX record"):
        parse(first[:-4] + b"\n" + rest, Format.ihex)
    with pytest.raises(FormatError, match="unknown Intel HEX record type 07"):
        parse(ihex([(7, 0, b"")]), Format.ihex)
    with pytest.raises(FormatError, match="holds no data"):
        parse(ihex([(1, 0, b"")]), Format.ihex)
    start = parse(ihex([(5, 0, bytes([0, 0, 0x12, 0x34])), (0, 0x1234, b"\xea")]), Format.ihex)
    assert start.entry == 0x1234


def test_prg_and_sim65_headers():
    assert detect(b"\x01\x08\xa9", "GAME.PRG") == Format.prg
    assert parse(b"\x01\x08\xa9\x00", Format.prg).segments == [(0x0801, b"\xa9\x00")]
    image = parse((EXAMPLES / "cc65" / "hello.sim").read_bytes(), Format.sim65)
    assert image.sim65.cpu == 0 and image.segments[0][0] == image.sim65.load and image.entry == image.sim65.reset
    with pytest.raises(FormatError):
        parse(b"\x01", Format.prg)


# --- reset -------------------------------------------------------------------------------------
def test_reset_leaves_the_registers_as_the_chip_does():
    emu = Emulator("6502", console=None)
    emu.memory[0xFFFC:0xFFFE] = b"\x00\xc0"
    emu.state.p = 0
    emu.reset()
    assert (emu.state.pc, emu.state.s, emu.state.I) == (0xC000, 0xFD, 1)


def test_a_missing_reset_vector_is_one_line_not_a_run_through_zeros():
    done = recomp("run", HELLO)
    assert done.returncode == 1
    assert done.stderr == (f"recomp: error: {HELLO}: no reset vector: $FFFC holds $0000; give --entry "
                           f"(where the program starts)\n")


def test_programs_that_never_set_s_push_below_01fd(tmp_path):
    program = tmp_path / "push.bin"
    program.write_bytes(bytes([0xA9, 0x42, 0x48, 0x4C, 0x03, 0x02]))  # LDA #$42; PHA; JMP *
    done = recomp("run", program, "--load", "$200", "--entry", "$200", "--stop-on-trap", "--dump", "$1FD:1", "--regs")
    assert done.returncode == 0
    assert "$01FD: 42" in done.stderr
    assert "0203 42 00 00 FC 00100100" in done.stderr


# --- loading -----------------------------------------------------------------------------------
def test_load_rom_and_poke(tmp_path):
    main = tmp_path / "main.bin"
    # LDA $C000; STA $F001; INC $C000 (ROM: dropped); LDA $C000; STA $F001; LDA $0300; STA $F001; JMP *
    main.write_bytes(bytes([0xAD, 0x00, 0xC0, 0x8D, 0x01, 0xF0, 0xEE, 0x00, 0xC0, 0xAD, 0x00, 0xC0, 0x8D, 0x01,
                            0xF0, 0xAD, 0x00, 0x03, 0x8D, 0x01, 0xF0, 0x4C, 0x15, 0x02]))
    rom = tmp_path / "rom.bin"
    rom.write_bytes(b"R")
    extra = tmp_path / "extra.prg"
    extra.write_bytes(b"\x00\x03X")
    for engine in ("jit", "interp"):
        done = recomp("run", main, "--load", "0x200", "--rom", f"{rom}@$C000", "--load", f"{extra}@0",
                      "--poke", "$FFFC=0x00,2", "--stop-on-trap", "--engine", engine)
        assert (done.returncode, done.stdout) == (0, "RRX"), done.stderr


def test_rom_ignores_stores_in_every_mode():
    code = bytes([0xA2, 0x00, 0xA9, 0x55, 0x9D, 0x00, 0xE0, 0xFE, 0x00, 0xE0, 0xE8, 0xD0, 0xF7, 0x4C, 0x0D, 0x02])
    for name, options in MODES_6502.items():
        emu = Emulator("6502", console=None, **options)
        emu.machine.map_rom(bytes(range(256)), 0xE000)
        emu.load(code, 0x200)
        emu.state.pc = 0x200
        emu.run(stop_on_trap=True)
        assert emu.memory[0xE000:0xE100] == bytes(range(256)), name


@pytest.mark.parametrize("args, message", [
    (["--rom", "{rom}@$FFF0"], "{rom}: the program is 32 bytes; only 16 fit in memory from 0xfff0"),
    (["--rom", "{rom}@$300", "--load", "{rom}@$310"],
     "{rom} at $0310..$032F overlaps ROM {rom} at $0300..$031F"),
    (["--load", "$10000"], "--load $10000 is outside memory (0..0xffff)"),
    (["--poke", "$300=256"], "--poke: '256': bytes are 0..255"),
    (["--load", "$200", "--load", "$300"], "--load ADDR is given twice (the program goes to one address; "
                                           "other files: --load FILE@ADDR)"),
])
def test_loading_errors_are_one_line(tmp_path, args, message):
    rom = tmp_path / "rom.bin"
    rom.write_bytes(bytes(32))
    args = [a.format(rom=rom) for a in args]
    done = recomp("run", HELLO, "--entry", "$200", *args)
    assert done.returncode in (1, 2)
    assert done.stderr == f"recomp: error: {message.format(rom=rom)}\n"


def test_intel_hex_programs_carry_their_start(tmp_path):
    program = tmp_path / "hello.hex"
    data = HELLO.read_bytes()
    records = [(0, 0x200 + i, data[i:i + 16]) for i in range(0, len(data), 16)]
    program.write_bytes(ihex([*records, (5, 0, bytes([0, 0, 2, 0])), (1, 0, b"")]))
    done = recomp("run", program, "--stop-on-trap")
    assert (done.returncode, done.stdout) == (0, "Hello, 6502!\n")
    as_raw = recomp("run", program, "--cpu", "6502-documented", "--format", "raw", "--entry", "0",
                    "--max-instructions", "10")
    assert as_raw.returncode == 4 and "illegal opcode" in as_raw.stderr  # its text run as code
    tst27 = recomp("run", "-f", "tst27", EXAMPLES / "tst27" / "test1.bin", "--hook", "$10=rts")
    assert tst27.returncode == 2 and "they are for the 6502" in tst27.stderr


@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_files_that_say_too_much_or_too_little_are_one_error(tmp_path, engine):
    """An Intel HEX start beyond memory (once IndexError on one engine, a wrapped start on the
    other), a damaged .hex (once run as raw bytes), an 11-byte sim65 header (once "no reset
    vector"), files loaded over each other (once silently)."""
    far = tmp_path / "far.hex"
    far.write_bytes(ihex([(0, 0x200, bytes([0xEA])), (5, 0, bytes([0, 1, 0x23, 0x45])), (1, 0, b"")]))
    damaged = tmp_path / "damaged.hex"
    damaged.write_text(":10020000A2FF9AD8A200BD1402F00\n")
    short = tmp_path / "short.sim"
    short.write_bytes(b"sim65\x02\x00\x00\x00\x02\x00")
    for args, message in (
            ([far], f"{far}: the start address 0x12345 is outside memory ($0000..$FFFF)"),
            ([damaged], f"{damaged}: line 1: not an Intel HEX record"),
            ([short], f"{short}: a sim65 header is 12 bytes; this file has 11"),
            ([HELLO, "--load", "$200", "--load", f"{HELLO}@$210"],
             f"{HELLO} at $0200..$0221 overlaps {HELLO} at $0210..$0231")):
        done = recomp("run", *args, "--engine", engine, "--stop-on-trap")
        assert (done.returncode, done.stderr) == (1, f"recomp: error: {message}\n")
    patched = recomp("run", HELLO, "--load", "$200", "--entry", "$200", "--poke", "$0215=$41", "--stop-on-trap")
    assert (patched.returncode, patched.stdout) == (0, "HAllo, 6502!\n")  # a poke patches what a file put there


def test_cycles_on_every_machine():
    """``--cycles`` once raised AttributeError on every machine but sim65."""
    done = recomp("run", HELLO, "--load", "$200", "--entry", "$200", "--stop-on-trap", "--cycles")
    assert done.returncode == 0 and done.stderr.splitlines()[-1] == "213 cycles"
    snake = recomp("run", "--machine", "easy6502", SNAKE, "--keys", EXAMPLES / "easy6502" / "keys.txt", "--cycles")
    assert snake.returncode == 0 and snake.stderr.splitlines()[-1].endswith(" cycles")


def test_an_option_the_machine_has_no_use_for_is_refused():
    for option in (["--keys", "x"], ["--fps", "10"], ["--screen-dump", "x"], ["--sandbox", "."], ["--putc", "$F001"]):
        done = recomp("run", "--machine", "apple1", HELLO, *option)
        assert done.returncode == 2 and "the apple1 machine takes no" in done.stderr, option


ASSEMBLE = "assemble it with xa (xa -o {stem}.bin {path}) or ca65 and ld65 (cc65), then recomp run --load ADDR " \
           "--entry ADDR {stem}.bin"
TEXT = "give a raw image, .prg, Intel HEX, sim65 image or TST27 assembly (.s)"


@pytest.mark.parametrize("example, name, options, looks, instead", [
    ("cc65/hello.c", "hello.c", [], "C source",
     "build it with cl65 -t sim6502 -O -o {stem}.sim {path}, then recomp run {stem}.sim"),
    ("6502/hello.s", "hello.s", [], "6502 assembly source", ASSEMBLE),
    ("6502/hello.s", "hello.s", ["--cpu", "6502"], "6502 assembly source", ASSEMBLE),
    ("6502/hello.s", "hello.asm", [], "6502 assembly source", ASSEMBLE),
    ("6502/hello.s", "hello.a65", ["--entry", "$200"], "6502 assembly source", ASSEMBLE),
    ("6502/hello.s", "HELLO.INC", [], "6502 assembly source", ASSEMBLE),
    ("tst27/test1.s", "test1.s", ["--cpu", "6502"], "TST27 assembly source",
     "run it with recomp run --cpu tst27 {path}"),
    ("tst27/test1.bin", "test1.bin", [], "a TST27 program", "run it with recomp run --cpu tst27 {path}"),
    ("tst27/test1.bin", "test1.bin", ["--cpu", "65c02", "--load", "0"], "a TST27 program",
     "run it with recomp run --cpu tst27 {path}"),
    ("cc65/README.md", "README.md", [], "text, not a program", TEXT),  # no reset vector
    ("cc65/README.md", "notes", ["--machine", "apple1"], "text, not a program", TEXT),
    ("6502/Makefile", "Makefile", ["--entry", "0"], "text, not a program", TEXT),  # a JAM opcode ('"', 'R'...)
])
def test_what_is_no_program_says_what_it_looks_like(tmp_path, example, name, options, looks, instead):
    """Sources, text and another CPU's code end in one line: what the file looks like, and what
    to run instead (exit status 1), not a missing reset vector or an opcode the CPU cannot run."""
    path = tmp_path / name
    path.write_bytes((EXAMPLES / example).read_bytes())
    status, out, errors = recomp_in_process("run", *options, str(path))
    advice = instead.format(path=path, stem=path.with_suffix(""))
    assert (status, out, errors) == (1, "", f"recomp: error: {path} looks like {looks}: {advice}\n")


def test_only_strong_evidence_refuses_a_program(tmp_path):
    """Bytes that read as text but run (SEC; ADC #$41; JMP to itself) are a program; a TST27
    source with a mistake gets the assembler's error; Intel HEX is text, and a program."""
    printable = tmp_path / "program.txt"
    printable.write_bytes(b"8iALC@")
    done = recomp_in_process("run", "--load", "$4040", "--entry", "$4040", "--stop-on-trap", "--regs", str(printable))
    assert done[0] == 0 and "4043 42 00 00 FD" in done[2]
    typo = tmp_path / "typo.s"
    typo.write_text("SET r0, 1\nPRINTX r0\nEND\n")
    assert recomp_in_process("run", str(typo)) == (1, "", f"recomp: error: {typo}: line 2: unknown mnemonic PRINTX\n")
    hexed = tmp_path / "hello.hex"
    data = HELLO.read_bytes()
    records = [bytes([len(data[i:i + 16]), 2, i]) + bytes([0]) + data[i:i + 16] for i in range(0, len(data), 16)]
    hexed.write_text("".join(f":{(r + bytes([-sum(r) & 0xFF])).hex()}\n" for r in records) + ":00000001FF\n")
    done = recomp_in_process("run", "--entry", "$200", "--stop-on-trap", str(hexed))
    assert done[:2] == (0, "Hello, 6502!\n")


def test_tst27_sources_still_select_tst27():
    done = recomp("run", EXAMPLES / "tst27" / "test1.s")
    assert done.returncode == 0 and done.stdout.startswith(" r00 = 00000000")


def test_help_lists_exit_statuses_and_machines():
    assert "Exit status" in recomp("run", "-h").stdout
    listing = recomp("machines").stdout
    assert [line.split()[0] for line in listing.splitlines()] == list(MACHINES)


# --- hooks -------------------------------------------------------------------------------------
PUTC = 0x1EA0  # a KIM-1 style monitor's OUTCH and GETCH addresses, with no ROM behind them
GETC = 0x1E5A


def hooked_program() -> bytes:
    """Reads characters with JSR GETC until "." and prints each one twice with JSR PUTC, then
    exits with status 7 through JSR EXIT ($1C00)."""
    return bytes([0x20, GETC & 0xFF, GETC >> 8, 0xC9, 0x2E, 0xF0, 0x09, 0x20, PUTC & 0xFF, PUTC >> 8,
                  0x20, PUTC & 0xFF, PUTC >> 8, 0x4C, 0x00, 0x02, 0xA9, 0x07, 0x20, 0x00, 0x1C])


@pytest.mark.parametrize("mode", MODES_6502)
def test_rom_routine_hooks_in_every_mode(mode):
    output = io.StringIO()
    machine = get_machine("bare")
    settings = Settings(output=output, input=io.BytesIO(b"abc."), hooks={PUTC: "putc", GETC: "getc", 0x1C00: "exit"})
    emu = machine.emulator("6502", settings, **MODES_6502[mode])
    emu.load(hooked_program(), 0x200)
    emu.state.pc = 0x200
    result = emu.run()
    assert (result.exit, result.status, output.getvalue()) == (Stop.EXIT, 7, "aabbcc")
    assert emu.state.s == 0xFE  # every JSR returned but the exit's


def test_hooks_match_real_routines():
    """A hooked PUTC and a real one (STA $F001; RTS) print the same and leave the same registers."""
    def run(hook: bool) -> tuple[str, tuple[int, ...]]:
        output = io.StringIO()
        machine = get_machine("bare")
        hooks = {PUTC: "putc", GETC: "getc"} if hook else {GETC: "getc"}
        emu = machine.emulator("6502", Settings(output=output, input=io.BytesIO(b"xyz."), hooks=hooks))
        emu.load(hooked_program()[:16] + bytes([0x4C, 0x10, 0x02]), 0x200)
        if not hook:
            emu.load(bytes([0x8D, 0x01, 0xF0, 0x60]), PUTC)
        emu.state.pc = 0x200
        emu.run(until_pc=0x210)
        st = emu.state
        return output.getvalue(), (st.a, st.x, st.y, st.s, st.p)

    assert run(True) == run(False)
    assert run(True)[0] == "xxyyzz"


def test_end_of_input_at_a_getc_hook(tmp_path):
    program = tmp_path / "hooked.bin"
    program.write_bytes(hooked_program())
    done = recomp("run", program, "--load", "$200", "--entry", "$200", "--hook", f"${PUTC:X}=putc",
                  "--hook", f"${GETC:X}=getc", input="hi")
    assert (done.returncode, done.stdout) == (0, "hhii")
    assert done.stderr.startswith(f"recomp: input exhausted at ${GETC:04X} after ")
    exits = recomp("run", program, "--load", "$200", "--entry", "$200", "--hook", f"${PUTC:X}=putc",
                   "--hook", f"${GETC:X}=getc", "--hook", "$1C00=exit", input="ok.")
    assert (exits.returncode, exits.stdout) == (7, "ookk")
    unknown = recomp("run", program, "--entry", "$200", "--hook", "$1000=print")
    assert unknown.returncode == 2 and "unknown hook action 'print'" in unknown.stderr


# --- Apple-1 -----------------------------------------------------------------------------------
def test_apple1_echo_rom():
    done = recomp("run", "--machine", "apple1", "--rom", f"{ECHO_ROM}@$FF00", input="hello\nworld\n\x1b")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "APPLE-1 ECHO\nREADY\nHELLO\nWORLD\n2\n"
    assert done.stderr.startswith("recomp: input exhausted at $FF45 after ")


def test_apple1_break_key_glances_do_not_end_the_run():
    """The ROM glances at KBDCR 100 times while busy (as Integer BASIC checks for a break key),
    with no input at all: it still gets to READY, and only its wait for a key ends the run."""
    done = recomp("run", "--machine", "apple1", "--rom", f"{ECHO_ROM}@$FF00", input="")
    assert done.stdout == "APPLE-1 ECHO\nREADY\n"
    assert "input exhausted at $FF45" in done.stderr


def test_apple1_keep_running_keeps_polling():
    done = recomp("run", "--machine", "apple1", "--rom", f"{ECHO_ROM}@$FF00", "--keep-running",
                  "--max-instructions", "200000", input="a")
    assert done.returncode == 3 and done.stdout == "APPLE-1 ECHO\nREADY\nA"


# --- ACIA --------------------------------------------------------------------------------------
ACIA = 0x8800


def acia_echo() -> bytes:
    """Upper-cases what arrives on a 6551 at $8800 and sends it back, polling the status."""
    return bytes([0xAD, 0x01, 0x88, 0x29, 0x08, 0xF0, 0xF9,  # wait: LDA status; AND #RDRF; BEQ wait
                  0xAD, 0x00, 0x88, 0xC9, 0x61, 0x90, 0x02, 0x29, 0xDF,  # LDA data; CMP #'a'; BCC +2; AND #$DF
                  0xAE, 0x01, 0x88, 0x48, 0x8A, 0x29, 0x10, 0xF0, 0xF8, 0x68,  # wait for TDRE
                  0x8D, 0x00, 0x88, 0x4C, 0x00, 0x02])


@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_acia_serial_echo(tmp_path, engine):
    program = tmp_path / "acia.bin"
    program.write_bytes(acia_echo())
    done = recomp("run", program, "--load", "$200", "--entry", "$200", "--acia", "$8800", "--engine", engine,
                  input="serial line\n")
    assert (done.returncode, done.stdout) == (0, "SERIAL LINE\n")
    assert done.stderr.startswith("recomp: input exhausted at $02")
    overlap = recomp("run", program, "--entry", "$200", "--acia", "$F000")
    assert overlap.returncode == 2 and "the console at $F001" in overlap.stderr


# --- easy6502 ----------------------------------------------------------------------------------
def test_easy6502_snake_headless(tmp_path):
    screen = tmp_path / "screen.txt"
    done = recomp("run", "--machine", "easy6502", SNAKE, "--keys", EXAMPLES / "easy6502" / "keys.txt",
                  "--screen-dump", screen, "--seed", "1", "--regs")
    assert done.returncode == 0, done.stderr
    rows = screen.read_text().splitlines()
    assert len(rows) == 32 and all(len(row) == 32 for row in rows)
    assert rows[0] == "B" * 32  # the wall
    dead = [i for i, row in enumerate(rows) if "A" in row]  # the snake turns light red on game over
    assert dead and dead[0] < 15  # it turned up before it hit the wall
    assert "0644" in done.stderr  # stopped on the game's BRK
    assert re.search(r"^recomp: the program ended with BRK at \$0644 after \d+ frames$", done.stderr, re.MULTILINE)
    recomp("run", "--machine", "easy6502", SNAKE, "--keys", EXAMPLES / "easy6502" / "keys.txt",
                   "--screen-dump", tmp_path / "again.txt", "--seed", "1")
    assert (tmp_path / "again.txt").read_text() == screen.read_text()  # seeded: the same game


def test_easy6502_no_keys_ends_at_the_wall(tmp_path):
    screen = tmp_path / "screen.txt"
    done = recomp("run", "--machine", "easy6502", SNAKE, "--screen-dump", screen, "--seed", "2", input="")
    assert done.returncode == 0
    assert screen.read_text().splitlines()[15].endswith("AAAA1")  # the head in the right wall


def test_easy6502_says_when_a_program_runs_past_its_end(tmp_path):
    program = tmp_path / "plot.bin"
    program.write_bytes(bytes([0xA9, 0x05, 0x8D, 0x00, 0x02]))  # plot a pixel, then nothing: BRK in empty memory
    done = recomp("run", "--machine", "easy6502", program, "--keys", tmp_path / "plot.bin")
    assert done.returncode == 0
    assert done.stderr == "recomp: the program ran past its end into empty memory at $0605 after 1 frame\n"


def test_easy6502_waiting_for_a_key_ends_with_the_keys(tmp_path):
    program = tmp_path / "wait.bin"
    program.write_bytes(bytes([0xA5, 0xFF, 0xF0, 0xFC, 0x8D, 0x00, 0x02, 0x00]))  # wait for a key; plot it
    done = recomp("run", "--machine", "easy6502", program, "--keys", tmp_path / "none", "--screen-dump",
                  tmp_path / "s")
    assert done.returncode == 1 and "none: cannot read: No such file or directory" in done.stderr
    (tmp_path / "keys").write_text("\n\n")
    done = recomp("run", "--machine", "easy6502", program, "--keys", tmp_path / "keys")
    assert done.returncode == 0 and "input exhausted at $0602" in done.stderr
    (tmp_path / "keys").write_text("\n\x05\n")
    done = recomp("run", "--machine", "easy6502", program, "--keys", tmp_path / "keys", "--screen-dump",
                  tmp_path / "s")
    assert done.returncode == 0 and (tmp_path / "s").read_text()[0] == "5"


# --- runs bounded by cycles, and paced ---------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(st.integers(1, 5000), st.sampled_from(sorted(MODES_6502)))
def test_max_cycles_stops_at_the_first_boundary_past_them(budget, mode):
    loop = bytes([0xA2, 0x00, 0xE8, 0xBD, 0xF0, 0x12, 0x9D, 0x00, 0x03, 0xD0, 0xF7, 0xC8, 0x4C, 0x02, 0x02])
    emu = Emulator("6502", console=None, **MODES_6502[mode])
    emu.load(loop, 0x200)
    emu.state.pc = 0x200
    result = emu.run(max_cycles=budget)
    assert result.exit == Stop.MAX_CYCLES
    stepped = Emulator("6502", console=None, engine="interp")
    stepped.load(loop, 0x200)
    stepped.state.pc = 0x200
    while stepped.cycles < budget:
        stepped.step()
    assert (emu.instructions, emu.cycles, emu.state.pc) == (stepped.instructions, stepped.cycles, stepped.state.pc)


def test_mhz_paces_the_run():
    program = bytes([0xA2, 0x00, 0xE8, 0xD0, 0xFD, 0x4C, 0x05, 0x02])  # ~1,280 cycles, then a trap
    emu = get_machine("bare").emulator("6502", Settings(mhz=0.01))  # 10,000 cycles a second
    emu.load(program, 0x200)
    emu.state.pc = 0x200
    started = time.perf_counter()
    result = get_machine("bare").run(emu, Settings(mhz=0.01), stop_on_trap=True)
    assert result.exit == Stop.TRAP
    assert time.perf_counter() - started >= 0.1  # at least 1,280 cycles' worth at 10 kHz, less a slice


@pytest.mark.parametrize("machine, settings", [("bare", Settings(mhz=1.0)), ("easy6502", Settings(headless=True))])
def test_a_cycle_budget_spans_the_slices_a_run_goes_in(machine, settings):
    """--max-cycles over a paced run's slices and easy6502's frames (33,333 cycles each): the run
    stops at the first instruction boundary at or past the budget, as Emulator.run does."""
    loop = bytes([0xE8, 0x4C, 0x00, 0x06])  # INX; JMP $0600: 5 cycles a time round
    kind = get_machine(machine)
    settings.input = io.BytesIO()
    emu = kind.emulator("6502", settings)
    emu.load(loop, 0x600)
    emu.state.pc = 0x600
    result = kind.run(emu, settings, max_cycles=100_001)
    assert (result.exit, emu.cycles) == (Stop.MAX_CYCLES, 100_002)


class Terminal:
    """A command in a real terminal (a detached tmux session): keys in, the screen out."""

    def __init__(self, command: str, rows: int) -> None:
        self.session = f"recomp-test-{os.getpid()}-{time.monotonic_ns()}"
        self.deadline = time.monotonic() + 60
        subprocess.run(["tmux", "new-session", "-d", "-s", self.session, "-x", "100", "-y", str(rows),
                        f"{command}; sleep 60"], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.session], capture_output=True,
                              text=True).stdout

    def wait_for(self, shown: Callable[[], bool] | str) -> None:
        check = (lambda: shown in self.screen()) if isinstance(shown, str) else shown
        while not check() and time.monotonic() < self.deadline:
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def resize(self, columns: int, rows: int) -> None:
        subprocess.run(["tmux", "resize-window", "-t", self.session, "-x", str(columns), "-y", str(rows)], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)


needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@needs_tmux
def test_easy6502_in_a_real_terminal(tmp_path):
    """What a person sees: the game drawn with half blocks in a terminal (tmux), steered by a key."""
    screen, done = tmp_path / "screen.txt", tmp_path / "done"
    terminal = Terminal(f"{sys.executable} -m recomp.cli run --machine easy6502 {SNAKE} --seed 4 "
                        f"--screen-dump {screen}; echo $? > {done}", rows=30)
    try:
        terminal.wait_for("▀")
        terminal.keys("w")  # up, at once
        terminal.wait_for(done.exists)
        shown = terminal.screen()
    finally:
        terminal.close()
    assert done.read_text().strip() == "0"
    assert re.search(r"^recomp: the program ended with BRK at \$0644 after \d+ frames$", shown, re.MULTILINE)
    rows = [line for line in shown.splitlines() if line.startswith("▀")]
    assert len(rows) == 16 and all(line.rstrip() == "▀" * 32 for line in rows)  # 32x32 pixels, two a cell
    final = screen.read_text().splitlines()
    assert "AAAA" not in final[15]  # the key turned the snake: it did not die on its starting row


@needs_tmux
def test_easy6502_redraws_whole_when_the_terminal_is_resized(tmp_path):
    """The screen keeps to the terminal: smaller than the picture, a line says so (no cut
    picture); larger again, the picture is whole and alone (no stale rows); at the end it stays
    on the terminal's screen, with the line that says how the run ended."""
    noise = tmp_path / "noise.bin"  # random pixels all over the screen, for ever
    noise.write_bytes(bytes([0xA5, 0xFE, 0x9D, 0x00, 0x02, 0x9D, 0x00, 0x03, 0x9D, 0x00, 0x04, 0x9D, 0x00, 0x05,
                             0xE8, 0x4C, 0x00, 0x06]))
    terminal = Terminal(f"{sys.executable} -m recomp.cli run --machine easy6502 {noise} --fps 20; echo EXIT=$?",
                        rows=30)

    def whole() -> bool:
        lines = [line.rstrip() for line in terminal.screen().splitlines() if line.strip()]
        return lines == ["▀" * 32] * 16

    try:
        terminal.wait_for(whole)
        shown = [whole()]
        for columns, rows in ((100, 10), (100, 40), (20, 40), (100, 30)):
            terminal.resize(columns, rows)
            if columns < 32 or rows < 16:
                terminal.wait_for(lambda: "this terminal has" in terminal.screen().replace("\n", " "))
                shown.append("▀" not in terminal.screen())
            else:
                terminal.wait_for(whole)
                shown.append(whole())
        terminal.keys("C-c")
        terminal.wait_for("EXIT=130")
        end = [line.rstrip() for line in terminal.screen().splitlines() if line.strip()]
    finally:
        terminal.close()
    assert shown == [True] * 5
    assert end[-18:-2] == ["▀" * 32] * 16 and end[-2].startswith("recomp: interrupted at $06")


@needs_tmux
def test_apple1_in_a_real_terminal():
    """Typed keys reach the Apple-1 one by one and only the guest echoes them; Ctrl-C stops the
    run and says where; the terminal gets its line editing back."""
    terminal = Terminal(f"{sys.executable} -m recomp.cli run --machine apple1 --rom '{ECHO_ROM}@$FF00'; "
                        f"echo EXIT=$?; stty -a | grep -o ' -\\?icanon'", rows=20)
    try:
        terminal.wait_for("READY")
        terminal.keys("hello", "Enter")
        terminal.wait_for("HELLO")
        terminal.keys("C-c")
        terminal.wait_for("icanon")
        shown = [line for line in terminal.screen().splitlines() if line.strip()]
    finally:
        terminal.close()
    assert shown[:3] == ["APPLE-1 ECHO", "READY", "HELLO"]  # no second, local echo of "hello"
    assert shown[3].startswith("recomp: interrupted at $FF") and shown[4] == "EXIT=130"
    assert shown[5].strip() == "icanon"  # line editing restored

"""Debugging a C program as its author does: cc65's symbols and source lines (``tests/cc65/squares.c``,
built with ``-g``: its ld65 debug info and VICE label file beside it) in ``run``'s options and
reports, and in the monitor: a breakpoint on a C line, ``list``, ``next`` over a call,
``nextline``, ``out``; scripted, and in a real terminal (tmux)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from recomp.debug.symbols import SourceLine, SymbolError, Symbols, load_symbols
from test_machines import needs_tmux
from test_monitor import monitor_terminal

CC65 = Path(__file__).parent / "cc65"
PROGRAM, DEBUG_INFO, LABELS = CC65 / "squares.sim", CC65 / "squares.dbg", CC65 / "squares.lbl"
SYMBOLS = ["--symbols", str(DEBUG_INFO), "--symbols", str(LABELS)]
LOOP_LINE = 14  # total += square(i);


def _symbols() -> Symbols:
    return load_symbols([DEBUG_INFO, LABELS])


def _label(name: str) -> int:
    """The address ld65's label file gives ``name`` (read here independently of recomp)."""
    for line in LABELS.read_text().splitlines():
        _, value, label = line.split()
        if label == f".{name}":
            return int(value, 16)
    raise KeyError(name)


def test_the_label_file_and_the_debug_info_agree():
    from_labels, from_debug_info = load_symbols([LABELS]), load_symbols([DEBUG_INFO])
    for name in ("_main", "_square"):
        assert from_labels.find(name) == from_debug_info.find(name) == _label(name)
    assert from_labels.find("main") == _label("_main")  # the C name, for cc65's _main
    assert from_labels.find("_printf") == _label("_printf")  # (the library has no debug info: labels only)
    assert [f.name for f in from_debug_info.functions] == ["_square", "_main"]


def test_places_and_names():
    symbols = _symbols()
    main, square = _label("_main"), _label("_square")
    assert symbols.find("main+3") == main + 3 and symbols.find("_square-1") == square - 1
    line = symbols.find(f"squares.c:{LOOP_LINE}")
    assert main < line < main + 72 and symbols.line_at(line) == SourceLine("squares.c", LOOP_LINE)
    assert symbols.line_starts_at(line)
    assert symbols.describe(main) == "_main" and symbols.describe(line) == f"_main+{line - main}"
    assert symbols.describe(_label("__BSS_SIZE__")) != "__BSS_SIZE__"  # a size, not a place
    assert symbols.source_line(line) == f"squares.c:{LOOP_LINE}: total += square(i);"
    assert symbols.find("nothing") is None and symbols.find("squares.c:99") is None
    with pytest.raises(SymbolError, match="offset"):
        symbols.find("main+zz")


def test_files_that_hold_no_symbols_are_one_error(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(SymbolError, match="neither a VICE label file"):
        load_symbols([text])
    broken = tmp_path / "broken.lbl"
    broken.write_text("al 0200 .start\nal zz .bad\n")
    with pytest.raises(SymbolError, match="line 2: 'zz' is not a hex address"):
        load_symbols([broken])


def recomp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recomp.cli", *args], capture_output=True, text=True, timeout=120)


def test_run_stops_at_a_c_line_and_says_where():
    """(A sim65 program's options come before it: the words after it are its own, as sim65 has it.)"""
    line = _symbols().find(f"squares.c:{LOOP_LINE}")
    done = recomp("run", *SYMBOLS, "--break", f"squares.c:{LOOP_LINE}", "--regs", str(PROGRAM))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert re.fullmatch(rf"recomp: breakpoint at \${line:04X} \(_main\+\d+\) after \d+ instructions", lines[0])
    assert lines[1] == f"recomp: squares.c:{LOOP_LINE}: total += square(i);"
    assert lines[3].startswith(f"{line:04X} ") and lines[3].endswith(f"_main+{line - _label('_main')}")


def test_run_takes_names_wherever_it_takes_addresses():
    done = recomp("run", *SYMBOLS, "--until", "square", "--expect-pc", "_square", "--dump", "main:4",
                  str(PROGRAM))
    assert done.returncode == 0, done.stderr
    assert f"until at ${_label('_square'):04X} (_square)" in done.stderr
    assert f"${_label('_main'):04X}:" in done.stderr
    wrong = recomp("run", *SYMBOLS, "--break", "mian", str(PROGRAM))
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "mian" in wrong.stderr
    missing = recomp("run", "--symbols", str(CC65 / "nope.dbg"), str(PROGRAM))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "nope.dbg" in missing.stderr


SESSION = f"""profile on
ab squares.c:{LOOP_LINE}
c
list
next
next
nl
out
db 0
d square
regions
db all
c
profile
"""


def test_a_scripted_session_by_source_line(tmp_path):
    script = tmp_path / "session.txt"
    script.write_text(SESSION)
    done = recomp("mon", *SYMBOLS, "-x", str(script), str(PROGRAM))
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    line, square = _symbols().find(f"squares.c:{LOOP_LINE}"), _label("_square")
    assert out[0].startswith("profiling: ")
    out = out[1:]
    assert out[0] == f"breakpoint 0 at ${line:04X} (_main+{line - _label('_main')})"
    assert out[2] == f"squares.c:{LOOP_LINE}: total += square(i);"
    listing = out.index(f">   {LOOP_LINE}          total += square(i);")
    assert out[listing - 1] == f"    {LOOP_LINE - 1}      for (i = 0; i < 10; ++i) {{"
    # next twice: the second steps over JSR _square, at native speed, to the instruction after it
    calls = [i for i, text in enumerate(out) if text.endswith("; _square")]
    assert calls and "JSR" in out[calls[0]]
    after_call = out[calls[0] + 1:]
    assert after_call[0].startswith(f"squares.c:{LOOP_LINE}") or after_call[0].startswith("squares.c:")
    assert not any(f"{square:04X} " in text[:5] for text in after_call[:3])  # never stopped inside square
    # nextline: to the start of another line; out: main does not return before a breakpoint
    assert any(text.startswith(f"squares.c:{LOOP_LINE - 1}:") for text in out[listing:])
    assert "_square:" in out and any("JSR" in text and "; pushax" in text for text in out)
    table = out.index(next(text for text in out if text.startswith("address")))
    assert out[table].split() == ["address", "bytes", "tier", "instructions", "entered", "symbol"]
    profile = out.index(next(text for text in out if text.startswith("function")))
    assert out[profile].split() == ["function", "instructions", "cycles", "share"]
    rows = {text.split()[0]: text.split()[1:] for text in out[profile + 1:] if text.startswith("_")}
    assert {"_main", "_ultoa", "__printf"} <= set(rows)  # cold code too, by the blocks it ran (the 15 hottest)


@needs_tmux
def test_a_session_in_a_real_terminal(tmp_path):
    terminal = monitor_terminal(tmp_path, f"{' '.join(SYMBOLS)} {PROGRAM}", rows=40)
    try:
        terminal.keys(f"ab squares.c:{LOOP_LINE}", "Enter", "c", "Enter")
        terminal.wait_for("total += square(i);")
        terminal.keys("list", "Enter")
        terminal.wait_for(f">   {LOOP_LINE}")
        terminal.keys("n", "Enter", "n", "Enter")
        terminal.wait_for("; _square")
        stepping = terminal.screen()
        terminal.keys("profile on", "Enter", "db all", "Enter", "c", "Enter", "profile", "Enter")
        terminal.wait_for("share")
        terminal.keys("C-d")  # the end of input ends the session, the prompt's line too
        terminal.wait_for("EXIT=")
        shown = terminal.screen()
    finally:
        terminal.close()
    assert f">   {LOOP_LINE}          total += square(i);" in stepping
    assert "breakpoint at $" in stepping and "(_main+" in stepping
    assert "function" in shown and "instructions" in shown and "_ultoa" in shown
    assert re.search(r"^EXIT=0", shown, re.MULTILINE)


def _sim65(path: Path, **options):
    """A sim65 machine with the program at ``path`` placed and started."""
    import io

    from recomp.machines import get_machine
    from recomp.machines.base import Settings
    from recomp.machines.boot import Boot, boot, program_image

    machine = get_machine("sim65")
    settings = Settings(output=io.StringIO(), errors=io.StringIO(), args=[path.name])
    emulator = machine.emulator("6502", settings, code_cache=None, **options)
    boot(machine, emulator, program_image(path, None, emulator.frontend, 0x10000, 0), Boot(path))
    return emulator


TIERS = {"reference": dict(engine="interp"), "tiered": dict(engine="jit", compile_in_background=False),
         "compiled": dict(engine="jit", jit_threshold=0, native_interpreter=False),
         "no-baseline": dict(engine="jit", baseline=False, compile_in_background=False)}


@pytest.mark.parametrize("tier", TIERS)
def test_the_profile_counts_every_instruction_once(tier):
    """Every instruction and cycle of a run is in the profile once, whichever tier ran it
    (crc32 of benchmarks/cc65: 55 million instructions, its loop compiled; the reference
    engine runs squares.sim)."""
    program = PROGRAM if tier == "reference" else Path(__file__).parent.parent / "benchmarks" / "cc65" / "crc32.sim"
    emulator = _sim65(program, **TIERS[tier])
    emulator.start_profile()
    assert emulator.run().exit == "exit"
    profile = emulator.profile()
    assert sum(i for i, _ in profile.values()) == emulator.instructions
    assert sum(c for _, c in profile.values()) == emulator.cycles
    assert emulator.guest.profile_cold not in profile  # (nothing ran before the first entry)


def test_the_profile_by_function():
    from recomp.debug.profile import profile_rows

    emulator = _sim65(PROGRAM, engine="interp")
    emulator.start_profile()
    emulator.run()
    rows = profile_rows(emulator, _symbols().describe)
    names = [row.name for row in rows]
    assert "_square" in names and "_main" in names and "_printf" in names
    assert sum(row.instructions for row in rows) == emulator.instructions
    assert abs(sum(row.share for row in rows) - 1) < 1e-9


def test_the_profile_from_the_cli(tmp_path):
    import json

    report = tmp_path / "profile.json"
    done = recomp("run", *SYMBOLS, "--profile", "--profile-json", str(report), str(PROGRAM))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "total 285\n"
    assert done.stderr.splitlines()[0].split() == ["function", "instructions", "cycles", "share"]
    rows = json.loads(report.read_text())
    assert {"name", "instructions", "cycles", "share"} == set(rows[0])
    assert sum(row["instructions"] for row in rows) > 4000

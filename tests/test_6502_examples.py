"""The 6502 example programs (examples/6502) on every engine and mode, and the committed images
against their sources (only where the xa65 assembler is installed: the tests never need it)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import recomp
from conftest import MODES_6502

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "6502"
MODES = MODES_6502
BUDGET = 1_000_000
TRAP_PC = {"hello.bin": 0x0211, "upcase.bin": 0x0219, "charin.bin": 0x0234}  # each ends with "done: jmp done"


def run_example(name: str, mode: str, data: bytes = b"", console: object = "default"
                ) -> tuple[str, recomp.Emulator, object]:
    output = io.StringIO()
    emu = recomp.Emulator("6502", output=output, input=io.BytesIO(data), console=console, **MODES[mode])
    emu.load((EXAMPLES / name).read_bytes(), at=0x0200)
    emu.state.pc = 0x0200
    result = emu.run(max_instructions=BUDGET, stop_on_trap=True)
    return output.getvalue(), emu, result


@pytest.mark.parametrize("mode", MODES)
def test_hello(mode):
    output, emu, result = run_example("hello.bin", mode)
    assert output == "Hello, 6502!\n"
    assert (result.exit, result.pc) == ("trap", TRAP_PC["hello.bin"])
    assert emu.state.s == 0xFF and emu.state.x == len("Hello, 6502!\n")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("data", "expected"), [
    (b"hello\nworld\n", "HELLO\nWORLD\n"),
    (b"", ""),
    (b"Mixed Case, 123 @[`{ az AZ\n", "MIXED CASE, 123 @[`{ AZ AZ\n"),
    (b"no newline at the end", "NO NEWLINE AT THE END"),
    (b"the quick brown fox\n" * 50, "THE QUICK BROWN FOX\n" * 50),
], ids=["two-lines", "empty", "edges", "no-newline", "long"])
def test_upcase(mode, data, expected):
    output, _, result = run_example("upcase.bin", mode, data)
    assert output == expected
    assert (result.exit, result.pc) == ("trap", TRAP_PC["upcase.bin"])


@pytest.mark.parametrize("mode", MODES)
def test_one_register_for_input_and_output(mode):
    """charin.bin reads and writes one character register ($E000), as VM65's I/O and a 6551's
    data register work: one device both ways, in every tier."""
    output, _, result = run_example("charin.bin", mode, b"hello\nrecomp\n", console=(0xE000, 0xE000))
    assert output == "> olleh\n> pmocer\n> "
    assert (result.exit, result.pc) == ("trap", TRAP_PC["charin.bin"])


def test_one_register_for_input_and_output_from_the_cli():
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(EXAMPLES / "charin.bin"), "--load", "$200",
                           "--entry", "$200", "--putc", "$E000", "--getc", "$E000", "--stop-on-trap"],
                          input="abc\n", capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "> cba\n> ")


@pytest.mark.parametrize("name", ["hello.bin", "upcase.bin"])
def test_identical_across_modes(name):
    data = b"hello\nworld\n"
    results = {}
    for mode in MODES:
        output, emu, result = run_example(name, mode, data)
        st = emu.state
        results[mode] = (output, result, st.a, st.x, st.y, st.s, st.p, emu.instructions, emu.cycles,
                         emu.memory[0:0x10000])
    for mode, outcome in results.items():
        assert outcome == results["interp"], mode


KERNELS = EXAMPLES.parents[1] / "benchmarks" / "6502"
MACHINE_EXAMPLES = [EXAMPLES.parent / "apple1", EXAMPLES.parent / "easy6502"]
SOURCES = sorted([*EXAMPLES.glob("*.s"), *KERNELS.glob("*.s"), *(s for d in MACHINE_EXAMPLES for s in d.glob("*.s"))])


@pytest.mark.skipif(shutil.which("xa") is None, reason="xa (xa65) is not installed")
@pytest.mark.parametrize("source", SOURCES, ids=[f"{p.parent.parent.name}/{p.stem}" for p in SOURCES])
def test_images_match_sources(source, tmp_path):
    """The committed .bin is what the Makefile's rule ($(XA) $(XAFLAGS) -o $@ $<) makes of the .s
    (the kernels' and the machine examples' Makefiles include the 6502 examples')."""
    own = (source.parent / "Makefile").read_text()
    assert source.parent == EXAMPLES or re.search(r"^include (\.\./)+(examples/)?6502/Makefile$", own, re.MULTILINE)
    makefile = (EXAMPLES / "Makefile").read_text()
    flags = re.search(r"^XAFLAGS\s*\??=(.*)$", makefile, re.MULTILINE).group(1).split()
    assert "$(XA) $(XAFLAGS) -o $@ $<" in makefile
    out = tmp_path / f"{source.stem}.bin"
    subprocess.run(["xa", *flags, "-o", str(out), str(source)], check=True, capture_output=True)
    assert out.read_bytes() == source.with_suffix(".bin").read_bytes()

"""Klaus Dormann's functional tests (NMOS and 65C02) and Bruce Clark's decimal test, proof
against the real chips.

Figures from shared/testdata/6502/README.md.  Cycle counts: floooh's cycle-exact m6502.h reports
96,241,366 and 46,089,504; it overlaps each instruction's last cycle with the next opcode fetch,
so its totals are one lower than a count of whole instructions, which recomp (and py65, for the
decimal test: 46,089,505) give.  Every instruction's cycle count is separately checked against
the SingleStepTests.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import recomp
from conftest import TESTDATA, missing_testdata
from recomp.runtime import GuestFault

DATA = TESTDATA / "6502"
FUNCTIONAL = DATA / "6502_functional_test.bin"
DECIMAL = DATA / "6502_decimal_test.bin"
EXTENDED = TESTDATA / "65c02" / "65C02_extended_opcodes_test.bin"  # success: the trap at $24F1

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=missing_testdata(DATA))

# (engine, optimize): the JIT with and without the optimizer; the interpreter is slow: see below
JIT_MODES = [("jit", True), ("jit", False)]


def functional(engine: str, optimize: bool, cpu: str = "6502", **options) -> recomp.Emulator:
    emu = recomp.Emulator(cpu, engine=engine, optimize=optimize, console=None, **options)
    emu.load(FUNCTIONAL.read_bytes(), at=0)
    emu.state.pc = 0x0400
    result = emu.run(stop_on_trap=True)
    assert (result.exit, hex(result.pc)) == ("trap", "0x3469"), f"failed in test case {emu.memory[0x200]:#x}"
    assert emu.memory[0x0200] == 0xF0
    assert emu.instructions == 30_646_177
    assert emu.cycles == 96_241_366 + 1
    return emu


def decimal(engine: str, optimize: bool, **options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", engine=engine, optimize=optimize, console=None, **options)
    emu.load(DECIMAL.read_bytes(), at=0x0200)
    emu.state.pc = 0x0200
    result = emu.run(until_pc=0x024B)
    assert (result.exit, result.pc) == ("until", 0x024B)
    assert emu.memory[0x000B] == 0, "ERROR flag set: decimal mode disagrees with the NMOS chip"
    assert emu.instructions == 14_464_187
    assert emu.cycles == 46_089_504 + 1
    return emu


def test_functional_test_passes_with_its_loops_compiled_meanwhile(monkeypatch, tmp_path):
    """With the native interpreter finding code hot sooner, regions of the test's self-modifying
    loops compile in the background (a second run loading the first one's from the code cache)
    while their bytes are rewritten, with the same values too, and their translations dropped:
    each run ends at the success trap."""
    from recomp.runtime.code_cache import CodeCache

    monkeypatch.setattr("recomp.runtime.interpreters.HOT_INSTRUCTIONS", 1 << 19)
    monkeypatch.setattr("recomp.runtime.interpreters._BUILT", {})  # (one made for that threshold)
    cache = CodeCache(tmp_path / "cache")
    for _ in ("cold", "warm"):
        emu = functional("jit", True, code_cache=cache)
        emu.finish_compiling()
        assert emu.stats.compiled + emu.stats.cache_hits > 0


@pytest.mark.parametrize("native", [True, False], ids=["native-tier", "python-tier"])
@pytest.mark.parametrize("engine, optimize", JIT_MODES, ids=["jit", "jit-noopt"])
def test_functional_test_passes(engine, optimize, native):
    """Tiered as ``run`` runs it: cold code on the native interpreter, or on the Python one."""
    emu = functional(engine, optimize, native_interpreter=native)
    assert emu.stats.invalidations < 50  # rewritten operands are read at run time after one hit


def test_functional_test_uses_only_documented_opcodes():
    functional("jit", True, cpu="6502-documented")


def extended(engine: str, optimize: bool, **options) -> recomp.Emulator:
    """Klaus Dormann's 65C02 extended opcodes test, WDC build (bit instructions included)."""
    if not EXTENDED.is_file():
        pytest.skip(missing_testdata(EXTENDED))
    emu = recomp.Emulator("65c02", engine=engine, optimize=optimize, console=None, **options)
    emu.load(EXTENDED.read_bytes(), at=0)
    emu.state.pc = 0x0400
    result = emu.run(stop_on_trap=True)
    assert (result.exit, hex(result.pc)) == ("trap", "0x24f1"), f"failed in test case {emu.memory[0x202]:#x}"
    assert emu.instructions == 21_986_986
    assert emu.cycles == 66_907_084
    return emu


@pytest.mark.parametrize("native", [True, False], ids=["native-tier", "python-tier"])
@pytest.mark.parametrize("engine, optimize", JIT_MODES, ids=["jit", "jit-noopt"])
def test_65c02_extended_opcodes_test_passes(engine, optimize, native):
    extended(engine, optimize, native_interpreter=native)


@pytest.mark.slow
def test_65c02_extended_opcodes_test_passes_on_the_interpreter():
    extended("interp", True)


def test_nmos_chip_fails_the_65c02_test():
    """The 65C02 test stops early on the NMOS chip (its first 65C02 opcode is a NOP or JAM
    there), and the 65C02 fails the NMOS test (it fixed JMP ($xxFF) and decimal flags): the
    variants differ where the chips do."""
    if not EXTENDED.is_file():
        pytest.skip(missing_testdata(EXTENDED))
    emu = recomp.Emulator("6502", console=None)
    emu.load(EXTENDED.read_bytes(), at=0)
    emu.state.pc = 0x0400
    try:
        result = emu.run(stop_on_trap=True, max_instructions=50_000_000)
        assert result.pc != 0x24F1
    except GuestFault as fault:
        assert "CPU jammed" in str(fault)


@pytest.mark.parametrize("engine, optimize", JIT_MODES, ids=["jit", "jit-noopt"])
def test_decimal_test_passes(engine, optimize):
    decimal(engine, optimize)


@pytest.mark.slow
def test_functional_test_passes_on_the_interpreter():
    functional("interp", True)


@pytest.mark.slow
def test_decimal_test_passes_on_the_interpreter():
    decimal("interp", True)


def test_functional_test_from_the_cli(tmp_path):
    stats = tmp_path / "stats.json"
    done = subprocess.run(
        [sys.executable, "-m", "recomp.cli", "run", "--frontend", "6502", str(FUNCTIONAL), "--load", "0",
         "--entry", "0x400", "--stop-on-trap", "--expect-pc", "0x3469", "--stats-json", str(stats)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "trap at $3469 after 30646177 instructions" in done.stderr
    report = json.loads(stats.read_text())
    assert (report["exit"], report["pc"], report["cycles"]) == ("trap", 0x3469, 96_241_367)


def test_expect_pc_mismatch_fails(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "recomp.cli", "run", "--frontend", "6502", str(DECIMAL), "--load", "0x200",
         "--entry", "0x200", "--until", "0x24b", "--expect-pc", "0x3469"],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith("stopped at $024B, expected $3469")


def test_functional_test_prefix_one_instruction_per_region():
    """The JIT limited to one guest instruction per region, over the first 100,000 instructions
    (the whole run would be 30 million round trips through Python): same machine as default."""
    machines = []
    for options in ({}, {"region_instructions": 1}):
        emu = recomp.Emulator("6502", console=None, **options)
        emu.load(FUNCTIONAL.read_bytes(), at=0)
        emu.state.pc = 0x0400
        emu.run(max_instructions=100_000, stop_on_trap=True)
        machines.append((emu.state.pc, emu.state.a, emu.state.x, emu.state.y, emu.state.s, emu.state.p,
                         emu.instructions, emu.cycles, emu.memory[0:0x10000]))
    assert machines[0] == machines[1]
    assert machines[0][6] == 100_000


def test_explore_counts_what_the_optimizer_removes(tmp_path):
    """The optimizer's targets on the whole functional test: at least 60 % of the flag writes
    and 30 % of the icode ops gone from the path through the code (flag values deferred to the
    exits are counted apart)."""
    from recomp.opt import PASSES

    stats = tmp_path / "explore.json"
    done = subprocess.run(
        [sys.executable, "-m", "recomp.cli", "inspect", str(FUNCTIONAL), "--frontend", "6502", "--load", "0",
         "--entry", "0x400", "--explore", "--stats-json", str(stats)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(stats.read_text())
    assert set(report) == {"blocks", "guest_instructions", "ops_before", "ops_after", "flag_writes_before",
                           "flag_writes_after", "flag_writes_deferred", "passes"}
    assert report["guest_instructions"] > 7000  # the whole test, indirect jumps followed as memory stands
    assert report["ops_after"] <= 0.7 * report["ops_before"]
    assert report["flag_writes_after"] <= 0.4 * report["flag_writes_before"]
    assert report["flag_writes_after"] + report["flag_writes_deferred"] < report["flag_writes_before"]
    assert set(report["passes"]) == set(PASSES)
    assert "guest_instructions" in done.stdout


def test_65c02_extended_opcodes_test_from_the_cli():
    if not EXTENDED.is_file():
        pytest.skip(missing_testdata(EXTENDED))
    done = subprocess.run(
        [sys.executable, "-m", "recomp.cli", "run", "--cpu", "65c02", str(EXTENDED), "--load", "0", "--entry", "$400",
         "--stop-on-trap", "--expect-pc", "$24F1", "--cycles"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "trap at $24F1 after 21986986 instructions" in done.stderr and "66907084 cycles" in done.stderr

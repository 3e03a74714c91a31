"""Tom Harte's SingleStepTests (6502 v1, the first 100 cases of each of the 256 NMOS opcodes,
documented and not): one instruction from a given state must give the recorded registers,
memory and cycle count.  A JAM opcode must stop the run with "CPU jammed" and change nothing
(the data records the pc stuck on it; the chip's cycles after it are not counted).

Every case runs on the reference engine and on the native interpreter; the JIT (every region
through LLVM) runs a sample of each file, optimized and not.  The documented opcodes run under
``6502-documented`` too, which refuses the others.
"""

from __future__ import annotations

import json
from functools import cache

import pytest

import recomp
from conftest import TESTDATA, missing_testdata
from recomp.runtime import GuestFault
from recomp.runtime.tiers import JIT_THRESHOLD

SINGLESTEP = TESTDATA / "6502" / "singlestep"
UNDOCUMENTED = TESTDATA / "6502" / "singlestep-undocumented"
FOLDERS = {"": SINGLESTEP, "u": UNDOCUMENTED}  # a file's prefix in the tests' names -> its folder
FILES = sorted(prefix + path.stem for prefix, folder in FOLDERS.items() if folder.is_dir()
               for path in folder.glob("*.json"))
JAMS = {"02", "12", "22", "32", "42", "52", "62", "72", "92", "b2", "d2", "f2"}
# The v1 data records NOP abs ($0C) in 3 cycles and NOP abs,X in 4 even across a page, leaving
# out the read of the operand's address; the chip makes that read ("NMOS 6510 Unintended
# Opcodes", 64doc, Visual 6502: 4 cycles, and one more when the index crosses a page), and so
# does recomp: these cases' cycles are checked against that instead.
ABSOLUTE_NOPS = {"0c": None, "1c": "x", "3c": "x", "5c": "x", "7c": "x", "dc": "x", "fc": "x"}


def _documented_cycles(case: dict) -> int:
    """An absolute NOP's cycles on the chip: 4, and one more if its index crosses a page."""
    initial = case["initial"]
    ram = dict(initial["ram"])
    base = ram[initial["pc"] + 1] | ram[initial["pc"] + 2] << 8
    index = ABSOLUTE_NOPS[case["name"][:2]]
    return 4 + (index is not None and (base & 0xFF) + initial[index] > 0xFF)
REGISTERS = ("pc", "s", "a", "x", "y", "p")
JIT_SAMPLE = 3  # cases per file on the JIT (each is one LLVM compile)


@cache
def _cases(name: str) -> list[dict]:
    return json.loads((FOLDERS[name.rstrip("0123456789abcdef")] / f"{name.lstrip('u')}.json").read_text())


def _run_cases(cases: list[dict], cpu: str = "6502", **options) -> list[str]:
    """Run each case on one emulator; returns a description of every mismatch."""
    emu = recomp.Emulator(cpu, console=None, **options)
    expected = bytearray(0x10000)
    failures: list[str] = []
    for case in cases:
        initial, final = case["initial"], case["final"]
        for addr, value in initial["ram"]:
            emu.memory[addr] = value
        for register in REGISTERS:
            setattr(emu.state, register, initial[register])
        cycles, instructions = emu.cycles, emu.instructions
        jam = case["name"][:2] in JAMS
        if jam:
            jammed = rf"CPU jammed by \${case['name'][:2].upper()} at \${initial['pc']:04X}"
            with pytest.raises(GuestFault, match=jammed):
                emu.step()
        else:
            emu.step()
        got = {register: getattr(emu.state, register) for register in REGISTERS}
        want = {register: final[register] for register in REGISTERS}
        if not jam:
            got["cycles"], want["cycles"] = emu.cycles - cycles, len(case["cycles"])
            if case["name"][:2] in ABSOLUTE_NOPS:
                want["cycles"] = _documented_cycles(case)
        got["instructions"], want["instructions"] = emu.instructions - instructions, 0 if jam else 1
        # all of memory: the listed bytes have their final values, the rest was not touched
        for addr, value in final["ram"]:
            expected[addr] = value
        memory = emu.memory[0:0x10000]
        if memory != expected:
            got["ram"] = {a: memory[a] for a in range(0x10000) if memory[a] != expected[a]}
            want["ram"] = {a: expected[a] for a in got["ram"]}
        if got != want:
            diff = {key: (f"{got[key]}", f"expected {want[key]}") for key in want if got[key] != want[key]}
            failures.append(f"{case['name']}: {diff}")
        # back to all zeros for the next case
        for addr, _ in (*initial["ram"], *final["ram"]):
            emu.memory[addr] = 0
            expected[addr] = 0
    return failures


def _check(name: str, cases: list[dict], **options) -> None:
    failures = _run_cases(cases, **options)
    shown = "\n".join(failures[:10])
    assert not failures, f"{len(failures)} of {len(cases)} cases of {name}.json fail:\n{shown}"


@pytest.fixture(autouse=True)
def _need_data():
    if not SINGLESTEP.is_dir():
        pytest.skip(missing_testdata(SINGLESTEP))


def test_data_present():
    if not UNDOCUMENTED.is_dir():
        pytest.skip(missing_testdata(UNDOCUMENTED))
    assert len(FILES) == 256
    assert {name.lstrip("u") for name in FILES} == {f"{code:02x}" for code in range(256)}
    assert sum(len(_cases(name)) for name in FILES) == 25_600


@pytest.mark.parametrize("name", FILES)
def test_interp(name):
    _check(name, _cases(name), engine="interp")


@pytest.mark.parametrize("name", FILES)
def test_native_interpreter(name):
    """One step at a time on the native interpreter (the tier cold code runs on)."""
    _check(name, _cases(name), engine="jit", native_interpreter=True)


@pytest.mark.parametrize("name", [name for name in FILES if not name.startswith("u")])
def test_documented_only(name):
    _check(name, _cases(name)[:JIT_SAMPLE], cpu="6502-documented", engine="jit", native_interpreter=True)


@pytest.mark.parametrize("name", FILES)
def test_jit(name):
    _check(name, _cases(name)[:JIT_SAMPLE], engine="jit", jit_threshold=0)


@pytest.mark.parametrize("name", FILES)
def test_jit_unoptimized(name):
    _check(name, _cases(name)[:JIT_SAMPLE], engine="jit", jit_threshold=0, optimize=False)


@pytest.mark.parametrize("native", [False, True], ids=["python-tier", "native-tier"])
def test_jit_threshold_tiers(native):
    """With the default threshold, single steps run on the Python tier first, then
    compiled (in the background: the steps after it finished run the compiled code; under the
    native tier, on the native interpreter): the same instruction stepped again and again
    gives the same result on every tier."""
    for name in ("7d", "b1", "d0"):  # ADC abs,X; LDA (zp),Y; BNE
        for case in _cases(name)[:5]:
            emu = recomp.Emulator("6502", engine="jit", console=None, native_interpreter=native)
            for addr, value in case["initial"]["ram"]:
                emu.memory[addr] = value
            for step in range(3 * JIT_THRESHOLD):
                if step == 2 * JIT_THRESHOLD:
                    emu.finish_compiling()
                for register in REGISTERS:
                    setattr(emu.state, register, case["initial"][register])
                cycles = emu.cycles
                emu.step()
                assert {r: getattr(emu.state, r) for r in REGISTERS} == {
                    r: case["final"][r] for r in REGISTERS}, case["name"]
                assert emu.cycles - cycles == len(case["cycles"]), case["name"]
            assert emu.stats.compiled == (0 if native else 1), case["name"]

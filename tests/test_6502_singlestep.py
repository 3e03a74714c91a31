"""Tom Harte's SingleStepTests (6502 v1, the first 100 cases of each documented opcode): one
instruction from a given state must give the recorded registers, memory and cycle count.

Every case runs on the interpreter; the JIT (every region through LLVM) runs a sample of each
file, optimized and not.
"""

from __future__ import annotations

import json
from functools import cache

import pytest

import recomp
from conftest import TESTDATA, missing_testdata
from recomp.runtime.tiers import JIT_THRESHOLD

SINGLESTEP = TESTDATA / "6502" / "singlestep"
FILES = sorted(path.stem for path in SINGLESTEP.glob("*.json")) if SINGLESTEP.is_dir() else []
REGISTERS = ("pc", "s", "a", "x", "y", "p")
JIT_SAMPLE = 3  # cases per file on the JIT (each is one LLVM compile)


@cache
def _cases(name: str) -> list[dict]:
    return json.loads((SINGLESTEP / f"{name}.json").read_text())


def _run_cases(cases: list[dict], **options) -> list[str]:
    """Run each case on one emulator; returns a description of every mismatch."""
    emu = recomp.Emulator("6502", console=None, **options)
    expected = bytearray(0x10000)
    failures: list[str] = []
    for case in cases:
        initial, final = case["initial"], case["final"]
        for addr, value in initial["ram"]:
            emu.memory[addr] = value
        for register in REGISTERS:
            setattr(emu.state, register, initial[register])
        cycles, instructions = emu.cycles, emu.instructions
        emu.step()
        got = {register: getattr(emu.state, register) for register in REGISTERS}
        want = {register: final[register] for register in REGISTERS}
        got["cycles"], want["cycles"] = emu.cycles - cycles, len(case["cycles"])
        got["instructions"], want["instructions"] = emu.instructions - instructions, 1
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
    assert len(FILES) == 151
    assert sum(len(_cases(name)) for name in FILES) == 15_100


@pytest.mark.parametrize("name", FILES)
def test_interp(name):
    _check(name, _cases(name), engine="interp")


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

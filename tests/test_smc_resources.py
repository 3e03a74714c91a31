"""Self-modifying programs that run for long: a translation dropped by a store comes back when
memory holds its bytes again (no re-translating, no recompiling), and compiled code whose
translations are gone is freed, so memory stays bounded however long the program runs."""

from __future__ import annotations

import gc
import weakref
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recomp
from conftest import MODES_6502
from recomp.backend.jit import ARENA_FUNCTIONS, Arena
from recomp.runtime.translations import RETIRED

# $0200 LDA $0208; EOR #$20; STA $0208; INX / INY (the store toggles it); JMP $0200
TOGGLE = bytes([0xAD, 0x08, 0x02, 0x49, 0x20, 0x8D, 0x08, 0x02, 0xE8, 0x4C, 0x00, 0x02])

# $0200 INC $20; LDY $20; JMP $0210; $0207 NOP; the two one-byte instructions at $0208 and $0209;
# JMP $0200.  $0210 LDA $0300,Y; STA $0208; LDA $0400,Y; STA $0209; JMP $0208: each pass patches
# them from tables at $0300 and $0400, indexed by the pass counter at $20
CYCLER_CODE = bytes([0xE6, 0x20, 0xA4, 0x20, 0x4C, 0x10, 0x02, 0xEA, 0xEA, 0xEA, 0x4C, 0x00, 0x02, 0xEA, 0xEA,
                     0xEA, 0xB9, 0x00, 0x03, 0x8D, 0x08, 0x02, 0xB9, 0x00, 0x04, 0x8D, 0x09, 0x02, 0x4C, 0x08,
                     0x02])


def cycler(first: list[int], second: list[int]) -> dict[int, bytes]:
    """The cycler patching in ``first[i % len]`` and ``second[i // len(first) % len]`` at pass i."""
    return {0x0200: CYCLER_CODE,
            0x0300: bytes(first[i % len(first)] for i in range(256)),
            0x0400: bytes(second[i // len(first) % len(second)] for i in range(256))}


# one-byte instructions that neither jump nor touch the stack: 12 x 12 pairs are more patterns
# than translations are kept aside
OPCODES = [0xE8, 0xC8, 0xCA, 0x88, 0xEA, 0x18, 0x38, 0xD8, 0xB8, 0xAA, 0xA8, 0x8A]
IMPLIED = [*OPCODES, 0x98, 0x0A, 0x4A, 0x2A, 0x6A, 0xF8, 0x78, 0x58]
CYCLER = cycler(OPCODES, OPCODES)


def machine(program: dict[int, bytes], **options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, **options)
    for at, code in program.items():
        emu.load(code, at=at)
    emu.state.pc = 0x0200
    return emu


def look(emu: recomp.Emulator) -> tuple:
    st = emu.state
    return st.pc, st.a, st.x, st.y, st.p, emu.instructions, emu.cycles, emu.memory[0:0x10000]


# every mode that translates this loop: tiered, the native interpreter would run its 20,000
# instructions without translating, so the tiered mode here is the Python tier's
MODES = {mode: options for mode, options in MODES_6502.items() if mode != "jit-tiered"}
MODES["python-tier"] = dict(engine="jit", optimize=True, jit_threshold=8, native_interpreter=False)


@pytest.mark.parametrize("mode", list(MODES))
def test_a_toggled_instruction_is_translated_once_per_form(mode):
    """4,000 stores into the loop's own code: nothing is translated or compiled again after the
    first passes (the dropped translations come back), and the machine ends as without reuse.
    At most 15 translations: five entry addresses (one-instruction regions), each translated in
    both forms, and once more before the toggled byte became volatile."""
    emu = machine({0x0200: TOGGLE}, **MODES[mode])
    emu.run(max_instructions=20_000)
    assert emu.stats.invalidations >= 3_990
    assert emu.stats.regions <= 15 and emu.stats.compiled <= 15
    assert emu.stats.reused >= emu.stats.invalidations - 15
    assert look(emu) == toggled_without_reuse()


@cache
def toggled_without_reuse():
    """The toggling machine after 20,000 instructions on the reference engine, every translation
    made anew (the same for every mode: made once)."""
    reference = machine({0x0200: TOGGLE}, engine="interp", optimize=False)
    reference.translations.revive = lambda key: None
    reference.run(max_instructions=20_000)
    return look(reference)


def test_compiled_code_of_dropped_translations_is_freed():
    """Hundreds of compiles of ever new code: only the arenas of code still in use (live or
    kept aside) stay; the rest went, and their code with them."""
    emu = machine(CYCLER, jit_threshold=0)
    emu.run(max_instructions=1_200)
    assert emu.stats.compiled > 3 * RETIRED
    live = list(emu.translations)
    compiled = [weakref.ref(t.compiled) for _, t in live if t.compiled is not None]
    gc.collect()
    arenas = [o for o in gc.get_objects() if isinstance(o, Arena)]
    assert len(arenas) <= (RETIRED + len(live)) // ARENA_FUNCTIONS + 4  # (+ the current and the permanent)
    assert all(ref() is not None for ref in compiled)
    reference = machine(CYCLER, engine="interp", optimize=False)
    reference.run(max_instructions=1_200)
    assert look(emu) == look(reference)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.lists(st.sampled_from(IMPLIED), min_size=1, max_size=6),
       second=st.lists(st.sampled_from(IMPLIED), min_size=1, max_size=6),
       mode=st.sampled_from(sorted(MODES)), steps=st.integers(1, 3_000))
def test_patched_code_agrees_with_py65(first, second, mode, steps):
    """Random patterns patched into a loop's code, the dropped translations coming back as the
    patterns recur: every register, flag, cycle and byte of memory as py65 has them."""
    py65 = pytest.importorskip("py65.devices.mpu6502")
    program = cycler(first, second)
    emu = machine(program, **MODES[mode])
    memory = bytearray(0x10000)
    for at, code in program.items():
        memory[at:at + len(code)] = code
    mpu = py65.MPU(memory=memory, pc=0x0200)
    emu.state.s, emu.state.p = 0xFD, 0x24
    mpu.sp, mpu.p = 0xFD, 0x24
    for _ in range(steps):
        mpu.step()
    emu.run(max_instructions=steps)
    cpu = emu.state
    assert (cpu.pc, cpu.a, cpu.x, cpu.y, cpu.s, cpu.p, emu.cycles) == \
        (mpu.pc, mpu.a, mpu.x, mpu.y, mpu.sp, mpu.p & ~0x10 | 0x20, mpu.processorCycles)
    assert emu.memory[0:0x10000] == memory

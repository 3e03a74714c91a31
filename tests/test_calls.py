"""Regions follow calls: a JSR's callee and the code it returns to are lifted into the caller's
region, and RTS becomes ``jump_ind`` over the region's return addresses.  Exact when the return
goes elsewhere: the classic inline-data subroutine moves its return address past the bytes
after its JSR, and every engine and mode must end in py65's machine."""

from __future__ import annotations

import io

import pytest

import recomp
from conftest import MODES_6502
from recomp.ir import format_region

# 0200 LDX #0
# 0202 JSR $0300; .byte $11, $22   (the subroutine returns past the two bytes)
# 0207 INX; JSR $0320              (INY; RTS)
# 020B CPX #$40; BNE $0202; JMP *
PROGRAM = {
    0x0200: bytes([0xA2, 0x00, 0x20, 0x00, 0x03, 0x11, 0x22, 0xE8, 0x20, 0x20, 0x03, 0xE0, 0x40, 0xD0, 0xF3,
                   0x4C, 0x0F, 0x02]),
    # 0300 PLA; CLC; ADC #2; STA $10; PLA; ADC #0; PHA; LDA $10; PHA; RTS
    0x0300: bytes([0x68, 0x18, 0x69, 0x02, 0x85, 0x10, 0x68, 0x69, 0x00, 0x48, 0xA5, 0x10, 0x48, 0x60]),
    0x0320: bytes([0xC8, 0x60]),  # INY; RTS
}


def machine(**options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **options)
    for at, code in PROGRAM.items():
        emu.load(code, at=at)
    emu.state.pc, emu.state.s = 0x0200, 0xFF
    return emu


def end(emu: recomp.Emulator) -> tuple:
    result = emu.run(stop_on_trap=True, max_instructions=100_000)
    st = emu.state
    return result.exit, result.pc, st.a, st.x, st.y, st.s, st.p, emu.instructions, emu.cycles, emu.memory[0:0x400]


def py65_end() -> tuple:
    from py65.devices.mpu6502 import MPU

    mpu = MPU()
    for at, code in PROGRAM.items():
        mpu.memory[at:at + len(code)] = list(code)
    mpu.pc, mpu.sp = 0x0200, 0xFF
    instructions = 0
    while mpu.pc != 0x020F:
        mpu.step()
        instructions += 1
    mpu.step()  # the trap, JMP *, once
    return (mpu.a, mpu.x, mpu.y, mpu.sp, mpu.p | 0x30, instructions + 1, mpu.processorCycles,
            bytes(mpu.memory[0:0x400]))


@pytest.mark.parametrize("mode", MODES_6502)
def test_a_return_moved_past_inline_data_leaves_for_where_it_says(mode):
    exit, pc, a, x, y, s, p, instructions, cycles, memory = end(machine(**MODES_6502[mode]))
    assert (exit, pc, x, y) == ("trap", 0x020F, 0x40, 0x40)
    reference = py65_end()
    assert (a, x, y, s, p | 0x30, instructions, cycles, memory) == reference


def test_the_region_holds_the_callees_and_returns_inside_it():
    emu = machine()
    lifted = emu.pipeline.translate(emu.pipeline.lift(0x0200), False, emu.pipeline.entry_facts())
    text = format_region(lifted.region)
    instructions = {op.args[0] for op in lifted.region.ops() if op.name == "insn"}
    assert {0x0300, 0x030D, 0x0320, 0x0205, 0x020B} <= instructions  # both callees, the code after both calls
    assert "jump_ind" in text and "exit_ind" not in text
    assert end(machine(jit_threshold=0)) == end(machine(engine="interp"))

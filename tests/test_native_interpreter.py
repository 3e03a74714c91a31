"""The native interpreter tier: every opcode lifted once, at a placeholder address, must not
depend on that address except through constants the lowering makes pc-relative; and programs
run on it agree with the reference interpreter."""

from __future__ import annotations

import io

import pytest

import recomp
from recomp.frontends import get_frontend
from recomp.frontends.opcodes import OPERAND_BYTES, lift_opcodes, placeholder
from recomp.ir.core import Region
from recomp.ir.text import format_op
from recomp.ir.types import I16


def relative_text(region: Region, at: int) -> list[str]:
    """The region's ops, with the address constants the interpreter relocates as ``pc+k``."""
    def name(value: int) -> str:
        return f"pc+{value - at}" if 0 <= value - at <= OPERAND_BYTES else str(value)

    lines = []
    for op in region.ops():
        if op.name == "const" and op.result.type == I16:
            lines.append(f"{op.result} = const {name(op.args[0])}")
        elif op.spec.operands and op.spec.operands[-1] == "a":
            lines.append(f"{op.name} {' '.join(str(a) for a in op.args[:-1])} {name(op.args[-1])}")
        elif op.name == "insn":
            lines.append(f"insn {name(op.args[0])} {op.args[1]}")
        elif "b" in op.spec.operands:  # block labels hold addresses: X4002
            labels = [f"{a[0]}{name(int(a[1:], 16))}" if isinstance(a, str) else str(a) for a in op.args]
            lines.append(f"{op.name} {' '.join(labels)}")
        else:
            lines.append(format_op(op))
    return lines


@pytest.mark.parametrize("cpu", ["6502", "6502-documented", "65c02"])
def test_every_opcode_is_lifted_once_for_all_addresses(cpu):
    """Every opcode of each variant but the JAMs (which stop the CPU: the interpreter faults)."""
    frontend = get_frontend(cpu)
    here, there = placeholder(frontend), 0x9A40
    lifts, moved = lift_opcodes(frontend).opcodes, lift_opcodes(frontend, there).opcodes
    opcodes = frontend.variant.opcodes
    assert sorted(lift.opcode for lift in lifts) == sorted(c for c, op in opcodes.items() if op.mnemonic != "JAM")
    for lift, other in zip(lifts, moved):
        assert relative_text(lift.region, here) == relative_text(other.region, there), f"${lift.opcode:02X}"


BRANCHES = {"BCC", "BCS", "BEQ", "BMI", "BNE", "BPL", "BVC", "BVS", "JMP", "JSR"}


@pytest.mark.parametrize("cpu, more", [("6502", set()), ("65c02", {"BRA", "WAI", *(f"BB{k}{n}" for k in "RS"
                                                                                   for n in range(8))})])
def test_jumps_to_themselves_are_traps_as_in_compiled_code(cpu, more):
    frontend = get_frontend(cpu)
    opcodes = frontend.variant.opcodes
    traps = {opcodes[lift.opcode].mnemonic for lift in frontend.opcode_lifts().opcodes if lift.traps}
    assert traps == BRANCHES | more


@pytest.mark.parametrize("background", [False, True], ids=["at-once", "background"])
@pytest.mark.parametrize("name", ["sieve", "bcd"])
def test_hot_code_is_compiled_from_the_interpreter(name, background):
    """Tiered: the kernel starts on the native interpreter, its loop gets hot and compiled (at
    once, or in the background while the interpreter goes on), and the machine ends as with
    every region compiled (tested against py65 in test_6502_kernels)."""
    from recomp.data import data_path

    def run(**options) -> tuple:
        emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **options)
        emu.load(data_path("benchmarks", "6502", f"{name}.bin").read_bytes(), at=0x0200)
        emu.state.pc = 0x0200
        result = emu.run(stop_on_trap=True, max_instructions=50_000_000)
        return emu, (result.pc, emu.state.a, emu.state.x, emu.state.y, emu.state.p, emu.instructions,
                     emu.cycles, emu.memory[0:0x10000])

    tiered, got = run(compile_in_background=background)
    tiered.finish_compiling()
    assert tiered.stats.compiled >= 1 and tiered.stats.regions == tiered.stats.compiled
    assert got == run(jit_threshold=0)[1]


# 0200 LDA #0; STA $10          outer count
# 0204 LDY #0                   o:
# 0206 LDX #0                   m:
# 0208 INX; BNE $0208           i: the hot loop
# 020B DEY; BNE $0206
# 020E LDA #$11                 p: its immediate is patched halfway
# 0210 CLC; ADC $20; STA $20    sum the immediates
# 0215 INC $10; LDA $10; CMP #16; BNE $0222
# 021D LDA #$22; STA $020F      patch p
# 0222 CMP #32; BNE $0204
# 0226 JMP $0226
HOT_THEN_PATCHED = bytes([
    0xA9, 0x00, 0x85, 0x10, 0xA0, 0x00, 0xA2, 0x00, 0xE8, 0xD0, 0xFD, 0x88, 0xD0, 0xF8, 0xA9, 0x11,
    0x18, 0x65, 0x20, 0x85, 0x20, 0xE6, 0x10, 0xA5, 0x10, 0xC9, 0x10, 0xD0, 0x05, 0xA9, 0x22, 0x8D,
    0x0F, 0x02, 0xC9, 0x20, 0xD0, 0xDE, 0x4C, 0x26, 0x02,
])


def test_code_compiled_from_the_interpreter_is_invalidated_when_patched():
    """The loop gets hot on the interpreter and is compiled with the code after it; halfway the
    program patches an immediate there: the compiled region goes, the new value is used.
    (Compiled at once: in the background, the program may end before its code is ready.)"""
    def run(**options) -> recomp.Emulator:
        emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **options)
        emu.load(HOT_THEN_PATCHED, at=0x0200)
        emu.state.pc = 0x0200
        result = emu.run(stop_on_trap=True, max_instructions=10_000_000)
        assert (result.exit, result.pc) == ("trap", 0x0226)
        return emu

    tiered = run(compile_in_background=False)
    assert tiered.memory[0x20] == (16 * 0x11 + 16 * 0x22) & 0xFF
    assert tiered.stats.compiled >= 1 and tiered.stats.invalidations >= 1
    compiled = run(jit_threshold=0)
    assert (tiered.instructions, tiered.cycles, tiered.memory[0:0x10000]) == \
        (compiled.instructions, compiled.cycles, compiled.memory[0:0x10000])

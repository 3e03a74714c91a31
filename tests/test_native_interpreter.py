"""The native interpreter tier: every opcode lifted once, at a placeholder address, must not
depend on that address except through constants the lowering makes pc-relative; and programs
run on it agree with the reference interpreter."""

from __future__ import annotations

import io

import pytest

import recomp
from recomp.backend.interpreter import OPERAND_BYTES, lift_opcodes, placeholder
from recomp.frontends import get_frontend
from recomp.frontends.mos6502.table import OPCODES
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


def test_every_opcode_is_lifted_once_for_all_addresses():
    frontend = get_frontend("6502")
    here, there = placeholder(frontend), 0x9A40
    lifts, moved = lift_opcodes(frontend), lift_opcodes(frontend, there)
    assert sorted(lift.opcode for lift in lifts) == sorted(OPCODES)
    for lift, other in zip(lifts, moved):
        assert relative_text(lift.region, here) == relative_text(other.region, there), f"${lift.opcode:02X}"


def test_jumps_to_themselves_are_traps_as_in_compiled_code():
    traps = {OPCODES[lift.opcode].mnemonic for lift in lift_opcodes(get_frontend("6502")) if lift.traps}
    assert traps == {"BCC", "BCS", "BEQ", "BMI", "BNE", "BPL", "BVC", "BVS", "JMP", "JSR"}


@pytest.mark.parametrize("name", ["sieve", "bcd"])
def test_hot_code_is_compiled_from_the_interpreter(name):
    """Tiered: the kernel starts on the native interpreter, its loop gets hot and compiled, and
    the machine ends as with every region compiled (tested against py65 in test_6502_kernels)."""
    from recomp.data import data_path

    def run(**options) -> tuple:
        emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **options)
        emu.load(data_path("benchmarks", "6502", f"{name}.bin").read_bytes(), at=0x0200)
        emu.state.pc = 0x0200
        result = emu.run(stop_on_trap=True, max_instructions=50_000_000)
        return emu, (result.pc, emu.state.a, emu.state.x, emu.state.y, emu.state.p, emu.instructions,
                     emu.cycles, emu.memory[0:0x10000])

    tiered, got = run()
    assert tiered.stats.compiled >= 1 and tiered.stats.regions == tiered.stats.compiled
    assert got == run(jit_threshold=0)[1]

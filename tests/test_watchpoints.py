"""Watchpoints (``emulator.watch``, ``recomp run --watch``): a run stops right after the
instruction that wrote (or read) a watched range, in every engine mode, where py65, watching its
memory, saw the first such write; the report names the address, the value and the instruction."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, MODES_6502
from recomp.frontends.mos6502.table import OPCODES
from recomp.runtime import Emulator
from recomp.runtime.result import Stop
from test_6502_py65 import DEC_ABS, JSR, WrapMemory, machines, py65
from test_breakpoints import snapshot, start


class Watched(WrapMemory):
    """py65's memory, noting each write into ``span`` (address, value)."""

    def __init__(self, data: bytearray, span: range) -> None:
        super().__init__(data)
        self.span, self.writes = span, []

    def __setitem__(self, addr: int, value: int) -> None:
        if addr & 0xFFFF in self.span:
            self.writes.append((addr & 0xFFFF, value))
        super().__setitem__(addr, value)


def first_write(machine, n: int, memory: bytearray, span: range, all_writes: bool = False):
    """Where py65 first writes into ``span`` within ``n`` instructions: (instructions run, pc of
    the writing instruction, address, value), or None (also when py65 cannot be trusted: an
    illegal opcode, its JSR and DEC abs quirks); ``all_writes``: the addresses of every write
    in the instructions it can be trusted on."""
    watched = Watched(bytearray(memory), span)
    mpu = py65.MPU(memory=watched, pc=machine.pc)
    mpu.a, mpu.x, mpu.y, mpu.sp, mpu.p = machine.a, machine.x, machine.y, machine.s, machine.p
    for count in range(1, n + 1):
        pc, code = mpu.pc, watched.data[mpu.pc]
        if code not in OPCODES or code in (JSR, DEC_ABS):
            break
        mpu.step()
        if watched.writes and not all_writes:
            addr, value = watched.writes[0]
            return count, pc, addr, value
    return [addr for addr, _ in watched.writes] if all_writes else None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.filter_too_much])
@given(machines(), st.integers(0, 63), st.integers(0, 7), st.integers(0, 7), st.sampled_from(sorted(MODES_6502)))
def test_write_watchpoints_stop_where_py65_writes(case, pick, before, after, mode):
    machine, n = case
    memory = machine.memory
    written = first_write(machine, n, memory, range(0x10000), all_writes=True)
    assume(written)
    addr = written[pick % len(written)]  # watch around a byte the program writes
    span = range(max(0, addr - before), min(0xFFFF, addr + after) + 1)
    expected = first_write(machine, n, memory, span)
    assume(expected is not None)
    count, pc, addr, value = expected
    emu = start(machine, memory, **MODES_6502[mode])
    emu.watch(span.start, span.stop - 1, on="w")
    result = emu.run(max_instructions=n)
    assert result.exit == Stop.WATCHPOINT and result.instructions == count
    assert (result.watch.pc, result.watch.addr, result.watch.value, result.watch.access) == (pc, addr, value, "write")
    stepped = start(machine, memory, engine="interp")
    stepped.run(max_instructions=count)
    assert snapshot(emu) == snapshot(stepped)  # every register, counter and byte, as after `count` instructions


def test_read_watchpoints_and_removing_them():
    # LDX #0; loop: INX; STX $0300; LDA $0301; CPX #5; BNE loop; JMP *
    code = bytes([0xA2, 0x00, 0xE8, 0x8E, 0x00, 0x03, 0xAD, 0x01, 0x03, 0xE0, 0x05, 0xD0, 0xF5, 0x4C, 0x0D, 0x02])
    for options in MODES_6502.values():
        emu = Emulator("6502", console=None, **options)
        emu.load(code, 0x200)
        emu.state.pc = 0x200
        reads = emu.watch("$0301", on="r")
        hit = emu.run(stop_on_trap=True)
        assert (hit.exit, hit.pc, hit.instructions) == (Stop.WATCHPOINT, 0x209, 4)
        assert (hit.watch.access, hit.watch.addr, hit.watch.pc) == ("read", 0x301, 0x206)
        emu.unwatch(reads)
        assert emu.run(stop_on_trap=True).exit == Stop.TRAP and emu.state.x == 5
        assert emu.memory[0x300] == 5  # the watched byte was written through to memory


def test_watch_from_the_cli():
    hello = EXAMPLES / "6502" / "hello.bin"
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(hello), "--load", "$200", "--entry",
                           "$200", "--watch", "$0214-$0215:r"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ("recomp: watchpoint: read of $48 at $0214 by the instruction at $0206; "
                           "stopped at $0209 after 5 instructions\n")
    bad = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(hello), "--entry", "$200", "--watch",
                          "$0300:x"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("recomp: error: --watch $0300:x:")

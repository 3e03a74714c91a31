"""Watchpoints (``emulator.watch``, ``recomp run --watch``): a run stops right after the
instruction that wrote (or read) a watched range, in every engine mode, where py65, watching its
memory, saw the first such access; the report names the address, the value and the instruction.
Code runs in its tier meanwhile, and setting a watch drops only the code that may reach it."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, MODES_6502
from recomp.frontends.mos6502.table import DOCUMENTED as OPCODES
from recomp.runtime import Emulator
from recomp.runtime.result import Stop
from test_6502_py65 import BRK, DEC_ABS, JSR, Machine, WrapMemory, machines, py65
from test_breakpoints import snapshot, start


class Watched(WrapMemory):
    """py65's memory, noting each write into ``span`` (address, value), and each read of it
    that is not the fetch of the instruction's own bytes (``fetching``)."""

    def __init__(self, data: bytearray, span: range) -> None:
        super().__init__(data)
        self.span, self.writes, self.reads, self.fetching = span, [], [], range(0)

    def __getitem__(self, addr: int) -> int:
        value = super().__getitem__(addr)
        if addr & 0xFFFF in self.span and addr not in self.fetching:
            self.reads.append((addr & 0xFFFF, value))
        return value

    def __setitem__(self, addr: int, value: int) -> None:
        if addr & 0xFFFF in self.span:
            self.writes.append((addr & 0xFFFF, value))
        super().__setitem__(addr, value)


def first_access(machine, n: int, memory: bytearray, span: range, on: str, every: bool = False):
    """Where py65 first reads (``on="r"``) or writes (``"w"``) ``span`` within ``n`` instructions:
    (instructions run, pc of the instruction, address, value), or None; ``every``: the addresses
    of every such access.  py65 is trusted up to an illegal opcode, its JSR and DEC abs quirks,
    a BRK that jumps to itself (recomp stops after it, a fault) and, for reads, an instruction
    whose own bytes are in ``span`` (a fetch and a read it cannot tell apart); the fetch of an
    instruction's bytes is not a read."""
    watched = Watched(bytearray(memory), span)
    accesses = watched.reads if on == "r" else watched.writes
    mpu = py65.MPU(memory=watched, pc=machine.pc)
    mpu.a, mpu.x, mpu.y, mpu.sp, mpu.p = machine.a, machine.x, machine.y, machine.s, machine.p
    for count in range(1, n + 1):
        pc, code = mpu.pc, watched.data[mpu.pc]
        if code not in OPCODES or code in (JSR, DEC_ABS):
            break
        watched.fetching = range(pc, pc + OPCODES[code].length)
        if on == "r" and not every and any(addr & 0xFFFF in span for addr in watched.fetching):
            break
        mpu.step()
        if accesses and not every:
            addr, value = accesses[0]
            return count, pc, addr, value
        if code == BRK and mpu.pc == pc:  # it would push and jump for ever: recomp stops there, a fault
            break
    return [addr for addr, _ in accesses] if every else None


@pytest.mark.parametrize("on", ["r", "w"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.filter_too_much])
@given(case=machines(), pick=st.integers(0, 63), before=st.integers(0, 7), after=st.integers(0, 7),
       mode=st.sampled_from(sorted(MODES_6502)))
# BRK through a vector to a BRK that jumps to itself: recomp stops after its pushes (a fault), and
# py65 goes on to push again
@example(case=(Machine(pc=0, a=0, x=0, y=0, s=0, p=32, seed=10925, pokes={}, program=b"\x00"), 3), pick=6,
         before=0, after=0, mode="interp")
def test_watchpoints_stop_where_py65_accesses(on, case, pick, before, after, mode):
    machine, n = case
    memory = machine.memory
    accessed = first_access(machine, n, memory, range(0x10000), on, every=True)
    assume(accessed)
    addr = accessed[pick % len(accessed)]  # watch around a byte the program reads or writes
    span = range(max(0, addr - before), min(0xFFFF, addr + after) + 1)
    expected = first_access(machine, n, memory, span, on)
    assume(expected is not None)
    count, pc, addr, value = expected
    emu = start(machine, memory, **MODES_6502[mode])
    emu.watch(span.start, span.stop - 1, on=on)
    result = emu.run(max_instructions=n)
    assert result.exit == Stop.WATCHPOINT and result.instructions == count
    access = {"r": "read", "w": "write"}[on]
    assert (result.watch.pc, result.watch.addr, result.watch.value, result.watch.access) == (pc, addr, value, access)
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
    newline = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(hello), "--load", "$200", "--entry",
                              "$200", "--watch", "$F001:w=$0A"], capture_output=True, text=True)
    assert newline.stdout == "Hello, 6502!\n" and newline.stderr.startswith("recomp: watchpoint: write of $0A at $F001")
    bad = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(hello), "--entry", "$200", "--watch",
                          "$0300:x"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("recomp: error: --watch $0300:x:")


# LDX #0; LDY #0; loop: INY; BNE loop; INX; STX $0300; LDA $0301; CPX #$40; BNE loop; JMP *
COUNTING = bytes([0xA2, 0x00, 0xA0, 0x00, 0xC8, 0xD0, 0xFD, 0xE8, 0x8E, 0x00, 0x03, 0xAD, 0x01, 0x03,
                  0xE0, 0x40, 0xD0, 0xF2, 0x4C, 0x12, 0x02])


def counting(**options) -> Emulator:
    emu = Emulator("6502", console=None, **options)
    emu.load(COUNTING, 0x200)
    emu.state.pc = 0x200
    return emu


@pytest.mark.parametrize("on", ["r", "w"])
def test_a_watchpoint_set_in_compiled_code_drops_only_what_accesses_it(on):
    emu = counting(jit_threshold=0)
    emu.run(max_instructions=5000)  # the loops are compiled and running

    def translations() -> dict:
        return {key.pc: translation for key, translation in emu.translations}

    before = translations()
    emu.watch("$0400", "$04FF", on=on)  # nothing accesses it: the compiled code stays
    assert translations() == before
    assert emu.run(max_instructions=20000).exit == Stop.MAX_INSTRUCTIONS
    before = translations()
    emu.watch("$0300", "$0301", on=on)  # the outer loop accesses it: only the code with that loop goes
    assert translations() == {pc: t for pc, t in before.items() if not {0x208, 0x20B} & t.covers}
    hit = emu.run(stop_on_trap=True)
    assert hit.exit == Stop.WATCHPOINT
    addr, pc, value = (0x300, 0x208, emu.state.x) if on == "w" else (0x301, 0x20B, 0)
    assert (hit.watch.addr, hit.watch.pc, hit.watch.value, hit.pc) == (addr, pc, value, pc + 3)
    stepped = counting(engine="interp")
    stepped.run(max_instructions=hit.instructions)
    assert snapshot(emu) == snapshot(stepped)


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_watchpoints_run_at_full_speed_until_they_hit(mode):
    """Every hit in a run of 33,000 instructions, each stop exact: the code between them runs in
    its tier's translations, not one instruction at a time."""
    emu = counting(**MODES_6502[mode])
    emu.watch("$0300", on="w")
    stops = []
    while (result := emu.run(stop_on_trap=True)).exit == Stop.WATCHPOINT:
        stops.append((result.instructions, result.watch.value))
    assert result.exit == Stop.TRAP and stops == [(516 + 517 * (k - 1), k) for k in range(1, 0x41)]
    assert not any(key.single for key, _ in emu.translations)  # no instruction ran on its own


def test_a_watchpoint_on_a_device_register():
    output = io.StringIO()
    emu = Emulator("6502", output=output)
    emu.load((EXAMPLES / "6502" / "hello.bin").read_bytes(), 0x200)
    emu.state.pc = 0x200
    emu.watch("$F001", on="w")  # the console's output register: the character is written, then the run stops
    hit = emu.run()
    assert hit.exit == Stop.WATCHPOINT and hit.watch.value == ord("H") and output.getvalue() == "H"


def test_a_read_watch_in_the_code_after_a_region_is_seen_by_its_optimizer():
    """The optimizer drops a region's flag writes that the code after its exits overwrites; a
    read watch there can stop the run in between, so that code is looked at with its checks,
    and setting one drops the regions that looked at code reaching it."""
    # hypothesis found it: ADC ($00,X) sets C, BIT $00 stops on the watch, LSR $00,X would set C
    machine = Machine(pc=1, a=122, x=1, y=0, s=0, p=32, seed=0, pokes={}, program=b"a\x00$\x00V\x00")
    emu = start(machine, machine.memory, **MODES_6502["jit-single"])
    emu.watch("$0000", on="r")
    hit = emu.run(max_instructions=5)
    assert (hit.exit, hit.instructions, hit.watch.pc) == (Stop.WATCHPOINT, 2, 0x0003) and emu.state.C == 1
    # CLC; LDA #$FF; ADC #$01 (C=1); BIT $10; LSR A (C=0); JMP $0200: compiled, then watched
    emu = Emulator("6502", console=None, **MODES_6502["jit-single"])
    emu.load(bytes.fromhex("18 A9 FF 69 01 24 10 4A 4C 00 02"), 0x200)
    emu.state.pc = 0x200
    emu.run(max_instructions=1000)
    emu.watch("$0010", on="r")
    hit = emu.run()
    assert (hit.exit, hit.pc, hit.watch.pc, emu.state.C) == (Stop.WATCHPOINT, 0x207, 0x205, 1)


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_a_watchpoint_on_a_value(mode):
    """Only the access of that value stops the run: the fifth store of X to $0300, the read of
    $0301 after it; the accesses before it run on."""
    emu = counting(**MODES_6502[mode])
    emu.watch("$0300", on="w", value=5)
    hit = emu.run(stop_on_trap=True)
    assert (hit.exit, hit.instructions, hit.watch.value, emu.state.x) == (Stop.WATCHPOINT, 516 + 517 * 4, 5, 5)
    emu.unwatch(emu.watches[0])
    emu.memory[0x301] = 7
    emu.watch("$0301", on="r", value=7)
    hit = emu.run(stop_on_trap=True)
    assert (hit.exit, hit.pc, hit.watch.pc, hit.watch.value) == (Stop.WATCHPOINT, 0x20E, 0x20B, 7)
    stepped = counting(engine="interp")
    stepped.memory[0x301] = 7
    stepped.run(max_instructions=hit.instructions)
    assert snapshot(emu) == snapshot(stepped)
    again = emu.run(stop_on_trap=True)  # each time round
    assert (again.exit, again.instructions - hit.instructions) == (Stop.WATCHPOINT, 517)

"""Differential tests against py65's NMOS 6502 and 65C02: random machine states and random
programs run for a random number of instructions on py65 (one ``step()`` at a time) and on
recomp (one ``run(max_instructions=N)``), in every engine mode; registers, flags, all of memory,
the instruction count and the cycle count must agree.

NMOS: programs of documented opcodes (py65 has no others).  Memory outside the program is random
too, with every undocumented opcode byte replaced by a documented one except two JAMs, so
control flow that leaves the program (computed jumps, RTS/RTI from a random stack, BRK through a
random vector) mostly runs on through more documented code, and sometimes reaches a JAM: recomp
must then raise ``GuestFault`` ("CPU jammed") at exactly the instruction py65 would have reached,
with the state of the instructions before.

65C02: programs of every opcode py65's 65C02 has (it lacks BBR, BBS, WAI, STP and the NOPs WDC
left unused: Klaus Dormann's 65C02 test and hand-written cases cover those); a run stops short of
one, of a decimal-mode ADC or SBC (py65's 65C02 sets the NMOS chip's flags there; see
``test_65c02_decimal_mode``), and of a (zp) instruction whose pointer is at $FF (py65 reads its
high byte from $0100; the chip wraps within page zero, as for (zp),Y).  py65's 65C02 cycle
table has four errors, corrected as DEC abs is (``py65_cycle_errata``): BRA takes 3 cycles,
not 2; ASL, LSR, ROL and ROR abs,X take 6 unless the index crosses a page (py65: 7 always);
BIT abs,X takes one more across a page.

Decimal mode: py65's NMOS ADC and SBC agree with the chip on A, C and on N, V and Z too (N and V
from the intermediate decimal sum for ADC, Z from the binary sum; binary flags for SBC); the
README of the test data reports py65 passing every register check of the SingleStepTests, where
half the ADC cases start with D=1.  So P is compared in full, decimal or not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import recomp
from recomp.frontends.mos6502 import VARIANTS, Mos6502, Variant, disassemble
from recomp.frontends.mos6502.table import DOCUMENTED as OPCODES
from recomp.runtime import GuestFault
from recomp.runtime.emulator import RunResult

py65 = pytest.importorskip("py65.devices.mpu6502")
py65c02 = pytest.importorskip("py65.devices.mpu65c02")

B_BIT, UNUSED_BIT = 0x10, 0x20
JSR = 0x20
BRK = 0x00
DEC_ABS = 0xCE  # py65 1.2 counts 3 cycles for DEC abs; the chip takes 6 (see the test data README)
DEC_ABS_CYCLES = 6
# undocumented bytes left in the random background: two JAMs
KEPT_ILLEGAL = (0x02, 0x22)
DOCUMENTED = sorted(OPCODES)
DECIMAL_OPS = {c for c, op in VARIANTS["65c02"].opcodes.items() if op.mnemonic in ("ADC", "SBC")}  # both chips


@dataclass(frozen=True)
class Chip:
    """A CPU as both sides run it: recomp's variant, py65's MPU, the opcodes py65 runs right."""

    variant: Variant
    mpu: type
    opcodes: tuple[int, ...]
    background: bytes  # the random background's bytes, through this table

    @staticmethod
    def make(variant: Variant, mpu: type, opcodes: list[int], kept: tuple[int, ...] = ()) -> Chip:
        background = bytes(b if b in opcodes or b in kept else opcodes[b % len(opcodes)] for b in range(256))
        return Chip(variant, mpu, tuple(opcodes), background)


_WDC_ONLY = ("BBR", "BBS", "WAI", "STP")  # what py65's 65C02 lacks, with the NOPs WDC left unused
NMOS = Chip.make(VARIANTS["6502"], py65.MPU, DOCUMENTED, KEPT_ILLEGAL)
CMOS = Chip.make(VARIANTS["65c02"], py65c02.MPU, [c for c, op in sorted(VARIANTS["65c02"].opcodes.items())
                                                   if not op.mnemonic.startswith(_WDC_ONLY)
                                                   and (op.mnemonic != "NOP" or c == 0xEA)])
_BACKGROUND = NMOS.background
BRA, BIT_ABSX = 0x80, 0x3C
SHIFTS_ABSX = (0x1E, 0x3E, 0x5E, 0x7E)


def py65_cycle_errata(chip: Chip, code: int, crossed: bool) -> int:
    """What to add to py65's cycles for this instruction (``crossed``: an abs,X operand's index
    crosses a page): see the module's docstring."""
    extra = DEC_ABS_CYCLES - py65.MPU.cycletime[DEC_ABS] if code == DEC_ABS else 0
    if chip is CMOS:
        extra += {BRA: 1, BIT_ABSX: int(crossed)}.get(code, 0) - (code in SHIFTS_ABSX and not crossed)
    return extra


class WrapMemory:
    """py65's memory: 64 KiB whose addresses wrap (py65 reads operands at pc+1, pc+2 unmasked)."""

    def __init__(self, data: bytearray) -> None:
        self.data = data

    def __getitem__(self, addr: int) -> int:
        return self.data[addr & 0xFFFF]

    def __setitem__(self, addr: int, value: int) -> None:
        self.data[addr & 0xFFFF] = value


@dataclass
class Machine:
    """A start state: registers, and memory as a random background (from ``seed``), a few bytes
    set on purpose (``pokes``) and the program at ``pc``."""

    pc: int
    a: int
    x: int
    y: int
    s: int
    p: int
    seed: int
    pokes: dict[int, int]
    program: bytes
    chip: Chip = field(default=NMOS, repr=False)

    @property
    def memory(self) -> bytearray:
        memory = bytearray(random.Random(self.seed).randbytes(0x10000).translate(self.chip.background))
        for addr, value in self.pokes.items():
            memory[addr] = value
        for i, byte in enumerate(self.program):
            memory[(self.pc + i) & 0xFFFF] = byte
        return memory

    def describe(self, n: int, trace: list[tuple[int, bytes]]) -> str:
        lines = [f"{self}, {n} instructions; py65 ran:"]
        lines += [f"  ${pc:04X}: {raw.hex(' '):8}  {disassemble(raw, pc, self.chip.variant)}" for pc, raw in trace]
        return "\n".join(lines)


# operands: any value, or near the interesting places: page zero, the stack page and the program
# itself (an instruction's first byte or one of its operand bytes: jumps there, self-modifying
# stores, data read from code)
def _operand() -> st.SearchStrategy:
    in_program = st.tuples(st.integers(0, 63), st.sampled_from([0, 0, 1, 2]))
    return st.one_of(st.integers(0, 0xFFFF), st.integers(0, 0x1F), st.integers(0x0100, 0x01FF),
                     in_program, in_program)


def _assemble(origin: int, program: list[tuple[int, int | tuple[int, int]]], chip: Chip) -> bytes:
    opcodes = chip.variant.opcodes
    addresses = []
    addr = origin
    for code, _ in program:
        addresses.append(addr)
        addr += opcodes[code].length
    encoded = bytearray()
    for (code, operand), at in zip(program, addresses):
        op = opcodes[code]
        if isinstance(operand, tuple):  # an address in the program
            index, delta = operand
            target = (addresses[index % len(addresses)] + delta) & 0xFFFF
            if op.mode == "rel":
                offset = (target - (at + 2) + 0x8000) % 0x10000 - 0x8000
                operand = offset & 0xFF if -128 <= offset <= 127 else target
            else:
                operand = target
        encoded += bytes([code]) + operand.to_bytes(2, "little")[:op.length - 1]
    return bytes(encoded)


@st.composite
def machines(draw: st.DrawFn, chip: Chip = NMOS) -> tuple[Machine, int]:
    program = draw(st.lists(st.tuples(st.sampled_from(chip.opcodes), _operand()), min_size=1, max_size=40))
    # anywhere, or in page zero or the stack page, where zero-page operands and pushes hit it
    origin = draw(st.one_of(st.integers(0, 0xFFFF), st.integers(0, 0x80),
                            st.integers(0x0100, 0x01C0)))
    seed = draw(st.integers(0, 2**32 - 1))
    # a few bytes set on purpose: pointers and data in page zero, the stack, the vectors
    pokes = dict(draw(st.lists(st.tuples(st.one_of(st.integers(0, 0xFF), st.integers(0x1F0, 0x1FF),
                                                   st.integers(0xFFFA, 0xFFFF)),
                                         st.integers(0, 0xFF)), max_size=8)))
    p = draw(st.integers(0, 0xFF)) & ~B_BIT | UNUSED_BIT
    a, x, y, s = (draw(st.integers(0, 0xFF)) for _ in range(4))
    return (Machine(origin, a, x, y, s, p, seed, pokes, _assemble(origin, program, chip), chip),
            draw(st.integers(1, 40)))


@dataclass
class Py65Run:
    mpu: object
    memory: bytearray  # after the run
    trace: list[tuple[int, bytes]]  # each instruction run: its address and bytes
    cycles: int  # corrected for DEC abs
    fault: int | None  # pc of the illegal opcode it stopped before, or of a BRK that jumps to itself


def run_py65(machine: Machine, n: int, memory: bytearray) -> Py65Run:
    memory = bytearray(memory)
    chip = machine.chip
    mpu = chip.mpu(memory=WrapMemory(memory), pc=machine.pc)
    mpu.a, mpu.x, mpu.y, mpu.sp, mpu.p = machine.a, machine.x, machine.y, machine.s, machine.p
    trace: list[tuple[int, bytes]] = []
    extra, fault = 0, None
    while len(trace) < n:
        pc, code = mpu.pc, memory[mpu.pc]
        if chip.variant.opcodes[code].mnemonic == "JAM":
            fault = pc
            break
        if code not in chip.opcodes or (chip is CMOS and code in DECIMAL_OPS and mpu.p & 0x08) or (
                chip.variant.opcodes[code].mode == "zpind" and memory[(pc + 1) & 0xFFFF] == 0xFF):
            break  # what py65 lacks (undocumented opcodes, the 65C02's bit instructions...), or gets
            # wrong (the 65C02's decimal flags; a (zp) pointer at $FF, whose high byte py65 reads
            # from $0100 where the chip wraps to $00): the run stops before it
        length = chip.variant.opcodes[code].length
        if code == JSR and {0x100 | mpu.sp, 0x100 | (mpu.sp - 1) & 0xFF} & {(pc + 1) & 0xFFFF, (pc + 2) & 0xFFFF}:
            break  # py65 reads JSR's whole operand after pushing; the chip reads the low byte first
        crossed = memory[(pc + 1) & 0xFFFF] + mpu.x > 0xFF
        extra += py65_cycle_errata(chip, code, crossed)
        trace.append((pc, bytes(memory[(pc + i) & 0xFFFF] for i in range(length))))
        mpu.step()
        if code == BRK and mpu.pc == pc and len(trace) < n:  # it would push and jump for ever: recomp
            fault = pc  # stops there with a fault (unless the budget ends on it)
            break
    return Py65Run(mpu, memory, trace, mpu.processorCycles + extra, fault)


def run_recomp(machine: Machine, n: int, memory: bytearray, prepare: Callable[[recomp.Emulator], None] | None = None,
               **options) -> tuple[recomp.Emulator, RunResult | GuestFault]:
    """Run recomp (``prepare``: called with the emulator before the run); returns the emulator
    and the run's result or the fault it raised."""
    emu = recomp.Emulator(machine.chip.variant.name, console=None, **options)
    emu.load(bytes(memory), at=0)
    state = emu.state
    state.pc, state.a, state.x, state.y, state.s, state.p = (
        machine.pc, machine.a, machine.x, machine.y, machine.s, machine.p)
    if prepare is not None:
        prepare(emu)
    try:
        outcome: RunResult | GuestFault = emu.run(max_instructions=n)
    except GuestFault as fault:
        outcome = fault
    return emu, outcome


def differences(emu: recomp.Emulator, outcome: RunResult | GuestFault, reference: Py65Run) -> dict:
    mpu = reference.mpu
    want = {"pc": mpu.pc, "a": mpu.a, "x": mpu.x, "y": mpu.y, "s": mpu.sp,
            "p": mpu.p & ~B_BIT | UNUSED_BIT,  # py65 keeps B in P; the chip has no such bit
            "instructions": len(reference.trace), "cycles": reference.cycles}
    state = emu.state
    got = {"pc": state.pc, "a": state.a, "x": state.x, "y": state.y, "s": state.s, "p": state.p,
           "instructions": emu.instructions, "cycles": emu.cycles}
    if reference.fault is None:
        want["outcome"] = "max-instructions"
    else:
        code = reference.memory[reference.fault]
        brk_loop = Mos6502().trap_fault(reference.memory, reference.fault) if code == BRK else None
        want["outcome"] = brk_loop or f"CPU jammed by ${code:02X} at ${reference.fault:04X}"
    got["outcome"] = outcome.message if isinstance(outcome, GuestFault) else outcome.exit
    diff = {key: (got[key], want[key]) for key in want if got[key] != want[key]}
    memory = emu.memory[0:0x10000]
    if memory != reference.memory:
        diff["memory"] = {f"${a:04X}": (memory[a], reference.memory[a])
                          for a in range(0x10000) if memory[a] != reference.memory[a]}
    return diff  # key -> (recomp, py65)


def check(machine: Machine, n: int, prepare: Callable[[recomp.Emulator], None] | None = None, **options) -> None:
    initial = machine.memory
    reference = run_py65(machine, n, initial)
    if reference.fault is None:
        n = len(reference.trace)  # py65 stopped short of a JSR it gets wrong
    emu, outcome = run_recomp(machine, n, initial, prepare, **options)
    event("stopped at a fault" if reference.fault is not None else "ran to the budget")
    event(f"self-modifying store: {bool(emu.stats.invalidations)}")
    decimal = bool(machine.p & 0x08) and any(raw[0] in DECIMAL_OPS for _, raw in reference.trace)
    event(f"D=1 at the start and ADC/SBC ran: {decimal}")
    diff = differences(emu, outcome, reference)
    assert not diff, f"(recomp, py65) differ: {diff}\n{machine.describe(n, reference.trace)}"


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=100, **SETTINGS)
@given(machines())
def test_interp(case):
    check(*case, engine="interp")


@settings(max_examples=20, **SETTINGS)
@given(machines())
def test_jit(case):
    check(*case, engine="jit", jit_threshold=0)


@settings(max_examples=15, **SETTINGS)
@given(machines())
def test_jit_one_instruction_regions(case):
    check(*case, engine="jit", jit_threshold=0, region_instructions=1)


@settings(max_examples=15, **SETTINGS)
@given(machines())
def test_jit_unoptimized(case):
    check(*case, engine="jit", jit_threshold=0, optimize=False)


@settings(max_examples=100, **SETTINGS)
@given(machines(CMOS))
def test_65c02_interp(case):
    check(*case, engine="interp")


@settings(max_examples=30, **SETTINGS)
@given(machines(CMOS))
def test_65c02_jit(case):
    check(*case, engine="jit", jit_threshold=0)


@settings(max_examples=30, **SETTINGS)
@given(machines(CMOS))
def test_65c02_native_tier(case):
    """Cold code on the 65C02's native interpreter, hot code stitched and compiled meanwhile."""
    check(*case, engine="jit", jit_threshold=2)


@settings(max_examples=50, **SETTINGS)
@given(machines())
def test_jit_tiered(case):
    """A low threshold: regions start on the interpreter tier and are compiled on their second
    entry, in the middle of a run."""
    check(*case, engine="jit", jit_threshold=2)


def _nmos_decimal(subtract: bool, a: int, m: int, carry: int) -> tuple[int, int]:
    """The NMOS chip's decimal ADC/SBC (Bruce Clark, "Decimal Mode", appendix B): A and P."""
    binary = a + (m ^ 0xFF if subtract else m) + carry
    z = (binary & 0xFF) == 0
    if subtract:
        low = (a & 0x0F) - (m & 0x0F) + carry - 1
        if low < 0:
            low = ((low - 0x06) & 0x0F) - 0x10
        result = (a & 0xF0) - (m & 0xF0) + low
        if result < 0:
            result -= 0x60
        c = binary > 0xFF
        n = binary & 0x80
        v = (a ^ binary) & (a ^ m) & 0x80
    else:
        low = (a & 0x0F) + (m & 0x0F) + carry
        if low >= 0x0A:
            low = ((low + 0x06) & 0x0F) + 0x10
        result = (a & 0xF0) + (m & 0xF0) + low
        n = result & 0x80  # from the intermediate sum, before the high digit is adjusted
        v = (a ^ result) & (m ^ result) & 0x80
        if result >= 0xA0:
            result += 0x60
        c = result >= 0x100
    p = UNUSED_BIT | 0x08 | (0x80 if n else 0) | (0x40 if v else 0) | (0x02 if z else 0) | int(c)
    return result & 0xFF, p


def test_py65_decimal_mode_follows_the_nmos_chip():
    """The oracle itself: py65's ADC and SBC in decimal mode give the chip's A and every flag,
    for all operands and carries, so comparing P in full with D=1 is right."""
    memory = bytearray(0x10000)
    mpu = py65.MPU(memory=memory)
    for subtract, operation in ((False, mpu.opADC), (True, mpu.opSBC)):
        for a in range(256):
            for m in range(256):
                for carry in (0, 1):
                    memory[0], mpu.a, mpu.p = m, a, UNUSED_BIT | 0x08 | carry
                    operation(lambda: 0)  # the operand's address
                    got = (mpu.a, mpu.p & ~B_BIT | UNUSED_BIT)
                    assert got == _nmos_decimal(subtract, a, m, carry), (subtract, a, m, carry)


@pytest.mark.parametrize("engine", ["interp", "jit"])
@pytest.mark.parametrize("steps", [1, 3])
def test_pc_wraps_at_ffff(engine, steps):
    """INX at $FFFF, $0000 and $0001: one step, or one region that runs through $FFFF."""
    emu = recomp.Emulator("6502", engine=engine, console=None, jit_threshold=0)
    emu.memory[0xFFFF], emu.memory[0x0000], emu.memory[0x0001] = 0xE8, 0xE8, 0xE8
    emu.state.pc = 0xFFFF
    emu.run(max_instructions=steps)
    assert (emu.state.pc, emu.state.x) == (steps - 1, steps)


@pytest.mark.parametrize("engine", ["interp", "jit"])
def test_operand_wraps_at_ffff(engine):
    emu = recomp.Emulator("6502", engine=engine, console=None, jit_threshold=0)
    emu.memory[0xFFFF] = 0xA9  # LDA #$42, its operand at $0000
    emu.memory[0x0000] = 0x42
    emu.state.pc = 0xFFFF
    emu.step()
    assert (emu.state.pc, emu.state.a) == (0x0001, 0x42)


@pytest.mark.parametrize("engine", ["interp", "jit"])
def test_lookahead_wraps_at_ffff(engine):
    """NOP; JMP $FFFE: the region follows the JMP and decodes LDA abs at $FFFE (bytes $FFFE,
    $FFFF, $0000) without running it; its bytes must be recorded as $FFFE, $FFFF and $0000."""
    emu = recomp.Emulator("6502", engine=engine, console=None, jit_threshold=0)
    emu.load(bytes([0xEA, 0x4C, 0xFE, 0xFF]), at=0x0200)
    emu.memory[0xFFFE] = 0xAD
    emu.state.pc = 0x0200
    emu.run(max_instructions=2)
    assert emu.state.pc == 0xFFFE


ENGINES = [pytest.param("interp", True, id="interp"), pytest.param("jit", True, id="jit"),
           pytest.param("interp", False, id="interp-noopt"), pytest.param("jit", False, id="jit-noopt")]


@pytest.mark.parametrize("engine, optimize", ENGINES)
def test_smc_exit_keeps_flags(engine, optimize):
    """ROR $0005 rewrites the ORA #$10 at $0005 into STY $10 and leaves the region (smc); the N
    it set must survive, although the ORA that overwrote N in the old code never runs."""
    emu = recomp.Emulator("6502", engine=engine, optimize=optimize, console=None, jit_threshold=0)
    # SEC; ROR $0005; NOP; ORA #$10; PHP; JMP $0008
    emu.load(bytes([0x38, 0x6E, 0x05, 0x00, 0xEA, 0x09, 0x10, 0x08, 0x4C, 0x08, 0x00]), at=0)
    emu.state.pc, emu.state.p, emu.state.s = 0x0000, 0x20, 0xFF
    emu.run(max_instructions=8)
    assert emu.memory[0x0005] == 0x84  # ROR: $09 with C=1 -> $84 (N=1, C=1)
    assert (emu.state.pc, emu.state.p, emu.memory[0x01FF]) == (0x0008, 0xA1, 0xB1)


@pytest.mark.parametrize("engine, optimize", ENGINES)
def test_poll_exit_keeps_state(engine, optimize):
    """An IRQ taken at the poll after CLI must see A and N as LDA #$80 left them, although the
    next instruction overwrites both."""
    emu = recomp.Emulator("6502", engine=engine, optimize=optimize, console=None, jit_threshold=0)
    emu.load(bytes([0xA9, 0x80, 0x58, 0xA9, 0x00, 0x4C, 0x05, 0x02]), at=0x0200)  # LDA; CLI; LDA; JMP *
    emu.load(bytes([0x4C, 0x00, 0x03]), at=0x0300)  # the IRQ handler: JMP *
    emu.memory[0xFFFE], emu.memory[0xFFFF] = 0x00, 0x03
    emu.state.pc, emu.state.p, emu.state.s, emu.state.a = 0x0200, 0x24, 0xFF, 0x11
    emu.irq(True)
    emu.run(max_instructions=10)
    # the handler runs with A=$80; P pushed with N set, I and B clear; return address $0203
    assert (emu.state.pc, emu.state.a) == (0x0300, 0x80)
    assert emu.memory[0x01FD:0x0200] == bytes([0xA0, 0x03, 0x02])


def _cmos_decimal(subtract: bool, a: int, m: int, carry: int) -> tuple[int, int]:
    """The 65C02's decimal ADC/SBC, after Sidney Cadot's models checked against the chip
    ("Hardware-verified implementations of the 6502 and 65C02 ADC and SBC instructions", 2024):
    A, and P with N and Z from A and V from the high digit before its adjustment."""
    if subtract:
        borrow = 1 - carry
        low = (a & 15) - (m & 15) - borrow
        borrow = low < 0
        low = low + 10 if borrow else low
        still_negative = low < 0
        high = (a >> 4) - (m >> 4) - borrow
        premature_n = bool(high & 8)
        borrow = high < 0
        high = (high + 10 if borrow else high) - still_negative
        result, c = (high & 15) << 4 | low & 15, not borrow
        v = ((a >= 0x80) ^ premature_n) & ((m < 0x80) ^ premature_n)
    else:
        low = (a & 15) + (m & 15) + carry
        carry_low = low > 9
        low = (low - 10 if carry_low else low) & 15
        high = (a >> 4) + (m >> 4) + carry_low
        premature_n = bool(high & 8)
        c = high > 9
        high = (high - 10 if c else high) & 15
        result = high << 4 | low
        v = ((a >= 0x80) ^ premature_n) & ((m >= 0x80) ^ premature_n)
    p = UNUSED_BIT | 0x08 | (0x80 if result & 0x80 else 0) | (0x40 if v else 0) | (0x02 if result == 0 else 0) | c
    return result, p


@pytest.mark.parametrize("engine, step", [("jit", 1), ("interp", 37)], ids=["jit", "interp-sampled"])
def test_65c02_decimal_mode(engine, step):
    """Every A, operand and carry through the 65C02's decimal ADC and SBC (the interpreter: every
    37th operand), against the chip's model: a guest loop over A for each operand and carry."""
    for subtract in (False, True):
        # loop: SED; LDA $11; LSR A; TXA; ADC/SBC $10; STA $0300,X; PHP; PLA; STA $0400,X; INX; BNE loop; JMP *
        program = bytes([0xF8, 0xA5, 0x11, 0x4A, 0x8A, 0xE5 if subtract else 0x65, 0x10, 0x9D, 0x00, 0x03, 0x08,
                         0x68, 0x9D, 0x00, 0x04, 0xE8, 0xD0, 0xEF, 0x4C, 0x12, 0x02])
        emu = recomp.Emulator("65c02", engine=engine, console=None, code_cache=None)
        emu.load(program, at=0x0200)
        for m in range(0, 256, step):
            for carry in (0, 1):
                emu.memory[0x10], emu.memory[0x11] = m, carry
                emu.state.pc, emu.state.x, emu.state.s = 0x0200, 0, 0xFF
                assert emu.run(stop_on_trap=True).pc == 0x0212
                results, flags = emu.memory[0x0300:0x0400], emu.memory[0x0400:0x0500]
                for a in range(256):
                    got = (results[a], flags[a] & ~B_BIT | UNUSED_BIT)
                    assert got == _cmos_decimal(subtract, a, m, carry), (subtract, hex(a), hex(m), carry)

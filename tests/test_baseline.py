"""The baseline tier: regions stitched from stencils (``recomp.backend.stitch``) run exactly as
the reference engine, py65 and LLVM's code, are refused when their object is not what the
stencils are built as, and give way to LLVM's code."""

from __future__ import annotations

import io
import json
import struct

import pytest
from hypothesis import given, settings

import recomp
from recomp.backend.objects import SHT_RELA, MalformedObject, sections
from recomp.backend.stitch import ENTER, StencilSet, compile_term, parse_term
from recomp.data import data_path
from recomp.frontends import get_frontend
from recomp.runtime.baseline import plan
from recomp.runtime.interpreters import stencil_object
from test_6502_interrupts import IRQ_HANDLER, TIMER, TIMER_HANDLER, TIMER_PROGRAMS, timer_model
from test_6502_py65 import SETTINGS, check, machines
from test_6502_singlestep import REGISTERS, SINGLESTEP

FRONTEND = get_frontend("6502")


def stencil_data() -> bytes:
    return stencil_object(FRONTEND, None)


def stitched(emu: recomp.Emulator, pc: int, limit: int | None = None) -> None:
    """Stitch the region at ``pc`` for runs with and without budgets."""
    for guards in (False, True):
        assert emu.tiers.stitch(emu.translations.key(pc, False, guards), limit)


def test_every_opcode_has_a_stencil():
    stencils = StencilSet.parse(stencil_data())
    assert all(stencils.has(lift.opcode) for lift in FRONTEND.opcode_lifts().opcodes)
    assert not stencils.has(0x02)  # (an undocumented opcode: the interpreter's fault)


def _relocation(data: bytes) -> int:
    """The offset of the first relocation of the code's table."""
    table = next(s for s in sections(data) if s.type == SHT_RELA and s.name == b".rela.text")
    return table.offset


def _renamed(data: bytes, old: bytes, new: bytes) -> bytes:
    """The object with a symbol's name changed in its string table."""
    assert len(old) == len(new) and data.count(b"\0" + old + b"\0") == 1
    return data.replace(b"\0" + old + b"\0", b"\0" + new + b"\0")


BRANCH_TARGET = b"X:add.i16(PC2.i16,sext.i16(OP1.i8))"  # a derived hole's name: a branch's target
ABSOLUTE_ADDRESS = b"X:or.i16(zext.i16(OP1.i8),shl.i16(zext.i16(OP2.i8),#8.i16))"  # an absolute operand's


@pytest.mark.parametrize("damage", ["relocation type", "a symbol that is no hole", "a derived hole that is no term",
                                    "no entry"])
def test_damaged_stencils_are_refused(damage):
    data = bytearray(stencil_data())
    if damage == "relocation type":
        at = _relocation(bytes(data)) + 8
        info = struct.unpack_from("<Q", data, at)[0]
        struct.pack_into("<Q", data, at, info & ~0xFFFFFFFF | 1)  # R_X86_64_64
    elif damage == "a symbol that is no hole":
        data = bytearray(_renamed(bytes(data), b"TAKEN_PC", b"TAKEN_XY"))
    elif damage == "a derived hole that is no term":
        data = bytearray(_renamed(bytes(data), ABSOLUTE_ADDRESS, ABSOLUTE_ADDRESS.replace(b"or.", b"xo.")))
    else:
        data = bytearray(_renamed(bytes(data), ENTER.encode(), b"entex"))
    with pytest.raises(MalformedObject):
        StencilSet.parse(bytes(data))


@pytest.mark.parametrize(("term", "leaves", "value"), [
    (BRANCH_TARGET[2:].decode(), {"PC2": 0x0210, "OP1": 0xF2}, 0x0202),  # back 14
    (BRANCH_TARGET[2:].decode(), {"PC2": 0xFFFF, "OP1": 0x02}, 0x0001),  # wraps
    ("or.i16(zext.i16(OP1.i8),shl.i16(zext.i16(OP2.i8),#8.i16))", {"OP1": 0x34, "OP2": 0x12}, 0x1234),
    ("select.i8(ne.i1(OP1.i8,#0.i8),#2.i8,#7.i8)", {"OP1": 0}, 7),
])
def test_derived_holes_are_computed_as_icode_computes(term, leaves, value):
    """A derived hole's value (a branch's target, an absolute operand's address) is computed
    when the code is stitched, by ``recomp.ir.evaluate``, as the reference engine would."""
    assert compile_term(parse_term(term))(leaves) == value
    with pytest.raises(ValueError):
        parse_term(term + ")")


def test_a_branch_stencil_leaves_its_target_to_the_stitcher():
    """BNE's stencil computes neither its target nor where to go on: it goes on through the
    successor holes of its target's term (a trap where that is the branch itself) and of the
    next instruction, by its condition."""
    stencils = StencilSet.parse(stencil_data())
    holes = {hole for _, _, hole, _ in stencils.stencils["op_D0"].holes}
    target = BRANCH_TARGET.decode()[2:]
    assert {"TRAP:" + target, "SUCC:PC2.i16"} <= holes
    assert not {"X:" + target, "SUCC:" + target, "TAKEN_PC", "PC0"} & holes


@pytest.mark.parametrize(("zero", "stop"), [(True, ("trap", 0x0202)), (False, ("trap", 0x0204))])
def test_a_stitched_branch_to_itself_is_a_trap(zero, stop):
    """0200 LDA #0 or #1 / 0202 BEQ * / 0204 JMP *: taken, the branch is the trap (as the
    reference engine says)."""
    ends = []
    for engine in ("interp", "jit"):
        emu = recomp.Emulator("6502", engine=engine, console=None, code_cache=None)
        emu.load(bytes([0xA9, 0x00 if zero else 0x01, 0xF0, 0xFE, 0x4C, 0x04, 0x02]), at=0x0200)
        emu.state.pc = 0x0200
        if engine == "jit":
            stitched(emu, 0x0200)
        result = emu.run(stop_on_trap=True)
        ends.append((result.exit, result.pc, emu.instructions, emu.cycles))
    assert ends[0] == ends[1] and ends[1][:2] == stop


@settings(max_examples=60, **SETTINGS)
@given(machines())
def test_stitched_code_runs_as_py65(case):
    """Random programs (self-modifying stores, faults and all) stitched at their entry."""
    machine, n = case
    check(machine, n, prepare=lambda emu: stitched(emu, machine.pc))


def _singlestep_files() -> list[str]:
    return sorted(path.stem for path in SINGLESTEP.glob("*.json")) if SINGLESTEP.is_dir() else []


@pytest.mark.parametrize("name", _singlestep_files()[::1])
def test_one_stitched_instruction_as_singlestep_records(name):
    """Each documented opcode's stencil, in a region of one instruction, on a sample of Tom
    Harte's cases: registers, memory and cycles as recorded."""
    cases = json.loads((SINGLESTEP / f"{name}.json").read_text())[:4]
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    for case in cases:
        initial, final = case["initial"], case["final"]
        emu.memory[0:0x10000] = bytes(0x10000)
        for addr, value in initial["ram"]:
            emu.memory[addr] = value
        for register in REGISTERS:
            setattr(emu.state, register, initial[register])
        emu.translations.drop_all()
        stitched(emu, initial["pc"], limit=1)
        cycles = emu.cycles
        emu.run(max_instructions=1)
        want = {register: final[register] for register in REGISTERS}
        got = {register: getattr(emu.state, register) for register in REGISTERS}
        assert (got, emu.cycles - cycles) == (want, len(case["cycles"])), case["name"]
        assert all(emu.memory[addr] == value for addr, value in final["ram"]), case["name"]


def _kernel(name: str, **options) -> tuple[recomp.Emulator, tuple]:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), code_cache=None, **options)
    emu.load(data_path("benchmarks", "6502", f"{name}.bin").read_bytes(), at=0x0200)
    emu.state.pc = 0x0200
    result = emu.run(stop_on_trap=True, max_instructions=50_000_000)
    state = emu.state
    return emu, (result.pc, state.a, state.x, state.y, state.s, state.p, emu.instructions, emu.cycles,
                 emu.memory[0:0x10000])


@pytest.mark.parametrize("name", ["sieve", "crc16", "mul16", "memcpy", "sort", "bcd"])
def test_hot_kernels_run_stitched_then_compiled(name):
    """Hot on the native interpreter, a kernel's loop is stitched at once and runs so until
    LLVM's code takes its place; the machine ends as with the baseline tier off."""
    emu, got = _kernel(name)
    assert emu.stats.stitched >= 1
    assert got == _kernel(name, baseline=False)[1]
    emu.finish_compiling()
    assert emu.stats.compiled >= 1
    assert not any(translation.baseline for _, translation in emu.translations)


# 0200 LDX #0; LDY #0
# 0204 loop: INX; BNE loop      (256 times round)
# 0207 INY; CPY #8; BNE loop
# 020C STA $0205 ... (patched below)
# a loop stitched at once: a store into its opcodes drops it; a store into a branch's operand
# (its target) is read as the loop runs
LOOP = bytes([0xA2, 0x00, 0xA0, 0x00, 0xE8, 0xD0, 0xFD, 0xC8, 0xC0, 0x08, 0xD0, 0xF8, 0x4C, 0x0C, 0x02])


def test_a_store_into_stitched_code_drops_it():
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(LOOP, at=0x0200)
    emu.state.pc = 0x0200
    stitched(emu, 0x0200)
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc, emu.state.y, emu.instructions) == ("trap", 0x020C, 8, 2 + 8 * (2 * 256 + 3) + 1)
    emu.memory[0x0207] = 0xEA  # INY -> NOP: the stitched code covering it goes
    assert not any(key.pc == 0x0200 for key, _ in emu.translations)


def test_a_changed_branch_target_drops_stitched_code():
    """The inner branch's offset rewritten from outside between runs drops the code (operands
    are stitched in, and covered): the branch now leaves the loop, and the run goes on there."""
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(LOOP, at=0x0200)
    stitched(emu, 0x0200)
    emu.memory[0x0206] = 0x00  # BNE loop -> BNE +0: falls to INY either way
    assert not any(key.pc == 0x0200 for key, _ in emu.translations)
    emu.state.pc = 0x0200
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc, emu.state.x, emu.state.y) == ("trap", 0x020C, 8, 8)
    assert emu.instructions == 2 + 8 * 5 + 1


# 0200 LDX #0 / 0202 loop: INX; STX $0207 (LDY's operand); LDY #0; CPX #$40; BNE loop / 020C JMP *
REWRITES_OPERAND = bytes([0xA2, 0x00, 0xE8, 0x8E, 0x07, 0x02, 0xA0, 0x00, 0xE0, 0x40, 0xD0, 0xF6,
                          0x4C, 0x0C, 0x02])


def test_a_loop_that_rewrites_an_operand_is_exact_and_not_stitched_again():
    """The loop's store into its own operand drops the stitched code; the byte is then volatile,
    and code holding it is not stitched (LLVM's code reads it as it runs)."""
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(REWRITES_OPERAND, at=0x0200)
    emu.state.pc = 0x0200
    stitched(emu, 0x0202)
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc, emu.state.x, emu.state.y) == ("trap", 0x020C, 0x40, 0x40)
    assert 0x0207 in emu.translations.volatile
    assert not emu.tiers.stitch(emu.translations.key(0x0202, False, True))


def test_a_breakpoint_in_stitched_code_stops_the_run():
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(LOOP, at=0x0200)
    emu.state.pc = 0x0200
    stitched(emu, 0x0200)
    emu.breakpoints.add(0x0207)
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc, emu.state.x, emu.state.y) == ("breakpoint", 0x0207, 0, 0)


def test_code_llvms_code_mostly_holds_is_not_stitched():
    """Stitched code at a target inside LLVM's code for a loop (a subroutine's return into it,
    say) would take the loop over from faster code until LLVM's code for the target is ready:
    it is not stitched where LLVM's code holds most of it, and is where it holds none."""
    emu = recomp.Emulator("6502", console=None, code_cache=None, compile_in_background=False)
    emu.load(LOOP, at=0x0200)
    inside = emu.translations.key(0x0207, False, True)
    assert emu.tiers.stitch(inside)  # (no LLVM code yet)
    emu.translations.evict_all(emu.translations.get(inside))
    emu.tiers.promote(0x0204, True)  # LLVM's code for the loop, at once
    assert any(key.pc == 0x0204 and not t.baseline and t.address for key, t in emu.translations)
    assert not emu.tiers.stitch(inside)
    emu.state.pc = 0x0200
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc, emu.state.y, emu.instructions) == ("trap", 0x020C, 8, 2 + 8 * (2 * 256 + 3) + 1)


# 0200 LDX #0 / 0202 loop: JSR inc_y three times, then "call" inc_y by hand, its return
# address pushed as $0213 (LDA #2; PHA; LDA #$13; PHA; JMP inc_y): its RTS goes on at $0214,
# which no JSR returns to / 0214 INX; CPX #16; BNE loop / 0219 JMP * / 0220 inc_y: INY; RTS
CALLS = {0x0200: bytes([0xA2, 0x00, 0x20, 0x20, 0x02, 0x20, 0x20, 0x02, 0x20, 0x20, 0x02, 0xA9, 0x02, 0x48,
                        0xA9, 0x13, 0x48, 0x4C, 0x20, 0x02, 0xE8, 0xE0, 0x10, 0xD0, 0xE9, 0x4C, 0x19, 0x02]),
         0x0220: bytes([0xC8, 0x60])}
CALL_SITES = (0x0205, 0x0208, 0x020B)  # where the JSRs return to


def calls_machine(engine: str = "jit") -> recomp.Emulator:
    emu = recomp.Emulator("6502", engine=engine, console=None, code_cache=None)
    for at, code in CALLS.items():
        emu.load(code, at=at)
    emu.state.pc = 0x0200
    return emu


@pytest.mark.parametrize("hottest", CALL_SITES)
def test_a_return_goes_on_first_at_its_callers_likeliest_return_sites(hottest):
    """A return's stencil compares its target with the return sites of the calls that reach it,
    the most run first (by the native interpreter's counts), before it searches all of the
    region's; a return one call reaches has one."""
    stencils = StencilSet.parse(stencil_data())
    memory = bytearray(0x10000)
    for at, code in CALLS.items():
        memory[at:at + len(code)] = code
    steps, returns = plan(FRONTEND, memory, 0x0200, frozenset(), 64, stencils,
                          lambda addr: 100 if addr == hottest else 1)
    rts = next(step for step in steps if step.addr == 0x0221)
    assert rts.guesses == (hottest, *(site for site in CALL_SITES if site != hottest))
    assert returns == list(CALL_SITES)
    memory[0x0205:0x020B] = bytes([0xEA] * 6)  # the second and third calls go: one site left
    steps, _ = plan(FRONTEND, memory, 0x0200, frozenset(), 64, stencils)
    rts = next(step for step in steps if step.addr == 0x0221)
    assert rts.guesses == (0x0205,)


def test_a_return_no_call_made_is_exact_in_stitched_code():
    """The stitched return goes on at each of its three return sites (two guessed in its
    stencil, one compared after), and to an address no call returns to (a return address pushed
    by hand) it leaves the stitched code: the run is the reference engine's."""
    emu = calls_machine()
    stitched(emu, 0x0200)
    result = emu.run(stop_on_trap=True)
    reference = calls_machine("interp")
    expected = reference.run(stop_on_trap=True)
    assert (result.exit, result.pc, emu.state.x, emu.state.y) == ("trap", 0x0219, 16, 64)
    assert (expected.exit, expected.pc, reference.state.y, reference.instructions, reference.cycles) == (
        result.exit, result.pc, emu.state.y, emu.instructions, emu.cycles)


def test_nothing_is_stitched_while_a_trace_records():
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(LOOP, at=0x0200)
    emu.trace(16)
    assert not emu.tiers.stitch(emu.translations.key(0x0200, False, True))


@pytest.mark.parametrize("program", sorted(TIMER_PROGRAMS))
def test_timer_interrupts_reach_stitched_loops(program):
    """The interval timer's IRQs are taken between the stitched loop's instructions at the
    cycle the model says: the budget check at each block sees the timer's deadline."""
    code, _, loop, _ = TIMER_PROGRAMS[program]
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), timer=TIMER, code_cache=None)
    emu.load(code, at=0x0200)
    emu.load(TIMER_HANDLER, at=IRQ_HANDLER)
    emu.memory[0xFFFE:0x10000] = IRQ_HANDLER.to_bytes(2, "little")
    emu.state.pc, emu.state.s, emu.state.p = 0x0200, 0xFF, 0x20
    stitched(emu, loop)
    assert emu.run(max_instructions=100_000).exit == "max-instructions"
    _, (pc, x, y, cycles, count) = timer_model(program, 100_000)
    assert (emu.state.pc, emu.state.x, emu.state.y, emu.cycles) == (pc, x, y, cycles)
    assert emu.memory[0x10] == count & 0xFF and emu.stats.interrupts == count
    assert any(translation.baseline for _, translation in emu.translations)


# 0200 LDX #0
# 0202 loop: INX; STX $40; LDA $41; BNE loop
# 0209 JMP $0209
WATCHED = bytes([0xA2, 0x00, 0xE8, 0x86, 0x40, 0xA5, 0x41, 0xD0, 0xF9, 0x4C, 0x09, 0x02])


def test_a_watchpoint_stops_a_stitched_loop_after_the_store():
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(WATCHED, at=0x0200)
    emu.memory[0x41] = 1
    emu.state.pc, emu.state.x = 0x0202, 0  # (in the stitched loop from the first instruction)
    emu.watch(0x40, on="w", value=5)
    stitched(emu, 0x0202)  # (a new watch drops code made before it)
    result = emu.run(stop_on_trap=True, max_instructions=10_000)
    assert (result.exit, result.pc, emu.state.x) == ("watchpoint", 0x0205, 5)


def test_nothing_is_stitched_while_a_watchpoint_is_on_reads():
    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(WATCHED, at=0x0200)
    emu.watch(0x41, on="r")
    assert not emu.tiers.stitch(emu.translations.key(0x0202, False, True))


def test_the_monitor_shows_stitched_regions_and_their_entries():
    from recomp.debug.monitor import Monitor

    emu = recomp.Emulator("6502", console=None, code_cache=None)
    emu.load(LOOP, at=0x0200)
    emu.state.pc = 0x0200
    stitched(emu, 0x0204)
    out = io.StringIO()
    Monitor(emu, stdin=io.StringIO("g $200\nregions\n"), stdout=out).cmdloop(intro="")
    rows = {line.split()[0]: line.split() for line in out.getvalue().splitlines() if line.startswith("$0204")}
    # the bytes of both loops' five instructions and of the trap after them (opcodes and
    # operands: the operands are stitched in); entered once, from the native interpreter (the
    # loops run inside)
    assert rows["$0204"][1:] == ["$0204-$020E", "stitched", "11", "1"]



class Counter:
    """A device register that counts its reads (and keeps the last byte written)."""

    name = "counter"

    def __init__(self) -> None:
        self.reads = self.last = 0
        self.log: list[tuple[str, int]] = []  # each access, and the cycle count it came at

    def addresses(self) -> tuple[int, ...]:
        return (0xD000,)

    def read(self, addr: int, cycles: int) -> int:
        self.reads += 1
        self.log.append(("read", cycles))
        return self.reads & 0xFF

    def write(self, addr: int, value: int, cycles: int) -> None:
        self.last = value
        self.log.append(("write", cycles))


def _beside_a_counter(engine: str, program: bytes) -> tuple[recomp.Emulator, Counter]:
    """A machine with a ``Counter`` at $D000 and ``program`` at $0200, its loop at $0202
    stitched (for the JIT)."""
    emu = recomp.Emulator("6502", engine=engine, console=None, code_cache=None)
    device = Counter()
    emu.map_device(device)
    emu.load(program, at=0x0200)
    emu.state.pc = 0x0200
    if engine == "jit":
        stitched(emu, 0x0202)
    return emu, device


# 0200 LDX #0 / 0202 loop: LDA $D000; STA $0300,X; INX; STA $D000; CPX #$40; BNE loop / 0210 JMP *
READS_A_DEVICE = bytes([0xA2, 0x00, 0xAD, 0x00, 0xD0, 0x9D, 0x00, 0x03, 0xE8, 0x8D, 0x00, 0xD0,
                        0xE0, 0x40, 0xD0, 0xF2, 0x4C, 0x10, 0x02])


def test_a_stitched_loop_leaves_before_each_device_access_and_stays_exact():
    """Stencils call no device: an access to one leaves before its instruction (``Exit.STEP``),
    which the runtime runs alone; the loop's code stays, and the run is the reference's."""
    runs = {}
    for engine in ("interp", "jit"):
        emu, device = _beside_a_counter(engine, READS_A_DEVICE)
        result = emu.run(stop_on_trap=True)
        runs[engine] = (result.pc, emu.instructions, emu.cycles, bytes(emu.memory[0x0300:0x0340]), device.reads,
                        device.last)
        if engine == "jit":
            assert any(key.pc == 0x0202 and translation.baseline for key, translation in emu.translations)
    assert runs["jit"] == runs["interp"]
    assert runs["jit"][3] == bytes(range(1, 0x41)) and runs["jit"][5] == 0x40


# 0200 LDX #0 / 0202 loop: LDA $D000; STA $0300,X; INX; INC $D000; LDY $D000; CPX #$40; BNE loop / 0213 JMP *
MIDDLE_OF_A_BLOCK = bytes([0xA2, 0x00, 0xAD, 0x00, 0xD0, 0x9D, 0x00, 0x03, 0xE8, 0xEE, 0x00, 0xD0, 0xAC, 0x00, 0xD0,
                           0xE0, 0x40, 0xD0, 0xEF, 0x4C, 0x13, 0x02])


@pytest.mark.parametrize("budget", [None, 1, 5, 9, 100, 203])
def test_stitched_counters_are_exact_wherever_a_block_is_left(budget):
    """A block's guard counts its instructions and cycles ahead; whatever leaves the block in
    its middle (a device access, an INC's two writes, a budget) sees the counts the reference
    engine has there: the device is told the same cycle of every access."""
    runs = {}
    for engine in ("interp", "jit"):
        emu, device = _beside_a_counter(engine, MIDDLE_OF_A_BLOCK)
        result = emu.run(stop_on_trap=True, max_instructions=budget)
        runs[engine] = (result.exit, result.pc, emu.instructions, emu.cycles, device.log, emu.state.y)
    assert runs["jit"] == runs["interp"]
    assert budget is not None or len(runs["jit"][4]) == 4 * 0x40


# 0200: LDX #$FF / TXS / JMP $01FD; 01FD: JSR $0310, whose push of its return address ($01FF)
# writes $01 over its own operand's high byte before the 6502 reads it: it goes to $0110.
# $0110 and $0310: JMP * each.
JSR_ON_THE_STACK = {0x0200: bytes([0xA2, 0xFF, 0x9A, 0x4C, 0xFD, 0x01]), 0x01FD: bytes([0x20, 0x10, 0x03]),
                    0x0110: bytes([0x4C, 0x10, 0x01]), 0x0310: bytes([0x4C, 0x10, 0x03])}


def test_a_stitched_jsr_that_pushes_over_its_own_operand_goes_where_the_6502_does():
    """A stencil takes JSR's target from its operand holes, though the 6502 reads the high byte
    after its push: a push onto translated code leaves before the instruction (``Exit.STEP``),
    and the runtime runs it as the chip does."""
    ends = []
    for engine in ("interp", "jit"):
        emu = recomp.Emulator("6502", engine=engine, console=None, code_cache=None)
        for at, code in JSR_ON_THE_STACK.items():
            emu.load(code, at=at)
        emu.state.pc = 0x0200
        if engine == "jit":
            stitched(emu, 0x0200)
            assert all(0x01FF in translation.covers for _, translation in emu.translations)  # (the JSR's too)
        result = emu.run(stop_on_trap=True)
        ends.append((result.exit, result.pc, emu.instructions, emu.cycles, bytes(emu.memory[0x01FD:0x0200])))
    assert ends[0] == ends[1] and ends[1][:2] == ("trap", 0x0110)

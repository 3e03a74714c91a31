"""No silent spins: a BRK that jumps to itself through its vector (what empty memory does) is a
guest fault naming the likely cause, in every mode; a program idling in ``JMP *`` (or a branch
to itself) until an event skips ahead to it, with instructions and cycles exactly as if the loop
had run (checked against runs that execute every time round: a trace turns skipping off); a run
that starts where nothing was loaded is refused before it starts."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

import recomp
from conftest import EXAMPLES, MODES_6502
from recomp.runtime.errors import GuestFault

TIMER = 0xF010
# $0200: program the timer (period 1000), CLI, then idle in JMP *; the handler at $0300 counts
IDLE_ON_TIMER = {0x0200: bytes([
    0xA2, 0xFF, 0x9A,              # LDX #$FF; TXS
    0xA9, 0xE8, 0x8D, 0x10, 0xF0,  # LDA #<1000; STA $F010
    0xA9, 0x03, 0x8D, 0x11, 0xF0,  # LDA #>1000; STA $F011
    0xA9, 0x01, 0x8D, 0x12, 0xF0,  # LDA #1; STA $F012: the timer starts
    0x58,                          # CLI
    0x4C, 0x13, 0x02,              # $0213: JMP $0213, waiting for the interrupt
]), 0x0300: bytes([0xE6, 0x10, 0xAD, 0x13, 0xF0, 0x40]),  # INC $10; LDA $F013 (acknowledge); RTI
    0xFFFE: bytes([0x00, 0x03])}


def machine(program: dict[int, bytes], timer: int | None = None, **options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, timer=timer, **options)
    for at, code in program.items():
        emu.load(code, at)
    emu.state.pc = min(program)
    return emu


def outcome(emu: recomp.Emulator, result: recomp.RunResult) -> tuple:
    st = emu.state
    return result.exit, result.pc, emu.instructions, emu.cycles, st.a, st.x, st.s, st.p, emu.memory[0:0x10000]


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_brk_through_its_own_vector_is_a_fault(mode):
    """Empty memory: BRK at $0000, its vector $0000. One BRK runs, then the run stops with the
    likely cause, with --stop-on-trap or without (it is no test program's trap)."""
    for stop_on_trap in (False, True):
        emu = recomp.Emulator("6502", console=None, **MODES_6502[mode])
        with pytest.raises(GuestFault, match=r"BRK at \$0000 jumps to itself through its vector at \$FFFE") as fault:
            emu.run(stop_on_trap=stop_on_trap, max_instructions=1000)
        assert fault.value.addr == 0 and emu.instructions == 1 and emu.state.pc == 0
        assert emu.memory[0x1FE:0x200] == bytes([0x20 | 0x10, 0x02]) and emu.state.s == 0xFD  # one BRK's pushes


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_brk_into_a_brk_elsewhere_stops_at_the_second(mode):
    """A program run into zeroed memory at $0211 with the vector at $0400, also zeroed: the
    BRK at $0211 goes to $0400, whose BRK goes to $0400 again."""
    emu = machine({0x0200: bytes([0x4C, 0x11, 0x02]), 0xFFFE: bytes([0x00, 0x04])}, **MODES_6502[mode])
    with pytest.raises(GuestFault, match=r"BRK at \$0400 jumps to itself"):
        emu.run(max_instructions=1000)
    assert emu.instructions == 3


@pytest.mark.parametrize("mode", sorted(MODES_6502))
@pytest.mark.parametrize("budget", [10_000, 30_001])
def test_idling_until_a_timer_interrupt_skips_ahead_exactly(mode, budget):
    emu = machine(IDLE_ON_TIMER, timer=TIMER, **MODES_6502[mode])
    result = emu.run(max_instructions=budget)
    reference = machine(IDLE_ON_TIMER, timer=TIMER, engine="interp")
    reference.trace(1)  # (a trace sees every instruction: nothing is skipped)
    expected = reference.run(max_instructions=budget)
    assert outcome(emu, result) == outcome(reference, expected)
    assert emu.memory[0x10] in ((emu.cycles // 1000) & 0xFF, (emu.cycles // 1000 - 1) & 0xFF)  # each period: one


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_idling_through_cycle_budgets_and_a_long_wait(mode):
    """``max_cycles`` (easy6502's frames, --mhz's slices) ends at the first boundary past it; a
    billion instructions of idling take no longer than a few."""
    idle = {0x0200: bytes([0xD0, 0xFE])}  # BNE *: Z is clear, for ever
    emu, reference = machine(idle, **MODES_6502[mode]), machine(idle, engine="interp")
    reference.trace(1)
    for _ in range(3):
        assert [emu.run(max_cycles=1000).exit, reference.run(max_cycles=1000).exit] == ["max-cycles"] * 2
        assert (emu.cycles, emu.instructions) == (reference.cycles, reference.instructions)
    assert (emu.cycles, emu.instructions) == (3006, 1002)  # 3 cycles a time round, 334 rounds a run
    result = emu.run(max_instructions=1_000_000_000)
    assert (result.exit, emu.instructions, emu.cycles) == ("max-instructions", 1_000_001_002, 3_000_003_006)


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_a_jump_to_itself_that_pushes_is_no_idle_loop(mode):
    """JSR * is a trap (it jumps to itself) but pushes each time round: it runs every time
    (found by hypothesis against py65)."""
    program = {0x0006: bytes([0x20, 0x06, 0x00])}  # JSR $0006
    emu = machine(program, **MODES_6502[mode])
    reference = machine(program, engine="interp")
    reference.trace(1)
    assert outcome(emu, emu.run(max_instructions=7)) == outcome(reference, reference.run(max_instructions=7))
    assert emu.state.s == (0 - 2 * 7) & 0xFF


def test_a_breakpoint_on_the_idle_loop_still_stops_it():
    emu = machine({0x0200: bytes([0x4C, 0x00, 0x02])})
    emu.breakpoints.add(0x200)
    result = emu.run(max_instructions=1_000_000)
    assert (result.exit, result.instructions) == ("breakpoint", 1)  # it ran once from the breakpoint


def test_tst27_idles_to_its_budget():
    from recomp.frontends.tst27 import assemble

    emu = recomp.Emulator("tst27", output=io.StringIO())
    emu.load(assemble("SET r1, 1\nwait: JLT r0, r1, wait\n"))
    result = emu.run(max_instructions=50_000_000)
    assert (result.exit, result.pc, emu.instructions) == ("max-instructions", 6, 50_000_000)


@pytest.mark.parametrize("args, pc, loaded", [
    (["--entry", "$200"], "$0200", "$0000..$0021"),  # --load forgotten
    (["--load", "$200", "--entry", "00"], "$0000", "$0200..$0221"),  # --entry $200 unquoted: the shell made it 00
])
def test_a_run_that_would_start_where_nothing_was_loaded_is_refused(args, pc, loaded):
    hello = EXAMPLES / "6502" / "hello.bin"
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(hello), *args, "--stop-on-trap"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 4
    assert done.stderr == (f"recomp: error: {hello}: execution would start at {pc}, where nothing was loaded "
                           f"(loaded: {loaded}): is --load missing, or --entry wrong? (in the shell, quote "
                           f"addresses: '$0200')\n")

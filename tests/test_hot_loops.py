"""Regions that hold a hot loop whole: given the native interpreter's profile, a region entered
in a loop holds every hot instruction from which its entry is reached again within its
subroutine, and the subroutines they call, beyond the region's usual size; cold code (an outer
loop run a few times) is left out, and a return counts as going back to its own call, so two
loops calling one helper stay two loops.  The cc65 programs, whose loops call the C runtime's
helpers every few instructions, still print and count what sim65 does."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import ROOT
from recomp.frontends import get_frontend
from recomp.frontends.region import build_region, hot_loops

CC65 = ROOT / "benchmarks" / "cc65"
EXPECTED = json.loads((CC65 / "expected.json").read_text())

# 0200 LDX #0 / 0202 LDY #0 / 0204 JSR $0300; INY; CPY #$10; BNE $0204 (the inner loop)
# 020C INX; CPX #$10; BNE $0202 (the outer loop) / 0211 JMP * / 0300 LDA #1; CLC; ADC #2; STA $10; RTS
NESTED = {
    0x0200: bytes([0xA2, 0x00, 0xA0, 0x00, 0x20, 0x00, 0x03, 0xC8, 0xC0, 0x10, 0xD0, 0xF8,
                   0xE8, 0xE0, 0x10, 0xD0, 0xF1, 0x4C, 0x11, 0x02]),
    0x0300: bytes([0xA9, 0x01, 0x18, 0x69, 0x02, 0x85, 0x10, 0x60]),
}
INNER = {0x0204, 0x0207, 0x0208, 0x020A}
HELPER = {0x0300, 0x0302, 0x0303, 0x0305, 0x0307}
OUTER = {0x0202, 0x020C, 0x020D, 0x020F}

# 0200 JSR $0300; DEX; BNE $0200 (loop A) / 0206 JSR $0300; DEY; BNE $0206 (loop B) / 020C JMP $0200
TWO_LOOPS = {
    0x0200: bytes([0x20, 0x00, 0x03, 0xCA, 0xD0, 0xFA, 0x20, 0x00, 0x03, 0x88, 0xD0, 0xFA, 0x4C, 0x00, 0x02]),
    0x0300: NESTED[0x0300],
}


def region_at(program: dict[int, bytes], entry: int, limit: int, profile: dict[int, int] | None):
    memory = bytearray(0x10000)
    for at, code in program.items():
        memory[at:at + len(code)] = code
    counts = None if profile is None else (lambda addr: profile.get(addr, 0))
    region, _, loop = build_region(get_frontend("6502"), memory, entry, 0x10000, limit, profile=counts)
    instructions = {op.args[0] for op in region.ops() if op.name == "insn"}
    return instructions, loop


def test_a_hot_inner_loop_is_held_whole_and_its_cold_outer_loop_left_out():
    hot = {0x0204: 1000, 0x0207: 1000, 0x0300: 1000, 0x020C: 10, 0x0202: 10}
    instructions, loop = region_at(NESTED, 0x0204, 8, hot)
    assert instructions == INNER | HELPER  # nine instructions, more than the region's eight
    assert loop == INNER
    without, none = region_at(NESTED, 0x0204, 8, None)
    assert len(without) == 8 and not INNER <= without and none == frozenset()


def test_an_outer_loop_as_hot_as_the_inner_one_is_held_too():
    hot = dict.fromkeys([0x0204, 0x0207, 0x0300, 0x020C, 0x0202], 1000)
    instructions, loop = region_at(NESTED, 0x0204, 8, hot)
    assert instructions >= INNER | HELPER | OUTER
    assert loop == INNER | OUTER


def test_two_loops_calling_one_helper_are_not_one_loop():
    hot = dict.fromkeys([0x0200, 0x0203, 0x0206, 0x0209, 0x0300], 1000) | {0x020C: 1}
    instructions, loop = region_at(TWO_LOOPS, 0x0200, 4, hot)
    assert loop == {0x0200, 0x0203, 0x0204}
    assert instructions == loop | HELPER  # loop B returns from the helper too, but is not in A


def test_a_region_the_loop_does_not_come_back_to_holds_no_loop():
    _, loop = region_at(NESTED, 0x0300, 4, {0x0300: 1000, 0x0207: 1000})
    assert loop == frozenset()


def loops_in(program: dict[int, bytes], targets: list[int], profile: dict[int, int], threshold: int
             ) -> list[tuple[int, int]]:
    memory = bytearray(0x10000)
    for at, code in program.items():
        memory[at:at + len(code)] = code
    return hot_loops(get_frontend("6502"), memory, 0x10000, targets, lambda addr: profile.get(addr, 0), threshold,
                     limit=8)


def test_a_loop_is_hot_as_a_whole_where_none_of_its_targets_is():
    """The inner loop and its helper ran 3,000 instructions; no target ran more than 1,000."""
    spread = {0x0204: 1000, 0x0207: 1000, 0x0300: 1000, 0x020C: 10, 0x0202: 10}
    assert loops_in(NESTED, [0x0204, 0x0207, 0x0300], spread, 2500) == [(0x0204, 0x0204)]  # once
    assert loops_in(NESTED, [0x0204, 0x0207, 0x0300], spread, 3500) == []
    assert loops_in(NESTED, [0x0300], spread, 10) == []  # the helper is no loop of its own


def test_two_loops_calling_one_helper_are_hot_each_on_its_own():
    spread = dict.fromkeys([0x0200, 0x0203, 0x0206, 0x0209, 0x0300], 1000) | {0x020C: 1}
    assert loops_in(TWO_LOOPS, [0x0200, 0x0206], spread, 2000) == [(0x0200, 0x0200), (0x0206, 0x0206)]


@pytest.mark.parametrize("outer", [10, 1000])
def test_a_loop_found_in_its_middle_is_entered_at_its_head(outer: int):
    """Found through the return from its call ($0207), the inner loop is entered where it starts
    ($0204, where its branch back goes), cold outer loop or hot: the native interpreter enters a
    region only at its entry, so a loop entered in its middle would run its first time round on
    the native interpreter each time it starts."""
    spread = {0x0204: 1000, 0x0207: 1000, 0x0300: 1000, 0x020C: outer, 0x0202: outer}
    assert loops_in(NESTED, [0x0207], spread, 2500) == [(0x0204, 0x0207)]
    memory = bytearray(0x10000)
    for at, code in NESTED.items():
        memory[at:at + len(code)] = code
    region, _, loop = build_region(get_frontend("6502"), memory, 0x0207, 0x10000, 8,
                                   profile=lambda addr: spread.get(addr, 0), head=0x0204)
    assert region.entry == 0x0204 and region.blocks[0].label == "L0204" and INNER <= loop
    assert {op.args[0] for op in region.ops() if op.name == "insn"} >= INNER | HELPER


def test_hot_code_that_only_leads_to_a_target_is_no_loop():
    """The outer loop's start and the call ran hot, the code after the call did not: nothing
    goes from the target back to it."""
    assert loops_in(NESTED, [0x0207], {0x0202: 1000, 0x0204: 1000}, 100) == []


@pytest.mark.parametrize("name", ["crc32", "matmul"])
def test_cc65_programs_with_hot_loops_held_whole_count_what_sim65_counts(tmp_path: Path, name: str):
    """A whole run (56 to 60 million instructions), regions compiled as they become hot (at once,
    so that the run is the same every time): sim65's output and cycle count."""
    from recomp.machines import get_machine
    from recomp.machines.base import Settings
    from recomp.machines.boot import Boot, boot, program_image
    from test_sim65 import sim65_branch_quirk

    path, machine = CC65 / f"{name}.sim", get_machine("sim65")
    settings = Settings(output=io.StringIO(), errors=io.StringIO(), args=[path.name], sandbox=tmp_path)
    emulator = machine.emulator("6502", settings, compile_in_background=False)
    boot(machine, emulator, program_image(path, None, emulator.frontend, 0x10000, 0), Boot(path))
    moved = sim65_branch_quirk(emulator)
    result = emulator.run()
    assert (result.exit, result.status, settings.output.getvalue()) == ("exit", 0, EXPECTED[name]["stdout"]["default"])
    assert machine.reported_cycles(emulator) + moved[0] == EXPECTED[name]["cycles"]["default"]
    sizes = [sum(op.name == "insn" for op in t.region.ops()) for _, t in emulator.translations if t.region is not None]
    assert max(sizes) > 64  # a loop held whole


def test_loops_hot_as_a_whole_are_compiled_at_the_end_of_a_warm_run(tmp_path: Path):
    """lz's loops run a few instructions between calls: 8.6 M of its 55.7 M instructions stayed on
    the native interpreter, no target of them hot.  A run that starts with code from the cache
    compiles them at its end; the next run holds them, and once a run finds no such loop, a note
    in the cache spares the runs after it the looking."""
    from recomp.machines import get_machine
    from recomp.machines.base import Settings
    from recomp.machines.boot import Boot, boot, program_image
    from recomp.runtime.code_cache import CodeCache

    path, machine = CC65 / "lz.sim", get_machine("sim65")
    cache = CodeCache(tmp_path / "cache")

    def run(max_instructions: int | None = None):
        settings = Settings(output=io.StringIO(), errors=io.StringIO(), args=[path.name], sandbox=tmp_path)
        emulator = machine.emulator("6502", settings, code_cache=cache)
        events: list[str] = []
        emulator.stats.log = events.append
        boot(machine, emulator, program_image(path, None, emulator.frontend, 0x10000, 0), Boot(path))
        result = emulator.run(max_instructions)
        emulator.finish_compiling()
        if max_instructions is None:
            assert (result.exit, settings.output.getvalue()) == ("exit", EXPECTED["lz"]["stdout"]["default"])
        return emulator.stats, [event.split()[0] for event in events]

    def notes() -> list[str]:
        return sorted(note.name for note in (tmp_path / "cache").glob("*/*.note"))

    cold, _ = run()
    _, events = run(20_000_000)  # stopped short: it has not run the loops, and keeps no note
    assert "loop" not in events and notes() == []
    warm, events = run()
    assert cold.cache_hits == 0 and warm.cache_hits >= 1 and "loop" in events and notes() == []
    for _ in range(3):  # (loops compiled, others may now run that many on the native interpreter)
        held, events = run()
        assert held.cache_hits > warm.cache_hits
        if "loop" not in events:
            break
    assert "loop" not in events and len(notes()) == 1
    again, events = run()
    assert again.cache_hits == held.cache_hits and events.count("cached") == again.cache_hits
    assert "compile" not in events and "loop" not in events and len(notes()) == 1


def test_a_run_without_cached_code_finds_code_hot_sooner(tmp_path: Path):
    """A run that starts with no code from the cache has all its hot code to make: a target is
    hot after half the instructions (the state's ``hot``); a run that starts with cached
    code compiles only what stays hot longer.  The bcd kernel's loop runs 14.7 M instructions."""
    import recomp
    from recomp.bench import KERNEL_ORIGIN, kernel_image
    from recomp.runtime.code_cache import CodeCache
    from recomp.runtime.interpreters import FIRST_HOT_INSTRUCTIONS, HOT_INSTRUCTIONS

    cache = CodeCache(tmp_path / "cache")

    def run() -> recomp.Emulator:
        emulator = recomp.Emulator("6502", console=None, code_cache=cache)
        emulator.load(kernel_image("bcd"), at=KERNEL_ORIGIN)
        emulator.state.pc = KERNEL_ORIGIN
        assert emulator.run(stop_on_trap=True).exit == "trap"
        emulator.finish_compiling()
        return emulator

    cold = run()
    assert cold.state.hot == FIRST_HOT_INSTRUCTIONS < HOT_INSTRUCTIONS and cold.stats.stitched >= 1
    warm = run()
    assert warm.state.hot == HOT_INSTRUCTIONS and warm.stats.cache_hits >= 1
    assert warm.memory[0:0x100] == cold.memory[0:0x100]


def caller_program(work: int) -> dict[int, bytes]:
    """0200 JSR $0300; ``work`` NOPs; JMP $0200 (the caller) / 0300 LDY #40; DEY; BNE $0302; RTS
    (a subroutine whose loop turns hot first): the caller runs ``work`` + 2 instructions for the
    subroutine's 82."""
    back = 0x0203 + work
    return {0x0200: bytes([0x20, 0x00, 0x03, *[0xEA] * work, 0x4C, 0x00, 0x02]),
            0x0300: bytes([0xA0, 40, 0x88, 0xD0, 0xFD, 0x60]), back: bytes([0x4C, 0x00, 0x02])}


@pytest.mark.parametrize(("work", "promoted"), [(30, True), (2, False)])
def test_a_hot_subroutines_warm_caller_is_promoted_with_it(tmp_path: Path, work: int, promoted: bool):
    """Once the subroutine's loop runs compiled, its caller would run on the native interpreter
    until it turned hot on its own: a caller that has run an eighth of the threshold by then
    (mul16's) is stitched and compiled with it; one that has run less waits its turn.  Either
    way the run ends where one all on the reference engine does."""
    import recomp
    from recomp.runtime.code_cache import CodeCache

    events: list[str] = []

    def run(**options) -> recomp.Emulator:
        emulator = recomp.Emulator("6502", console=None, code_cache=CodeCache(tmp_path / "cache"), **options)
        emulator.stats.log = events.append
        for at, code in caller_program(work).items():
            emulator.load(code, at=at)
        emulator.state.pc = 0x0200
        emulator.run(max_instructions=3_000_000)
        emulator.finish_compiling()
        return emulator

    emulator = run()
    promotions = [event for event in events if event.startswith("promote")]
    calls = "promote   $0203: calls $0302, and is warm on the native interpreter"
    assert promotions[0] == "promote   $0302: hot on the native interpreter"
    assert (calls in promotions) == promoted and (promotions[1:2] == [calls]) == promoted
    reference = run(engine="interp")
    assert (emulator.state.pc, emulator.state.a, emulator.state.x, emulator.state.y, emulator.state.s,
            emulator.instructions, emulator.cycles) == (reference.state.pc, reference.state.a, reference.state.x,
                                                        reference.state.y, reference.state.s, reference.instructions,
                                                        reference.cycles)


def test_the_6502_caller_is_the_return_site_a_jsr_pushed():
    """The word on top of the stack is a return address when the byte two before it is JSR."""
    import ctypes

    frontend = get_frontend("6502")
    memory = bytearray(0x10000)
    memory[0x0300:0x0303] = bytes([0x20, 0x00, 0x04])  # 0300 JSR $0400
    memory[0x01FE:0x0200] = bytes([0x02, 0x03])  # what it pushed: $0302, its last byte

    class State(ctypes.Structure):
        _fields_ = [("s", ctypes.c_uint8)]

    assert frontend.caller(memory, State(s=0xFD)) == 0x0303
    memory[0x0300] = 0xEA  # a word some other way pushed
    assert frontend.caller(memory, State(s=0xFD)) is None
    assert get_frontend("tst27").caller(memory, State(s=0xFD)) is None

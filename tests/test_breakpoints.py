"""Breakpoints (``emulator.breakpoints``, ``recomp run --break``) stop exactly where single steps
say, in every engine mode: random programs (those of the py65 differential tests) run with
breakpoints on addresses their trace reaches; the run stops before the first one reached after
its first instruction, with every register, flag, counter and byte of memory as a run of that
many instructions leaves them; continuing executes the breakpoint; removing it lets runs through."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, MODES_6502
from recomp.runtime import Emulator
from recomp.runtime.result import Stop
from test_6502_py65 import machines, run_py65

SETTINGS = dict(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.data_too_large])


def start(machine, memory: bytearray, **options) -> Emulator:
    emu = Emulator("6502", console=None, **options)
    emu.load(bytes(memory), at=0)
    st_ = emu.state
    st_.pc, st_.a, st_.x, st_.y, st_.s, st_.p = machine.pc, machine.a, machine.x, machine.y, machine.s, machine.p
    return emu


def snapshot(emu: Emulator) -> tuple:
    st_ = emu.state
    return (st_.pc, st_.a, st_.x, st_.y, st_.s, st_.p, emu.instructions, emu.cycles, emu.memory[0:0x10000])


def py65_trace(case, shortest: int) -> tuple:
    """A random machine, its memory, and the pcs py65 runs through (at least ``shortest``, and
    no illegal opcode: else the example is skipped)."""
    machine, n = case
    memory = machine.memory
    reference = run_py65(machine, n, memory)
    assume(reference.fault is None and len(reference.trace) >= shortest)
    return machine, memory, [pc for pc, _ in reference.trace]


@settings(**SETTINGS)
@given(machines(), st.lists(st.integers(1, 39), min_size=1, max_size=3), st.sampled_from(sorted(MODES_6502)))
def test_breakpoints_stop_where_single_steps_say(case, picks, mode):
    machine, memory, trace = py65_trace(case, 2)
    n = len(trace)
    points = {trace[i] for i in picks if i < n}
    hit = next((k for k in range(1, n) if trace[k] in points), None)

    emu = start(machine, memory, **MODES_6502[mode])
    for addr in points:
        emu.breakpoints.add(addr)
    result = emu.run(max_instructions=n)
    stepped = start(machine, memory, engine="interp")
    stepped.run(max_instructions=n if hit is None else hit)
    assert snapshot(emu) == snapshot(stepped)
    if hit is None:
        assert result.exit == Stop.MAX_INSTRUCTIONS
        return
    assert (result.exit, result.pc, result.instructions) == (Stop.BREAKPOINT, trace[hit], hit)
    # continuing executes the breakpoint, then stops at the next one reached (or the budget)
    again = emu.run(max_instructions=n - hit)
    following = next((k for k in range(hit + 1, n) if trace[k] in points), None)
    assert again.instructions == (n if following is None else following)
    # with the breakpoints gone, the rest runs to the budget
    emu.breakpoints.clear()
    emu.run(max_instructions=n - emu.instructions)
    stepped.run(max_instructions=n - stepped.instructions)
    assert snapshot(emu) == snapshot(stepped)


def test_breakpoint_in_a_hot_loop_then_removed():
    """A breakpoint in a loop compiled and chained stops it each time round; removed, the loop
    runs compiled through it again."""
    loop = bytes([0xA2, 0x00, 0xE8, 0xE0, 0x00, 0xD0, 0xFB, 0x4C, 0x07, 0x02])  # LDX #0; INX; CPX #0; BNE; JMP *
    emu = Emulator("6502", console=None, jit_threshold=0)
    emu.load(loop, 0x200)
    emu.state.pc = 0x200
    emu.breakpoints.add("$0205")
    stops = [emu.run(stop_on_trap=True) for _ in range(3)]
    assert [(r.exit, r.pc, emu.state.x) for r in stops][-1] == (Stop.BREAKPOINT, 0x205, 3)
    assert [r.instructions for r in stops] == [3, 6, 9]  # LDX, then INX CPX BNE each time round
    emu.breakpoints.remove(0x205)
    assert emu.run(stop_on_trap=True).exit == Stop.TRAP and emu.state.x == 0
    assert 0x205 not in emu.stops and list(emu.breakpoints) == []


def test_break_from_the_cli():
    hello = EXAMPLES / "6502" / "hello.bin"
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(hello), "--load", "$200", "--entry", "$200",
                           "--break", "$20B", "--break", "0x211", "--regs"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == ""
    assert done.stderr.splitlines()[:3] == ["recomp: breakpoint at $020B after 6 instructions",
                                            "PC  AC XR YR SP NV-BDIZC", "020B 48 00 00 FF 00100100"]


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_a_hook_on_the_loop_head_a_run_starts_at_runs_each_time_round(mode):
    """Code entered at a stop address (a hook, a breakpoint) leaves its region when it gets back
    there, rather than looping inside past the stop."""
    loop = bytes([0xA2, 0x00, 0xE8, 0xE0, 0x00, 0xD0, 0xFB, 0x4C, 0x07, 0x02])
    calls = []
    emu = Emulator("6502", console=None, **MODES_6502[mode])
    emu.load(loop, 0x200)
    emu.state.pc = 0x202
    emu.hook("$0202", lambda e: calls.append(e.state.x))
    assert emu.run(stop_on_trap=True).exit == Stop.TRAP
    assert calls == list(range(256))


@settings(**SETTINGS)
@given(machines(), st.integers(1, 39), st.lists(st.integers(1, 39), min_size=1, max_size=3),
       st.sampled_from(sorted(MODES_6502)))
def test_breakpoints_set_while_code_is_compiled_stop_where_single_steps_say(case, first, picks, mode):
    """Breakpoints added between runs, when code is translated and linked and some stop already
    exists, drop only what covers them; the next run still stops exactly at them."""
    machine, memory, trace = py65_trace(case, 3)
    n = len(trace)
    first = min(first, n - 1)
    emu = start(machine, memory, **MODES_6502[mode])
    emu.hook(0x10000 - 1 if 0xFFFF not in trace else 0xFFFE, lambda e: None)  # a stop never reached, made first
    emu.run(max_instructions=first)
    points = {trace[i] for i in picks if first < i < n}
    for addr in points:
        emu.breakpoints.add(addr)
    result = emu.run(max_instructions=n - first)
    hit = next((k for k in range(first + 1, n) if trace[k] in points), None)
    stepped = start(machine, memory, engine="interp")
    stepped.run(max_instructions=n if hit is None else hit)
    assert snapshot(emu) == snapshot(stepped)
    assert result.exit == (Stop.MAX_INSTRUCTIONS if hit is None else Stop.BREAKPOINT)

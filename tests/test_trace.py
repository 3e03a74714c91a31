"""Execution traces (``emulator.trace``, ``recomp run --trace FILE`` and ``--trace-last N``): one
entry per executed instruction with the counters and registers before it, the same in every
engine mode as single steps of the reference engine; Klaus Dormann's decimal test traced from
the CLI with its pc column equal to a single-step run's."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, MODES_6502, TESTDATA, missing_testdata
from recomp.runtime import Emulator
from recomp.runtime.trace import SINK_STRETCH
from test_6502_py65 import machines, run_py65
from test_breakpoints import start

DECIMAL = TESTDATA / "6502" / "6502_decimal_test.bin"
DECIMAL_INSTRUCTIONS = 46_089_505  # from its entry at $0200 to the trap (tests/test_6502_klaus.py)


def stepped(emu: Emulator, n: int) -> list[tuple]:
    """(instructions, cycles, pc, a, x, y, s, p) before each of ``n`` single steps."""
    seen = []
    for _ in range(n):
        st = emu.state
        seen.append((emu.instructions, emu.cycles, st.pc, st.a, st.x, st.y, st.s, st.p))
        emu.step()
    return seen


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(machines(), st.sampled_from(sorted(MODES_6502)))
def test_a_trace_is_single_steps_in_every_mode(case, mode):
    machine, n = case
    memory = machine.memory
    reference = run_py65(machine, n, memory)
    assume(reference.fault is None)
    n = len(reference.trace)
    emu = start(machine, memory, **MODES_6502[mode])
    trace = emu.trace(n)
    emu.run(max_instructions=n)
    got = [(e.instructions, e.cycles, e.pc, *e.registers) for e in trace]
    assert got == stepped(start(machine, memory, engine="interp"), n)
    assert [e.code[0] for e in trace] == [raw[0] for _, raw in reference.trace]


def test_the_ring_buffer_keeps_the_last_n_and_stops():
    emu = Emulator("6502", console=None)
    emu.load((EXAMPLES / "6502" / "hello.bin").read_bytes(), 0x200)
    emu.state.pc = 0x200
    trace = emu.trace(4)
    emu.run(max_instructions=10)
    assert [e.instructions for e in trace] == [6, 7, 8, 9]
    assert emu.trace(0) is None and emu.tracing is None


@pytest.mark.skipif(not DECIMAL.exists(), reason=missing_testdata(DECIMAL))
def test_trace_file_of_the_decimal_test(tmp_path):
    n = 60_000
    out = tmp_path / "trace.txt"
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(DECIMAL), "--load", "$200", "--entry",
                           "$200", "--max-instructions", str(n), "--trace", str(out)], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == n
    emu = Emulator("6502", console=None, engine="interp")
    emu.load(DECIMAL.read_bytes(), 0x200)
    emu.reset()
    emu.state.pc = 0x200
    steps = stepped(emu, n)
    assert [int(line.split()[2], 16) for line in lines] == [pc for _, _, pc, *_ in steps]
    assert [int(line.split()[1]) for line in lines] == [cycles for _, cycles, *_ in steps]
    assert lines[0].split()[3:6] == ["A0", "01", "LDY"]  # its first instruction: LDY #1
    assert lines[0].endswith("A:00 X:00 Y:00 S:FD P:24")


@pytest.mark.slow
@pytest.mark.skipif(not DECIMAL.exists(), reason=missing_testdata(DECIMAL))
def test_trace_of_the_whole_decimal_test(tmp_path):
    out = tmp_path / "trace.txt"
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(DECIMAL), "--load", "$200", "--entry",
                           "$200", "--stop-on-trap", "--trace", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(out) as lines:
        assert sum(1 for _ in lines) == DECIMAL_INSTRUCTIONS


def test_trace_last_on_a_wrong_expect_pc():
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(EXAMPLES / "6502" / "hello.bin"), "--load",
                           "$200", "--entry", "$200", "--stop-on-trap", "--expect-pc", "$300", "--trace-last", "3"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == "recomp: the last 3 instructions:"
    assert [line.split()[2] for line in lines[1:4]] == ["0206", "0209", "0211"]
    assert lines[-1] == f"recomp: error: {EXAMPLES / '6502' / 'hello.bin'}: stopped at $0211, expected $0300"


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_a_sink_gets_every_instruction_across_stretches(mode):
    from test_watchpoints import counting

    seen = []
    emu = counting(**MODES_6502[mode])
    emu.trace(0, seen.append)
    n = 2 * SINK_STRETCH + 100  # the run goes in stretches of the ring's size, drained between them
    emu.run(max_instructions=n)
    assert [(e.instructions, e.cycles, e.pc, *e.registers) for e in seen] == stepped(counting(engine="interp"), n)


def test_a_breakpoint_where_a_stretch_ends_stops_the_run():
    emu = Emulator("6502", console=None)
    end = 0x200 + SINK_STRETCH  # NOPs up to it, then JMP *: it is reached just as the first stretch ends
    emu.load(bytes([0xEA]) * SINK_STRETCH + bytes([0x4C, end & 0xFF, end >> 8]), 0x200)
    emu.state.pc = 0x200
    seen = []
    emu.trace(0, seen.append)
    emu.breakpoints.add(end)
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc, result.instructions, len(seen)) == ("breakpoint", end, SINK_STRETCH, SINK_STRETCH)


# $0200: JMP ($0300) through a pointer set to $0205; $0203: two NOPs; $0205: LDA ($10),Y; BRK; ...
INDIRECT = bytes([0x6C, 0x00, 0x03, 0xEA, 0xEA, 0xB1, 0x10, 0x00])


@pytest.mark.parametrize("mode", sorted(MODES_6502))
def test_indirect_jumps_and_brk_are_traced_as_single_steps(mode):
    """The instructions whose decoding reads memory beyond their own bytes (JMP ($0300)'s
    pointer) once made a trace line raise IndexError; BRK showed as ???."""
    from recomp.inspection import trace_line

    def machine(**options) -> Emulator:
        emu = Emulator("6502", console=None, **options)
        emu.load(INDIRECT, 0x200)
        emu.memory[0x300:0x302] = bytes([0x05, 0x02])
        emu.memory[0xFFFE:0x10000] = bytes([0x00, 0x02])  # BRK goes back to the start
        emu.state.pc = 0x200
        return emu

    emu = machine(**MODES_6502[mode])
    trace = emu.trace(9)
    emu.run(max_instructions=9)
    assert [(e.instructions, e.cycles, e.pc, *e.registers) for e in trace] == stepped(machine(engine="interp"), 9)
    lines = [trace_line(emu, entry, trace.names).split() for entry in trace]
    assert [line[2:] for line in lines[:3]] == [
        ["0200", "6C", "00", "03", "JMP", "($0300)", "A:00", "X:00", "Y:00", "S:00", "P:20"],
        ["0205", "B1", "10", "LDA", "($10),", "y", "A:00", "X:00", "Y:00", "S:00", "P:20"],
        ["0207", "00", "BRK", "A:00", "X:00", "Y:00", "S:00", "P:22"]]


def test_tst27_programs_are_traced_as_single_steps(tst27_source, tmp_path):
    """Every TST27 instruction in a trace line and in the trace (its decoder reads operands as
    slices, which once made every TST27 trace raise TypeError), from the API and the CLI."""
    from recomp.frontends.tst27 import assemble
    from recomp.inspection import trace_line

    program = assemble(tst27_source("test2"))
    n = 200

    def machine(**options) -> Emulator:
        emu = Emulator("tst27", output=io.StringIO(), **options)
        emu.load(program)
        return emu

    emu = machine()
    trace = emu.trace(n)
    emu.run(max_instructions=n)
    steps = machine(engine="interp")
    expected = []
    for _ in range(n):
        expected.append((steps.instructions, steps.state.pc, *(getattr(steps.state, r) for r in trace.names)))
        steps.step()
    assert [(e.instructions, e.pc, *e.registers) for e in trace] == expected
    decoded = [emu.frontend.decode(emu.machine.memory_view, e.pc, len(program)) for e in trace]
    assert all(f"  {insn.text} " in trace_line(emu, e, trace.names) for insn, e in zip(decoded, trace))
    assert {insn.mnemonic for insn in decoded} == {"SET", "ADD", "JLT", "PRINT"}
    out = tmp_path / "trace.txt"
    source = tmp_path / "test2.s"
    source.write_text(tst27_source("test2"))
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(source), "--max-instructions", "50",
                           "--trace", str(out)], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert len(out.read_text().splitlines()) == 50

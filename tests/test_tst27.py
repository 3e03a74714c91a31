"""TST27: decoder, assembler, and the engines against each other on the demo programs and on
hypothesis-generated programs, well-formed and malformed, in every mode."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MODES, run_tst27
from recomp.frontends.base import DecodeError
from recomp.frontends.tst27 import AsmError, Tst27, assemble, disassemble, format_print
from recomp.runtime import GuestFault

SCALED = {"test1": ("0x01FFFFFF", "0x00000FFF"), "test2": ("0x00FFFFFF", "0x000003FF")}


def test_assembler_encodes_every_instruction():
    program = assemble("start: SET r1, 0x11223344\n ADD r1, r2 ; comment\n JLT r3, r4, start\n"
                       "PRINT r31\n END\n .byte 7, 0xff\n")
    assert program == bytes([0, 1, 0x44, 0x33, 0x22, 0x11, 1, 1, 2, 2, 3, 4, 0, 0, 0, 0,
                             3, 31, 4, 7, 0xFF])


@pytest.mark.parametrize("source, message", [
    ("FOO r1", "unknown mnemonic"),
    ("SET r32, 1", "expected a register"),
    ("SET r1", "takes 2 operands"),
    ("SET r1, 0x100000000", "does not fit"),
    ("JLT r1, r2, nowhere", "expected a number"),
    ("a: END\na: END", "defined twice"),
    (".byte 256", "out of range"),
])
def test_assembler_errors_name_the_line(source, message):
    with pytest.raises(AsmError, match=f"line .*{message}"):
        assemble(source)


@pytest.mark.parametrize("program, addr, message", [
    (b"\x07", 0, "unknown opcode 0x07"),
    (b"\x00\x01\x02", 0, "truncated SET: needs 6 bytes, the program has 3"),
    (b"\x03\x20", 0, "register r32 does not exist"),
    (b"\x01\x00\xff", 0, "register r255 does not exist"),
    (b"\x02\x00\x01\x00\x10\x00\x00", 0, "jump target 0x00001000 is outside memory"),
])
def test_decode_errors(program, addr, message):
    memory = bytearray(4096)
    memory[:len(program)] = program
    with pytest.raises(DecodeError, match=message) as info:
        Tst27().decode(memory, addr, len(program))
    assert info.value.addr == addr


def test_decode_at_end_of_memory():
    memory = bytearray(4096)
    with pytest.raises(DecodeError, match="off the end of memory"):
        Tst27().decode(memory, 4096, 4096)
    with pytest.raises(DecodeError, match="needs 6 bytes and runs off the end of memory"):
        Tst27().decode(memory, 4093, 4096)


def test_disassemble_lists_instructions_and_errors():
    lines = disassemble(assemble("SET r0, 5\nEND\n.byte 9"))
    assert [text for _, _, text in lines] == ["SET r0, 0x00000005", "END", "?? (0x0007: unknown opcode 0x09)"]


def test_print_format():
    assert format_print(3, 0xABC) == " r03 = 00000ABC"
    assert format_print(24, 5) == " "


@pytest.mark.parametrize("name", ["test1", "test2"])
@pytest.mark.parametrize("engine, optimize, region", MODES)
def test_demo_programs_scaled_agree_in_every_mode(tst27_source, name, engine, optimize, region):
    bound, scaled = SCALED[name]
    program = assemble(tst27_source(name).replace(bound, scaled))
    expected, ref, _ = run_tst27(program, engine="interp")
    output, emu, result = run_tst27(program, engine, optimize, region)
    assert output == expected
    assert result.exit == "halt"
    assert emu.instructions == ref.instructions
    assert [getattr(emu.state, f"r{i}") for i in range(32)] == [
        getattr(ref.state, f"r{i}") for i in range(32)]


@pytest.mark.parametrize("name, instructions, last", [
    ("test1", 67108873, " r00 = 01FFFFFF\n r01 = 01FFFFFF\n r02 = 00000001\n"),
    ("test2", 167772181, " r10 = 00000005\n r11 = 00000005\n"),
])
def test_demo_programs_full_size_on_jit(tst27_source, name, instructions, last):
    output, emu, result = run_tst27(assemble(tst27_source(name)))
    assert result.exit == "halt"
    assert emu.instructions == instructions
    assert output.endswith(last)


def test_max_instructions_stops_exactly_in_every_mode(tst27_source):
    program = assemble(tst27_source("test1"))
    for engine, optimize, region in MODES:
        for budget in (0, 1, 7, 8, 1001):
            _output, emu, result = run_tst27(program, engine, optimize, region, max_instructions=budget)
            assert result.exit == "max-instructions"
            assert emu.instructions == budget
            assert emu.state.r0 == max(0, (budget - 7 + 1) // 2), (engine, optimize, region, budget)


def test_step_runs_one_instruction(tst27_source):
    _, emu, _ = run_tst27(assemble("SET r0, 3\nSET r1, 4\nEND"), max_instructions=0)
    for expected_pc, count in ((6, 1), (12, 2)):
        emu.step()
        assert (emu.state.pc, emu.instructions) == (expected_pc, count)
    assert emu.step().exit == "halt"


# --- hypothesis: random programs, JIT against the reference interpreter ---------------------

REGS = st.sampled_from([0, 1, 2, 3, 24])


@st.composite
def programs(draw) -> bytes:
    """A TST27 program of well-formed instructions whose jumps land on instruction starts."""
    kinds = draw(st.lists(st.sampled_from(["SET", "ADD", "JLT", "PRINT"]), min_size=1, max_size=14))
    sizes = {"SET": 6, "ADD": 3, "JLT": 7, "PRINT": 2}
    starts, addr = [], 0
    for kind in kinds:
        starts.append(addr)
        addr += sizes[kind]
    starts.append(addr)  # the END
    lines = []
    for kind in kinds:
        if kind == "SET":
            value = draw(st.one_of(st.integers(0, 5), st.integers(0, 2**32 - 1),
                                   st.sampled_from([2**31, 2**32 - 1])))
            lines.append(f"SET r{draw(REGS) % 24}, {value}")
        elif kind == "ADD":
            lines.append(f"ADD r{draw(REGS) % 24}, r{draw(REGS) % 24}")
        elif kind == "JLT":
            lines.append(f"JLT r{draw(REGS) % 24}, r{draw(REGS) % 24}, {draw(st.sampled_from(starts))}")
        else:
            lines.append(f"PRINT r{draw(REGS)}")
    lines.append("END")
    return assemble("\n".join(lines))


def outcome_of(program: bytes, engine: str, optimize: bool = True, region: int = 256,
               budget: int | None = 3000):
    output, emu, result = run_tst27(program, engine, optimize, region, max_instructions=budget)
    if isinstance(result, Exception):
        result = (type(result).__name__, str(result))
    else:
        result = (result.exit, result.pc)
    regs = [getattr(emu.state, f"r{i}") for i in range(32)]
    return output, result, emu.instructions, regs


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(programs())
def test_random_programs_agree_in_every_mode(program):
    expected = outcome_of(program, "interp")
    for engine, optimize, region in MODES[1:]:
        assert outcome_of(program, engine, optimize, region) == expected


@SETTINGS
@given(programs())
def test_random_programs_without_budget_agree(program):
    expected = outcome_of(program, "interp")
    if expected[1][0] == "halt":  # finishes: the JIT may run it with guards dropped
        assert outcome_of(program, "jit", budget=None) == expected


@SETTINGS
@given(st.binary(min_size=1, max_size=64))
def test_malformed_programs_fail_the_same_way(program):
    expected = outcome_of(program, "interp", budget=500)
    assert outcome_of(program, "jit", budget=500) == expected
    if expected[1][0] == "GuestFault":
        assert expected[1][1].startswith("0x")


def test_fault_is_raised_when_reached_not_before():
    program = assemble("SET r0, 1\nJLT r1, r0, 14\n.byte 0x09\nEND")
    for engine, optimize, region in MODES:
        _output, emu, result = run_tst27(program, engine, optimize, region)
        assert result.exit == "halt", (engine, region)
    bad = assemble("SET r0, 1\nJLT r0, r1, 14\n.byte 0x09\nEND")
    for engine, optimize, region in MODES:
        _, emu, result = run_tst27(bad, engine, optimize, region)
        assert isinstance(result, GuestFault) and result.addr == 13
        assert emu.instructions == 2

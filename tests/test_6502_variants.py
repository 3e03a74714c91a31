"""The 6502 family's variants as units of their own: code made for one never runs for another
(in one process, and through one code cache), and the 65C02's instructions that py65 lacks
(WAI, STP) behave as the data sheet says on every tier."""

from __future__ import annotations

import subprocess
import sys

import pytest

import recomp
from recomp.runtime import GuestFault
from recomp.runtime.code_cache import CodeCache

# LDX #0; loop: LDA #$05; $1A; STA $10; DEX; BNE loop; JMP *
# $1A is a NOP on the NMOS chip (undocumented) and INC A on the 65C02: $10 ends $05 or $06
PROGRAM = bytes([0xA2, 0x00, 0xA9, 0x05, 0x1A, 0x85, 0x10, 0xCA, 0xD0, 0xF8, 0x4C, 0x0A, 0x02])
RESULT = {"6502": 0x05, "65c02": 0x06}
ENGINES = [dict(engine="interp"), dict(engine="jit", jit_threshold=0), dict(engine="jit")]


def _run(cpu: str, **options) -> recomp.Emulator:
    emu = recomp.Emulator(cpu, console=None, **options)
    emu.load(PROGRAM, at=0x0200)
    emu.state.pc = 0x0200
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc) == ("trap", 0x020A)
    return emu


@pytest.mark.parametrize("options", ENGINES, ids=["interp", "jit", "tiered"])
def test_two_variants_in_one_process(options):
    for _ in range(2):  # each variant twice, alternating: nothing one made is reused by the other
        for cpu, value in RESULT.items():
            assert _run(cpu, code_cache=None, **options).memory[0x10] == value, cpu


def test_two_variants_in_one_code_cache(tmp_path):
    cache = CodeCache(tmp_path / "cache")
    for round_ in ("cold", "warm"):
        for cpu, value in RESULT.items():
            emu = _run(cpu, code_cache=cache, jit_threshold=0)
            emu.finish_compiling()
            assert emu.memory[0x10] == value, (cpu, round_)
            if round_ == "warm":
                assert emu.stats.cache_hits > 0 and emu.stats.compiled == 0, cpu


def test_documented_only_refuses_what_the_nmos_chip_runs():
    with pytest.raises(GuestFault, match=r"illegal opcode \$1A at \$0204"):
        _run("6502-documented")


def test_regions_name_their_variant():
    for cpu, guest in (("6502", "mos6502"), ("65c02", "wdc65c02"), ("6502-documented", "mos6502_documented")):
        assert recomp.Emulator(cpu, console=None).guest.name == guest


@pytest.mark.parametrize("options", ENGINES, ids=["interp", "jit", "tiered"])
def test_stp_ends_the_run(options):
    emu = recomp.Emulator("65c02", console=None, **options)
    emu.load(bytes([0xE8, 0xDB, 0xE8]), at=0x0200)  # INX; STP; INX
    emu.state.pc = 0x0200
    result = emu.run()
    assert (result.exit, result.pc, emu.state.x, emu.instructions, emu.cycles) == ("halt", 0x0201, 1, 2, 5)


@pytest.mark.parametrize("options", ENGINES, ids=["interp", "jit", "tiered"])
@pytest.mark.parametrize("masked", [False, True], ids=["taken", "masked"])
def test_wai_waits_for_an_interrupt(options, masked):
    """WAI idles until the IRQ line is asserted; with I clear the handler runs, with I set the
    program goes on after WAI without taking it."""
    emu = recomp.Emulator("65c02", console=None, **options)
    emu.load(bytes([0xCB, 0xE8, 0x4C, 0x02, 0x02]), at=0x0200)  # WAI; INX; JMP *
    emu.load(bytes([0xC8, 0x4C, 0x01, 0x03]), at=0x0300)  # the handler: INY; JMP *
    emu.memory[0xFFFE], emu.memory[0xFFFF] = 0x00, 0x03
    emu.state.pc, emu.state.s, emu.state.I = 0x0200, 0xFF, int(masked)
    emu.run(max_instructions=50)
    assert (emu.state.pc, emu.state.x, emu.state.y) == (0x0200, 0, 0)  # still waiting
    emu.irq(True)
    emu.run(max_instructions=3)
    if masked:
        assert (emu.state.pc, emu.state.x, emu.state.y) == (0x0202, 1, 0)
    else:
        assert (emu.state.pc, emu.state.y, emu.state.D) == (0x0301, 1, 0)


def test_jam_from_the_cli(tmp_path):
    program = tmp_path / "jam.bin"
    program.write_bytes(bytes([0xE8, 0x02]))
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(program), "--load", "$200",
                           "--entry", "$200"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 4
    assert done.stderr.strip() == f"recomp: error: {program}: CPU jammed by $02 at $0201"
    documented = subprocess.run([sys.executable, "-m", "recomp.cli", "run", "--cpu", "6502-documented", str(program),
                                 "--load", "$200", "--entry", "$200"], capture_output=True, text=True, timeout=120)
    assert (documented.returncode, documented.stderr.strip()) == (
        4, f"recomp: error: {program}: illegal opcode $02 at $0201")

"""Compiled code accesses the 6502's zero page and stack without consulting attributes while no
byte there has any (``GuestSpec.data_pages``, ``recomp.backend.lower.quiet_pages``): code put
there, a watchpoint or a device there makes the page checked again, and drops the code that
was not."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import recomp
from recomp.runtime.code_cache import CodeCache

# 0200 copies a routine (LDA $1234 / STA $0300,X / RTS) from $0400 into $0080, then loops
# with X from 1 to 255: it moves the operand of the copy in the zero page on, and calls the
# routine through JMP ($00F0) (so no region follows the call), which returns to the loop's head:
# below X = 128 the routine at $0400, from then on the copy.
MAIN = bytes([
    0xA2, 0x00, 0xBD, 0x00, 0x04, 0x95, 0x80, 0xE8, 0xE0, 0x07, 0xD0, 0xF6,  # copy 7 bytes to $80
    0xA9, 0x00, 0x85, 0xF0, 0xA9, 0x04, 0x85, 0xF1, 0xA2, 0x00,  # ($F0) = $0400; X = 0
    0xE6, 0x81, 0xE8, 0xF0, 0x14, 0x8A, 0x10, 0x08,  # 0216: INC $81 / INX / BEQ $022F / TXA / BPL $0226
    0xA9, 0x80, 0x85, 0xF0, 0xA9, 0x00, 0x85, 0xF1,  # ($F0) = $0080
    0xA9, 0x02, 0x48, 0xA9, 0x15, 0x48, 0x6C, 0xF0, 0x00,  # 0226: push $0215, JMP ($00F0)
    0x4C, 0x2F, 0x02,  # 022F: JMP *
])
ROUTINE = bytes([0xAD, 0x34, 0x12, 0x9D, 0x00, 0x03, 0x60])


def _machine(engine: str, **options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", engine=engine, console=None, **options)
    emu.load(MAIN, at=0x0200)
    emu.load(ROUTINE, at=0x0400)
    emu.load(bytes((7 * i + 3) & 0xFF for i in range(0x100)), at=0x1200)
    emu.state.pc = 0x0200
    return emu


def _end(emu: recomp.Emulator) -> tuple:
    st = emu.state
    return st.pc, st.a, st.x, st.y, st.s, st.p, emu.instructions, emu.cycles, bytes(emu.memory[0:0x1400])


def test_code_copied_into_the_zero_page_makes_it_checked():
    """The loop is compiled while the zero page is quiet; once the routine's copy there is
    translated, the loop's code is dropped and made again with checks: its stores into the
    copy's operand then drop the copy's code, as stores into code must."""
    reference = _machine("interp", code_cache=None)
    reference.run(stop_on_trap=True)
    emu = _machine("jit", code_cache=None, jit_threshold=0)
    events: list[str] = []
    emu.stats.log = events.append
    emu.run(stop_on_trap=True)
    assert _end(emu) == _end(reference)
    data = [(7 * i + 3) & 0xFF for i in range(0x100)]
    operands = (0x34 if x < 0x80 else (0x34 + x) & 0xFF for x in range(1, 0x100))  # (the copy's, moved on)
    assert bytes(emu.memory[0x0301:0x0400]) == bytes(data[operand] for operand in operands)
    noisy = [event for event in events if event.startswith("noisy")]
    assert noisy and "$0000" in noisy[0] and "(0 translations" not in noisy[0]  # (something assumed it quiet)
    assert emu.translations.noisy == {0} and emu.translations.quiet() == {1}
    assert all(0 not in translation.assumes for _, translation in emu.translations)


def test_code_in_the_zero_page_is_exact_from_the_code_cache(tmp_path: Path):
    """Runs that find code in the cache: the zero page holding code is part of the context the
    code is filed under, so code made assuming it quiet is not used where it is not."""
    reference = _machine("interp", code_cache=None)
    reference.run(stop_on_trap=True)
    cache = CodeCache(tmp_path / "cache")
    for _ in range(3):
        emu = _machine("jit", code_cache=cache, jit_threshold=0)
        emu.run(stop_on_trap=True)
        emu.finish_compiling()
        assert _end(emu) == _end(reference)
    assert emu.stats.cache_hits


# 0200: LDX #0 / 0202: TXA / STA $10 / INX / BNE $0202 / JMP *
STORES_TO_THE_ZERO_PAGE = bytes([0xA2, 0x00, 0x8A, 0x85, 0x10, 0xE8, 0xD0, 0xFA, 0x4C, 0x08, 0x02])


@pytest.mark.parametrize("engine", ["interp", "jit"])
def test_a_watchpoint_set_in_the_zero_page_after_compiling_stops_the_loop(engine):
    emu = recomp.Emulator("6502", engine=engine, console=None, code_cache=None, jit_threshold=0)
    emu.load(STORES_TO_THE_ZERO_PAGE, at=0x0200)
    emu.state.pc = 0x0200
    emu.run(max_instructions=40)  # (compiled, the zero page quiet)
    if engine == "jit":
        assert any(0 in translation.assumes for _, translation in emu.translations)
    emu.watch(0x10, on="w", value=0x80)
    result = emu.run(stop_on_trap=True)
    hit = result.watch
    assert (result.exit, hit.addr, hit.value, hit.access, hit.pc) == ("watchpoint", 0x10, 0x80, "write", 0x0203)
    assert all(0 not in translation.assumes for _, translation in emu.translations)


class ZeroPageRegister:
    """A device register in the zero page, counting its reads."""

    name = "zero-page register"

    def __init__(self) -> None:
        self.reads = 0

    def addresses(self) -> tuple[int, ...]:
        return (0x10,)

    def read(self, addr: int, cycles: int) -> int:
        self.reads += 1
        return self.reads & 0xFF

    def write(self, addr: int, value: int, cycles: int) -> None:
        pass


# 0200: LDX #0 / 0202: LDA $10 / STA $0300,X / INX / BNE $0202 / JMP *
READS_THE_ZERO_PAGE = bytes([0xA2, 0x00, 0xA5, 0x10, 0x9D, 0x00, 0x03, 0xE8, 0xD0, 0xF8, 0x4C, 0x0A, 0x02])


def test_a_device_in_the_zero_page_is_read_by_compiled_code():
    emu = recomp.Emulator("6502", console=None, code_cache=None, jit_threshold=0, output=io.StringIO())
    device = ZeroPageRegister()
    emu.map_device(device)
    emu.load(READS_THE_ZERO_PAGE, at=0x0200)
    emu.state.pc = 0x0200
    emu.run(stop_on_trap=True)
    assert emu.translations.quiet() == {1}
    assert device.reads == 0x100 and bytes(emu.memory[0x0300:0x0400]) == bytes(range(1, 0x100)) + b"\0"

"""The parts of the runtime on their own: translation keys, the entry table, each machine's
helper table, reset."""

from __future__ import annotations

import io
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import recomp
from recomp.frontends import get_frontend
from recomp.frontends.tst27 import assemble
from recomp.runtime.entry_table import EntryTable
from recomp.runtime.keys import InterruptKey, TranslationKey
from recomp.runtime.machine import Machine

MOS6502 = get_frontend("6502").guest


@given(st.integers(0, 0xFFFF), st.booleans(), st.lists(st.integers(0, 1), max_size=3).map(tuple))
def test_a_translation_key_reads_back_its_code_cache_name(pc, guards, specialized):
    key = TranslationKey(pc, False, guards, specialized)
    assert TranslationKey.parse(key.cache_name()) == key


@pytest.mark.parametrize("name", ["00200-[]-guards", "fffffff-0-guards", "00200-s0-guards-x", "", "interpreter",
                                  "00200-s0-other", "0020g-s-free"])
def test_names_that_are_not_keys_read_back_as_none(name):
    assert TranslationKey.parse(name) is None


def test_entry_slots_are_per_address_and_specialized_flag_and_only_for_regions():
    table = EntryTable(MOS6502, stops={0x0300})
    table.guards = True
    assert table.index(TranslationKey(0x0200, False, True, (0,))) == 0x0200
    assert table.index(TranslationKey(0x0200, False, True, (1,))) == 0x10200
    assert table.index(TranslationKey(0x0200, True, True, (0,))) is None  # a single step
    assert table.index(TranslationKey(0x0200, False, False, (0,))) is None  # another guard mode
    assert table.index(TranslationKey(0x0300, False, True, (0,))) is None  # a stop address
    assert table.index(InterruptKey("irq", 0x0200)) is None


COUNTER = """
    SET r0, 0
    SET r1, {count}
    SET r2, {step}
loop:
    PRINT r0
    ADD r0, r2
    JLT r0, r1, loop
    END
"""


def test_each_machine_calls_its_own_helpers_from_compiled_code():
    """Two machines run compiled code that calls their PRINT helper at once, in two threads
    (ctypes lets go of the GIL while native code runs): each output holds its own lines."""
    def machine(step: int) -> recomp.Emulator:
        emu = recomp.Emulator("tst27", output=io.StringIO())
        emu.load(assemble(COUNTER.format(count=3000, step=step)))
        return emu

    machines = [machine(1), machine(3)]
    threads = [threading.Thread(target=emu.run) for emu in machines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for emu, step in zip(machines, (1, 3)):
        assert emu.stats.compiled >= 1
        expected = "".join(f" r00 = {value:08X}\n" for value in range(0, 3000, step))
        assert emu.output.getvalue() == expected


class Oracle:
    """A device whose register runs a whole other machine to answer (helpers nest)."""

    def addresses(self) -> tuple[int, ...]:
        return (0xF100,)

    def read(self, addr: int, cycles: int) -> int:
        inner = recomp.Emulator("tst27", output=io.StringIO())
        inner.load(assemble(COUNTER.format(count=5, step=1)))
        inner.run()
        return len(inner.output.getvalue().splitlines())  # 5

    def write(self, addr: int, value: int, cycles: int) -> None:
        pass


@pytest.mark.parametrize("threshold", [0, 8])
def test_a_device_may_run_another_machine(threshold):
    emu = recomp.Emulator("6502", console=None, jit_threshold=threshold)
    emu.map_device(Oracle())
    # LDA $F100; STA $10; JMP *
    emu.load(bytes([0xAD, 0x00, 0xF1, 0x85, 0x10, 0x4C, 0x05, 0x02]), at=0x0200)
    emu.state.pc = 0x0200
    result = emu.run(stop_on_trap=True, max_instructions=100)
    assert (result.exit, result.pc, emu.memory[0x10]) == ("trap", 0x0205, 5)


def test_reset_starts_at_the_reset_vector():
    machine = Machine(get_frontend("6502"), io.StringIO())
    machine.load(bytes([0x34, 0x12]), at=0xFFFC)
    machine.nmi()
    machine.reset()
    assert (machine.state.pc, machine.nmi_pending) == (0x1234, False)
    tst27 = Machine(get_frontend("tst27"), io.StringIO())
    tst27.state.pc = 7
    tst27.reset()
    assert tst27.state.pc == 0

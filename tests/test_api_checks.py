"""Every value is checked where it enters the Python API (a clear exception, never a silent cut,
a crash or a run that never ends), and an Emulator is used by one thread at a time: a second
thread gets ``Busy`` while the first runs on, exact (issue: trust and robustness)."""

from __future__ import annotations

import threading

import pytest

import recomp
from recomp.opt import UnknownPass
from recomp.runtime.one_thread import Busy

LOOP = bytes([0xE8, 0x4C, 0x00, 0x02])  # $0200: INX; JMP $0200


def looping(**options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, **options)
    emu.load(LOOP, 0x200)
    emu.state.pc = 0x200
    return emu


@pytest.mark.parametrize("name, value, error", [
    ("a", 0x1FF, ValueError), ("a", -1, ValueError), ("pc", 0x10000, ValueError), ("pc", 0x20000, ValueError),
    ("pc", 0xFFFFFFFF, ValueError), ("p", 0x100, ValueError), ("C", 2, ValueError), ("x", 1.5, TypeError),
    ("s", "1", TypeError), ("helpers", 0, AttributeError), ("trace_ring", 1, AttributeError),
    ("__class__", 1, AttributeError), ("instructions", -5, ValueError),
])
def test_a_state_write_that_does_not_fit_is_refused(name, value, error):
    emu = looping()
    before = repr(emu.state)
    with pytest.raises(error):
        setattr(emu.state, name, value)
    assert repr(emu.state) == before


def test_state_writes_that_fit_land():
    emu = looping()
    emu.state.a, emu.state.pc, emu.state.p, emu.state.C = 0xFF, 0xFFFF, 0xFF, True
    assert (emu.state.a, emu.state.pc, emu.state.N, emu.state.C) == (0xFF, 0xFFFF, 1, 1)
    assert emu.settable == ("pc", "a", "x", "y", "s", "p", "N", "V", "D", "I", "Z", "C", "instructions", "cycles")
    tst27 = recomp.Emulator("tst27")
    tst27.state.r31 = 0xFFFFFFFF
    with pytest.raises(ValueError, match="pc is from 0 to 0xfff"):
        tst27.state.pc = 0x1000


@pytest.mark.parametrize("engine", ["jit", "interp"])
@pytest.mark.parametrize("threshold", [0, None])
def test_a_pc_outside_memory_never_runs(engine, threshold):
    """Set below the API (the ctypes field itself), a pc outside memory is still refused at the
    run, in every engine (it once crashed compiled code, or wrapped, or raised IndexError)."""
    emu = looping(engine=engine, jit_threshold=threshold)
    emu.machine.state.pc = 0x20000
    with pytest.raises(ValueError, match="the pc must be an address in memory"):
        emu.run(max_instructions=10)
    assert emu.instructions == 0


@pytest.mark.parametrize("make, error, says", [
    (lambda: recomp.Emulator("6502", region_instructions=0), ValueError, "region_instructions"),
    (lambda: recomp.Emulator("6502", region_instructions=-1), ValueError, "region_instructions"),
    (lambda: recomp.Emulator("6502", jit_threshold=-1), ValueError, "jit_threshold"),
    (lambda: recomp.Emulator("6502", passes=["nope"]), UnknownPass, "unknown pass 'nope'"),
    (lambda: recomp.Emulator("6502", engine="fast"), ValueError, "unknown engine"),
    (lambda: looping().hook(-1, print), ValueError, "a hook must be an address in memory"),
    (lambda: looping().hook(0x10000, print), ValueError, "a hook must be an address in memory"),
    (lambda: looping().hook(0x300, 5), TypeError, "a hook is a function"),
    (lambda: looping().breakpoints.add(-1), ValueError, "a breakpoint must be an address in memory"),
    (lambda: looping().breakpoints.add("$10000"), ValueError, "a breakpoint must be an address in memory"),
    (lambda: looping().run(until_pc=0x10000), ValueError, "until_pc must be an address in memory"),
    (lambda: looping().watch(0x10, 0x5), ValueError, "the same or a later one"),
    (lambda: looping().watch(0xFFFF, 0x10000), ValueError, "a watchpoint's end must be an address in memory"),
    (lambda: recomp.Emulator("tst27").irq(), ValueError, "the tst27 has no interrupt lines"),
    (lambda: recomp.Emulator("tst27").nmi(), ValueError, "the tst27 has no interrupt lines"),
])
def test_what_the_api_refuses(make, error, says):
    with pytest.raises(error, match=says):
        make()


def test_a_second_thread_gets_busy_and_the_first_runs_on_exactly():
    """Two threads on one Emulator once crashed inside LLVM: now the second is told, at once,
    for a run, a step, a memory write, a breakpoint, a hook, a watchpoint or a trace; it may read,
    and pulse NMI (how a device thread signals); the first run loses no instruction."""
    emu = looping(jit_threshold=0)
    emu.state.I = 1
    emu.memory[0xFFFA:0xFFFC] = bytes([0x00, 0x03])  # NMI -> $0300: RTI
    emu.load(bytes([0x40]), 0x300)
    started, refused = threading.Event(), []

    def second() -> None:
        started.wait()
        for attempt in (lambda: emu.run(max_instructions=5), emu.step, lambda: emu.memory.__setitem__(0x10, 1),
                        lambda: emu.breakpoints.add(0x201), lambda: emu.hook(0x201, print),
                        lambda: emu.watch(0x10), lambda: emu.trace(8), lambda: setattr(emu.state, "a", 1),
                        emu.reset):
            try:
                attempt()
            except Busy as busy:
                refused.append(str(busy))
        assert emu.state.pc in (0x200, 0x201, 0x300)  # reading is fine
        emu.nmi()

    thread = threading.Thread(target=second)
    emu.hook(0x300, lambda e: started.set())  # (the second thread goes once the first is running)
    emu.nmi()
    thread.start()
    result = emu.run(max_instructions=200_000_000)
    thread.join()
    assert len(refused) == 9 and all("running in another thread" in text for text in refused)
    assert (result.exit, result.instructions) == ("max-instructions", 200_000_000)
    assert emu.run(max_instructions=1).instructions == 200_000_001  # free again once it returned


def test_a_hook_may_change_its_machine_but_not_run_it():
    """A hook changes the machine it runs in (ROM routines do); running it from inside the run
    would take over the run's budgets: that is refused, and the run goes on, exact."""
    emu = looping()
    said = []

    def hook(e: recomp.Emulator) -> None:
        e.state.x = 0x40
        e.memory[0x10] = 0x99
        try:
            e.step()
        except Busy as busy:
            said.append(str(busy))

    emu.hook(0x201, hook)
    assert emu.run(max_instructions=5).instructions == 5
    assert said[0] == "cannot run it: it is running (a hook or a device may change the machine, not run it from " \
                      "inside a run)"
    assert emu.memory[0x10] == 0x99 and emu.state.x == 0x41  # (set at each visit, then INX)

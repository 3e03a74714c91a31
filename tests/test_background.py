"""Compiling in the background: hot code is compiled on a thread of its own while the native
interpreter goes on, joins the run when it is ready, and is not used if what it was made from
changed meanwhile (its bytes, a stop inside it); with ``compile_in_background=False`` the run
waits for it instead.  Exactness against py65 is the kernels' and hypothesis tests' business;
here every run is compared with one whose regions were all compiled at once."""

from __future__ import annotations

import io
import threading
from collections import Counter

import pytest

import recomp
from recomp.runtime.background import LATER, Background
from recomp.runtime.interpreters import HOT_INSTRUCTIONS
from recomp.runtime.keys import TranslationKey

# $0200: INX; INY; JMP $0200 (a loop the interpreter finds hot, at $0200, after a million)
LOOP = bytes([0xE8, 0xC8, 0x4C, 0x00, 0x02])
HOT = HOT_INSTRUCTIONS + 3000  # instructions by which the loop is hot and its region submitted


def machine(**options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **options)
    emu.load(LOOP, at=0x0200)
    emu.state.pc = 0x0200
    events: list[str] = []
    emu.stats.log = events.append
    emu.events = events
    return emu


def compiled_at(emu: recomp.Emulator, pc: int) -> bool:
    """Whether a region's compiled code runs at ``pc`` now (the native interpreter covers no bytes)."""
    return any(key.pc == pc and isinstance(key, TranslationKey) and not key.single and t.address is not None
               and t.covers for key, t in emu.translations)


def registers(emu: recomp.Emulator) -> tuple:
    st = emu.state
    return st.pc, st.a, st.x, st.y, st.s, st.p, emu.instructions, emu.cycles


def test_code_compiled_meanwhile_joins_the_run():
    emu = machine()
    emu.run(max_instructions=HOT)
    emu.finish_compiling()
    assert compiled_at(emu, 0x0200) and emu.stats.compiled == 1
    chained = emu.stats.chain_hits
    emu.run(max_instructions=1_000_000)
    assert emu.stats.chain_hits > chained or emu.entry_table.entered[0x0200] > 0  # it ran compiled
    at_once = machine(jit_threshold=0)
    at_once.run(max_instructions=HOT + 1_000_000)
    assert registers(emu) == registers(at_once)


def test_code_whose_bytes_changed_while_it_compiled_is_not_used():
    emu = machine()
    emu.run(max_instructions=HOT)
    emu.tiers.background.wait()  # done, not yet taken by the run loop
    emu.memory[0x0201] = 0x88  # INY becomes DEY
    x, y = emu.state.x, emu.state.y
    emu.run(max_instructions=30)
    assert any(event.startswith("stale") for event in emu.events)
    assert not compiled_at(emu, 0x0200)
    assert (emu.state.x - x) & 0xFF == 10 and (y - emu.state.y) & 0xFF == 10  # DEY ran, not the old INY


def test_a_stop_set_while_it_compiled_keeps_it_out():
    emu = machine()
    emu.run(max_instructions=HOT)
    emu.tiers.background.wait()
    emu.breakpoints.add(0x0201)  # inside the region being compiled: it would run through
    result = emu.run(max_instructions=100)
    assert (result.exit, result.pc) == ("breakpoint", 0x0201)
    assert any(event.startswith("stale") for event in emu.events)


def test_code_of_a_loop_compiling_is_not_compiled_again_from_another_address():
    # $0200: INX; JMP $0204 / $0204: INY; JMP $0200: the interpreter finds both targets hot
    # within a few instructions, while the region at the first (holding both) compiles
    two_targets = bytes([0xE8, 0x4C, 0x04, 0x02, 0xC8, 0x4C, 0x00, 0x02])
    emu = machine()
    emu.load(two_targets, at=0x0200)
    emu.run(max_instructions=2 * HOT)
    emu.finish_compiling()
    assert emu.stats.compiled == 1
    assert compiled_at(emu, 0x0200) != compiled_at(emu, 0x0204)
    at_once = machine(jit_threshold=0)
    at_once.load(two_targets, at=0x0200)
    emu.run(max_instructions=1_000_000)
    at_once.run(max_instructions=2 * HOT + 1_000_000)
    assert registers(emu) == registers(at_once)


def test_without_the_background_the_run_waits_for_the_compile():
    emu = machine(compile_in_background=False)
    emu.run(max_instructions=HOT)
    assert compiled_at(emu, 0x0200) and emu.stats.compiled == 1
    assert emu.tiers.background is None


def test_code_compiled_meanwhile_is_filed_in_the_code_cache(tmp_path):
    from recomp.runtime.code_cache import CodeCache

    cache = CodeCache(tmp_path)
    emu = machine(code_cache=cache)
    emu.run(max_instructions=HOT)
    emu.finish_compiling()
    assert emu.stats.cache_stores == 1
    warm = machine(code_cache=cache)
    warm.run(max_instructions=10)
    assert warm.stats.cache_hits == 1 and compiled_at(warm, 0x0200)


def test_a_process_that_ends_while_code_compiles_files_it(tmp_path):
    """bcd ends on the native interpreter about when its hot loop is handed to the compile
    thread: at exit the region in hand is finished and filed (the process ends cleanly), so the
    next run finds it."""
    import subprocess
    import sys

    from recomp.data import data_path

    run = [sys.executable, "-m", "recomp.cli", "run", str(data_path("benchmarks", "6502", "bcd.bin")), "--load", "$200",
           "--entry", "$200", "--stop-on-trap"]
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stderr) == (0, "recomp: trap at $0237 after 14692410 instructions\n")
    regions = [record for record in tmp_path.rglob("*.o") if not record.parent.name.startswith("interpreter")]
    assert regions


def test_a_job_may_go_to_the_back_of_the_queue_once():
    """(A region that holds no loop waits behind the others once, as the compile thread sees it.)"""
    gate, ran, calls = threading.Event(), [], Counter()

    def job(name: str, later: bool = False):
        def work():
            calls[name] += 1
            if later and calls[name] == 1:
                return LATER
            gate.wait(5)
            ran.append(name)
            return name
        return work

    background = Background(lambda: None)
    for name, later in (("first", False), ("helper", True), ("loop", False)):
        assert background.submit(name, job(name, later))
    gate.set()
    background.wait()
    assert ran == ["first", "loop", "helper"] and calls["helper"] == 2
    assert sorted(done.result for done in background.take()) == ["first", "helper", "loop"]


def test_at_exit_the_job_in_hand_is_finished_and_the_rest_dropped_unless_all_are_asked_for(tmp_path):
    """(A run that found its program's code in the cache asks for all: the next run has it all.)"""
    import subprocess
    import sys

    script = f"""
import threading, time
from pathlib import Path
from recomp.runtime.background import Background
folder = Path({str(tmp_path)!r})
started = threading.Event()
def job(name):
    def work():
        started.set()
        time.sleep(0.05)
        (folder / name).touch()
        return name
    return work
for kind, every in (("some", False), ("all", True)):
    background = Background(lambda: None)
    background.at_exit = "all" if every else "in hand"
    for n in range(3):
        background.submit(f"{{kind}}{{n}}", job(f"{{kind}}{{n}}"))
    started.wait(5)
    started.clear()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    finished = sorted(path.name for path in tmp_path.iterdir())
    assert finished[:3] == ["all0", "all1", "all2"] and finished[3:4] == ["some0"]
    assert "some2" not in finished


def test_a_first_run_ends_without_waiting_and_the_third_finds_all_its_code(tmp_path):
    """A first run that has filed code leaves what still compiles to later runs (the process
    ends at once, cleanly, with the program's own status and output); the second, finding
    code in the cache, finishes all it found hot at its exit; the third compiles nothing."""
    import json
    import subprocess
    import sys

    from conftest import ROOT

    program = ROOT / "benchmarks" / "cc65" / "crc32.sim"
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    expected = json.loads((ROOT / "benchmarks" / "cc65" / "expected.json").read_text())["crc32"]
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(program)], capture_output=True,
                              text=True, env=env, timeout=120)
        assert (done.returncode, done.stderr, done.stdout) == (0, "", expected["stdout"]["default"])
    stats = tmp_path / "stats.json"
    subprocess.run([sys.executable, "-m", "recomp.cli", "run", "--stats-json", str(stats), str(program)],
                   capture_output=True, env=env, timeout=120, check=True)
    report = json.loads(stats.read_text())
    assert report["compiled"] == 0 and report["cache_hits"] >= 2


def test_exit_now_ends_the_process_with_its_status_when_only_droppable_work_is_left():
    import subprocess
    import sys
    import time

    script = """
import sys, threading, time
from recomp.runtime.background import NOTHING, Background, exit_now
started = threading.Event()
def work():
    started.set()
    time.sleep(30)
background = Background(lambda: None)
background.at_exit = NOTHING
background.submit("long", work)
started.wait(5)
print("output before the end", end="")
exit_now(3)
print("not reached")
"""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (3, "output before the end")
    assert time.perf_counter() - start < 20


def test_the_gil_changes_hands_sooner_while_a_compile_thread_runs():
    """(The run loop's thread, back from native code, waits less for the compile thread's Python.)"""
    import sys

    from recomp.runtime.background import SWITCH_INTERVAL

    before, seen, gate = sys.getswitchinterval(), [], threading.Event()

    def work():
        seen.append(sys.getswitchinterval())
        gate.wait(5)
        return "done"

    background = Background(lambda: None)
    background.submit("job", work)
    gate.set()
    background.wait()
    assert seen == [pytest.approx(min(before, SWITCH_INTERVAL))] and sys.getswitchinterval() == before  # (in us)

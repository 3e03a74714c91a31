"""Ctrl-C stops a run wherever it is (compiled loops, the native interpreter, the reference
engine, in a notebook kernel), says where, and leaves a machine that can be inspected and run on."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SPIN_6502 = bytes([0x4C, 0x03, 0x02, 0x4C, 0x00, 0x02])  # $0200 JMP $0203; $0203 JMP $0200
SPIN_TST27 = "SET r0, 0\nSET r1, 5\nSET r2, 1\nloop: ADD r2, r1\nJLT r0, r1, loop\nEND\n"  # r0 < r1 forever


def interrupt(command: list[str], after: float = 3.0, typed: str | None = None) -> subprocess.CompletedProcess:
    """Run a command, send it SIGINT once it is under way, and collect what it did; ``typed``:
    its input, a pipe left open after this text (as a terminal nobody types at)."""
    process = subprocess.Popen(command, stdin=None if typed is None else subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    if typed is not None:
        process.stdin.write(typed)
        process.stdin.flush()
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the run did not stop on SIGINT")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize("frontend, options", [
    ("6502", []), ("6502", ["--no-cache", "--no-opt"]), ("6502", ["--engine", "interp"]),
    ("tst27", []), ("tst27", ["--engine", "interp"]),
])
def test_ctrl_c_stops_a_run_from_the_cli_and_says_where(tmp_path, frontend, options):
    if frontend == "6502":
        program = tmp_path / "spin.bin"
        program.write_bytes(SPIN_6502)
        args = [str(program), "--load", "0x200", "--entry", "0x200"]
        where = ("$0200", "$0203")
    else:
        program = tmp_path / "spin.s"
        program.write_text(SPIN_TST27)
        args = [str(program)]
        where = ("0x0012", "0x0015")
    done = interrupt([sys.executable, "-m", "recomp.cli", "run", "-f", frontend, *args, *options])
    assert done.returncode == 130, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("recomp: interrupted at "), done.stderr
    assert lines[0].split()[3] in where and int(lines[0].split()[5]) > 1000


@pytest.mark.parametrize("options", [[], ["--engine", "interp"]])
def test_ctrl_c_stops_a_program_waiting_for_input(options):
    """upcase waits for a line that never comes (the kernel restarts a blocking read after the
    signal, so the console waits in slices): what was typed is out, and the run says where."""
    upcase = Path(__file__).parent.parent / "examples" / "6502" / "upcase.bin"
    done = interrupt([sys.executable, "-m", "recomp.cli", "run", "-f", "6502", str(upcase), "--load", "0x200",
                      "--entry", "0x200", "--stop-on-trap", *options], typed="abc\n")
    assert done.returncode == 130, done.stderr
    assert done.stdout == "ABC\n"
    assert done.stderr.startswith("recomp: interrupted at $02") and done.stderr.count("\n") == 1, done.stderr


API_SCRIPT = """
import os, signal, threading, time
import recomp

emu = recomp.Emulator("6502", console=None, {options})
emu.load(bytes({code}), at=0x0200)
emu.state.pc = 0x0200
threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    emu.run()
    raise SystemExit("not interrupted")
except KeyboardInterrupt as stop:
    print("stopped:", stop)
state = (emu.state.pc, emu.instructions, emu.cycles)
assert state[0] in (0x0200, 0x0203) and state[1] > 0 and state[2] == 3 * state[1], state
result = emu.run(max_instructions=10)  # and it runs on, from where it was
assert (result.exit, emu.instructions) == ("max-instructions", state[1] + 10), (result, emu.instructions)
threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
try:  # between runs, Ctrl-C is Python's again
    time.sleep(5)
    raise SystemExit("no KeyboardInterrupt outside a run")
except KeyboardInterrupt:
    print("python's own")
"""


# $0200 CLC; LDA $10; ADC #3; STA $10; LDA $11; ADC #0; STA $11; LDX $10; DEY; JMP $0200:
# flags written again and again, most of them dead (the optimizer defers or deletes them)
FLAGS_LOOP = bytes([0x18, 0xA5, 0x10, 0x69, 0x03, 0x85, 0x10, 0xA5, 0x11, 0x69, 0x00, 0x85, 0x11, 0xA6, 0x10,
                    0x88, 0x4C, 0x00, 0x02])

EXACT_SCRIPT = """
import os, signal, threading
import recomp

def machine(**options):
    emu = recomp.Emulator("6502", console=None, **options)
    emu.load(bytes({code}), at=0x0200)
    emu.state.pc = 0x0200
    return emu

emu = machine({options})
{prepare}
threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    emu.run()
    raise SystemExit("not interrupted")
except KeyboardInterrupt:
    pass
reference = machine(optimize=False, jit_threshold=0)  # nothing deferred: exact at every exit
reference.run(max_instructions=emu.instructions)
look = lambda e: (e.state.pc, e.state.a, e.state.x, e.state.y, e.state.s, e.state.p, e.instructions, e.cycles,
                  e.memory[0:0x10000])
assert look(emu) == look(reference), (look(emu)[:8], look(reference)[:8])
print("exact after", emu.instructions)
"""


# the loop stitched from stencils at once (``recomp.runtime.baseline``), and run only so: nothing
# makes it hot again; Ctrl-C cuts the budget, and the next block's guard sees it
STITCHED = """for guards in (False, True):
    assert emu.tiers.stitch(emu.translations.key(0x0200, False, guards))"""


@pytest.mark.parametrize(("options", "prepare"), [("", ""), ("jit_threshold=0", ""), ("native_interpreter=False", ""),
                                                  ("code_cache=None", STITCHED)],
                         ids=["tiered", "compiled", "python-tier", "stitched"])
def test_an_interrupted_machine_is_exact(options, prepare):
    """Every register and flag as after the last complete instruction, as a run without the
    optimizer (which defers nothing) has them after as many instructions."""
    script = EXACT_SCRIPT.format(options=options, prepare=prepare, code=list(FLAGS_LOOP))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "exact after" in done.stdout


@pytest.mark.parametrize("options", ["", "jit_threshold=0", "engine='interp'", "native_interpreter=False"])
def test_the_api_raises_keyboard_interrupt_with_the_machine_consistent(options):
    script = API_SCRIPT.format(options=options, code=list(SPIN_6502))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "stopped: interrupted at $02" in done.stdout and "python's own" in done.stdout


def test_interrupting_a_notebook_kernel_stops_the_run():
    """A notebook's "interrupt kernel" sends the kernel SIGINT while a cell runs the machine."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(Path(__file__).parent))
    try:
        code = ("import recomp\nemu = recomp.Emulator('6502', console=None)\n"
                f"emu.load(bytes({list(SPIN_6502)}), at=0x200)\nemu.state.pc = 0x200\nemu.run()")
        message = client.execute(code)
        time.sleep(3)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)
        while reply["parent_header"].get("msg_id") != message:
            reply = client.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        check = client.execute("print(emu.state.pc in (0x200, 0x203), emu.instructions > 0)")
        output = ""
        while True:
            msg = client.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == check and msg["msg_type"] == "stream":
                output += msg["content"]["text"]
            if msg["parent_header"].get("msg_id") == check and msg["msg_type"] == "status" \
                    and msg["content"]["execution_state"] == "idle":
                break
        assert output.strip() == "True True"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

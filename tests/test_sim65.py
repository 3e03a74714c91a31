"""The sim65 machine against the real sim65: cc65 C programs of our own (examples/cc65, built
with Debian's cc65 2.19), each run as ``sim65 -c`` ran it (expected.json, made by
examples/cc65/reference.py): the same stdout, stderr, exit status, files written and cycles.

Cycles: sim65 2.19 charges a taken branch's page-crossing cycle by the page of the branch's
own opcode, where the 6502 uses the page of the next instruction (recomp agrees with the chip
and with SingleStepTests).  The test counts, with hooks on the branches that straddle a page
boundary, how many cycles that moves, and then the counts agree exactly."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLES, recomp_in_process
from recomp.frontends import get_frontend
from recomp.machines import get_machine
from recomp.machines.base import Settings
from recomp.machines.boot import Boot, boot, image_cpu, program_image

CC65 = EXAMPLES / "cc65"
EXPECTED = json.loads((CC65 / "expected.json").read_text())


def run_sim65(tmp_path, program: str, args: list[str], stdin: str = "", *options: str) -> subprocess.CompletedProcess:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    shutil.copy(CC65 / f"{program}.sim", work)
    return subprocess.run([sys.executable, "-m", "recomp.cli", "run", "--cycles", *options, f"{program}.sim", *args],
                          input=stdin.encode(), capture_output=True, cwd=work, timeout=300)


def files_after(tmp_path, program: str) -> dict[str, str]:
    work = tmp_path / "work"
    return {p.name: p.read_text() for p in work.iterdir() if p.name != f"{program}.sim"}


@pytest.mark.parametrize("program", sorted(EXPECTED))
@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_cc65_programs_run_as_on_sim65(tmp_path, program, engine):
    expected = EXPECTED[program]
    if engine == "interp" and expected["cycles"] > 1_000_000:
        pytest.skip("long for the reference engine; the jit run covers it")
    done = run_sim65(tmp_path, program, expected["args"], expected["stdin"], "--engine", engine)
    stdout = expected.get("recomp_stdout", expected["stdout"])
    assert done.stdout.decode() == stdout
    *program_errors, cycles_line = done.stderr.decode().splitlines(keepends=True)
    assert "".join(program_errors) == expected["stderr"]
    assert done.returncode == expected["exit"]
    assert files_after(tmp_path, program) == expected.get("recomp_files_after", expected["files_after"])
    assert cycles_line.endswith(" cycles\n")


BRANCHES = {0x10: ("N", 0), 0x30: ("N", 1), 0x50: ("V", 0), 0x70: ("V", 1), 0x90: ("C", 0), 0xB0: ("C", 1),
            0xD0: ("Z", 0), 0xF0: ("Z", 1)}  # opcode: the flag and value that make it taken


def sim65_branch_quirk(emulator) -> list[int]:
    """Hooks on every branch whose opcode and next instruction lie in different pages, adding up
    (in the list returned) the cycles sim65 2.19 charges differently for them."""
    moved = [0]

    def branch(em) -> None:
        addr = em.state.pc
        flag, value = BRANCHES[em.memory[addr]]
        if getattr(em.state, flag) == value:
            offset = em.memory[addr + 1] - (256 if em.memory[addr + 1] & 0x80 else 0)
            target = (addr + 2 + offset) & 0xFFFF
            moved[0] += (target >> 8 != addr >> 8) - (target >> 8 != (addr + 2) >> 8)

    for addr in [page << 8 | low for page in range(256) for low in (0xFE, 0xFF)]:
        if emulator.memory[addr] in BRANCHES and addr not in emulator.hooks:
            emulator.hook(addr, branch)
    return moved


@pytest.mark.parametrize("program", sorted(p for p in EXPECTED if not EXPECTED[p].get("sim65_differs")))
@pytest.mark.parametrize("engine", ["jit", "interp"])
def test_cycle_counts_equal_sim65s(tmp_path, program, engine):
    expected = EXPECTED[program]
    if engine == "interp" and expected["cycles"] > 1_000_000:
        pytest.skip("long for the reference engine; the jit run covers it")
    path = CC65 / f"{program}.sim"
    machine = get_machine("sim65")
    settings = Settings(output=io.StringIO(), errors=io.StringIO(), input=io.BytesIO(expected["stdin"].encode()),
                        args=[path.name, *expected["args"]], sandbox=tmp_path)
    image = program_image(path, None, get_frontend("6502"), 0x10000, 0)
    emulator = machine.emulator(image_cpu(image, get_frontend("6502")), settings, engine=engine)  # (its header's)
    boot(machine, emulator, image, Boot(path))
    moved = sim65_branch_quirk(emulator)
    result = emulator.run()
    assert (result.exit, result.status) == ("exit", expected["exit"])
    assert settings.output.getvalue() == expected["stdout"]
    assert machine.reported_cycles(emulator) + moved[0] == expected["cycles"]


def test_sim65_images_are_recognised_and_65c02_ones_run_on_the_65c02(tmp_path):
    """The header's CPU byte chooses the CPU: a 65C02 image runs on the 65C02 (c02sort runs as
    sim65 ran it), and is refused under --cpu 6502."""
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", str(CC65 / "c02sort.sim")],
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, EXPECTED["c02sort"]["stdout"])
    image = (CC65 / "hello.sim").read_bytes()
    c02 = tmp_path / "c02.sim"
    c02.write_bytes(image[:6] + b"\x01" + image[7:])
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", "--cpu", "6502", str(c02)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == (f"recomp: error: {c02}: this program is built for the 65C02 (cl65 -t sim65c02), not the "
                           f"6502: run it with --cpu 65c02 (its default)\n")
    bare = subprocess.run([sys.executable, "-m", "recomp.cli", "run", "--machine", "bare", str(CC65 / "hello.sim"),
                           "--max-instructions", "100000"], capture_output=True, text=True)
    assert bare.stdout == ""  # the bare machine has no sim65 calls: the library's writes go nowhere


def test_guest_files_stay_in_the_sandbox(tmp_path):
    outside = tmp_path / "recomp-escape.txt"
    sandbox = tmp_path / "box"
    sandbox.mkdir()
    (tmp_path / "secret").write_text("not for the guest")
    (sandbox / "link").symlink_to(tmp_path / "secret")
    done = run_sim65(tmp_path, "sandbox", [], "", "--sandbox", str(sandbox))
    assert done.returncode == 0
    assert done.stdout.decode() == EXPECTED["sandbox"]["recomp_stdout"]
    assert not outside.exists()
    assert sorted(p.name for p in sandbox.iterdir()) == ["link"]


@pytest.mark.skipif(shutil.which("cl65") is None, reason="cl65 (cc65) is not installed")
@pytest.mark.parametrize("program", sorted(EXPECTED))
def test_images_match_sources(tmp_path, program):
    """The committed image is what the Makefile's cl65 command makes of the C source."""
    makefile = (CC65 / "Makefile").read_text()
    assert "-t sim6502" in makefile
    shutil.copy(CC65 / f"{program}.c", tmp_path)
    subprocess.run(["make", "-s", "-C", str(tmp_path), "-f", str(CC65 / "Makefile"), f"{program}.sim"],
                   check=True, capture_output=True)
    assert (tmp_path / f"{program}.sim").read_bytes() == (CC65 / f"{program}.sim").read_bytes()


# --- sim65's command line ----------------------------------------------------------------------
ARGS = str(CC65 / "args.sim")


def argv(output: str) -> list[str]:
    """The arguments args.sim printed."""
    return re.findall(r'^argv\[\d+\]="(.*)" \(length \d+\)$', output, re.MULTILINE)


@pytest.mark.parametrize("words, given", [
    (["run", ARGS, "-x", "last"], ["-x", "last"]),  # recomp's -x, after the program: the program's
    (["run", ARGS, "--", "-x"], ["-x"]),  # a -- right after the program is dropped, as before
    (["run", "--", ARGS, "--cycles"], ["--cycles"]),
    (["run", "-m", "sim65", ARGS, "-h", "--stats"], ["-h", "--stats"]),
    (["mon", "-x", "{script}", ARGS, "one", "-x"], ["one", "-x"]),  # the monitor's -x is --script
])
def test_every_word_after_a_sim65_program_is_its_own(tmp_path, words, given):
    """As sim65 and python read their command lines: the words after PROGRAM go to the program,
    options included (recomp's go before it)."""
    script = tmp_path / "script"
    script.write_text("continue\nquit\n")
    status, out, errors = recomp_in_process(*(word.format(script=script) for word in words))
    assert argv(out) == [ARGS, *given], errors
    assert status == (0 if words[0] == "mon" else 1 + len(given))  # (args.sim exits with argc)


def test_sim65s_own_options_c_v_x():
    """-c prints the cycle count (--cycles), -v what was loaded where (sim65 -v's "Loaded"), -x
    stops after so many cycles (--max-cycles): at the first instruction boundary at or past
    them, exit status 3 (sim65's is 126), one line."""
    status, out, errors = recomp_in_process("run", "-c", "-v", ARGS, "one")
    assert (status, argv(out)) == (2, [ARGS, "one"])
    loaded, cycles = errors.splitlines()
    assert loaded == f"recomp: {ARGS} at $0200-$0C1A (2,587 bytes); sim65 machine, 6502 CPU; starts at $0200"
    assert cycles == recomp_in_process("run", "--cycles", ARGS, "one")[2].strip() and cycles.endswith(" cycles")
    for option in ("-x", "--max-cycles"):
        status, out, errors = recomp_in_process("run", option, "1000", ARGS)
        found = re.fullmatch(rf"recomp: error: {re.escape(ARGS)}: stopped at \$[0-9A-F]{{4}} after (\d+) cycles "
                             rf"\(--max-cycles 1000 reached\)\n", errors)
        assert status == 3 and found and 1000 <= int(found[1]) < 1007, errors
    assert recomp_in_process("run", "-x", "10", "-f", "tst27", str(EXAMPLES / "tst27" / "test1.s")) == (
        2, "", "recomp: error: --max-cycles: the tst27 counts no cycles\n")

"""The recomp command: output, stats, inspection, and every error path as one clean line."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT, recomp_in_process
from recomp.frontends import get_frontend
from recomp.frontends.tst27 import GUEST, assemble
from recomp.icode_files import read_icode
from recomp.ir import parse, verify

TEST1 = EXAMPLES / "tst27" / "test1.bin"
TEST1_OUTPUT = (" r00 = 00000000\n r01 = 01FFFFFF\n r02 = 00000001\n \n"
                " r00 = 01FFFFFF\n r01 = 01FFFFFF\n r02 = 00000001\n")


def recomp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recomp.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_run_prints_only_program_output_and_writes_stats(tmp_path):
    stats = tmp_path / "stats.json"
    done = recomp("run", "--frontend", "tst27", TEST1, "--stats", "--stats-json", stats, "--no-cache")  # compiles
    assert done.returncode == 0, done.stderr
    assert done.stdout == TEST1_OUTPUT
    report = json.loads(stats.read_text())
    assert report["instructions"] == 67108873
    assert report["cycles"] is None
    assert report["exit"] == "halt" and report["pc"] == 0x2A
    assert report["blocks"] >= 1
    assert report["run_seconds"] >= 0 and report["compile_seconds"] > 0
    assert "instructions" in done.stderr  # the rich table


def test_run_assembles_source_files_and_both_engines_agree(tmp_path):
    source = tmp_path / "count.s"
    source.write_text("SET r1, 100\nSET r2, 1\nloop: ADD r0, r2\nJLT r0, r1, loop\nPRINT r0\nEND\n")
    outputs = {recomp("run", source, "--engine", e).stdout for e in ("jit", "interp")}
    assert outputs == {" r00 = 00000064\n"}


def test_no_opt_and_passes_options(tmp_path):
    for extra in (["--no-opt"], ["--passes", "fold,dce"], ["--passes", ""]):
        done = recomp("run", "-f", "tst27", TEST1, *extra)
        assert done.returncode == 0 and done.stdout == TEST1_OUTPUT, done.stderr


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


ERRORS = [
    # (file contents or None for a missing file, extra args, exit status, message)
    (None, [], 1, "cannot read: No such file or directory"),
    (b"", [], 1, "the program is empty"),
    (bytes(5000), [], 1, "the program is 5000 bytes; only 4096 fit"),
    (b"\x00\x01\x02", [], 4, "0x0000: truncated SET: needs 6 bytes, the program has 3"),
    (b"\x03\x00\x07", [], 4, "0x0002: unknown opcode 0x07"),
    (b"\x03\x28", [], 4, "0x0000: register r40 does not exist"),
    (assemble("JLT r0, r1, 0") [:3] + (0x2000).to_bytes(4, "little"), ["--engine", "interp"], 4,
     "0x0000: jump target 0x00002000 is outside memory"),
    (b"\x01\x00\x00", [], 4, "0x0fff: SET needs 6 bytes and runs off the end of memory"),
    (bytes(4092) + b"\x03\x00\x03\x01", [], 4, "0x1000: execution ran off the end of memory"),
    (assemble("SET r1, 1\nloop: JLT r0, r1, loop\nEND"),
     ["--max-instructions", "50"], 3, "after 50 instructions (--max-instructions 50 reached)"),
]


@pytest.mark.parametrize("engine", ["jit", "interp"])
@pytest.mark.parametrize("data, extra, status, message", ERRORS, ids=[e[3][:30] for e in ERRORS])
def test_bad_input_gives_one_line_and_status(tmp_path, engine, data, extra, status, message):
    path = tmp_path / "missing.bin" if data is None else write(tmp_path, "prog.bin", data)
    extra = [a for a in extra if a not in ("--engine", "interp")]
    done = recomp("run", "--frontend", "tst27", path, "--engine", engine, *extra)
    assert done.returncode == status
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"recomp: error: {path}: ")
    assert message in lines[0]
    assert "Traceback" not in done.stderr


def test_unknown_frontend_and_pass(tmp_path):
    for option in ("--cpu", "--frontend", "-f"):
        done = recomp("run", option, "z80", TEST1)
        assert done.returncode == 2 and done.stderr.strip() == (
            "recomp: error: unknown CPU 'z80' (choose from 6502, 6502-documented, 65c02, tst27)")
    done = recomp("run", "-f", "tst27", TEST1, "--passes", "fold,nope")
    assert done.returncode == 2 and "unknown pass 'nope'" in done.stderr


def test_max_instructions_writes_stats(tmp_path):
    stats = tmp_path / "s.json"
    done = recomp("run", "-f", "tst27", TEST1, "--max-instructions", "1000", "--stats-json", stats)
    assert done.returncode == 3
    report = json.loads(stats.read_text())
    assert report["exit"] == "max-instructions" and report["instructions"] == 1000


@pytest.mark.parametrize("stage", ["guest", "icode", "opt", "llvm-raw", "llvm", "host"])
def test_inspect_each_stage_plain(stage):
    done = recomp("inspect", "--frontend", "tst27", TEST1, "--stage", stage, "--at", "0x1a")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    if stage == "guest":
        assert "001a:  01 00 02" in text and "ADD r0, r2" in text
    elif stage in ("icode", "opt"):  # plain icode output is valid icode (the icode stage's, an icode file)
        region = read_icode(text).region
        verify(region, GUEST)
        assert (region.guest, region.entry) == ("tst27", 0x1A)
    elif stage == "llvm-raw":  # before LLVM's passes: one alloca per state field used, all valid IR
        import llvmlite.binding as llvm

        llvm.parse_assembly(text).verify()
        assert "alloca" in text and "tst27_001a" in text
    elif stage == "llvm":
        assert "define" in text and "tst27_001a" in text
    else:
        assert "ret" in text.split()


def test_inspect_all_and_errors():
    done = recomp("inspect", "-f", "tst27", TEST1)
    assert done.returncode == 0
    for stage in ("guest", "icode", "opt", "llvm-raw", "llvm", "host"):
        assert f";; ---- {stage} ----" in done.stdout
    done = recomp("inspect", "-f", "tst27", TEST1, "--at", "0x5000")
    assert done.returncode == 2 and "--at 0x5000 is outside memory" in done.stderr
    done = recomp("inspect", "-f", "tst27", TEST1, "--at", "zz")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_demo_runs_both_engines():
    done = recomp("demo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("on jit:") == 2 and done.stdout.count("on interp:") == 2
    assert "faster than the reference engine" in done.stderr.replace("\n", " ")


SIX502 = EXAMPLES / "6502"


@pytest.mark.parametrize("args, status, message", [
    (["--load", "0x10000"], 2, "--load 0x10000 is outside memory"),
    (["--load", "0xFFF0"], 1, "the program is 34 bytes; only 16 fit in memory from 0xfff0"),
    (["--entry", "70000"], 2, "--entry 70000 is outside memory"),
    (["--entry", "0x200", "--max-instructions", "10"], 3, "after 10 instructions"),
])
def test_6502_bad_input(args, status, message):
    program_args = [] if "--load" in args else ["--load", "0x200"]
    done = recomp("run", "-f", "6502", SIX502 / "hello.bin", *program_args, *args)
    assert done.returncode == status, done.stderr
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_6502_illegal_opcode_exit_status(tmp_path):
    path = write(tmp_path, "ill.bin", bytes([0xEA, 0x02]))
    for engine in ("jit", "interp"):
        for cpu, message in (("6502", "CPU jammed by"), ("6502-documented", "illegal opcode")):
            done = recomp("run", "--cpu", cpu, path, "--load", "0x200", "--entry", "0x200", "--engine", engine)
            assert done.returncode == 4
            assert done.stderr.strip() == f"recomp: error: {path}: {message} $02 at $0201"


def test_6502_examples_from_the_cli():
    done = recomp("run", "-f", "6502", SIX502 / "hello.bin", "--load", "0x200", "--entry", "0x200",
                  "--stop-on-trap", "--expect-pc", "0x211")
    assert (done.returncode, done.stdout) == (0, "Hello, 6502!\n")
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", "-f", "6502", str(SIX502 / "upcase.bin"),
                           "--load", "0x200", "--entry", "0x200", "--stop-on-trap", "--getc", "0xF004"],
                          input="hello\nworld\n", capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout) == (0, "HELLO\nWORLD\n")


def test_6502_putc_moves_the_console(tmp_path):
    # LDA #'A'; STA $E000; JMP *
    path = write(tmp_path, "p.bin", bytes([0xA9, 0x41, 0x8D, 0x00, 0xE0, 0x4C, 0x05, 0x02]))
    done = recomp("run", "-f", "6502", path, "--load", "0x200", "--entry", "0x200", "--stop-on-trap",
                  "--putc", "0xE000")
    assert (done.returncode, done.stdout) == (0, "A")


def test_6502_inspect_shows_disassembly_in_icode():
    done = recomp("inspect", "-f", "6502", SIX502 / "hello.bin", "--load", "0x200", "--at", "0x200",
                  "--stage", "icode")
    assert done.returncode == 0, done.stderr
    assert "; LDX #$ff" in done.stdout and "; STA $f001" in done.stdout
    read_icode(done.stdout)


def test_inspect_and_opt_follow_the_cpu(tmp_path):
    """65C02 code: ``inspect --cpu 65c02`` disassembles BRA and STZ and names the variant in the
    region header; ``recomp opt`` reads that header back and checks the region against it."""
    program = write(tmp_path, "c02.bin", bytes([0x9C, 0x00, 0x30, 0x1A, 0x80, 0xFA]))  # STZ $3000; INC A; BRA
    done = recomp("inspect", "--cpu", "65c02", program, "--load", "0x200", "--at", "0x200", "--stage", "icode",
                  "--plain")
    assert done.returncode == 0, done.stderr
    assert "region wdc65c02 @0x0200" in done.stdout
    assert "; STZ $3000" in done.stdout and "; INC a" in done.stdout and "; BRA $0200" in done.stdout
    icode = write(tmp_path, "c02.icode", done.stdout.encode())
    optimized = recomp("opt", icode)
    assert optimized.returncode == 0, optimized.stderr
    verify(parse(optimized.stdout), get_frontend("65c02").guest)
    nmos = recomp("inspect", "--cpu", "6502", program, "--load", "0x200", "--at", "0x200", "--stage", "guest",
                  "--plain")
    assert "SHY $3000, x" in nmos.stdout and "region" not in nmos.stdout  # $9C is SHY abs,X on the NMOS chip


def test_opt_runs_passes_over_an_icode_file_as_the_text_tests_do(tmp_path):
    """``recomp opt`` on every optimizer test file prints exactly the file's expected output."""
    for case in sorted((ROOT / "tests" / "opt").glob("*.icode")):
        done = recomp("opt", case)
        assert done.returncode == 0, done.stderr
        assert done.stdout == case.read_text().split(";; expect\n", 1)[1], case.name
    out = tmp_path / "out.icode"
    done = recomp("opt", ROOT / "tests" / "opt" / "fold.icode", "--passes", "fold,dce", "--stats", "-o", out)
    assert done.returncode == 0 and done.stdout == ""
    assert "pass fold" in done.stderr and "pass dce" in done.stderr
    verify(parse(out.read_text()), get_frontend("6502").guest)
    assert recomp("opt", ROOT / "README.md").stderr == (
        f"recomp: error: {ROOT / 'README.md'}: line 1: expected 'region GUEST @ADDR'\n")
    assert recomp("opt", out, "--passes", "nope").returncode == 2


@pytest.mark.parametrize("content, says", [
    ((EXAMPLES / "6502" / "hello.bin").read_bytes(),
     "not an icode file: it is not UTF-8 text (`recomp inspect PROGRAM --stage icode --plain` writes one)"),
    (b"; code: 0-0x10000\nregion mos6502 @0x0\nL0000 @0x0000:\n  exit 0x0\n", "; code: 0-0x10000 is no span of memory "
     "(0..0xffff)"),
    (b"; entry: D=x\nregion mos6502 @0x0\nL0000 @0x0000:\n  exit 0x0\n", "; entry: 'x' is not a number"),
    (b"region mos6502 @0x0\n", "region has no blocks"),
    (b"region mos6502 @0x0\nL0000 @0x0000:\n  exit 0x0\n;; successor\n", ";; successor: expected ';; successor ADDR'"),
    (b"region mos6502 @0x0\nL0000 @0x0000:\n  exit 0x0\n;; successor 0x0\nregion tst27 @0x0\nL0000 @0x0000:\n"
     b"  exit 0x0\n", ";; successor 0x0000: region is for tst27, not mos6502"),
])
def test_opt_of_what_is_no_icode_file_is_one_line(tmp_path, content, says):
    """A program, text, or an icode file that breaks its own rules: one line, exit status 1."""
    path = write(tmp_path, "input.icode", content)
    assert recomp_in_process("opt", str(path)) == (1, "", f"recomp: error: {path}: {says}\n")


def test_inspect_diff_passes_goes_from_the_lifted_to_the_optimized_region():
    from recomp.inspection import inspect_region, pass_steps
    from recomp.opt import PIPELINE
    from recomp.runtime import Emulator

    emu = Emulator("6502", console=None)
    emu.load((EXAMPLES / "6502" / "hello.bin").read_bytes(), 0x200)
    emu.state.pc = 0x200
    steps = pass_steps(emu, 0x200)
    view = inspect_region(emu, 0x200)
    assert [name for name, *_ in steps] == list(PIPELINE)
    assert steps[0][2] == view.icode() and steps[-1][3] == view.opt()
    assert all(after == following for (*_, after), (_, _, following, _) in itertools.pairwise(steps))
    done = recomp("inspect", EXAMPLES / "6502" / "hello.bin", "--load", "$200", "--entry", "$200", "--diff-passes")
    assert done.returncode == 0
    assert done.stdout.count(";; pass ") == len(PIPELINE) and "+++ after forward" in done.stdout


def test_log_regions_tells_compilations_promotions_and_invalidations():
    done = recomp("run", ROOT / "benchmarks" / "6502" / "sieve.bin", "--load", "$200", "--entry", "$200",
                  "--stop-on-trap", "--log", "regions", "--no-cache")
    assert done.returncode == 0
    events = [line.split("] ", 1)[1] for line in done.stderr.splitlines() if line.startswith("[")]
    assert any(e.startswith("promote   $0252: hot on the native interpreter") for e in events)
    assert any(e.startswith("compile   $0252: ") and " instructions, " in e and e.endswith(" ms") for e in events)
    from recomp.runtime import Emulator

    # a loop that rewrites its own LDA #imm: each new byte drops the region compiled from the old
    emu = Emulator("6502", console=None, jit_threshold=0)
    emu.load(bytes([0xA9, 0x00, 0xEE, 0x01, 0x02, 0xC8, 0xD0, 0xF8, 0x4C, 0x08, 0x02]), 0x200)
    emu.state.pc = 0x200
    seen: list[str] = []
    emu.stats.log = seen.append
    emu.run(stop_on_trap=True)
    assert "invalidate $0200: $0201 was written" in seen
    assert sum(e.startswith("compile   ") for e in seen) == emu.stats.compiled


def test_inspect_side_by_side_pairs_guest_icode_and_host_code():
    from recomp.inspection import inspect_region
    from recomp.runtime import Emulator

    emu = Emulator("6502", console=None)
    emu.load((EXAMPLES / "6502" / "hello.bin").read_bytes(), 0x200)
    view = inspect_region(emu, 0x206)
    rows = view.side_by_side()
    guest = [label.split()[0] for label, _, _ in rows if not label.startswith("(")]
    assert guest == ["0206", "0209", "020b", "020e", "020f", "0211"]  # every instruction, in order
    assert rows[0][0] == "(entry)" and rows[-1][0] == "(leave)"
    by_guest = {label.split()[0]: (icode, host) for label, icode, host in rows}
    assert any("const 0xf001" in line for line in by_guest["020b"][0])  # STA $F001's icode ...
    assert any("0xf001" in line for line in by_guest["020b"][1])  # ... and its host code
    host = [line for _, _, lines in rows for line in lines]
    assert host and not any("0x5a" in line and line.startswith("nop") for line in host)  # markers left out
    done = recomp("inspect", EXAMPLES / "6502" / "hello.bin", "--load", "$200", "--at", "$206", "--side-by-side")
    assert done.returncode == 0 and done.stdout.startswith("guest ") and "LDA $0214, x" in done.stdout


# each command's options as -h shows them: the whole syntax, never a type's name
SYNTAX = {
    ("run",): ["run [OPTIONS] [PROGRAM] [ARGS...]", "--watch ADDR[-ADDR][:r|w|rw][=VALUE]",
               "--hook ADDR=ACTION", "--load ADDR|FILE@ADDR", "--poke ADDR=BYTE[,BYTE...]", "--dump ADDR[:LEN]",
               "--max-instructions N", "-x, --max-cycles N", "-c, --cycles", "-v, --verbose", "--mhz MHZ",
               "--format raw|prg|ihex|sim65", "--engine jit|interp", "--passes PASS[,PASS...]", "--sandbox DIR"],
    ("inspect",): ["--stage guest|icode|opt|llvm-raw|llvm|host|all", "--at ADDR", "--stats-json FILE"],
    ("mon",): ["mon [OPTIONS] [PROGRAM] [ARGS...]", "--hook ADDR=ACTION", "-x, --script FILE"],
    ("opt",): ["--passes PASS[,PASS...]", "-o, --output FILE"],
    ("bench",): ["--json FILE", "--functional-test FILE"],
    ("cache",): ["clear"], ("cache", "clear"): [], ("machines",): [], ("demo",): [], (): ["--version"],
}


@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("command", SYNTAX, ids=lambda words: " ".join(words) or "recomp")
def test_help_shows_each_options_syntax_whole_at_any_width(monkeypatch, command, columns):
    monkeypatch.setenv("COLUMNS", columns)
    status, shown, errors = recomp_in_process(*command, "-h")
    assert (status, errors) == (0, "")
    assert [text for text in SYNTAX[command] if text not in shown] == []
    assert not re.search(r"<[a-z_]+(\[.*?\])?>|9223372036854775807|<=x<=", shown), shown
    if command in ((), ("cache",)):  # no command: the same help, exit status 2
        assert recomp_in_process(*command) == (2, shown, "")


def test_the_machines_whose_programs_take_arguments():
    """The command line gives every word after PROGRAM to the program on the machines that read
    arguments, and only there (recomp's options may follow other programs)."""
    from recomp.cli import ARGUMENT_MACHINES
    from recomp.machines import MACHINES

    assert ARGUMENT_MACHINES == tuple(name for name, kind in MACHINES.items() if "args" in kind.reads)
    status, shown, errors = recomp_in_process("run", "-v", str(EXAMPLES / "6502" / "hello.bin"), "--load", "$200",
                                              "--entry", "$200", "--stop-on-trap", "-c", "-x", "100000")
    assert (status, shown) == (0, "Hello, 6502!\n")
    assert errors.splitlines() == [f"recomp: {EXAMPLES / '6502' / 'hello.bin'} at $0200-$0221 (34 bytes); bare "
                                   f"machine, 6502 CPU; starts at $0200", "recomp: trap at $0211 after 72 instructions",
                                   "213 cycles"]


@pytest.mark.parametrize("options, passes", [(["--no-opt"], "none"), (["--passes", "liveness,dce"], "liveness, dce")])
def test_inspected_icode_names_the_passes_inspect_ran(tmp_path, options, passes):
    """``; passes:`` says what ``--no-opt`` and ``--passes`` made of the pipeline, so that
    ``recomp opt`` of the icode stage still makes the opt stage."""
    program = str(EXAMPLES / "cc65" / "hello.sim")
    icode = recomp_in_process("inspect", *options, program, "--stage", "icode", "--plain")[1]
    assert icode.startswith(f"; passes: {passes}\n")
    path = write(tmp_path, "hello.icode", icode.encode())
    assert recomp_in_process("opt", str(path))[1] == recomp_in_process("inspect", *options, program, "--stage",
                                                                       "opt", "--plain")[1]

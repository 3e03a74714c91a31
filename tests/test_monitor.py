"""``recomp mon``: a scripted session through every command (``-x FILE``, and a pipe), and a
session in a real terminal (tmux): a breakpoint, and Ctrl-C during ``goto`` back to the prompt."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

from conftest import EXAMPLES
from test_machines import Terminal, needs_tmux

HELLO = EXAMPLES / "6502" / "hello.bin"


def monitor(script: str, tmp_path, *args: str) -> list[str]:
    commands = tmp_path / "commands.txt"
    commands.write_text(script)
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "mon", str(HELLO), "--load", "$200", "--entry", "$200",
                           "-x", str(commands), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_every_command(tmp_path):
    out = monitor("""registers
registers a=$42 x=7 c=1
mem $0200:$0207
fill $0300:$0307 $AA $55
m $0300:$0307
d $0200:$0203
ab $020B x=2
sb
c
db 0
sb
aw $0010 w
aw $0011:$0012 rw =$41
sw
dw all
sw
until $0211
cycles
regions
z 2
trace on
z
trace off
inspect $0206 guest
save saved.bin $0200:$0203
load saved.bin $0400
m $0400:$0403
reset
irq
nmi
bogus 1
m zz
d 200:202
radix d
m 512:513
radix
help ab
help
q
""", tmp_path)
    text = "\n".join(out)
    assert out[:4] == ["PC  AC XR YR SP NV-BDIZC", "0200 00 00 00 FD 00100100",
                       "PC  AC XR YR SP NV-BDIZC", "0200 42 07 00 FD 00100101"]
    assert "$0200:  A2 FF 9A D8 A2 00 BD 14" in out
    assert "$0300:  AA 55 AA 55 AA 55 AA 55" in out
    assert out[out.index("$0300:  AA 55 AA 55 AA 55 AA 55") + 1:][:3] == [
        "$0200  A2 FF     LDX #$ff", "$0202  9A        TXS", "$0203  D8        CLD"]
    assert "breakpoint 0 at $020B if x=2" in out and "breakpoint 0: $020B if x=0x2" in out
    assert any(line.endswith("breakpoint at $020B after 16 instructions") for line in out)  # x=0, 1 run through
    assert "020B 6C 02 00 FF 00100101" in out
    assert "watchpoint 0 on $0010:$0010 (w)" in out and "watchpoint 0: $0010:$0010 (w)" in out
    assert "watchpoint 1 on $0011:$0012 (rw) =$41" in out and "watchpoint 1: $0011:$0012 (rw) =$41" in out
    assert "until at $0211 after 71 instructions" in out
    assert "71 instructions, 210 cycles" in out
    assert any(line.split()[:3] == ["73", "216", "0211"] for line in out)  # the traced step
    regions = out.index(next(line for line in out if line.startswith("address")))  # cold code, on the interpreter
    assert out[regions].split() == ["address", "bytes", "tier", "instructions", "entered"]
    assert out[regions + 1].split()[1:] == ["-", "native", "interpreter", "-", "-"]
    assert ";; ---- guest ----" in out and "0206:  bd 14 02             LDA $0214, x" in out
    assert (tmp_path / "saved.bin").read_bytes() == bytes.fromhex("A2FF9AD8")
    assert "wrote 4 bytes at $0400" in out and "$0400:  A2 FF 9A D8" in out
    assert "error: unknown command: bogus (help lists them)" in out
    not_a_number = "error: 'zz' is neither a hexadecimal number ($C000 is hex, +49152 decimal) nor a label or symbol"
    assert out[out.index(not_a_number) + 1:][:5] == [
        "$0200  A2 FF     LDX #$ff", "$0202  9A        TXS",  # bare numbers are hex, as in py65mon
        "bare numbers are decimal", "$0200:  A2 FF", "bare numbers are decimal"]
    assert "add_breakpoint ADDR [REG=VALUE ...]: stop before ADDR (only when the registers hold those values)." in out
    assert any(line.startswith("Short forms: ") and "add_breakpoint ab" in line for line in out)
    for command in ("add_breakpoint", "add_watchpoint", "disassemble", "registers", "step", "goto", "inspect"):
        assert command in text


def test_commands_from_a_pipe():
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "mon", str(HELLO), "--load", "$200", "--entry", "$200"],
                          input="g $200\nr\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stdout.splitlines()[:2] == ["Hello, 6502!", "trap at $0211 after 72 instructions"]


def monitor_terminal(tmp_path, arguments: str, rows: int) -> Terminal:
    """``recomp mon ARGUMENTS`` in a real terminal, at its prompt; ``EXIT=status`` once it ends."""
    terminal = Terminal(f"XDG_STATE_HOME={tmp_path} {sys.executable} -m recomp.cli mon {arguments}; echo EXIT=$?",
                        rows=rows)
    terminal.wait_for("`help` lists the commands")
    return terminal


@needs_tmux
def test_a_session_in_a_real_terminal(tmp_path):
    terminal = monitor_terminal(tmp_path, f"{HELLO} --load '$200' --entry '$200'", rows=30)
    try:
        terminal.keys("ab $20e", "Enter", "g $200", "Enter")
        terminal.wait_for("breakpoint at $020E")
        terminal.keys("regions", "Enter")  # a table, drawn by rich on a terminal
        terminal.wait_for("native interpreter")
        table = terminal.screen()
        terminal.keys("db 0", "Enter", "fill $0300 $E8 $4C $00 $03", "Enter")  # INX; JMP $0300
        terminal.keys("g $300", "Enter")  # ... forever, until Ctrl-C
        time.sleep(0.5)
        terminal.keys("C-c")
        terminal.wait_for("interrupted at $030")
        terminal.keys("C-c")  # at the prompt: the line is dropped, the monitor stays
        terminal.keys("r", "Enter")
        terminal.wait_for("^C")
        terminal.keys("q", "Enter")
        terminal.wait_for("EXIT=")
        shown = terminal.screen()
    finally:
        terminal.close()
    assert "breakpoint at $020E after 7 instructions" in shown
    assert "address   bytes   tier" in table and "────────" in table
    assert "recomp: interrupted at $030" in shown
    assert "EXIT=0" in shown
    history = tmp_path / "recomp" / "mon_history"  # kept for the next session, for its owner only
    assert "ab $20e" in history.read_text() and history.stat().st_mode & 0o077 == 0


def test_the_machine_options_of_run():
    """The monitor builds its machine as ``recomp run`` does: here with ROM-routine hooks."""
    from test_machines import PUTC

    # at $0300: LDA #'A'; JSR PUTC; LDA #7; JSR $1C00 (an exit hook)
    code = f"$A9,$41,$20,${PUTC & 0xFF:02X},${PUTC >> 8:02X},$A9,$07,$20,$00,$1C"
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "mon", str(HELLO), "--load", "$200", "--poke",
                           f"$0300={code}", "--hook", f"${PUTC:X}=putc", "--hook", "$1C00=exit"],
                          input="g $300\nq\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "Aexit at $1C00 after 4 instructions"


def test_regions_count_the_times_compiled_code_was_entered():
    """``regions``: each translation's bytes, tier, size and entries, as the run made them."""
    from recomp.debug.monitor import Monitor
    from recomp.runtime import Emulator
    from test_watchpoints import COUNTING

    for options, tier in ((dict(jit_threshold=0), "compiled"), (dict(engine="interp"), "python tier")):
        emu = Emulator("6502", console=None, **options)
        emu.load(COUNTING, 0x200)
        emu.state.pc = 0x200
        out = io.StringIO()
        Monitor(emu, stdin=io.StringIO("ab $0207\nc\nc\nc\nregions\n"), stdout=out).cmdloop(intro="")
        rows = {line.split()[0]: line.split() for line in out.getvalue().splitlines() if line.startswith("$")}
        # $0200 once; the outer loop from the breakpoint at $0207 (regions end there), each time round but the first
        assert rows["$0200"][1:] == ["$0200-$0206", *tier.split(), "4", "1"]
        assert rows["$0207"][-1] == "2" and rows["$0207"][2:-2] == tier.split()


def test_return_labels_and_numbers():
    """py65mon's ``return`` (run to just before the next RTS or RTI), labels, ``~`` and comments."""
    from recomp.debug.monitor import Monitor
    from recomp.runtime import Emulator

    emu = Emulator("6502", console=None)
    for addr, code in ((0x200, "20 10 02 4C 03 02"),  # JSR outer; JMP *
                       (0x210, "A9 01 20 20 02 60"),  # outer: LDA #1; JSR inner; RTS
                       (0x220, "A2 02 60")):  # inner: LDX #2; RTS
        emu.load(bytes.fromhex(code), addr)
    emu.state.pc = 0x200
    out = io.StringIO()
    script = """al $0210 outer   ; a comment
al $0220 inner
shl
ab outer
g $200
ret
ret
ret
d inner:inner+2
~ inner+2
dl inner
~ inner
"""
    Monitor(emu, stdin=io.StringIO(script), stdout=out).cmdloop(intro="")
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["$0210: outer", "$0220: inner"]
    stops = [line for line in lines if " at $0" in line and "after" in line]
    assert stops == ["breakpoint at $0210 after 1 instructions",  # outer
                     "return at $0222 after 4 instructions",  # the inner RTS, the first to run
                     "return at $0215 after 5 instructions",  # the outer one
                     "trap at $0203 after 7 instructions"]  # back in the caller, no return left
    assert lines[lines.index("inner:") + 1:][:2] == ["$0220  A2 02     LDX #$02", "$0222  60        RTS"]
    assert "+546  $222  0o1042  %1000100010" in lines
    assert lines[-1] == ("error: 'inner' is neither a hexadecimal number ($C000 is hex, +49152 decimal) nor a "
                         "label or symbol")
    assert list(emu.breakpoints) == [0x210]  # return's own breakpoints are gone


def history_session(line: str, **options) -> str:
    """One session's history kept with ``kept_history`` (a line added meanwhile): its warnings."""
    import readline

    from recomp.debug.monitor import kept_history

    readline.clear_history()
    errors = io.StringIO()
    with kept_history(errors=errors, **options):
        readline.add_history(line)
    readline.clear_history()
    return errors.getvalue()


def test_the_history_is_kept_owner_only_and_read_back(tmp_path, monkeypatch):
    import readline

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert history_session("m $0200") == ""
    folder = tmp_path / "state" / "recomp"
    assert folder.stat().st_mode & 0o777 == 0o700 and (folder / "mon_history").stat().st_mode & 0o777 == 0o600
    from recomp.debug.monitor import kept_history

    with kept_history(errors=io.StringIO()):
        assert readline.get_history_item(1) == "m $0200"
    readline.clear_history()


def test_a_history_another_user_could_have_planted_is_not_used(tmp_path, monkeypatch):
    """A link planted at the history's name is never followed (neither read nor written), a
    folder that others may write or that belongs to another user is not used: one warning."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    victim = tmp_path / "victim.txt"
    victim.write_text("the victim's file\n")
    (state / "recomp").mkdir(parents=True, mode=0o700)
    (state / "recomp" / "mon_history").symlink_to(victim)
    warned = history_session("secret command")
    assert warned == (f"recomp: warning: not keeping the monitor's history in {state / 'recomp' / 'mon_history'}: "
                      f"it is a symbolic link\n")
    assert victim.read_text() == "the victim's file\n"
    (state / "recomp" / "mon_history").unlink()
    (state / "recomp").chmod(0o777)
    assert "its folder is writable by group or others (mode 0777)" in history_session("x")
    (state / "recomp").chmod(0o700)
    foreign = history_session("x", owner=os.getuid() + 1)  # as if another user had made the folder
    assert f"its folder is owned by user {os.getuid()}, not by you ({os.getuid() + 1})" in foreign
    assert not (state / "recomp" / "mon_history").exists()


# --- random command lines ---------------------------------------------------------------------------
COMMANDS = ["registers", "r", "mem", "m", "fill", "f", ">", "disassemble", "d", "step", "z", "add_breakpoint", "ab",
            "show_breakpoints", "sb", "delete_breakpoint", "db", "add_watchpoint", "aw", "show_watchpoints", "sw",
            "delete_watchpoint", "dw", "add_label", "al", "show_labels", "shl", "delete_label", "dl", "tilde", "~",
            "load", "l", "save", "s", "reset", "irq", "nmi", "trace", "regions", "inspect", "cycles", "help",
            "bogus", ""]  # (goto, continue, until and return run until the program stops: some never do)


def words(files: list[str]):
    """One word of a command line: numbers, ranges, labels, assignments, file names, garbage."""
    from hypothesis import strategies as st

    number = st.one_of(st.integers(-5, 0x1_0000_0010).map(lambda n: f"${n:X}" if n >= 0 else str(n)),
                       st.integers(0, 300).map(str), st.integers(0, 1 << 70).map(hex),
                       st.sampled_from(["$", "0x", "$G1", "١٢", "\uff11\uff12", "1.5", "$FF_FF", "-1"]))
    label = st.sampled_from(["loop", "loop+3", "loop-1", "start", "x+$FFFF"])
    text = st.text(st.characters(blacklist_characters="/\n\r\x00", blacklist_categories=("Cs",)), max_size=12)
    return st.one_of(number, label, st.tuples(number, number).map(":".join),
                     st.tuples(st.sampled_from(["a", "x", "pc", "p", "c", "sp", "__class__", "helpers", "Z"]),
                               number).map("=".join),
                     st.sampled_from(["r", "w", "rw", "x", "on", "off", "all", "=$41", "=$1FF", "guest", "host",
                                      "opt", "llvm", "nope", "'unclosed", *files]),
                     text)


def test_random_command_lines_get_an_answer_never_a_traceback(tmp_path, monkeypatch):
    """Every line is answered with its output or one error line, whatever it holds (bytes that
    are not UTF-8 included), and the session goes on; no command ends in a bug."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from recomp.debug.monitor import Monitor
    from recomp.runtime import Emulator

    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    files = ["/dev/zero", "/dev/full", "/nonexistent/x", str(tmp_path), "x" * 300, "out.bin", str(HELLO), "fifo"]
    garbage = st.one_of(st.just(b""), st.binary(min_size=1, max_size=3), st.binary(max_size=3).map(b" ".__add__))
    line = st.tuples(st.sampled_from(COMMANDS), st.lists(words(files), max_size=3),
                     garbage).map(lambda t: (" ".join([t[0], *t[1]]).encode() + t[2]))
    step = st.integers(0, 2000).map(lambda n: f"step {n}".encode())

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(line, step), min_size=1, max_size=12))
    def session(lines: list[bytes]) -> None:
        emu = Emulator("6502", console=None)
        emu.load(HELLO.read_bytes(), 0x200)
        emu.state.pc = 0x200
        out = io.StringIO()
        stdin = io.TextIOWrapper(io.BytesIO(b"\n".join(lines) + b"\n"), encoding="utf-8", errors="replace")
        monitor = Monitor(emu, stdin=stdin, stdout=out)
        monitor.onecmd("al $0206 loop")
        for _ in lines:
            start = out.tell()
            text = monitor.stdin.readline()
            if not text:
                break
            monitor.onecmd(monitor.precmd(text.rstrip("\r\n")))
            answer = out.getvalue()[start:].split("\n")[:-1]  # (lines end at newlines only: a command may echo a \v)
            errors = [said for said in answer if said.startswith("error:")]  # (a traced step's lines may come first)
            assert not errors or (len(errors) == 1 and answer[-1] == errors[0]), (text, answer)
            assert not any("a bug in recomp" in said for said in answer), (text, answer)

    session()


def test_what_once_ended_a_session_is_one_error_line(tmp_path):
    script = tmp_path / "commands.txt"
    script.write_bytes(b"\n".join([
        b"load /nonexistent", b"load " + str(tmp_path).encode(), b"load " + b"x" * 300, b"load /dev/zero",
        b"save /dev/full $0200:$0210", b"save /no/such/folder/x $0200:$0201", b"r __class__=1", b"r pc=$FFFFFFFF",
        b"c", b"r pc=$10000", b"r a=$1FF", b"f $0300 $1FF", b"\xff\xfe r", b"m \xd9\xa1\xd9\xa2", b"q"]) + b"\n")
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "mon", str(HELLO), "--load", "$200", "--entry", "$200",
                           "-x", str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[:8] == [
        "error: /nonexistent: cannot read: No such file or directory",
        f"error: {tmp_path}: cannot read: Is a directory",
        f"error: {'x' * 300}: cannot read: File name too long",
        "error: /dev/zero is more than the 65,536 bytes that fit from $0000",
        "error: /dev/full: cannot write: No space left on device",
        "error: /no/such/folder/x: cannot write: No such file or directory",
        "error: __class__=1: expected NAME=VALUE, NAME one of the 6502's pc, a, x, y, s, p, N, V, D, I, Z, C, "
        "instructions, cycles",
        "error: pc is from 0 to 0xffff: 0xffffffff does not fit"]
    assert lines[8] == "Hello, 6502!"  # c: from $0200, the pc left as it was
    assert lines[-5:] == ["error: pc is from 0 to 0xffff: 0x10000 does not fit",
                          "error: a is from 0 to 0xff: 0x1ff does not fit", "error: $1FF is not a byte ($00..$FF)",
                          "error: unknown command: \ufffd\ufffd (help lists them)",
                          "error: '١٢' is neither a hexadecimal number ($C000 is hex, +49152 decimal) nor a label "
                          "or symbol"]


def test_endless_input_and_a_cpu_without_interrupts_end_in_one_line():
    done = subprocess.run(f"{sys.executable} -m recomp.cli mon < /dev/zero", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == ("error: line 1 of the commands is over 4,096 characters, which is no command: the rest "
                           "of the input is skipped\n")
    tst27 = subprocess.run([sys.executable, "-m", "recomp.cli", "mon", "-f", "tst27",
                            str(EXAMPLES / "tst27" / "test1.s")], input="irq\nnmi\n", capture_output=True, text=True,
                           timeout=120)
    assert tst27.stdout.splitlines() == ["error: the tst27 has no interrupt lines"] * 2


def test_mpu_shows_and_changes_the_cpu(tmp_path):
    """py65mon's ``mpu``: the CPU and its family; ``mpu 65c02`` builds the machine again around
    the 65C02, keeping memory, registers, breakpoints and watchpoints ($1A is INC A there, a NOP on
    the NMOS chip); an unknown name or another family is one error line."""
    program = tmp_path / "inc.bin"
    program.write_bytes(bytes([0xA9, 0x05, 0x1A, 0x85, 0x10, 0x4C, 0x05, 0x02]))  # LDA #5; INC A; STA $10; JMP *
    commands = tmp_path / "commands.txt"
    commands.write_text("mpu\nab $0205\naw $10\nmpu 65c02\nmpu\nsb\nsw\nc\nm $10:$10\nmpu 6502\nmpu tst27\n"
                        "mpu z80\n")
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "mon", str(program), "--load", "$200", "--entry",
                           "$200", "-x", str(commands)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[:2] == ["Current MPU is 6502", "Available MPUs: 6502, 6502-documented, 65c02"]
    assert out[4:9] == ["MPU is now 65c02", "Current MPU is 65c02", "Available MPUs: 6502, 6502-documented, 65c02",
                        "breakpoint 0: $0205", "watchpoint 0: $0010:$0010 (w)"]
    assert "$0010:  06" in out  # the watchpoint stopped right after STA $10: 5 + 1
    assert out[-3:] == ["MPU is now 6502", "error: unknown MPU tst27 (choose from 6502, 6502-documented, 65c02)",
                        "error: unknown MPU z80 (choose from 6502, 6502-documented, 65c02)"]


def test_next_on_an_instruction_the_cpu_cannot_run(tmp_path):
    """``next`` where the CPU jams says so in one line, as ``step`` does."""
    program = tmp_path / "jam.bin"
    program.write_bytes(bytes([0x02]))
    script = tmp_path / "commands.txt"
    script.write_text("n\nz\n")
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "mon", str(program), "--load", "$200", "--entry",
                           "$200", "-x", str(script)], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["error: CPU jammed by $02 at $0200"] * 2

"""``recomp mon``: an interactive monitor with py65mon's command vocabulary (``registers``,
``mem``, ``fill``, ``disassemble``, ``step``, ``goto``, ``add_breakpoint``, ``load``, ``save``...),
over a machine that runs at native speed between stops.  Line editing and history come from
readline (``cmd``); commands may come from a file or a pipe, which is how tests drive it.  On a
terminal the output is rich's (colours, tables); from a file or a pipe, plain text.

Addresses are written ``$C000``, ``0xC000``, decimal or as a label (``loop``, ``loop+3``);
ranges ``START:END`` (inclusive).  ``;`` starts a comment."""

from __future__ import annotations

import cmd
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from recomp.debug.symbols import Symbols
from recomp.frontends.base import DecodeError
from recomp.runtime.addresses import AddressError
from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import RecompError
from recomp.runtime.one_thread import Busy
from recomp.runtime.private_files import (
    folder_problem,
    make_folder,
    owner_id,
    read_private,
    state_root,
    unsafe,
    write_private,
)
from recomp.runtime.result import RunResult, Stop
from recomp.runtime.user_files import read_file, write_file

if TYPE_CHECKING:
    from rich.console import Console

    from recomp.frontends import Frontend
    from recomp.runtime.watchpoints import Watch

ALIASES = {"r": "registers", "m": "mem", "f": "fill", ">": "fill", "d": "disassemble", "z": "step", "g": "goto",
           "c": "continue", "u": "until", "ret": "return", "ab": "add_breakpoint", "sb": "show_breakpoints",
           "shb": "show_breakpoints", "db": "delete_breakpoint", "aw": "add_watchpoint", "sw": "show_watchpoints",
           "dw": "delete_watchpoint", "al": "add_label", "shl": "show_labels", "dl": "delete_label", "~": "tilde",
           "l": "load", "s": "save", "q": "quit", "x": "quit", "exit": "quit", "h": "help", "?": "help",
           "n": "next", "o": "next", "over": "next", "finish": "out", "nl": "nextline", "ll": "symbols"}
# a number's prefix -> its base, whatever the radix (as py65mon reads them)
PREFIXES = {"$": 16, "0x": 16, "0X": 16, "+": 10, "%": 2, "@": 8}
RADIXES = {"h": 16, "d": 10, "o": 8, "b": 2}  # ``radix`` letter -> base
RADIX_NAMES = {16: "hexadecimal", 10: "decimal", 8: "octal", 2: "binary"}
STEP_LIMIT = 1_000_000  # instructions ``nextline`` steps through before it gives up


HISTORY_LINES = 1000
HISTORY_BYTES = 1 << 20  # a longer history file is cut to its first MiB (then to its last lines)
HISTORY_FILE = "mon_history"


@contextmanager
def kept_history(owner: int | None = None, errors: TextIO | None = None) -> Iterator[None]:
    """Line editing, and the command history kept between sessions in
    ``$XDG_STATE_HOME/recomp/mon_history`` (default ``~/.local/state``) under the code cache's
    trust rules (``recomp.runtime.private_files``): the folder owner-only, the file 0600, no link
    followed; a folder or file that another user could have planted is not used (one warning
    on ``errors``).  ``owner``: the user they must belong to (tests pass another)."""
    import readline

    uid = owner_id(owner)
    folder = state_root()
    path = folder / HISTORY_FILE
    problem = _history_problem(folder, path, uid)
    if problem is not None:
        print(f"recomp: warning: not keeping the monitor's history in {path}: {problem}",
              file=errors if errors is not None else sys.stderr)
    else:
        kept = read_private(path, HISTORY_BYTES, uid) or b""
        for line in kept.decode("utf-8", "replace").splitlines()[-HISTORY_LINES:]:
            readline.add_history(line)
    readline.set_history_length(HISTORY_LINES)
    try:
        yield
    finally:
        if problem is None and make_folder(folder, uid, parents=True):
            lines = [readline.get_history_item(i) for i in range(1, readline.get_current_history_length() + 1)]
            try:
                write_private(path, "".join(f"{line}\n" for line in lines[-HISTORY_LINES:]).encode())
            except OSError:
                pass  # (a history that cannot be kept is no reason to fail)


def _history_problem(folder: Path, path: Path, owner: int) -> str | None:
    """Why the history's folder or file is not to be used, or None (missing ones are made)."""
    problem = folder_problem(folder, owner)
    if problem is not None:
        return f"its folder {problem}"
    try:
        problem = unsafe(os.lstat(path), False, owner)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"it cannot be read ({error.strerror})"
    return None if problem is None else f"it {problem}"


class MonitorError(Exception):
    """A command that cannot be done as typed: one line for the user."""


MAX_LINE = 4096  # characters in a command line from a file or a pipe


class CommandLines:
    """Commands from a file or a pipe, a line at a time: a line longer than ``MAX_LINE`` is no
    command (``/dev/zero`` is one endless line): it ends the input, with one error line, instead
    of being read whole."""

    def __init__(self, stream: TextIO, report: Callable[[str], None]) -> None:
        self.stream = stream
        self.report = report
        self.number = 0

    def readline(self) -> str:
        line = self.stream.readline(MAX_LINE + 1)
        self.number += 1
        if len(line) > MAX_LINE:
            self.report(f"error: line {self.number} of the commands is over {MAX_LINE:,} characters, which is no "
                        f"command: the rest of the input is skipped")
            return ""
        return line


class Monitor(cmd.Cmd):
    prompt = "."  # as py65mon's

    def __init__(self, emulator: Emulator, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 rebuild: Callable[[Frontend], Emulator] | None = None, symbols: Symbols | None = None) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        self.emu = emulator
        self.symbols = symbols if symbols is not None else Symbols()
        self.radix = 16  # bare numbers are hex, as in py65mon, VICE and MAME (``radix``)
        self.rebuild = rebuild  # the machine again with another CPU (``mpu NAME``), if it can be
        self.use_rawinput = stdin is None or (stdin is sys.stdin and sys.stdin.isatty())
        if not self.use_rawinput:  # commands from a file or a pipe: the output alone
            self.stdin = CommandLines(self.stdin, self.say)
            self.prompt = ""
        self.conditions: dict[int, list[tuple[str, int]]] = {}  # breakpoint -> register=value conditions
        self.tracing = False
        self.labels: dict[str, int] = {}  # name -> address (``add_label``)
        self.console: Console | None = None  # rich, on a terminal
        if self.use_rawinput and self.stdout.isatty():
            from rich.console import Console

            self.console = Console(file=self.stdout, highlight=False)

    # --- plumbing -------------------------------------------------------------------------------
    def cmdloop(self, intro: str | None = None) -> None:
        """Commands until ``quit`` or the end of input; Ctrl-C at the prompt drops the line typed."""
        while True:
            try:
                super().cmdloop(intro)
                return
            except KeyboardInterrupt:
                self.say("^C")
                intro = ""

    def say(self, text: str, style: str = "") -> None:
        """A line of output (``style``: rich's, on a terminal)."""
        if self.console is not None:
            from rich.text import Text

            self.console.print(Text(text, style=style))
        else:
            self.stdout.write(text + "\n")

    def table(self, columns: list[str], rows: list[list[str]]) -> None:
        """Rows under column headings: a rich table on a terminal, aligned text otherwise."""
        if self.console is not None:
            from rich import box
            from rich.table import Table

            table = Table(*columns, box=box.SIMPLE_HEAD, header_style="bold")
            for row in rows:
                table.add_row(*row)
            self.console.print(table)
            return
        widths = [max(len(cell) for cell in column) for column in zip(columns, *rows)]
        for row in [columns, *rows]:
            self.say("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())

    def precmd(self, line: str) -> str:
        words = line.partition(";")[0].strip().split(maxsplit=1)
        if words and words[0] in ALIASES:
            return " ".join([ALIASES[words[0]], *words[1:]])
        return line

    def onecmd(self, line: str) -> bool:
        """One command; whatever goes wrong is one error line, and the session goes on."""
        try:
            return bool(super().onecmd(line))
        except (MonitorError, AddressError, RecompError, ValueError, TypeError, AttributeError, Busy) as error:
            self.say(f"error: {error}", "red")
        except KeyboardInterrupt:
            self.say("interrupted", "yellow")
        except Exception as error:  # (a bug: the session is worth more than the traceback)
            self.say(f"error: {type(error).__name__}: {error} (a bug in recomp: please report it)", "red")
        return False

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        raise MonitorError(f"unknown command: {line.split()[0]} (help lists them)")

    def where(self, addr: int) -> str:
        return self.emu.frontend.format_address(addr)

    def number(self, text: str) -> int:
        """A number or place as typed: a label with an optional ``+N``/``-N``, a symbol (``_main``,
        ``main+3``, ``prog.c:12``), or a ``value``."""
        name, sign, offset = text.partition("+") if "+" in text else text.partition("-")
        if name in self.labels:
            return self.labels[name] + (self.value(offset) if sign == "+" else -self.value(offset) if sign else 0)
        found = self.symbols.find(text) if self.symbols else None
        return found if found is not None else self.value(text)

    def value(self, text: str) -> int:
        """A number: ``$C000`` or ``0xC000`` (hex), ``+49152`` (decimal), ``%1010`` (binary),
        ``@777`` (octal), else in the radix (hex unless ``radix`` says otherwise)."""
        body, base = text.strip(), self.radix
        for prefix, prefix_base in PREFIXES.items():
            if body.startswith(prefix) and len(body) > len(prefix):
                body, base = body[len(prefix):], prefix_base
                break
        try:
            if not body.isascii() or not body.isalnum():
                raise ValueError
            return int(body, base)
        except ValueError:
            raise MonitorError(f"{text!r} is neither a {RADIX_NAMES[base]} number ($C000 is hex, +49152 decimal) "
                               f"nor a label or symbol") from None

    def name_of(self, addr: int) -> str | None:
        """The symbol of an address (``_main+26``), if it has one."""
        return self.symbols.describe(addr) if self.symbols else None

    def named(self, addr: int) -> str:
        """An address with its symbol, if it has one: ``$0254 (_main+26)``."""
        name = self.name_of(addr)
        return f"{self.where(addr)} ({name})" if name else self.where(addr)

    def address(self, text: str) -> int:
        """An address as typed (``number``), in memory."""
        value = self.number(text)
        if not 0 <= value < self.emu.guest.memory_size:
            raise MonitorError(f"{text} is outside memory")
        return value

    def bounds(self, text: str) -> tuple[str, str]:
        """``START[:END]`` as its two parts (END "" if not given); a C line (``prog.c:12``) is
        one place, not a range."""
        line = re.match(r"([^:]+:\d+)(?::(.+))?$", text) if self.symbols else None
        if line and self.symbols.find(line[1]) is not None:
            return line[1], line[2] or ""
        first, _, last = text.partition(":")
        return first, last

    def span(self, text: str, default_length: int) -> range:
        first, last = self.bounds(text)
        start = self.address(first)
        end = self.address(last) if last else min(start + default_length - 1, self.emu.guest.memory_size - 1)
        if end < start:
            raise MonitorError(f"{text}: the range ends before it starts")
        return range(start, end + 1)

    # --- state ----------------------------------------------------------------------------------
    def do_registers(self, arg: str) -> None:
        """registers [NAME=VALUE ...]: show the registers, or set some (pc a x y s p, or a flag: n v d i z c)."""
        from recomp.inspection import register_line

        for word in arg.split():
            name, _, value = word.partition("=")
            name = {"sp": "s"}.get(name.lower(), name)
            usage = (f"{word}: expected NAME=VALUE, NAME one of the {self.emu.frontend.name}'s "
                     f"{', '.join(self.emu.settable)}")
            setattr(self.emu.state, *self.assignment(f"{name}={value}", usage))
        self.say(register_line(self.emu, self.name_of), "bold")

    def do_mem(self, arg: str) -> None:
        """mem START[:END]: show memory (16 bytes by default), devices not read."""
        span = self.span(self._one(arg, "mem START[:END]"), 16)
        for row in range(span.start, span.stop, 16):
            data = self.emu.memory[row:min(row + 16, span.stop)]
            self.say(f"{self.where(row)}:  {' '.join(f'{b:02X}' for b in data)}")

    def do_fill(self, arg: str) -> None:
        """fill START[:END] BYTE [BYTE...]: fill memory with the bytes, repeated."""
        words = arg.split()
        if len(words) < 2:
            raise MonitorError("fill START[:END] BYTE [BYTE...]")
        values = bytes(self.byte(w) for w in words[1:])
        span = self.span(words[0], len(values))
        self.emu.memory[span.start:span.stop] = (values * (len(span) // len(values) + 1))[:len(span)]

    def do_disassemble(self, arg: str) -> None:
        """disassemble [START[:END]]: the instructions there (default: 8 from the pc)."""
        first, last = self.bounds(arg.strip()) if arg.strip() else ("", "")
        start = self.address(first) if first else self.emu.state.pc
        self.show_instructions(start, self.address(last) if last else None)

    def show_instructions(self, start: int, end: int | None, count: int = 8) -> None:
        """The instructions from ``start`` to ``end``, or ``count`` of them."""
        machine = self.emu.machine
        addr, shown = start, 0
        while (addr <= end) if end is not None else shown < count:
            try:
                insn = self.emu.frontend.decode(machine.memory_view, addr, self.emu.guest.memory_size)
                raw, text, size = bytes(machine.memory_view[addr:addr + insn.size]), insn.text, insn.size
            except Exception as error:
                raw, text, size = bytes(machine.memory_view[addr:addr + 1]), f"??? ({error})", 1
            for name, at in self.labels.items():
                if at == addr:
                    self.say(f"{name}:", "bold")
                text = re.sub(re.escape(self.where(at)) + r"\b", name, text, flags=re.IGNORECASE)
            symbol = self.name_of(addr)
            if symbol is not None and "+" not in symbol:
                self.say(f"{symbol}:", "bold")
            text = self._named_operand(text)
            self.say(f"{self.where(addr)}  {raw.hex(' ').upper():<9} {text}")
            addr, shown = (addr + size) % self.emu.guest.memory_size, shown + 1
            if addr < start:
                break

    def do_load(self, arg: str) -> None:
        """load FILE [ADDR]: put a file's bytes in memory (at 0 by default)."""
        words = shlex.split(arg)
        if not 1 <= len(words) <= 2:
            raise MonitorError("load FILE [ADDR]")
        at = self.address(words[1]) if len(words) > 1 else 0
        room = self.emu.guest.memory_size - at
        data = read_file(Path(words[0]), room)  # (never more than fits: /dev/zero is endless)
        if len(data) > room:
            raise MonitorError(f"{words[0]} is more than the {room:,} bytes that fit from {self.where(at)}")
        self.emu.load(data, at)
        self.say(f"wrote {len(data)} bytes at {self.where(at)}")

    def do_save(self, arg: str) -> None:
        """save FILE START:END: write memory to a file."""
        words = shlex.split(arg)
        if len(words) != 2:
            raise MonitorError("save FILE START:END")
        span = self.span(words[1], 1)
        write_file(Path(words[0]), self.emu.memory[span.start:span.stop])
        self.say(f"saved {len(span)} bytes to {words[0]}")

    def do_cycles(self, arg: str) -> None:
        """cycles: instructions and cycles run so far."""
        self.say(f"{self.emu.instructions} instructions, {self.emu.cycles} cycles")

    # --- running --------------------------------------------------------------------------------
    def _named_operand(self, text: str) -> str:
        """An instruction's text with its address operand's symbol after it (``JSR $0229 ; _square``)."""
        match = re.search(r"\$([0-9A-Fa-f]{4})\b", text)
        name = self.name_of(int(match[1], 16)) if match else None
        return f"{text:<18} ; {name}" if name else text

    def do_step(self, arg: str) -> None:
        """step [N]: run N instructions (1), then show the registers and the next instruction."""
        count = self.value(arg) if arg.strip() else 1
        self.report(self.run(max_instructions=count), quiet_budget=True)

    def do_goto(self, arg: str) -> None:
        """goto ADDR: run from ADDR until a breakpoint, a watchpoint, a trap or Ctrl-C."""
        self.emu.state.pc = self.address(self._one(arg, "goto ADDR"))
        self.do_continue("")

    def do_continue(self, arg: str) -> None:
        """continue: run from the pc until a breakpoint, a watchpoint, a trap or Ctrl-C."""
        self.report(self.run(stop_on_trap=True))

    def do_return(self, arg: str) -> None:
        """return: run until just before the next return instruction (the 6502: RTS or RTI) executes."""
        result, stops = self._to_return()
        stopped = result is not None and result.exit == Stop.BREAKPOINT and result.pc in stops
        self.report(result, "return" if stopped else None)

    def _to_return(self) -> tuple[RunResult | None, list[int]]:
        """Run until just before a return instruction (a breakpoint may stop it first); the
        result, and the addresses it put temporary breakpoints at."""
        returns = self.emu.frontend.return_opcodes
        if not returns:
            raise MonitorError(f"the {self.emu.frontend.name} has no return instructions")
        memory, breakpoints = self.emu.memory[0:len(self.emu.memory)], self.emu.breakpoints
        # every byte that could be one is a breakpoint for this run (bytes that are not executed
        # as opcodes never stop it; one at the pc runs first, as a run starting on a breakpoint)
        stops = [a for a, byte in enumerate(memory) if byte in returns and a not in breakpoints]
        for addr in stops:
            breakpoints.add(addr)
        try:
            result = self.run(stop_on_trap=True)
        finally:
            for addr in stops:
                breakpoints.discard(addr)
        return result, stops

    def _over(self) -> RunResult | None:
        """One instruction, a call run whole at native speed (until it returns to the instruction
        after it with the stack back where it was: a recursive call's returns run through)."""
        st = self.emu.state
        try:
            returns_to = self.emu.frontend.decode(self.emu.machine.memory_view, st.pc, self.emu.guest.memory_size
                                                  ).returns_to
        except DecodeError:
            returns_to = None  # (the step reports what is wrong there)
        depth = st.s
        result = self.run(max_instructions=1)
        while (returns_to is not None and result is not None and result.exit == Stop.MAX_INSTRUCTIONS
               and not (st.pc == returns_to and st.s == depth)):
            result = self.run(until_pc=returns_to, stop_on_trap=True)
            if result is None or result.exit != Stop.UNTIL or st.s == depth:
                break
            result = self.run(max_instructions=1)  # (a deeper call's return: on through it)
        return result

    def do_next(self, arg: str) -> None:
        """next (n, o, over): one instruction, stepping over a JSR (the call runs at native speed)."""
        self.report(self._over(), quiet_budget=True)

    def do_out(self, arg: str) -> None:
        """out (finish): run until the current subroutine has returned (past its RTS)."""
        depth = self.emu.state.s
        while True:
            result, stops = self._to_return()
            if result is None or result.exit != Stop.BREAKPOINT or result.pc not in stops:
                break
            own = self.emu.state.s >= depth  # (a callee's return has its return address deeper)
            result = self.run(max_instructions=1)
            if own:
                break
        self.report(result, quiet_budget=True)

    def do_nextline(self, arg: str) -> None:
        """nextline (nl): run to the start of the next C source line, stepping over calls (needs
        debug info: symbols FILE.dbg)."""
        st, symbols = self.emu.state, self.symbols
        start = symbols.line_at(st.pc) if symbols else None
        if start is None:
            raise MonitorError(f"no C source line at {self.named(st.pc)} (load debug info: symbols FILE.dbg)")
        result: RunResult | None = None
        for _ in range(STEP_LIMIT):
            result = self._over()
            if result is None or result.exit not in (Stop.MAX_INSTRUCTIONS, Stop.UNTIL):
                break
            if symbols.line_starts_at(st.pc) and symbols.line_at(st.pc) != start:
                break
        self.report(result, quiet_budget=True)

    def do_list(self, arg: str) -> None:
        """list [PLACE]: the C source around the pc's line (or PLACE's), the line marked (needs debug info)."""
        addr = self.address(arg.strip()) if arg.strip() else self.emu.state.pc
        where = self.symbols.line_at(addr) if self.symbols else None
        if where is None:
            raise MonitorError(f"no C source line at {self.named(addr)} (load debug info: symbols FILE.dbg)")
        lines = self.symbols.source(where)
        if lines is None:
            raise MonitorError(f"{where.file} is not found beside the symbol files or here")
        for number in range(max(1, where.line - 5), min(len(lines), where.line + 5) + 1):
            mark = ">" if number == where.line else " "
            self.say(f"{mark}{number:5}  {lines[number - 1]}", "bold" if mark == ">" else "")

    def do_symbols(self, arg: str) -> None:
        """symbols [FILE] (ll): load a VICE label file (ld65 -Ln) or ld65 debug info (--dbgfile);
        without FILE, say how many symbols are known."""
        words = shlex.split(arg)
        if len(words) > 1:
            raise MonitorError("symbols [FILE]")
        if words:
            self.symbols.load(Path(words[0]))
        self.say(f"{len(self.symbols.labels)} symbols, {len(self.symbols.functions)} functions")

    def do_radix(self, arg: str) -> None:
        """radix [H|D|O|B]: the base of bare numbers (hex at first); without a letter, say which."""
        letter = arg.strip().lower()
        if letter:
            if letter not in RADIXES:
                raise MonitorError("radix H|D|O|B")
            self.radix = RADIXES[letter]
        self.say(f"bare numbers are {RADIX_NAMES[self.radix]}")

    def do_until(self, arg: str) -> None:
        """until ADDR: run until the pc reaches ADDR (or something else stops the run)."""
        self.report(self.run(until_pc=self.address(self._one(arg, "until ADDR")), stop_on_trap=True))

    def run(self, **limits: object) -> RunResult | None:
        """A run; conditional breakpoints whose condition does not hold are run through.
        Ctrl-C stops it and says where (None)."""
        try:
            while True:
                result = self.emu.run(**limits)
                if result.exit != Stop.BREAKPOINT or self.holds(result.pc):
                    return result
                if "max_instructions" in limits:
                    limits["max_instructions"] = max(0, limits["max_instructions"] - result.instructions)
        except KeyboardInterrupt as interrupted:
            self.say(f"recomp: {interrupted}" if str(interrupted) else "interrupted", "yellow")
            self.do_registers("")
            return None

    def holds(self, addr: int) -> bool:
        st = self.emu.state
        return all(getattr(st, name) == value for name, value in self.conditions.get(addr, []))

    def report(self, result: RunResult | None, reason: str | None = None, quiet_budget: bool = False) -> None:
        """Why a run stopped (``reason``: what to call it, else its exit), its C source line if
        known, the registers and the next instruction."""
        if result is None:
            return
        if result.exit == Stop.WATCHPOINT:
            hit = result.watch
            self.say(f"watchpoint: {hit.access} of ${hit.value:02X} at {self.named(hit.addr)} by the "
                     f"instruction at {self.named(hit.pc)}", "yellow")
        elif not (quiet_budget and result.exit in (Stop.MAX_INSTRUCTIONS, Stop.UNTIL)):
            self.say(f"{reason or result.exit} at {self.named(result.pc)} after {result.instructions} instructions",
                     "yellow")
        source = self.symbols.source_line(self.emu.state.pc) if self.symbols else None
        if source:
            self.say(source)
        self.do_registers("")
        self.show_instructions(self.emu.state.pc, None, count=1)

    # --- breakpoints and watchpoints ------------------------------------------------------------
    def do_add_breakpoint(self, arg: str) -> None:
        """add_breakpoint ADDR [REG=VALUE ...]: stop before ADDR (only when the registers hold those values)."""
        words = arg.split()
        if not words:
            raise MonitorError("add_breakpoint ADDR [REG=VALUE ...]")
        addr = self.address(words[0])
        conditions = [self.assignment(word, f"{word}: expected REG=VALUE") for word in words[1:]]
        self.emu.breakpoints.add(addr)
        self.conditions[addr] = conditions
        self.say(f"breakpoint {list(self.emu.breakpoints).index(addr)} at {self.named(addr)}"
                 + (f" if {' '.join(words[1:])}" if conditions else ""))

    def do_show_breakpoints(self, arg: str) -> None:
        """show_breakpoints: the breakpoints, numbered."""
        for number, addr in enumerate(self.emu.breakpoints):
            condition = " ".join(f"{n}={v:#x}" for n, v in self.conditions.get(addr, []))
            self.say(f"breakpoint {number}: {self.named(addr)}" + (f" if {condition}" if condition else ""))

    def do_delete_breakpoint(self, arg: str) -> None:
        """delete_breakpoint N|all: remove breakpoint number N (as show_breakpoints lists them)."""
        points = list(self.emu.breakpoints)
        chosen = points if arg.strip() == "all" else [points[self._number(arg, len(points), "breakpoint")]]
        for addr in chosen:
            self.emu.breakpoints.discard(addr)
            self.conditions.pop(addr, None)

    def do_add_watchpoint(self, arg: str) -> None:
        """add_watchpoint START[:END] [r|w|rw] [=VALUE]: stop right after an instruction that writes (or
        reads) there (that value)."""
        words = arg.split()
        if not 1 <= len(words) <= 3:
            raise MonitorError("add_watchpoint START[:END] [r|w|rw] [=VALUE]")
        span = self.span(words[0], 1)
        on = next((w for w in words[1:] if not w.startswith("=")), "w")
        value = next((self.number(w[1:]) for w in words[1:] if w.startswith("=")), None)
        watch = self.emu.watch(span.start, span.stop - 1, on, value)
        self.say(f"watchpoint {len(self.emu.watches) - 1} on {self.describe(watch)}")

    def do_show_watchpoints(self, arg: str) -> None:
        """show_watchpoints: the watchpoints, numbered."""
        for number, watch in enumerate(self.emu.watches):
            self.say(f"watchpoint {number}: {self.describe(watch)}")

    def describe(self, watch: Watch) -> str:
        value = "" if watch.value is None else f" =${watch.value:02X}"
        return f"{self.where(watch.span.start)}:{self.where(watch.span.stop - 1)} ({watch.on}){value}"

    def do_delete_watchpoint(self, arg: str) -> None:
        """delete_watchpoint N|all: remove watchpoint number N."""
        watches = self.emu.watches
        chosen = list(watches) if arg.strip() == "all" else [watches[self._number(arg, len(watches), "watchpoint")]]
        for watch in chosen:
            self.emu.unwatch(watch)

    # --- labels and numbers -----------------------------------------------------------------------
    def do_add_label(self, arg: str) -> None:
        """add_label ADDR NAME: call ADDR by NAME (in commands, and in disassembly)."""
        words = arg.split()
        if len(words) != 2 or not words[1].isidentifier():
            raise MonitorError("add_label ADDR NAME (a name of letters, digits and _)")
        self.labels[words[1]] = self.address(words[0])

    def do_show_labels(self, arg: str) -> None:
        """show_labels: the labels, by address."""
        for name, addr in sorted(self.labels.items(), key=lambda item: item[1]):
            self.say(f"{self.where(addr)}: {name}")

    def do_delete_label(self, arg: str) -> None:
        """delete_label NAME: forget a label."""
        if self.labels.pop(arg.strip(), None) is None:
            raise MonitorError(f"no label {arg.strip()}")

    def do_tilde(self, arg: str) -> None:
        """tilde NUMBER (~): the number in decimal, hex, octal and binary."""
        value = self.number(self._one(arg, "tilde NUMBER"))
        self.say(f"+{value}  ${value:02X}  0o{value:o}  %{value:08b}")

    # --- the machine ----------------------------------------------------------------------------
    def do_mpu(self, arg: str) -> None:
        """mpu [NAME]: the CPU and the others of its family; with NAME, change to that one (the
        machine is built again around it, keeping memory, registers, breakpoints and watchpoints;
        its counters start again)."""
        from recomp.frontends import FRONTENDS, get_frontend

        family = [name for name in FRONTENDS if get_frontend(name).family == self.emu.frontend.family]
        name = arg.strip()
        if not name:
            self.say(f"Current MPU is {self.emu.frontend.name}")
            self.say(f"Available MPUs: {', '.join(family)}")
            return
        if name not in family:
            raise MonitorError(f"unknown MPU {name} (choose from {', '.join(family)})")
        if self.rebuild is None:
            raise MonitorError("this monitor cannot change its CPU")
        old, new = self.emu, self.rebuild(get_frontend(name))
        size = old.guest.memory_size
        new.memory[0:size] = old.memory[0:size]
        new.machine.loaded_end = old.machine.loaded_end
        for field in ("pc", *old.guest.registers, *old.guest.flags):
            setattr(new.state, field, getattr(old.state, field))
        for addr in old.breakpoints:
            new.breakpoints.add(addr)
        for watch in old.watches:
            new.watch(watch.span.start, watch.span.stop - 1, watch.on, watch.value)
        self.emu = new
        if self.tracing:
            self.do_trace("on")
        self.say(f"MPU is now {name}")

    def do_reset(self, arg: str) -> None:
        """reset: the CPU's reset (the 6502: S=$FD, I set, pc from $FFFC)."""
        self.emu.reset()
        self.do_registers("")

    def do_irq(self, arg: str) -> None:
        """irq [on|off]: set (default) or release the IRQ line."""
        self.emu.irq(arg.strip() != "off")

    def do_nmi(self, arg: str) -> None:
        """nmi: pulse the NMI line."""
        self.emu.nmi()

    def do_profile(self, arg: str) -> None:
        """profile [on]: where the runs since ``profile on`` spent their instructions and cycles,
        by function (with symbols) or region, the hottest first; ``profile on`` starts counting
        afresh (exactly, at native speed)."""
        from recomp.debug.profile import profile_rows, profile_text

        if arg.strip() == "on":
            self.emu.start_profile()
            self.say("profiling: `profile` shows where the runs from here spend their time")
        elif arg.strip():
            raise MonitorError("profile [on]")
        elif not self.emu.profiling:
            raise MonitorError("no profile: `profile on` starts one")
        else:
            for line in profile_text(profile_rows(self.emu, self.name_of)).splitlines():
                self.say(line)

    def do_trace(self, arg: str) -> None:
        """trace on|off: show each instruction as runs execute it."""
        from recomp.inspection import trace_line

        self.tracing = arg.strip() != "off"
        sink = (lambda entry: self.say(trace_line(self.emu, entry, self.emu.tracing.names, self.name_of))
                ) if self.tracing else None
        self.emu.trace(0, sink)

    def do_regions(self, arg: str) -> None:
        """regions: the translations the machine holds: where each starts and the bytes it covers,
        its tier (stitched: the baseline tier's, until LLVM's code takes its place), its
        instructions, and the times it was entered (compiled code and the Python tier count
        them; cold code on the native interpreter is not a region); with symbols, the name of
        its address."""
        entered = self.emu.entry_table.entered
        rows = []
        for key, translation in sorted(self.emu.translations, key=lambda item: item[0].pc):
            region, covers = translation.region, translation.covers
            interpreter = not covers and region is None
            rows.append([
                self.where(key.pc),
                f"{self.where(min(covers))}-{self.where(max(covers))}" if covers else "-",
                ("native interpreter" if interpreter else "stitched" if translation.baseline
                 else "compiled" if translation.compiled is not None
                 else "python tier") + (" (one step)" if getattr(key, "single", False) else ""),
                str(len(covers)) if translation.baseline  # (it covers its opcodes)
                else "-" if region is None else str(sum(op.name == "insn" for op in region.ops())),
                "-" if interpreter else f"{entered[key.pc]:,}",
                *([self.name_of(key.pc) or "-"] if self.symbols else []),
            ])
        self.table(["address", "bytes", "tier", "instructions", "entered", *(["symbol"] if self.symbols else [])], rows)

    def do_inspect(self, arg: str) -> None:
        """inspect [ADDR] [STAGE]: the region at ADDR (the pc) at every stage, or one (guest icode opt llvm host)."""
        from recomp.inspection import STAGES, inspect_region

        words = arg.split()
        addr = self.address(words[0]) if words else self.emu.state.pc
        stages = [words[1]] if len(words) > 1 else list(STAGES)
        view = inspect_region(self.emu, addr)
        for stage in stages:
            if stage not in STAGES:
                raise MonitorError(f"unknown stage {stage} (choose from {', '.join(STAGES)})")
            self.say(f";; ---- {stage} ----\n{view.stage(stage).rstrip()}")

    def do_quit(self, arg: str) -> bool:
        """quit: leave the monitor."""
        return True

    def do_EOF(self, arg: str) -> bool:
        if self.use_rawinput:
            self.stdout.write("\n")  # (the prompt's line ends, as a shell's does)
        return True

    def do_help(self, arg: str) -> None:
        """help [COMMAND]: the commands and their short forms, or what one does (a short form too)."""
        name = ALIASES.get(arg.strip(), arg.strip())
        if name:
            super().do_help(name)
            return
        super().do_help("")
        by_command: dict[str, list[str]] = {}
        for alias, command in ALIASES.items():
            by_command.setdefault(command, []).append(alias)
        self.say("Short forms: " + "; ".join(f"{command} {', '.join(aliases)}"
                                            for command, aliases in sorted(by_command.items())))

    def get_names(self) -> list[str]:
        return [name for name in super().get_names() if name != "do_EOF"]  # (not a command to list)

    # --- small parsers --------------------------------------------------------------------------
    def assignment(self, word: str, usage: str) -> tuple[str, int]:
        """``NAME=VALUE`` for a register or flag (in any case): the state field and the value."""
        name, _, value = word.partition("=")
        field = name.upper() if name.upper() in self.emu.guest.flags else name.lower()
        if not value or field not in self.emu.settable:
            raise MonitorError(usage)
        return field, self.number(value)

    def byte(self, text: str) -> int:
        value = self.value(text)
        if not 0 <= value <= 0xFF:
            raise MonitorError(f"{text} is not a byte ($00..$FF)")
        return value

    @staticmethod
    def _one(arg: str, usage: str) -> str:
        words = arg.split()
        if len(words) != 1:
            raise MonitorError(usage)
        return words[0]

    @staticmethod
    def _number(arg: str, count: int, what: str) -> int:
        try:
            number = int(arg.strip())
        except ValueError:
            raise MonitorError(f"delete_{what} N|all") from None
        if not 0 <= number < count:
            raise MonitorError(f"there is no {what} {number}")
        return number

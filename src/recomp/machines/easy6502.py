"""``easy6502``: the virtual game console of the easy6502 tutorial and 6502asm.com.

A 32x32 screen of 16 colours at $0200-$05FF (one byte a pixel, low nibble the colour), drawn
live in the terminal with half-block characters (two pixels a character cell); $FE a fresh
random byte on every read; $FF the last key pressed (a latch the program may clear); BRK ends
the program.  Programs load and start at $0600.  The run goes frame by frame at ``--fps``,
each frame ``mhz / fps`` guest cycles (1 MHz by default); at each frame the screen is drawn and
the key of the frame latched.  Headless (``--keys FILE``, or no terminal) it runs unpaced, with
one key event per frame from the script: a line holding a character is that key, an empty
line none.  When the program ends, one line on stderr says how (its BRK, or a run past its
end into empty memory) and after how many frames."""

from __future__ import annotations

import itertools
import os
import select
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from recomp.machines.base import MachineType, Settings, keys_as_typed
from recomp.machines.devices import Keyboard, WaitDetector
from recomp.machines.hooks import pop
from recomp.machines.pacing import Slices
from recomp.runtime.devices import describe
from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import EndRun, FileError, StreamError
from recomp.runtime.result import RunResult, Stop
from recomp.runtime.user_files import read_file, write_file

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

SCREEN = 0x0200
SIDE = 32
RANDOM, KEY = 0xFE, 0xFF
BRK_HOOK = 0xFFF0  # BRK's vector points here: a hook that ends the program
DEFAULT_MHZ = 1.0
DEFAULT_FPS = 30.0
MAX_KEY_SCRIPT = 1 << 20  # bytes: a key a frame, over nine hours at 30 frames a second
# easy6502's palette (the Commodore 64's colours)
PALETTE = ("#000000", "#ffffff", "#880000", "#aaffee", "#cc44cc", "#00cc55", "#0000aa", "#eeee77",
           "#dd8855", "#664400", "#ff7777", "#333333", "#777777", "#aaff66", "#0088ff", "#bbbbbb")


class RandomByte:
    """$FE: a fresh random byte on every read (seeded with ``--seed`` for repeatable runs)."""

    name = "random generator"

    def __init__(self, seed: int | None) -> None:
        import random  # (loaded only by the machine that has the device)

        self.random = random.Random(seed)

    def addresses(self) -> tuple[int, ...]:
        return (RANDOM,)

    def read(self, addr: int, cycles: int) -> int:
        return self.random.randrange(256)

    def write(self, addr: int, value: int, cycles: int) -> None:
        pass


class KeyLatch:
    """$FF: the ASCII code of the last key pressed, until another key (or the program) writes it.
    Once the keys have run out, a program seen waiting for one (polling $FF again and again while
    it reads 0) ends the run, unless ``keep_running``."""

    name = "key latch"

    def __init__(self, keep_running: bool) -> None:
        self.value = 0
        self.keys_left = True
        self.keep_running = keep_running
        self.wait = WaitDetector()

    def addresses(self) -> tuple[int, ...]:
        return (KEY,)

    def read(self, addr: int, cycles: int) -> int:
        if self.value:
            self.wait.reset()
        elif self.wait.poll(cycles) and not self.keys_left and not self.keep_running:
            raise EndRun(Stop.INPUT_EXHAUSTED)
        return self.value

    def write(self, addr: int, value: int, cycles: int) -> None:
        self.value = value


class Easy6502(MachineType):
    name = "easy6502"
    summary = "the easy6502 game console: 32x32 screen at $0200, $FE random, $FF key, BRK ends"
    load_address = 0x0600
    default_entry = 0x0600
    reads = frozenset({"fps", "keys", "screen_dump", "seed"})

    def __init__(self) -> None:
        self.latch = KeyLatch(False)

    def build(self, emulator: Emulator, settings: Settings, keys: Keyboard) -> None:
        self.latch = KeyLatch(settings.keep_running)
        emulator.map_device(RandomByte(settings.seed))
        emulator.map_device(self.latch)
        emulator.memory[0xFFFE:0x10000] = bytes((BRK_HOOK & 0xFF, BRK_HOOK >> 8))
        emulator.hook(BRK_HOOK, brk)

    def run(self, emulator: Emulator, settings: Settings, **limits: object) -> RunResult:
        fps = settings.fps or DEFAULT_FPS
        frame_cycles = max(1, round((settings.mhz or DEFAULT_MHZ) * 1e6 / fps))
        live = not settings.headless and settings.keys is None and sys.stdout.isatty() and sys.stdin.isatty()
        keys = terminal_keys() if live else script_keys(settings)
        slices = Slices(emulator, **limits)
        with keys as next_key, (LiveScreen() if live else NoScreen()) as screen:
            started = time.perf_counter()
            for frame in itertools.count(1):
                key = next_key()
                if key is None:
                    self.latch.keys_left = False
                elif key:
                    self.latch.value = key
                result, over = slices.run(frame_cycles)
                screen.show(screen_bytes(emulator))
                if over:
                    break
                if live:
                    time.sleep(max(0.0, frame / fps - (time.perf_counter() - started)))
        if settings.screen_dump is not None:
            dump_screen(emulator, settings.screen_dump)
        if result.exit == Stop.EXIT:  # (after the dump: an error that ends the run is its one line)
            print(f"recomp: {ending(emulator, result.pc)} after {frame:,} frame{'s' * (frame != 1)}",
                  file=settings.errors if settings.errors is not None else sys.stderr)
        return result


def ending(emulator: Emulator, pc: int) -> str:
    """How a program ended at the BRK at ``pc``: one of its own, or one of the empty memory past
    it (code that ran off its end)."""
    where = emulator.frontend.format_address(pc)
    if pc < emulator.machine.loaded_end:
        return f"the program ended with BRK at {where}"
    return f"the program ran past its end into empty memory at {where}"


def brk(emulator: Emulator) -> None:
    """BRK ends the program: the pc is put back on the BRK (it pushed its address + 2)."""
    pop(emulator)  # the status byte
    low = pop(emulator)
    emulator.state.pc = ((pop(emulator) << 8 | low) - 2) & 0xFFFF
    raise EndRun(Stop.EXIT, 0)


def screen_bytes(emulator: Emulator) -> bytes:
    return emulator.memory[SCREEN:SCREEN + SIDE * SIDE]


def screen_text(pixels: bytes) -> str:
    """The screen as text: 32 lines of 32 hex digits, one a pixel."""
    return "".join("".join(f"{p & 15:X}" for p in pixels[row:row + SIDE]) + "\n"
                   for row in range(0, SIDE * SIDE, SIDE))


def dump_screen(emulator: Emulator, path: Path) -> None:
    write_file(path, screen_text(screen_bytes(emulator)))


@contextmanager
def script_keys(settings: Settings) -> Iterator:
    """Key events from ``--keys FILE`` (or standard input), one line a frame; then None."""
    where = settings.keys if settings.keys is not None else "standard input"
    if settings.keys is not None:
        script = read_file(settings.keys, MAX_KEY_SCRIPT)
    else:
        stream = settings.stdin()
        try:
            script = b"" if stream is None else stream.read(MAX_KEY_SCRIPT + 1)
        except (OSError, ValueError) as error:
            raise StreamError(f"cannot read input: {describe(error)}") from None
    if len(script) > MAX_KEY_SCRIPT:
        raise FileError(f"{where}: a key script is at most {MAX_KEY_SCRIPT:,} bytes (one key a frame)")
    events = iter(script.decode("utf-8", "replace").splitlines())

    def next_key() -> int | None:
        line = next(events, None)
        return None if line is None else ord(line[0]) & 0xFF if line else 0

    yield next_key


@contextmanager
def terminal_keys() -> Iterator:
    """Key presses from the terminal, without waiting (as typed: see ``keys_as_typed``)."""
    fd = sys.stdin.fileno()

    def next_key() -> int:
        pressed = b""
        while select.select([fd], [], [], 0)[0]:
            data = os.read(fd, 64)
            if not data:
                break
            pressed += data
        printable = [b for b in pressed if 0x20 <= b < 0x7F or b in (0x0D, 0x0A)]
        return printable[-1] if printable else 0

    with keys_as_typed(sys.stdin):
        yield next_key


class NoScreen:
    def __enter__(self) -> NoScreen:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def show(self, pixels: bytes) -> None:
        pass


class LiveScreen:
    """The screen in the terminal's alternate screen (rich ``Live``), drawn whole from its top
    left corner whenever the pixels or the terminal's size change, so that a resize leaves
    neither a cut picture nor stale rows; at the end the last picture is printed where it stays,
    on the terminal's own screen.  The size is the terminal's own (stdout's: a live screen has
    one), read each frame; $COLUMNS and $LINES, which rich would take instead, stay as they were
    when the terminal is resized."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.live = Live(console=self.console, auto_refresh=False, screen=True)
        self.last = b""
        self.size = (0, 0)

    def __enter__(self) -> LiveScreen:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)
        if self.last:
            self.console.print(render(self.last), end="")

    def show(self, pixels: bytes) -> None:
        size = tuple(os.get_terminal_size(sys.stdout.fileno()))
        if pixels != self.last or size != self.size:
            self.last, self.size = pixels, size
            self.console.size = size
            self.live.update(Picture(pixels), refresh=True)


class Picture:
    """The screen as the terminal shows it: the pixels (``render``), or, in a terminal too small
    to hold them whole, a line that says so."""

    def __init__(self, pixels: bytes) -> None:
        self.pixels = pixels

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        width, height = options.size
        if width < SIDE or height < SIDE // 2:
            yield Text(f"recomp: the screen takes {SIDE}x{SIDE // 2} characters; this terminal has {width}x{height}")
        else:
            yield render(self.pixels)


def render(pixels: bytes) -> object:
    from rich.text import Text

    text = Text()
    for row in range(0, SIDE * SIDE, 2 * SIDE):
        for column in range(SIDE):
            top, bottom = pixels[row + column] & 15, pixels[row + SIDE + column] & 15
            text.append("▀", style=f"{PALETTE[top]} on {PALETTE[bottom]}")
        text.append("\n")
    return text

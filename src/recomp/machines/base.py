"""What a machine is: a kind of computer built around a guest CPU — which devices it has and
where, where programs load and start, how a run is driven — and the settings a user gives it.

A ``MachineType`` builds an ``Emulator`` (``recomp.runtime``) for a program and runs it; one
module per machine (``bare``, ``sim65``, ``apple1``, ``easy6502``), devices as small classes
(``recomp.machines.devices``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from recomp.frontends import Frontend, get_frontend
from recomp.machines.devices import Acia6551, Keyboard, keyboard
from recomp.machines.loaders import Image
from recomp.runtime.devices import IntervalTimer
from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import ConfigError, LoadError
from recomp.runtime.result import RunResult


class Settings:
    """How the user set up a run (the ``recomp run`` options a machine reads): ``output``, the
    program's output (default: stdout); ``errors``, its error output, where it has one (sim65's
    fd 2); ``input``, its input (default: stdin); ``args``, its arguments, argv[0] first (sim65);
    ``sandbox``, the only directory guest file access may reach (default: cwd);
    ``keep_running``: at the end of input, reads find "no key" instead of ending the run;
    ``console``: (putc, getc) of the bare machine's console; ``timer``, ``acia``: an interval
    timer's and a 6551 ACIA's base address; ``hooks``: address -> ROM routine
    (``recomp.machines.hooks``); ``fps``: frames per second of a machine with a screen (None:
    its own); ``keys``: a headless key script (one key per frame); ``screen_dump``: where the
    final screen is written as text; ``seed``: the random generator's seed (easy6502's $FE);
    ``mhz``: the clock speed to run at (None: as fast as possible); ``headless``: no live screen
    (tests, pipes).  (A plain class: see ``recomp.ir.core``.)"""

    def __init__(self, output: TextIO | None = None, errors: TextIO | None = None, input: BinaryIO | None = None,
                 args: list[str] | None = None, sandbox: Path | None = None, keep_running: bool = False,
                 console: tuple[int, int] | None = None, timer: int | None = None, acia: int | None = None,
                 hooks: dict[int, str] | None = None, fps: float | None = None, keys: Path | None = None,
                 screen_dump: Path | None = None, seed: int | None = None, mhz: float | None = None,
                 headless: bool = False) -> None:
        self.output = output
        self.errors = errors
        self.input = input
        self.args: list[str] = [] if args is None else args
        self.sandbox = sandbox
        self.keep_running = keep_running
        self.console = console
        self.timer = timer
        self.acia = acia
        self.hooks: dict[int, str] = {} if hooks is None else hooks
        self.fps = fps
        self.keys = keys
        self.screen_dump = screen_dump
        self.seed = seed
        self.mhz = mhz
        self.headless = headless

    def stdout(self) -> TextIO | None:
        return self.output if self.output is not None else sys.stdout

    def stdin(self) -> BinaryIO | None:
        return self.input if self.input is not None else getattr(sys.stdin, "buffer", None)


# the settings only some machines read, and the options that give them: one a machine does not
# read is refused, not silently ignored
MACHINE_SETTINGS = {"sandbox": "--sandbox", "fps": "--fps", "keys": "--keys", "screen_dump": "--screen-dump",
                    "seed": "--seed", "console": "--putc and --getc", "args": "program arguments"}


class MachineType:
    """A kind of machine.  Subclasses set the class attributes and add their devices in
    ``build``; ``start`` says where execution begins, ``run`` drives the run."""

    name: str
    summary: str  # one line for ``recomp machines``
    families: tuple[str, ...] = ("6502",)  # the CPU families it is built around (any of their variants)
    load_address: int = 0  # where a raw image goes when no address is given
    default_entry: int | None = None  # where execution starts when the image does not say (None: reset)
    typed_keys: bool = True  # a terminal hands keys over as typed, unechoed (False: lines, as the host does)
    reads: frozenset[str] = frozenset()  # the ``MACHINE_SETTINGS`` it uses

    def emulator(self, cpu: Frontend | str, settings: Settings, **options: object) -> Emulator:
        """A new emulator of this machine with this CPU (a frontend, or its name), its devices
        mapped (``options``: the Emulator's)."""
        frontend = get_frontend(cpu) if isinstance(cpu, str) else cpu
        if frontend.family not in self.families:
            raise ConfigError(f"the {self.name} machine has a {' or '.join(self.families)} CPU, not {frontend.name}")
        for name, option in MACHINE_SETTINGS.items():
            given = settings.args[1:] if name == "args" else getattr(settings, name) is not None
            if given and name not in self.reads:
                raise ConfigError(f"the {self.name} machine takes no {option}")
        emulator = Emulator(frontend, output=settings.stdout(), console=None, **options)
        keys = keyboard(settings.stdin(), settings.keep_running, lambda: bool(emulator.state.interrupt))
        self.build(emulator, settings, keys)
        if settings.timer is not None:
            emulator.map_device(IntervalTimer(settings.timer))
        if settings.acia is not None:
            emulator.map_device(Acia6551(keys, emulator.output, settings.acia))
        if settings.hooks:
            from recomp.machines.hooks import routines

            if frontend.family != "6502":
                raise ConfigError("ROM-routine hooks return as the 6502's RTS does: they are for the 6502")

            actions = routines(keys)
            for addr, action in settings.hooks.items():
                if action not in actions:
                    raise ConfigError(f"unknown hook action {action!r} (choose from {', '.join(actions)})")
                emulator.hook(addr, actions[action])
        return emulator

    def build(self, emulator: Emulator, settings: Settings, keys: Keyboard) -> None:
        """Map the machine's own devices (``keys``: the keyboard its input devices share)."""

    def start(self, emulator: Emulator, image: Image | None, entry: int | None) -> None:
        """Reset the CPU and set where it starts: ``entry`` if given, else where the image says,
        else the machine's default, else the reset vector (which must hold code: a vector reading
        $0000 or $FFFF is an error, not a run through empty memory)."""
        emulator.reset()
        start = entry if entry is not None else image.entry if image is not None else None
        if start is None:
            start = self.default_entry
        if start is None:
            start = emulator.machine.reset_address()
            vector = emulator.guest.reset_vector
            if vector is not None and start in (0, emulator.guest.memory_size - 1):
                where = emulator.frontend.format_address
                raise LoadError(f"no reset vector: {where(vector)} holds {where(start)}; give --entry "
                                f"(where the program starts)")
        size = emulator.guest.memory_size
        if not 0 <= start < size:  # (an Intel HEX start record may say anything)
            where = emulator.frontend.format_address
            raise LoadError(f"the start address {start:#x} is outside memory ({where(0)}..{where(size - 1)})")
        emulator.state.pc = start

    def run(self, emulator: Emulator, settings: Settings, **limits: object) -> RunResult:
        """Run the program (``limits``: ``Emulator.run``'s), paced to ``settings.mhz`` if set,
        with the terminal (if stdin is one) handing over keys as they are typed."""
        with keys_as_typed(settings.stdin() if self.typed_keys else None):
            if settings.mhz is None:
                return emulator.run(**limits)
            from recomp.machines.pacing import paced_run

            return paced_run(emulator, settings.mhz, **limits)

    def reported_cycles(self, emulator: Emulator) -> int:
        """The cycle count as this machine's own tools report it (sim65 leaves out its exit call)."""
        return emulator.cycles


@contextmanager
def keys_as_typed(stream: object) -> Iterator[None]:
    """While a guest reads the keyboard: if ``stream`` is a terminal, its line editing and echo
    off (each key reaches the guest when typed, and only the guest echoes it, as on the real
    machine); Ctrl-C still interrupts.  Other streams are left alone."""
    try:
        fd = stream.fileno() if stream is not None and stream.isatty() else None
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None:
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)

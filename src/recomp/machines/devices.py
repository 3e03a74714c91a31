"""Devices real 6502 machines have, as small classes: the keyboard input every polled device
shares (with its end-of-input rule), the 6821 PIA as the Apple-1 wires it, and the 6551 ACIA.
(The py65 console and the interval timer are the runtime's: ``recomp.runtime.devices``.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from recomp.runtime.devices import Input, write_output
from recomp.runtime.errors import EndRun
from recomp.runtime.result import Stop

SPIN_POLLS = 16  # polls in a row ...
SPIN_CYCLES = 200  # ... each this close to the last: the program is waiting for a key


class WaitDetector:
    """Tells a program waiting for a key (polling again and again) from one that looks now and
    then: ``SPIN_POLLS`` polls in a row, each within ``SPIN_CYCLES`` of the last."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._spins = 0
        self._last_poll = -SPIN_CYCLES - 1

    def poll(self, cycles: int) -> bool:
        """A poll that found nothing, at ``cycles``: whether the program is now clearly waiting."""
        close = cycles - self._last_poll <= SPIN_CYCLES
        self._last_poll = cycles
        self._spins = self._spins + 1 if close else 1
        return self._spins >= SPIN_POLLS


class Keyboard:
    """Keys from an input stream, for devices whose program polls for them.

    At the end of input a program waiting for the next key would wait forever, so the run ends
    (``Stop.INPUT_EXHAUSTED``) once the program is seen waiting: ``SPIN_POLLS`` polls in a row
    with no key, each within ``SPIN_CYCLES`` of the last.  A program that only glances at the
    keyboard now and then (Integer BASIC checks for a break key before every line) runs on.
    ``keep_running``: never end; polls find no key."""

    def __init__(self, input: Input | None, keep_running: bool, newline: int = 0x0D) -> None:
        self.input = input
        self.keep_running = keep_running
        self.newline = newline  # what the Enter key sends (a host newline becomes this)
        self.wait = WaitDetector()

    def ready(self, cycles: int) -> bool:
        """Whether a key is waiting (a poll of the status)."""
        if self.input is not None and self.input.ready():
            self.wait.reset()
            return True
        self.waiting(cycles)
        return False

    def waiting(self, cycles: int) -> None:
        """The program looked for a key and found none: at the end of input, end the run once
        it is clearly waiting."""
        waiting = self.wait.poll(cycles)
        at_end = self.input is None or self.input.at_end
        if waiting and at_end and not self.keep_running:
            raise EndRun(Stop.INPUT_EXHAUSTED)

    def take(self) -> int | None:
        """The waiting key, if any, as the machine sends it (newline as Enter)."""
        if self.input is None or not self.input.ready():
            return None
        value = self.input.byte()
        return self.newline if value == 0x0A else value

    def next(self) -> int:
        """The next key, waiting for it (a blocking ROM routine); the end of input ends the run
        unless ``keep_running`` (then 0)."""
        value = None if self.input is None else self.input.next()
        if value is None:
            if self.keep_running:
                return 0
            raise EndRun(Stop.INPUT_EXHAUSTED)
        return self.newline if value == 0x0A else value


class ApplePia:
    """The Apple-1's 6821 PIA at $D010-$D013: port A the keyboard, port B the display.

    KBD ($D010): the key with bit 7 set (letters upper case, as the Apple-1's keyboard sends
    them); reading it clears KBDCR's bit 7.  KBDCR ($D011): bit 7
    set while a key is waiting.  DSP ($D012): a write shows the character (bits 0-6; CR is a
    new line), once DSPCR bit 2 has turned the register from the direction register into the
    port (the Woz Monitor's first write, $7F, goes to the direction register and shows nothing);
    read, bit 7 is the display's busy line, always ready here.  DSPCR ($D013): control."""

    name = "PIA"

    def __init__(self, keyboard: Keyboard, output: TextIO | None, base: int = 0xD010) -> None:
        self.keyboard = keyboard
        self.output = output
        self.base = base
        self.control = [0, 0]  # KBDCR, DSPCR
        self.direction = [0, 0]  # the data direction registers
        self.key = 0

    def addresses(self) -> range:
        return range(self.base, self.base + 4)

    def read(self, addr: int, cycles: int) -> int:
        offset = addr - self.base
        if offset == 0:
            taken = self.keyboard.take()
            if taken is None:
                self.keyboard.waiting(cycles)
            else:
                self.key = taken - 0x20 if 0x61 <= taken <= 0x7A else taken  # an upper-case keyboard
            return self.key | 0x80
        if offset == 1:
            return self.control[0] & 0x7F | (0x80 if self.keyboard.ready(cycles) else 0)
        if offset == 2:
            return 0  # the display is never busy
        return self.control[1] & 0x7F

    def write(self, addr: int, value: int, cycles: int) -> None:
        offset = addr - self.base
        if offset in (1, 3):
            self.control[offset >> 1] = value
        elif not self.control[offset >> 1] & 0x04:
            self.direction[offset >> 1] = value  # DDR access (CR bit 2 clear)
        elif offset == 2:
            character = value & 0x7F
            if character == 0x0D:
                write_output(self.output, "\n")
            elif character >= 0x20 and character != 0x7F:
                write_output(self.output, bytes((character,)))


class Acia6551:
    """A 6551 ACIA: data (+0: read the received byte, write one to send), status (+1: bit 3
    receive register full, bit 4 transmit register empty; a write is a programmed reset),
    command (+2) and control (+3) registers, kept as written."""

    name = "ACIA"
    RECEIVE_FULL = 0x08
    TRANSMIT_EMPTY = 0x10

    def __init__(self, keyboard: Keyboard, output: TextIO | None, base: int) -> None:
        self.keyboard = keyboard
        self.output = output
        self.base = base
        self.registers = [0, 0, 0, 0]  # received byte, status, command, control
        self.received: int | None = None

    def addresses(self) -> range:
        return range(self.base, self.base + 4)

    def read(self, addr: int, cycles: int) -> int:
        offset = addr - self.base
        if offset == 0:
            if self.received is None:
                self.received = self.keyboard.take()
            value, self.received = self.received, None
            if value is None:
                self.keyboard.waiting(cycles)
            return 0 if value is None else value
        if offset == 1:
            if self.received is None:
                self.received = self.keyboard.take() if self.keyboard.ready(cycles) else None
            return self.TRANSMIT_EMPTY | (self.RECEIVE_FULL if self.received is not None else 0)
        return self.registers[offset]

    def write(self, addr: int, value: int, cycles: int) -> None:
        offset = addr - self.base
        if offset == 0:
            write_output(self.output, bytes((value,)))
        elif offset == 1:
            self.registers[2] &= 0xE0  # programmed reset
        else:
            self.registers[offset] = value


def keyboard(stream: object, keep_running: bool, interrupted: Callable[[], bool], newline: int = 0x0D) -> Keyboard:
    """A keyboard reading ``stream`` (None: a keyboard nobody types on)."""
    return Keyboard(None if stream is None else Input(stream, interrupted), keep_running, newline)

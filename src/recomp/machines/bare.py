"""``bare``: 64 KiB of RAM and py65's console ($F001 prints the byte stored, $F004 reads the
next input byte or 0); the default machine, and the only one for TST27."""

from __future__ import annotations

from recomp.machines.base import MachineType, Settings
from recomp.machines.devices import Keyboard
from recomp.runtime.devices import Console
from recomp.runtime.emulator import Emulator


class Bare(MachineType):
    name = "bare"
    summary = "64 KiB RAM and py65's console ($F001 out, $F004 in); optional timer, ACIA, hooks"
    families = ("6502", "tst27")
    reads = frozenset({"console"})

    def build(self, emulator: Emulator, settings: Settings, keys: Keyboard) -> None:
        console = settings.console if settings.console is not None else emulator.guest.console
        if console is not None:
            emulator.map_device(Console(emulator.output, keys.input, *console))

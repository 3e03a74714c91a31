"""``apple1``: the Apple-1 — a 6821 PIA at $D010-$D013 for the keyboard and the display
(``ApplePia``), RAM elsewhere, and the ROMs the user supplies (``--rom wozmon.bin@$FF00``,
``--rom basic.bin@$E000``); execution starts from the reset vector, the Woz Monitor's."""

from __future__ import annotations

from recomp.machines.base import MachineType, Settings
from recomp.machines.devices import ApplePia, Keyboard
from recomp.runtime.emulator import Emulator


class Apple1(MachineType):
    name = "apple1"
    summary = "Apple-1: PIA keyboard and display at $D010-$D013; ROMs you supply (--rom FILE@ADDR)"
    load_address = 0x0280  # the first free RAM after the Woz Monitor's input buffer

    def build(self, emulator: Emulator, settings: Settings, keys: Keyboard) -> None:
        emulator.map_device(ApplePia(keys, emulator.output))

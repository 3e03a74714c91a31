"""``sim65``: cc65's simulator ABI, so programs built with ``cl65 -t sim6502`` run as they do
under ``sim65`` (facts: ``docs/sim65-abi.md``).  64 KiB of RAM; the runtime library calls the host
by jumping to $FFF1-$FFF9 (lseek, remove, osmaperrno, open, close, read, write, args, exit);
each call is a hook that does the work and returns as RTS would.  Arguments are popped from
cc65's C stack (its pointer is at the zero-page address the header names).

Files are confined to one folder (the working directory, or ``--sandbox DIR``), as
``recomp.machines.sandbox`` holds it: a path that leads outside it, through ``..``, an absolute
path or a symbolic link, or names anything but a regular file or a folder, fails in the guest
(-1) and never reaches the host."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from recomp.machines.base import MachineType, Settings
from recomp.machines.devices import Keyboard
from recomp.machines.hooks import return_from_subroutine
from recomp.machines.loaders import SIM65_CPUS, Image
from recomp.machines.sandbox import Sandbox
from recomp.runtime.devices import StreamError, flush_output, write_output
from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import ConfigError, EndRun
from recomp.runtime.result import Stop

EXIT_HOOK = 0xFFF9
MAX_PATH = 1024  # bytes of a path sim65 reads at most
MAX_FILES = 32  # guest file descriptors open at once
# bytes the arguments may take below the C stack (strings and pointers): half of the 2 KiB C
# stack cc65's sim6502 programs get by default, where sim65 would overwrite the program
MAX_ARGUMENTS = 1024
# cc65's open flags -> the host's
ACCESS = {1: os.O_RDONLY, 2: os.O_WRONLY, 3: os.O_RDWR}
OPEN_FLAGS = {0x10: os.O_CREAT, 0x20: os.O_TRUNC, 0x40: os.O_APPEND, 0x80: os.O_EXCL}
WHENCE = {0: os.SEEK_SET, 1: os.SEEK_CUR, 2: os.SEEK_END}


class Sim65(MachineType):
    name = "sim65"
    summary = "cc65's simulator: C programs built with cl65 -t sim6502 or -t sim65c02 (stdio, files, argv, exit code)"
    load_address = 0x0200
    typed_keys = False  # C programs read lines, with the terminal's editing and echo, as under sim65
    reads = frozenset({"sandbox", "args"})

    def __init__(self) -> None:
        self.host: Sim65Host | None = None

    def build(self, emulator: Emulator, settings: Settings, keys: Keyboard) -> None:
        emulator.memory[0:emulator.guest.memory_size] = bytes([0xFF]) * emulator.guest.memory_size  # as sim65 fills it
        self.host = Sim65Host(emulator, settings, keys)
        for addr, call in self.host.calls().items():
            emulator.hook(addr, call)

    def start(self, emulator: Emulator, image: Image | None, entry: int | None) -> None:
        if image is None or image.sim65 is None:
            raise ConfigError("the sim65 machine runs sim65 images (cl65 -t sim6502)")
        if SIM65_CPUS[image.sim65.cpu] == "65c02" and emulator.frontend.name != "65c02":
            raise ConfigError(f"this program is built for the 65C02 (cl65 -t sim65c02), not the "
                              f"{emulator.frontend.name}: run it with --cpu 65c02 (its default)")
        if self.host is not None:
            self.host.sp_address = image.sim65.sp_address
        super().start(emulator, image, entry)

    def reported_cycles(self, emulator: Emulator) -> int:
        """sim65 counts every instruction but the jump into its exit call (JSR or JMP)."""
        return emulator.cycles - exit_jump_cycles(emulator)


def exit_jump_cycles(emulator: Emulator) -> int:
    """The cycles of the instruction that reached the exit call: a JSR leaves its return address
    on the stack (6 cycles); cc65's runtime ends with JMP $FFF9 (3)."""
    if emulator.state.pc != EXIT_HOOK:
        return 0
    s = emulator.state.s
    ret = emulator.memory[0x100 | (s + 1) & 0xFF] | emulator.memory[0x100 | (s + 2) & 0xFF] << 8
    jsr = [emulator.memory[(ret - 2 + i) & 0xFFFF] for i in range(3)]
    return 6 if jsr == [0x20, EXIT_HOOK & 0xFF, EXIT_HOOK >> 8] else 3


class Sim65Host:
    """The host side of sim65's calls, for one machine: its open files and its sandbox."""

    def __init__(self, emulator: Emulator, settings: Settings, keys: Keyboard) -> None:
        self.emulator = emulator
        self.args = settings.args
        size = sum(len(os.fsencode(arg)) + 3 for arg in self.args) + 2
        if size > MAX_ARGUMENTS:
            raise ConfigError(f"the program's arguments take {size:,} bytes of the C stack; at most "
                              f"{MAX_ARGUMENTS:,} fit")
        errors = settings.errors if settings.errors is not None else sys.stderr
        self.sandbox = Sandbox(settings.sandbox, lambda text: print(text, file=errors, flush=True))
        self.keys = keys
        self.outputs = {1: emulator.output, 2: settings.errors}
        self.files: dict[int, int] = {}  # guest fd (3 and up) -> host fd
        self.sp_address = 0  # the zero-page address of the C stack pointer (from the image's header)

    def calls(self) -> dict[int, Callable[[Emulator], None]]:
        calls = {0xFFF1: self.lseek, 0xFFF2: self.remove, 0xFFF3: self.osmaperrno, 0xFFF4: self.open,
                 0xFFF5: self.close, 0xFFF6: self.read, 0xFFF7: self.write, 0xFFF8: self.arguments}

        def returning(call: Callable[[], int]) -> Callable[[Emulator], None]:
            def hook(emulator: Emulator) -> None:
                result = call()
                emulator.state.a, emulator.state.x = result & 0xFF, result >> 8 & 0xFF
                return_from_subroutine(emulator)
            return hook

        hooks = {addr: returning(call) for addr, call in calls.items()}
        hooks[EXIT_HOOK] = self.exit
        return hooks

    # --- guest memory and the C stack ---------------------------------------------------------
    @property
    def ax(self) -> int:
        st = self.emulator.state
        return st.a | st.x << 8

    def word(self, addr: int) -> int:
        memory = self.emulator.memory
        return memory[addr & 0xFFFF] | memory[(addr + 1) & 0xFFFF] << 8

    def set_word(self, addr: int, value: int) -> None:
        self.emulator.memory[addr & 0xFFFF] = value & 0xFF
        self.emulator.memory[(addr + 1) & 0xFFFF] = value >> 8 & 0xFF

    def pop(self, size: int) -> int:
        """The word at the C stack pointer, which then moves up by ``size`` bytes."""
        sp_address = self.sp_address
        sp = self.word(sp_address)
        self.set_word(sp_address, sp + size)
        return self.word(sp)

    def string(self, addr: int) -> bytes | None:
        """A NUL-terminated string in guest memory (None if longer than sim65 reads)."""
        data = bytearray()
        while len(data) < MAX_PATH:
            byte = self.emulator.memory[(addr + len(data)) & 0xFFFF]
            if byte == 0:
                return bytes(data)
            data.append(byte)
        return None

    # --- the calls ----------------------------------------------------------------------------
    def open(self) -> int:
        extra = self.emulator.state.y - 4
        self.pop(extra)  # the mode: sim65 ignores it (files are created read-write for the user)
        flags = self.pop(2)
        name = self.string(self.pop(2))
        if not name or flags & 3 not in ACCESS or len(self.files) >= MAX_FILES:
            return -1
        host_flags = ACCESS[flags & 3]
        for bit, flag in OPEN_FLAGS.items():
            if flags & bit:
                host_flags |= flag
        fd = host_call(self.sandbox.open, name, host_flags)
        if fd == -1:
            return -1
        guest_fd = min(set(range(3, 3 + MAX_FILES)) - set(self.files))
        self.files[guest_fd] = fd
        return guest_fd

    def close(self) -> int:
        fd = self.files.pop(self.ax, None)
        if fd is None:
            return 0 if self.ax in (0, 1, 2) else -1
        return host_call(os.close, fd)

    def read(self) -> int:
        count = self.ax
        buffer = self.pop(2)
        fd = self.pop(2)
        if fd == 0:
            data = self.keys.input.read(count) if self.keys.input is not None else b""
        elif fd in self.files:
            data = host_call(os.read, self.files[fd], count)
            if data == -1:
                return -1
        else:
            return -1
        for i, byte in enumerate(data):
            self.emulator.memory[(buffer + i) & 0xFFFF] = byte
        return len(data)

    def write(self) -> int:
        count = self.ax
        buffer = self.pop(2)
        fd = self.pop(2)
        data = bytes(self.emulator.memory[(buffer + i) & 0xFFFF] for i in range(count))
        if fd in self.outputs:
            output = self.outputs[fd]
            if output is None:
                return -1
            write_output(output, data)
            if fd == 2:
                flush_output(output)
            return count
        return host_call(os.write, self.files[fd], data) if fd in self.files else -1

    def lseek(self) -> int:
        whence = self.ax
        offset = self.pop(2) | self.pop(2) << 16
        fd = self.pop(2)
        if fd not in self.files or whence not in WHENCE:
            return -1
        offset -= (offset & 0x80000000) << 1  # a signed 32-bit offset
        return host_call(os.lseek, self.files[fd], offset, WHENCE[whence]) & 0xFFFF

    def remove(self) -> int:
        name = self.string(self.ax)
        return -1 if not name else host_call(self.sandbox.remove, name)

    def osmaperrno(self) -> int:
        return -1 if self.ax else 0

    def arguments(self) -> int:
        """Write argv below the C stack: the pointer array (NULL-ended), the strings under it,
        the stack pointer moved past them; its address is stored at A/X."""
        argv_at = self.ax
        sp_address = self.sp_address
        sp = self.word(sp_address)
        array = sp - (len(self.args) + 1) * 2
        self.set_word(argv_at, array)
        sp = array
        for index, arg in enumerate(self.args):
            data = os.fsencode(arg) + b"\0"
            sp -= len(data)
            for i, byte in enumerate(data):
                self.emulator.memory[(sp + i) & 0xFFFF] = byte
            self.set_word(array + 2 * index, sp)
        self.set_word(array + 2 * len(self.args), 0)
        self.set_word(sp_address, sp)
        return len(self.args)

    def exit(self, emulator: Emulator) -> None:
        for fd in self.files.values():
            host_call(os.close, fd)
        self.files.clear()
        try:
            flush_output(self.outputs[2])
        except StreamError:
            pass
        raise EndRun(Stop.EXIT, emulator.state.a)


def host_call(function: Callable[..., object], *args: object) -> Any:
    """A host call's result (0 for None), or -1 if it fails, as sim65 passes it to the guest."""
    try:
        result = function(*args)
    except OSError:
        return -1
    return 0 if result is None else result

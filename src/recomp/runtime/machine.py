"""The machine a guest program runs on: the CPU's state, guest memory and its attribute bytes,
the devices mapped into memory, the interrupt lines, and loading.

It is the one object devices, helpers and the reference engine work against.  It knows nothing
of translation: what the runtime must hear about (a store into translated code, memory written
from outside, a device mapped) it tells its ``listener``.
"""

from __future__ import annotations

import ctypes
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Protocol, TextIO

from recomp.frontends.base import DecodeError, Frontend
from recomp.ir.guest import ATTR_CODE, ATTR_IO, ATTR_READ_WATCH, ATTR_ROM, ATTR_WRITE_WATCH, MEMORY_HELPERS
from recomp.runtime.devices import Device, IntervalTimer, ReadOnlyMemory, write_output
from recomp.runtime.errors import ConfigError, EndRun, GuestFault, LoadError
from recomp.runtime.helpers import HelperTable
from recomp.runtime.one_thread import OneThread
from recomp.runtime.state import UNLIMITED, state_struct
from recomp.runtime.trace import Trace
from recomp.runtime.watchpoints import Watchpoints


class MachineListener(Protocol):
    """What the translation cache hears from the machine."""

    def code_write(self, addr: int) -> None:
        """A guest store hit a byte marked ``ATTR_CODE`` (from compiled code or the reference engine)."""

    def memory_changed(self, start: int, stop: int) -> None:
        """Memory was written from outside the guest (loading, ``machine.memory[...] = ...``)."""

    def map_changed(self) -> None:
        """A device was mapped: what translations assumed about the address space is void."""


class _Unheard:
    def code_write(self, addr: int) -> None:
        pass

    def memory_changed(self, start: int, stop: int) -> None:
        pass

    def map_changed(self) -> None:
        pass


class GuestMemory:
    """``machine.memory``: guest memory as ints (or bytes, for slices); writes are heard by the
    machine's listener (translated code they hit is dropped)."""

    def __init__(self, machine: Machine) -> None:
        self._machine = machine
        self._view = machine.memory_view

    def __len__(self) -> int:
        return len(self._view)

    def __getitem__(self, index: int | slice) -> int | bytes:
        if isinstance(index, slice):
            return bytes(self._view[index])
        return self._view[index]

    def __setitem__(self, index: int | slice, value: int | bytes) -> None:
        self._machine.owner.check("write memory")
        self._view[index] = value
        start, stop, _ = index.indices(len(self._view)) if isinstance(index, slice) else (index, index + 1, 1)
        self._machine.listener.memory_changed(start, stop)


class Machine:
    """A guest CPU with its memory, devices and interrupt lines.  ``output`` is where the guest's
    helpers write (TST27's PRINT); devices get their own streams."""

    def __init__(self, frontend: Frontend, output: TextIO | None) -> None:
        self.frontend = frontend
        self.guest = frontend.guest
        self.output = output
        self.state = state_struct(self.guest, frontend.computed_fields)()
        self.state.cycle_limit = UNLIMITED
        size = self.guest.memory_size
        self.ram = (ctypes.c_uint8 * size)()
        self.attrs = (ctypes.c_uint8 * size)()  # one byte of ATTR_* bits per guest address
        self.memory_view = memoryview(self.ram).cast("B")
        self.attrs_view = memoryview(self.attrs).cast("B")
        self.memory = GuestMemory(self)
        self.loaded_end = 0  # where loaded code ends: decoding stops there
        self.devices: dict[int, Device] = {}  # address -> the device answering there
        self.timers: list[IntervalTimer] = []
        self.irq_line = False
        self.nmi_pending = False
        self.cycle_target = UNLIMITED  # the run's cycle budget ends here (``run(max_cycles=...)``)
        self.pending_error: BaseException | None = None  # raised in a helper, re-raised by the run loop
        self.listener: MachineListener = _Unheard()
        self.owner = OneThread()  # the thread running the machine (see ``recomp.runtime.one_thread``)
        self.watchpoints = Watchpoints(self.attrs_view)
        self.trace: Trace | None = None  # the trace runs record (code is compiled to record while it is on)
        self._helpers = HelperTable(self.guest.helper_slots(), self._helper_functions(), self._park)
        self.state.helpers = self._helpers.address

    def _helper_functions(self) -> list[Callable[..., int | None]]:
        """The functions behind the helper table: memory helpers, then the guest's own."""
        memory = {"io_read": self.io_read, "io_write": self.io_write, "code_write": self.code_write}
        guest = self.frontend.helper_functions
        return [memory[name] for name in MEMORY_HELPERS] + [partial(guest[name], self) for name in self.guest.helpers]

    def _park(self, error: BaseException) -> None:
        """An exception in a helper: kept for the run loop, which raises it once the next guard
        leaves (the budget is cut to zero)."""
        self.pending_error = error
        self.state.limit = 0

    # --- memory and loading --------------------------------------------------------------------
    def load(self, data: bytes, at: int = 0) -> None:
        size = self.guest.memory_size
        if not data:
            raise LoadError("the program is empty")
        if not 0 <= at < size:
            raise LoadError(f"load address {at:#06x} is outside memory (0x0000..{size - 1:#06x})")
        if at + len(data) > size:
            raise LoadError(f"the program is {len(data)} bytes; only {size - at} fit in memory "
                            f"from {at:#06x}")
        self.memory[at:at + len(data)] = data
        self.loaded_end = max(self.loaded_end, at + len(data))

    def reset(self) -> None:
        """The CPU's reset: registers as the chip leaves them, the pc from the reset vector (0 for
        guests without one); interrupt lines released."""
        for name, value in self.frontend.reset_registers.items():
            setattr(self.state, name, value)
        self.state.pc = self.reset_address()
        self.irq_line = self.nmi_pending = False
        self.state.events = 0

    def reset_address(self) -> int:
        """Where a reset starts: the address in the reset vector (0 for guests without one)."""
        vector = self.guest.reset_vector
        return 0 if vector is None else self.memory_view[vector] | self.memory_view[vector + 1] << 8

    def fault(self, pc: int) -> GuestFault:
        """The error for an instruction at ``pc`` that cannot be executed, as its decoder says."""
        try:
            self.frontend.decode(self.memory_view, pc, self.loaded_end)
        except DecodeError as error:
            return GuestFault(error.addr, error.message)
        return GuestFault(pc, f"instruction at {pc:#06x} could not be executed")

    # --- devices -------------------------------------------------------------------------------
    def map_rom(self, data: bytes, at: int, name: str = "ROM") -> None:
        """Load ``data`` at ``at`` as read-only memory: guest stores there are dropped, as on the
        chip (writes from outside, ``machine.memory[...] = ...``, still land)."""
        self.load(data, at)
        self.map_device(ReadOnlyMemory(name, range(at, at + len(data))), ATTR_ROM)

    def map_device(self, device: Device, attribute: int = ATTR_IO) -> None:
        """Map a device at its addresses, which must lie in memory and belong to no other device
        (``ConfigError``).  ``attribute``: ``ATTR_IO`` (loads and stores call it) or
        ``ATTR_ROM`` (stores call it, loads read memory)."""
        self.owner.check("map a device")
        addresses = sorted(device.addresses())
        where = self.frontend.format_address
        span = f"{where(addresses[0])}..{where(addresses[-1])}" if len(addresses) > 1 else where(addresses[0])
        if addresses[0] < 0 or addresses[-1] >= self.guest.memory_size:
            raise ConfigError(f"the {device.name} at {span} runs past the end of memory "
                              f"({where(0)}..{where(self.guest.memory_size - 1)})")
        twice = [addr for addr, count in Counter(addresses).items() if count > 1]
        if twice:
            raise ConfigError(f"the {device.name} has two registers at {where(twice[0])}")
        for addr in addresses:
            if addr in self.devices:
                raise ConfigError(f"the {device.name} at {span} overlaps the {self.devices[addr].name} "
                                  f"at {where(addr)}")
        for addr in addresses:
            self.devices[addr] = device
            self.attrs_view[addr] |= attribute
        if isinstance(device, IntervalTimer):
            self.timers.append(device)
        self.listener.map_changed()  # the optimizer relied on where devices are

    def unmap_device(self, device: Device, attribute: int = ATTR_IO) -> None:
        """Take a device off the addresses it answered at: they are plain memory again."""
        for addr in device.addresses():
            if self.devices.get(addr) is device:
                del self.devices[addr]
                self.attrs_view[addr] &= ~attribute
        self.listener.map_changed()

    def io_read(self, addr: int, cycles: int, pc: int) -> int:
        """A load of a device's byte, or of one watched for reads, by the instruction at ``pc``."""
        attr = self.attrs_view[addr]
        try:  # (ROM, the other device, is read from memory)
            value = self.devices[addr].read(addr, cycles) if attr & ATTR_IO else self.memory_view[addr]
        except EndRun as end:  # the instruction completes; the run ends at the next boundary
            self._park(end)
            value = 0
        if attr & ATTR_READ_WATCH and self.watchpoints.hit(addr, value & 0xFF, "read", pc):
            self.state.events = 1  # the instruction's ``watched`` leaves; the native interpreter,
            self.state.limit = 0  # which has none, stops at its next instruction's guard
        return value

    def io_write(self, addr: int, value: int, cycles: int, pc: int) -> None:
        """A store to a device's byte (or ROM) by the instruction at ``pc``."""
        try:
            self.devices[addr].write(addr, value, cycles)
        except EndRun as end:
            self._park(end)
        if self.attrs_view[addr] & ATTR_WRITE_WATCH:
            self.watchpoints.hit(addr, value, "write", pc)
        self.state.cycle_limit = 0  # a device may have a new event: let the next guard leave

    def code_write(self, addr: int, pc: int) -> None:
        """A store to a byte of translated code, or one watched for writes, by the instruction at ``pc``."""
        attr = self.attrs_view[addr]
        if attr & ATTR_WRITE_WATCH:
            self.watchpoints.hit(addr, self.memory_view[addr], "write", pc)
        if attr & ATTR_CODE:
            self.listener.code_write(addr)

    def write(self, text: str) -> None:
        """Write the guest's text output (TST27's PRINT); a failing stream is a ``StreamError``."""
        write_output(self.output, text)

    # --- interrupts ----------------------------------------------------------------------------
    def irq(self, level: bool = True) -> None:
        """Set the IRQ input line (level-triggered; masked by the guest's interrupt flag)."""
        self.irq_line = bool(level)
        self.state.events = self.irq_line

    def nmi(self) -> None:
        """Pulse the NMI input line (edge-triggered, not maskable)."""
        self.nmi_pending = True
        self.state.events = 1

    def events(self) -> str | None:
        """Bring devices up to date; set the budget and flag compiled code checks (the next
        device deadline, an interrupt pending); return the interrupt to take now, if any."""
        st = self.state
        for timer in self.timers:
            timer.advance(st.cycles)
        irq = self.irq_line or any(t.pending for t in self.timers)
        st.events = irq or self.nmi_pending
        deadlines = [t.deadline for t in self.timers if t.deadline is not None]
        st.cycle_limit = min([*deadlines, self.cycle_target])
        if self.nmi_pending:
            return "nmi"
        if irq and not self.frontend.irq_masked(st):
            return "irq"
        return None

    def acknowledge(self, kind: str) -> None:
        """The CPU takes the interrupt ``kind``: an NMI edge is consumed (IRQ is a level)."""
        if kind == "nmi":
            self.nmi_pending = False

"""ROM-routine hooks: a 6502 monitor ROM's character routines done in Python, so programs that
call them (Microsoft BASIC for OSI and KIM-1, fig-FORTH) run without the ROM.  A hook runs
when execution reaches its address and returns as RTS would (``Emulator.hook``): compiled code
ends at the address, so the hook costs nothing anywhere else."""

from __future__ import annotations

from collections.abc import Callable

from recomp.machines.devices import Keyboard
from recomp.runtime.devices import write_output
from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import EndRun
from recomp.runtime.result import Stop


def pop(emulator: Emulator) -> int:
    """Pull a byte off the 6502 stack."""
    st = emulator.state
    st.s = (st.s + 1) & 0xFF
    return emulator.memory[0x100 | st.s]


def return_from_subroutine(emulator: Emulator) -> None:
    """What RTS does: the pc from the stack, plus one."""
    low = pop(emulator)
    emulator.state.pc = (pop(emulator) << 8 | low) + 1 & 0xFFFF


def routines(keyboard: Keyboard) -> dict[str, Callable[[Emulator], None]]:
    """The actions ``--hook ADDR=ACTION`` names, with the keyboard their input comes from."""

    def putc(emulator: Emulator) -> None:
        write_output(emulator.output, bytes((emulator.state.a,)))

    def getc(emulator: Emulator) -> None:
        emulator.state.a = keyboard.next()

    def getc_nowait(emulator: Emulator) -> None:
        key = keyboard.take()
        if key is None:
            keyboard.waiting(emulator.cycles)
        emulator.state.a = key or 0

    def exit(emulator: Emulator) -> None:
        raise EndRun(Stop.EXIT, emulator.state.a)

    def rts(emulator: Emulator) -> None:
        pass

    actions = {"putc": putc, "getc": getc, "getc-nowait": getc_nowait, "exit": exit, "rts": rts}
    return {name: _returning(action) for name, action in actions.items()}


def _returning(action: Callable[[Emulator], None]) -> Callable[[Emulator], None]:
    def hook(emulator: Emulator) -> None:
        action(emulator)
        return_from_subroutine(emulator)

    hook.__doc__ = action.__name__
    return hook


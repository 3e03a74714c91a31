"""Guest state and memory as ctypes objects, shared by both engines (compiled code gets pointers),
and the state as the API hands it out: every value written checked to fit."""

from __future__ import annotations

import ctypes
import operator
from collections.abc import Callable

from recomp.frontends.base import ComputedField
from recomp.ir.guest import GuestSpec

_CTYPES = {8: ctypes.c_uint8, 16: ctypes.c_uint16, 32: ctypes.c_uint32, 64: ctypes.c_uint64}
_STRUCTS: dict[str, type[ctypes.Structure]] = {}

UNLIMITED = (1 << 63) - 1  # the limit when no instruction budget is set


def state_struct(guest: GuestSpec, computed: dict[str, ComputedField] | None = None) -> type[ctypes.Structure]:
    """The ctypes Structure of a guest's state; same layout as the backend's LLVM struct.
    ``computed`` adds fields made of others (the 6502's packed status byte ``p``)."""
    if guest.name not in _STRUCTS:
        fields = [(name, _CTYPES[t.bits]) for name, t in guest.fields()]
        properties = {name: property(f.get, f.set) for name, f in (computed or {}).items()}
        _STRUCTS[guest.name] = type(f"{guest.name.capitalize()}State", (ctypes.Structure,),
                                    {"_fields_": fields, **properties})
    return _STRUCTS[guest.name]


def writable_fields(guest: GuestSpec, computed: dict[str, ComputedField]) -> dict[str, int]:
    """What users may set of a guest's state, and the largest value each takes: the pc (an
    address in memory), the registers, the computed fields, the flags (0 or 1), the counters."""
    return {"pc": guest.memory_size - 1, **{name: (1 << t.bits) - 1 for name, t in guest.registers.items()},
            **{name: (1 << f.bits) - 1 for name, f in computed.items()}, **dict.fromkeys(guest.flags, 1),
            "instructions": UNLIMITED, "cycles": UNLIMITED}


class StateView:
    """``Emulator.state``: the guest's registers, flags, pc and counters.  Any field reads as it
    is; a write must be one of ``writable_fields`` and fit it (``ValueError`` otherwise: ctypes
    would cut ``a = 0x1FF`` to ``0xFF`` silently, and a pc outside memory would crash compiled
    code), and is refused while another thread runs the machine (``check``)."""

    __slots__ = ("_check", "_limits", "_state")

    def __init__(self, state: ctypes.Structure, limits: dict[str, int], check: Callable[[str], None]) -> None:
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_limits", limits)
        object.__setattr__(self, "_check", check)

    def __getattr__(self, name: str) -> int:
        return getattr(self._state, name)

    def __setattr__(self, name: str, value: int) -> None:
        top = self._limits.get(name)
        if top is None:
            raise AttributeError(f"{name!r} is not a register, flag, pc or counter that can be set "
                                 f"(those are: {', '.join(self._limits)})")
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} takes an integer, not {type(value).__name__}") from None
        if not 0 <= value <= top:
            raise ValueError(f"{name} is from 0 to {top:#x}: {value:#x} does not fit")
        self._check(f"set {name}")
        setattr(self._state, name, value)

    def __dir__(self) -> list[str]:
        return [name for name, _ in type(self._state)._fields_] + [n for n in self._limits if n not in dir(object)]

    def __repr__(self) -> str:
        return "State(" + ", ".join(f"{name}={getattr(self._state, name):#x}" for name in self._limits) + ")"

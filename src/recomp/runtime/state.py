"""Guest state and memory as ctypes objects, shared by both engines (compiled code gets pointers)."""

from __future__ import annotations

import ctypes

from recomp.ir.guest import GuestSpec

_CTYPES = {8: ctypes.c_uint8, 16: ctypes.c_uint16, 32: ctypes.c_uint32, 64: ctypes.c_uint64}
_STRUCTS: dict[str, type[ctypes.Structure]] = {}

UNLIMITED = (1 << 63) - 1  # the limit when no instruction budget is set


def state_struct(guest: GuestSpec, properties: dict[str, property] | None = None
                 ) -> type[ctypes.Structure]:
    """The ctypes Structure of a guest's state; same layout as the backend's LLVM struct.
    ``properties`` adds computed fields (the 6502's packed status byte ``p``)."""
    if guest.name not in _STRUCTS:
        fields = [(name, _CTYPES[t.bits]) for name, t in guest.fields()]
        _STRUCTS[guest.name] = type(f"{guest.name.capitalize()}State", (ctypes.Structure,),
                                    {"_fields_": fields, **(properties or {})})
    return _STRUCTS[guest.name]

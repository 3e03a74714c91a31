"""The machines by name (``recomp run --machine NAME``; ``recomp machines`` lists them)."""

from __future__ import annotations

from recomp.machines.apple1 import Apple1
from recomp.machines.bare import Bare
from recomp.machines.base import MachineType, Settings
from recomp.machines.easy6502 import Easy6502
from recomp.machines.sim65 import Sim65

MACHINES: dict[str, type[MachineType]] = {m.name: m for m in (Bare, Sim65, Apple1, Easy6502)}


class UnknownMachine(ValueError):
    pass


def get_machine(name: str) -> MachineType:
    """A new machine of the kind ``name``."""
    try:
        return MACHINES[name]()
    except KeyError:
        raise UnknownMachine(f"unknown machine {name!r} (choose from {', '.join(MACHINES)})") from None


__all__ = ["MACHINES", "MachineType", "Settings", "UnknownMachine", "get_machine"]

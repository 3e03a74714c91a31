"""Machines: the computers recomp can be — devices, memory map, loading and how a run is
driven — built on the runtime's ``Emulator`` (``recomp run --machine NAME``; ``recomp machines``
lists them).

The registry (``recomp.machines.registry``) is imported when first asked for: the command
line's light commands import this package's loaders, not every machine and the run loop they
bring (0.02 to 0.03 s of every such process)."""

from __future__ import annotations

from typing import Any

_REGISTRY = ("MACHINES", "MachineType", "Settings", "UnknownMachine", "get_machine")


def __getattr__(name: str) -> Any:
    if name in _REGISTRY:
        from recomp.machines import registry

        return getattr(registry, name)
    raise AttributeError(name)


__all__ = list(_REGISTRY)

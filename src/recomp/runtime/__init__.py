"""Running guest code: the machine, the translation pipeline, translations and tiers, the code
cache, the run loop (``Emulator``) and the reference engine.

``Emulator`` is imported when first asked for: the command line's light commands (``recomp
--version``, help) import parts of this package (errors, addresses) and not the run loop with
everything it brings (0.02 to 0.03 s of every such process)."""

from __future__ import annotations

from typing import Any

from recomp.runtime.errors import GuestFault, LoadError, RecompError
from recomp.runtime.options import ENGINES
from recomp.runtime.result import RunResult, Stop


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from recomp.runtime.emulator import Emulator

        return Emulator
    raise AttributeError(name)


__all__ = ["ENGINES", "Emulator", "GuestFault", "LoadError", "RecompError", "RunResult", "Stop"]

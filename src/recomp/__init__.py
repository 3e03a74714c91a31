"""recomp: a dynamic recompiler from guest machine code through icode and LLVM to host code.

``recomp.Emulator(cpu="6502" | "6502-documented" | "65c02" | "tst27", engine="jit" | "interp",
optimize=True)`` is the public entry point; see README.md.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    if name in ("Emulator", "RunResult", "Stop"):
        import recomp.runtime

        return getattr(recomp.runtime, name)
    raise AttributeError(name)


__all__ = ["Emulator", "RunResult", "Stop", "__version__"]

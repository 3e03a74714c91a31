"""Compiled code as the runtime holds it, however it was made (by the JIT now, or loaded from an
object file made earlier): an entry point, and what keeps its code in memory.  No LLVM here, so
that code from the code cache runs without loading LLVM (``recomp.backend.loader``)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

# (state, memory, attrs, entries) -> Exit; see recomp.backend.lower
REGION_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_int32, *[ctypes.c_void_p] * 4)


@dataclass
class Compiled:
    """A compiled region (or native interpreter): its entry point and what it took to make it."""

    function: ctypes._CFuncPtr
    address: int
    name: str
    optimized_ir: str  # the LLVM IR after the pass pipeline, where it was asked for
    seconds: float
    memory: object  # kept: the code lives as long as this (a JIT arena, or pages of its own)
    object: bytes  # the object file MCJIT made (for the code cache, and to find the code's size)

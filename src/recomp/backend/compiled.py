"""Compiled code as the runtime holds it, however it was made (by the JIT now, or loaded from an
object file made earlier): an entry point, and what keeps its code in memory.  No LLVM here, so
that code from the code cache runs without loading LLVM (``recomp.backend.loader``)."""

from __future__ import annotations

import ctypes

# (state, memory, attrs, entries) -> Exit; see recomp.backend.lower
REGION_FUNCTION = ctypes.CFUNCTYPE(ctypes.c_int32, *[ctypes.c_void_p] * 4)


class Compiled:
    """A compiled region (or native interpreter): its entry point and what it took to make it:
    ``optimized_ir``, the LLVM IR after the pass pipeline, where it was asked for; ``memory``,
    kept: the code lives as long as this (a JIT arena, or pages of its own); ``object``, the
    object file MCJIT made (for the code cache, and to find the code's size).  (A plain class,
    weakly referenced by the linker: see ``recomp.ir.core``.)"""

    def __init__(self, function: ctypes._CFuncPtr, address: int, name: str, optimized_ir: str, seconds: float,
                 memory: object, object: bytes) -> None:
        self.function = function
        self.address = address
        self.name = name
        self.optimized_ir = optimized_ir
        self.seconds = seconds
        self.memory = memory
        self.object = object
        self.quiet: frozenset[int] = frozenset()  # pages it accesses without consulting attributes

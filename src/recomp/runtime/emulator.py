"""The machine a guest program runs on: memory, state, translation cache and the dispatch loop.

Execution is a loop over regions: look the guest pc up in the translation cache (lifting,
optimizing and compiling on a miss), run the region until it leaves, act on why it left.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from recomp.frontends import Frontend, get_frontend
from recomp.frontends.base import DecodeError
from recomp.frontends.region import REGION_INSTRUCTIONS, build_region
from recomp.ir.core import Region
from recomp.ir.ops import Exit
from recomp.ir.verify import verify
from recomp.runtime.errors import GuestFault, LoadError
from recomp.runtime.helpers import RUNNING
from recomp.runtime.state import UNLIMITED, state_struct

ENGINES = ("jit", "interp")


@dataclass
class RunResult:
    exit: str  # "halt" or "max-instructions"
    pc: int
    instructions: int


@dataclass
class Stats:
    regions: int = 0  # regions translated
    blocks: int = 0  # blocks in them
    compile_seconds: float = 0.0  # lifting, optimizing and compiling
    run_seconds: float = 0.0  # executing, compile time excluded
    opt: dict[str, dict[str, int]] = field(default_factory=dict)  # per pass: what it removed


@dataclass
class Translation:
    region: Region
    run: Callable[[], int]
    compiled: object = None  # the backend's Compiled, for the JIT


class Emulator:
    """A guest machine; ``engine`` is ``"jit"`` (LLVM) or ``"interp"`` (the reference interpreter)."""

    def __init__(self, frontend: str | Frontend, engine: str = "jit", optimize: bool = True,
                 passes: list[str] | None = None, output: TextIO | None = None,
                 region_instructions: int = REGION_INSTRUCTIONS) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
        self.frontend = get_frontend(frontend) if isinstance(frontend, str) else frontend
        self.guest = self.frontend.guest
        self.engine = engine
        self.optimize = optimize
        self.passes = passes
        self.output = output if output is not None else sys.stdout
        self.region_instructions = region_instructions
        self.state = state_struct(self.guest)()
        self.memory = (ctypes.c_uint8 * self.guest.memory_size)()
        self.memory_view = memoryview(self.memory).cast("B")
        self.loaded_end = 0
        self.stats = Stats()
        self.cache: dict[tuple[int, bool, bool], Translation] = {}
        self.pending_error: BaseException | None = None

    # --- loading -------------------------------------------------------------------------
    def load(self, data: bytes, at: int = 0) -> None:
        size = self.guest.memory_size
        if not data:
            raise LoadError("the program is empty")
        if not 0 <= at < size:
            raise LoadError(f"load address {at:#06x} is outside memory (0x0000..{size - 1:#06x})")
        if at + len(data) > size:
            raise LoadError(f"the program is {len(data)} bytes; only {size - at} fit in memory "
                            f"from {at:#06x}")
        self.memory_view[at:at + len(data)] = data
        self.loaded_end = max(self.loaded_end, at + len(data))
        self.cache.clear()

    @property
    def instructions(self) -> int:
        return self.state.instructions

    @property
    def cycles(self) -> int:
        return self.state.cycles

    # --- translation ---------------------------------------------------------------------
    def lift(self, pc: int, single: bool = False) -> Region:
        """The icode region at ``pc`` as lifted, before optimization."""
        limit = 1 if single else self.region_instructions
        region = build_region(self.frontend, self.memory_view, pc, self.loaded_end, limit)
        verify(region, self.guest)
        return region

    def optimized(self, region: Region) -> Region:
        """The region after the optimizer (unchanged when optimization is off)."""
        if not self.optimize:
            return region
        from recomp.opt import optimize

        stats = optimize(region, self.guest, self.passes)
        for name, counts in stats.items():
            total = self.stats.opt.setdefault(name, {})
            for key, n in counts.items():
                total[key] = total.get(key, 0) + n
        return region

    def translate(self, pc: int, single: bool = False, guards: bool = True) -> Translation:
        key = (pc, single, guards)
        translation = self.cache.get(key)
        if translation is None:
            start = time.perf_counter()
            region = self.optimized(self.lift(pc, single))
            if self.engine == "jit":
                translation = self._compile(region, guards)
            else:
                from recomp.runtime.interp import InterpretedRegion

                translation = Translation(region, InterpretedRegion(region, self))
            self.cache[key] = translation
            self.stats.regions += 1
            self.stats.blocks += len(region.blocks)
            self.stats.compile_seconds += time.perf_counter() - start
        return translation

    def _compile(self, region: Region, guards: bool) -> Translation:
        from recomp.backend.jit import jit
        from recomp.runtime.helpers import register_helpers

        register_helpers(self.frontend)
        compiled = jit().compile(region, self.guest, guards)
        function = compiled.function
        state, memory = ctypes.addressof(self.state), ctypes.addressof(self.memory)
        return Translation(region, lambda: function(state, memory), compiled)

    # --- execution -----------------------------------------------------------------------
    def run(self, max_instructions: int | None = None) -> RunResult:
        """Run until the guest halts or ``max_instructions`` more instructions have run."""
        st = self.state
        st.limit = UNLIMITED if max_instructions is None else st.instructions + max_instructions
        guards = max_instructions is not None
        compile_before = self.stats.compile_seconds
        start = time.perf_counter()
        single = False
        RUNNING.append(self)
        try:
            while True:
                reason = self.translate(st.pc, single, guards).run()
                single = False
                if self.pending_error is not None:
                    error, self.pending_error = self.pending_error, None
                    raise error
                if reason == Exit.JUMP:
                    if st.instructions >= st.limit:
                        return RunResult("max-instructions", st.pc, st.instructions)
                    continue
                if reason == Exit.HALT:
                    return RunResult("halt", st.pc, st.instructions)
                if reason == Exit.FAULT:
                    raise self._fault(st.pc)
                if st.instructions >= st.limit:  # Exit.GUARD with the budget spent
                    return RunResult("max-instructions", st.pc, st.instructions)
                single = True  # some budget left, less than the block: one instruction at a time
        finally:
            RUNNING.pop()
            elapsed = time.perf_counter() - start
            self.stats.run_seconds += elapsed - (self.stats.compile_seconds - compile_before)

    def step(self) -> RunResult:
        """Run exactly one guest instruction."""
        return self.run(max_instructions=1)

    def _fault(self, pc: int) -> GuestFault:
        try:
            self.frontend.decode(self.memory_view, pc, self.loaded_end)
        except DecodeError as error:
            return GuestFault(error.addr, error.message)
        return GuestFault(pc, "instruction could not be executed")

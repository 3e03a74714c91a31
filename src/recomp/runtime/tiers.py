"""Tiering: which tier runs the code at a guest address, and when code moves up.

- **Compiled code** (LLVM), loaded from the code cache when it holds code for these bytes, or
  compiled when code is hot (or at once, with ``jit_threshold=0``).
- **The native tier**: for guests that hand the backend their opcodes' icode
  (``Frontend.opcode_lifts``), cold code runs on the native interpreter, compiled once per
  process (or loaded from the code cache).  It counts the instructions run from each control
  transfer's target and returns ``Exit.HOT`` at a target that ran ``HOT_INSTRUCTIONS``; the
  region there is then compiled (``promote``).
- **The Python tier**: for other guests (or ``native_interpreter=False``), a region runs on the
  reference engine until entered ``jit_threshold`` times, or looping ``HOT_BLOCKS`` times in one
  entry, then is compiled.  The ``interp`` engine runs everything on the reference engine.

Single steps and interrupt entries never come from the code cache or the native interpreter.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from recomp.frontends.base import Frontend
from recomp.ir.core import Region
from recomp.runtime.cached_code import CachedCode, jit_context
from recomp.runtime.code_cache import CodeCache, Record, digest, source_digest
from recomp.runtime.entry_table import EntryTable
from recomp.runtime.keys import InterruptKey, Key, TranslationKey
from recomp.runtime.machine import Machine
from recomp.runtime.options import Options
from recomp.runtime.pipeline import Lifted, Pipeline
from recomp.runtime.reference import ReferenceRegion
from recomp.runtime.stats import Stats
from recomp.runtime.translations import Translation, Translations

if TYPE_CHECKING:
    from recomp.backend.jit import Compiled

JIT_THRESHOLD = 8  # region entries the Python tier runs before LLVM compiles the region
HOT_BLOCKS = 256  # ... or block transitions within one entry (a loop inside the region)
# guest instructions run from one transfer target (up to the next transfer) before the native
# tier compiles a region there: a million, 3 ms of the native interpreter, against the 30 to 80
# ms LLVM takes for a region; code that ran that long is a loop likely to run much longer, and
# Klaus Dormann's functional test (30 million instructions, no such loop) runs without compiling
HOT_INSTRUCTIONS = 1 << 20


class Tiers:
    def __init__(self, machine: Machine, options: Options, pipeline: Pipeline, translations: Translations,
                 entry_table: EntryTable, cached_code: CachedCode | None, stats: Stats) -> None:
        self.machine = machine
        self.options = options
        self.pipeline = pipeline
        self.translations = translations
        self.entry_table = entry_table
        usable = cached_code is not None and cached_code.usable and options.engine == "jit"
        self.cached_code = cached_code if usable else None
        self.stats = stats
        frontend = machine.frontend
        threshold = options.jit_threshold if options.jit_threshold is not None else frontend.jit_threshold
        self.threshold = JIT_THRESHOLD if threshold is None else threshold
        # cold code runs on the native interpreter: under a tiered JIT, for guests that have one
        self.native = (options.engine == "jit" and self.threshold > 0 and options.native_interpreter
                       and frontend.native_interpreter)
        # (stops checked, traced) -> the native interpreter variant
        self._interpreters: dict[tuple[bool, bool], Translation] = {}
        self._pointers = [ctypes.addressof(x) for x in (machine.state, machine.ram, machine.attrs,
                                                        entry_table.slots)]

    # --- the start of a run ----------------------------------------------------------------------
    def prepare(self, guards: bool) -> None:
        """Fill the entry table for this run's guard mode; at a warm start, link every compiled
        region the code cache holds for the bytes in memory now, before the native interpreter
        would find them hot."""
        if guards != self.entry_table.guards:
            self.translations.relink(guards)
        if self.cached_code is None:
            return
        start = time.perf_counter()
        for key in self.cached_code.preload(guards):
            if self.translations.get(key) is None:
                translation = self._from_code_cache(key)
                if translation is not None:
                    self.translations.add(key, translation)
        self.stats.compile_seconds += time.perf_counter() - start

    # --- a miss ----------------------------------------------------------------------------------
    def translation(self, key: TranslationKey) -> Translation:
        """The translation to run at ``key`` (the run loop found none): code from the code cache,
        else the native interpreter (cold code), else the region lifted, on the Python tier or
        compiled."""
        return self._translate(key, lambda: self.pipeline.lift(key.pc, key.single), self.pipeline.entry_facts())

    def interrupt(self, kind: str) -> Translation:
        """The code that takes interrupt ``kind`` now."""
        pc = self.machine.state.pc
        key = InterruptKey(kind, pc)
        return self.translations.get(key) or self._translate(key, lambda: self.pipeline.lift_interrupt(kind, pc))

    def promote(self, pc: int, guards: bool) -> None:
        """The native interpreter found ``pc`` hot: compile the region there."""
        key = self.translations.key(pc, False, guards)
        self.stats.event(f"promote   {self._where(pc)}: hot on the native interpreter")
        self.translations.discard(key, self.native_interpreter())
        if self.translations.get(key) is None:
            self._translate(key, lambda: self.pipeline.lift(pc), self.pipeline.entry_facts(), compile=True)

    def _translate(self, key: Key, lift: Callable[[], Lifted], entry: dict[str, int] | None = None,
                   compile: bool = False) -> Translation:
        start = time.perf_counter()
        translation = self.translations.revive(key)
        if translation is not None:
            self.stats.compile_seconds += time.perf_counter() - start
            return translation
        translation = None if key.single else self._from_code_cache(key)
        if translation is None and not (key.single or compile) and self.native:
            translation = self.native_interpreter()
        if translation is None:
            lifted = self.pipeline.translate(lift(), key.single, entry)
            if self.options.engine == "jit" and (self.threshold == 0 or compile):
                translation = self._compile(key, lifted)
            else:
                translation = self._python_tier(key, lifted)
        self.translations.add(key, translation)
        self.stats.compile_seconds += time.perf_counter() - start
        return translation

    # --- the tiers -------------------------------------------------------------------------------
    def native_interpreter(self) -> Translation:
        """The native interpreter, as the translation of every cold address (the variant that
        checks for stop addresses once the run has any, and the one that records while a trace
        is on)."""
        variant = (bool(self.entry_table.stops), self.machine.trace is not None)
        if variant not in self._interpreters:
            start = time.perf_counter()
            cache = self.cached_code.cache if self.cached_code is not None else None
            compiled = native_interpreter(self.machine.frontend, *variant, cache)
            self._interpreters[variant] = self._native(None, set(), compiled)
            self.stats.interpreter_seconds += time.perf_counter() - start
            kinds = ", ".join(kind for kind, on in zip(("checking stops", "tracing"), variant) if on)
            self.stats.event(f"interpreter: the native interpreter{f' ({kinds})' if kinds else ''} "
                             f"ready in {(time.perf_counter() - start) * 1e3:.1f} ms")
        return self._interpreters[variant]

    def stops_set(self) -> None:
        """Runs have a stop address now: cold code moves to the native interpreter that checks
        for them (the one that does not is taken out wherever it stood for cold code)."""
        for traced in (False, True):
            unchecked = self._interpreters.get((False, traced))
            if unchecked is not None:
                self.translations.evict_all(unchecked)

    def _where(self, pc: int) -> str:
        return self.machine.frontend.format_address(pc)

    def _python_tier(self, key: Key, lifted: Lifted) -> Translation:
        """The region on the reference engine; under the JIT, a first tier that compiles the
        region once it has been entered ``threshold`` times or loops ``HOT_BLOCKS`` times in one
        entry (cold code never pays LLVM's cost)."""
        entered, pc = self.entry_table.entered, lifted.region.entry  # (entries counted as compiled code counts them)
        if self.options.engine != "jit":
            interpreted = ReferenceRegion(lifted.region, self.machine)

            def run() -> int:
                entered[pc] += 1
                return interpreted()
            return Translation(lifted.region, run, lifted.covers)
        interpreted = ReferenceRegion(lifted.region, self.machine, hot_blocks=HOT_BLOCKS)
        entries = 0

        def run() -> int:
            nonlocal entries
            entries += 1
            if (entries >= self.threshold or interpreted.hot) and self.translations.get(key) is translation:
                start = time.perf_counter()
                compiled = self._compile(key, lifted)
                self.translations.add(key, compiled)
                self.stats.compile_seconds += time.perf_counter() - start
                return compiled.run()
            entered[pc] += 1
            return interpreted()

        translation = Translation(lifted.region, run, lifted.covers)
        return translation

    def _compile(self, key: Key, lifted: Lifted) -> Translation:
        """Compile with LLVM (and file the code in the code cache); a single step or interrupt
        entry does not chain: the runtime must see it end."""
        compiled = self.pipeline.compile(lifted.region, key.guards, chain=not key.single)
        instructions = sum(op.name == "insn" for op in lifted.region.ops())
        self.stats.event(f"compile   {self._where(lifted.region.entry)}: {instructions} instructions, "
                         f"{len(lifted.region.blocks)} blocks, LLVM {compiled.seconds * 1e3:.1f} ms")
        if not key.single and self.cached_code is not None and self.cached_code.file(key, compiled, lifted.covers):
            self.stats.cache_stores += 1
        return self._native(lifted.region, lifted.covers, compiled)

    def _from_code_cache(self, key: TranslationKey) -> Translation | None:
        """The translation for ``key`` from the code cache, if it holds code for these bytes."""
        if self.cached_code is None:
            return None
        start = time.perf_counter()
        found = self.cached_code.load(key)
        self.stats.cache_seconds += time.perf_counter() - start
        if found is None:
            return None
        self.stats.cache_hits += 1
        self.stats.event(f"cached    {self._where(key.pc)}: loaded from the code cache")
        compiled, covers = found
        return self._native(None, covers, compiled)

    def _native(self, region: Region | None, covers: set[int], compiled: Compiled) -> Translation:
        function, pointers = compiled.function, self._pointers
        return Translation(region, lambda: function(*pointers), covers, compiled)


_NATIVE_INTERPRETERS: dict[tuple[str, bool, bool], Compiled] = {}  # compiled once per process


def native_interpreter(frontend: Frontend, stops: bool, trace: bool, cache: CodeCache | None) -> Compiled:
    """The frontend's native interpreter (``stops``: the variant that returns before stop
    addresses; ``trace``: the one that records each instruction), compiled once per process and
    kept in the code cache if there is one."""
    key = (frontend.guest.name, stops, trace)
    if key not in _NATIVE_INTERPRETERS:
        from recomp.backend.jit import jit

        guest = frontend.guest
        context = digest(source_digest(), jit_context(), guest.name, HOT_INSTRUCTIONS)
        entry = "interpreter" + "-stops" * stops + "-trace" * trace
        record = cache.find(context, entry, b"") if cache is not None else None
        if record is not None:
            compiled = jit().load(record.name, record.object, keep=True)
        else:
            compiled = jit().native_interpreter(frontend.opcode_lifts(), guest, HOT_INSTRUCTIONS, stops, trace)
            if cache is not None:
                cache.store(context, entry, Record(compiled.name, {}, compiled.object))
        _NATIVE_INTERPRETERS[key] = compiled
    return _NATIVE_INTERPRETERS[key]

"""Tiering: which tier runs the code at a guest address, and when code moves up.

- **Compiled code** (LLVM), loaded from the code cache when it holds code for these bytes, or
  compiled when code is hot (or at once, with ``jit_threshold=0``).
- **The native tier**: for guests that hand the backend their opcodes' icode
  (``Frontend.opcode_lifts``), cold code runs on the native interpreter (built when recomp was
  installed: see ``recomp.runtime.interpreters``).  It counts the instructions run from each
  control transfer's target and returns ``Exit.HOT`` at a target that ran
  ``interpreters.HOT_INSTRUCTIONS``; the region there is then compiled (``promote``) on a
  thread of its own (``recomp.runtime.background``) while the native interpreter goes on
  running it; the run loop ``publish``es the code when it is ready, if memory still holds the
  bytes it was made from and nothing it assumed (stops, watchpoints, a trace) has changed.
- **The Python tier**: for other guests (or ``native_interpreter=False``), a region runs on the
  reference engine until entered ``jit_threshold`` times, or looping ``HOT_BLOCKS`` times in one
  entry, then is compiled, at once.  The ``interp`` engine runs everything on the reference
  engine.

Single steps and interrupt entries never come from the code cache or the native interpreter.
"""

from __future__ import annotations

import ctypes
import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from recomp.frontends.region import LOOP_FACTOR
from recomp.ir.core import Region
from recomp.runtime.background import ALL, IN_HAND, LATER, NOTHING, Background
from recomp.runtime.baseline import stitched
from recomp.runtime.cached_code import CachedCode
from recomp.runtime.code_cache import digest
from recomp.runtime.entry_table import EntryTable
from recomp.runtime.interpreters import FIRST_HOT_INSTRUCTIONS, HOT_INSTRUCTIONS, native_interpreter
from recomp.runtime.keys import InterruptKey, Key, TranslationKey
from recomp.runtime.machine import Machine
from recomp.runtime.options import Options
from recomp.runtime.pipeline import Lifted, Pipeline
from recomp.runtime.reference import ReferenceRegion
from recomp.runtime.stats import Stats, add_translations
from recomp.runtime.translations import Translation, Translations

if TYPE_CHECKING:
    from recomp.backend.compiled import Compiled
    from recomp.runtime.code_cache import CodeCache

class Made(NamedTuple):
    """A region the compile thread translated and compiled."""

    lifted: Lifted
    source: dict[int, int]  # the guest bytes it was made from
    compiled: Compiled
    filed: bool  # in the code cache
    stats: Stats  # what translating it counted


JIT_THRESHOLD = 8  # region entries the Python tier runs before LLVM compiles the region
# hot loops at a run's end: the transfer targets looked at, the most run first, of those that ran
# at least 1/LOOP_TARGET_SHARE of the threshold
LOOP_TARGETS = 32
LOOP_TARGET_SHARE = 64
HOT_LOOPS = "hot loops"  # the compile thread's job that looks for them
HOT_BLOCKS = 256  # ... or block transitions within one entry (a loop inside the region)
CALLER_SHARE = 8  # a hot subroutine's caller that ran this share of the threshold is promoted with it


class Tiers:
    def __init__(self, machine: Machine, options: Options, pipeline: Pipeline, translations: Translations,
                 entry_table: EntryTable, cached_code: CachedCode | None, stats: Stats) -> None:
        self.machine = machine
        machine.state.hot = HOT_INSTRUCTIONS  # (until a run says: see ``prepare``)
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
        self.background = Background(self._wake) if options.background and options.engine == "jit" else None
        self._compiling: dict[Key, int] = {}  # compiling in the background -> the epoch then
        # the guest instructions of the hot loop through the entry of each region compiled in
        # the background, while it may run (written by the compile thread once it has lifted;
        # forgotten when code is dropped)
        self._held: dict[Key, frozenset[int]] = {}
        self._held_epoch = translations.epoch
        self._promoted: set[int] = set()  # addresses the native interpreter found hot
        # the note a run's end keeps once it finds no hot loop left (``compile_hot_loops``)
        self._loops_note: str | None = None

    def _wake(self) -> None:
        """(On the compile thread) code is ready: the native interpreter returns to the run loop
        at its next control transfer."""
        self.machine.state.events = 1

    # --- the start of a run ----------------------------------------------------------------------
    def prepare(self, guards: bool) -> None:
        """Fill the entry table for this run's guard mode; at a warm start, link every compiled
        region the code cache holds for the bytes in memory now, before the native interpreter
        would find them hot.  A run that starts with none finds code hot sooner
        (``interpreters.FIRST_HOT_INSTRUCTIONS``)."""
        if guards != self.entry_table.guards:
            self.translations.relink(guards)
        self._loops_note = None
        self.machine.state.hot = FIRST_HOT_INSTRUCTIONS
        if self.cached_code is None:
            return
        start = time.perf_counter()
        loaded = []
        for key in self.cached_code.preload(guards):
            if self.translations.get(key) is None:
                translation = self._from_code_cache(key)
                if translation is not None:
                    self.translations.add(key, translation)
                    loaded.append(key.cache_name())
        if loaded:  # what a run's hot loops depend on: the program, and the code it starts with
            self.machine.state.hot = HOT_INSTRUCTIONS
            program = hashlib.sha256(self.machine.memory_view).hexdigest()
            self._loops_note = "loops-" + digest(program, sorted(loaded))
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
        """The native interpreter found ``pc`` hot: compile the region there (in the background,
        the native interpreter running it meanwhile), and at the return site of the subroutine
        ``pc`` is in if that has run 1/``CALLER_SHARE`` of the threshold: once the subroutine
        runs compiled, its caller would run on the native interpreter until it turned hot on its
        own (mul16's caller, 3 M instructions more).  Both are stitched before either is handed
        to the compile thread, whose Python would take turns with the stitching."""
        hot = self._promote(pc, guards, "hot on the native interpreter")
        st = self.machine.state
        caller = self.machine.frontend.caller(self.machine.memory_view, st)
        called = None
        if caller is not None and caller != pc and self.entry_table.hotness[caller] >= st.hot // CALLER_SHARE:
            current = self.translations.get(self.translations.key(caller, False, guards))
            if current is None or not current.covers:
                why = f"calls {self._where(pc)}, and is warm on the native interpreter"
                called = self._promote(caller, guards, why)
        if hot is not None:
            self._submit(hot)
        if called is not None:
            self._submit(called, behind=True)

    def _promote(self, pc: int, guards: bool, why: str) -> TranslationKey | None:
        """Stitch the region at ``pc``, and return its key for the compile thread; without one,
        compile it now."""
        key = self.translations.key(pc, False, guards)
        if self.background is not None and (key in self.background.waiting or self._held_elsewhere(key)):
            return None
        self.stats.event(f"promote   {self._where(pc)}: {why}")
        self._promoted.add(pc)
        if self.background is not None:
            self.stitch(key)
            return key
        self.translations.discard(key, self.native_interpreter())
        if self.translations.get(key) is None:
            profile = self._profile()
            self._translate(key, lambda: self.pipeline.lift(pc, profile=profile), self.pipeline.entry_facts(),
                            compile=True)
        return None

    def _in_compiled_code(self, pc: int) -> bool:
        """Whether LLVM's code for a region holds ``pc`` (the long sieve's last 40 ms ran at 60 %
        of its speed in code stitched at a return into a loop LLVM's code held)."""
        return any(translation.address is not None and not translation.baseline
                   for key in self.translations.owners.get(pc, ())
                   if (translation := self.translations.get(key)) is not None)

    def compile_hot_loops(self) -> None:
        """At the end of a run that started with code from the code cache (its process's exit
        waits for what compiles): compile, for the next run, the loops that ran
        ``HOT_INSTRUCTIONS`` on the native interpreter as a whole although none of their control
        transfer targets did (cc65's loops run a few instructions between calls, returns and
        branches: lz ran 8.6 M of its 55.7 M instructions on the native interpreter that way).
        The compile thread looks for them (5 to 30 ms) and files their code in the cache, from
        what the run leaves now; a run that finds none keeps a note in the cache, so that runs
        starting from the same program and code do not look again."""
        note, self._loops_note = self._loops_note, None
        background, cached_code = self.background, self.cached_code
        if (background is None or background.at_exit != ALL or not self.native or note is None
                or cached_code is None or cached_code.noted(note)):
            return
        counts = memoryview(bytes(self.entry_table.hotness)).cast("I")
        entries = frozenset(key.pc for key, translation in self.translations if translation.covers)  # (regions')
        pipeline, entry = self.pipeline.frozen(), self.pipeline.entry_facts()
        memory, context = pipeline.sight().memory, cached_code.context()
        modes = self.translations.key(0, False, bool(self.entry_table.guards))  # (the state's, as now)

        def work() -> None:
            loops = []
            if sum(counts) >= HOT_INSTRUCTIONS:  # (else no loop can have run that many)
                least = HOT_INSTRUCTIONS // LOOP_TARGET_SHARE
                targets = sorted((addr for addr, count in enumerate(counts.tolist())
                                  if count >= least and addr not in entries), key=counts.__getitem__, reverse=True)
                loops = pipeline.hot_loops(targets[:LOOP_TARGETS], counts.__getitem__, HOT_INSTRUCTIONS)
            made = 0
            for head, target in loops:
                lifted = pipeline.lift(target, profile=counts.__getitem__, head=head)  # (the loop found again)
                pc = lifted.region.entry  # (the head, unless the region finds no loop through it)
                if pc in entries:  # a region there holds the loop
                    continue
                through = f" (through {self._where(target)})" if target != pc else ""
                self.stats.event(f"loop      {self._where(pc)}: a hot loop on the native interpreter{through}")
                lifted = pipeline.translate(lifted, False, entry)
                compiled = pipeline.compile_later(lifted.region, modes.guards, covers=lifted.covers)()
                filed = cached_code.filer(modes._replace(pc=pc), context)(
                    compiled, {addr: memory[addr] for addr in lifted.covers})
                self._compile_event(lifted, compiled, f", {'filed' if filed else 'not filed'} for the next run")
                made += 1
                if not filed:  # (a cache that cannot be written: the rest would not be either)
                    break
            if not made:
                cached_code.cache.note(context, note)  # the next run with this code finds none either

        background.submit(HOT_LOOPS, work)

    def stitch(self, key: TranslationKey, limit: int | None = None) -> bool:
        """Run the region at ``key`` (up to ``limit`` instructions) as stencils stitched now,
        until LLVM's code takes its place (``recomp.runtime.baseline``); not while a trace
        records (the stencils write none) or a watchpoint is on reads (a stencil would stop only
        at its block's end).  Returns whether it did."""
        machine = self.machine
        if not self.options.baseline or not self.native or machine.trace is not None or machine.watchpoints.reads:
            return False
        start = time.perf_counter()
        made = stitched(machine.frontend, machine.memory_view, key.pc, self.entry_table.stops,
                        self.translations.volatile, limit or LOOP_FACTOR * self.options.region_instructions,
                        self.code_cache(), self._in_compiled_code, self._profile())
        if made is None:
            return False
        compiled, covers, instructions = made
        self.translations.replace(key, self._native(None, covers, compiled, baseline=True))
        seconds = time.perf_counter() - start
        self.stats.stitched += 1
        self.stats.compile_seconds += seconds
        self.stats.event(f"stitch    {self._where(key.pc)}: {instructions} instructions, {seconds * 1e3:.2f} ms")
        return True

    def _submit(self, key: TranslationKey, behind: bool = False) -> None:
        """Translate and compile the region at ``key`` on the compile thread, with a pipeline
        frozen now (unless the queue is full: the code is hot again later).  The thread files
        the code in the code cache as soon as it is made: code still compiling when the process
        exits is finished and kept for the next run.  A region that holds no loop, or one that
        is ``behind``, goes behind the jobs waiting then, once (a first run's exit waits for the
        job in hand if nothing is filed yet: crc32's waited 0.1 s for its caller's region)."""
        pipeline, entry, profile = self.pipeline.frozen(), self.pipeline.entry_facts(), self._profile()
        memory = pipeline.sight().memory
        file = self.cached_code.filer(key) if self.cached_code is not None else None

        lifted: Lifted | None = None
        deferred = False

        def work() -> Made | object | None:
            nonlocal lifted, deferred
            if behind and not deferred and self.background.others_waiting():
                deferred = True
                return LATER
            if lifted is None:
                if self._held_elsewhere(key):
                    return None
                lifted = pipeline.translate(pipeline.lift(key.pc, profile=profile), False, entry)
                self._held[key] = lifted.loop
                if not lifted.loop and not deferred and self.background.others_waiting():
                    return LATER  # a loop's region first: it runs most
            compiled = pipeline.compile_later(lifted.region, key.guards, covers=lifted.covers)()
            pipeline.count(compiled)
            source = {addr: memory[addr] for addr in lifted.covers}
            filed = file is not None and file(compiled, source)
            if filed and self.background.at_exit == IN_HAND:  # the next run finds code, and compiles the rest:
                self.background.at_exit = NOTHING  # this one need not wait for it at its exit
            return Made(lifted, source, compiled, filed, pipeline.stats)

        self._compiling[key] = self.translations.epoch
        if not self.background.submit(key, work):
            del self._compiling[key]

    def _profile(self) -> Callable[[int], int]:
        """How many instructions the native interpreter has run from each address, as now; an
        address it found hot (its counter then started again) counts as hot as that."""
        counts = memoryview(bytes(self.entry_table.hotness)).cast("I")
        promoted = frozenset(self._promoted)
        return lambda addr: max(counts[addr], HOT_INSTRUCTIONS) if addr in promoted else counts[addr]

    def _held_elsewhere(self, key: TranslationKey) -> bool:
        """Whether another region compiled in the background holds the code at ``key`` in the hot
        loop through its entry: while a loop compiles, the native interpreter finds more of its
        addresses hot, and each would be compiled into a region holding the same loop; code
        entered there reaches the region's entry within one time round.  (On either thread.)"""
        if self._held_epoch != self.translations.epoch:  # code was dropped: what holds what is unknown
            self._held.clear()
            self._held_epoch = self.translations.epoch
        mode = key._replace(pc=0)
        return any(key.pc in held for other, held in list(self._held.items())
                   if other != key and other._replace(pc=0) == mode)

    def publish(self) -> None:
        """Put the code the compile thread has finished into the run, where it still fits: memory
        holds the bytes it was made from, nothing it assumed has changed, and no other code has
        taken its place meanwhile.  (On the run loop's thread, between translations.)"""
        self.machine.events()  # (the compile thread's ``_wake`` set ``events``)
        for done in self.background.take():
            if done.error is not None:
                raise done.error
            if done.key == HOT_LOOPS:  # (code for the next run)
                continue
            key, epoch = done.key, self._compiling.pop(done.key)
            made: Made | None = done.result
            if made is None:
                self.stats.event(f"skipped   {self._where(key.pc)}: in a region compiled meanwhile")
                continue
            add_translations(self.stats, made.stats)
            self.stats.cache_stores += made.filed
            memory, current = self.machine.memory_view, self.translations.get(key)
            if epoch != self.translations.epoch or any(memory[addr] != value for addr, value in made.source.items()):
                self.stats.event(f"stale     {self._where(key.pc)}: changed while it compiled, not used")
            elif (current is None or current.address is None or current.baseline
                  or any(current is i for i in self._interpreters.values())):
                self.translations.replace(key, self._compiled(made.lifted, made.compiled))
                continue
            self._held.pop(key, None)  # not used: its loop's addresses may be compiled from again

    def finish(self) -> None:
        """Wait for the code compiling in the background, and put it into the run."""
        if self.background is not None:
            self.background.wait()
            self.publish()

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
    def code_cache(self) -> CodeCache | None:
        """The code cache the machine uses, if any."""
        return self.cached_code.cache if self.cached_code is not None else None

    def native_interpreter(self) -> Translation:
        """The native interpreter, as the translation of every cold address (the variant that
        checks for stop addresses once the run has any, and the one that records while a trace
        is on)."""
        variant = (bool(self.entry_table.stops), self.machine.trace is not None)
        if variant not in self._interpreters:
            start = time.perf_counter()
            compiled = native_interpreter(self.machine.frontend, *variant, self.code_cache())
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
        entry (cold code never pays LLVM's cost).  At once, not in the background: the reference
        engine runs a thousand times slower than compiled code, so waiting is cheaper."""
        pc = lifted.region.entry  # (entries counted as compiled code counts them)
        if self.options.engine != "jit":
            interpreted = ReferenceRegion(lifted.region, self.machine)

            def run() -> int:
                self.entry_table.enter(pc, self.machine.state.instructions, self.machine.state.cycles)
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
            self.entry_table.enter(pc, self.machine.state.instructions, self.machine.state.cycles)
            return interpreted()

        translation = Translation(lifted.region, run, lifted.covers)
        return translation

    def _compile(self, key: Key, lifted: Lifted) -> Translation:
        """Compile with LLVM now (and file the code in the code cache); a single step or
        interrupt entry does not chain: the runtime must see it end."""
        compiled = self.pipeline.compile(lifted.region, key.guards, chain=not key.single, covers=lifted.covers)
        if not key.single and self.cached_code is not None and self.cached_code.file(key, compiled, lifted.covers):
            self.stats.cache_stores += 1
        return self._compiled(lifted, compiled)

    def _compiled(self, lifted: Lifted, compiled: Compiled) -> Translation:
        """The translation of a region LLVM compiled."""
        self._compile_event(lifted, compiled)
        return self._native(lifted.region, lifted.covers, compiled)

    def _compile_event(self, lifted: Lifted, compiled: Compiled, more: str = "") -> None:
        instructions = sum(op.name == "insn" for op in lifted.region.ops())
        self.stats.event(f"compile   {self._where(lifted.region.entry)}: {instructions} instructions, "
                         f"{len(lifted.region.blocks)} blocks, LLVM {compiled.seconds * 1e3:.1f} ms{more}")

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
        if self.background is not None:  # the program ran before: its cache is to hold all its hot code
            self.background.at_exit = ALL
        self.stats.event(f"cached    {self._where(key.pc)}: loaded from the code cache")
        compiled, covers = found
        compiled.quiet = self.pipeline.quiet_pages(covers)  # (as the context says it was made)
        return self._native(None, covers, compiled)

    def _native(self, region: Region | None, covers: set[int], compiled: Compiled, baseline: bool = False
                ) -> Translation:
        function, pointers = compiled.function, self._pointers
        return Translation(region, lambda: function(*pointers), covers, compiled, baseline=baseline)

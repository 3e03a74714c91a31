"""The machine a guest program runs on: memory, state, devices, interrupt lines, the translation
cache and the dispatch loop.

Execution is a loop over regions: at each boundary deliver due events (device timers,
interrupts) and check stop conditions, look the guest pc up in the translation cache (lifting,
optimizing and compiling on a miss), run the region until it leaves, act on why it left.

Self-modifying code: every byte of translated code is marked ``ATTR_CODE``; a store there
records the address, and the regions covering it are dropped when the region leaves: right after
the storing instruction (``smc``) where the store may have hit the running region's own code, at
its next exit otherwise.  A rewritten operand byte becomes *volatile*: guests with
``dynamic_operands`` lift it as a memory read, so rewriting it again costs nothing.
"""

from __future__ import annotations

import ast
import ctypes
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from recomp.frontends import Frontend, get_frontend
from recomp.frontends.base import DecodeError
from recomp.frontends.region import REGION_INSTRUCTIONS, RegionBuilder, build_region
from recomp.ir.core import Region
from recomp.ir.guest import ATTR_CODE, ATTR_IO, ATTR_STOP
from recomp.ir.ops import Exit
from recomp.ir.verify import verify
from recomp.runtime.devices import Console, Device, IntervalTimer
from recomp.runtime.errors import GuestFault, LoadError
from recomp.runtime.helpers import RUNNING
from recomp.runtime.state import UNLIMITED, state_struct

if TYPE_CHECKING:
    from recomp.backend.cache import CodeCache
    from recomp.opt.context import Context

ENGINES = ("jit", "interp")
SUCCESSOR_INSTRUCTIONS = 4  # guest instructions the optimizer looks at after a static exit
JIT_THRESHOLD = 8  # region entries the interpreter tier runs before LLVM compiles the region
HOT_BLOCKS = 256  # ... or block transitions within one entry (a loop inside the region)


@dataclass
class RunResult:
    exit: str  # "halt", "trap", "until" or "max-instructions"
    pc: int
    instructions: int


@dataclass
class Stats:
    regions: int = 0  # regions translated
    compiled: int = 0  # regions compiled by LLVM (the rest ran on the interpreter tier only)
    blocks: int = 0  # blocks in them
    compile_seconds: float = 0.0  # lifting, optimizing and compiling
    opt_seconds: float = 0.0  # of which in the icode optimizer
    llvm_seconds: float = 0.0  # of which in LLVM (lowering, passes, code generation)
    run_seconds: float = 0.0  # executing, compile time excluded
    invalidations: int = 0  # regions dropped because a store hit their code
    interrupts: int = 0  # IRQs and NMIs delivered
    chain_hits: int = 0  # jumps compiled code made straight into other compiled code
    chain_misses: int = 0  # jumps that came back to the dispatch loop
    cache_hits: int = 0  # regions loaded from the persistent code cache
    cache_stores: int = 0  # regions written to it
    cache_seconds: float = 0.0  # looking up and loading cached code
    interpreter_seconds: float = 0.0  # building or loading the native interpreter
    opt: dict[str, dict[str, int]] = field(default_factory=dict)  # per pass: what it removed


@dataclass
class Translation:
    region: Region | None  # None for code loaded from the code cache
    run: Callable[[], int]
    covers: set[int]  # guest bytes whose rewriting invalidates it
    compiled: object = None  # the backend's Compiled, for the JIT


class GuestMemory:
    """``emulator.memory``: guest memory as ints (or bytes, for slices); writes invalidate
    translated code they hit."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._view = emulator.memory_view

    def __len__(self) -> int:
        return len(self._view)

    def __getitem__(self, index: int | slice) -> int | bytes:
        if isinstance(index, slice):
            return bytes(self._view[index])
        return self._view[index]

    def __setitem__(self, index: int | slice, value: int | bytes) -> None:
        self._view[index] = value
        start, stop, _ = index.indices(len(self._view)) if isinstance(index, slice) else (index, index + 1, 1)
        self._emulator.invalidate_range(start, stop)


class Emulator:
    """A guest machine; ``engine`` is ``"jit"`` (LLVM) or ``"interp"`` (the reference interpreter).

    ``console`` maps the frontend's console device (``None``: no console); ``timer`` maps an
    ``IntervalTimer`` at that base address.  Under the JIT, cold code runs on the frontend's
    native interpreter (``recomp.backend.interpreter``), which has hot code compiled; for guests
    without one, or with ``native_interpreter=False``, regions run on the Python interpreter
    until entered ``jit_threshold`` times, then are compiled.  ``jit_threshold=0`` compiles
    everything at once (the default is the frontend's ``jit_threshold``, else
    ``JIT_THRESHOLD``).  ``code_cache``: a ``CodeCache`` to load compiled code from and file it in.
    """

    def __init__(self, frontend: str | Frontend, engine: str = "jit", optimize: bool = True,
                 passes: list[str] | None = None, output: TextIO | None = None,
                 input: BinaryIO | None = None, region_instructions: int = REGION_INSTRUCTIONS,
                 console: tuple[int, int] | str | None = "default", timer: int | None = None,
                 jit_threshold: int | None = None, code_cache: CodeCache | None = None,
                 native_interpreter: bool = True) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
        self.frontend = get_frontend(frontend) if isinstance(frontend, str) else frontend
        self.guest = self.frontend.guest
        self.engine = engine
        self.optimize = optimize
        self.passes = passes
        self.output = output if output is not None else sys.stdout
        self.region_instructions = region_instructions
        if jit_threshold is None:
            jit_threshold = getattr(self.frontend, "jit_threshold", JIT_THRESHOLD)
        self.jit_threshold = jit_threshold
        self.specialize = self.guest.specialize
        self._specialized = attrgetter(*self.specialize) if self.specialize else lambda state: None
        self.state = state_struct(self.guest, getattr(self.frontend, "state_properties", {}))()
        self.state.cycle_limit = UNLIMITED
        size = self.guest.memory_size
        self.ram = (ctypes.c_uint8 * size)()
        self.attrs = (ctypes.c_uint8 * size)()
        self.memory_view = memoryview(self.ram).cast("B")
        self.attrs_view = memoryview(self.attrs).cast("B")
        self.memory = GuestMemory(self)
        self.loaded_end = 0
        self.stats = Stats()
        self.cache: dict[tuple, Translation] = {}
        # compiled entry points by guest address and specialized flags, for compiled code to
        # jump through (see recomp.backend.lower); filled for one guard mode at a time
        # (followed by the native interpreter's 32-bit counters, one per guest address)
        self.entries = (ctypes.c_void_p * (self.guest.entry_table_size + self.guest.memory_size // 2))()
        self.linked_guards: bool | None = None
        self.code_cache = code_cache
        self._cache_context: str | None = None
        self._interpreter: Translation | None = None
        self.native_interpreter = native_interpreter
        self._preloaded: tuple[str, bool] | None = None  # (cache context, guard mode) preloaded
        self._cached_entries: set[str] = set()  # the entries the code cache has for that context
        self.owners: dict[int, set[tuple]] = {}  # guest byte -> keys of translations covering it
        self.volatile: set[int] = set()  # rewritten code bytes, read at run time when possible
        self.stops: set[int] = set()  # addresses regions end before (until_pc)
        self.written: list[int] = []  # code bytes stored to since the last smc exit
        self.pending_error: BaseException | None = None
        self.irq_line = False
        self.nmi_pending = False
        self.devices: dict[int, Device] = {}
        self.timers: list[IntervalTimer] = []
        if console == "default":
            console = getattr(self.frontend, "console", None)
        if console is not None:
            self.map_device(Console(self.output, input if input is not None else _stdin(), *console))
        if timer is not None:
            self.map_device(IntervalTimer(timer))

    # --- devices and interrupts --------------------------------------------------------------
    def map_device(self, device: Device) -> None:
        self.drop_translations()  # the optimizer relied on where devices are
        for addr in device.addresses():
            self.devices[addr] = device
            self.attrs_view[addr] |= ATTR_IO
        if isinstance(device, IntervalTimer):
            self.timers.append(device)

    def io_read(self, addr: int, cycles: int) -> int:
        return self.devices[addr].read(addr, cycles)

    def io_write(self, addr: int, value: int, cycles: int) -> None:
        self.devices[addr].write(addr, value, cycles)
        self.state.cycle_limit = 0  # a device may have a new event: let the next guard leave

    def irq(self, level: bool = True) -> None:
        """Set the IRQ input line (level-triggered; masked by the guest's interrupt flag)."""
        self.irq_line = bool(level)
        self.state.events = self.irq_line

    def nmi(self) -> None:
        """Pulse the NMI input line (edge-triggered, not maskable)."""
        self.nmi_pending = True
        self.state.events = 1

    def _events(self) -> str | None:
        """Bring devices up to date; set the budgets and flags compiled code checks; return the
        interrupt to take now, if any."""
        st = self.state
        for timer in self.timers:
            timer.advance(st.cycles)
        irq = self.irq_line or any(t.pending for t in self.timers)
        st.events = irq or self.nmi_pending
        deadlines = [t.deadline for t in self.timers if t.deadline is not None]
        st.cycle_limit = min(deadlines, default=UNLIMITED)
        if self.nmi_pending:
            return "nmi"
        if irq and not self.frontend.irq_masked(st):
            return "irq"
        return None

    def _deliver(self, kind: str) -> None:
        if kind == "nmi":
            self.nmi_pending = False
        self.stats.interrupts += 1
        pc = self.state.pc
        self._translation((kind, pc), lambda: self._lift_interrupt(kind, pc)).run()

    def _lift_interrupt(self, kind: str, pc: int) -> tuple[Region, set[int]]:
        region = Region(self.guest.name, pc)
        b = RegionBuilder(region, {})
        b.new_block(f"{kind.upper()}{pc:04X}", pc)
        self.frontend.lift_interrupt(b, kind, pc)
        return region, set()

    # --- loading -----------------------------------------------------------------------------
    def load(self, data: bytes, at: int = 0) -> None:
        size = self.guest.memory_size
        if not data:
            raise LoadError("the program is empty")
        if not 0 <= at < size:
            raise LoadError(f"load address {at:#06x} is outside memory (0x0000..{size - 1:#06x})")
        if at + len(data) > size:
            raise LoadError(f"the program is {len(data)} bytes; only {size - at} fit in memory "
                            f"from {at:#06x}")
        self.memory[at:at + len(data)] = data
        self.loaded_end = max(self.loaded_end, at + len(data))
        self._cache_context = None

    @property
    def instructions(self) -> int:
        return self.state.instructions

    @property
    def cycles(self) -> int:
        return self.state.cycles

    # --- translation -------------------------------------------------------------------------
    def lift(self, pc: int, single: bool = False) -> Region:
        """The icode region at ``pc`` as lifted, before optimization."""
        region = self.lift_code(pc, single)[0]
        verify(region, self.guest)
        return region

    def lift_code(self, pc: int, single: bool = False) -> tuple[Region, set[int]]:
        """The region at ``pc`` (``single``: one instruction) and the guest bytes it was lifted from."""
        limit = 1 if single else self.region_instructions
        return build_region(self.frontend, self.memory_view, pc, self.loaded_end, limit,
                            volatile=self.volatile, stops=self.stops)

    def entry_facts(self) -> dict[str, int]:
        """The specialized state fields as they are now: what a region entered now may assume."""
        return {name: getattr(self.state, name) for name in self.specialize}

    def optimizer_context(self, covers: set[int], single: bool = False,
                          entry: dict[str, int] | None = None) -> Context:
        """What the optimizer may assume about a region lifted from ``covers`` and entered with
        the ``entry`` state facts.  A ``single`` step runs with the budgets lifted (see ``run``),
        so nothing may be left stale at its exit: its successors count as unknown."""
        from recomp.opt.context import Context

        def successor(addr: int) -> tuple[Region, set[int]] | None:
            if addr in self.stops:  # execution stops there: everything is looked at
                return None
            return build_region(self.frontend, self.memory_view, addr, self.loaded_end,
                                SUCCESSOR_INSTRUCTIONS, self.volatile, self.stops, follow=False)

        return Context(self.guest, frozenset(covers), frozenset(self.devices), None if single else successor,
                       entry or {})

    def optimized(self, region: Region, covers: set[int], single: bool = False,
                  entry: dict[str, int] | None = None) -> set[int]:
        """Optimize the region in place (unless the optimizer is off) and verify it; returns the
        bytes whose rewriting invalidates it: its own, and the successor code it relied on."""
        if not self.optimize:
            verify(region, self.guest)
            return covers
        from recomp.opt import optimize

        context = self.optimizer_context(covers, single, entry)
        start = time.perf_counter()
        stats = optimize(region, context, self.passes)
        self.stats.opt_seconds += time.perf_counter() - start
        for name, counts in stats.items():
            total = self.stats.opt.setdefault(name, {})
            for key, n in counts.items():
                total[key] = total.get(key, 0) + n
        return covers | context.consulted

    def translation_key(self, pc: int, single: bool, guards: bool) -> tuple:
        """The cache key of the translation to run at ``pc`` in the current state."""
        return (pc, single, guards, self._specialized(self.state))

    def translate(self, pc: int, single: bool = False, guards: bool = True) -> Translation:
        """The translation at ``pc`` for the current state (specialized fields included)."""
        return self._translation(self.translation_key(pc, single, guards), lambda: self.lift_code(pc, single),
                                 guards, single, self.entry_facts())

    def _translation(self, key: tuple, lift: Callable[[], tuple[Region, set[int]]], guards: bool = True,
                     single: bool = True, entry: dict[str, int] | None = None,
                     compile: bool = False) -> Translation:
        """The cached translation for ``key``, else: compiled code from the code cache, else the
        native interpreter (cold code under a tiered JIT, unless ``compile``), else the lifted
        region, compiled (``compile``, or no tiering) or on the Python interpreter tier."""
        translation = self.cache.get(key)
        if translation is not None:
            return translation
        start = time.perf_counter()
        translation = None if single else self._from_code_cache(key)
        if translation is None and not (single or compile) and self.native_tier:
            translation = self.interpreter()
        if translation is None:
            region, covers = lift()
            covers = self.optimized(region, covers, single, entry)
            if self.engine == "jit" and (self.jit_threshold == 0 or compile):
                translation = self._compile(key, region, covers, guards, single)
            else:
                translation = self._interpret(key, region, covers, guards, single)
            self.stats.regions += 1
            self.stats.blocks += len(region.blocks)
        self._register(key, translation)
        self.stats.compile_seconds += time.perf_counter() - start
        return translation

    def _register(self, key: tuple, translation: Translation) -> None:
        """Cache a translation, let compiled code jump to it, watch the bytes it covers."""
        self.cache[key] = translation
        self._link(key, translation)
        for addr in translation.covers:
            self.owners.setdefault(addr, set()).add(key)
            self.attrs_view[addr] |= ATTR_CODE

    @property
    def native_tier(self) -> bool:
        """Cold code runs on the frontend's native interpreter: under a tiered JIT, for guests
        that have one."""
        return (self.engine == "jit" and self.jit_threshold > 0 and self.native_interpreter
                and getattr(self.frontend, "native_interpreter", False))

    def interpreter(self) -> Translation:
        """The native interpreter, as the translation of every cold address (the variant that
        checks for stop addresses once there are any)."""
        if self._interpreter is None:
            from recomp.backend.jit import jit
            from recomp.runtime.helpers import register_helpers

            start = time.perf_counter()
            register_helpers(self.frontend)
            compiled = jit().interpreter(self.frontend, self.code_cache, stops=bool(self.stops))
            self._interpreter = self._native(None, set(), compiled)
            self.stats.interpreter_seconds += time.perf_counter() - start
        return self._interpreter

    def _promote(self, pc: int, guards: bool) -> None:
        """The native interpreter found ``pc`` hot: compile the region there."""
        key = self.translation_key(pc, False, guards)
        if self.cache.get(key) is self._interpreter:
            del self.cache[key]
        self._translation(key, lambda: self.lift_code(pc), guards, False, self.entry_facts(), compile=True)

    def _interpret(self, key: tuple, region: Region, covers: set[int], guards: bool, single: bool
                   ) -> Translation:
        """The interpreter's translation; under the JIT, a first tier that compiles the region
        once it has been entered ``jit_threshold`` times or loops ``HOT_BLOCKS`` times in one
        entry (cold code never pays LLVM's cost)."""
        from recomp.runtime.interp import InterpretedRegion

        if self.engine != "jit":
            return Translation(region, InterpretedRegion(region, self), covers)
        interpreted = InterpretedRegion(region, self, hot_blocks=HOT_BLOCKS)
        entries = 0

        def run() -> int:
            nonlocal entries
            entries += 1
            if (entries >= self.jit_threshold or interpreted.hot) and self.cache.get(key) is translation:
                start = time.perf_counter()
                compiled = self._compile(key, region, covers, guards, single)
                self._register(key, compiled)
                self.stats.compile_seconds += time.perf_counter() - start
                return compiled.run()
            return interpreted()

        translation = Translation(region, run, covers)
        return translation

    def _compile(self, key: tuple, region: Region, covers: set[int], guards: bool, single: bool
                 ) -> Translation:
        """Compile with LLVM (and file the code in the code cache); a single step or interrupt
        entry (``single``) does not chain: the runtime must see it end."""
        from recomp.backend.jit import jit
        from recomp.runtime.helpers import register_helpers

        register_helpers(self.frontend)
        compiled = jit().compile(region, self.guest, guards, chain=not single)
        self.stats.compiled += 1
        self.stats.llvm_seconds += compiled.seconds
        if not single:
            self._file(key, compiled, {addr: self.memory_view[addr] for addr in covers})
        return self._native(region, covers, compiled)

    def _file(self, key: tuple, compiled: Any, covers: dict[int, int]) -> None:
        """Keep compiled code in the code cache, with the guest bytes it was made from."""
        if self.code_cache is not None and compiled.object:
            from recomp.backend.cache import Record

            record = Record(compiled.name, covers, compiled.object)
            if self.code_cache.store(self.cache_context(), self._cache_entry(key), record):
                self.stats.cache_stores += 1
                self._cached_entries.add(self._cache_entry(key))

    def _native(self, region: Region | None, covers: set[int], compiled: Any) -> Translation:
        function = compiled.function
        pointers = [ctypes.addressof(x) for x in (self.state, self.ram, self.attrs, self.entries)]
        return Translation(region, lambda: function(*pointers), covers, compiled)

    # --- the persistent code cache -------------------------------------------------------------
    def cache_context(self) -> str:
        """The digest of everything besides guest bytes that shaped this machine's compiled code:
        recomp's sources, the JIT (LLVM, host CPU, pipelines), the guest, the options, and what
        the optimizer and region builder relied on besides the bytes: where devices and stops
        are, and where the loaded program ends (decoding stops there)."""
        if self._cache_context is None:
            from recomp.backend.cache import digest, source_digest
            from recomp.backend.jit import jit

            self._cache_context = digest(
                source_digest(), jit().context, self.guest.name, self.optimize, self.passes,
                self.region_instructions, sorted(self.devices), sorted(self.stops), self.loaded_end)
        return self._cache_context

    @staticmethod
    def _cache_entry(key: tuple) -> str:
        pc, _, guards, specialized = key
        return f"{pc:05x}-{specialized!r}-{'guards' if guards else 'free'}"

    @staticmethod
    def _cache_key(entry: str) -> tuple | None:
        """The translation key of a cache entry's name (None if it is not one)."""
        try:
            pc, specialized, mode = entry.split("-")
            return int(pc, 16), False, mode == "guards", ast.literal_eval(specialized)
        except (ValueError, SyntaxError):
            return None

    def _preload(self, guards: bool) -> None:
        """A warm start: link every compiled region the code cache holds for the bytes in memory
        now (and this run's guard mode), before the native interpreter would find them hot."""
        context = self.cache_context()
        if self._preloaded == (context, guards):
            return
        self._preloaded = (context, guards)
        start = time.perf_counter()
        self._cached_entries = set(self.code_cache.entries(context))
        for entry in self._cached_entries:
            key = self._cache_key(entry)
            if key is not None and key[2] == guards and key not in self.cache:
                translation = self._from_code_cache(key)
                if translation is not None:
                    self._register(key, translation)
        self.stats.compile_seconds += time.perf_counter() - start

    def _from_code_cache(self, key: tuple) -> Translation | None:
        """The translation for ``key`` from the code cache, if it holds code for these bytes."""
        if (self.code_cache is None or self.engine != "jit" or len(key) != 4
                or self._cache_entry(key) not in self._cached_entries):  # not on disk: no lookup
            return None
        from recomp.backend.jit import jit
        from recomp.runtime.helpers import register_helpers

        start = time.perf_counter()
        try:
            record = self.code_cache.find(self.cache_context(), self._cache_entry(key), self.memory_view)
            if record is None:
                return None
            register_helpers(self.frontend)
            compiled = jit().load(record.name, record.object)
        except (OSError, ValueError, RuntimeError):
            return None
        finally:
            self.stats.cache_seconds += time.perf_counter() - start
        self.stats.cache_hits += 1
        return self._native(None, set(record.covers), compiled)

    # --- chaining ------------------------------------------------------------------------------
    def _entry_index(self, key: tuple) -> int | None:
        """The entry-table slot of a translation key; None if compiled code must not jump there
        (single steps, interrupt entries, stop addresses, another guard mode)."""
        if len(key) != 4:  # an interrupt entry
            return None
        pc, single, guards, specialized = key
        if single or guards != self.linked_guards or pc in self.stops:
            return None
        values = specialized if isinstance(specialized, tuple) else () if specialized is None else (specialized,)
        index = pc
        for bit, value in enumerate(values, self.guest.address_bits):
            index |= (value & 1) << bit
        return index

    def _link(self, key: tuple, translation: Translation) -> None:
        """Let compiled code jump straight into a compiled translation."""
        index = self._entry_index(key)
        if translation.compiled is not None and index is not None:
            self.entries[index] = translation.compiled.address

    def _unlink(self, key: tuple) -> None:
        index = self._entry_index(key)
        if index is not None:
            self.entries[index] = None

    def _relink(self, guards: bool) -> None:
        """Fill the entry table for the guard mode of this run."""
        ctypes.memset(self.entries, 0, ctypes.sizeof(self.entries))
        self.linked_guards = guards
        for key, translation in self.cache.items():
            self._link(key, translation)

    # --- self-modifying code -----------------------------------------------------------------
    def code_write(self, addr: int) -> None:
        """A store hit translated code (called by both engines): compiled code must no longer
        jump into what covers it; the translations are dropped when control returns here."""
        self.written.append(addr)
        for key in self.owners.get(addr, ()):
            self._unlink(key)

    def invalidate(self, addr: int) -> None:
        """Drop every translation covering guest byte ``addr``."""
        for key in self.owners.pop(addr, ()):
            translation = self.cache.pop(key, None)
            if translation is None:
                continue
            self._unlink(key)
            self.stats.invalidations += 1
            for other in translation.covers:
                keys = self.owners.get(other)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self.owners[other]
                        self.attrs_view[other] &= ~ATTR_CODE
        self.attrs_view[addr] &= ~ATTR_CODE

    def drop_translations(self) -> None:
        """Forget every translation (what they assumed about the machine has changed)."""
        for addr in self.owners:
            self.attrs_view[addr] &= ~ATTR_CODE
        self.owners.clear()
        self.cache.clear()
        ctypes.memset(self.entries, 0, ctypes.sizeof(self.entries))
        self._cache_context = None
        self._interpreter = None  # a stop address may be new

    def invalidate_range(self, start: int, stop: int) -> None:
        for addr in range(start, stop):
            if self.attrs_view[addr] & ATTR_CODE:
                self.invalidate(addr)

    def _handle_smc(self) -> None:
        for addr in self.written:
            if self.guest.dynamic_operands:
                self.volatile.add(addr)
            self.invalidate(addr)
        self.written.clear()
        self.state.code_written = 0

    # --- execution ---------------------------------------------------------------------------
    def run(self, max_instructions: int | None = None, until_pc: int | None = None,
            stop_on_trap: bool = False) -> RunResult:
        """Run until the guest halts, traps (with ``stop_on_trap``), reaches ``until_pc`` (before
        executing it) or has run ``max_instructions`` more instructions."""
        st = self.state
        st.limit = UNLIMITED if max_instructions is None else st.instructions + max_instructions
        if until_pc is not None and until_pc not in self.stops:
            self.stops.add(until_pc)
            self.attrs_view[until_pc] |= ATTR_STOP
            self.drop_translations()  # regions may run through the new stop
        # without a budget or interrupts a guard can never fire: compile without them
        guards = max_instructions is not None or getattr(self.frontend, "interrupts", False)
        if guards != self.linked_guards:
            self._relink(guards)
        if self.code_cache is not None and self.engine == "jit":
            self._preload(guards)
        chained = st.chained
        native = self.native_tier
        compile_before = self.stats.compile_seconds
        start = time.perf_counter()
        single = False
        cache = self.cache
        RUNNING.append(self)
        try:
            while True:
                if self.timers or self.irq_line or self.nmi_pending:
                    kind = self._events()
                    if kind is not None and st.pc != until_pc and st.instructions < st.limit:
                        self._deliver(kind)
                        continue
                if st.pc == until_pc:
                    return RunResult("until", st.pc, st.instructions)
                remaining = st.limit - st.instructions
                if remaining <= 0:
                    return RunResult("max-instructions", st.pc, st.instructions)
                single = single or remaining == 1  # step(): lift no more than one instruction
                if single:
                    st.cycle_limit = UNLIMITED
                stepped = single and native
                if stepped:  # one instruction on the native interpreter: the next one's guard stops it
                    limit, st.limit = st.limit, st.instructions + 1
                    try:
                        reason = self.interpreter().run()
                    finally:
                        st.limit = limit
                    if reason == Exit.GUARD:  # (the first instruction's guard always passes)
                        reason = Exit.JUMP
                else:
                    translation = (cache.get(self.translation_key(st.pc, single, guards))
                                   or self.translate(st.pc, single, guards))
                    reason = translation.run()
                single = False
                if reason == Exit.JUMP and self.pending_error is None and not self.written:
                    self.stats.chain_misses += not stepped
                    continue
                if self.pending_error is not None:
                    error, self.pending_error = self.pending_error, None
                    raise error
                if self.written:  # stores hit translated code: drop it before it runs
                    self._handle_smc()
                if reason == Exit.HALT:
                    return RunResult("halt", st.pc, st.instructions)
                elif reason == Exit.TRAP and stop_on_trap:
                    return RunResult("trap", st.pc, st.instructions)
                elif reason == Exit.FAULT:
                    if st.instructions >= st.limit:  # the budget ended before it
                        return RunResult("max-instructions", st.pc, st.instructions)
                    raise self._fault(st.pc)
                elif reason == Exit.HOT:
                    self._promote(st.pc, guards)
                elif reason == Exit.GUARD:
                    # a budget ends inside the block: go on one instruction at a time
                    single = st.instructions < st.limit
        finally:
            RUNNING.pop()
            self.stats.chain_hits += st.chained - chained
            elapsed = time.perf_counter() - start
            self.stats.run_seconds += elapsed - (self.stats.compile_seconds - compile_before)
            self.output.flush()

    def step(self) -> RunResult:
        """Run exactly one guest instruction; a pending interrupt is taken first, so the
        instruction is then the first of its handler."""
        return self.run(max_instructions=1)

    def _fault(self, pc: int) -> GuestFault:
        try:
            self.frontend.decode(self.memory_view, pc, self.loaded_end)
        except DecodeError as error:
            return GuestFault(error.addr, error.message)
        return GuestFault(pc, f"instruction at {pc:#06x} could not be executed")


def _stdin() -> Any:
    return getattr(sys.stdin, "buffer", None)

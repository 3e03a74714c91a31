"""One machine's use of the code cache: the context its compiled code is filed under, which
entries the cache holds there, loading records (checked by the store) and filing new ones."""

from __future__ import annotations

import platform
import warnings
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from recomp.runtime.code_cache import CodeCache, Record, digest, source_digest
from recomp.runtime.keys import TranslationKey
from recomp.runtime.machine import Machine
from recomp.runtime.options import Options

if TYPE_CHECKING:
    from recomp.backend.compiled import Compiled


CPU_FACTS = ("vendor_id", "cpu family", "model", "model name", "stepping", "flags")  # of /proc/cpuinfo


@cache
def jit_context() -> tuple:
    """What, besides the icode and recomp's sources, decides the code the process's JIT makes:
    LLVM (llvmlite's version fixes it) and the host CPU it generates code for.  Without loading
    LLVM, where Linux describes the CPU: LLVM reads the same CPUID facts (vendor, family, model,
    feature flags) as Linux shows, so hosts that show the same get the same code.  A warm run
    then loads no LLVM at all.  Elsewhere, LLVM's own view of the host."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as file:
            first = file.read(1 << 16).split("\n\n")[0]
    except OSError:
        first = ""
    facts = {name.strip(): value.strip() for name, _, value in (line.partition(":") for line in first.splitlines())}
    cpu = tuple(facts.get(name, "") for name in CPU_FACTS)
    if not cpu[0] or not cpu[-1]:
        from recomp.backend.jit import jit

        return jit().context
    import llvmlite

    return llvmlite.__version__, platform.machine(), cpu


class CachedCode:
    """One machine's use of a code cache: the context its compiled code is filed under, which
    entries the cache holds there, loading and filing records."""

    def __init__(self, cache: CodeCache, machine: Machine, options: Options, stops: set[int], noisy: set[int]
                 ) -> None:
        problem = cache.problem()
        if problem is not None:
            warnings.warn(f"not using the code cache {cache.root}: {problem}", RuntimeWarning, stacklevel=3)
        self.usable = problem is None
        self.cache = cache
        self.machine = machine
        self.options = options
        self.stops = stops
        self.noisy = noisy  # (``Translations.noisy``)
        self._context: tuple[tuple, str] | None = None  # (what it depends on, the digest)
        self._entries: set[str] = set()  # the entries the cache holds for the context
        self._preloaded: tuple[str, bool] | None = None  # (context, guard mode) preloaded

    def context(self) -> str:
        """The digest of everything besides guest bytes that shaped this machine's compiled code:
        recomp's sources, the JIT (LLVM, host CPU, pipelines), the guest, the options, and what
        the optimizer and region builder relied on besides the bytes: where devices, stops and
        watchpoints are, whether a trace is on, where the loaded program ends (decoding stops
        there), and which data pages have held code (the code accesses the others unchecked)."""
        m = self.machine
        inputs = (sorted(m.devices), sorted(self.stops), m.watchpoints.shape(), m.trace is not None, m.loaded_end,
                  sorted(self.noisy))
        if self._context is None or self._context[0] != inputs:
            o = self.options
            self._context = inputs, digest(source_digest(), jit_context(), m.guest.name, o.optimize, o.passes,
                                           o.region_instructions, *inputs)
        return self._context[1]

    def preload(self, guards: bool) -> list[TranslationKey]:
        """At the start of a run: the keys of every region the cache holds for this context and
        guard mode, the first time the run has them (a warm start links them all up front)."""
        context = self.context()
        if self._preloaded == (context, guards):
            return []
        self._preloaded = (context, guards)
        self._entries = set(self.cache.entries(context))
        keys = (TranslationKey.parse(entry) for entry in self._entries)
        return [key for key in keys if key is not None and key.guards == guards]

    def noted(self, note: str) -> bool:
        """Whether a run in this context kept ``note`` (``CodeCache.note``)."""
        return self.cache.noted(self.context(), note)

    def load(self, key: TranslationKey) -> tuple[Compiled, set[int]] | None:
        """The code the cache holds for ``key`` and the bytes in memory now, and the bytes it
        covers; None if there is none (or it cannot be loaded)."""
        entry = key.cache_name()
        if entry not in self._entries:  # not on disk: no lookup
            return None
        from recomp.backend.loader import link

        try:
            record = self.cache.find(self.context(), entry, self.machine.memory_view)
            if record is None:
                return None
            return link(record.name, record.object), set(record.covers)
        except (OSError, ValueError, RuntimeError):
            return None

    def file(self, key: TranslationKey, compiled: Compiled, covers: set[int]) -> bool:
        """Keep compiled code in the cache, with the guest bytes it was made from."""
        memory = self.machine.memory_view
        return self.filer(key)(compiled, {addr: memory[addr] for addr in covers})

    def filer(self, key: TranslationKey, context: str | None = None) -> Callable[[Compiled, dict[int, int]], bool]:
        """``file`` in the context of now (or ``context``, taken earlier), as a function of the code
        and the guest bytes it was made from (address -> byte) that may be called on another
        thread."""
        context, entry = context or self.context(), key.cache_name()

        def file(compiled: Compiled, source: dict[int, int]) -> bool:
            if not compiled.object or not self.cache.store(context, entry, Record(compiled.name, source,
                                                                                  compiled.object)):
                return False
            self._entries.add(entry)
            return True
        return file

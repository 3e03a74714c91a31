"""The translation cache: which translation runs at each guest address, and which guest bytes
each relies on, so that a store into code drops exactly the translations it invalidates.

A translation is keyed by a ``TranslationKey`` or an ``InterruptKey`` (``recomp.runtime.keys``).
Every byte a translation covers is marked ``ATTR_CODE`` in the machine's
attributes; a store there is heard here (``code_write``): compiled code must no longer jump into
what covers the byte (its entry slots are emptied at once), and the translations are dropped
when control next reaches the run loop (``handle_smc``).  A rewritten operand byte becomes
*volatile*: guests with ``dynamic_operands`` lift it as a memory read, so rewriting it again
costs nothing.  A dropped translation is kept aside (the last ``RETIRED``), with the bytes it
was made from: code that toggles an instruction back and forth gets its translations back when
memory holds their bytes again, instead of translating (and compiling) them anew each time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from recomp.ir.core import Region
from recomp.ir.guest import ATTR_CODE, PAGE_BITS, pages
from recomp.runtime.entry_table import EntryTable
from recomp.runtime.keys import Key, TranslationKey, specialized_fields
from recomp.runtime.machine import Machine
from recomp.runtime.stats import Stats

if TYPE_CHECKING:
    from recomp.backend.compiled import Compiled

RETIRED = 64  # dropped translations kept for when memory holds their bytes again
_CODE_BIT = bytes(1 if value & ATTR_CODE else 0 for value in range(256))  # attribute byte -> marked as code


class Translation:
    """Code that runs a region: ``region`` (None for code loaded from the code cache, and the
    native interpreter); ``run`` runs it on its machine and returns an ``Exit``; ``covers``: the
    guest bytes whose rewriting invalidates it; ``compiled``: its native code; ``source``: the
    covered bytes' values it was made from, and ``volatile``, those of them that were volatile
    then; ``baseline``: stitched from stencils, compiled code may take its place.  (A plain
    class: see ``recomp.ir.core``.)"""

    def __init__(self, region: Region | None, run: Callable[[], int], covers: set[int],
                 compiled: Compiled | None = None, baseline: bool = False) -> None:
        self.region = region
        self.run = run
        self.covers = covers
        self.compiled = compiled
        self.source: dict[int, int] | None = None
        self.volatile: frozenset[int] = frozenset()
        self.baseline = baseline

    @property
    def assumes(self) -> frozenset[int]:
        """The pages its code accesses without consulting attributes, which must stay quiet."""
        return frozenset() if self.compiled is None else self.compiled.quiet

    @property
    def address(self) -> int | None:
        """Where its native code starts (None: it runs in Python)."""
        return None if self.compiled is None else self.compiled.address


class Translations:
    """The translations of one machine, the guest bytes each covers, and self-modifying code."""

    def __init__(self, machine: Machine, entry_table: EntryTable, stats: Stats) -> None:
        self.machine = machine
        self.entry_table = entry_table
        self.stats = stats
        self._cache: dict[Key, Translation] = {}
        self.owners: dict[int, set[Key]] = {}  # guest byte -> keys of translations covering it
        self.volatile: set[int] = set()  # rewritten code bytes, lifted as memory reads where possible
        self.noisy: set[int] = set()  # the guest's data pages that have held translated code
        self.written: list[int] = []  # code bytes stored to since control last reached the run loop
        self._retired: OrderedDict[tuple[Key, int], Translation] = OrderedDict()  # oldest first
        self.get = self._cache.get  # the hot path: one dict lookup
        # counts the times what translations may assume changed (a stop, a watchpoint, a trace,
        # the memory map): code compiled in the background from before such a change is not used
        self.epoch = 0
        self._specialized = specialized_fields(machine.guest)
        machine.listener = self

    def key(self, pc: int, single: bool, guards: bool) -> TranslationKey:
        """The key of the translation to run at ``pc`` in the machine's state now."""
        return TranslationKey(pc, single, guards, self._specialized(self.machine.state))

    def __iter__(self) -> Iterator[tuple[Key, Translation]]:
        """The (key, translation) pairs there are now."""
        return iter(list(self._cache.items()))

    def relink(self, guards: bool) -> None:
        """Fill the entry table for the guard mode of a run."""
        self.entry_table.relink(guards, ((key, t.address) for key, t in self._cache.items()))

    def add(self, key: Key, translation: Translation) -> None:
        """Cache a translation, let compiled code jump to it, watch the bytes it covers."""
        self._cache[key] = translation
        self.entry_table.link(key, translation.address)
        memory, attrs = self.machine.memory_view, self.machine.attrs_view
        if translation.source is None:
            translation.source = {addr: memory[addr] for addr in translation.covers}
            translation.volatile = frozenset(self.volatile.intersection(translation.covers))
        for addr in translation.covers:
            self.owners.setdefault(addr, set()).add(key)
            attrs[addr] |= ATTR_CODE
        noisy = pages(translation.covers).intersection(self.machine.guest.data_pages) - self.noisy
        if noisy:  # (code in the zero page, say: a store there must be checked from now on)
            self.noisy |= noisy
            dropped = self.forget_assuming(noisy)
            where = ", ".join(self._where(page << PAGE_BITS) for page in sorted(noisy))
            self.stats.event(f"noisy     {where}: code there now, its accesses are checked "
                             f"({dropped} translations that did not dropped)")

    def quiet(self) -> frozenset[int]:
        """The guest's data pages that compiled code may access without consulting attributes:
        no byte there is a device's or watched, and no translated code has been there."""
        m = self.machine
        return frozenset(m.guest.data_pages) - self.noisy - pages(m.devices) - pages(m.watchpoints.addresses())

    def forget_assuming(self, noisy: set[int]) -> int:
        """Drop for good the translations whose code accesses any of ``noisy`` pages unchecked
        (attributes there matter now); returns how many ran."""
        return self._forget(lambda translation: bool(translation.assumes & noisy))

    def revive(self, key: Key) -> Translation | None:
        """A dropped translation for ``key`` made from the bytes memory holds now, cached again;
        not one made before some byte it covers became volatile (lifted now, it would read that
        byte from memory, and no longer be dropped each time it is rewritten)."""
        memory, volatile = self.machine.memory_view, self.volatile
        for slot, translation in self._retired.items():
            if slot[0] == key and all(memory[addr] == value and (addr not in volatile or addr in translation.volatile)
                                      for addr, value in translation.source.items()):
                del self._retired[slot]
                self.add(key, translation)
                self.stats.reused += 1
                self.stats.event(f"revive    {self._where(key.pc)}: memory holds its bytes again")
                return translation
        return None

    def _retire(self, key: Key, translation: Translation) -> None:
        if translation.covers:  # (not the native interpreter, which no write drops)
            self._retired[key, id(translation)] = translation
            if len(self._retired) > RETIRED:
                self._retired.popitem(last=False)

    def _where(self, pc: int) -> str:
        return self.machine.frontend.format_address(pc)

    def replace(self, key: Key, translation: Translation) -> None:
        """Put ``translation`` at ``key`` in place of whatever stands there now."""
        current = self._cache.get(key)
        if current is not None:
            self._evict(key, current)
        self.add(key, translation)

    def discard(self, key: Key, translation: Translation) -> None:
        """Forget the translation at ``key`` if it is still this one (the native interpreter, where
        a region is compiled now); its bytes stay watched by whatever else covers them."""
        if key in self._cache and self._cache[key] is translation:
            del self._cache[key]

    # --- what the machine tells ----------------------------------------------------------------
    def code_write(self, addr: int) -> None:
        """A store hit translated code: compiled code must no longer jump into what covers it;
        the translations are dropped when control returns to the run loop (``handle_smc``)."""
        self.written.append(addr)
        for key in self.owners.get(addr, ()):
            self.entry_table.unlink(key)

    def memory_changed(self, start: int, stop: int) -> None:
        """Bytes written from outside (loading, the API, a machine's helpers): drop what covers
        them.  (The bytes marked as code are found at C speed: a program's load touches 64 KiB.)"""
        marked = bytes(self.machine.attrs_view[start:stop]).translate(_CODE_BIT)
        at = marked.find(1)
        while at >= 0:
            self.invalidate(start + at)
            at = marked.find(1, at + 1)

    def map_changed(self) -> None:
        self.drop_all()

    # --- invalidation --------------------------------------------------------------------------
    def invalidate(self, addr: int) -> None:
        """Drop every translation covering guest byte ``addr`` (kept aside, for when memory holds
        the bytes it was made from again)."""
        self._drop(addr, retire=True)

    def forget(self, addr: int) -> None:
        """Drop every translation covering guest byte ``addr`` for good, and those kept aside:
        execution is to stop there now (a breakpoint, a hook), and they would run through it."""
        self.epoch += 1
        self._drop(addr, retire=False)
        for slot, translation in list(self._retired.items()):
            if addr in translation.covers:
                del self._retired[slot]

    def unlink_at(self, pc: int) -> None:
        """Compiled code must no longer jump straight to ``pc`` (it is becoming a stop)."""
        for key, _ in self:
            if key.pc == pc:
                self.entry_table.unlink(key)

    def link_at(self, pc: int) -> None:
        """Compiled code may jump straight to ``pc`` again (it is no longer a stop)."""
        for key, translation in self:
            if key.pc == pc:
                self.entry_table.link(key, translation.address)

    def forget_if(self, reaches: Callable[[Region], bool]) -> None:
        """Drop for good the translations (and those kept aside) whose icode is ``unchecked`` (a
        new watchpoint needs a check it lacks), and code from the code cache, whose icode is not
        kept (the native interpreter, which keeps none either, checks every access)."""

        def unchecked(translation: Translation) -> bool:
            return bool(translation.covers) if translation.region is None else reaches(translation.region)

        self._forget(unchecked)

    def _forget(self, drop: Callable[[Translation], bool]) -> int:
        """Drop for good the translations, and those kept aside, that ``drop`` says; what compiles
        meanwhile is not used (the epoch).  Returns how many of them ran."""
        self.epoch += 1
        dropped = 0
        for key, translation in self:
            if drop(translation):
                self._evict(key, translation)
                dropped += 1
        for slot, translation in list(self._retired.items()):
            if drop(translation):
                del self._retired[slot]
        return dropped

    def evict_all(self, translation: Translation) -> None:
        """Take a translation out wherever it stands (the native interpreter stands for many keys)."""
        for key, other in self:
            if other is translation:
                self._evict(key, other)

    def _drop(self, addr: int, retire: bool) -> None:
        for key in list(self.owners.get(addr, ())):
            translation = self._cache.get(key)
            if translation is None:
                continue
            self._evict(key, translation)
            if retire:
                self.stats.invalidations += 1
                self.stats.event(f"invalidate {self._where(key.pc)}: {self._where(addr)} was written")
                self._retire(key, translation)
        self.owners.pop(addr, None)
        self.machine.attrs_view[addr] &= ~ATTR_CODE

    def _evict(self, key: Key, translation: Translation) -> None:
        """Take one translation out: no longer run, linked, or watching the bytes it covers."""
        del self._cache[key]
        self.entry_table.unlink(key)
        attrs = self.machine.attrs_view
        for addr in translation.covers:
            keys = self.owners.get(addr)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.owners[addr]
                    attrs[addr] &= ~ATTR_CODE

    def handle_smc(self) -> None:
        """Drop the translations stores hit since the last time; the bytes become volatile."""
        dynamic = self.machine.guest.dynamic_operands
        for addr in self.written:
            if dynamic:
                self.volatile.add(addr)
            self.invalidate(addr)
        self.written.clear()
        self.machine.state.code_written = 0

    def drop_all(self) -> None:
        """Forget every translation (what they assumed about the machine has changed)."""
        self.epoch += 1
        attrs = self.machine.attrs_view
        for addr in self.owners:
            attrs[addr] &= ~ATTR_CODE
        self.owners.clear()
        self._cache.clear()
        self._retired.clear()
        self.entry_table.clear()

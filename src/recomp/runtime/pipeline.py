"""The translation pipeline: guest code at an address, lifted to icode, verified, optimized and
compiled by LLVM, one step after another.  The runtime, ``recomp inspect`` and the notebooks all
translate through it, so what they show is what runs.

It reads the machine as it is now (its ``Sight``): its memory, where loaded code ends (decoding
stops there), where devices are, watchpoints (checked accesses), whether a trace is on, plus two
things only the runtime knows: rewritten code bytes (``volatile``: lifted as memory reads) and
stop addresses (regions end before them); and the state the translation will be entered with
(its specialized flags).  A ``frozen`` pipeline reads all that as it stood when it was made, so
that the compile thread can translate while the machine goes on running.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence, Set
from typing import TYPE_CHECKING, NamedTuple

from recomp.frontends.region import RegionBuilder, build_region, hot_loops
from recomp.ir.core import Region
from recomp.ir.guest import pages
from recomp.ir.verify import verify
from recomp.runtime.machine import Machine
from recomp.runtime.options import Options
from recomp.runtime.stats import Stats, add_pass_counts

if TYPE_CHECKING:
    from recomp.backend.compiled import Compiled
    from recomp.opt.context import Context

SUCCESSOR_INSTRUCTIONS = 4  # guest instructions the optimizer looks at after a static exit


class Lifted(NamedTuple):
    region: Region
    covers: set[int]  # the guest bytes whose rewriting changes (or invalidates) it
    loop: frozenset[int] = frozenset()  # the instructions of the hot loop through its entry it holds


class Sight(NamedTuple):
    """What translating reads of the machine, besides its guest and frontend."""

    memory: Sequence[int]
    loaded_end: int  # decoding stops here
    check_loads: bool  # a watchpoint is on reads: loads are checked
    watched: frozenset[int]  # addresses watchpoints watch
    devices: frozenset[int]  # addresses devices answer
    traced: bool  # a trace is on
    quiet: frozenset[int]  # pages compiled code may access without consulting attributes


class Pipeline:
    def __init__(self, machine: Machine, options: Options, stats: Stats, volatile: Set[int],
                 stops: Set[int], quiet: Callable[[], frozenset[int]], frozen: Sight | None = None) -> None:
        self.machine = machine
        self.frontend = machine.frontend
        self.guest = machine.guest
        self.options = options
        self.stats = stats
        self.volatile = volatile
        self.stops = stops
        self.quiet = quiet  # (``Translations.quiet``)
        self._frozen = frozen

    def sight(self) -> Sight:
        """The machine as this pipeline sees it: as it is now, or as it was when frozen."""
        if self._frozen is not None:
            return self._frozen
        m = self.machine
        return Sight(m.memory_view, m.loaded_end, m.watchpoints.reads, m.watchpoints.addresses(),
                     frozenset(m.devices), m.trace is not None, self.quiet())

    def frozen(self) -> Pipeline:
        """A pipeline that sees the machine as it is now (a copy of its memory, its stops...)
        while the machine goes on running, and counts into stats of its own: the compile thread
        translates with it."""
        sight = self.sight()
        return Pipeline(self.machine, self.options, Stats(), frozenset(self.volatile), frozenset(self.stops),
                        self.quiet, sight._replace(memory=bytes(sight.memory)))

    def lift(self, pc: int, single: bool = False, profile: Callable[[int], int] | None = None,
             head: int | None = None) -> Lifted:
        """The region at ``pc`` (``single``: one instruction) as lifted; ``optimize`` verifies it.
        ``profile``: instructions run from each control transfer's target; ``head``: where in the
        hot loop through ``pc`` the region is entered (see ``build_region``)."""
        limit = 1 if single else self.options.region_instructions
        sight = self.sight()
        return Lifted(*build_region(self.frontend, sight.memory, pc, sight.loaded_end, limit,
                                    volatile=self.volatile, stops=self.stops, check_loads=sight.check_loads,
                                    profile=profile, head=head))

    def hot_loops(self, targets: Sequence[int], profile: Callable[[int], int], threshold: int
                  ) -> list[tuple[int, int]]:
        """The loops through ``targets`` that ran ``threshold`` instructions by ``profile``, as
        (head, target) (see ``recomp.frontends.region.hot_loops``), in memory as it is now."""
        sight = self.sight()
        return hot_loops(self.frontend, sight.memory, sight.loaded_end, targets, profile, threshold, self.stops,
                         self.volatile, self.options.region_instructions)

    def lift_interrupt(self, kind: str, pc: int) -> Lifted:
        """The code that takes interrupt ``kind`` at ``pc``: it covers no guest bytes."""
        region = Region(self.guest.name, pc)
        b = RegionBuilder(region, {})
        b.new_block(f"{kind.upper()}{pc:04X}", pc)
        self.frontend.lift_interrupt(b, kind, pc)
        return Lifted(region, set())

    def entry_facts(self) -> dict[str, int]:
        """The specialized state fields as they are now: what a region entered now may assume."""
        return {name: getattr(self.machine.state, name) for name in self.guest.specialize}

    def context(self, covers: set[int], single: bool = False, entry: dict[str, int] | None = None) -> Context:
        """What the optimizer may assume about a region lifted from ``covers`` and entered with
        the ``entry`` state facts.  A ``single`` step runs with the budgets lifted, so nothing may
        be left stale at its exit: its successors count as unknown."""
        from recomp.opt.context import Context

        sight = self.sight()

        def successor(addr: int) -> tuple[Region, set[int]] | None:
            if addr in self.stops:  # execution stops there: everything is looked at
                return None
            return build_region(self.frontend, sight.memory, addr, sight.loaded_end, SUCCESSOR_INSTRUCTIONS,
                                self.volatile, self.stops, follow=False, check_loads=sight.check_loads)[:2]

        watched = sight.watched  # (their accesses must all happen, as a device's)
        return Context(self.guest, frozenset(covers), sight.devices | watched,
                       None if single else successor, entry or {}, watched)

    def reaches(self, ops: frozenset[str], span: range) -> Callable[[Region], bool]:
        """For a new watchpoint on ``span``: whether a region's loads or stores (``ops``) may
        reach it unchecked: its own, or, for loads, those of the code after its static exits,
        which the optimizer looked at as code no watchpoint stops in (a write there is checked
        anyway).  The code after exits is lifted once for all the regions asked about."""
        from recomp.opt.ranges import may_access

        size = self.guest.memory_size
        context = self.context(set())

        def test(region: Region) -> bool:
            if may_access(region, ops, span, size):
                return True
            if "load" not in ops:
                return False
            return any((after := context.successor(addr)) is not None and may_access(after, ops, span, size)
                       for addr in region.static_exits())
        return test

    def optimize(self, lifted: Lifted, single: bool = False, entry: dict[str, int] | None = None
                 ) -> dict[str, dict[str, int]]:
        """Optimize the region in place (unless the optimizer is off) and verify it; the
        successor code it relied on joins its ``covers``.  Returns what each pass removed."""
        if not self.options.optimize:
            verify(lifted.region, self.guest)
            return {}
        from recomp.opt import PIPELINE, optimize

        context = self.context(lifted.covers, single, entry)
        passes = self.options.passes
        if self.sight().traced:  # a trace records the state at every instruction: no write is deferred
            passes = tuple(name for name in passes or PIPELINE if name != "liveness")
        start = time.perf_counter()
        counts = optimize(lifted.region, context, passes)
        self.stats.opt_seconds += time.perf_counter() - start
        add_pass_counts(self.stats.opt, counts)
        lifted.covers.update(context.consulted)
        return counts

    def translate(self, lifted: Lifted, single: bool = False, entry: dict[str, int] | None = None) -> Lifted:
        """A lifted region made ready to run: optimized and verified, and counted."""
        self.optimize(lifted, single, entry)
        self.stats.regions += 1
        self.stats.blocks += len(lifted.region.blocks)
        return lifted

    def stages(self, pc: int, entry: dict[str, int] | None = None
               ) -> tuple[Region, Region, dict[str, dict[str, int]], frozenset[int]]:
        """The region at ``pc`` as lifted (verified) and, in a copy, as optimized for a region
        entered with the ``entry`` facts (default: the state now), with what each pass removed,
        and the bytes it covers: what ``recomp inspect`` shows."""
        lifted = self.lift(pc)
        verify(lifted.region, self.guest)
        optimized = Lifted(copy.deepcopy(lifted.region), set(lifted.covers), lifted.loop)
        counts = self.optimize(optimized, entry=self.entry_facts() if entry is None else entry)
        return lifted.region, optimized.region, counts, frozenset(lifted.covers)

    def compile(self, region: Region, guards: bool, chain: bool = True, keep_ir: bool = False,
                markers: bool = False, covers: Set[int] = frozenset()) -> Compiled:
        """Lower the (optimized) region to LLVM IR and compile it; ``guards``: with the budget
        checks; ``chain``: its jumps out go on in compiled code (not for single steps and
        interrupt entries, which the runtime must see end); ``keep_ir``: keep the LLVM IR's text;
        ``markers``: mark each guest instruction's host code (``recomp inspect --side-by-side``);
        while the machine is traced, the code records each instruction; ``covers``: the bytes
        the region is made from (its code accesses the pages they are in with checks)."""
        compiled = self.compile_later(region, guards, chain, keep_ir, markers, covers)()
        self.count(compiled)
        return compiled

    def compile_later(self, region: Region, guards: bool, chain: bool = True, keep_ir: bool = False,
                      markers: bool = False, covers: Set[int] = frozenset()) -> Callable[[], Compiled]:
        """``compile`` as a function that may be called on another thread (what it needs of
        the machine is read now); ``count`` what it returns."""
        from recomp.backend.jit import jit

        guest, trace, quiet = self.guest, self.sight().traced, self.quiet_pages(covers)
        return lambda: jit().compile(region, guest, guards, chain, keep_ir, markers, trace, quiet)

    def quiet_pages(self, covers: Set[int]) -> frozenset[int]:
        """The pages code made from ``covers`` accesses without consulting attributes: the quiet
        data pages, but for those it lies in (it makes them noisy)."""
        return frozenset(self.sight().quiet - pages(covers))

    def count(self, compiled: Compiled) -> None:
        """Count a region LLVM compiled."""
        self.stats.compiled += 1
        self.stats.llvm_seconds += compiled.seconds

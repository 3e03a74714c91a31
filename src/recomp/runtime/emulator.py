"""``recomp.Emulator``: a guest machine and the runtime that runs it, and the run loop.

The parts, each in a module of its own: the ``Machine`` (state, memory, devices, interrupt
lines), the ``Pipeline`` (lift, verify, optimize, compile), the ``Translations`` (the translation
cache and self-modifying code), the ``EntryTable`` (native entry points), ``Tiers`` (which tier
runs code, and when code moves up) and the code cache (``CachedCode``).

The run loop: at each boundary deliver due events (device timers, interrupts) and check stop
conditions, look the guest pc up in the translations (a miss goes to the tiers), run the
translation until it leaves, act on why it left.  Compiled code jumps into compiled code and the
native interpreter without coming back here; Python runs only for events.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import BinaryIO, NoReturn, TextIO

from recomp.frontends import DEFAULT_CPU, Frontend, get_frontend
from recomp.frontends.region import REGION_INSTRUCTIONS
from recomp.ir.guest import ATTR_STOP, pages
from recomp.ir.ops import Exit
from recomp.runtime.addresses import Address, address
from recomp.runtime.breakpoints import Breakpoints
from recomp.runtime.cached_code import CachedCode
from recomp.runtime.code_cache import CodeCache
from recomp.runtime.ctrl_c import watched
from recomp.runtime.devices import Console, Device, IntervalTimer, flush_output
from recomp.runtime.entry_table import EntryTable
from recomp.runtime.errors import EndRun, GuestFault, StreamError
from recomp.runtime.machine import GuestMemory, Machine
from recomp.runtime.options import Options
from recomp.runtime.pipeline import Pipeline
from recomp.runtime.result import RunResult, Stop
from recomp.runtime.state import UNLIMITED, StateView, writable_fields
from recomp.runtime.stats import Stats
from recomp.runtime.tiers import Tiers
from recomp.runtime.trace import MAX_TRACE, Trace, Traced
from recomp.runtime.translations import Translations
from recomp.runtime.watchpoints import Watch

ENDED = (Stop.HALT, Stop.TRAP, Stop.EXIT)  # the program ran to its end


class Emulator:
    """A guest machine with the CPU ``cpu`` (a frontend, or its name: ``"6502"``, the NMOS chip
    with every opcode; ``"6502-documented"``; ``"65c02"``; ``"tst27"``); ``engine`` is ``"jit"``
    (LLVM) or ``"interp"`` (the reference engine).

    ``console`` maps the guest's console device at its default addresses (a ``(putc, getc)`` pair:
    elsewhere; ``None``: none); ``timer`` maps an ``IntervalTimer`` at that base address.  Under
    the JIT, cold code runs on the frontend's native interpreter, which has hot code compiled;
    for guests without one, or with ``native_interpreter=False``, regions run on the Python tier
    until entered ``jit_threshold`` times, then are compiled; ``jit_threshold=0`` compiles
    everything at once (see ``recomp.runtime.tiers``).  Hot code is compiled on a thread of its
    own while the run goes on (``compile_in_background=False``: at once, the run waiting for
    it; ``finish_compiling`` waits for it), and meanwhile runs as code the baseline compiler
    stitches from stencils in well under a millisecond (``baseline=False``: on the native
    interpreter).  ``code_cache``: the ``CodeCache`` to load compiled
    code from and file it in: by default the user's, as ``recomp run`` uses (``None``: none).
    """

    def __init__(self, cpu: str | Frontend = DEFAULT_CPU, engine: str = "jit", optimize: bool = True,
                 passes: list[str] | None = None, output: TextIO | None = None,
                 input: BinaryIO | None = None, region_instructions: int = REGION_INSTRUCTIONS,
                 console: tuple[int, int] | str | None = "default", timer: int | None = None,
                 jit_threshold: int | None = None, code_cache: CodeCache | str | None = "default",
                 native_interpreter: bool = True, compile_in_background: bool = True, baseline: bool = True
                 ) -> None:
        self.options = Options(engine, optimize, None if passes is None else tuple(passes), region_instructions,
                               jit_threshold, native_interpreter, compile_in_background, baseline)
        self.frontend = get_frontend(cpu) if isinstance(cpu, str) else cpu
        self.guest = self.frontend.guest
        self.output = output if output is not None else sys.stdout
        self.machine = Machine(self.frontend, self.output)
        settable = writable_fields(self.guest, self.frontend.computed_fields)
        self.settable = tuple(settable)  # the names of ``state`` that can be set
        self._state = StateView(self.machine.state, settable, self.machine.owner.check)
        self.stats = Stats()
        self.stops: set[int] = set()  # addresses runs stop before (``until_pc``, hooks); regions end there
        self.hooks: dict[int, Callable[[Emulator], None]] = {}  # address -> Python to call there
        self.breakpoints = Breakpoints(lambda addr: self._in_memory(addr, "a breakpoint"), self._stop_at,
                                       self._release)
        self.entry_table = EntryTable(self.guest, self.stops)
        self.translations = Translations(self.machine, self.entry_table, self.stats)
        self.pipeline = Pipeline(self.machine, self.options, self.stats, self.translations.volatile, self.stops,
                                 self.translations.quiet)
        if code_cache == "default":
            code_cache = default_code_cache() if engine == "jit" else None
        cached = None if code_cache is None else CachedCode(code_cache, self.machine, self.options, self.stops,
                                                            self.translations.noisy)
        self.tiers = Tiers(self.machine, self.options, self.pipeline, self.translations, self.entry_table, cached,
                           self.stats)
        if console == "default":
            console = self.guest.console
        if console is not None:
            self.map_device(Console(self.output, input if input is not None else _stdin(), *console,
                                    interrupted=lambda: bool(self.machine.state.interrupt)))
        if timer is not None:
            self.map_device(IntervalTimer(timer))

    # --- the machine ---------------------------------------------------------------------------
    @property
    def state(self) -> StateView:
        """The guest state: ``.pc``, registers, flags (the 6502's packed ``.p``), counters; a
        value that does not fit (a pc outside memory, ``a = 0x1FF``) is a ``ValueError``."""
        return self._state


    @property
    def memory(self) -> GuestMemory:
        """Guest memory as ints; writing into translated code invalidates it."""
        return self.machine.memory

    @property
    def instructions(self) -> int:
        return self.machine.state.instructions

    @property
    def cycles(self) -> int:
        return self.machine.state.cycles

    def load(self, data: bytes, at: Address = 0) -> None:
        """Put a program's bytes in memory at ``at`` (``0x200``, ``"$0200"``)."""
        self.machine.load(data, address(at))

    def map_device(self, device: Device) -> None:
        self.machine.map_device(device)

    def irq(self, level: bool = True) -> None:
        """Set the IRQ input line (level-triggered; masked by the guest's interrupt flag)."""
        self._interrupt_lines()
        self.machine.irq(level)

    def nmi(self) -> None:
        """Pulse the NMI input line (edge-triggered, not maskable)."""
        self._interrupt_lines()
        self.machine.nmi()

    def _interrupt_lines(self) -> None:
        if not self.guest.interrupts:
            raise ValueError(f"the {self.frontend.name} has no interrupt lines")

    # --- running -------------------------------------------------------------------------------
    def run(self, max_instructions: int | None = None, until_pc: Address | None = None,
            stop_on_trap: bool = False, max_cycles: int | None = None) -> RunResult:
        """Run until the guest halts, traps (with ``stop_on_trap``), reaches ``until_pc`` (before
        executing it), ends itself (a hook or device raising ``EndRun``), has run
        ``max_instructions`` more instructions, or has run ``max_cycles`` more cycles (it stops at
        the first instruction boundary at or past them).  Ctrl-C raises ``KeyboardInterrupt`` with
        the machine as of its last complete instruction.  ``Busy`` if another thread runs it."""
        with self.machine.owner.running():
            return self._run(max_instructions, until_pc, stop_on_trap, max_cycles)

    def _run(self, max_instructions: int | None, until_pc: Address | None, stop_on_trap: bool,
             max_cycles: int | None) -> RunResult:
        machine, stats = self.machine, self.stats
        st = machine.state
        until_pc = None if until_pc is None else self._in_memory(until_pc, "until_pc")
        self._in_memory(st.pc, "the pc")  # (set through ``state``, it is; a ctypes field may not be)
        for name, budget, used in (("max_instructions", max_instructions, st.instructions),
                                   ("max_cycles", max_cycles, st.cycles)):
            if budget is not None and not 0 <= budget <= UNLIMITED - used:
                raise ValueError(f"{name} must be from 0 to {UNLIMITED - used:,}")
        st.limit = UNLIMITED if max_instructions is None else st.instructions + max_instructions
        machine.cycle_target = UNLIMITED if max_cycles is None else st.cycles + max_cycles
        machine.events()  # the budgets guards check (interrupts are taken in the loop)
        st.interrupt = 0
        if until_pc is not None:
            self._stop_at(until_pc)
        trace = self.tracing
        stretches = trace is not None and trace.sink is not None  # (see recomp.runtime.trace)
        # without a budget or interrupts a guard can never fire: compile without them
        guards = max_instructions is not None or max_cycles is not None or self.guest.interrupts or stretches
        self.tiers.prepare(guards)
        chained = st.chained
        compile_before = stats.compile_seconds
        start = time.perf_counter()
        with watched(st, self.options.engine == "jit", self.tiers.code_cache()):
            try:
                if stretches:
                    result = self._in_stretches(until_pc, stop_on_trap, guards)
                else:
                    result = self._loop(until_pc, stop_on_trap, guards)
            finally:
                if trace is not None:
                    trace.drain()
                stats.chain_hits += st.chained - chained
                elapsed = time.perf_counter() - start
                stats.run_seconds += elapsed - (stats.compile_seconds - compile_before)
                failing = sys.exc_info()[1] is not None  # the run already ends in an error
                try:
                    flush_output(self.output)
                except StreamError:
                    if not failing:
                        raise
                if st.interrupt and not failing:  # Ctrl-C as the run ended: it still stops here
                    self._interrupted(until_pc, stop_on_trap, guards)
        if result.exit in ENDED:  # (a run stopped short has not run the program's loops)
            self.tiers.compile_hot_loops()  # (for the next run: after this one's output and times)
        return result

    def _in_stretches(self, until_pc: int | None, stop_on_trap: bool, guards: bool) -> RunResult:
        """A run whose trace has a sink: stretches of as many instructions as the trace's ring
        holds, each stretch's records handed to the sink after it."""
        st, trace = self.machine.state, self.tracing
        limit, resume = st.limit, True
        while True:
            st.limit = min(limit, st.instructions + trace.stretch)
            result = self._loop(until_pc, stop_on_trap, guards, resume)
            trace.drain()
            if result.exit != Stop.MAX_INSTRUCTIONS or st.instructions >= limit:
                st.limit = limit
                return result
            resume = False  # (a breakpoint where a stretch ends stops the next)

    def _loop(self, until_pc: int | None, stop_on_trap: bool, guards: bool, resume: bool = True) -> RunResult:
        """The run loop (see the module's docstring); ``resume``: the run begins here (a
        breakpoint at the pc runs)."""
        machine, stats, translations, tiers = self.machine, self.stats, self.translations, self.tiers
        st = machine.state
        single = False
        lookup, key, hooks, breakpoints = translations.get, translations.key, self.hooks, self.breakpoints
        # where the run began (a run that starts on a breakpoint executes it: see
        # recomp.runtime.breakpoints) and where a hook just ran and left the pc, as (pc,
        # instructions): until an instruction runs, the breakpoint stops nothing and the hook
        # is not called again
        resumed, hooked = (st.pc, st.instructions) if resume else None, None
        hits, cycle_target = machine.watchpoints.hits, machine.cycle_target  # (fixed for the run)
        trapped: tuple[int, int, int] | None = None  # the last trap: (pc, instructions, cycles) after it
        background = tiers.background
        hits.clear()
        while True:
            if st.interrupt:
                self._interrupted(until_pc, stop_on_trap, guards)
            if background is not None and background.ready:  # code compiled meanwhile
                tiers.publish()
            if machine.timers or machine.irq_line or machine.nmi_pending or cycle_target != UNLIMITED:
                kind = machine.events()
                if kind is not None and st.pc != until_pc and st.instructions < st.limit:
                    self._deliver(kind)
                    if hits:  # the interrupt's pushes hit a watchpoint
                        return self._watched()
                    continue
            if st.pc == until_pc:
                return RunResult(Stop.UNTIL, st.pc, st.instructions)
            remaining = st.limit - st.instructions
            if remaining <= 0:
                return RunResult(Stop.MAX_INSTRUCTIONS, st.pc, st.instructions)
            if cycle_target != UNLIMITED and st.cycles >= cycle_target:
                return RunResult(Stop.MAX_CYCLES, st.pc, st.instructions)
            if breakpoints and st.pc in breakpoints and (st.pc, st.instructions) != resumed:
                return RunResult(Stop.BREAKPOINT, st.pc, st.instructions)
            if hooks and st.pc in hooks and (st.pc, st.instructions) != hooked:
                hooked = (st.pc, st.instructions)
                try:
                    hooks[st.pc](self)
                except EndRun as end:
                    return RunResult(Stop(end.stop), st.pc, st.instructions, end.status)
                continue
            single = single or remaining == 1  # step(): no more than one instruction
            if single:
                st.cycle_limit = UNLIMITED
            stepped = single and tiers.native
            if stepped:
                reason = self._step_native()
            else:
                at = key(st.pc, single, guards)
                reason = (lookup(at) or tiers.translation(at)).run()
            single = False
            if reason == Exit.JUMP and machine.pending_error is None and not translations.written and not hits:
                stats.chain_misses += not stepped
                continue
            if machine.pending_error is not None:
                error, machine.pending_error = machine.pending_error, None
                if isinstance(error, EndRun):
                    return RunResult(Stop(error.stop), st.pc, st.instructions, error.status)
                raise error
            if translations.written:  # stores hit translated code: drop it before it runs
                translations.handle_smc()
            elif st.code_written:  # a watched store whose value stops no watch
                st.code_written = 0
            if hits:
                return self._watched()
            if reason == Exit.HALT:
                return RunResult(Stop.HALT, st.pc, st.instructions)
            elif reason == Exit.TRAP:
                fault = self.frontend.trap_fault(machine.memory_view, st.pc)
                if fault is not None:
                    if st.instructions < st.limit:  # (else the budget ends the run first, as for a fault)
                        raise GuestFault(st.pc, fault)
                elif stop_on_trap:
                    return RunResult(Stop.TRAP, st.pc, st.instructions)
                else:
                    trapped = self._idle(trapped)
            elif reason == Exit.FAULT:
                if st.instructions >= st.limit:  # the budget ended before it
                    return RunResult(Stop.MAX_INSTRUCTIONS, st.pc, st.instructions)
                raise machine.fault(st.pc)
            elif reason == Exit.HOT:
                tiers.promote(st.pc, guards)
            elif reason in (Exit.GUARD, Exit.STEP):
                # a budget ends inside the block, or an instruction needs the runtime: go on one
                # instruction at a time
                single = st.instructions < st.limit

    def _idle(self, last: tuple[int, int, int] | None) -> tuple[int, int, int]:
        """A trap without ``stop_on_trap``: an instruction that jumps to itself; if it changes
        nothing else (``JMP *``, a branch to itself: ``Frontend.idles``), the machine idles until
        something else happens.  Taken twice in a row (which measures its cycles), skip ahead to
        the first event that can end it: the instruction budget, the run's cycle target, an
        interval timer's interrupt (if not masked); instructions and cycles advance exactly as if
        the loop had run (idle-loop skipping, as Dolphin and MAME do).  With no such event, or while something
        watches each instruction (a stop address there, a trace), it runs as it is.  Returns the
        trap's (pc, instructions, cycles) after it, for the next time."""
        machine = self.machine
        st = machine.state
        now = (st.pc, st.instructions, st.cycles)
        if last is None or last[0] != st.pc or last[1] + 1 != st.instructions or st.pc in self.stops or machine.trace:
            return now
        if not self.frontend.idles(machine.memory_view, st.pc):  # (JSR *: it pushes each time round)
            return now
        cost = st.cycles - last[2]  # cycles per time round
        ends = [machine.cycle_target]
        if not self.frontend.irq_masked(st):
            ends += [timer.deadline for timer in machine.timers if timer.deadline is not None]
        ends = [end for end in ends if end != UNLIMITED]
        if st.limit == UNLIMITED and not (ends and cost):
            return now  # nothing ends it but Ctrl-C: as it is
        rounds = st.limit - st.instructions
        if ends and cost:
            rounds = min(rounds, max(0, -(-(min(ends) - st.cycles) // cost)))  # (to the first round at or past it)
        st.instructions += rounds
        st.cycles += rounds * cost
        return st.pc, st.instructions, st.cycles

    def _interrupted(self, until_pc: int | None, stop_on_trap: bool, guards: bool) -> NoReturn:
        """Ctrl-C: put back what the signal changed and raise ``KeyboardInterrupt`` with every
        register and flag exact.  The signal may have stopped a region where values the next
        instructions overwrite were left stale (deferred: see ``recomp.opt.liveness``), so the
        machine first runs as far as such a value may wait, ``HORIZON`` instructions, with the
        budget one instruction ahead each time (a budget makes every exit exact)."""
        from recomp.opt.liveness import HORIZON  # (the optimizer loads where code is lifted)

        machine = self.machine
        st = machine.state
        st.cycle_limit = UNLIMITED
        st.events = machine.irq_line or machine.nmi_pending
        for _ in range(HORIZON):
            st.interrupt = 0  # (a second Ctrl-C meanwhile changes nothing)
            st.limit = st.instructions + 1
            if self._loop(until_pc, stop_on_trap, guards).exit != Stop.MAX_INSTRUCTIONS:
                break
        st.interrupt = 0
        where = self.frontend.format_address(st.pc)
        raise KeyboardInterrupt(f"interrupted at {where} after {st.instructions} instructions")

    def finish_compiling(self) -> None:
        """Wait for the code being compiled in the background; the next run uses it."""
        with self.machine.owner.running():
            self.tiers.finish()

    def step(self) -> RunResult:
        """Run exactly one guest instruction; a pending interrupt is taken first, so the
        instruction is then the first of its handler."""
        return self.run(max_instructions=1)

    def _step_native(self) -> Exit:
        """One instruction on the native interpreter: the next one's guard stops it."""
        st = self.machine.state
        limit, st.limit = st.limit, st.instructions + 1
        try:
            reason = self.tiers.native_interpreter().run()
        finally:
            st.limit = limit
        return Exit.JUMP if reason == Exit.GUARD else reason  # (the first instruction's guard passes)

    def _deliver(self, kind: str) -> None:
        self.machine.acknowledge(kind)
        self.stats.interrupts += 1
        self.tiers.interrupt(kind).run()

    @property
    def tracing(self) -> Trace | None:
        """The trace runs record (see ``trace``), or None."""
        return self.machine.trace

    @property
    def watches(self) -> list[Watch]:
        """The watchpoints set (see ``watch``)."""
        return self.machine.watchpoints.watches

    def watch(self, start: Address, end: Address | None = None, on: str = "w", value: int | None = None) -> Watch:
        """Stop runs right after an instruction that reads (``on="r"``), writes (``"w"``) or
        either (``"rw"``) memory from ``start`` to ``end`` (inclusive; default: one byte), only
        when the byte read or written is ``value`` if one is given: the result's ``exit`` is
        ``"watchpoint"`` and its ``watch`` says the address, value, access and the instruction's
        pc.  Code runs at full speed meanwhile (see ``recomp.runtime.watchpoints``); setting one
        drops only the translations that could access its bytes unchecked."""
        first = self._in_memory(start, "a watchpoint's start")
        last = first if end is None else self._in_memory(end, "a watchpoint's end")
        self.machine.owner.check("set a watchpoint")
        watch = self.machine.watchpoints.add(range(first, last + 1), on, value)
        ops = frozenset({"read": "load", "write": "store"}[access] for access in watch.accesses)
        self.translations.forget_if(self.pipeline.reaches(ops, watch.span))
        self.translations.forget_assuming(pages(watch.span))  # (their accesses there are unchecked)
        self.stats.event(f"watch     {self.frontend.format_address(first)}: translations accessing it dropped")
        return watch

    def unwatch(self, watch: Watch) -> None:
        self.machine.owner.check("remove a watchpoint")
        self.machine.watchpoints.remove(watch)

    def _watched(self) -> RunResult:
        """The run's end at a watchpoint: the first access the last instruction made."""
        st = self.machine.state
        hits = self.machine.watchpoints.hits
        hit = hits[0]
        hits.clear()
        st.code_written = 0  # (set by the access, for the check that left)
        return RunResult(Stop.WATCHPOINT, st.pc, st.instructions, watch=hit)

    def trace(self, size: int = 64, sink: Callable[[Traced], None] | None = None) -> Trace | None:
        """Record every instruction runs execute from now on, with the registers before it: the
        last ``size`` in the returned ``Trace``, and each to ``sink`` (after every few thousand).
        ``size=0`` and no sink stops recording.  Code runs natively meanwhile, compiled to
        record (see ``recomp.runtime.trace``): turning a trace on or off drops the translations."""
        if not 0 <= size <= MAX_TRACE:
            raise ValueError(f"a trace keeps from 0 to {MAX_TRACE:,} instructions, not {size:,}")
        names = self.frontend.trace_registers or (*self.guest.registers, *self.guest.flags)
        machine = self.machine
        machine.owner.check("start or stop a trace")
        was, st = machine.trace, machine.state
        machine.trace = Trace(st, names, size, sink) if size > 0 or sink is not None else None
        if machine.trace is None:
            st.trace_ring = st.trace_mask = st.trace_next = 0
        if (was is None) != (machine.trace is None):
            self.translations.drop_all()  # (code compiled to record, or not to)
        return machine.trace

    def hook(self, addr: Address, function: Callable[[Emulator], None] | None) -> None:
        """Call ``function(emulator)`` whenever execution reaches ``addr``, before the instruction
        there (in every tier: regions end at hooked addresses, compiled code never jumps past one).
        The function may change the state and memory: if it leaves the pc at ``addr``, the
        instruction there runs next, else execution goes on where it put the pc (a ROM routine
        done in Python returns as RTS would).  Raising ``EndRun`` ends the run.  ``None`` removes
        the hook."""
        addr = self._in_memory(addr, "a hook")
        if function is None:
            if self.hooks.pop(addr, None) is not None:
                self._release(addr)
            return
        if not callable(function):
            raise TypeError(f"a hook is a function of the emulator (or None), not {function!r}")
        self.hooks[addr] = function
        self._stop_at(addr)

    def start_profile(self) -> None:
        """Count from now on the instructions and cycles each region runs, and each block of
        cold code on the native interpreter, exactly, in every tier: ``profile`` reads them."""
        st = self.machine.state
        self.entry_table.start_profile(st.instructions, st.cycles)

    @property
    def profiling(self) -> bool:
        """Whether ``start_profile`` has been called."""
        return bool(self.entry_table.marks[0])

    def profile(self) -> dict[int, tuple[int, int]]:
        """Since ``start_profile``: (instructions, cycles) by the guest address of the region or
        block that ran them (``guest.profile_cold``: before the first)."""
        st = self.machine.state
        return self.entry_table.profile(st.instructions, st.cycles)

    def reset(self) -> None:
        """The CPU's reset: registers as the chip leaves them (the 6502: S=$FD, I set) and the pc
        from the reset vector; interrupt lines released."""
        self.machine.owner.check("reset it")
        self.machine.reset()

    def _in_memory(self, addr: Address, what: str) -> int:
        """An address (``0x200``, ``"$0200"``) that must lie in guest memory: ``what`` it is for."""
        value = address(addr)
        size = self.guest.memory_size
        if not 0 <= value < size:
            where = self.frontend.format_address
            raise ValueError(f"{what} must be an address in memory ({where(0)}..{where(size - 1)}), not {addr!r}")
        return value

    def _stop_at(self, addr: int) -> None:
        """Runs stop before ``addr``: regions end there, the native interpreter checks for it.
        Only what would run through it is dropped: the translations whose code (or the code
        their optimizer looked at) covers it, compiled code's links to it, and at the first stop
        the native interpreter that checks for none."""
        if addr in self.stops:
            return
        self.machine.owner.check("set a breakpoint or hook")
        self.translations.unlink_at(addr)
        self.translations.forget(addr)
        if not self.stops:
            self.tiers.stops_set()
        self.stops.add(addr)
        self.machine.attrs_view[addr] |= ATTR_STOP

    def _release(self, addr: int) -> None:
        """``addr`` is no longer a hook or a breakpoint: compiled code may jump to it again (the
        regions that end there stay as they are)."""
        if addr in self.stops and addr not in self.hooks and addr not in self.breakpoints:
            self.machine.owner.check("remove a breakpoint or hook")
            self.stops.discard(addr)
            self.machine.attrs_view[addr] &= ~ATTR_STOP
            self.translations.link_at(addr)


def default_code_cache() -> CodeCache | None:
    """The code cache an Emulator uses unless told otherwise: the user's, as ``recomp run``'s."""
    return CodeCache()


def _stdin() -> BinaryIO | None:
    return getattr(sys.stdin, "buffer", None)

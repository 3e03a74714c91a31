"""Region formation, the same for every frontend: discover the guest code reachable from an entry
over statically known branches, cut it into blocks at branch targets, and lift each block.

Control flow that leaves the discovered code ends in a small exit block (``X0030``: ``exit 0x30``),
so loops whose blocks were all discovered run inside one compiled function.

Given a profile (how many instructions the native interpreter ran from each control
transfer's target), a region entered in a hot loop holds that loop whole: every hot instruction
from which the entry is reached again within its subroutine, and the subroutines they call, up
to ``LOOP_FACTOR`` times the region's size.  cc65's loops call so many runtime helpers that 64
instructions rarely hold one, and a loop cut into several regions leaves a region every 16 to
20 instructions.  A return counts as going back to its own call (two loops calling one helper
are not one loop), and cold code (an outer loop run a few times, a rare path) is left out.

Calls are followed into their callee, and the code a call returns to joins the region too: a
return (whose target is whatever the stack holds) compares its target with the region's return
addresses and branches to the one it equals (``jump_ind``), leaving the region only for any
other.  C compiled by cc65 calls runtime helpers (``pushax``, ``ldaxysp``...) every few
instructions; their code is then compiled into their callers' loops instead of a return to the
run time's entry table each time.  It stays exact: the call still pushes and the return still
pulls, and a program that changes its return address leaves for wherever it says.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence, Set

from recomp.frontends.base import DecodeError, Frontend, Insn
from recomp.ir.core import Builder, Region, Value
from recomp.ir.types import I32, Type

REGION_INSTRUCTIONS = 64  # guest instructions per region at most, but for a hot loop
LOOP_FACTOR = 4  # ... which may hold this many times that
HOT_SHARE = 16  # an instruction is hot that ran more than 1/HOT_SHARE as often as the most run one


class RegionBuilder(Builder):
    """A builder that also knows which guest addresses have blocks in the region, which operand
    bytes are volatile (rewritten by the guest: read them at run time), and the instruction
    being lifted: a jump to itself becomes ``trap``; after a store, ``smc`` checks whether it hit
    translated code (or a watchpoint) before control moves on; with ``check_loads``, after a load
    ``watched`` checks whether it hit a watchpoint on reads (see ``recomp.runtime.watchpoints``)."""

    def __init__(self, region: Region, labels: dict[int, str], volatile: Set[int] = frozenset(),
                 pc_type: Type = I32, check_loads: bool = False) -> None:
        super().__init__(region)
        self.labels = labels
        self.volatile = volatile
        self.pc_type = pc_type
        self.exit_stubs: dict[int, str] = {}
        self.insn: Insn | None = None
        self.check_loads = check_loads
        self.stored = False  # the current instruction has stored to memory
        self.loaded = False  # ... has loaded, with ``check_loads``
        self.traps: set[int] = set()  # branches to themselves: T blocks to add
        self.return_sites: list[int] = []  # where the region's calls return to, if it holds them

    def label_for(self, addr: int) -> str:
        """The block that runs guest address ``addr``: in the region, or an exit stub."""
        if addr in self.labels:
            return self.labels[addr]
        return self.exit_stubs.setdefault(addr, f"X{addr:04X}")

    def start(self, insn: Insn) -> None:
        self.insn = insn
        self.stored = self.loaded = False
        self.emit("insn", insn.addr, insn.cycles, comment=insn)  # (its text, when printed)

    def store(self, addr: Value, value: Value) -> None:
        self.emit("store", addr, value)
        self.stored = True

    def load(self, addr: Value, type: Type | None = None, comment: str = "") -> Value:
        self.loaded = self.loaded or self.check_loads
        return self.emit("load", addr, type=type, comment=comment)

    def check_accesses(self, next_pc: Value | int) -> None:
        """Emit the checks for this instruction's accesses (``smc``, ``watched``), continuing at ``next_pc``."""
        if self.stored or self.loaded:
            pc = next_pc if isinstance(next_pc, Value) else self.const(self.pc_type, next_pc)
            if self.stored:
                self.smc(pc)
            if self.loaded:
                self.watched(pc)
            self.stored = self.loaded = False

    def goto(self, addr: int) -> None:
        self.check_accesses(addr)
        if self.insn is not None and addr == self.insn.addr:
            self.trap(addr)
        else:
            self.br(self.label_for(addr))

    def branch(self, cond: Value, taken: int, not_taken: int) -> None:
        if self.insn is not None and taken == self.insn.addr:
            taken_label = f"T{taken:04X}"
            self.traps.add(taken)
        else:
            taken_label = self.label_for(taken)
        self.cbr(cond, taken_label, self.label_for(not_taken))

    def jump_to(self, target: Value) -> None:
        """Leave the region for a computed guest address; a return first tries the addresses the
        region's calls return to."""
        self.check_accesses(target)
        if self.insn is not None and self.insn.is_return and self.return_sites:
            self.jump_ind(target, *(self.labels[site] for site in self.return_sites))
        else:
            self.exit_ind(target)

    @property
    def terminated(self) -> bool:
        return self.block is not None and self.block.terminator is not None


def _discover(fe: Frontend, memory: Sequence[int], entry: int, end: int, limit: int,
              stops: Set[int], volatile: Set[int], follow: bool) -> tuple[dict[int, Insn | DecodeError], set[int]]:
    decoded: dict[int, Insn | DecodeError] = {}
    leaders = {entry}
    work = deque([entry])  # breadth first: the code nearest the entry (its loop) before the rest
    while work:
        addr = work.popleft()
        while addr not in decoded and len(decoded) < limit and (addr == entry or addr not in stops):
            try:
                insn = fe.decode(memory, addr, end, volatile)
            except DecodeError as error:
                decoded[addr] = error
                break
            decoded[addr] = insn
            if insn.ends_block:
                if follow:
                    new = [a for a in dict.fromkeys(_next_blocks(insn)) if a not in leaders]  # (callee first)
                    leaders.update(new)
                    work.extend(new)
                break
            addr = insn.next
    return decoded, leaders


def discover(fe: Frontend, memory: Sequence[int], entry: int, end: int, limit: int = REGION_INSTRUCTIONS,
             stops: Set[int] = frozenset()) -> tuple[dict[int, Insn], set[int]]:
    """The instructions reachable from ``entry`` over static branches (up to ``limit``, none at a
    stop address but the entry) and where blocks start among them, as regions find them."""
    decoded, _ = _discover(fe, memory, entry, end, limit, stops, frozenset(), True)
    insns = {addr: item for addr, item in decoded.items() if isinstance(item, Insn)}
    return insns, _leaders(decoded, entry) & insns.keys()


def _next_blocks(insn: Insn) -> list[int]:
    """Where the blocks after an instruction that ends one start: its targets (a call's callee),
    then the code after it, or that its call returns to."""
    after = insn.next if insn.falls_through else insn.returns_to
    return [*insn.targets, *([after] if after is not None else [])]


def _leaders(decoded: dict[int, Insn | DecodeError], entry: int) -> set[int]:
    """Where blocks start (the native interpreter's control transfers land there too)."""
    return {entry}.union(*(_next_blocks(i) for i in decoded.values() if isinstance(i, Insn) and i.ends_block))


def hot_loops(fe: Frontend, memory: Sequence[int], end: int, targets: Sequence[int], profile: Callable[[int], int],
              threshold: int, stops: Set[int] = frozenset(), volatile: Set[int] = frozenset(),
              limit: int = REGION_INSTRUCTIONS) -> list[tuple[int, int]]:
    """The hot loops through ``targets`` (control transfer targets, the most run
    first): loops that, with the subroutines they call, ran ``threshold`` instructions or more by
    the profile, as (its head, the target it was found through).  A loop is hot as a whole even
    where none of its targets is (cc65's loops run a few instructions between calls, returns and
    branches).  Each loop is counted once.

    A loop's head is where a loop entered from outside starts (``_head``): the native interpreter
    enters a region only at its entry, so each time a loop whose region is entered in its middle
    starts, its first time round runs on the native interpreter, up to that entry (lz ran 4 of
    its 56 M instructions so).  The loop is found through the target (``build_region``'s
    ``head``): the head may have run little on the native interpreter, its loop mostly in a
    region entered at the target."""
    found: list[tuple[int, int]] = []
    held: set[int] = set()
    for target in targets:
        if target in held:
            continue
        wider = _discover(fe, memory, target, end, LOOP_FACTOR * limit, stops, volatile, True)[0]
        insns = {a: i for a, i in wider.items() if isinstance(i, Insn)}
        loop, often = _hot_loop(insns, _leaders(wider, target), target, profile)
        cycle = _cycle(insns, loop, target)
        code = _with_callees(insns, loop) if cycle else set()
        if sum(often[addr] for addr in code) >= threshold:
            found.append((_head(insns, cycle, target), target))
            held |= code
    return found


def _cycle(insns: dict[int, Insn], loop: Set[int], entry: int) -> set[int]:
    """The instructions of ``loop`` (hot code that reaches ``entry``: ``_reaching``) on a way from
    ``entry`` back to it; none where hot code only leads to it."""
    seen: set[int] = set()
    work = [entry] if entry in loop else []
    while work:
        for succ in _within(insns[work.pop()]):
            if succ in loop and succ not in seen:
                seen.add(succ)
                work.append(succ)
    return seen if entry in seen else set()


def _head(insns: dict[int, Insn], cycle: Set[int], target: int) -> int:
    """The head of the innermost loop through ``target``: the target of the shortest branch back
    over it (compilers put a loop's head first and branch back to it at its end; an outer loop's
    branch back spans more)."""
    back = [(addr - head, head) for addr in cycle for head in _within(insns[addr]) if head <= target <= addr
            and head in cycle]
    return min(back)[1] if back else target


def _hot_loop(insns: dict[int, Insn], starts: Set[int], entry: int, profile: Callable[[int], int]
              ) -> tuple[frozenset[int], dict[int, float]]:
    """The hot loop through ``entry`` (its instructions that ran more than 1/``HOT_SHARE`` as
    often as the most run one, from which the entry is reached again), and how often each
    instruction ran."""
    often = _frequencies(insns, starts, profile)
    least = max(often.values(), default=0) / HOT_SHARE
    return frozenset(_reaching(insns, entry, lambda addr: often[addr] > least)), often


def _within(insn: Insn) -> list[int]:
    """Where control goes next within a subroutine: a call goes on at its return address."""
    if insn.returns_to is not None:
        return [insn.returns_to]
    return [*insn.targets, *([insn.next] if insn.falls_through or not insn.ends_block else [])]


def _callees(insn: Insn) -> list[int]:
    return list(insn.targets) if insn.returns_to is not None else []


def _frequencies(insns: dict[int, Insn], starts: Set[int], profile: Callable[[int], int]) -> dict[int, float]:
    """How often each instruction ran, from the instructions run from each control transfer's
    target (the native interpreter's counters): a run goes on to the next control instruction."""
    often = dict.fromkeys(insns, 0.0)
    for start in starts:
        run, addr = [], start
        while addr in insns and len(run) < len(insns):
            run.append(addr)
            if insns[addr].ends_block:
                break
            addr = insns[addr].next
        for addr in run:
            often[addr] += profile(start) / len(run)
    return often


def _reaching(insns: dict[int, Insn], entry: int, keep: Callable[[int], bool]) -> set[int]:
    """The instructions (that ``keep`` accepts) from which the entry is reached again within its
    subroutine: the loop through the entry.  (A return goes back to its own call: two loops
    calling one helper are not one loop.)"""
    before: dict[int, list[int]] = {}
    for addr, insn in insns.items():
        for succ in _within(insn):
            before.setdefault(succ, []).append(addr)
    loop, work = {entry}, [entry]
    while work:
        for pred in before.get(work.pop(), ()):
            if pred not in loop and keep(pred):
                loop.add(pred)
                work.append(pred)
    return loop if len(loop) > 1 or entry in before.get(entry, ()) else set()


def _with_callees(insns: dict[int, Insn], code: set[int]) -> set[int]:
    """``code`` and the subroutines it calls, and theirs."""
    code = set(code)
    work = [callee for addr in code for callee in _callees(insns[addr])]
    while work:
        addr = work.pop()
        if addr in insns and addr not in code:
            code.add(addr)
            work.extend(_within(insns[addr]) + _callees(insns[addr]))
    return code


def _covered_bytes(insn: Insn, volatile: Set[int], dynamic_operands: bool, follow: bool) -> set[int]:
    """The bytes whose rewriting changes the lifted code: all of them, except operand bytes a
    guest with dynamic operands reads at run time.  Code lifted without following its branches
    leaves at every one of them, so only the bytes that decide what state it touches count:
    opcodes and ``Insn.shape``."""
    opcode, *operands = insn.byte_addresses()
    if not follow:
        return {opcode} | {(insn.addr + i) & insn.mask for i in insn.shape}
    return {opcode} | {a for a in operands if not (dynamic_operands and a in volatile)}


def build_region(fe: Frontend, memory: Sequence[int], entry: int, end: int,
                 limit: int = REGION_INSTRUCTIONS, volatile: Set[int] = frozenset(),
                 stops: Set[int] = frozenset(), follow: bool = True, check_loads: bool = False,
                 profile: Callable[[int], int] | None = None, head: int | None = None
                 ) -> tuple[Region, set[int], frozenset[int]]:
    """Lift the code reachable from ``entry``; ``limit=1`` gives one instruction and its exits.
    ``follow=False``: only the straight-line code at ``entry``, every branch leaving the region
    (the optimizer's look ahead at a region's exits); ``check_loads``: a ``watched`` check after
    every instruction that loads (while a watchpoint is on reads); ``profile``: how many
    instructions ran from each control transfer's target (a hot loop through the entry is then
    held whole); ``head``: the region holds the code found from ``entry`` as said, but is entered
    at this instruction of its hot loop instead (``hot_loops``).  Returns the region, the guest
    bytes whose rewriting changes it, and the instructions of that hot loop (code entered there
    reaches ``entry`` within one time round; none without a profile)."""
    decoded, leaders = _discover(fe, memory, entry, end, limit, stops, volatile, follow)
    loop: frozenset[int] = frozenset()
    if profile is not None and follow and limit > 1:
        cut = len(decoded) >= limit  # the region is cut short: a hot loop may hold more
        wider = _discover(fe, memory, entry, end, LOOP_FACTOR * limit, stops, volatile, True)[0] if cut else decoded
        insns = {a: i for a, i in wider.items() if isinstance(i, Insn)}
        loop, _ = _hot_loop(insns, _leaders(wider, entry), entry, profile)
        if loop and cut:
            held = _with_callees(insns, loop)
            nearest = [a for a in wider if a not in held][:max(0, limit - len(held))]
            decoded = {a: item for a, item in wider.items() if a in held or a in nearest}
            leaders = _leaders(decoded, entry)
    if head is not None and head in loop:
        entry = head
    starts = [entry, *sorted(a for a in leaders if a in decoded and a != entry)]
    region = Region(fe.guest.name, entry)
    # a branch back to an entry that is a stop address leaves the region: execution stops there
    # again (a breakpoint, a hook) rather than looping inside
    targets = {a: f"L{a:04X}" for a in starts if a != entry or entry not in stops} if follow else {}
    b = RegionBuilder(region, targets, volatile, fe.guest.pc_type, check_loads)
    b.return_sites = sorted({item.returns_to for item in decoded.values()
                             if isinstance(item, Insn) and item.returns_to in targets})
    covers: set[int] = set()
    for start in starts:
        run: list[Insn] = []
        addr = start
        stop: DecodeError | None = None
        while True:
            if addr == entry and entry in stops and (run or start != entry):
                break  # back at the stop: leave
            item = decoded.get(addr)
            if not isinstance(item, Insn):
                stop = item  # an undecodable instruction, or code not discovered
                break
            run.append(item)
            addr = item.next
            if item.ends_block or addr in b.labels or limit == 1:
                break
        b.new_block(f"L{start:04X}", start)
        if run:
            b.guard(len(run), sum(insn.max_cycles for insn in run))
        for insn in run:
            b.start(insn)
            fe.lift(b, insn)
            covers |= _covered_bytes(insn, volatile, fe.guest.dynamic_operands, follow)
            if not b.terminated:
                b.check_accesses(insn.next)
        if not b.terminated:
            if isinstance(stop, DecodeError):
                b.fault(stop.addr)
                covers.update(a for a in (stop.addr,) if a < len(memory))
            else:
                b.goto(addr)
    for addr in sorted(b.traps):
        b.new_block(f"T{addr:04X}", addr)
        b.trap(addr)
    for addr, label in b.exit_stubs.items():
        b.new_block(label, addr)
        b.exit(addr)
    return region, covers, loop

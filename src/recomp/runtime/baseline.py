"""The baseline tier: hot code stitched from stencils at once (``recomp.backend.stitch``), to run
while LLVM compiles its region in the background, which then takes its place.

A region here is the code reachable from the hot address over static branches, as regions
find it; each block starts with its budget check.  Its operand bytes are stitched in, so the
region covers every byte of its instructions: a store there drops the code, as a store into any
translation does; code whose operands the program has rewritten (volatile bytes) is left to the
native interpreter until LLVM's code, which reads them as it runs, takes its place.
Code that has stop addresses in it ends before them; while a trace records, or a watchpoint
is on reads, nothing is stitched (the stencils write no trace, and a watched load would be
seen only at the end of its block; a watched store leaves at once, as a store into code does).
The stencils' object comes as the native interpreter's does (``recomp.runtime.interpreters``):
prebuilt, from the code cache, or built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from typing import TYPE_CHECKING

from recomp.frontends.base import Frontend, Insn
from recomp.frontends.region import discover

if TYPE_CHECKING:
    from recomp.backend.compiled import Compiled
    from recomp.backend.stitch import StencilSet, Step
    from recomp.runtime.code_cache import CodeCache

_STENCILS: dict[str, StencilSet | None] = {}  # per guest, once per process (None: not to be had)


def stencil_set(frontend: Frontend, cache: CodeCache | None) -> StencilSet | None:
    """The guest's stencils, or None where the baseline compiler cannot place them (a host
    other than the one recomp's linker takes, or an object it refuses)."""
    name = frontend.guest.name
    if name not in _STENCILS:
        from recomp.backend.loader import SUPPORTED
        from recomp.backend.objects import MalformedObject
        from recomp.backend.stitch import StencilSet
        from recomp.runtime.interpreters import stencil_object

        found = None
        if SUPPORTED:
            try:
                found = StencilSet.parse(stencil_object(frontend, cache))
            except MalformedObject:
                found = None
        _STENCILS[name] = found
    return _STENCILS[name]


def plan(frontend: Frontend, memory: Sequence[int], entry: int, stops: Set[int], limit: int,
         stencils: StencilSet, profile: Callable[[int], int] = lambda addr: 0) -> tuple[list[Step], list[int]]:
    """The steps of the region at ``entry`` (the entry first, then in address order), and where
    its computed transfers may go within it: the return sites of its calls.  A return's step
    lists the return sites it goes to, the likeliest first (``guessed_returns``, by ``profile``:
    the instructions run from each address)."""
    from recomp.backend.stitch import Step

    insns, leaders = discover(frontend, memory, entry, len(memory), limit, stops)
    insns = {addr: insn for addr, insn in insns.items() if stencils.has(memory[addr])}
    if entry not in insns:
        return [], []
    starts = ({entry} | leaders) & insns.keys()
    rest = _rest_of_blocks(insns, starts)
    guesses = guessed_returns(insns, starts, profile)
    steps = []
    for addr in [entry, *sorted(insns.keys() - {entry})]:
        insn = insns[addr]
        taken = insn.targets[0] if insn.targets else None
        after = insn.next if insn.falls_through or taken is None else taken
        operands = bytes(memory[a] for a in insn.byte_addresses()[1:])
        guard = rest[addr] if addr in starts else None
        later = (0, 0) if _ends_block(insn, insns, starts) else rest[insn.next][::2]
        steps.append(Step(addr, memory[addr], operands, after, taken, guard, later, guesses.get(addr, ())))
    returns = sorted({insn.returns_to for insn in insns.values() if insn.returns_to in starts})
    return steps, returns


def guessed_returns(insns: dict[int, Insn], starts: Set[int], profile: Callable[[int], int]
                    ) -> dict[int, tuple[int, ...]]:
    """For each return of the region, the return sites in it it goes to: those of the calls
    whose callee reaches it, the most run first.  Stitched code compares its target with them,
    in that order, before it searches all the region's return sites (cc65's loops call a
    runtime helper every few instructions: on the long sieve's stitched code the search took
    7 % of the time, the returns themselves 16 %)."""
    reached: dict[int, set[int]] = {}  # a callee's entry -> the returns its code reaches

    def returns_of(callee: int) -> set[int]:
        if callee not in reached:
            found, seen, todo = set(), set(), [callee]
            while todo:
                addr = todo.pop()
                insn = insns.get(addr)
                if insn is None or addr in seen:
                    continue
                seen.add(addr)
                if insn.is_return:
                    found.add(addr)
                elif insn.returns_to is not None:  # a call within: its callee returns here
                    todo.append(insn.returns_to)
                else:
                    todo.extend(insn.targets)
                    if insn.falls_through:
                        todo.append(insn.next)
            reached[callee] = found
        return reached[callee]

    sites: dict[int, set[int]] = {}
    for insn in insns.values():
        if insn.returns_to in starts and insn.targets:
            for addr in returns_of(insn.targets[0]):
                sites.setdefault(addr, set()).add(insn.returns_to)
    return {addr: tuple(sorted(found, key=lambda site: (-profile(site), site))) for addr, found in sites.items()}


def _rest_of_blocks(insns: dict[int, Insn], starts: Set[int]) -> dict[int, tuple[int, int, int]]:
    """For each instruction, the instructions, most cycles and base cycles from it to the end of
    its block (a control transfer, the next block's start, or the end of the code found)."""
    rest: dict[int, tuple[int, int, int]] = {}
    for first in insns:
        path, addr, after = [], first, (0, 0, 0)
        while addr not in rest:
            path.append(addr)
            insn = insns[addr]
            if _ends_block(insn, insns, starts):
                break
            addr = insn.next
        else:
            after = rest[addr]
        for addr in reversed(path):
            insn = insns[addr]
            after = (after[0] + 1, after[1] + insn.max_cycles, after[2] + insn.cycles)
            rest[addr] = after
    return rest


def _ends_block(insn: Insn, insns: dict[int, Insn], starts: Set[int]) -> bool:
    return insn.ends_block or insn.next in starts or insn.next not in insns


def stitched(frontend: Frontend, memory: Sequence[int], entry: int, stops: Set[int], volatile: Set[int],
             limit: int, cache: CodeCache | None, compiled: Callable[[int], bool] = lambda addr: False,
             profile: Callable[[int], int] = lambda addr: 0) -> tuple[Compiled, set[int], int] | None:
    """The region at ``entry`` stitched now, the bytes it covers (its instructions') and how
    many instructions it holds; None if the guest has no stencils here, none for the
    instruction at ``entry``, the code has ``volatile`` bytes (rewritten by the program), or
    LLVM's code holds most of it already (``compiled`` bytes: stitched code would take their
    loops over from faster code until LLVM's code for ``entry`` is ready)."""
    stencils = stencil_set(frontend, cache)
    if stencils is None:
        return None
    from recomp.backend.stitch import stitch

    steps, returns = plan(frontend, memory, entry, stops, limit, stencils, profile)
    mask = frontend.guest.memory_size - 1
    covers = {(step.addr + k) & mask for step in steps for k in range(1 + len(step.operands))}
    if not steps or covers & volatile or 2 * sum(map(compiled, covers)) > len(covers):
        return None
    name = f"{frontend.guest.name}_stitched_{entry:04x}"
    return stitch(stencils, steps, returns, mask, name), covers, len(steps)

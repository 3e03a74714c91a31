"""The baseline compiler: a region's code made by copying stencils (``recomp.backend.stencils``)
side by side and writing their holes, in well under a millisecond and without LLVM.

``StencilSet.parse`` takes the stencils' object file apart once per process, refusing anything
but what the stencils are built to hold: functions in one code section whose relocations are
32-bit absolute holes (a guest address, a budget) and 32-bit relative jumps to successors.
``stitch`` lays out a region from its ``Step``s: the entry stub, then each step's stencil in
order (a block's guard before its first), the dispatch of computed targets, then a way out for
every successor outside the region.  Every stencil keeps its jump to the next, even where the
next is the stencil after it (LLVM places a stencil's slow paths after that jump).  The code
gets pages of its own (``recomp.backend.loader.Pages``): written, then mapped read+execute.
"""

from __future__ import annotations

import bisect
import ctypes
import itertools
import mmap
import re
import time
from collections.abc import Callable
from typing import NamedTuple

from recomp.backend.compiled import REGION_FUNCTION, Compiled
from recomp.backend.loader import PAGE, SHF_EXECINSTR, Pages, loaded_sections, relocations
from recomp.backend.objects import SHT_RELA, STT_FUNC, SYMBOL, MalformedObject, sections, string, symbol_table
from recomp.ir.evaluate import BINARY, CAST, select
from recomp.ir.types import TYPES, Type

# the stencils' names and holes (see recomp.backend.stencils, which builds them)
ENTER, GUARD, LEAVE, LEAVE_TRAP = "enter", "guard", "leave_jump", "leave_trap"
DISPATCH, LEAVE_ELSEWHERE = "dispatch", "leave_elsewhere"
SUCCESSORS = ("NEXT", "TAKEN", "ELSEWHERE")  # holes: where a stencil goes on
FIRST = "FIRST"  # hole: the region's first stencil (entered by ``enter``)
NEXT_PC, TAKEN_PC = "NEXT_PC", "TAKEN_PC"  # holes: the guest addresses of those successors
GUARD_N, GUARD_C = "GUARD_N", "GUARD_C"  # holes: a block's instructions and most cycles
BLOCK_C = "BLOCK_C"  # hole: a block's base cycles (its guard counts them, and its instructions)
# holes: the instructions and base cycles of the block after a step's (what its exits uncount)
LATER_N, LATER_C = "LATER_N", "LATER_C"
CASE_PC = "CASE_PC"  # hole: the address a dispatch case compares a computed target with
NOWHERE = 1 << 20  # a ``TAKEN_PC`` no guest address equals (a transfer without a static target)


def opcode_stencil(opcode: int) -> str:
    return f"op_{opcode:02X}"


def pc_hole(offset: int) -> str:
    """The hole holding an instruction's address plus ``offset``."""
    return f"PC{offset}"


def operand_hole(offset: int) -> str:
    """The hole holding the byte at an instruction's address plus ``offset`` (an operand)."""
    return f"OP{offset}"


# A *derived* hole holds a pure icode expression of an instruction's address and operands (a
# branch's target, an absolute operand's address), computed when the code is stitched; its
# name is the expression: ``X:`` and a term, where a term is ``PCk.type`` or ``OPk.type`` (a
# leaf hole), ``#value.type`` (a constant), or ``op.type(term,...)`` (an op of
# ``recomp.ir.evaluate``; its result's type).
DERIVED = "X:"
SUCCESSOR = "SUCC:"  # a successor hole named by a term: go on at the code for that guest address
TRAP_SUCCESSOR = "TRAP:"  # ... or, if that address is the instruction's own, stop there: a trap
_TERM = re.compile(r"(PC\d|OP\d|#\d+)\.(i\d+)|([a-z]+)\.(i\d+)\(")
DERIVABLE = frozenset(BINARY) | frozenset(CAST) | {"select"}  # the ops a term may hold


class Term(NamedTuple):
    """A parsed term of a derived hole: a leaf hole, a constant, or an op of others."""

    name: str  # "PCk"/"OPk", "#" for a constant, or the op
    type: Type
    value: int = 0  # a constant's
    args: tuple[Term, ...] = ()


def parse_term(text: str) -> Term:
    """A derived hole's expression (the name after ``X:``); ``ValueError`` unless it is one."""
    term, end = _parse(text, 0)
    if end != len(text):
        raise ValueError(f"not a term: {text!r}")
    return term


def _parse(text: str, at: int) -> tuple[Term, int]:
    found = _TERM.match(text, at)
    if found is None or (found[2] or found[4]) not in TYPES:
        raise ValueError(f"not a term: {text!r}")
    leaf, leaf_type, op, op_type = found.groups()
    if leaf and leaf[0] == "#":
        return Term("#", TYPES[leaf_type], int(leaf[1:]) & TYPES[leaf_type].mask), found.end()
    if leaf:
        return Term(leaf, TYPES[leaf_type]), found.end()
    if op not in DERIVABLE:
        raise ValueError(f"not a term: {text!r}")
    args, at = [], found.end()
    while True:
        arg, at = _parse(text, at)
        args.append(arg)
        if text[at:at + 1] == ")":
            break
        if text[at:at + 1] != ",":
            raise ValueError(f"not a term: {text!r}")
        at += 1
    arity = 3 if op == "select" else 2 if op in BINARY else 1
    if len(args) != arity:
        raise ValueError(f"not a term: {text!r}")
    return Term(op, TYPES[op_type], 0, tuple(args)), at + 1


def compile_term(term: Term) -> Callable[[dict[str, int]], int]:
    """A function computing the term's value from the leaf holes' values, as
    ``recomp.ir.evaluate`` computes icode (made once per stencil set: the stitcher computes the
    derived holes of every instruction it lays out)."""
    if term.name == "#":
        value = term.value
        return lambda leaves: value
    if not term.args:
        name, mask = term.name, term.type.mask
        return lambda leaves: leaves[name] & mask
    args = [compile_term(arg) for arg in term.args]
    if term.name in BINARY:
        binary, operands, (a, b) = BINARY[term.name], term.args[0].type, args
        return lambda leaves: binary(operands, a(leaves), b(leaves))
    if term.name in CAST:
        cast, source, result, (a,) = CAST[term.name], term.args[0].type, term.type, args
        return lambda leaves: cast(source, result, a(leaves))
    a, b, c = args
    return lambda leaves: select(a(leaves), b(leaves), c(leaves))


ABSOLUTE = {10: False, 11: True}  # R_X86_64_32, R_X86_64_32S: signed?
RELATIVE = (2, 4)  # R_X86_64_PC32, R_X86_64_PLT32
VALUE_HOLES = re.compile(rf"PC\d|OP\d|{DERIVED}.+|{NEXT_PC}|{TAKEN_PC}|{CASE_PC}"
                         rf"|{GUARD_N}|{GUARD_C}|{BLOCK_C}|{LATER_N}|{LATER_C}")
JUMP_HOLES = (*SUCCESSORS, FIRST)
BY_TERM = (SUCCESSOR, TRAP_SUCCESSOR)  # successor holes named by a term
PC_HOLES = 4  # PC0..PC3: an instruction's address and its operand bytes'
PC_NAMES = tuple(pc_hole(k) for k in range(PC_HOLES))
OPERAND_NAMES = tuple(operand_hole(k) for k in range(1, PC_HOLES))  # OP1..OP3


class Stencil(NamedTuple):
    code: bytes
    holes: tuple[tuple[int, int, str, int], ...]  # (offset, relocation type, hole, addend)


class Hole(NamedTuple):
    """A hole as the stitcher writes it."""

    offset: int
    name: str
    addend: int
    relative: bool  # a jump, relative to where the code runs (else an absolute value)
    low: int  # the values it can hold: low <= value < high
    high: int
    term: Callable[[dict[str, int]], int] | None  # a derived hole's value from the leaf holes'


class Step(NamedTuple):
    """One guest instruction of a region to stitch: its stencil's opcode, its operand bytes,
    where it goes on (``taken`` None: no static target) and, at a block's start, the block's
    budget."""

    addr: int
    opcode: int
    operands: bytes
    next: int
    taken: int | None = None
    guard: tuple[int, int, int] | None = None  # (instructions, most and base cycles) of the block it starts
    later: tuple[int, int] = (0, 0)  # (instructions, base cycles) of its block after it
    guesses: tuple[int, ...] = ()  # a return's: the return sites it goes to, the likeliest first


class StencilSet:
    """The stencils of one object file, by name (``op_A9``, ``guard``...)."""

    def __init__(self, stencils: dict[str, Stencil]) -> None:
        self.stencils = stencils
        # each derived hole's term, by its name, as a function of the leaf holes
        compiled = {hole: compile_term(parse_term(hole[len(prefix):])) for stencil in stencils.values()
                    for _, _, hole, _ in stencil.holes for prefix in (DERIVED, *BY_TERM) if hole.startswith(prefix)}
        # each stencil's holes as the stitcher writes them, and its successor holes named by a
        # term: (hole, its target's term, whether a target that is the instruction's own traps)
        self.holes = {name: tuple(_hole(offset, kind, hole, addend, compiled.get(hole))
                                  for offset, kind, hole, addend in stencil.holes)
                      for name, stencil in stencils.items()}
        self.successor_holes = {name: [(hole, compiled[hole], hole.startswith(TRAP_SUCCESSOR))
                                       for _, _, hole, _ in stencil.holes if hole.startswith(BY_TERM)]
                                for name, stencil in stencils.items()}

    @classmethod
    def parse(cls, data: bytes) -> StencilSet:
        """Take the object apart; ``MalformedObject`` for anything stencils do not hold."""
        found = sections(data)
        loaded = loaded_sections(found)
        if len(loaded) != 1 or not found[loaded[0]].flags & SHF_EXECINSTR:
            raise MalformedObject("stencils are code in one section, and nothing else")
        text_index = loaded[0]
        text = found[text_index]
        table, strings = symbol_table(found)
        symbols = []
        for offset in range(table.offset, table.offset + table.size, SYMBOL.size):
            name, info, _, shndx, value, size = SYMBOL.unpack_from(data, offset)
            symbols.append((string(data, strings.offset, strings.size, name).decode("ascii", "replace"),
                            info & 0xF, shndx, value, size))
        functions = sorted((value, value + size, name) for name, kind, shndx, value, size in symbols
                           if kind == STT_FUNC and shndx == text_index)
        if any(end > text.size or start >= end for start, end, _ in functions):
            raise MalformedObject("a stencil lies outside its section")
        if any(a[1] > b[0] for a, b in itertools.pairwise(functions)):
            raise MalformedObject("stencils overlap")
        starts = [start for start, _, _ in functions]
        holes: dict[str, list[tuple[int, int, str, int]]] = {name: [] for _, _, name in functions}
        for table_section in (s for s in found if s.type == SHT_RELA and s.info == text_index):
            for offset, kind, index, addend in relocations(data, table_section):
                hole = symbols[index][0] if index < len(symbols) else ""
                value_hole = kind in ABSOLUTE and VALUE_HOLES.fullmatch(hole)
                if not (value_hole or (kind in RELATIVE and (hole in JUMP_HOLES or hole.startswith(BY_TERM)))):
                    raise MalformedObject(f"a stencil's relocation (type {kind}, {hole or 'no symbol'}) is no hole")
                index = bisect.bisect_right(starts, offset) - 1
                if index < 0 or offset + 4 > functions[index][1]:
                    raise MalformedObject("a relocation lies outside every stencil")
                start, _, name = functions[index]
                holes[name].append((offset - start, kind, hole, addend))
        code = data[text.offset:text.offset + text.size]
        stencils = {name: Stencil(code[start:end], tuple(holes[name])) for start, end, name in functions}
        if any(name not in stencils for name in (ENTER, GUARD, LEAVE, LEAVE_TRAP, DISPATCH, LEAVE_ELSEWHERE)):
            raise MalformedObject("the stencils lack the entry, the guard, the dispatch or the ways out")
        try:
            return cls(stencils)
        except ValueError as error:
            raise MalformedObject(f"a stencil's derived hole is no term ({error})") from None

    def has(self, opcode: int) -> bool:
        return opcode_stencil(opcode) in self.stencils


def stitch(stencils: StencilSet, steps: list[Step], cases: list[int], mask: int, name: str) -> Compiled:
    """The region of ``steps`` (the first is its entry) as native code, its computed transfers
    dispatched among ``cases`` (addresses of steps that start blocks: a region's return sites)
    by a search tree, a return's own ``guesses`` compared first; guest addresses wrap with
    ``mask``.  Its entry point has the prototype of every region."""
    start = time.perf_counter()
    at = {step.addr: index for index, step in enumerate(steps)}
    outside = {target: 0 for step in steps for target in (step.next, step.taken)
               if target is not None and target not in at}
    pieces: list[tuple[str, dict[str, int], dict[str, tuple[str, int]]]] = []  # stencil, values, successors
    starts: dict[int, int] = {}  # step -> its first piece (its guard, if it has one)
    elsewhere = ("piece", -1)  # the dispatch's first piece, once laid out
    chains: list[tuple[int, tuple[int, ...]]] = []  # a return's piece, and the sites it compares after two
    for index, step in enumerate(steps):
        starts[index] = len(pieces)
        address = dict(zip(PC_NAMES, ((step.addr + k) & mask for k in range(PC_HOLES))))
        address.update(zip(OPERAND_NAMES, step.operands))
        if step.guard is not None:
            n, most, base_cycles = step.guard
            pieces.append((GUARD, {**address, GUARD_N: n, GUARD_C: most, BLOCK_C: base_cycles},
                           {"NEXT": ("piece", len(pieces) + 1)}))
        next_pc, taken_pc = step.next, NOWHERE if step.taken is None else step.taken
        if step.guesses:  # a return: its stencil compares its target with the likeliest two
            taken_pc, next_pc = step.guesses[0], step.guesses[min(1, len(step.guesses) - 1)]
        stencil = opcode_stencil(step.opcode)
        successors = {"NEXT": ("addr", next_pc), "TAKEN": ("addr", next_pc if taken_pc == NOWHERE else taken_pc),
                      "ELSEWHERE": elsewhere}
        trap = ("piece", len(pieces) + 1)  # (a jump to itself: the way out after the stencil)
        trapped = False
        for hole, term, traps in stencils.successor_holes[stencil]:
            target = term(address) & mask
            if traps and target == step.addr:
                successors[hole], trapped = trap, True
            else:
                successors[hole] = ("addr", target)
                if target not in at:
                    outside.setdefault(target, 0)
        address.update({NEXT_PC: next_pc, TAKEN_PC: taken_pc, LATER_N: step.later[0], LATER_C: step.later[1]})
        if len(step.guesses) > 2:
            chains.append((len(pieces), step.guesses[2:]))
        pieces.append((stencil, address, successors))
        if trapped:
            pieces.append((LEAVE_TRAP, {PC_NAMES[0]: step.addr}, {}))
    for piece, sites in chains:  # a return's other sites, compared one after another
        pieces[piece][2]["ELSEWHERE"] = ("piece", len(pieces))
        for k, site in enumerate(sites):
            on = ("piece", len(pieces) + 1) if k + 1 < len(sites) else elsewhere
            pieces.append((DISPATCH, {CASE_PC: site}, {"TAKEN": ("addr", site), "ELSEWHERE": on, "NEXT": on}))
    nowhere = len(pieces)
    pieces.append((LEAVE_ELSEWHERE, {}, {}))

    def search(sorted_cases: list[int]) -> int:
        """The piece that dispatches among ``sorted_cases``: a balanced tree of comparisons."""
        if not sorted_cases:
            return nowhere
        middle = len(sorted_cases) // 2
        node = len(pieces)
        pieces.append((DISPATCH, {CASE_PC: sorted_cases[middle]}, {}))
        lower, higher = search(sorted_cases[:middle]), search(sorted_cases[middle + 1:])
        pieces[node][2].update(TAKEN=("addr", sorted_cases[middle]), ELSEWHERE=("piece", lower),
                               NEXT=("piece", higher))
        return node

    dispatch = search(sorted(cases))
    for target in outside:
        outside[target] = len(pieces)
        pieces.append((LEAVE, {PC_NAMES[0]: target}, {}))
    code, holes = stencils.stencils, stencils.holes
    offsets, offset = [], len(code[ENTER].code)
    for stencil, _, _ in pieces:
        offsets.append(offset)
        offset += len(code[stencil].code)
    pages = Pages(max(-(-offset // PAGE) * PAGE, PAGE))
    base = pages.address

    def piece_of(successor: tuple[str, int]) -> int:
        kind, value = successor
        if kind == "piece":
            return dispatch if value < 0 else value
        return starts[at[value]] if value in at else outside[value]

    image = bytearray(offset)
    _patch(image, 0, code[ENTER], holes[ENTER], {PC_NAMES[0]: steps[0].addr},
           {FIRST: base + offsets[starts[0]]}, base)
    for index, (stencil, values, successors) in enumerate(pieces):
        jumps = {hole: base + offsets[piece_of(successor)] for hole, successor in successors.items()}
        _patch(image, offsets[index], code[stencil], holes[stencil], values, jumps, base)
    ctypes.memmove(base, bytes(image), len(image))
    pages.protect(0, pages.size, mmap.PROT_READ | mmap.PROT_EXEC)
    return Compiled(REGION_FUNCTION(base), base, name, "", time.perf_counter() - start, pages, b"")


def _hole(offset: int, kind: int, name: str, addend: int, term: Callable[[dict[str, int]], int] | None) -> Hole:
    if kind in ABSOLUTE:
        low, high = (-(1 << 31), 1 << 31) if ABSOLUTE[kind] else (0, 1 << 32)
        return Hole(offset, name, addend, False, low, high, term)
    return Hole(offset, name, addend, True, -(1 << 31), 1 << 31, None)


def _patch(image: bytearray, at: int, stencil: Stencil, holes: tuple[Hole, ...], values: dict[str, int],
           jumps: dict[str, int], base: int) -> None:
    """Copy ``stencil`` to ``at`` and write its holes: ``values`` (derived holes computed from
    them), ``jumps`` relative to where the code runs."""
    image[at:at + len(stencil.code)] = stencil.code
    for hole in holes:
        if hole.relative:
            value = jumps[hole.name] + hole.addend - (base + at + hole.offset)
        else:
            value = (values[hole.name] if hole.term is None else hole.term(values)) + hole.addend
        if not hole.low <= value < hole.high:
            raise ValueError(f"a stencil's hole {hole.name} cannot hold {value:#x}")
        image[at + hole.offset:at + hole.offset + 4] = (value & 0xFFFFFFFF).to_bytes(4, "little")

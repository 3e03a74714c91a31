"""The icode op table: one line per op, read by the verifier, printer, parser, optimizer,
reference engine, LLVM lowering and ``ir/SPEC.md`` alike (a new op that one of them misses fails
a test).

Operand kinds: ``v`` a value, ``i`` an integer immediate, ``a`` a guest address, ``n`` a count,
``r`` a guest register name, ``f`` a guest flag name, ``s`` a register or flag name, ``b`` a block
label, ``h`` a helper name; ``v*`` any number of values, ``b*`` of block labels.

Result rules: ``None`` no result; ``"arg0"``/``"arg1"`` the type of that value operand;
``"i1"`` a condition; ``"decl"`` the type written at the definition (``%3:i16 = zext %2``).

Effects on guest state are declared here and nowhere else: ``access`` for the register or flag
an op names, ``reads`` and ``writes`` for the common state fields (``recomp.ir.guest``),
``leaves`` for the exit reason an op leaves the region with.  Every op that leaves writes ``pc``.
"""

from __future__ import annotations

from enum import IntEnum
from functools import cached_property


class Exit(IntEnum):
    """Why compiled or interpreted code returned; ``pc`` in the state says where the guest is."""

    JUMP = 0
    HALT = 1
    GUARD = 2
    FAULT = 3
    SMC = 4
    TRAP = 5
    HOT = 6
    STEP = 7


EXIT_MEANING: dict[Exit, str] = {
    Exit.JUMP: "continue the guest at `pc`",
    Exit.HALT: "the guest stopped at `pc`",
    Exit.GUARD: "the budgets do not cover the block at `pc`",
    Exit.FAULT: "the instruction at `pc` cannot be decoded; the runtime decodes it again for the message",
    Exit.SMC: "a store hit translated code (or a watchpoint); the runtime drops that code (or stops the run), "
              "the guest continues at `pc`",
    Exit.TRAP: "the instruction at `pc` jumped to itself: a test program's way to stop",
    Exit.HOT: "the native interpreter found `pc` hot: the runtime compiles a region there and continues at `pc`",
    Exit.STEP: "the instruction at `pc` reaches a device, a watched byte or translated code: the runtime runs it "
               "alone (stitched code leaves so before it starts, rather than call the runtime)",
}

BUDGETS = ("instructions", "cycles", "limit", "cycle_limit")  # what a budget check reads


class OpSpec:
    """One op of the table (one object per op: identity is equality).  ``pure``: no effect
    besides its result (removable when unused, foldable); ``terminator``: ends a block;
    ``exits``: may leave the region in the middle of a block; ``commutative``: the two value
    operands may be swapped; ``access``: "read" or "write", the op reads or writes the register or
    flag it names; ``reads``/``writes``: the common state fields it reads and writes;
    ``leaves``: the exit reason it leaves the region with; ``helper``: calls a runtime helper,
    whose effects on state are its own (``Helper.touches_state``); ``observes``: the runtime may
    look at all guest state here (it may stop or take an interrupt), so every register and flag
    must hold its exact value."""

    def __init__(self, name: str, operands: tuple[str, ...], result: str | None, pure: bool = True,
                 terminator: bool = False, exits: bool = False, commutative: bool = False, access: str = "",
                 reads: tuple[str, ...] = (), writes: tuple[str, ...] = (), leaves: Exit | None = None,
                 helper: bool = False, observes: bool = False, doc: str = "") -> None:
        self.name = name
        self.operands = operands
        self.result = result
        self.pure = pure
        self.terminator = terminator
        self.exits = exits
        self.commutative = commutative
        self.access = access
        self.reads = reads
        self.writes = writes
        self.leaves = leaves
        self.helper = helper
        self.observes = observes
        self.doc = doc

    def __repr__(self) -> str:
        return f"OpSpec({self.name!r})"

    @cached_property
    def fields_read(self) -> frozenset[str]:
        """The common state fields it reads."""
        return frozenset(self.reads)

    @cached_property
    def fields_written(self) -> frozenset[str]:
        """The common state fields it writes: ``pc`` too where it leaves."""
        return frozenset(self.writes + (("pc",) if self.leaves is not None else ()))


def _binary(name: str, doc: str, commutative: bool = False) -> OpSpec:
    return OpSpec(name, ("v", "v"), "arg0", commutative=commutative, doc=doc)


def _compare(name: str, doc: str, commutative: bool = False) -> OpSpec:
    return OpSpec(name, ("v", "v"), "i1", commutative=commutative, doc=doc)


def _leave(name: str, operands: tuple[str, ...], reason: Exit, doc: str, **effects: object) -> OpSpec:
    """An op that may leave the region: mid-block (``exits``) unless it is a terminator."""
    terminator = bool(effects.pop("terminator", False))
    return OpSpec(name, operands, None, pure=False, terminator=terminator, exits=not terminator,
                  leaves=reason, doc=doc, **effects)


_TABLE = [
    OpSpec("const", ("i",), "decl", doc="an integer constant"),
    OpSpec("getreg", ("r",), "decl", access="read", doc="read a guest register"),
    OpSpec("setreg", ("r", "v"), None, pure=False, access="write", doc="write a guest register"),
    OpSpec("getflag", ("f",), "i1", access="read", doc="read a guest flag"),
    OpSpec("setflag", ("f", "v"), None, pure=False, access="write", doc="write a guest flag"),
    OpSpec("defer", ("s", "v"), None, pure=False, access="write",
           doc="the register or flag holds this value from here on, but it is written only if the "
               "region leaves before the block ends (see *Deferred values*)"),
    _binary("add", "a + b, wrapping", commutative=True),
    _binary("sub", "a - b, wrapping"),
    _binary("mul", "a * b, wrapping", commutative=True),
    _binary("and", "bitwise and", commutative=True),
    _binary("or", "bitwise or", commutative=True),
    _binary("xor", "bitwise exclusive or", commutative=True),
    _binary("shl", "a << b; 0 when b >= width"),
    _binary("lshr", "a >> b, zero-filling; 0 when b >= width"),
    _binary("ashr", "a >> b, sign-filling; all sign bits when b >= width"),
    _compare("eq", "a == b", commutative=True),
    _compare("ne", "a != b", commutative=True),
    _compare("ult", "a < b, unsigned"),
    _compare("ule", "a <= b, unsigned"),
    _compare("slt", "a < b, signed"),
    _compare("sle", "a <= b, signed"),
    OpSpec("zext", ("v",), "decl", doc="widen, zero-filling"),
    OpSpec("sext", ("v",), "decl", doc="widen, sign-filling"),
    OpSpec("trunc", ("v",), "decl", doc="keep the low bits"),
    OpSpec("select", ("v", "v", "v"), "arg1", doc="c ? a : b (c is i1)"),
    OpSpec("load", ("v",), "decl", pure=False, reads=("cycles",),
           doc="read guest memory: i8, or i16 little-endian; each byte's address wraps; a device "
               "address calls the device (given the cycle count), so a load is removable only "
               "where no device can answer; a byte watched for reads sets `events`"),
    OpSpec("fetch", ("v",), "decl", pure=False,
           doc="read an i8 of code at run time (an operand byte the guest rewrites): guest memory "
               "itself, never a device, as a CPU's instruction fetch; the address wraps"),
    OpSpec("store", ("v", "v"), None, pure=False, reads=("cycles",), writes=("code_written",),
           doc="write an i8 or i16 (little-endian) to guest memory; addresses wrap; a device "
               "address calls the device; a byte of translated code, or one watched for writes, "
               "sets `code_written`"),
    OpSpec("call", ("h", "v*"), "decl", pure=False, helper=True,
           doc="call a runtime helper (PRINT, devices); void helpers have no result"),
    OpSpec("insn", ("a", "n"), None, pure=False, reads=("instructions", "cycles"),
           writes=("instructions", "cycles"),
           doc="a guest instruction starts at this address and takes this many cycles"),
    OpSpec("cycles", ("v",), None, pure=False, reads=("cycles",), writes=("cycles",),
           doc="add this many cycles (page-crossing and taken-branch penalties)"),
    _leave("guard", ("n", "n"), Exit.GUARD, reads=BUDGETS,
           doc="leave unless this many instructions, and at most this many cycles, fit the budgets; "
               "the guest continues at the block's address"),
    OpSpec("settle", ("n", "n"), None, pure=False, reads=(*BUDGETS, "events"),
           doc="write the block's deferred values now unless the budgets cover this many more "
               "instructions and cycles and no interrupt is pending"),
    _leave("poll", ("v",), Exit.JUMP, reads=("events",), observes=True,
           doc="if an interrupt is pending (`events`), leave; the guest continues at the given "
               "address"),
    _leave("smc", ("v",), Exit.SMC, reads=("code_written",), observes=True,
           doc="if a store of this instruction hit translated code or a watched byte "
               "(`code_written`), leave; the guest continues at the given address"),
    _leave("watched", ("v",), Exit.JUMP, reads=("events",), observes=True,
           doc="after an instruction that loads, while a watchpoint is on reads: if a load hit a "
               "watched byte (the runtime then sets `events`), leave; the guest continues at the "
               "given address"),
    _leave("exit_if", ("v", "a"), Exit.JUMP, observes=True,
           doc="if the i1 is 1, leave; the guest continues at this address"),
    _leave("trap_if", ("v", "a"), Exit.TRAP, observes=True,
           doc="if the i1 is 1, leave: the instruction at this address jumped to itself"),
    OpSpec("br", ("b",), None, pure=False, terminator=True, doc="continue at a block of the region"),
    OpSpec("cbr", ("v", "b", "b"), None, pure=False, terminator=True,
           doc="continue at the first block if the i1 is 1, else at the second"),
    _leave("exit", ("a",), Exit.JUMP, terminator=True, observes=True,
           doc="leave the region; the guest continues at this address"),
    _leave("exit_ind", ("v",), Exit.JUMP, terminator=True, observes=True,
           doc="leave the region; the guest continues at a computed address"),
    _leave("jump_ind", ("v", "b*"), Exit.JUMP, terminator=True, observes=True,
           doc="continue at the listed block whose guest address is the value, if one is; else "
               "leave the region, the guest continuing at that address (a return to one of the "
               "region's calls)"),
    _leave("halt", ("a",), Exit.HALT, terminator=True, observes=True,
           doc="the guest stopped at this address (TST27 END)"),
    _leave("fault", ("a",), Exit.FAULT, terminator=True, observes=True,
           doc="the instruction at this address cannot be decoded"),
    _leave("trap", ("a",), Exit.TRAP, terminator=True, observes=True,
           doc="the instruction at this address jumped to itself (a trap, by test convention)"),
]

OPS: dict[str, OpSpec] = {spec.name: spec for spec in _TABLE}

# The ways of leaving, by operand shape (each engine implements one function per shape):
# terminators that leave for an immediate address
LEAVE_AT: dict[str, Exit] = {s.name: s.leaves for s in _TABLE if s.terminator and s.operands == ("a",)}
# mid-block exits taken when the state field they read is set; the guest continues at the value
LEAVE_IF: dict[str, tuple[str, Exit]] = {s.name: (s.reads[0], s.leaves) for s in _TABLE
                                         if s.exits and s.operands == ("v",)}
# mid-block exits taken when their i1 operand is 1; the guest continues at the immediate address
LEAVE_WHEN: dict[str, Exit] = {s.name: s.leaves for s in _TABLE if s.exits and s.operands == ("v", "a")}



def operand_kinds(spec: OpSpec, count: int) -> tuple[str, ...]:
    """The kinds of an op's ``count`` operands: a last kind ending in ``*`` stands for any
    number of that kind."""
    kinds = spec.operands
    if kinds and kinds[-1].endswith("*"):
        return kinds[:-1] + (kinds[-1][:-1],) * max(0, count - len(kinds) + 1)
    return kinds


# the conditional form of each terminator that leaves at an immediate address
CONDITIONAL: dict[str, str] = {"exit": "exit_if", "trap": "trap_if"}

"""The icode op table: one line per op, read by the verifier, printer, parser, optimizer,
reference interpreter and LLVM lowering alike (a new op that one of them misses fails a test).

Operand kinds: ``v`` a value, ``i`` an integer immediate, ``a`` a guest address, ``n`` a count,
``r`` a guest register name, ``f`` a guest flag name, ``s`` a register or flag name, ``b`` a block
label, ``h`` a helper name; ``v*`` any number of values.

Result rules: ``None`` no result; ``"arg0"``/``"arg1"`` the type of that value operand;
``"i1"`` a condition; ``"decl"`` the type written at the definition (``%3:i16 = zext %2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


@dataclass(frozen=True)
class OpSpec:
    name: str
    operands: tuple[str, ...]
    result: str | None
    pure: bool = True  # no effect besides its result: removable when unused, foldable
    terminator: bool = False  # ends a block
    exits: bool = False  # may leave the region in the middle of a block
    commutative: bool = False  # the two value operands may be swapped
    access: str = ""  # "read" or "write": the op reads or writes the state field it names
    observes: bool = False  # the runtime may look at all guest state here (it may stop or take
    # an interrupt), so every register and flag must hold its exact value
    doc: str = ""


def _binary(name: str, doc: str, commutative: bool = False) -> OpSpec:
    return OpSpec(name, ("v", "v"), "arg0", commutative=commutative, doc=doc)


def _compare(name: str, doc: str, commutative: bool = False) -> OpSpec:
    return OpSpec(name, ("v", "v"), "i1", commutative=commutative, doc=doc)


_TABLE = [
    OpSpec("const", ("i",), "decl", doc="an integer constant"),
    OpSpec("getreg", ("r",), "decl", access="read", doc="read a guest register"),
    OpSpec("setreg", ("r", "v"), None, pure=False, access="write", doc="write a guest register"),
    OpSpec("getflag", ("f",), "i1", access="read", doc="read a guest flag"),
    OpSpec("setflag", ("f", "v"), None, pure=False, access="write", doc="write a guest flag"),
    OpSpec("defer", ("s", "v"), None, pure=False, access="write",
           doc="the register or flag holds this value from here on, but it is written only if the "
               "region leaves before the block ends (a mid-block exit, or a settle that finds the "
               "budgets short); at the block's terminator the value is forgotten"),
    _binary("add", "a + b, wrapping", commutative=True),
    _binary("sub", "a - b, wrapping"),
    _binary("mul", "a * b, wrapping", commutative=True),
    _binary("and", "bitwise and", commutative=True),
    _binary("or", "bitwise or", commutative=True),
    _binary("xor", "bitwise exclusive or", commutative=True),
    _binary("shl", "a << b; 0 when b >= width"),
    _binary("lshr", "a >> b, zero-filling; 0 when b >= width"),
    _binary("ashr", "a >> b, sign-filling; sign fill when b >= width"),
    _compare("eq", "a == b", commutative=True),
    _compare("ne", "a != b", commutative=True),
    _compare("ult", "a < b, unsigned"),
    _compare("ule", "a <= b, unsigned"),
    _compare("slt", "a < b, signed"),
    _compare("sle", "a <= b, signed"),
    OpSpec("zext", ("v",), "decl", doc="widen, zero-filling"),
    OpSpec("sext", ("v",), "decl", doc="widen, sign-filling"),
    OpSpec("trunc", ("v",), "decl", doc="keep the low bits"),
    OpSpec("select", ("v", "v", "v"), "arg1", doc="c ? a : b"),
    OpSpec("load", ("v",), "decl", pure=False,
           doc="read guest memory (i8, or i16 little-endian); address wraps; a device address "
               "calls the device, so a load is removable only where no device can answer"),
    OpSpec("store", ("v", "v"), None, pure=False, doc="write guest memory; address wraps"),
    OpSpec("call", ("h", "v*"), "decl", pure=False, doc="call a runtime helper (PRINT, devices)"),
    OpSpec("insn", ("a", "n"), None, pure=False,
           doc="a guest instruction starts at this address and takes this many cycles"),
    OpSpec("cycles", ("v",), None, pure=False, doc="add this many cycles (page-crossing penalties)"),
    OpSpec("guard", ("n", "n"), None, pure=False, exits=True,
           doc="leave the region (exit reason guard) unless this many instructions and at most "
               "this many cycles fit the budgets"),
    OpSpec("settle", ("n", "n"), None, pure=False,
           doc="write the block's deferred values now unless the budgets cover this many more "
               "instructions and cycles and no interrupt is pending"),
    OpSpec("poll", ("v",), None, pure=False, exits=True, observes=True,
           doc="if an interrupt is pending (state field events), leave the region; the guest "
               "continues at the given address"),
    OpSpec("smc", ("v",), None, pure=False, exits=True, observes=True,
           doc="if a store of this instruction hit translated code, leave the region (exit reason "
               "smc); the guest continues at the given address"),
    OpSpec("exit_if", ("v", "a"), None, pure=False, exits=True, observes=True,
           doc="if the i1 is 1, leave the region (exit reason jump); the guest continues at this "
               "address"),
    OpSpec("trap_if", ("v", "a"), None, pure=False, exits=True, observes=True,
           doc="if the i1 is 1, leave the region (exit reason trap): the instruction at this "
               "address jumped to itself"),
    OpSpec("br", ("b",), None, pure=False, terminator=True, doc="continue at a block of the region"),
    OpSpec("cbr", ("v", "b", "b"), None, pure=False, terminator=True,
           doc="continue at the first block if the i1 is 1, else at the second"),
    OpSpec("exit", ("a",), None, pure=False, terminator=True, observes=True,
           doc="leave the region, the guest continues at this address"),
    OpSpec("exit_ind", ("v",), None, pure=False, terminator=True, observes=True,
           doc="leave the region, the guest continues at a computed address"),
    OpSpec("halt", ("a",), None, pure=False, terminator=True, observes=True,
           doc="the guest stopped at this address (TST27 END)"),
    OpSpec("fault", ("a",), None, pure=False, terminator=True, observes=True,
           doc="the guest cannot go on at this address (undecodable instruction)"),
    OpSpec("trap", ("a",), None, pure=False, terminator=True, observes=True,
           doc="the instruction at this address jumped to itself (a trap, by test convention)"),
]

OPS: dict[str, OpSpec] = {spec.name: spec for spec in _TABLE}


class Exit(IntEnum):
    """Why compiled or interpreted code returned; ``pc`` in the state says where the guest is."""

    JUMP = 0  # exit / exit_ind: continue at pc
    HALT = 1  # halt: the guest stopped at pc
    GUARD = 2  # guard: the instruction budget does not cover the block at pc
    FAULT = 3  # fault: the instruction at pc cannot be decoded
    SMC = 4  # smc: a store hit translated code; the guest continues at pc
    TRAP = 5  # trap: the instruction at pc jumped to itself
    HOT = 6  # the native interpreter found pc hot: compile a region there, then continue at pc


# terminators that leave the region at an immediate address, and the reason they return
LEAVE_AT: dict[str, Exit] = {"exit": Exit.JUMP, "halt": Exit.HALT, "fault": Exit.FAULT, "trap": Exit.TRAP}

# ops that leave the region mid-block when a state field is set: (field, reason); the guest
# continues at the op's value operand
LEAVE_IF: dict[str, tuple[str, Exit]] = {"poll": ("events", Exit.JUMP), "smc": ("code_written", Exit.SMC)}

# ops that leave the region mid-block when their i1 operand is 1, at their immediate address
LEAVE_WHEN: dict[str, Exit] = {"exit_if": Exit.JUMP, "trap_if": Exit.TRAP}

# the conditional form of each terminator that leaves at an immediate address
CONDITIONAL: dict[str, str] = {"exit": "exit_if", "trap": "trap_if"}

"""Stencils: every opcode's icode compiled once, as LLVM makes it, into a small function that the
baseline compiler (``recomp.backend.stitch``) copies and patches into a region in microseconds.

A region compiled by LLVM takes it 20 to 250 ms; programs that run a few tens of milliseconds
end before their loops are compiled, on the native interpreter.  Copy-and-patch (Xu and
Kjolstad, 2021; CPython's JIT) gives them code at once: the per-opcode icode the native
interpreter is built from (``recomp.ir.opcodes``), compiled at install time into one function
per opcode whose guest address and successors are *holes* (undefined symbols), stitched at run
time by laying the opcodes' code side by side and writing the holes' values into it.

- Guest state the opcodes use most (``registers``: counters, registers, flags) travels from one
  stencil to the next in host registers: every stencil has the prototype
  ``i32 preserve_none (state, memory, attrs, registers...)`` and goes on with a ``musttail``
  call (a ``jmp``) to the hole ``NEXT``, or, for a control transfer, compares its target with
  ``TAKEN_PC`` and ``NEXT_PC`` and goes on at ``TAKEN`` or ``NEXT``; any other target (a
  return, an indirect jump) goes to ``ELSEWHERE``, the region's dispatch: a search tree of
  ``dispatch`` stencils that each compare it with one address in the region (``CASE_PC``),
  ending in ``leave_elsewhere``.
  An exit (a budget, a store into code, a device asking to stop, a trap, a target outside the
  region) writes the state back and returns an ``Exit`` to the stub that entered the region.
  The other fields live in the state, where each stencil reads and writes them.
- ``PC0`` to ``PCk``: the instruction's address plus 0..k (wrapped), as the icode's address
  constants ``placeholder + k``.  ``OP1`` to ``OPk``: its operand bytes, where the native
  interpreter reads them from guest memory (a zero-page operand is then an address in the
  code: one load less, and a register more, in every instruction that has one).  The region
  covers them, as LLVM's regions do: a store there drops it, and a store of the instruction's
  own there leaves before it (JSR, whose push may rewrite its operand's high byte in the stack
  page before the 6502 reads it: see ``load_byte``).  What the lift computes from these alone
  (a branch's target and its page-cross penalty, an absolute operand's address) is a
  *derived* hole (``StencilLowering.fold``),
  named by its expression and computed when the code is stitched (an address that is one is
  the displacement of the host instruction that accesses memory); a transfer to such a target
  (a jump), or to one of two by a condition (a branch), goes on through a successor hole named
  by it (``SUCC:``), which the stitcher resolves to the code for that address; ``TRAP:`` where
  that address may be the instruction's own, which the stitcher then resolves to
  ``leave_trap``, the way out that reports a jump to itself (the stencil compares nothing).
- ``guard``: the budget check of a block (``GUARD_N`` instructions, at most ``GUARD_C`` cycles),
  placed before the block's first stencil: opcodes do not check budgets themselves.  It also
  counts the block's instructions and base cycles (``BLOCK_C``) ahead, so that opcodes count
  neither (two host instructions less in each); an opcode's way out of the stencils takes back
  what was counted for the instructions after it in its block (``LATER_N``, ``LATER_C``), and
  what a device is told is the cycle count as the runtime's code has it.
- ``leave_jump``: the way out to an address outside the region (its address in ``PC0``).
- ``enter``: the region's entry, of the prototype every region shares: it moves the registers
  from the state into host registers, runs the stencils from ``FIRST``, and on an ``Exit.JUMP``
  goes on in compiled code at the new ``pc`` as regions chain.

The object is built with the small code model and static relocation, so a hole is a 32-bit
absolute value (``R_X86_64_32``) and a successor a 32-bit relative jump (``R_X86_64_PLT32``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from llvmlite import ir as ll

from recomp.backend.lower import (
    I8_T,
    I32_T,
    I64_T,
    PTR,
    Lowering,
    count_entry,
    has_attribute,
    llvm_type,
    lower_lift,
    region_function,
    state_fields,
    state_type,
)
from recomp.backend.native_interpreter import InterpreterLowering
from recomp.backend.sign_zero import NZ, NZ_BITS, SignZeroLowering
from recomp.backend.stitch import (
    BLOCK_C,
    CASE_PC,
    DERIVABLE,
    DERIVED,
    DISPATCH,
    ENTER,
    FIRST,
    GUARD,
    GUARD_C,
    GUARD_N,
    LATER_C,
    LATER_N,
    LEAVE,
    LEAVE_ELSEWHERE,
    LEAVE_TRAP,
    NEXT_PC,
    SUCCESSOR,
    TAKEN_PC,
    TRAP_SUCCESSOR,
    opcode_stencil,
    operand_hole,
    pc_hole,
)
from recomp.ir.core import Op, Value
from recomp.ir.guest import ATTR_READ_HELPER, ATTR_WRITE_CHECK, ATTR_WRITE_HELPER, GuestSpec
from recomp.ir.opcodes import OpcodeLift, OpcodeLifts
from recomp.ir.ops import Exit

CALLING_CONVENTION = "preserve_nonecc"  # every register free to carry state; x86-64: 11 of them
HOST_REGISTERS = 11  # integer arguments preserve_none passes in registers on x86-64
POINTERS = ("state", "memory", "attrs")


def registers(lifts: OpcodeLifts, guest: GuestSpec) -> tuple[str, ...]:
    """The state fields kept in host registers between stencils: the counters, then the fields
    the most opcodes use (the sign and zero flags as one, ``NZ``), as many as the calling
    convention passes in registers."""
    used = Counter(name for lift in lifts.opcodes for name in state_fields([lift.region], guest)[0])
    if guest.sign_zero is not None:
        used[NZ] = max(used.pop(flag, 0) for flag in guest.sign_zero)
    counters = tuple(name for name in ("instructions", "cycles") if name in used)
    others = sorted((name for name in used if name not in counters and name != "code_written"),
                    key=lambda name: (-used[name], name))
    return counters + tuple(others[:HOST_REGISTERS - len(POINTERS) - len(counters)])


def _register_bits(guest: GuestSpec, name: str) -> int:
    return NZ_BITS if name == NZ else dict(guest.fields())[name].bits


def _argument_type(guest: GuestSpec, name: str) -> ll.IntType:
    """Registers travel as i32 (known to hold their field's width: LLVM extends nothing) or i64."""
    return I64_T if _register_bits(guest, name) > 32 else I32_T


@dataclass
class Stencils:
    """What a module of stencils is built from: the guest, its lifts and its host registers."""

    guest: GuestSpec
    lifts: OpcodeLifts
    registers: tuple[str, ...]
    module: ll.Module

    def prototype(self) -> ll.FunctionType:
        return ll.FunctionType(I32_T, [PTR] * len(POINTERS) + [_argument_type(self.guest, n) for n in self.registers])

    def function(self, name: str) -> ll.Function:
        """A stencil (or a successor hole) of the shared prototype."""
        function = self.module.globals.get(name)
        if function is None:
            function = ll.Function(self.module, self.prototype(), name)
            function.calling_convention = CALLING_CONVENTION
            for arg, arg_name in zip(function.args, POINTERS + self.registers):
                arg.name = arg_name
        return function

    def hole(self, b: ll.IRBuilder, name: str, t: ll.IntType = I32_T) -> ll.Value:
        """A hole's value, as an i32 (or ``t``)."""
        symbol = self.module.globals.get(name)
        if symbol is None:
            symbol = ll.GlobalVariable(self.module, I8_T, name)
            symbol.linkage = "external"
        return b.ptrtoint(symbol, t)

    def in_registers(self, name: str) -> bool:
        """Whether a state field travels in a host register (the sign and zero flags: in ``NZ``)."""
        pair = self.guest.sign_zero or ()
        return name in self.registers or (name in pair and NZ in self.registers)

    def arguments(self, lo: Lowering) -> list[ll.Value]:
        """The registers as the next stencil takes them, from ``lo``'s slots."""
        b = lo.builder
        values = []
        for name in self.registers:
            value = b.load(lo.slots[name])
            values.append(b.zext(value, I32_T) if value.type.width < 32 else value)
        return [*lo.function.args[:len(POINTERS)], *values]


@dataclass
class StencilLowering(InterpreterLowering):
    """Lowers one opcode's icode into its stencil: addresses are holes, budgets are the guard's,
    and going on is a jump to the successor hole that the guest's target equals."""

    stencils: Stencils | None = None
    pc_offsets: dict[int, int] = field(default_factory=dict)  # constants ``placeholder + k``: k, by value id
    entry_values: dict[str, ll.Value] = field(default_factory=dict)  # each slot's value as entered
    terms: dict[int, str] = field(default_factory=dict)  # values of holes and constants alone: their terms
    selects: dict[int, tuple[Value, Value, Value]] = field(default_factory=dict)  # a choice of two terms
    derived: dict[int, str] = field(default_factory=dict)  # values that are derived holes: the holes' names
    own_cycles: int = 0  # the instruction's base cycles

    def count_instruction(self, cycles: int) -> None:
        """Nothing to count: the block's guard counted its instructions and base cycles (one add
        each per block, not per instruction); the state as the stencil writes it back does not
        count the block's instructions after this one (``flush``)."""
        self.own_cycles = cycles

    def _later(self, name: str) -> ll.Value | None:
        """What a counter's slot holds beyond its state field's value: the block's instructions
        or base cycles after this instruction (counted ahead by the guard), or None (other
        fields; the stencils that are no instruction's)."""
        hole = {"instructions": LATER_N, "cycles": LATER_C}.get(name)
        return None if hole is None or self.lift is None else self.stencils.hole(self.builder, hole, I64_T)

    def _count_ahead(self, sign: int) -> None:
        """Add (``sign`` 1) or take away (-1) in the counters' slots what the guard counted ahead."""
        b = self.builder
        for name in ("instructions", "cycles"):
            later = self._later(name)
            if later is not None and name in self.slots:
                value = b.load(self.slots[name])
                b.store(b.add(value, later) if sign > 0 else b.sub(value, later), self.slots[name])

    def flush(self) -> None:
        self._count_ahead(-1)
        super().flush()
        self._count_ahead(1)

    def reload(self) -> None:
        super().reload()
        self._count_ahead(1)

    def cycles(self) -> ll.Value:
        later = self._later("cycles")
        value = Lowering.cycles(self)
        return value if later is None or "cycles" not in self.slots else self.builder.sub(value, later)

    def load_byte(self, addr: ll.Value) -> ll.Value:
        """Memory, where no device, watchpoint or translated code is: the stencil leaves before
        its instruction otherwise (``_step_before``), rather than call the runtime's helper (a
        call's registers cost every stencil that has one spills on its straight path).  Even
        after the instruction has stored: what it stored went to plain memory, and the runtime,
        running it again from its start, stores the same there (a push, an RMW instruction's
        first write of the byte it read)."""
        self._step_before(addr, ATTR_READ_HELPER)
        b = self.builder
        return b.load(b.gep(self.memory, [addr], inbounds=True, source_etype=I8_T), typ=I8_T)

    def store_byte(self, addr: ll.Value, value: ll.Value) -> None:
        self._step_before(addr, ATTR_WRITE_HELPER | ATTR_WRITE_CHECK)
        b = self.builder
        b.store(value, b.gep(self.memory, [addr], inbounds=True, source_etype=I8_T))

    def _step_before(self, addr: ll.Value, bits: int) -> None:
        """Leave before the instruction (``Exit.STEP``: the runtime runs it alone) if the byte
        at ``addr`` has any attribute of ``bits``: the state as it was entered."""
        b = self.builder
        attr = b.load(b.gep(self.attrs, [addr], inbounds=True, source_etype=I8_T), typ=I8_T)
        with b.if_then(has_attribute(b, attr, bits), likely=False):
            own = {"instructions": 1, "cycles": self.own_cycles}
            for name, value in self.entry_values.items():
                b.store(b.sub(value, value.type(own[name])) if name in own else value, self.slots[name])
            Lowering.leave(self, Exit.STEP, self.pc)

    def fold(self, op: Op) -> bool:
        """A pure op of the instruction's address, operands and constants alone (a branch's
        target, an absolute operand's address) becomes a derived hole, its value computed when
        the code is stitched (``recomp.backend.stitch``): none of it is left to run."""
        result = op.result
        if op.name == "const":
            offset = self._pc_offset(result.type, op.args[0])
            if offset is not None:
                self.pc_offsets[result.id] = offset
            self.terms[result.id] = f"{'#' + str(op.args[0]) if offset is None else pc_hole(offset)}.{result.type}"
            return False
        if op.name == "fetch" and self._operand(op.args[0]) is not None:
            self.terms[result.id] = f"{operand_hole(self._operand(op.args[0]))}.{result.type}"
            return False
        values = list(op.values())
        if op.name == "exit_ind" and self._go_to_static(values[0]):
            return True
        if op.name == "select" and values[0].id not in self.terms and all(v.id in self.terms for v in values[1:]):
            self.selects[result.id] = (values[0], values[1], values[2])
        if op.name not in DERIVABLE or not values or any(v.id not in self.terms for v in values):
            return False
        term = f"{op.name}.{result.type}({','.join(self.terms[v.id] for v in values)})"
        self.terms[result.id] = term
        if "PC" not in term and "OP" not in term:
            return False  # (constants alone: LLVM folds them)
        hole = self.stencils.hole(self.builder, DERIVED + term)
        self.define(op, self.builder.trunc(hole, llvm_type(result.type)) if result.type.bits < 32 else hole)
        self.derived[result.id] = DERIVED + term
        return True

    def widened(self, v: Value) -> ll.Value:
        """A derived hole is a value of its type already (the stitcher computed it so): as an
        i64, it is the hole itself, nothing zero-extended."""
        if v.id not in self.derived:
            return InterpreterLowering.widened(self, v)
        return self.stencils.hole(self.builder, self.derived[v.id], I64_T)

    def address(self, v: Value, offset: int = 0) -> ll.Value:
        """A derived hole's address needs no wrapping either: the host instruction addresses
        memory with the hole as its displacement."""
        if offset or v.id not in self.derived or 1 << v.type.bits > self.guest.memory_size:
            return InterpreterLowering.address(self, v, offset)
        return self.widened(v)

    def _go_to_static(self, target: Value) -> bool:
        """Where a transfer's target is a term (a jump's) or a choice between two (a branch's),
        go on at the stencil for that address: a successor hole named by the term (``SUCC:``),
        which the stitcher resolves, instead of comparing the target with ``TAKEN_PC`` and
        ``NEXT_PC`` as the code runs."""
        b = self.builder
        if target.id in self.selects:
            condition, taken, not_taken = self.selects[target.id]
            arms = [self.function.append_basic_block(name) for name in ("taken", "not_taken")]
            b.cbranch(self.value(condition), *arms)
            for arm, value in zip(arms, (taken, not_taken)):
                b.position_at_end(arm)
                self._go_to_term(value)
            return True
        if target.id in self.terms and ("PC" in self.terms[target.id] or "OP" in self.terms[target.id]):
            self._go_to_term(target)
            return True
        return False

    def _go_to_term(self, target: Value) -> None:
        """A jump to itself stops a run, as compiled regions report it: the stitcher, which
        knows the target, makes that successor the way out (``TRAP:``) where it may be one."""
        term = self.terms[target.id]
        beyond = term.startswith("PC") and not term.startswith(pc_hole(0) + ".")  # (never the instruction itself)
        self.go_on((TRAP_SUCCESSOR if self.lift.traps and not beyond else SUCCESSOR) + term)

    def _pc_offset(self, t: object, value: int) -> int | None:
        """``k`` for an address constant ``placeholder + k`` (a ``PCk`` hole)."""
        return self.lifts.relative(value) if t == self.guest.pc_type else None

    def _operand(self, addr: Value) -> int | None:
        """``k`` where ``addr`` is the address of operand byte ``k`` (an ``OPk`` hole), even
        after the instruction has stored (JSR reads its high byte after its push): a store
        there would have left first, the byte being translated code."""
        return self.pc_offsets.get(addr.id) or None

    def fetch(self, addr: Value) -> ll.Value:
        offset = self._operand(addr)
        if offset is None:
            return InterpreterLowering.fetch(self, addr)
        return self.builder.trunc(self.stencils.hole(self.builder, operand_hole(offset)), I8_T)

    def constant(self, t: object, value: int) -> ll.Value:
        offset = self._pc_offset(t, value)
        if offset is None:
            return Lowering.constant(self, t, value)
        hole = self.stencils.hole(self.builder, pc_hole(offset))
        return self.builder.trunc(hole, ll.IntType(t.bits)) if t.bits < 32 else hole

    def guest_address(self, addr: int) -> ll.Value:
        offset = self.lifts.relative(addr)
        if offset is None:
            return Lowering.guest_address(self, addr)
        return self.stencils.hole(self.builder, pc_hole(offset))

    def leave(self, reason: Exit, pc: ll.Value, chain: bool = False) -> None:
        if not (chain and reason == Exit.JUMP):
            Lowering.leave(self, reason, pc)
            return
        b = self.builder
        pc = b.and_(pc, I32_T(self.guest.memory_size - 1))
        if self.lift.traps:
            with b.if_then(b.icmp_unsigned("==", pc, self.pc), likely=False):
                Lowering.leave(self, Exit.TRAP, self.pc)
        if not self.lift.control:
            self.go_on("NEXT")
            return
        for successor, hole in (("TAKEN", TAKEN_PC), ("NEXT", NEXT_PC)):
            there, elsewhere = (self.function.append_basic_block(f"{successor.lower()}{suffix}")
                                for suffix in ("", "_not"))
            b.cbranch(b.icmp_unsigned("==", pc, self.stencils.hole(b, hole)), there, elsewhere)
            b.position_at_end(there)
            self.go_on(successor)
            b.position_at_end(elsewhere)
        b.store(pc, self.field_ptr("pc"))  # a computed target (a return): the region's dispatch
        self.go_on("ELSEWHERE")

    def go_on(self, successor: str) -> None:
        """Jump to the stencil ``successor``, the state fields kept in memory written back."""
        b = self.builder
        for name in sorted(self.written):
            if not self.stencils.in_registers(name) and name != "code_written":
                b.store(b.load(self.slots[name]), self.field_ptr(name))
        b.ret(b.call(self.stencils.function(successor), self.stencils.arguments(self), tail="musttail",
                     cconv=CALLING_CONVENTION))


def _start(stencils: Stencils, name: str, used: set[str], written: set[str], **more: object) -> StencilLowering:
    """A stencil's lowering, its slots filled from the registers it is passed (the rest read
    from the state; ``code_written`` starts clear: a stencil entered has no store pending)."""
    guest, function = stencils.guest, stencils.function(name)
    fields = guest.fields()
    pair = set(guest.sign_zero or ()) if NZ in stencils.registers else set()
    builder = ll.IRBuilder(function.append_basic_block("entry"))
    lo = StencilLowering(guest, function, builder, False, True, frozenset(),
                         {n: i for i, (n, _) in enumerate(fields)}, state_type(guest),
                         written=written | set(stencils.registers) | pair, lifts=stencils.lifts, stencils=stencils,
                         hoist_helpers=False, **more)
    for index, (field_name, _) in enumerate(fields):
        lo.field_ptrs[field_name] = builder.gep(lo.state, [I32_T(0), I32_T(index)], inbounds=True,
                                                name=field_name + "_p", source_etype=lo.struct_type)
    passed = dict(zip(stencils.registers, function.args[len(POINTERS):]))
    for field_name in sorted(used - pair | set(stencils.registers)):
        width = 32 if field_name == NZ else dict(fields)[field_name].bits
        slot = lo.slots[field_name] = builder.alloca(ll.IntType(width), name=field_name)
        if field_name in passed:
            value = passed[field_name]
            value = builder.trunc(value, slot.allocated_type) if value.type.width > slot.allocated_type.width else value
        elif field_name == "code_written":
            value = I8_T(0)
        else:
            value = lo.load_field(field_name)
        builder.store(value, slot)
        lo.entry_values[field_name] = value
    lo.pc = stencils.hole(builder, pc_hole(0))
    return lo


def _opcode(stencils: Stencils, lift: OpcodeLift) -> None:
    used, written = state_fields([lift.region], stencils.guest)
    lo = _start(stencils, opcode_stencil(lift.opcode), used, written, lift=lift)
    entry = lo.builder.block
    first = lower_lift(lo, lift.region)
    lo.builder.position_at_end(entry)
    lo.builder.branch(first)


def _guard(stencils: Stencils) -> None:
    lo = _start(stencils, GUARD, set(), set())
    b = lo.builder
    over = b.icmp_unsigned(">", b.add(b.load(lo.slots["instructions"]), stencils.hole(b, GUARD_N, I64_T)),
                           lo.load_field("limit"))
    if "cycles" in lo.slots:
        late = b.icmp_unsigned(">", b.add(b.load(lo.slots["cycles"]), stencils.hole(b, GUARD_C, I64_T)),
                               lo.load_field("cycle_limit"))
        over = b.or_(over, late)
    with b.if_then(over, likely=False):
        lo.leave(Exit.GUARD, lo.pc)
    for name, hole in (("instructions", GUARD_N), ("cycles", BLOCK_C)):  # (the block's, counted ahead)
        if name in lo.slots:
            b.store(b.add(b.load(lo.slots[name]), stencils.hole(b, hole, I64_T)), lo.slots[name])
    lo.go_on("NEXT")


def _leave(stencils: Stencils, name: str, reason: Exit) -> None:
    """A way out at the address in ``PC0``: ``leave_jump`` (outside the region), ``leave_trap``."""
    lo = _start(stencils, name, set(), set())
    lo.leave(reason, lo.pc)


def _dispatch(stencils: Stencils) -> None:
    """A node of a region's search tree of computed targets (the target is in the state's
    ``pc``): ``TAKEN`` if it is ``CASE_PC``, else the subtree of lower addresses (``ELSEWHERE``)
    or of higher ones (``NEXT``), each another node or ``leave_elsewhere``."""
    lo = _start(stencils, DISPATCH, set(), set())
    b = lo.builder
    pc, case = lo.load_field("pc"), stencils.hole(b, CASE_PC)
    for successor, predicate in (("TAKEN", "=="), ("ELSEWHERE", "<")):
        there, other = lo.function.append_basic_block(successor.lower()), lo.function.append_basic_block("other")
        b.cbranch(b.icmp_unsigned(predicate, pc, case), there, other)
        b.position_at_end(there)
        lo.go_on(successor)
        b.position_at_end(other)
    lo.go_on("NEXT")


def _leave_elsewhere(stencils: Stencils) -> None:
    lo = _start(stencils, LEAVE_ELSEWHERE, set(), set())
    lo.leave(Exit.JUMP, lo.load_field("pc"))


def _enter(stencils: Stencils) -> None:
    """The region's entry (the shared region prototype): registers in, stencils run, chain out."""
    guest = stencils.guest
    function = region_function(stencils.module, ENTER)
    pair = set(guest.sign_zero or ()) if NZ in stencils.registers else set()
    lo = SignZeroLowering.start(guest, function, True, True, set(stencils.registers) - {NZ} | pair, set())
    b = lo.builder
    count_entry(lo, b.zext(stencils.hole(b, pc_hole(0)), I64_T))  # (as regions count theirs)
    result = b.call(stencils.function(FIRST), stencils.arguments(lo), cconv=CALLING_CONVENTION)
    with b.if_then(b.icmp_unsigned("==", result, I32_T(int(Exit.JUMP)))):
        lo.reload()  # (the stencils wrote the state back)
        lo.leave(Exit.JUMP, lo.load_field("pc"), chain=True)
    b.ret(result)


def lower_stencils(lifts: OpcodeLifts, guest: GuestSpec, module: ll.Module) -> tuple[str, ...]:
    """Every stencil into ``module``; returns the registers they keep in host registers."""
    stencils = Stencils(guest, lifts, registers(lifts, guest), module)
    for lift in lifts.opcodes:
        _opcode(stencils, lift)
    _guard(stencils)
    _leave(stencils, LEAVE, Exit.JUMP)
    _leave(stencils, LEAVE_TRAP, Exit.TRAP)
    _dispatch(stencils)
    _leave_elsewhere(stencils)
    _enter(stencils)
    return stencils.registers


def stencil_ir(module: ll.Module, guest: GuestSpec, names: Sequence[str]) -> str:
    """The module's IR text, with what llvmlite cannot say: holes and stencils are ``dso_local``
    (their addresses are absolute values, not loaded from a global offset table), and a register
    narrower than its i32 is known to fit its field (LLVM then extends nothing it passes on)."""
    text = (str(module).replace("= external global", "= external dso_local global")
            .replace(f"declare {CALLING_CONVENTION}", f"declare dso_local {CALLING_CONVENTION}"))
    ranges = {f'i32 %"{name}"': f'i32 range(i32 0, {1 << _register_bits(guest, name)}) %"{name}"'
              for name in names if _register_bits(guest, name) < 32}
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(f"define {CALLING_CONVENTION}"):
            for plain, ranged in ranges.items():
                line = line.replace(plain, ranged)
            lines[index] = line
    return "\n".join(lines)

"""icode -> LLVM IR, one lowering per op (``LOWER``).

A region becomes ``i32 @name(ptr %state, ptr noalias %memory, ptr noalias %attrs,
ptr noalias %entries)`` returning an ``Exit``; ``attrs`` holds a byte of ``ATTR_*`` bits per
guest address.  Guest state fields the region touches live in allocas for the whole function
(SROA turns them into SSA registers, so loops run in host registers); they are written back on
every exit and around helper calls.  Every guest memory address is masked to the guest memory
size, so compiled code cannot touch host memory outside guest memory and state, whatever the
guest does.

Helpers (device I/O, stores into code, a guest's own such as TST27's PRINT) are called through
the machine's table of helper functions, whose address is in the state (``helpers``): compiled
code names no symbol outside itself, and each machine's helpers act on that machine.

Chaining: a jump out of the region (``exit``, ``exit_if``, ``exit_ind``) looks its target up in
``entries``, the runtime's table of compiled entry points indexed by guest address and the
specialized flags (``GuestSpec.specialize``), and tail-calls it (``musttail``: the host stack does
not grow however long execution stays in native code); an empty slot, or a pending interrupt,
returns ``Exit.JUMP`` to the runtime.  Other exits (budgets, interrupts polled, stores into
code, halts, traps) always return.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from llvmlite import ir as ll

from recomp.backend.cfg import loop_targets
from recomp.ir.core import Block, Op, Region, Value
from recomp.ir.guest import (
    ATTR_READ_HELPER,
    ATTR_WRITE_CHECK,
    ATTR_WRITE_HELPER,
    ATTR_WRITE_WATCH,
    MEMORY_HELPERS,
    PAGE_BITS,
    SHARED_FIELDS,
    TRACE_CODE_BYTES,
    GuestSpec,
    Helper,
    memory_helper_index,
)
from recomp.ir.ops import LEAVE_AT, LEAVE_IF, LEAVE_WHEN, Exit
from recomp.ir.types import I8, I16, Type

I8_T = ll.IntType(8)
I32_T = ll.IntType(32)
I64_T = ll.IntType(64)
PTR = ll.PointerType()


def llvm_type(t: Type) -> ll.IntType:
    return ll.IntType(t.bits)


def function_name(region: Region) -> str:
    return f"{region.guest}_{region.entry:04x}"


def state_type(guest: GuestSpec) -> ll.LiteralStructType:
    return ll.LiteralStructType([llvm_type(t) for _, t in guest.fields()])


@dataclass
class Lowering:
    """The state of lowering one region: the builder, the value map and the cached state.
    ``start`` makes one, with the state fields the region uses held in allocas."""

    guest: GuestSpec
    function: ll.Function
    builder: ll.IRBuilder
    guards: bool  # compile the budget checks (a run without budgets can never fail one)
    chain: bool  # jumps out go on in compiled code where there is some
    loop_heads: frozenset[str]  # blocks a loop closes on: their guards read the budget afresh, so
    # that Ctrl-C, which cuts it, stops the loop (see ``recomp.runtime.ctrl_c``)
    field_index: dict[str, int]
    struct_type: ll.LiteralStructType
    slots: dict[str, ll.AllocaInstr] = field(default_factory=dict)  # cached state fields
    written: set[str] = field(default_factory=set)  # fields stored back on exit
    values: dict[int, ll.Value] = field(default_factory=dict)
    field_ptrs: dict[str, ll.Value] = field(default_factory=dict)
    exit_block: ll.Block | None = None
    exit_pc: ll.PhiInstr | None = None
    exit_reason: ll.PhiInstr | None = None
    chain_block: ll.Block | None = None
    chain_pc: ll.PhiInstr | None = None
    blocks: dict[str, ll.Block] = field(default_factory=dict)
    addresses: dict[str, int] = field(default_factory=dict)  # block label -> its guest address
    block: Block | None = None
    pending: dict[str, ll.Value] = field(default_factory=dict)  # the block's deferred values
    helpers: dict[int, ll.Value] = field(default_factory=dict)  # helper table slot -> its function
    markers: bool = False  # mark each guest instruction's host code (``marker``), for inspection
    trace: bool = False  # write a trace record before each guest instruction (``trace_record``)
    quiet: frozenset[int] = frozenset()  # pages whose bytes have no attributes (``quiet_pages``)
    # the address of the guest instruction being lowered (the memory helpers are given it);
    # before the first, the region's (an interrupt entry's pushes)
    insn_pc: ll.Value = field(default_factory=lambda: I32_T(0))
    # load the helper table and helpers once, in the entry block (off: where each is called, for
    # code whose every helper call is off its fast path: a stencil would keep the table in a
    # stack slot)
    hoist_helpers: bool = True
    _helper_table: ll.Value | None = None

    @classmethod
    def start(cls, guest: GuestSpec, function: ll.Function, guards: bool, chain: bool, used: set[str],
              written: set[str], loop_heads: frozenset[str] = frozenset(), **more: object) -> Lowering:
        """A lowering into ``function`` (made by ``region_function``), its entry block holding the
        state fields ``used`` in allocas; ``more`` sets a subclass's own fields."""
        builder = ll.IRBuilder(function.append_basic_block("entry"))
        fields = guest.fields()
        lo = cls(guest, function, builder, guards, chain, loop_heads, {n: i for i, (n, _) in enumerate(fields)},
                 state_type(guest), written=written, **more)
        for index, (name, _) in enumerate(fields):
            lo.field_ptrs[name] = builder.gep(lo.state, [I32_T(0), I32_T(index)], inbounds=True,
                                              name=name + "_p", source_etype=lo.struct_type)
        for name in sorted(used):
            lo.slots[name] = builder.alloca(_field_type(guest, name), name=name)
        lo.reload()
        return lo

    @property
    def state(self) -> ll.Argument:
        return self.function.args[0]

    @property
    def memory(self) -> ll.Argument:
        return self.function.args[1]

    @property
    def attrs(self) -> ll.Argument:
        return self.function.args[2]

    @property
    def entries(self) -> ll.Argument:
        return self.function.args[3]

    def field_ptr(self, name: str) -> ll.Value:
        """A pointer to a state field (computed once, in the entry block)."""
        return self.field_ptrs[name]

    def load_field(self, name: str) -> ll.Value:
        """A state field read in place (shared fields: the runtime may have changed them)."""
        return self.builder.load(self.field_ptr(name), typ=_field_type(self.guest, name), name=name)

    def constant(self, t: Type, value: int) -> ll.Value:
        return llvm_type(t)(value)

    def cycles(self) -> ll.Value:
        """The guest's cycle count now (always 0 for a guest without a cycle model)."""
        slot = self.slots.get("cycles")
        return I64_T(0) if slot is None else self.builder.load(slot)

    def guest_address(self, addr: int) -> ll.Value:
        """An address the icode names as an immediate (exits, guards), as the i32 pc."""
        return I32_T(addr)

    def value(self, v: Value) -> ll.Value:
        return self.values[v.id]

    def define(self, op: Op, result: ll.Value) -> None:
        self.values[op.result.id] = result

    def flush(self) -> None:
        """Write cached fields the region changes back to the state struct."""
        for name in sorted(self.written):
            self.builder.store(self.builder.load(self.slots[name]), self.field_ptr(name))

    def reload(self) -> None:
        for name, slot in self.slots.items():
            self.builder.store(self.load_field(name), slot)

    def materialize(self) -> None:
        """Store the block's deferred values (on a path that leaves before the block ends)."""
        for name, value in self.pending.items():
            self.builder.store(value, self.slots[name])

    def fold(self, op: Op) -> bool:
        """Whether the op's value is made otherwise than by its lowering (a stencil's, when the
        code is stitched: ``recomp.backend.stencils``)."""
        return False

    def count_instruction(self, cycles: int) -> None:
        """Count an instruction, and its base cycles, as it starts."""
        _add_counter(self, "instructions", 1)
        if cycles:
            _add_counter(self, "cycles", cycles)

    def load_byte(self, addr: ll.Value) -> ll.Value:
        """One guest byte: from memory, or from the I/O helper if a device or a watchpoint is there."""
        load8 = quiet_pages(self, _memory_function(self, "load8", _build_load8, I8_T,
                                                   [PTR, PTR, PTR, I64_T, I64_T, I32_T]), _load_directly)
        return self.builder.call(load8, [self.helpers_argument(), self.memory, self.attrs, addr, self.cycles(),
                                         self.insn_pc])

    def store_byte(self, addr: ll.Value, value: ll.Value) -> None:
        """One guest byte: to a device, or to memory, noting a hit on translated code or a watchpoint."""
        store8 = quiet_pages(self, _memory_function(self, "store8", _build_store8, I8_T,
                                                    [PTR, PTR, PTR, I64_T, I8_T, I64_T, I32_T]), _store_directly)
        b = self.builder
        hit = b.call(store8, [self.helpers_argument(), self.memory, self.attrs, addr, value, self.cycles(),
                              self.insn_pc])
        slot = self.slots["code_written"]
        b.store(b.or_(b.load(slot), hit), slot)

    def fetch(self, addr: Value) -> ll.Value:
        """A code byte, from guest memory itself: an instruction fetch never reaches a device."""
        b = self.builder
        return b.load(b.gep(self.memory, [self.address(addr)], inbounds=True, source_etype=I8_T), typ=I8_T)

    def flag(self, name: str) -> ll.Value:
        """A flag's value now, as an i1."""
        return self.builder.trunc(self.builder.load(self.slots[name]), ll.IntType(1))

    def current(self, name: str) -> ll.Value:
        """A state field's value now, as the state stores it."""
        return self.builder.load(self.slots[name]) if name in self.slots else self.load_field(name)

    def store_field(self, name: str, v: Value) -> None:
        """A register or flag write; it supersedes a value deferred earlier in the block."""
        self.pending.pop(name, None)
        self.builder.store(self.field_value(name, v), self.slots[name])

    def field_value(self, name: str, v: Value) -> ll.Value:
        """An icode value as the state field stores it (flags are i1 in icode, i8 in state)."""
        value = self.value(v)
        width = self.slots[name].allocated_type.width
        return self.builder.zext(value, ll.IntType(width)) if value.type.width < width else value

    def leave(self, reason: Exit, pc: ll.Value, chain: bool = False) -> None:
        """Leave the region through its exit block, which writes state back; ``chain``: a jump
        that goes on in the compiled code at ``pc`` if there is any (see the module's docstring)."""
        if chain and self.chain:
            if self.chain_block is None:
                self._build_chain()
            self.chain_pc.add_incoming(pc, self.builder.block)
            self.builder.branch(self.chain_block)
            return
        if self.exit_block is None:
            self.exit_block = self.function.append_basic_block("leave")
            at_exit = ll.IRBuilder(self.exit_block)
            self.exit_pc = at_exit.phi(I32_T, name="pc")
            self.exit_reason = at_exit.phi(I32_T, name="reason")
            if self.markers:
                marker(at_exit, MARK_LEAVE)
            saved, self.builder = self.builder, at_exit
            self.flush()
            self.builder.store(self.exit_pc, self.field_ptr("pc"))
            self.builder.ret(self.exit_reason)
            self.builder = saved
        self.exit_pc.add_incoming(pc, self.builder.block)
        self.exit_reason.add_incoming(I32_T(int(reason)), self.builder.block)
        self.builder.branch(self.exit_block)

    def _build_chain(self) -> None:
        self.chain_block = self.function.append_basic_block("chain")
        b = ll.IRBuilder(self.chain_block)
        self.chain_pc = b.phi(I32_T, name="pc")
        if self.markers:
            marker(b, MARK_CHAIN)
        saved, self.builder = self.builder, b
        self.flush()
        self.builder = saved
        b.store(self.chain_pc, self.field_ptr("pc"))
        outside = b.icmp_unsigned(">=", self.chain_pc, I32_T(self.guest.memory_size))  # a fault
        target = self.entry_point(b, b.select(outside, I32_T(0), self.chain_pc))
        missing = b.icmp_unsigned("==", target, ll.Constant(PTR, None))
        pending = b.icmp_unsigned("!=", load_volatile(b, self.field_ptr("events"), typ=I8_T), I8_T(0))
        with b.if_then(b.or_(b.or_(missing, pending), outside), likely=False):  # RTI may unmask an IRQ
            b.ret(I32_T(int(Exit.JUMP)))
        self.tail_call(b, target)

    def entry_point(self, b: ll.IRBuilder, pc: ll.Value) -> ll.Value:
        """The entry table's slot for guest address ``pc`` (within memory) and the specialized
        flags as they are now: compiled code there, or null."""
        index = b.zext(pc, I64_T)
        for bit, name in enumerate(self.guest.specialize, self.guest.address_bits):
            value = b.load(self.slots[name]) if name in self.slots else b.load(self.field_ptr(name), typ=I8_T)
            index = b.or_(index, b.shl(b.zext(b.and_(value, I8_T(1)), I64_T), I64_T(bit)))
        return function_pointer(b, b.gep(self.entries, [index], inbounds=True, source_etype=PTR),
                                self.function.function_type)

    def tail_call(self, b: ll.IRBuilder, target: ll.Value) -> None:
        """Go on in other compiled code (state written back already), counting the chain."""
        chained = self.field_ptr("chained")
        b.store(b.add(b.load(chained, typ=I64_T), I64_T(1)), chained)
        b.ret(b.call(target, list(self.function.args), tail="musttail"))

    def widened(self, v: Value) -> ll.Value:
        """``v`` zero-extended to an i64."""
        return self.builder.zext(self.value(v), I64_T) if v.type.bits < 64 else self.value(v)

    def address(self, v: Value, offset: int = 0) -> ll.Value:
        """Guest address ``v`` (+ offset) as an i64 index, wrapped to the guest memory size."""
        addr = self.widened(v)
        if offset:
            addr = self.builder.add(addr, I64_T(offset))
        return self.builder.and_(addr, I64_T(self.guest.memory_size - 1))

    def _at_entry(self) -> ll.IRBuilder:
        """A builder at the end of the entry block (before its branch, once it has one)."""
        entry = self.function.entry_basic_block
        builder = ll.IRBuilder(entry)
        if entry.is_terminated:
            builder.position_before(entry.terminator)
        return builder

    def helper_table(self) -> ll.Value:
        """The machine's helper table (from the state's ``helpers`` field, loaded once in the
        entry block: it does not change while the machine runs; with ``hoist_helpers`` off,
        where it is used)."""
        if not self.hoist_helpers:
            return load_helper_table(self.builder, self.field_ptr("helpers"))
        if self._helper_table is None:
            self._helper_table = load_helper_table(self._at_entry(), self.field_ptr("helpers"))
        return self._helper_table

    def helpers_argument(self) -> ll.Value:
        """What a memory access's slow path finds the helpers through: the helper table, or
        without ``hoist_helpers``, the state's field to load it from there."""
        return self.helper_table() if self.hoist_helpers else self.field_ptr("helpers")

    def call_helper(self, index: int, helper: Helper, args: list[ll.Value]) -> ll.Value:
        """Call a helper of the machine's table (its address loaded once, in the entry block),
        writing cached state back around it if it touches state."""
        callee = self.helpers.get(index)
        if callee is None:
            table = self.helper_table()  # (first: a builder marks its place by instruction count)
            callee = helper_function(self._at_entry() if self.hoist_helpers else self.builder, table, index, helper)
            if self.hoist_helpers:
                self.helpers[index] = callee
        if not helper.touches_state:
            return self.builder.call(callee, args)
        self.flush()
        result = self.builder.call(callee, args)
        self.reload()
        return result


class _VolatileLoad(ll.LoadInstr):
    """``load volatile``: llvmlite's builder has no flag for it."""

    def descr(self, buf: list[str]) -> None:
        super().descr(buf)
        buf[-1] = buf[-1].replace("load ", "load volatile ", 1)


def load_volatile(b: ll.IRBuilder, ptr: ll.Value, typ: ll.Type, name: str = "") -> ll.Value:
    """A load LLVM may neither hoist, merge nor drop: the value may change behind the code."""
    load = _VolatileLoad(b.block, ptr, name, typ=typ)
    b._insert(load)
    return load


class _VolatileStore(ll.StoreInstr):
    def descr(self, buf: list[str]) -> None:
        super().descr(buf)
        buf[-1] = buf[-1].replace("store ", "store volatile ", 1)


def store_volatile(b: ll.IRBuilder, value: ll.Value, ptr: ll.Value) -> None:
    """A store LLVM may neither drop nor move: others (a signal handler's interrupted code) read it."""
    store = _VolatileStore(b.block, value, ptr)
    store.align = None
    b._insert(store)


class _FunctionPointer(ll.LoadInstr):
    """A loaded function pointer that can be called: llvmlite finds an indirect callee's
    prototype through ``function_type``, which opaque pointers do not carry."""

    def __init__(self, block: ll.Block, slot: ll.Value, function_type: ll.FunctionType) -> None:
        super().__init__(block, slot, name="next", typ=PTR)
        self._function_type = function_type

    @property
    def function_type(self) -> ll.FunctionType:
        return self._function_type


def load_helper_table(b: ll.IRBuilder, helpers: ll.Value) -> ll.Value:
    """The helper table, from a pointer to the state's ``helpers`` field (which does not change
    while the machine runs: the load is invariant)."""
    address = b.load(helpers, typ=I64_T)
    address.set_metadata("invariant.load", b.module.add_metadata([]))
    return b.inttoptr(address, PTR, name="helper_table")


def helper_function(b: ll.IRBuilder, table: ll.Value, index: int, helper: Helper) -> ll.Value:
    """Slot ``index`` of the helper table: a function of the helper's signature.  The slots do
    not change while a machine runs: the load is invariant (a call cannot have changed it)."""
    ret = llvm_type(helper.result) if helper.result else ll.VoidType()
    function_type = ll.FunctionType(ret, [llvm_type(t) for t in helper.args])
    callee = function_pointer(b, b.gep(table, [I64_T(index)], inbounds=True, source_etype=PTR), function_type)
    callee.set_metadata("invariant.load", b.module.add_metadata([]))
    return callee


def function_pointer(b: ll.IRBuilder, slot: ll.Value, function_type: ll.FunctionType) -> ll.LoadInstr:
    """The function pointer stored at ``slot``, callable as a function of ``function_type``."""
    callee = _FunctionPointer(b.block, slot, function_type)
    b._insert(callee)
    return callee


def _field_type(guest: GuestSpec, name: str) -> ll.IntType:
    return llvm_type(dict(guest.fields())[name])


def _binary(emit: Callable[[ll.IRBuilder, ll.Value, ll.Value], ll.Value]):
    def lower(lo: Lowering, op: Op) -> None:
        a, b = (lo.value(v) for v in op.values())
        lo.define(op, emit(lo.builder, a, b))
    return lower


def _shift(method: str, overflow_fill: Callable[[Lowering, ll.Value], ll.Value]):
    """LLVM shifts by >= width are poison; icode defines them (see ir/SPEC.md)."""
    def lower(lo: Lowering, op: Op) -> None:
        a, b = (lo.value(v) for v in op.values())
        t = a.type
        in_range = lo.builder.icmp_unsigned("<", b, t(t.width))
        safe = lo.builder.select(in_range, b, t(0))
        shifted = getattr(lo.builder, method)(a, safe)
        lo.define(op, lo.builder.select(in_range, shifted, overflow_fill(lo, a)))
    return lower


def _compare(signed: bool, predicate: str):
    def lower(lo: Lowering, op: Op) -> None:
        a, b = (lo.value(v) for v in op.values())
        emit = lo.builder.icmp_signed if signed else lo.builder.icmp_unsigned
        lo.define(op, emit(predicate, a, b))
    return lower


def _cast(method: str):
    def lower(lo: Lowering, op: Op) -> None:
        (a,) = (lo.value(v) for v in op.values())
        lo.define(op, getattr(lo.builder, method)(a, llvm_type(op.result.type)))
    return lower


def _const(lo: Lowering, op: Op) -> None:
    lo.define(op, lo.constant(op.result.type, op.args[0]))


def _getreg(lo: Lowering, op: Op) -> None:
    lo.define(op, lo.builder.load(lo.slots[op.args[0]]))


def _set(lo: Lowering, op: Op) -> None:
    lo.store_field(op.args[0], op.args[1])


def _getflag(lo: Lowering, op: Op) -> None:
    lo.define(op, lo.flag(op.args[0]))


def _defer(lo: Lowering, op: Op) -> None:
    lo.pending[op.args[0]] = lo.field_value(op.args[0], op.args[1])


def _select(lo: Lowering, op: Op) -> None:
    c, a, b = (lo.value(v) for v in op.values())
    lo.define(op, lo.builder.select(c, a, b))


def _memory_function(lo: Lowering, name: str, build: Callable[[ll.IRBuilder, ll.Function, bool], None],
                     ret: ll.Type, args: list[ll.Type]) -> ll.Function:
    """A small internal function of the module, inlined by LLVM: the Python side emits one call
    per guest memory access instead of the whole device and code check."""
    module = lo.function.module
    name += "" if lo.hoist_helpers else "_unhoisted"
    function = module.globals.get(name)
    if function is None:
        function = ll.Function(module, ll.FunctionType(ret, args), name)
        function.linkage = "internal"
        function.attributes.add("alwaysinline")
        build(ll.IRBuilder(function.append_basic_block("entry")), function, lo.hoist_helpers)
    return function


def quiet_pages(lo: Lowering, access: ll.Function, directly: Callable[[ll.IRBuilder, ll.Function], None]
                ) -> ll.Function:
    """``access`` (``load8`` or ``store8``), or where ``lo`` may assume pages quiet (no byte
    there has an attribute), a function that accesses memory ``directly`` wherever LLVM proves the
    address lies in one of them: a constant address, the 6502's stack (``$0100 | S``), a zero
    page address indexed with wrap-around.  ``llvm.is.constant`` asks LLVM whether it could
    decide that, once the region is inlined and folded; an address it cannot place keeps the
    attribute check, and costs nothing more."""
    if not lo.quiet:
        return access
    module = lo.function.module
    name = f"{access.name}_quiet_" + "_".join(map(str, sorted(lo.quiet)))
    function = module.globals.get(name)
    if function is not None:
        return function
    function = ll.Function(module, access.function_type, name)
    function.linkage = "internal"
    function.attributes.add("alwaysinline")
    b = ll.IRBuilder(function.append_basic_block("entry"))
    page = b.lshr(function.args[3], I64_T(PAGE_BITS))
    inside = [b.icmp_unsigned("==", page, I64_T(number)) for number in sorted(lo.quiet)]
    quiet = functools.reduce(b.or_, inside)
    decided = module.globals.get("llvm.is.constant.i1") or ll.Function(
        module, ll.FunctionType(ll.IntType(1), [ll.IntType(1)]), "llvm.is.constant.i1")
    with b.if_then(b.and_(b.call(decided, [quiet]), quiet)):
        directly(b, function)
    b.ret(b.call(access, list(function.args)))
    return function


def _load_directly(b: ll.IRBuilder, f: ll.Function) -> None:
    """``load8``'s memory access alone (its arguments: helpers, memory, attrs, addr, ...)."""
    b.ret(b.load(b.gep(f.args[1], [f.args[3]], inbounds=True, source_etype=I8_T), typ=I8_T))


def _store_directly(b: ll.IRBuilder, f: ll.Function) -> None:
    """``store8``'s (helpers, memory, attrs, addr, value, ...): nothing hit."""
    b.store(f.args[4], b.gep(f.args[1], [f.args[3]], inbounds=True, source_etype=I8_T))
    b.ret(I8_T(0))


def _build_load8(b: ll.IRBuilder, f: ll.Function, hoisted: bool) -> None:
    helpers, memory, attrs, addr, cycles, pc = f.args
    attr = b.load(b.gep(attrs, [addr], inbounds=True, source_etype=I8_T), typ=I8_T)
    with b.if_then(has_attribute(b, attr, ATTR_READ_HELPER), likely=False):
        b.ret(_memory_helper(b, helpers, hoisted, "io_read", [b.trunc(addr, I32_T), cycles, pc]))
    b.ret(b.load(b.gep(memory, [addr], inbounds=True, source_etype=I8_T), typ=I8_T))


def _build_store8(b: ll.IRBuilder, f: ll.Function, hoisted: bool) -> None:
    helpers, memory, attrs, addr, value, cycles, pc = f.args
    attr = b.load(b.gep(attrs, [addr], inbounds=True, source_etype=I8_T), typ=I8_T)
    with b.if_then(has_attribute(b, attr, ATTR_WRITE_HELPER), likely=False):
        _memory_helper(b, helpers, hoisted, "io_write", [b.trunc(addr, I32_T), value, cycles, pc])
        with b.if_then(has_attribute(b, attr, ATTR_WRITE_WATCH), likely=False):
            b.ret(I8_T(1))
        b.ret(I8_T(0))
    b.store(value, b.gep(memory, [addr], inbounds=True, source_etype=I8_T))
    with b.if_then(has_attribute(b, attr, ATTR_WRITE_CHECK), likely=False):
        _memory_helper(b, helpers, hoisted, "code_write", [b.trunc(addr, I32_T), pc])
        b.ret(I8_T(1))
    b.ret(I8_T(0))


def has_attribute(b: ll.IRBuilder, attr: ll.Value, bits: int) -> ll.Value:
    """Whether an attribute byte has any of ``bits``."""
    return b.icmp_unsigned("!=", b.and_(attr, I8_T(bits)), I8_T(0))


def _memory_helper(b: ll.IRBuilder, helpers: ll.Value, hoisted: bool, name: str, args: list[ll.Value]) -> ll.Value:
    """Call a memory helper from inside ``load8``/``store8``: ``helpers`` is the helper table
    (``hoisted``: loaded in the entry block), or the state's field it is loaded from here."""
    table = helpers if hoisted else load_helper_table(b, helpers)
    return b.call(helper_function(b, table, memory_helper_index(name), MEMORY_HELPERS[name]), args)


def _load(lo: Lowering, op: Op) -> None:
    (addr,) = op.values()
    low = lo.load_byte(lo.address(addr))
    if op.result.type == I8:
        lo.define(op, low)
        return
    high = lo.load_byte(lo.address(addr, 1))
    wide = ll.IntType(16)
    lo.define(op, lo.builder.or_(lo.builder.zext(low, wide),
                                 lo.builder.shl(lo.builder.zext(high, wide), wide(8))))


def _fetch(lo: Lowering, op: Op) -> None:
    (addr,) = op.values()
    lo.define(op, lo.fetch(addr))


def _store(lo: Lowering, op: Op) -> None:
    addr, v = op.values()
    value = lo.value(v)
    lo.store_byte(lo.address(addr), lo.builder.trunc(value, I8_T) if v.type == I16 else value)
    if v.type == I16:
        high = lo.builder.trunc(lo.builder.lshr(value, value.type(8)), I8_T)
        lo.store_byte(lo.address(addr, 1), high)


def _call(lo: Lowering, op: Op) -> None:
    name = op.args[0]
    result = lo.call_helper(lo.guest.helper_index(name), lo.guest.helpers[name],
                            [lo.value(v) for v in op.values()])
    if op.result is not None:
        lo.define(op, result)


def _add_counter(lo: Lowering, name: str, amount: int) -> None:
    slot = lo.slots[name]
    lo.builder.store(lo.builder.add(lo.builder.load(slot), slot.allocated_type(amount)), slot)


# Markers: a 7-byte NOP (``nopl disp32(%rax)``) whose displacement says where the host code
# after it comes from: a guest instruction (MARK_INSN | its address), or the shared exits.  LLVM
# keeps them in place (side-effecting inline assembly); its own padding NOPs have displacement 0.
MARK_INSN, MARK_LEAVE, MARK_CHAIN = 0x5A000000, 0x5B000001, 0x5B000002


def marker(b: ll.IRBuilder, tag: int) -> None:
    asm = ".byte 0x0f, 0x1f, 0x80, " + ", ".join(f"{tag >> shift & 0xFF:#04x}" for shift in (0, 8, 16, 24))
    b.call(ll.InlineAsm(ll.FunctionType(ll.VoidType(), []), asm, "", side_effect=True), [])


def _insn(lo: Lowering, op: Op) -> None:
    lo.insn_pc = lo.guest_address(op.args[0])
    if lo.markers:
        marker(lo.builder, MARK_INSN | op.args[0])
    if lo.trace:
        trace_record(lo)
    lo.count_instruction(op.args[1])


def _traced_fields(guest: GuestSpec) -> list[tuple[str, Type]]:
    """The state fields a trace record holds, in state order: pc, counters, registers, flags."""
    names = {"pc", "instructions", "cycles", *guest.registers, *guest.flags}
    return [(name, t) for name, t in guest.fields() if name in names]


def trace_record(lo: Lowering) -> None:
    """Record the instruction at ``insn_pc`` in the trace ring: the state as it is before it
    (``pc``, counters, registers, flags: exact there, since code compiled for tracing defers no
    write).  One call per instruction to the module's ``trace_record`` function, so that LLVM
    sees a short block rather than thousands of stores."""
    b = lo.builder
    fields = _traced_fields(lo.guest)
    record = lo.function.module.globals.get("trace_record")
    if record is None:
        types = [llvm_type(t) for _, t in fields]
        record = ll.Function(lo.function.module, ll.FunctionType(ll.VoidType(), [PTR, PTR, *types]), "trace_record")
        record.linkage = "internal"
        record.attributes.add("noinline")
        _build_trace_record(ll.IRBuilder(record.append_basic_block("entry")), record, lo)
    values = [lo.insn_pc if name == "pc" else lo.current(name) for name, _ in fields]
    b.call(record, [lo.state, lo.memory, *values])


def _build_trace_record(b: ll.IRBuilder, function: ll.Function, lo: Lowering) -> None:
    """``trace_record(state, memory, pc, instructions, cycles, registers..., flags...)``: write the
    record at ``trace_next`` (its fields, then the first bytes at ``pc``) and count it."""
    guest = lo.guest
    state, memory, *values = function.args
    names = [name for name, _ in _traced_fields(guest)]
    record_type = ll.LiteralStructType([lo.struct_type, ll.ArrayType(I8_T, TRACE_CODE_BYTES)])

    def field(name: str) -> ll.Value:
        return b.gep(state, [I32_T(0), I32_T(lo.field_index[name])], inbounds=True, source_etype=lo.struct_type)

    count = b.load(field("trace_next"), typ=I64_T)
    ring = b.inttoptr(b.load(field("trace_ring"), typ=I64_T), PTR)
    record = b.gep(ring, [b.and_(count, b.load(field("trace_mask"), typ=I64_T))], source_etype=record_type)
    for name, value in zip(names, values):
        b.store(value, b.gep(record, [I32_T(0), I32_T(0), I32_T(lo.field_index[name])], source_etype=record_type))
    pc = values[names.index("pc")]
    for k in range(TRACE_CODE_BYTES):
        addr = b.zext(b.and_(b.add(pc, I32_T(k)), I32_T(guest.memory_size - 1)), I64_T)
        byte = b.load(b.gep(memory, [addr], inbounds=True, source_etype=I8_T), typ=I8_T)
        b.store(byte, b.gep(record, [I32_T(0), I32_T(1), I32_T(k)], source_etype=record_type))
    b.store(b.add(count, I64_T(1)), field("trace_next"))
    b.ret_void()


def _cycles(lo: Lowering, op: Op) -> None:
    (v,) = op.values()
    slot = lo.slots["cycles"]
    lo.builder.store(lo.builder.add(lo.builder.load(slot), lo.widened(v)), slot)


def _short(lo: Lowering, count: int, cycles: int, afresh: bool = False) -> ll.Value:
    """The budgets do not cover this many more instructions and cycles (an i1); ``afresh``: the
    instruction budget is read anew (a volatile load LLVM keeps in the loop)."""
    b = lo.builder
    limit = load_volatile(b, lo.field_ptr("limit"), I64_T, "limit") if afresh else lo.load_field("limit")
    over = b.icmp_unsigned(">", b.add(b.load(lo.slots["instructions"]), I64_T(count)), limit)
    if cycles:
        late = b.icmp_unsigned(">", b.add(b.load(lo.slots["cycles"]), I64_T(cycles)),
                               lo.load_field("cycle_limit"))
        over = b.or_(over, late)
    return over


def _guard(lo: Lowering, op: Op) -> None:
    if not lo.guards:
        return
    with lo.builder.if_then(_short(lo, *op.args, afresh=lo.block.label in lo.loop_heads), likely=False):
        lo.materialize()
        lo.leave(Exit.GUARD, lo.guest_address(lo.block.addr))


def _settle(lo: Lowering, op: Op) -> None:
    """Without budgets or interrupts (``guards=False``) nothing can look at the state before the
    deferred values are dead, so there is nothing to check."""
    if not lo.guards or not lo.pending:
        return
    b = lo.builder
    pending = b.icmp_unsigned("!=", lo.load_field("events"), I8_T(0))
    with b.if_then(b.or_(_short(lo, *op.args), pending), likely=False):
        lo.materialize()


def _leave_if(field_name: str, reason: Exit):
    def lower(lo: Lowering, op: Op) -> None:
        b = lo.builder
        slot = lo.slots.get(field_name)
        value = b.load(slot) if slot is not None else lo.load_field(field_name)
        with b.if_then(b.icmp_unsigned("!=", value, I8_T(0)), likely=False):
            lo.materialize()
            _leave_to(lo, reason, op)
    return lower


def _leave_when(reason: Exit):
    def lower(lo: Lowering, op: Op) -> None:
        with lo.builder.if_then(lo.value(op.args[0]), likely=False):
            lo.materialize()
            lo.leave(reason, lo.guest_address(op.args[1]), chain=reason == Exit.JUMP)
    return lower


def _br(lo: Lowering, op: Op) -> None:
    lo.builder.branch(lo.blocks[op.args[0]])


def _cbr(lo: Lowering, op: Op) -> None:
    lo.builder.cbranch(lo.value(op.args[0]), lo.blocks[op.args[1]], lo.blocks[op.args[2]])


def _leave_at(reason: Exit):
    def lower(lo: Lowering, op: Op) -> None:
        lo.leave(reason, lo.guest_address(op.args[0]), chain=reason == Exit.JUMP)
    return lower


def _leave_to(lo: Lowering, reason: Exit, op: Op, chain: bool = False) -> None:
    """Leave with ``pc`` = the op's value operand."""
    (target,) = op.values()
    pc = lo.value(target)
    lo.leave(reason, lo.builder.zext(pc, I32_T) if target.type.bits < 32 else pc, chain)


def _exit_ind(lo: Lowering, op: Op) -> None:
    _leave_to(lo, Exit.JUMP, op, chain=True)


def _jump_ind(lo: Lowering, op: Op) -> None:
    """A switch over the listed blocks' guest addresses; any other leaves as ``exit_ind``."""
    b = lo.builder
    target = lo.value(op.args[0])
    elsewhere = lo.function.append_basic_block(f"{lo.block.label}_elsewhere")
    switch = b.switch(target, elsewhere)
    for label in op.args[1:]:
        switch.add_case(target.type(lo.addresses[label]), lo.blocks[label])
    b.position_at_end(elsewhere)
    _leave_to(lo, Exit.JUMP, op, chain=True)


def _zero(lo: Lowering, a: ll.Value) -> ll.Value:
    return a.type(0)


def _sign_fill(lo: Lowering, a: ll.Value) -> ll.Value:
    return lo.builder.ashr(a, a.type(a.type.width - 1))


LOWER: dict[str, Callable[[Lowering, Op], None]] = {
    "const": _const,
    "getreg": _getreg,
    "setreg": _set,
    "getflag": _getflag,
    "setflag": _set,
    "defer": _defer,
    "add": _binary(ll.IRBuilder.add),
    "sub": _binary(ll.IRBuilder.sub),
    "mul": _binary(ll.IRBuilder.mul),
    "and": _binary(ll.IRBuilder.and_),
    "or": _binary(ll.IRBuilder.or_),
    "xor": _binary(ll.IRBuilder.xor),
    "shl": _shift("shl", _zero),
    "lshr": _shift("lshr", _zero),
    "ashr": _shift("ashr", _sign_fill),
    "eq": _compare(False, "=="),
    "ne": _compare(False, "!="),
    "ult": _compare(False, "<"),
    "ule": _compare(False, "<="),
    "slt": _compare(True, "<"),
    "sle": _compare(True, "<="),
    "zext": _cast("zext"),
    "sext": _cast("sext"),
    "trunc": _cast("trunc"),
    "select": _select,
    "load": _load,
    "fetch": _fetch,
    "store": _store,
    "call": _call,
    "insn": _insn,
    "cycles": _cycles,
    "guard": _guard,
    "settle": _settle,
    **{name: _leave_if(field, reason) for name, (field, reason) in LEAVE_IF.items()},
    **{name: _leave_when(reason) for name, reason in LEAVE_WHEN.items()},
    "br": _br,
    "cbr": _cbr,
    "exit_ind": _exit_ind,
    "jump_ind": _jump_ind,
    **{name: _leave_at(reason) for name, reason in LEAVE_AT.items()},
}


def state_fields(regions: Iterable[Region], guest: GuestSpec) -> tuple[set[str], set[str]]:
    """The state fields the regions' ops read or write, and those they write, as the op table
    declares them: what compiled code keeps in allocas.  Shared fields are read in place (the
    runtime changes them behind compiled code), ``pc`` is written by each exit as it leaves, and
    a guest without a cycle model counts no cycles (the verifier sees to it)."""
    used: set[str] = set()
    written: set[str] = set()
    for region in regions:
        for op in region.ops():
            writes = op.state_writes()
            used |= op.state_reads()
            written |= writes
    used |= written
    kept = used - SHARED_FIELDS - {"pc"} - (set() if guest.has_cycles else {"cycles"})
    return kept, written & kept


def region_function(module: ll.Module, name: str) -> ll.Function:
    """An empty function with the prototype every piece of compiled code shares (chaining
    tail-calls between them): ``i32 (state, memory, attrs, entries)``."""
    function = ll.Function(module, ll.FunctionType(I32_T, [PTR, PTR, PTR, PTR]), name)
    for arg, arg_name in zip(function.args, ("state", "memory", "attrs", "entries")):
        arg.name = arg_name
        if arg_name != "state":  # helpers may change state behind compiled code (budgets)
            arg.add_attribute("noalias")
    return function


def lower_blocks(lo: Lowering, region: Region, prefix: str = "") -> ll.Block:
    """Lower the region's blocks into the function (labels prefixed); returns the first."""
    lo.blocks = {block.label: lo.function.append_basic_block(prefix + block.label) for block in region.blocks}
    lo.addresses = {block.label: block.addr for block in region.blocks}
    for block in region.blocks:
        lo.block = block
        lo.pending = {}
        lo.builder.position_at_end(lo.blocks[block.label])
        for op in block.ops:
            if not lo.fold(op):
                LOWER[op.name](lo, op)
    return lo.blocks[region.blocks[0].label]


def lower_lift(lo: Lowering, region: Region, prefix: str = "") -> ll.Block:
    """Lower one opcode's lift where nothing is known of the state (the native interpreter, the
    stencils); returns its first block.  Where it reads a flag the guest specializes regions on
    (``GuestSpec.specialize``: the 6502's D), it is lowered once for each value of the flag,
    after a branch on it: the lift selects between results (ADC's binary and decimal sums), and
    LLVM computes every one and selects with conditional moves, 50 host instructions more in
    each ADC that a binary program never needs."""
    flag = next((name for name in lo.guest.specialize
                 if any(op.name == "getflag" and op.args[0] == name for op in region.ops())), None)
    if flag is None:
        return lower_blocks(lo, region, prefix)
    test = lo.function.append_basic_block(f"{prefix}{flag}")
    cases = [lower_lift(lo, _with_flag(region, flag, value), f"{prefix}{flag}{value}_") for value in (1, 0)]
    lo.builder.position_at_end(test)
    lo.builder.cbranch(lo.flag(flag), *cases).set_weights([1, 64])  # (0 the usual value: the straight path)
    return test


def _with_flag(region: Region, flag: str, value: int) -> Region:
    """A copy of ``region`` where reading ``flag`` gives ``value``."""
    copy = Region(region.guest, region.entry)
    for block in region.blocks:
        copy.blocks.append(Block(block.label, block.addr, [
            Op("const", [value], op.result, op.note) if op.name == "getflag" and op.args[0] == flag
            else Op(op.name, list(op.args), op.result, op.note) for op in block.ops]))
    return copy


def loop_heads(region: Region) -> frozenset[str]:
    """The blocks a loop closes on, of those reached from the entry."""
    successors = {block.label: block.successors() for block in region.blocks}
    return frozenset(loop_targets([region.blocks[0].label], successors))


def lower(region: Region, guest: GuestSpec, module: ll.Module, *, guards: bool = True, chain: bool = True,
          name: str | None = None, markers: bool = False, trace: bool = False,
          quiet: frozenset[int] = frozenset()) -> ll.Function:
    """Add the region to ``module`` as one function; ``guards=False`` drops the budget checks
    (valid when the budget is unlimited: a guard can then never fire); ``chain=False`` returns
    at every exit (single steps and interrupt entries, which the runtime must see end).  The
    guards of loop heads read the budget afresh: Ctrl-C cuts it to stop a loop.  ``markers``:
    each guest instruction's host code begins with a marker (for ``recomp inspect``); ``trace``:
    with a trace record (``trace_record``); ``quiet``: pages whose bytes have no attributes, to
    access without consulting them (``quiet_pages``)."""
    function = region_function(module, name or function_name(region))
    lo = Lowering.start(guest, function, guards, chain, *state_fields([region], guest),
                        loop_heads=loop_heads(region), markers=markers, trace=trace,
                        insn_pc=I32_T(region.entry), quiet=quiet)
    entry = lo.builder.block
    first = lower_blocks(lo, region)
    b = lo.builder
    b.position_at_end(entry)
    count_entry(lo, I64_T(region.entry))
    b.branch(first)
    return function


def count_entry(lo: Lowering, pc: ll.Value) -> None:
    """Count an entry into the code at guest address ``pc`` (an i64), in the entry table's
    counters (for the monitor's ``regions``), and profile it (``profile_entry``)."""
    b = lo.builder
    offset = b.add(I64_T(lo.guest.entered_offset), b.mul(pc, I64_T(8)))
    entered = b.gep(lo.entries, [offset], inbounds=True, source_etype=I8_T)
    b.store(b.add(b.load(entered, typ=I64_T), I64_T(1)), entered)
    profile_entry(lo, pc)


def profile_entry(lo: Lowering, index: ll.Value) -> None:
    """While the profile is on (``GuestSpec.profile_offset``): the instructions and cycles
    counted since the last entry anywhere go to the code entered then, and this entry
    (``index``, an i64: a guest address) is the last.  Every region's code does this as it is
    entered, chained or not, and the native interpreter at every transfer of control, so each
    instruction is counted once, to the region or the block of cold code that ran it: exact, at
    the cost of a few loads and stores per entry and none per instruction; off, of one load and
    a branch per entry."""
    b, guest = lo.builder, lo.guest

    def at(offset: ll.Value | int) -> ll.Value:
        return b.gep(lo.entries, [offset if isinstance(offset, ll.Value) else I64_T(offset)], inbounds=True,
                     source_etype=I8_T)

    marks = guest.profile_marks_offset
    # (laid out inline, skipped by a forward branch: no jump back into the region for LLVM to place)
    with b.if_then(b.icmp_unsigned("!=", b.load(at(marks), typ=I64_T), I64_T(0)), likely=True):
        last = b.load(at(marks + 8), typ=I64_T)
        for k, counter in enumerate(("instructions", "cycles")):
            now = lo.current(counter)
            mark = at(marks + 8 * (k + 2))
            table = guest.profile_offset + k * (guest.memory_size + 1) * 8
            total = at(b.add(I64_T(table), b.mul(last, I64_T(8))))
            b.store(b.add(b.load(total, typ=I64_T), b.sub(now, b.load(mark, typ=I64_T))), total)
            b.store(now, mark)
        b.store(index, at(marks + 8))

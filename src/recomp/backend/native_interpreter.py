"""The native interpreter: the guest's own icode for every opcode (``recomp.ir.opcodes``, which
the frontend provides), compiled once into one LLVM function that fetches, dispatches and runs
guest instructions, so cold code costs neither Python nor a compile of its own.

Every opcode's icode was lifted at a placeholder address; the lowering turns the address
constants ``placeholder + k`` into ``pc + k``.  The function is a loop:

- ``dispatch``: fetch the opcode at ``pc`` and jump to its lowered icode through a table of the
  handlers' addresses; the instruction's budget guard, counters, memory accesses (device and
  code checks included) and mid-block exits are the same code compiled regions run.  The jump
  is an ``indirectbr``, which LLVM copies into every handler that goes on (threaded code, as a
  C interpreter's computed goto): each handler's jump has a branch history of its own (the
  6502 kernels ran 0 to 50 % faster on it than on one switch, 220 -> 330 MIPS on the sieve).
- an instruction that goes on sets ``pc`` and continues at ``dispatch``; a control transfer (a
  branch, jump, call or return) continues at ``transfer``, which returns to the runtime while an
  interrupt is pending, credits the instructions run since the last transfer to that transfer's
  target in a table of 32-bit counters (entering the function is a transfer too: compiled code
  jumps to cold code through it), and, when the target has compiled code, tail-calls it as
  compiled regions chain; a target whose count reached ``hot`` instructions returns
  ``Exit.HOT`` so the runtime compiles a region there.  A jump to itself where a compiled region
  would see a trap is ``Exit.TRAP``.

The counters live after the entry table's pointer slots (``GuestSpec.hotness_offset``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir as ll

from recomp.backend.lower import (
    I8_T,
    I32_T,
    I64_T,
    PTR,
    llvm_type,
    load_volatile,
    lower_lift,
    profile_entry,
    region_function,
    state_fields,
)
from recomp.backend.sign_zero import SignZeroLowering
from recomp.ir.guest import ATTR_STOP, GuestSpec
from recomp.ir.opcodes import OpcodeLift, OpcodeLifts
from recomp.ir.ops import Exit
from recomp.ir.types import Type


@dataclass
class InterpreterLowering(SignZeroLowering):
    """Lowers one opcode's icode after another into the interpreter: address constants relative
    to ``pc``, and going on means continuing the loop."""

    lifts: OpcodeLifts | None = None
    stops: bool = False  # check for stop addresses after every instruction (1 % slower on the sieve kernel)
    dispatch: ll.Block | None = None
    transfer: ll.Block | None = None
    block_start: ll.AllocaInstr | None = None  # the last transfer's target ...
    block_instructions: ll.AllocaInstr | None = None  # ... and the instruction count then
    pc: ll.Value | None = None  # the i32 pc of the instruction being lowered
    lift: OpcodeLift | None = None  # ... and its opcode's lift

    @classmethod
    def start(cls, *args: object, **more: object) -> InterpreterLowering:
        """As ``Lowering.start``, with the loop's blocks and the hotness bookkeeping made."""
        lo = super().start(*args, **more)
        lo.dispatch = lo.function.append_basic_block("dispatch")
        lo.transfer = lo.function.append_basic_block("transfer")
        lo.block_start = lo.builder.alloca(I32_T, name="block_start")
        lo.block_instructions = lo.builder.alloca(I64_T, name="block_instructions")
        return lo

    def constant(self, t: Type, value: int) -> ll.Value:
        offset = self.lifts.relative(value) if t == self.guest.pc_type else None
        if offset is None:
            return super().constant(t, value)
        pc = self.builder.trunc(self.pc, llvm_type(t)) if t.bits < 32 else self.pc
        return self.builder.add(pc, llvm_type(t)(offset))

    def guest_address(self, addr: int) -> ll.Value:
        offset = self.lifts.relative(addr)
        if offset is None:
            return super().guest_address(addr)
        return self.builder.and_(self.builder.add(self.pc, I32_T(offset)), I32_T(self.guest.memory_size - 1))

    def leave(self, reason: Exit, pc: ll.Value, chain: bool = False) -> None:
        if not (chain and reason == Exit.JUMP):
            super().leave(reason, pc)
            return
        b = self.builder
        pc = b.and_(pc, I32_T(self.guest.memory_size - 1))  # 6502 addresses wrap at $FFFF as memory does
        if self.lift.traps:
            with b.if_then(b.icmp_unsigned("==", pc, self.pc), likely=False):
                super().leave(Exit.TRAP, self.pc)
        if self.stops:
            attr = b.load(b.gep(self.attrs, [b.zext(pc, I64_T)], inbounds=True, source_etype=I8_T), typ=I8_T)
            with b.if_then(b.icmp_unsigned("!=", b.and_(attr, I8_T(ATTR_STOP)), I8_T(0)), likely=False):
                super().leave(Exit.JUMP, pc)  # a stop address: the runtime stops there
        b.store(pc, self.slots["pc"])
        b.branch(self.transfer if self.lift.control else self.dispatch)


def lower_interpreter(lifts: OpcodeLifts, guest: GuestSpec, module: ll.Module, name: str,
                      stops: bool = False, trace: bool = False) -> ll.Function:
    """The interpreter function (a target is hot once the instructions run from it reach the
    state's ``hot``); ``stops``: the variant that returns before an address marked
    ``ATTR_STOP`` (for runs with a stop address); ``trace``: the variant that writes a trace
    record before each instruction (``recomp.backend.lower.trace_record``)."""
    function = region_function(module, name)
    used, written = state_fields((lift.region for lift in lifts.opcodes), guest)
    lo = InterpreterLowering.start(guest, function, True, True, used | {"pc", "hot"}, written | {"pc"},
                                   lifts=lifts, stops=stops, trace=trace)
    b = lo.builder  # entered from compiled code or the runtime: a transfer too, from nowhere,
    # counted but not looked up (whoever called had no compiled code to run there)
    b.store(b.and_(b.load(lo.slots["pc"]), I32_T(guest.memory_size - 1)), lo.block_start)
    b.store(b.load(lo.slots["instructions"]), lo.block_instructions)
    _count(lo)
    b.branch(lo.dispatch)

    b.position_at_end(lo.dispatch)
    lo.pc = b.and_(b.load(lo.slots["pc"]), I32_T(guest.memory_size - 1), name="pc")
    opcode = b.load(b.gep(lo.memory, [b.zext(lo.pc, I64_T)], inbounds=True, source_etype=I8_T), typ=I8_T)
    dispatch_block = b.block
    handlers = {}
    for lift in lifts.opcodes:
        lo.lift = lift
        handlers[lift.opcode] = lower_lift(lo, lift.region, f"op{lift.opcode:02X}_")
    invalid = function.append_basic_block("invalid")
    b.position_at_end(invalid)
    lo.leave(Exit.FAULT, lo.pc)
    b.position_at_end(dispatch_block)
    table_type = ll.ArrayType(PTR, 1 << 8)  # (an opcode is a byte)
    table = ll.GlobalVariable(module, table_type, f"{name}_handlers")
    table.linkage, table.global_constant = "internal", True
    table.initializer = ll.Constant(table_type, [ll.BlockAddress(function, handlers.get(code, invalid))
                                                  for code in range(table_type.count)])
    handler = b.load(b.gep(table, [I64_T(0), b.zext(opcode, I64_T)], inbounds=True, source_etype=table_type),
                     typ=PTR)
    jump = b.branch_indirect(handler)
    for block in [*handlers.values(), invalid]:
        jump.add_destination(block)

    _lower_transfer(lo, function)
    return function


def _count(lo: InterpreterLowering) -> ll.Value:
    """Credit the instructions run since the last transfer to its target, make ``pc`` the new
    target, and leave if it is hot; returns ``pc``."""
    b, guest = lo.builder, lo.guest
    pc = b.and_(b.load(lo.slots["pc"]), I32_T(guest.memory_size - 1))
    counters = b.gep(lo.entries, [I64_T(guest.hotness_offset)], inbounds=True, source_etype=I8_T)
    instructions = b.load(lo.slots["instructions"])
    ran = b.trunc(b.sub(instructions, b.load(lo.block_instructions)), I32_T)
    previous = b.gep(counters, [b.zext(b.load(lo.block_start), I64_T)], inbounds=True, source_etype=I32_T)
    b.store(b.add(b.load(previous, typ=I32_T), ran), previous)
    b.store(pc, lo.block_start)
    b.store(instructions, lo.block_instructions)
    profile_entry(lo, b.zext(pc, I64_T))  # (cold code is profiled by the targets it runs from)
    counter = b.gep(counters, [b.zext(pc, I64_T)], inbounds=True, source_etype=I32_T)
    hot = b.icmp_unsigned(">=", b.load(counter, typ=I32_T), lo.current("hot"))
    with b.if_then(hot, likely=False):
        b.store(I32_T(0), counter)
        lo.leave(Exit.HOT, pc)
    return pc


def _lower_transfer(lo: InterpreterLowering, function: ll.Function) -> None:
    """Count the target; leave if it is hot; enter its compiled code if it has some."""
    b = lo.builder
    b.position_at_end(lo.transfer)
    pending = b.icmp_unsigned("!=", load_volatile(b, lo.field_ptr("events"), typ=I8_T), I8_T(0))
    with b.if_then(pending, likely=False):  # RTI may have unmasked an IRQ: the runtime decides
        lo.leave(Exit.JUMP, b.load(lo.slots["pc"]))
    pc = _count(lo)
    target = lo.entry_point(b, pc)
    usable = b.and_(b.icmp_unsigned("!=", target, ll.Constant(PTR, None)),
                    b.icmp_unsigned("!=", target, function))
    enter = function.append_basic_block("enter")
    b.cbranch(usable, enter, lo.dispatch)
    b.position_at_end(enter)
    lo.flush()
    lo.tail_call(b, target)

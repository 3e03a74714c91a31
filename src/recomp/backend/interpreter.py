"""The native interpreter tier: the frontend's own icode for every opcode, compiled once into one
LLVM function that fetches, dispatches and runs guest instructions, so cold code costs neither
Python nor a compile of its own.

Each opcode is lifted once, as a one-instruction region at a *placeholder* address whose operand
bytes are volatile (read from memory at run time, as for self-modifying code).  The semantics
write every constant derived from the instruction's address as that address plus an offset,
so the lowering turns the constants ``placeholder + k`` into ``pc + k``
(``tests/test_native_interpreter.py`` lifts every opcode at two placeholders and checks that
nothing else depends on the address).  The function is a loop:

- ``dispatch``: fetch the opcode at ``pc`` and switch to its lowered icode; the instruction's
  budget guard, counters, memory accesses (device and code checks included) and mid-block exits
  are the same code compiled regions run.
- an instruction that goes on sets ``pc`` and continues at ``dispatch``; a control transfer (a
  branch, jump, call or return) continues at ``transfer``, which returns to the runtime while an
  interrupt is pending, credits the instructions run since the last transfer to that transfer's
  target in a table of 32-bit counters (entering the function is a transfer too: compiled code
  jumps to cold code through it), and, when the target has compiled code, tail-calls it as
  compiled regions chain; a target whose count reached ``HOT`` instructions returns
  ``Exit.HOT`` so the runtime compiles a region there.  A jump to itself
  where a compiled region would see a trap is ``Exit.TRAP``.

The counters live after the entry table's pointer slots (``counter_offset``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir as ll

from recomp.backend.lower import (
    I8_T,
    I32_T,
    I64_T,
    PTR,
    _Lowering,
    _state_fields,
    llvm_type,
    lower_blocks,
    region_function,
    start_lowering,
)
from recomp.frontends.base import DecodeError, Frontend
from recomp.frontends.region import build_region
from recomp.ir.core import Region
from recomp.ir.guest import ATTR_STOP
from recomp.ir.ops import Exit
from recomp.ir.types import I32, Type

# guest instructions run from one transfer target (up to the next transfer) before the runtime
# compiles a region there: a million, 3 ms of this interpreter, against the 30 to 80 ms LLVM
# takes for a region; code that ran that long is a loop likely to run much longer, and Klaus
# Dormann's functional test (30 million instructions, no such loop) runs without compiling
HOT = 1 << 20
OPERAND_BYTES = 3  # bytes after the opcode read from memory (the longest instruction's operands)


@dataclass(frozen=True)
class OpcodeLift:
    opcode: int
    region: Region
    control: bool  # ends a block: its successor is a transfer target
    traps: bool  # a jump to its own address is a trap, as in compiled regions


def placeholder(frontend: Frontend) -> int:
    return frontend.guest.memory_size // 4


def lift_opcodes(frontend: Frontend, at: int | None = None) -> list[OpcodeLift]:
    """Every valid opcode byte lifted once at the placeholder ``at``."""
    at = placeholder(frontend) if at is None else at
    size = frontend.guest.memory_size
    volatile = frozenset(at + i for i in range(1, OPERAND_BYTES + 1))
    lifts = []
    for opcode in range(256):
        memory = bytearray(size)
        memory[at] = opcode
        try:
            insn = frontend.decode(memory, at, size)
        except DecodeError:
            continue
        region, _ = build_region(frontend, memory, at, size, 1, volatile)
        lifts.append(OpcodeLift(opcode, region, insn.ends_block, _traps_on_itself(frontend, memory, at)))
    return lifts


def _traps_on_itself(frontend: Frontend, memory: bytearray, at: int) -> bool:
    """Whether a compiled region reports this opcode as a trap when its operands point at the
    instruction itself: a relative offset of -size, or the instruction's own address."""
    size = frontend.decode(memory, at, len(memory)).size
    fillings = [bytes([(-size) & 0xFF]), at.to_bytes(OPERAND_BYTES, "little")]
    for operands in fillings:
        probe = bytearray(memory)
        probe[at + 1:at + 1 + len(operands)] = operands
        region, _ = build_region(frontend, probe, at, len(probe), 1)
        if any(op.name == "trap" for op in region.ops()):
            return True
    return False


class _InterpreterLowering(_Lowering):
    """Lowers one opcode's icode inside the interpreter: address constants relative to ``pc``,
    and going on means continuing the loop."""

    at: int = 0  # the placeholder
    pc_type: Type = I32
    pc: ll.Value | None = None  # the i32 pc of the instruction being run
    lift: OpcodeLift | None = None
    stops: bool = False  # check for stop addresses after every instruction (15 % slower)
    dispatch: ll.Block | None = None
    transfer: ll.Block | None = None
    block_start: ll.AllocaInstr | None = None  # the last transfer's target ...
    block_instructions: ll.AllocaInstr | None = None  # ... and the instruction count then

    def _relative(self, value: int) -> int | None:
        offset = value - self.at
        return offset if 0 <= offset <= OPERAND_BYTES else None

    def constant(self, t: Type, value: int) -> ll.Value:
        offset = self._relative(value) if t == self.pc_type else None
        if offset is None:
            return super().constant(t, value)
        pc = self.builder.trunc(self.pc, llvm_type(t)) if t.bits < 32 else self.pc
        return self.builder.add(pc, llvm_type(t)(offset))

    def guest_address(self, addr: int) -> ll.Value:
        offset = self._relative(addr)
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


def counter_offset(guest_table_size: int) -> int:
    """Byte offset of the counters in the entry table: after its pointer slots."""
    return guest_table_size * 8


def lower_interpreter(frontend: Frontend, lifts: list[OpcodeLift], module: ll.Module, name: str,
                      stops: bool = False) -> ll.Function:
    """The interpreter function; ``stops``: the variant that returns before an address marked
    ``ATTR_STOP`` (for runs with a stop address)."""
    guest = frontend.guest
    function = region_function(module, name)
    used, written = {"pc"}, {"pc"}
    for lift in lifts:
        more_used, more_written = _state_fields(lift.region)
        used |= more_used
        written |= more_written
    lo = start_lowering(_InterpreterLowering, lifts[0].region, guest, function, True, True, used, written)
    lo.at = placeholder(frontend)
    lo.stops = stops
    lo.pc_type = getattr(frontend, "pc_type", I32)
    lo.dispatch = function.append_basic_block("dispatch")
    lo.transfer = function.append_basic_block("transfer")
    b = lo.builder  # entered from compiled code or the runtime: a transfer too, from nowhere,
    # counted but not looked up (whoever called had no compiled code to run there)
    lo.block_start = b.alloca(I32_T, name="block_start")
    lo.block_instructions = b.alloca(I64_T, name="block_instructions")
    b.store(b.and_(b.load(lo.slots["pc"]), I32_T(guest.memory_size - 1)), lo.block_start)
    b.store(b.load(lo.slots["instructions"]), lo.block_instructions)
    _count(lo)
    b.branch(lo.dispatch)

    b.position_at_end(lo.dispatch)
    lo.pc = b.and_(b.load(lo.slots["pc"]), I32_T(guest.memory_size - 1), name="pc")
    opcode = b.load(b.gep(lo.memory, [b.zext(lo.pc, I64_T)], inbounds=True, source_etype=I8_T), typ=I8_T)
    switch_block = b.block
    cases = []
    for lift in lifts:
        lo.lift = lift
        cases.append((lift.opcode, lower_blocks(lo, lift.region, f"op{lift.opcode:02X}_")))
    invalid = function.append_basic_block("invalid")
    b.position_at_end(invalid)
    lo.leave(Exit.FAULT, lo.pc)
    b.position_at_end(switch_block)
    switch = b.switch(opcode, invalid)
    for value, block in cases:
        switch.add_case(I8_T(value), block)

    _lower_transfer(lo, function)
    return function


def _count(lo: _InterpreterLowering) -> ll.Value:
    """Credit the instructions run since the last transfer to its target, make ``pc`` the new
    target, and leave if it is hot; returns ``pc``."""
    b, guest = lo.builder, lo.guest
    pc = b.and_(b.load(lo.slots["pc"]), I32_T(guest.memory_size - 1))
    counters = b.gep(lo.entries, [I64_T(counter_offset(guest.entry_table_size))], inbounds=True,
                     source_etype=I8_T)
    instructions = b.load(lo.slots["instructions"])
    ran = b.trunc(b.sub(instructions, b.load(lo.block_instructions)), I32_T)
    previous = b.gep(counters, [b.zext(b.load(lo.block_start), I64_T)], inbounds=True, source_etype=I32_T)
    b.store(b.add(b.load(previous, typ=I32_T), ran), previous)
    b.store(pc, lo.block_start)
    b.store(instructions, lo.block_instructions)
    counter = b.gep(counters, [b.zext(pc, I64_T)], inbounds=True, source_etype=I32_T)
    hot = b.icmp_unsigned(">=", b.load(counter, typ=I32_T), I32_T(HOT))
    with b.if_then(hot, likely=False):
        b.store(I32_T(0), counter)
        lo.leave(Exit.HOT, pc)
    return pc


def _lower_transfer(lo: _InterpreterLowering, function: ll.Function) -> None:
    """Count the target; leave if it is hot; enter its compiled code if it has some."""
    b = lo.builder
    b.position_at_end(lo.transfer)
    pending = b.icmp_unsigned("!=", b.load(lo.field_ptr("events"), typ=I8_T), I8_T(0))
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

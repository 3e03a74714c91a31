"""Every opcode of a guest lifted once, for the native interpreter (``recomp.ir.opcodes``).

Each opcode is lifted as a one-instruction region at a placeholder address whose operand bytes
are volatile (read from memory at run time, as for self-modifying code), with the same region
builder compiled regions come from.  ``tests/test_native_interpreter.py`` lifts every opcode at
two placeholders and checks that nothing else depends on the address.
"""

from __future__ import annotations

from functools import cache

from recomp.frontends.base import DecodeError, Frontend
from recomp.frontends.region import build_region
from recomp.ir.opcodes import OpcodeLift, OpcodeLifts

OPERAND_BYTES = 3  # bytes after the opcode read from memory (at least the longest instruction's operands)


def placeholder(frontend: Frontend) -> int:
    """The address opcodes are lifted at: a quarter into memory, far from both ends."""
    return frontend.guest.memory_size // 4


@cache
def opcode_lifts(frontend: type[Frontend]) -> OpcodeLifts:
    """A frontend's opcodes lifted at the placeholder, once per process."""
    return lift_opcodes(frontend())


def lift_opcodes(frontend: Frontend, at: int | None = None) -> OpcodeLifts:
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
        region = build_region(frontend, memory, at, size, 1, volatile)[0]
        lifts.append(OpcodeLift(opcode, region, insn.ends_block, _traps_on_itself(frontend, memory, at)))
    return OpcodeLifts(at, OPERAND_BYTES, tuple(lifts))


def _traps_on_itself(frontend: Frontend, memory: bytearray, at: int) -> bool:
    """Whether a compiled region reports this opcode as a trap when its operands point at the
    instruction itself: a relative offset of -size (in every operand byte: the 65C02's BBR has
    its offset second), or the instruction's own address."""
    size = frontend.decode(memory, at, len(memory)).size
    fillings = [bytes([(-size) & 0xFF]) * (size - 1), at.to_bytes(OPERAND_BYTES, "little")]
    for operands in fillings:
        probe = bytearray(memory)
        probe[at + 1:at + 1 + len(operands)] = operands
        region = build_region(frontend, probe, at, len(probe), 1)[0]
        if any(op.name == "trap" for op in region.ops()):
            return True
    return False

"""What a frontend hands the backend to build a native interpreter: the icode of every opcode,
lifted once at a *placeholder* address whose operand bytes are read from memory at run time.

The semantics write every constant derived from an instruction's address as that address plus
an offset, so a lowering can turn the constants ``placeholder + k`` (``0 <= k <= operand_bytes``)
into ``pc + k`` and run the same icode for an instruction at any address.
"""

from __future__ import annotations

from typing import NamedTuple

from recomp.ir.core import Region


class OpcodeLift(NamedTuple):
    """One opcode's icode, as a one-instruction region at the placeholder."""

    opcode: int
    region: Region
    control: bool  # ends a block: its successor is a transfer target
    traps: bool  # a jump to its own address is a trap, as in compiled regions


class OpcodeLifts(NamedTuple):
    """Every valid opcode of a guest, lifted at ``placeholder``."""

    placeholder: int
    operand_bytes: int  # bytes after the opcode that are read from memory at run time
    opcodes: tuple[OpcodeLift, ...]

    def relative(self, value: int) -> int | None:
        """The offset ``k`` of an address constant ``placeholder + k``, or None for any other."""
        offset = value - self.placeholder
        return offset if 0 <= offset <= self.operand_bytes else None

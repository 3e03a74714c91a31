"""6502 addressing modes, written once each: how an instruction finds its operand.

Operand bytes come from the instruction as constants, except bytes the guest has rewritten
(``volatile``), which are fetched from memory at run time (``fetch``: memory itself, never a
device) so that rewriting them again does not invalidate the code.  Zero-page modes wrap
within page zero; ``JMP ($xxFF)`` reads its high byte from the start of the same page on the
NMOS chip (the 65C02 fixed it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from recomp.frontends.base import Insn
from recomp.frontends.region import RegionBuilder
from recomp.ir.core import Value
from recomp.ir.types import I8, I16

if TYPE_CHECKING:
    from recomp.frontends.mos6502.variant import Variant

INDEXED_READS = ("absx", "absy", "indy")  # modes whose reads may cross a page
BRANCH_MODES = ("rel", "zprel")  # modes of a relative branch (its offset the last operand byte)


def operand_byte(b: RegionBuilder, insn: Insn, index: int) -> Value:
    addr = (insn.addr + 1 + index) & 0xFFFF
    if addr in b.volatile:
        return b.fetch(b.const(I16, addr), type=I8)
    return b.const(I8, insn.operands[index])


def operand_word(b: RegionBuilder, insn: Insn) -> Value:
    if not {(insn.addr + 1) & 0xFFFF, (insn.addr + 2) & 0xFFFF} & b.volatile:
        return b.const(I16, insn.operands[0] | insn.operands[1] << 8)
    return word(b, operand_byte(b, insn, 0), operand_byte(b, insn, 1))


def word(b: RegionBuilder, low: Value, high: Value) -> Value:
    return b.op_or(b.zext(low, type=I16), b.shl(b.zext(high, type=I16), b.const(I16, 8)))


def read_word(b: RegionBuilder, low_addr: Value, high_addr: Value) -> Value:
    return word(b, b.load(low_addr, type=I8), b.load(high_addr, type=I8))


def zero_page_word(b: RegionBuilder, pointer: Value) -> Value:
    """The 16-bit pointer at a zero-page address (i8), its high byte wrapping within page zero."""
    high = b.add(pointer, b.const(I8, 1))
    return read_word(b, b.zext(pointer, type=I16), b.zext(high, type=I16))


def _indexed(b: RegionBuilder, base: Value, register: str, penalty: bool) -> Value:
    address = b.add(base, b.zext(b.getreg(register, type=I8), type=I16))
    if penalty:  # one more cycle when the index carries into the high byte
        eight = b.const(I16, 8)
        b.cycles(b.ne(b.lshr(base, eight), b.lshr(address, eight)))
    return address


def _zero_page_indexed(b: RegionBuilder, insn: Insn, register: str) -> Value:
    return b.zext(b.add(operand_byte(b, insn, 0), b.getreg(register, type=I8)), type=I16)


def _indirect(b: RegionBuilder, insn: Insn, page_wrap: bool) -> Value:
    """JMP (abs): with ``page_wrap`` (the NMOS chip), the high byte of a pointer at $xxFF comes
    from $xx00."""
    pointer = operand_word(b, insn)
    if not page_wrap:
        return read_word(b, pointer, b.add(pointer, b.const(I16, 1)))
    page = b.op_and(pointer, b.const(I16, 0xFF00))
    next_in_page = b.zext(b.add(b.trunc(pointer, type=I8), b.const(I8, 1)), type=I16)
    return read_word(b, pointer, b.op_or(page, next_in_page))


def _indexed_indirect(b: RegionBuilder, insn: Insn) -> Value:
    """The 65C02's JMP (abs,X): the pointer at abs + X, not wrapping within a page."""
    pointer = b.add(operand_word(b, insn), b.zext(b.getreg("x", type=I8), type=I16))
    return read_word(b, pointer, b.add(pointer, b.const(I16, 1)))


# addressing mode -> its effective address (``page_wrap``: JMP (abs)'s NMOS page bug)
_ADDRESSES: dict[str, Callable[[RegionBuilder, Insn, bool, bool], Value]] = {
    "zp": lambda b, insn, penalty, wrap: b.zext(operand_byte(b, insn, 0), type=I16),
    "zpx": lambda b, insn, penalty, wrap: _zero_page_indexed(b, insn, "x"),
    "zpy": lambda b, insn, penalty, wrap: _zero_page_indexed(b, insn, "y"),
    "abs": lambda b, insn, penalty, wrap: operand_word(b, insn),
    "absx": lambda b, insn, penalty, wrap: _indexed(b, operand_word(b, insn), "x", penalty),
    "absy": lambda b, insn, penalty, wrap: _indexed(b, operand_word(b, insn), "y", penalty),
    "indx": lambda b, insn, penalty, wrap: zero_page_word(b, b.add(operand_byte(b, insn, 0), b.getreg("x", type=I8))),
    "indy": lambda b, insn, penalty, wrap: _indexed(b, zero_page_word(b, operand_byte(b, insn, 0)), "y", penalty),
    "zpind": lambda b, insn, penalty, wrap: zero_page_word(b, operand_byte(b, insn, 0)),
    "zprel": lambda b, insn, penalty, wrap: b.zext(operand_byte(b, insn, 0), type=I16),
    "ind": lambda b, insn, penalty, wrap: _indirect(b, insn, wrap),
    "absxind": lambda b, insn, penalty, wrap: _indexed_indirect(b, insn),
}


def effective_address(b: RegionBuilder, insn: Insn, page_wrap: bool = True) -> Value:
    """The i16 address a memory-mode instruction reads or writes (adding page-cross cycles)."""
    mode = insn.info.mode
    if mode not in _ADDRESSES:
        raise ValueError(f"mode {mode} has no effective address")
    return _ADDRESSES[mode](b, insn, insn.info.page_penalty, page_wrap)


class Operand:
    """What an instruction's addressing mode gives its semantics: read, write, address; and the
    chip's ``variant``, for the semantics whose quirks differ between chips."""

    def __init__(self, b: RegionBuilder, insn: Insn, variant: Variant) -> None:
        self.b = b
        self.insn = insn
        self.variant = variant
        self._address: Value | None = None

    @property
    def mode(self) -> str:
        return self.insn.info.mode

    @property
    def address(self) -> Value:
        if self._address is None:
            self._address = effective_address(self.b, self.insn, self.variant.jmp_page_wrap)
        return self._address

    def read(self) -> Value:
        if self.mode == "acc":
            return self.b.getreg("a", type=I8)
        if self.mode == "imm":
            return operand_byte(self.b, self.insn, 0)
        return self.b.load(self.address, type=I8)

    def write(self, value: Value) -> None:
        if self.mode == "acc":
            self.b.setreg("a", value)
        else:
            self.b.store(self.address, value)

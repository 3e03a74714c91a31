"""The 6502 family's frontend: a decoder driven by a variant's opcode table, its lifter,
interrupt entry, and the status byte as a computed state field.  One class per variant
(``recomp.frontends.mos6502.variant``), each reading its record."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence, Set
from functools import partial
from typing import Any

from recomp.frontends.base import ComputedField, DecodeError, Frontend, Insn
from recomp.frontends.mos6502.modes import BRANCH_MODES, INDEXED_READS, Operand
from recomp.frontends.mos6502.semantics import (
    P_BITS,
    STACK_PAGE,
    UNUSED_BIT,
    VECTORS,
    c16,
    interrupt_sequence,
)
from recomp.frontends.mos6502.table import Opcode
from recomp.frontends.mos6502.variant import CMOS, DOCUMENTED_ONLY, FAMILY, NMOS, Variant
from recomp.frontends.opcodes import opcode_lifts
from recomp.frontends.region import RegionBuilder
from recomp.ir.opcodes import OpcodeLifts
from recomp.ir.types import I8

GUEST = NMOS.guest

INTERRUPT_CYCLES = 7
BRK = 0x00
JSR = 0x20
# instructions that never go on to the next (WAI does, once an interrupt is pending)
_NO_FALL_THROUGH = {"JMP", "JSR", "RTS", "RTI", "BRK", "BRA", "STP"}
_ENDS_BLOCK = _NO_FALL_THROUGH | {"WAI"}
_DECIMAL = {"ADC", "SBC"}  # one more cycle in decimal mode on the 65C02


def _more_code(memory: Sequence[int], opcode: Opcode, addr: int, operands: tuple[int, ...],
               page_wrap: bool) -> tuple[int, ...]:
    """Code reached later, as memory stands: after a call returns (RTS adds 1 to JSR's pushed
    PC+2; RTI returns to BRK's PC+2), and JMP (ind)'s current target (with the NMOS page-wrap
    bug: ``page_wrap``)."""
    if opcode.mnemonic == "JSR":
        return ((addr + 3) & 0xFFFF,)
    if opcode.mnemonic == "BRK":
        return ((addr + 2) & 0xFFFF,)
    if opcode.mnemonic == "JMP" and opcode.mode == "ind":
        low, high = operands
        after = high << 8 | (low + 1) & 0xFF if page_wrap else (high << 8 | low) + 1 & 0xFFFF
        return (memory[high << 8 | low] | memory[after] << 8,)
    return ()


def _get_p(state: ctypes.Structure) -> int:
    p = UNUSED_BIT
    for flag, index in P_BITS:
        p |= (getattr(state, flag) & 1) << index
    return p


def _set_p(state: ctypes.Structure, value: int) -> None:
    for flag, index in P_BITS:
        setattr(state, flag, value >> index & 1)


_HANDLES = threading.local()  # capstone handles per thread (the compile thread decodes too), by mode


def _capstone(mode: str) -> Any:
    handles = getattr(_HANDLES, "capstone", None)
    if handles is None:
        handles = _HANDLES.capstone = {}
    if mode not in handles:
        import capstone

        handles[mode] = capstone.Cs(capstone.CS_ARCH_MOS65XX, getattr(capstone, mode))
    return handles[mode]


def _stand_ins(variant: Variant) -> dict[str, int]:
    """For each addressing mode, an opcode of it that capstone decodes in the variant's mode."""
    stand_ins: dict[str, int] = {}
    for code, opcode in sorted(variant.opcodes.items()):
        if opcode.mnemonic not in ("NOP", "BRK") and code in DOCUMENTED_ONLY.opcodes:
            stand_ins.setdefault(opcode.mode, code)
    return stand_ins


_STAND_INS = _stand_ins(NMOS)


def disassemble(code: bytes, addr: int, variant: Variant = NMOS) -> str:
    """One instruction's text, from capstone in the variant's mode, in the usual ``$`` notation.

    Capstone reads BRK as two bytes (the signature byte after it); the 6502 and recomp take one,
    so BRK is shown without an operand.  Capstone knows no undocumented NMOS opcode: those are
    shown with their name from the opcode table and the operand capstone gives a documented
    opcode of the same addressing mode (``LAX $12,Y`` from ``LDX $12,Y``).  Its 65C02 mode shows
    the NOPs of two and three bytes without an operand, as WDC documents them."""
    opcode = variant.opcodes.get(code[0])
    undocumented = opcode is not None and opcode.code not in DOCUMENTED_ONLY.opcodes
    if undocumented and variant.capstone_mode == NMOS.capstone_mode:
        if opcode.mode in ("imp", "acc"):
            return opcode.mnemonic
        shown = _disassemble(bytes([_STAND_INS[opcode.mode]]) + code[1:], addr, NMOS.capstone_mode)
        return f"{opcode.mnemonic} {shown.partition(' ')[2]}"
    return _disassemble(code, addr, variant.capstone_mode)


def _disassemble(code: bytes, addr: int, mode: str) -> str:
    for insn in _capstone(mode).disasm(code + bytes(2), addr):
        if insn.size > len(code):
            return insn.mnemonic.upper()
        return f"{insn.mnemonic.upper()} {insn.op_str.replace('0x', '$')}".rstrip()
    return "???"


class Mos6502(Frontend):
    """The NMOS 6502, every opcode; the subclasses below are the other variants."""

    variant = NMOS
    name = NMOS.name
    family = FAMILY
    guest = NMOS.guest
    computed_fields = {"p": ComputedField(_get_p, _set_p, 8)}
    native_interpreter = True  # cold code runs on its opcodes' icode, compiled once
    # the reset sequence's three dummy pushes leave S at $FD (from $00); it sets I
    reset_registers = {"s": 0xFD, "I": 1}
    trace_registers = ("a", "x", "y", "s", "p")  # as emulator logs show them (nestest's A X Y P SP)
    return_opcodes = frozenset({0x60, 0x40})  # RTS, RTI

    def decode(self, memory: Sequence[int], addr: int, end: int,
               volatile: Set[int] = frozenset()) -> Insn:
        addr &= 0xFFFF
        variant = self.variant
        opcode = variant.opcodes.get(memory[addr])
        if opcode is None:
            raise DecodeError(addr, f"illegal opcode ${memory[addr]:02X} at ${addr:04X}")
        if opcode.mnemonic == "JAM":
            raise DecodeError(addr, f"CPU jammed by ${opcode.code:02X} at ${addr:04X}")
        length = opcode.length
        if addr + length <= 0x10000:
            raw = bytes(memory[addr:addr + length])
        else:  # (wrapping at $FFFF)
            raw = bytes(memory[(addr + i) & 0xFFFF] for i in range(length))
        operands = tuple(raw[1:])
        nxt = (addr + length) & 0xFFFF
        static = not volatile or not any((addr + i) & 0xFFFF in volatile for i in range(1, length))
        targets: tuple[int, ...] = ()
        extra = 0
        if opcode.mode in BRANCH_MODES:
            extra = 2
            if static:
                offset = operands[-1] - 256 if operands[-1] & 0x80 else operands[-1]
                targets = ((nxt + offset) & 0xFFFF,)
        elif opcode.mnemonic == "JMP" and opcode.mode == "abs" and static:
            targets = (operands[0] | operands[1] << 8,)
        elif opcode.mnemonic == "JSR" and static and not STACK_PAGE <= (addr + 2) & 0xFFFF < STACK_PAGE + 0x100:
            targets = (operands[0] | operands[1] << 8,)  # (see semantics.jsr: its pushes may rewrite it)
        elif opcode.page_penalty and opcode.mode in INDEXED_READS:
            extra = 1
        if variant.cmos_decimal and opcode.mnemonic in _DECIMAL:
            extra += 1
        return Insn(addr, opcode.length, opcode.mnemonic, operands, partial(disassemble, raw, addr, variant),
                    returns_to=nxt if opcode.mnemonic == "JSR" else None, is_return=opcode.mnemonic == "RTS",
                    cycles=opcode.cycles, extra_cycles=extra, targets=targets,
                    falls_through=opcode.mnemonic not in _NO_FALL_THROUGH,
                    control=opcode.mnemonic in _ENDS_BLOCK or opcode.mode in BRANCH_MODES, mask=0xFFFF,
                    more_code=_more_code(memory, opcode, addr, operands, variant.jmp_page_wrap),
                    info=opcode)

    def lift(self, b: RegionBuilder, insn: Insn) -> None:
        self.variant.semantics[insn.mnemonic](b, Operand(b, insn, self.variant))

    def lift_interrupt(self, b: RegionBuilder, kind: str, pc: int) -> None:
        """IRQ or NMI taken at ``pc``: 7 cycles, push pc and P (B clear), through the vector."""
        b.cycles(b.const(I8, INTERRUPT_CYCLES))
        interrupt_sequence(b, c16(b, pc), False, VECTORS[kind], self.variant.interrupt_clears_d)

    def irq_masked(self, state: ctypes.Structure) -> bool:
        return bool(state.I)

    def caller(self, memory: Sequence[int], state: ctypes.Structure) -> int | None:
        """JSR pushes the address of its last byte: the word on top of the stack is one if the
        byte two before it is a JSR opcode (a word pushed otherwise rarely is)."""
        top = [memory[STACK_PAGE | ((state.s + k) & 0xFF)] for k in (1, 2)]
        last = top[0] | top[1] << 8
        return (last + 1) & 0xFFFF if memory[(last - 2) & 0xFFFF] == JSR else None

    def idles(self, memory: Sequence[int], pc: int) -> bool:
        opcode = self.variant.opcodes.get(memory[pc])
        return opcode is not None and (opcode.mode in BRANCH_MODES or opcode.mnemonic == "WAI"
                                       or (opcode.mnemonic, opcode.mode) == ("JMP", "abs"))

    def trap_fault(self, memory: Sequence[int], pc: int) -> str | None:
        if memory[pc] != BRK:
            return None
        vector = VECTORS["irq"]
        return (f"BRK at ${pc:04X} jumps to itself through its vector at ${vector:04X}, for ever: execution ran "
                f"into memory that holds nothing (is --load missing, or --entry wrong?)")

    def opcode_lifts(self) -> OpcodeLifts:
        return opcode_lifts(type(self))

    def format_address(self, addr: int) -> str:
        return f"${addr:04X}"


class Mos6502Documented(Mos6502):
    variant = DOCUMENTED_ONLY
    name = DOCUMENTED_ONLY.name
    guest = DOCUMENTED_ONLY.guest


class Wdc65C02(Mos6502):
    variant = CMOS
    name = CMOS.name
    guest = CMOS.guest


__all__ = ["GUEST", "Mos6502", "Mos6502Documented", "Wdc65C02", "disassemble"]

"""The MOS 6502 frontend: decoder driven by the opcode table, lifter, interrupt entry, and the
status byte as a computed state field."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence, Set
from functools import partial
from typing import Any

from recomp.frontends.base import ComputedField, DecodeError, Frontend, Insn
from recomp.frontends.mos6502.modes import INDEXED_READS, Operand
from recomp.frontends.mos6502.semantics import (
    P_BITS,
    SEMANTICS,
    STACK_PAGE,
    UNUSED_BIT,
    VECTORS,
    c16,
    interrupt_sequence,
)
from recomp.frontends.mos6502.table import OPCODES
from recomp.frontends.opcodes import opcode_lifts
from recomp.frontends.region import RegionBuilder
from recomp.ir.guest import GuestSpec
from recomp.ir.opcodes import OpcodeLifts
from recomp.ir.types import I8, I16

GUEST = GuestSpec(
    name="mos6502",
    registers={"a": I8, "x": I8, "y": I8, "s": I8},
    flags=("N", "V", "D", "I", "Z", "C"),
    helpers={},
    memory_size=0x10000,
    has_cycles=True,
    dynamic_operands=True,
    specialize=("D",),
    pc_type=I16,
    reset_vector=VECTORS["reset"],
    interrupts=True,
    console=(0xF001, 0xF004),  # py65's putc / getc addresses
    sign_zero=("N", "Z"),
    data_pages=(0, 1),  # the zero page and the stack
)

INTERRUPT_CYCLES = 7
BRK = 0x00
JSR = 0x20
# instructions that end a block
_NO_FALL_THROUGH = {"JMP", "JSR", "RTS", "RTI", "BRK"}


def _more_code(memory: Sequence[int], mnemonic: str, mode: str, addr: int, operands: tuple[int, ...]
               ) -> tuple[int, ...]:
    """Code reached later, as memory stands: after a call returns (RTS adds 1 to JSR's pushed
    PC+2; RTI returns to BRK's PC+2), and JMP (ind)'s current target (with the page-wrap bug)."""
    if mnemonic == "JSR":
        return ((addr + 3) & 0xFFFF,)
    if mnemonic == "BRK":
        return ((addr + 2) & 0xFFFF,)
    if mnemonic == "JMP" and mode == "ind":
        low, high = operands
        return (memory[high << 8 | low] | memory[high << 8 | (low + 1) & 0xFF] << 8,)
    return ()
_ENDS_BLOCK = _NO_FALL_THROUGH


def _get_p(state: ctypes.Structure) -> int:
    p = UNUSED_BIT
    for flag, index in P_BITS:
        p |= (getattr(state, flag) & 1) << index
    return p


def _set_p(state: ctypes.Structure, value: int) -> None:
    for flag, index in P_BITS:
        setattr(state, flag, value >> index & 1)


_HANDLES = threading.local()  # a capstone handle per thread: the compile thread decodes too


def _capstone() -> Any:
    handle = getattr(_HANDLES, "capstone", None)
    if handle is None:
        import capstone

        handle = _HANDLES.capstone = capstone.Cs(capstone.CS_ARCH_MOS65XX, capstone.CS_MODE_MOS65XX_6502)
    return handle


def disassemble(code: bytes, addr: int) -> str:
    """One instruction's text, from capstone, in the usual ``$`` notation.  Capstone reads BRK
    as two bytes (the signature byte after it); the 6502 and recomp take one, so BRK is shown
    without an operand."""
    for insn in _capstone().disasm(code + bytes(2), addr):
        if insn.size > len(code):
            return insn.mnemonic.upper()
        return f"{insn.mnemonic.upper()} {insn.op_str.replace('0x', '$')}".rstrip()
    return "???"


class Mos6502(Frontend):
    name = "6502"
    guest = GUEST
    computed_fields = {"p": ComputedField(_get_p, _set_p, 8)}
    native_interpreter = True  # cold code runs on its opcodes' icode, compiled once
    # the reset sequence's three dummy pushes leave S at $FD (from $00); it sets I
    reset_registers = {"s": 0xFD, "I": 1}
    trace_registers = ("a", "x", "y", "s", "p")  # as emulator logs show them (nestest's A X Y P SP)
    return_opcodes = frozenset({0x60, 0x40})  # RTS, RTI

    def decode(self, memory: Sequence[int], addr: int, end: int,
               volatile: Set[int] = frozenset()) -> Insn:
        addr &= 0xFFFF
        opcode = OPCODES.get(memory[addr])
        if opcode is None:
            raise DecodeError(addr, f"illegal opcode ${memory[addr]:02X} at ${addr:04X}")
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
        if opcode.mode == "rel":
            extra = 2
            if static:
                offset = operands[0] - 256 if operands[0] & 0x80 else operands[0]
                targets = ((nxt + offset) & 0xFFFF,)
        elif opcode.mnemonic == "JMP" and opcode.mode == "abs" and static:
            targets = (operands[0] | operands[1] << 8,)
        elif opcode.mnemonic == "JSR" and static and not STACK_PAGE <= (addr + 2) & 0xFFFF < STACK_PAGE + 0x100:
            targets = (operands[0] | operands[1] << 8,)  # (see semantics.jsr: its pushes may rewrite it)
        elif opcode.page_penalty and opcode.mode in INDEXED_READS:
            extra = 1
        return Insn(addr, opcode.length, opcode.mnemonic, operands, partial(disassemble, raw, addr),
                    returns_to=nxt if opcode.mnemonic == "JSR" else None, is_return=opcode.mnemonic == "RTS",
                    cycles=opcode.cycles, extra_cycles=extra, targets=targets,
                    falls_through=opcode.mnemonic not in _NO_FALL_THROUGH,
                    control=opcode.mnemonic in _ENDS_BLOCK or opcode.mode == "rel", mask=0xFFFF,
                    more_code=_more_code(memory, opcode.mnemonic, opcode.mode, addr, operands),
                    info=opcode)

    def lift(self, b: RegionBuilder, insn: Insn) -> None:
        SEMANTICS[insn.mnemonic](b, Operand(b, insn))

    def lift_interrupt(self, b: RegionBuilder, kind: str, pc: int) -> None:
        """IRQ or NMI taken at ``pc``: 7 cycles, push pc and P (B clear), through the vector."""
        b.cycles(b.const(I8, INTERRUPT_CYCLES))
        interrupt_sequence(b, c16(b, pc), False, VECTORS[kind])

    def irq_masked(self, state: ctypes.Structure) -> bool:
        return bool(state.I)

    def caller(self, memory: Sequence[int], state: ctypes.Structure) -> int | None:
        """JSR pushes the address of its last byte: the word on top of the stack is one if the
        byte two before it is a JSR opcode (a word pushed otherwise rarely is)."""
        top = [memory[STACK_PAGE | ((state.s + k) & 0xFF)] for k in (1, 2)]
        last = top[0] | top[1] << 8
        return (last + 1) & 0xFFFF if memory[(last - 2) & 0xFFFF] == JSR else None

    def idles(self, memory: Sequence[int], pc: int) -> bool:
        opcode = OPCODES.get(memory[pc])
        return opcode is not None and (opcode.mode == "rel" or (opcode.mnemonic, opcode.mode) == ("JMP", "abs"))

    def trap_fault(self, memory: Sequence[int], pc: int) -> str | None:
        if memory[pc] != BRK:
            return None
        vector = VECTORS["irq"]
        return (f"BRK at ${pc:04X} jumps to itself through its vector at ${vector:04X}, for ever: execution ran "
                f"into memory that holds nothing (is --load missing, or --entry wrong?)")

    def opcode_lifts(self) -> OpcodeLifts:
        return opcode_lifts(Mos6502)

    def format_address(self, addr: int) -> str:
        return f"${addr:04X}"


__all__ = ["GUEST", "Mos6502", "disassemble"]

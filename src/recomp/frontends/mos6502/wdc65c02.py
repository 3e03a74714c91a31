"""The WDC W65C02S: its rows over the NMOS chip's documented ones, and its new mnemonics.

Cycle counts from WDC's data sheet: JMP (abs) takes 6; ASL, LSR, ROL and ROR abs,X take 6, one
more when the index crosses a page; BBR and BBS take 5, and like every branch one more when
taken and another when that crosses a page (as MAME's W65C02 does).  The opcodes WDC left
unused are NOPs of the lengths and cycles the data sheet gives them (capstone decodes the
same lengths).  The decimal-mode differences (N and Z valid, the extra cycle) and the cleared
D flag on BRK and interrupts are ``Variant`` quirks read by the shared semantics.
"""

from __future__ import annotations

from collections.abc import Callable

from recomp.frontends.mos6502.modes import Operand
from recomp.frontends.mos6502.semantics import (
    SEMANTICS,
    bit,
    c8,
    c16,
    nop,
    pull,
    push,
    relative_branch,
    set_nz,
)
from recomp.frontends.mos6502.table import DOCUMENTED, Opcode, parse_rows
from recomp.frontends.region import RegionBuilder
from recomp.ir.types import I1, I8

_CHANGED = """
6C JMP ind 6   1E ASL absx 6+ 3E ROL absx 6+ 5E LSR absx 6+ 7E ROR absx 6+
"""

_ADDED = """
80 BRA rel 2
12 ORA zpind 5 32 AND zpind 5 52 EOR zpind 5 72 ADC zpind 5 92 STA zpind 5 B2 LDA zpind 5 D2 CMP zpind 5 F2 SBC zpind 5
89 BIT imm 2   34 BIT zpx 4   3C BIT absx 4+
1A INC acc 2   3A DEC acc 2
DA PHX imp 3   5A PHY imp 3   FA PLX imp 4   7A PLY imp 4
64 STZ zp 3    74 STZ zpx 4   9C STZ abs 4   9E STZ absx 5
04 TSB zp 5    0C TSB abs 6   14 TRB zp 5    1C TRB abs 6
7C JMP absxind 6
CB WAI imp 3   DB STP imp 3
02 NOP imm 2   22 NOP imm 2   42 NOP imm 2   62 NOP imm 2   82 NOP imm 2   C2 NOP imm 2   E2 NOP imm 2
44 NOP zp 3    54 NOP zpx 4   D4 NOP zpx 4   F4 NOP zpx 4   5C NOP abs 8   DC NOP abs 4   FC NOP abs 4
"""

# the bit instructions: RMBn $n7, SMBn $(n+8)7, BBRn $nF, BBSn $(n+8)F
_BITS = " ".join(f"{n << 4 | 0x07:02X} RMB{n} zp 5  {n << 4 | 0x87:02X} SMB{n} zp 5  "
                 f"{n << 4 | 0x0F:02X} BBR{n} zprel 5  {n << 4 | 0x8F:02X} BBS{n} zprel 5" for n in range(8))
# the one-byte, one-cycle NOPs: every $x3 and $xB but WAI ($CB) and STP ($DB)
_ONE_BYTE_NOPS = " ".join(f"{code:02X} NOP imp 1" for code in range(256)
                          if code & 0x0F in (0x03, 0x0B) and code not in (0xCB, 0xDB))

WDC65C02: dict[int, Opcode] = {**DOCUMENTED, **parse_rows(" ".join((_CHANGED, _ADDED, _BITS, _ONE_BYTE_NOPS)))}


def bra(b: RegionBuilder, op: Operand) -> None:
    relative_branch(b, op.insn, b.const(I1, 1))


def _push_register(register: str) -> Callable[[RegionBuilder, Operand], None]:
    def push_register(b: RegionBuilder, op: Operand) -> None:
        push(b, b.getreg(register, type=I8))
    return push_register


def _pull_register(register: str) -> Callable[[RegionBuilder, Operand], None]:
    def pull_register(b: RegionBuilder, op: Operand) -> None:
        value = pull(b)
        b.setreg(register, value)
        set_nz(b, value)
    return pull_register


def stz(b: RegionBuilder, op: Operand) -> None:
    op.write(c8(b, 0))


def _test_and(set_bits: bool) -> Callable[[RegionBuilder, Operand], None]:
    """TSB and TRB: Z from A & M, then M with A's bits set (or reset)."""
    def test(b: RegionBuilder, op: Operand) -> None:
        a, m = b.getreg("a", type=I8), op.read()
        b.setflag("Z", b.eq(b.op_and(a, m), c8(b, 0)))
        op.write(b.op_or(m, a) if set_bits else b.op_and(m, b.xor(a, c8(b, 0xFF))))
    return test


def _memory_bit(n: int, value: int) -> Callable[[RegionBuilder, Operand], None]:
    """RMBn and SMBn: reset or set bit n of a zero-page byte."""
    def memory_bit(b: RegionBuilder, op: Operand) -> None:
        m = op.read()
        op.write(b.op_or(m, c8(b, 1 << n)) if value else b.op_and(m, c8(b, 0xFF ^ 1 << n)))
    return memory_bit


def _branch_on_bit(n: int, value: int) -> Callable[[RegionBuilder, Operand], None]:
    """BBRn and BBSn: branch if bit n of a zero-page byte is reset (or set)."""
    def branch(b: RegionBuilder, op: Operand) -> None:
        set_ = bit(b, op.read(), n)
        relative_branch(b, op.insn, set_ if value else b.xor(set_, b.const(I1, 1)))
    return branch


def wai(b: RegionBuilder, op: Operand) -> None:
    """Wait for an interrupt: go on once one is pending (an IRQ even while I masks it: the
    run loop then takes it or not), else stay here, an idle loop the runtime skips ahead."""
    b.poll(c16(b, op.insn.next))
    b.goto(op.insn.addr)


def stp(b: RegionBuilder, op: Operand) -> None:
    """Stop the clock until a reset: the program has ended."""
    b.halt(op.insn.addr)


WDC65C02_SEMANTICS: dict[str, Callable[[RegionBuilder, Operand], None]] = {
    **SEMANTICS,
    "BRA": bra, "STZ": stz, "TSB": _test_and(True), "TRB": _test_and(False), "WAI": wai, "STP": stp,
    "PHX": _push_register("x"), "PHY": _push_register("y"), "PLX": _pull_register("x"), "PLY": _pull_register("y"),
    "NOP": nop,
    **{f"RMB{n}": _memory_bit(n, 0) for n in range(8)}, **{f"SMB{n}": _memory_bit(n, 1) for n in range(8)},
    **{f"BBR{n}": _branch_on_bit(n, 0) for n in range(8)}, **{f"BBS{n}": _branch_on_bit(n, 1) for n in range(8)},
}

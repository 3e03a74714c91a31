"""The NMOS 6502's 105 undocumented opcodes: their rows and the semantics of their mnemonics.

Names as in "NMOS 6510 Unintended Opcodes" (groepaz).  The stable ones combine two documented
operations (SLO = ASL then ORA, RRA = ROR then ADC, decimal mode included, ...).  The unstable
ones depend on the chip and on analogue effects; they follow what Tom Harte's SingleStepTests
recorded of a real chip: ANE and LXA with the "magic" constant $EE, and SHA, SHX, SHY and TAS
storing the register AND (the high byte of the address they store to + 1); on a page crossing
that is the address as indexed (other chips and documents put the value in the high byte
instead).  The 12 JAM opcodes halt the CPU: the decoder
reports them (``Mos6502.decode``), as the chip stops there for good.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from recomp.frontends.mos6502.modes import Operand
from recomp.frontends.mos6502.semantics import (
    SEMANTICS,
    add_decimal,
    bit,
    c8,
    c16,
    compare_with,
    logic_into_a,
    nop,
    set_nz,
    shifted,
    subtract_decimal,
)
from recomp.frontends.mos6502.table import parse_rows
from recomp.frontends.region import RegionBuilder
from recomp.ir.core import Value
from recomp.ir.types import I8

_ROWS = """
03 SLO indx 8  07 SLO zp 5  0F SLO abs 6  13 SLO indy 8  17 SLO zpx 6  1B SLO absy 7  1F SLO absx 7
23 RLA indx 8  27 RLA zp 5  2F RLA abs 6  33 RLA indy 8  37 RLA zpx 6  3B RLA absy 7  3F RLA absx 7
43 SRE indx 8  47 SRE zp 5  4F SRE abs 6  53 SRE indy 8  57 SRE zpx 6  5B SRE absy 7  5F SRE absx 7
63 RRA indx 8  67 RRA zp 5  6F RRA abs 6  73 RRA indy 8  77 RRA zpx 6  7B RRA absy 7  7F RRA absx 7
C3 DCP indx 8  C7 DCP zp 5  CF DCP abs 6  D3 DCP indy 8  D7 DCP zpx 6  DB DCP absy 7  DF DCP absx 7
E3 ISC indx 8  E7 ISC zp 5  EF ISC abs 6  F3 ISC indy 8  F7 ISC zpx 6  FB ISC absy 7  FF ISC absx 7
83 SAX indx 6  87 SAX zp 3  8F SAX abs 4  97 SAX zpy 4
A3 LAX indx 6  A7 LAX zp 3  AF LAX abs 4  B3 LAX indy 5+ B7 LAX zpy 4  BF LAX absy 4+
0B ANC imm 2   2B ANC imm 2 4B ALR imm 2  6B ARR imm 2   8B ANE imm 2  AB LXA imm 2  CB SBX imm 2  EB USBC imm 2
93 SHA indy 6  9F SHA absy 5  9E SHX absy 5  9C SHY absx 5  9B TAS absy 5  BB LAS absy 4+
1A NOP imp 2   3A NOP imp 2   5A NOP imp 2   7A NOP imp 2   DA NOP imp 2   FA NOP imp 2
80 NOP imm 2   82 NOP imm 2   89 NOP imm 2   C2 NOP imm 2   E2 NOP imm 2
04 NOP zp 3    44 NOP zp 3    64 NOP zp 3
14 NOP zpx 4   34 NOP zpx 4   54 NOP zpx 4   74 NOP zpx 4   D4 NOP zpx 4   F4 NOP zpx 4
0C NOP abs 4   1C NOP absx 4+ 3C NOP absx 4+ 5C NOP absx 4+ 7C NOP absx 4+ DC NOP absx 4+ FC NOP absx 4+
02 JAM imp 2   12 JAM imp 2   22 JAM imp 2   32 JAM imp 2   42 JAM imp 2   52 JAM imp 2
62 JAM imp 2   72 JAM imp 2   92 JAM imp 2   B2 JAM imp 2   D2 JAM imp 2   F2 JAM imp 2
"""

UNDOCUMENTED = parse_rows(_ROWS)
MAGIC = 0xEE  # what ANE and LXA OR into A first, on the chip SingleStepTests recorded


def _read_modify(modify: str, then: Callable[[RegionBuilder, Value, Operand], None]
                 ) -> Callable[[RegionBuilder, Operand], None]:
    """A read-modify-write of memory (the shift or step ``modify``), then an operation of A with
    the written value."""
    def combined(b: RegionBuilder, op: Operand) -> None:
        value = _MODIFY[modify](b, op.read())
        op.write(value)
        then(b, value, op)
    return combined


_MODIFY: dict[str, Callable[[RegionBuilder, Value], Value]] = {
    "ASL": partial(shifted, left=True, rotate=False), "ROL": partial(shifted, left=True, rotate=True),
    "LSR": partial(shifted, left=False, rotate=False), "ROR": partial(shifted, left=False, rotate=True),
    "DEC": lambda b, value: b.add(value, c8(b, 0xFF)), "INC": lambda b, value: b.add(value, c8(b, 1)),
}


def _into_a(name: str) -> Callable[[RegionBuilder, Value, Operand], None]:
    def logic(b: RegionBuilder, value: Value, op: Operand) -> None:
        logic_into_a(b, name, b.getreg("a", type=I8), value)
    return logic


def _compare_a(b: RegionBuilder, value: Value, op: Operand) -> None:
    compare_with(b, b.getreg("a", type=I8), value)


def sax(b: RegionBuilder, op: Operand) -> None:
    op.write(b.op_and(b.getreg("a", type=I8), b.getreg("x", type=I8)))


def lax(b: RegionBuilder, op: Operand) -> None:
    value = op.read()
    b.setreg("a", value)
    b.setreg("x", value)
    set_nz(b, value)


def anc(b: RegionBuilder, op: Operand) -> None:
    """A &= imm; C = N."""
    logic_into_a(b, "and", b.getreg("a", type=I8), op.read())
    b.setflag("C", b.getflag("N"))


def alr(b: RegionBuilder, op: Operand) -> None:
    """A = (A & imm) >> 1."""
    result = _MODIFY["LSR"](b, b.op_and(b.getreg("a", type=I8), op.read()))
    b.setreg("a", result)
    set_nz(b, result)


def arr(b: RegionBuilder, op: Operand) -> None:
    """A = (A & imm) rotated right through C, with flags of its own: in binary mode C from bit 6
    and V from bit 6 ^ bit 5 of the result; in decimal mode N from the old C, V from bit 6
    changing, and each digit adjusted as ADC would (the high one setting C)."""
    anded = b.op_and(b.getreg("a", type=I8), op.read())
    carry_in = b.zext(b.getflag("C"), type=I8)
    rotated = b.op_or(b.lshr(anded, c8(b, 1)), b.shl(carry_in, c8(b, 7)))
    # decimal mode
    low, high = b.op_and(anded, c8(b, 0x0F)), b.lshr(anded, c8(b, 4))
    fix_low = b.ult(c8(b, 5), b.add(low, b.op_and(low, c8(b, 1))))
    fixed_low = b.op_or(b.op_and(rotated, c8(b, 0xF0)), b.op_and(b.add(rotated, c8(b, 6)), c8(b, 0x0F)))
    decimal = b.select(fix_low, fixed_low, rotated)
    fix_high = b.ult(c8(b, 5), b.add(high, b.op_and(high, c8(b, 1))))
    decimal = b.select(fix_high, b.add(decimal, c8(b, 0x60)), decimal)
    d = b.getflag("D")
    b.setreg("a", b.select(d, decimal, rotated))
    b.setflag("N", bit(b, rotated, 7))
    b.setflag("Z", b.eq(rotated, c8(b, 0)))
    b.setflag("C", b.select(d, fix_high, bit(b, rotated, 6)))
    b.setflag("V", bit(b, b.xor(rotated, b.select(d, anded, b.shl(rotated, c8(b, 1)))), 6))


def ane(b: RegionBuilder, op: Operand) -> None:
    """A = (A | $EE) & X & imm."""
    magic = b.op_or(b.getreg("a", type=I8), c8(b, MAGIC))
    result = b.op_and(b.op_and(magic, b.getreg("x", type=I8)), op.read())
    b.setreg("a", result)
    set_nz(b, result)


def lxa(b: RegionBuilder, op: Operand) -> None:
    """A = X = (A | $EE) & imm."""
    result = b.op_and(b.op_or(b.getreg("a", type=I8), c8(b, MAGIC)), op.read())
    b.setreg("a", result)
    b.setreg("x", result)
    set_nz(b, result)


def sbx(b: RegionBuilder, op: Operand) -> None:
    """X = (A & X) - imm, C as CMP sets it (no borrow in, no decimal mode)."""
    anded, m = b.op_and(b.getreg("a", type=I8), b.getreg("x", type=I8)), op.read()
    result = b.sub(anded, m)
    b.setflag("C", b.ule(m, anded))
    b.setreg("x", result)
    set_nz(b, result)


def las(b: RegionBuilder, op: Operand) -> None:
    """A = X = S = M & S."""
    result = b.op_and(op.read(), b.getreg("s", type=I8))
    for register in ("a", "x", "s"):
        b.setreg(register, result)
    set_nz(b, result)


def _store_high_and(value: Callable[[RegionBuilder], Value]) -> Callable[[RegionBuilder, Operand], None]:
    """SHA, SHX, SHY, TAS: store ``value`` AND (the high byte of the address + 1)."""
    def store(b: RegionBuilder, op: Operand) -> None:
        address = op.address
        high = b.trunc(b.lshr(address, c16(b, 8)), type=I8)
        b.store(address, b.op_and(value(b), b.add(high, c8(b, 1))))
    return store


def _register_and(*registers: str) -> Callable[[RegionBuilder], Value]:
    def value(b: RegionBuilder) -> Value:
        result = b.getreg(registers[0], type=I8)
        for register in registers[1:]:
            result = b.op_and(result, b.getreg(register, type=I8))
        return result
    return value


def _tas_value(b: RegionBuilder) -> Value:
    """TAS first sets S = A & X, then stores S like SHA."""
    s = _register_and("a", "x")(b)
    b.setreg("s", s)
    return s


def _add_to_a(b: RegionBuilder, value: Value, op: Operand) -> None:
    add_decimal(b, value, op.variant.cmos_decimal)


def _subtract_from_a(b: RegionBuilder, value: Value, op: Operand) -> None:
    subtract_decimal(b, value, op.variant.cmos_decimal)


UNDOCUMENTED_SEMANTICS: dict[str, Callable[[RegionBuilder, Operand], None]] = {
    "SLO": _read_modify("ASL", _into_a("or")), "RLA": _read_modify("ROL", _into_a("and")),
    "SRE": _read_modify("LSR", _into_a("xor")), "RRA": _read_modify("ROR", _add_to_a),
    "DCP": _read_modify("DEC", _compare_a), "ISC": _read_modify("INC", _subtract_from_a),
    "SAX": sax, "LAX": lax, "ANC": anc, "ALR": alr, "ARR": arr, "ANE": ane, "LXA": lxa, "SBX": sbx,
    "USBC": SEMANTICS["SBC"], "LAS": las, "NOP": nop,
    "SHA": _store_high_and(_register_and("a", "x")), "SHX": _store_high_and(_register_and("x")),
    "SHY": _store_high_and(_register_and("y")), "TAS": _store_high_and(_tas_value),
}

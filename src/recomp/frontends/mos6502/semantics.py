"""6502 semantics, one function per documented mnemonic, emitting icode (the undocumented
NMOS and the 65C02's own mnemonics are beside this, in ``undocumented`` and ``wdc65c02``).

Flags N V D I Z C are separate guest-state fields; P exists only when pushed (PHP, BRK,
interrupts) and is unpacked when pulled (PLP, RTI).  Decimal-mode ADC and SBC follow each chip
exactly, invalid BCD operands included (Bruce Clark, "Decimal Mode", 6502.org; Sidney Cadot's
hardware-checked models of both chips): the NMOS chip takes the accumulator and carry from the
decimal sequence, Z from the binary sum, N and V from the intermediate decimal sum for ADC and
from the binary result for SBC; the 65C02 takes N and Z from the decimal result, V from the
high digit before its adjustment, and one more cycle.  The chips' differences are the
``Variant``'s quirks, read through ``Operand.variant``.
"""

from __future__ import annotations

from collections.abc import Callable

from recomp.frontends.base import Insn
from recomp.frontends.mos6502.modes import Operand, operand_byte, read_word, word
from recomp.frontends.region import RegionBuilder
from recomp.ir.core import Value
from recomp.ir.types import I1, I8, I16

STACK_PAGE = 0x0100
VECTORS = {"nmi": 0xFFFA, "reset": 0xFFFC, "irq": 0xFFFE}
P_BITS = (("N", 7), ("V", 6), ("D", 3), ("I", 2), ("Z", 1), ("C", 0))
UNUSED_BIT, B_BIT = 0x20, 0x10


# --- helpers shared by the mnemonics ---------------------------------------------------------

def c8(b: RegionBuilder, value: int) -> Value:
    return b.const(I8, value)


def c16(b: RegionBuilder, value: int) -> Value:
    return b.const(I16, value)


def bit(b: RegionBuilder, value: Value, index: int) -> Value:
    """Bit ``index`` of a value, as an i1."""
    return b.trunc(b.lshr(value, b.const(value.type, index)), type=I1)


def set_nz(b: RegionBuilder, value: Value) -> None:
    b.setflag("N", bit(b, value, 7))
    b.setflag("Z", b.eq(value, c8(b, 0)))


def push(b: RegionBuilder, value: Value) -> None:
    s = b.getreg("s", type=I8)
    b.store(b.op_or(c16(b, STACK_PAGE), b.zext(s, type=I16)), value)
    b.setreg("s", b.sub(s, c8(b, 1)))


def pull(b: RegionBuilder) -> Value:
    s = b.add(b.getreg("s", type=I8), c8(b, 1))
    b.setreg("s", s)
    return b.load(b.op_or(c16(b, STACK_PAGE), b.zext(s, type=I16)), type=I8)


def push_word(b: RegionBuilder, value: Value) -> None:
    push(b, b.trunc(b.lshr(value, c16(b, 8)), type=I8))
    push(b, b.trunc(value, type=I8))


def pull_word(b: RegionBuilder) -> Value:
    low = b.zext(pull(b), type=I16)
    high = b.zext(pull(b), type=I16)
    return b.op_or(low, b.shl(high, c16(b, 8)))


def pack_p(b: RegionBuilder, brk: bool) -> Value:
    """The status byte as pushed: bit 5 set, B set by BRK and PHP, clear for IRQ and NMI."""
    p = c8(b, UNUSED_BIT | (B_BIT if brk else 0))
    for flag, index in P_BITS:
        p = b.op_or(p, b.shl(b.zext(b.getflag(flag), type=I8), c8(b, index)))
    return p


def unpack_p(b: RegionBuilder, p: Value) -> None:
    for flag, index in P_BITS:
        b.setflag(flag, bit(b, p, index))


def interrupt_sequence(b: RegionBuilder, return_pc: Value, brk: bool, vector: int, clear_d: bool) -> None:
    """BRK, IRQ and NMI: push the return address and P, set I (and clear D: ``clear_d``, the
    65C02), continue through the vector.
    A BRK whose vector leads back to itself (empty memory: a $0000 vector and a BRK at $0000)
    would push and jump for ever: it leaves as a trap, which the runtime reports as a fault
    (``Mos6502.trap_fault``)."""
    push_word(b, return_pc)
    push(b, pack_p(b, brk))
    b.setflag("I", b.const(I1, 1))
    if clear_d:
        b.setflag("D", b.const(I1, 0))
    vector_addr = c16(b, vector)
    target = read_word(b, vector_addr, b.add(vector_addr, c16(b, 1)))
    if brk:
        at = b.insn.addr
        b.check_accesses(target)
        b.trap_if(b.eq(target, c16(b, at)), at)
    b.jump_to(target)


def add_with_carry(b: RegionBuilder, a: Value, m: Value, carry: Value) -> tuple[Value, Value, Value]:
    """Binary a + m + carry: (8-bit result, carry out, overflow)."""
    total = b.add(b.add(b.zext(a, type=I16), b.zext(m, type=I16)), b.zext(carry, type=I16))
    result = b.trunc(total, type=I8)
    overflow = bit(b, b.op_and(b.xor(a, result), b.xor(m, result)), 7)
    return result, bit(b, total, 8), overflow


# --- loads, stores, transfers ----------------------------------------------------------------

def _load_into(register: str) -> Callable[[RegionBuilder, Operand], None]:
    def load(b: RegionBuilder, op: Operand) -> None:
        value = op.read()
        b.setreg(register, value)
        set_nz(b, value)
    return load


def _store_from(register: str) -> Callable[[RegionBuilder, Operand], None]:
    def store(b: RegionBuilder, op: Operand) -> None:
        op.write(b.getreg(register, type=I8))
    return store


def _transfer(source: str, target: str, flags: bool = True) -> Callable[[RegionBuilder, Operand], None]:
    def transfer(b: RegionBuilder, op: Operand) -> None:
        value = b.getreg(source, type=I8)
        b.setreg(target, value)
        if flags:
            set_nz(b, value)
    return transfer


# --- arithmetic and logic --------------------------------------------------------------------

def logic_into_a(b: RegionBuilder, name: str, a: Value, m: Value) -> None:
    """A = a ``name`` m (``and``, ``or``, ``xor``; ``a``: A as read); N and Z from it."""
    result = b.emit(name, a, m)
    b.setreg("a", result)
    set_nz(b, result)


def _logic(name: str) -> Callable[[RegionBuilder, Operand], None]:
    def logic(b: RegionBuilder, op: Operand) -> None:
        logic_into_a(b, name, b.getreg("a", type=I8), op.read())
    return logic


def _select_d(b: RegionBuilder, decimal: Value, binary: Value) -> Value:
    return b.select(b.getflag("D"), decimal, binary)


def add_decimal(b: RegionBuilder, m: Value, cmos: bool) -> None:
    """A = A + m + C, binary or decimal as D says, on the NMOS chip or (``cmos``) the 65C02."""
    a, carry = b.getreg("a", type=I8), b.getflag("C")
    result, carry_out, overflow = add_with_carry(b, a, m, carry)
    # decimal: low digit, adjusted; high digits; N and V from this intermediate sum
    low = b.add(b.add(b.zext(b.op_and(a, c8(b, 0x0F)), type=I16), b.zext(b.op_and(m, c8(b, 0x0F)), type=I16)),
                b.zext(carry, type=I16))
    adjusted = b.add(b.op_and(b.add(low, c16(b, 6)), c16(b, 0x0F)), c16(b, 0x10))
    low = b.select(b.ule(c16(b, 0x0A), low), adjusted, low)
    sum_ = b.add(b.add(b.zext(b.op_and(a, c8(b, 0xF0)), type=I16),
                       b.zext(b.op_and(m, c8(b, 0xF0)), type=I16)), low)
    intermediate = b.trunc(sum_, type=I8)
    sum_ = b.select(b.ule(c16(b, 0xA0), sum_), b.add(sum_, c16(b, 0x60)), sum_)
    decimal_overflow = bit(b, b.op_and(b.xor(a, intermediate), b.xor(m, intermediate)), 7)
    decimal = b.trunc(sum_, type=I8)
    b.setreg("a", _select_d(b, decimal, result))
    b.setflag("C", _select_d(b, b.ule(c16(b, 0x100), sum_), carry_out))
    b.setflag("V", _select_d(b, decimal_overflow, overflow))
    if cmos:
        _decimal_cycle(b)
        set_nz(b, _select_d(b, decimal, result))
    else:
        b.setflag("N", _select_d(b, bit(b, intermediate, 7), bit(b, result, 7)))
        b.setflag("Z", b.eq(result, c8(b, 0)))


def subtract_decimal(b: RegionBuilder, m: Value, cmos: bool) -> None:
    """A = A - m - !C, binary or decimal as D says, on the NMOS chip or (``cmos``) the 65C02."""
    a, carry = b.getreg("a", type=I8), b.getflag("C")
    result, carry_out, overflow = add_with_carry(b, a, b.xor(m, c8(b, 0xFF)), carry)
    if cmos:
        decimal, decimal_overflow = _cmos_decimal_difference(b, a, m, carry)
        b.setreg("a", _select_d(b, decimal, result))
        b.setflag("C", carry_out)  # (the decimal borrow is the binary one on both chips)
        _decimal_cycle(b)
        b.setflag("V", _select_d(b, decimal_overflow, overflow))
        set_nz(b, _select_d(b, decimal, result))
    else:
        b.setreg("a", _select_d(b, _nmos_decimal_difference(b, a, m, carry), result))
        b.setflag("C", carry_out)
        b.setflag("V", overflow)
        set_nz(b, result)


def _nmos_decimal_difference(b: RegionBuilder, a: Value, m: Value, carry: Value) -> Value:
    """The NMOS chip's decimal A - m - !C (signed 16-bit arithmetic); its flags are the binary ones."""
    zero = c16(b, 0)
    low = b.sub(b.zext(b.op_and(a, c8(b, 0x0F)), type=I16), b.zext(b.op_and(m, c8(b, 0x0F)), type=I16))
    low = b.sub(b.add(low, b.zext(carry, type=I16)), c16(b, 1))
    adjusted = b.sub(b.op_and(b.sub(low, c16(b, 6)), c16(b, 0x0F)), c16(b, 0x10))
    low = b.select(b.slt(low, zero), adjusted, low)
    diff = b.add(b.sub(b.zext(b.op_and(a, c8(b, 0xF0)), type=I16),
                       b.zext(b.op_and(m, c8(b, 0xF0)), type=I16)), low)
    diff = b.select(b.slt(diff, zero), b.sub(diff, c16(b, 0x60)), diff)
    return b.trunc(diff, type=I8)


def _cmos_decimal_difference(b: RegionBuilder, a: Value, m: Value, carry: Value) -> tuple[Value, Value]:
    """The 65C02's decimal A - m - !C, digit by digit (signed 8-bit): a low digit still negative
    after its adjustment takes one more from the high digit; V comes from the high digit
    before its adjustment."""
    zero, fifteen, four = c8(b, 0), c8(b, 0x0F), c8(b, 4)
    borrow = b.zext(b.xor(carry, b.const(I1, 1)), type=I8)
    low = b.sub(b.sub(b.op_and(a, fifteen), b.op_and(m, fifteen)), borrow)
    low_borrow = b.slt(low, zero)
    low = b.select(low_borrow, b.add(low, c8(b, 10)), low)
    still_negative = b.zext(b.slt(low, zero), type=I8)
    high = b.sub(b.sub(b.lshr(a, four), b.lshr(m, four)), b.zext(low_borrow, type=I8))
    premature_n = bit(b, high, 3)
    high = b.sub(b.select(b.slt(high, zero), b.add(high, c8(b, 10)), high), still_negative)
    decimal = b.op_or(b.shl(high, four), b.op_and(low, fifteen))
    overflow = b.op_and(b.xor(bit(b, a, 7), premature_n), b.xor(b.xor(bit(b, m, 7), b.const(I1, 1)), premature_n))
    return decimal, overflow


def _decimal_cycle(b: RegionBuilder) -> None:
    """The 65C02 takes one more cycle for ADC and SBC in decimal mode."""
    b.cycles(b.zext(b.getflag("D"), type=I8))


def adc(b: RegionBuilder, op: Operand) -> None:
    add_decimal(b, op.read(), op.variant.cmos_decimal)


def sbc(b: RegionBuilder, op: Operand) -> None:
    subtract_decimal(b, op.read(), op.variant.cmos_decimal)


def compare_with(b: RegionBuilder, r: Value, m: Value) -> None:
    """The flags of r - m (``r``: a register as read): C no borrow, N and Z from the difference."""
    b.setflag("C", b.ule(m, r))
    set_nz(b, b.sub(r, m))


def _compare(register: str) -> Callable[[RegionBuilder, Operand], None]:
    def compare(b: RegionBuilder, op: Operand) -> None:
        compare_with(b, b.getreg(register, type=I8), op.read())
    return compare


def bit_test(b: RegionBuilder, op: Operand) -> None:
    """Z from A & M; N and V from M's top bits, except for the 65C02's BIT #imm (Z only)."""
    m = op.read()
    b.setflag("Z", b.eq(b.op_and(b.getreg("a", type=I8), m), c8(b, 0)))
    if op.mode != "imm":
        b.setflag("N", bit(b, m, 7))
        b.setflag("V", bit(b, m, 6))


def _step_memory(delta: int) -> Callable[[RegionBuilder, Operand], None]:
    def step(b: RegionBuilder, op: Operand) -> None:
        value = b.add(op.read(), c8(b, delta))
        set_nz(b, value)
        op.write(value)
    return step


def _step_register(register: str, delta: int) -> Callable[[RegionBuilder, Operand], None]:
    def step(b: RegionBuilder, op: Operand) -> None:
        value = b.add(b.getreg(register, type=I8), c8(b, delta))
        b.setreg(register, value)
        set_nz(b, value)
    return step


def shifted(b: RegionBuilder, value: Value, left: bool, rotate: bool) -> Value:
    """``value`` shifted (``rotate``: through C) one bit; C takes the bit shifted out."""
    one = c8(b, 1)
    result = b.shl(value, one) if left else b.lshr(value, one)
    if rotate:
        carry_in = b.zext(b.getflag("C"), type=I8)
        result = b.op_or(result, carry_in if left else b.shl(carry_in, c8(b, 7)))
    b.setflag("C", bit(b, value, 7 if left else 0))
    return result


def _shift(left: bool, rotate: bool) -> Callable[[RegionBuilder, Operand], None]:
    def shift(b: RegionBuilder, op: Operand) -> None:
        result = shifted(b, op.read(), left, rotate)
        set_nz(b, result)
        op.write(result)
    return shift


# --- control flow ----------------------------------------------------------------------------

def relative_branch(b: RegionBuilder, insn: Insn, taken: Value) -> None:
    """Go to the instruction's relative target if ``taken`` (i1), else on: a taken branch takes
    one more cycle, two if it crosses a page.  The offset is the last operand byte."""
    if insn.targets:  # static target: its page-cross penalty is known
        target = insn.targets[0]
        penalty = 1 + ((target ^ insn.next) >> 8 != 0)
        b.cycles(b.select(taken, c8(b, penalty), c8(b, 0)))
        b.branch(taken, target, insn.next)
        return
    # the offset byte is rewritten by the program: compute the target at run time
    # (every constant derived from the instruction's address is the address plus an offset,
    # so that the native interpreter can lift it once for all addresses)
    offset = b.sext(operand_byte(b, insn, len(insn.operands) - 1), type=I16)
    next_pc = c16(b, insn.next)
    target = b.add(next_pc, offset)
    eight = c16(b, 8)
    crossed = b.zext(b.ne(b.lshr(target, eight), b.lshr(next_pc, eight)), type=I8)
    b.cycles(b.select(taken, b.add(c8(b, 1), crossed), c8(b, 0)))
    b.jump_to(b.select(taken, target, next_pc))


def _branch(flag: str, when: int) -> Callable[[RegionBuilder, Operand], None]:
    def branch(b: RegionBuilder, op: Operand) -> None:
        taken = b.getflag(flag) if when else b.xor(b.getflag(flag), b.const(I1, 1))
        relative_branch(b, op.insn, taken)
    return branch


def jmp(b: RegionBuilder, op: Operand) -> None:
    if op.insn.targets:
        b.goto(op.insn.targets[0])
    else:
        b.jump_to(op.address)


def jsr(b: RegionBuilder, op: Operand) -> None:
    """The chip reads the target's low byte, pushes the return address, then reads the high
    byte: a JSR in the stack page can overwrite its own operand before it is read."""
    insn = op.insn
    high_addr = (insn.addr + 2) & 0xFFFF
    low_static = (insn.addr + 1) & 0xFFFF not in b.volatile
    high_static = high_addr not in b.volatile and not STACK_PAGE <= high_addr < STACK_PAGE + 0x100
    low = b.const(I8, insn.operands[0]) if low_static else operand_byte(b, insn, 0)
    push_word(b, c16(b, (insn.addr + 2) & 0xFFFF))
    if low_static and high_static:
        b.goto(insn.operands[0] | insn.operands[1] << 8)
    else:
        b.jump_to(word(b, low, b.fetch(c16(b, high_addr), type=I8)))


def rts(b: RegionBuilder, op: Operand) -> None:
    b.jump_to(b.add(pull_word(b), c16(b, 1)))


def rti(b: RegionBuilder, op: Operand) -> None:
    unpack_p(b, pull(b))
    b.jump_to(pull_word(b))


def brk(b: RegionBuilder, op: Operand) -> None:
    interrupt_sequence(b, c16(b, (op.insn.addr + 2) & 0xFFFF), True, VECTORS["irq"], op.variant.interrupt_clears_d)


def _set_flag(flag: str, value: int) -> Callable[[RegionBuilder, Operand], None]:
    def set_flag(b: RegionBuilder, op: Operand) -> None:
        b.setflag(flag, b.const(I1, value))
    return set_flag


def cli(b: RegionBuilder, op: Operand) -> None:
    """Clearing I may unmask a pending IRQ: leave the region if one is pending."""
    b.setflag("I", b.const(I1, 0))
    b.poll(c16(b, op.insn.next))


def pha(b: RegionBuilder, op: Operand) -> None:
    push(b, b.getreg("a", type=I8))


def pla(b: RegionBuilder, op: Operand) -> None:
    value = pull(b)
    b.setreg("a", value)
    set_nz(b, value)


def php(b: RegionBuilder, op: Operand) -> None:
    push(b, pack_p(b, brk=True))


def plp(b: RegionBuilder, op: Operand) -> None:
    unpack_p(b, pull(b))
    b.poll(c16(b, op.insn.next))  # I may have cleared: see cli


def nop(b: RegionBuilder, op: Operand) -> None:
    """Nothing but the cycles, a page crossing's included (``NOP abs,X``, undocumented); the
    chip's read of its operand is not made (no device sees it)."""
    if op.insn.info.page_penalty:
        _ = op.address


SEMANTICS: dict[str, Callable[[RegionBuilder, Operand], None]] = {
    "LDA": _load_into("a"), "LDX": _load_into("x"), "LDY": _load_into("y"),
    "STA": _store_from("a"), "STX": _store_from("x"), "STY": _store_from("y"),
    "TAX": _transfer("a", "x"), "TAY": _transfer("a", "y"), "TXA": _transfer("x", "a"),
    "TYA": _transfer("y", "a"), "TSX": _transfer("s", "x"), "TXS": _transfer("x", "s", flags=False),
    "AND": _logic("and"), "ORA": _logic("or"), "EOR": _logic("xor"), "BIT": bit_test,
    "ADC": adc, "SBC": sbc,
    "CMP": _compare("a"), "CPX": _compare("x"), "CPY": _compare("y"),
    "INC": _step_memory(1), "DEC": _step_memory(0xFF),
    "INX": _step_register("x", 1), "INY": _step_register("y", 1),
    "DEX": _step_register("x", 0xFF), "DEY": _step_register("y", 0xFF),
    "ASL": _shift(left=True, rotate=False), "LSR": _shift(left=False, rotate=False),
    "ROL": _shift(left=True, rotate=True), "ROR": _shift(left=False, rotate=True),
    "BCC": _branch("C", 0), "BCS": _branch("C", 1), "BNE": _branch("Z", 0), "BEQ": _branch("Z", 1),
    "BPL": _branch("N", 0), "BMI": _branch("N", 1), "BVC": _branch("V", 0), "BVS": _branch("V", 1),
    "JMP": jmp, "JSR": jsr, "RTS": rts, "RTI": rti, "BRK": brk,
    "PHA": pha, "PLA": pla, "PHP": php, "PLP": plp,
    "CLC": _set_flag("C", 0), "SEC": _set_flag("C", 1), "CLD": _set_flag("D", 0),
    "SED": _set_flag("D", 1), "CLI": cli, "SEI": _set_flag("I", 1),
    "CLV": _set_flag("V", 0), "NOP": nop,
}

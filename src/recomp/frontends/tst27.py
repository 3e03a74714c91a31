"""TST27, the toy CPU of the classic dynamic-recompilation demo.

32 unsigned 32-bit registers r0..r31, 4 KiB of memory with the program at 0, little-endian
operands.  One table below drives the decoder, the lifter, the disassembler and the assembler.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from functools import partial

from recomp.frontends.base import DecodeError, Frontend, HelperHost, Insn
from recomp.frontends.region import RegionBuilder
from recomp.ir.guest import GuestSpec, Helper
from recomp.ir.types import I32

MEMORY_SIZE = 4096
REGISTERS = 32
FIRST_SEPARATOR = 24  # PRINT r24..r31 prints a separator line, not a register

GUEST = GuestSpec(
    name="tst27",
    registers={f"r{i}": I32 for i in range(REGISTERS)},
    flags=(),
    helpers={"print": Helper((I32, I32))},  # (register number, value)
    memory_size=MEMORY_SIZE,
)


def _set(b: RegionBuilder, insn: Insn) -> None:
    reg, imm = insn.operands
    b.setreg(f"r{reg}", b.const(I32, imm))


def _add(b: RegionBuilder, insn: Insn) -> None:
    r1, r2 = insn.operands
    total = b.add(b.getreg(f"r{r1}", type=I32), b.getreg(f"r{r2}", type=I32))
    b.setreg(f"r{r1}", total)


def _jlt(b: RegionBuilder, insn: Insn) -> None:
    r1, r2, target = insn.operands
    less = b.ult(b.getreg(f"r{r1}", type=I32), b.getreg(f"r{r2}", type=I32))
    b.branch(less, target, insn.next)


def _print(b: RegionBuilder, insn: Insn) -> None:
    (reg,) = insn.operands
    value = b.getreg(f"r{reg}", type=I32) if reg < FIRST_SEPARATOR else b.const(I32, 0)
    b.call("print", b.const(I32, reg), value)


def _end(b: RegionBuilder, insn: Insn) -> None:
    b.halt(insn.addr)


@dataclass(frozen=True)
class Opcode:
    code: int
    mnemonic: str
    operands: tuple[str, ...]  # kinds: reg (1 byte), imm (4 bytes), addr (4 bytes, a jump target)
    lift: Callable[[RegionBuilder, Insn], None]
    falls_through: bool = True


OPERAND_BYTES = {"reg": 1, "imm": 4, "addr": 4}

OPCODES: dict[int, Opcode] = {op.code: op for op in (
    Opcode(0x00, "SET", ("reg", "imm"), _set),
    Opcode(0x01, "ADD", ("reg", "reg"), _add),
    Opcode(0x02, "JLT", ("reg", "reg", "addr"), _jlt),
    Opcode(0x03, "PRINT", ("reg",), _print),
    Opcode(0x04, "END", (), _end, falls_through=False),
)}
BY_MNEMONIC = {op.mnemonic: op for op in OPCODES.values()}


def instruction_size(op: Opcode) -> int:
    return 1 + sum(OPERAND_BYTES[k] for k in op.operands)


def format_operand(kind: str, value: int) -> str:
    return {"reg": f"r{value}", "imm": f"{value:#010x}", "addr": f"{value:#06x}"}[kind]


def insn_text(op: Opcode, operands: Sequence[int]) -> str:
    """An instruction as the assembler reads it: ``SET r0, 0x10``."""
    return " ".join((op.mnemonic, ", ".join(format_operand(k, v) for k, v in zip(op.operands, operands)))).rstrip()


def format_print(reg: int, value: int) -> str:
    """The output line of PRINT (without its newline)."""
    return f" r{reg:02d} = {value:08X}" if reg < FIRST_SEPARATOR else " "


def _print_helper(machine: HelperHost, reg: int, value: int) -> None:
    machine.write(format_print(reg, value) + "\n")


class Tst27(Frontend):
    name = "tst27"
    family = "tst27"
    guest = GUEST
    helper_functions = {"print": _print_helper}
    # TST27 programs are a few dozen instructions: compile each region at once, so LLVM sees a
    # loop together with the constants set before it and can compute it in closed form
    jit_threshold = 0

    def decode(self, memory: Sequence[int], addr: int, end: int,
               volatile: Set[int] = frozenset()) -> Insn:
        try:
            return self._decode(memory, addr, end)
        except DecodeError as error:
            raise DecodeError(addr, f"{addr:#06x}: {error.message}") from None

    def _decode(self, memory: Sequence[int], addr: int, end: int) -> Insn:
        if addr >= MEMORY_SIZE:
            raise DecodeError(addr, "execution ran off the end of memory")
        op = OPCODES.get(memory[addr])
        if op is None:
            raise DecodeError(addr, f"unknown opcode {memory[addr]:#04x}")
        size = instruction_size(op)
        if addr + size > MEMORY_SIZE:
            raise DecodeError(addr, f"{op.mnemonic} needs {size} bytes and runs off the end of memory")
        if addr < end < addr + size:
            raise DecodeError(addr, f"truncated {op.mnemonic}: needs {size} bytes, "
                                    f"the program has {end - addr}")
        operands = []
        registers = []  # offsets of register operands
        pos = addr + 1
        for kind in op.operands:
            width = OPERAND_BYTES[kind]
            value = int.from_bytes(bytes(memory[pos:pos + width]), "little")
            if kind == "reg" and value >= REGISTERS:
                raise DecodeError(addr, f"register r{value} does not exist (r0..r{REGISTERS - 1})")
            if kind == "addr" and value >= MEMORY_SIZE:
                raise DecodeError(addr, f"jump target {value:#010x} is outside memory "
                                        f"(0x0000..{MEMORY_SIZE - 1:#06x})")
            operands.append(value)
            if kind == "reg":
                registers.append(pos - addr)
            pos += width
        targets = tuple(v for k, v in zip(op.operands, operands) if k == "addr")
        found = tuple(operands)
        return Insn(addr, size, op.mnemonic, found, partial(insn_text, op, found), targets=targets,
                    falls_through=op.falls_through, shape=tuple(registers), info=op)

    def idles(self, memory: Sequence[int], pc: int) -> bool:
        return True  # (its one jump, JLT, changes no register)

    def lift(self, b: RegionBuilder, insn: Insn) -> None:
        insn.info.lift(b, insn)

    @staticmethod
    def assemble(source: str) -> bytes:  # the class attribute of Frontend, as a method
        return assemble(source)


class AsmError(ValueError):
    """A line of TST27 assembly that cannot be assembled; the message names the line."""


_LABEL = re.compile(r"^([A-Za-z_]\w*):")


def _number(text: str, where: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise AsmError(f"{where}: expected a number, got {text!r}") from None


def assemble(source: str) -> bytes:
    """Assemble TST27 text: ``SET r0, 0x10``, ``loop:`` labels, ``; comments``, ``.byte 1, 2``."""
    parsed: list[tuple[str, str, list[str]]] = []
    labels: dict[str, int] = {}
    addr = 0
    for lineno, raw in enumerate(source.splitlines(), 1):
        where = f"line {lineno}"
        line = raw.split(";", 1)[0].strip()
        while (match := _LABEL.match(line)):
            if match.group(1) in labels:
                raise AsmError(f"{where}: label {match.group(1)} defined twice")
            labels[match.group(1)] = addr
            line = line[match.end():].strip()
        if not line:
            continue
        mnemonic, _, rest = line.partition(" ")
        args = [a.strip() for a in rest.split(",")] if rest.strip() else []
        mnemonic = mnemonic.upper()
        if mnemonic == ".BYTE":
            addr += len(args)
        elif mnemonic in BY_MNEMONIC:
            addr += instruction_size(BY_MNEMONIC[mnemonic])
        else:
            raise AsmError(f"{where}: unknown mnemonic {mnemonic}")
        parsed.append((where, mnemonic, args))
    out = bytearray()
    for where, mnemonic, args in parsed:
        if mnemonic == ".BYTE":
            for arg in args:
                value = _number(arg, where)
                if not 0 <= value <= 0xFF:
                    raise AsmError(f"{where}: byte {value} out of range")
                out.append(value)
            continue
        op = BY_MNEMONIC[mnemonic]
        if len(args) != len(op.operands):
            raise AsmError(f"{where}: {mnemonic} takes {len(op.operands)} operands, got {len(args)}")
        out.append(op.code)
        for kind, arg in zip(op.operands, args):
            if kind == "reg":
                if not re.fullmatch(r"[rR]\d+", arg) or int(arg[1:]) >= REGISTERS:
                    raise AsmError(f"{where}: expected a register r0..r{REGISTERS - 1}, got {arg!r}")
                value = int(arg[1:])
            elif kind == "addr" and arg in labels:
                value = labels[arg]
            else:
                value = _number(arg, where)
            if not 0 <= value < 1 << (8 * OPERAND_BYTES[kind]):
                raise AsmError(f"{where}: {arg} does not fit in {OPERAND_BYTES[kind]} bytes")
            out += value.to_bytes(OPERAND_BYTES[kind], "little")
    return bytes(out)


def disassemble(program: bytes) -> list[tuple[int, bytes, str]]:
    """Linear disassembly of a program: (address, bytes, text or error) per instruction."""
    fe = Tst27()
    lines = []
    addr = 0
    while addr < len(program):
        try:
            insn = fe.decode(program, addr, len(program))
        except DecodeError as error:
            lines.append((addr, program[addr:addr + 1], f"?? ({error.message})"))
            addr += 1
            continue
        lines.append((addr, program[addr:insn.next], insn.text))
        addr = insn.next
    return lines

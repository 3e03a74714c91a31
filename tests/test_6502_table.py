"""The 6502 family's opcode tables against independent sources: capstone's MOS65XX decoders
(mnemonic, length, operand form; the W65C02 mode for the 65C02), the list of NMOS undocumented
opcodes, the SingleStepTests file sets and their cycle counts, and a hand-written expectation of
the flags some mnemonics read and write."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import capstone
import pytest

import recomp
from conftest import TESTDATA, missing_testdata
from recomp.frontends.base import DecodeError
from recomp.frontends.mos6502 import VARIANTS, Mos6502, Mos6502Documented, disassemble
from recomp.frontends.mos6502.table import DOCUMENTED as OPCODES
from recomp.runtime import GuestFault

SINGLESTEP = TESTDATA / "6502" / "singlestep"

# The 105 NMOS opcodes that are not documented, by family (names as in "NMOS 6510 Unintended
# Opcodes"); written out independently of recomp's table.
UNDOCUMENTED = {
    "JAM": "02 12 22 32 42 52 62 72 92 B2 D2 F2",
    "SLO": "03 07 0F 13 17 1B 1F", "RLA": "23 27 2F 33 37 3B 3F", "SRE": "43 47 4F 53 57 5B 5F",
    "RRA": "63 67 6F 73 77 7B 7F", "SAX": "83 87 8F 97", "LAX": "A3 A7 AF B3 B7 BF",
    "DCP": "C3 C7 CF D3 D7 DB DF", "ISC": "E3 E7 EF F3 F7 FB FF",
    "ANC": "0B 2B", "ALR": "4B", "ARR": "6B", "ANE": "8B", "LXA": "AB", "SBX": "CB", "USBC": "EB",
    "SHA": "93 9F", "SHX": "9E", "SHY": "9C", "TAS": "9B", "LAS": "BB",
    "NOP": "1A 3A 5A 7A DA FA 80 82 89 C2 E2 04 44 64 14 34 54 74 D4 F4 0C 1C 3C 5C 7C DC FC",
}
ILLEGAL = {int(code, 16) for codes in UNDOCUMENTED.values() for code in codes.split()}

# how capstone prints each addressing mode's operand, for operand bytes $12 $34 at $1000
OPERAND_TEXT = {
    "imp": "", "acc": "a", "imm": "#0x12", "zp": "0x12", "zpx": "0x12, x", "zpy": "0x12, y",
    "abs": "0x3412", "absx": "0x3412, x", "absy": "0x3412, y", "ind": "(0x3412)",
    "indx": "(0x12, x)", "indy": "(0x12), y", "rel": "0x1014",
}
MODE_AM = {
    "imp": "IMP", "acc": "ACC", "imm": "IMM", "zp": "ZP", "zpx": "ZP_X", "zpy": "ZP_Y", "abs": "ABS",
    "absx": "ABS_X", "absy": "ABS_Y", "ind": "ABS_IND", "indx": "ZP_X_IND", "indy": "ZP_IND_Y",
    "rel": "REL",
}


@cache
def _cs() -> capstone.Cs:
    md = capstone.Cs(capstone.CS_ARCH_MOS65XX, capstone.CS_MODE_MOS65XX_6502)
    md.detail = True
    return md


def _decode(code: bytes, addr: int = 0x1000):
    return next(_cs().disasm(code, addr), None)


def _singlestep_dir() -> Path:
    if not SINGLESTEP.is_dir():
        pytest.skip(missing_testdata(SINGLESTEP))
    return SINGLESTEP


def test_table_has_the_151_documented_opcodes():
    assert len(OPCODES) == 151
    assert len(ILLEGAL) == 105
    assert set(OPCODES) == set(range(256)) - ILLEGAL
    assert all(op.code == code for code, op in OPCODES.items())
    assert len({op.mnemonic for op in OPCODES.values()}) == 56


def test_variants_tables():
    """The NMOS chip: the documented opcodes and the undocumented ones by their usual names; the
    documented-only variant: those 151; the 65C02: all 256."""
    nmos = VARIANTS["6502"].opcodes
    assert set(nmos) == set(range(256))
    assert {code: op.mnemonic for code, op in nmos.items() if code in ILLEGAL} == {
        int(code, 16): name for name, codes in UNDOCUMENTED.items() for code in codes.split()}
    assert VARIANTS["6502-documented"].opcodes == OPCODES
    assert set(VARIANTS["65c02"].opcodes) == set(range(256))


@cache
def _w65c02() -> capstone.Cs:
    return capstone.Cs(capstone.CS_ARCH_MOS65XX, capstone.CS_MODE_MOS65XX_W65C02)


@pytest.mark.parametrize("code", range(256), ids=lambda c: f"{c:02X}")
def test_65c02_entry_matches_capstone(code):
    """Capstone's W65C02 mode: the same mnemonic (its NOPs included) and length."""
    op = VARIANTS["65c02"].opcodes[code]
    insn = next(_w65c02().disasm(bytes([code, 0x12, 0x34]), 0x1000))
    assert insn.mnemonic.upper() == op.mnemonic
    assert insn.size == (2 if op.mnemonic == "BRK" else op.length)


@pytest.mark.parametrize("raw, text", [
    (b"\xa7\x12", "LAX $12"), (b"\xb7\x12", "LAX $12, y"), (b"\x83\x12", "SAX ($12, x)"),
    (b"\xff\x34\x12", "ISC $1234, x"), (b"\x0b\x55", "ANC #$55"), (b"\x1a", "NOP"), (b"\x02", "JAM"),
    (b"\x1c\x00\x30", "NOP $3000, x"), (b"\xeb\x01", "USBC #$01")])
def test_undocumented_disassembly(raw, text):
    """Capstone has no undocumented NMOS opcode: their names come from the table, their operands
    from capstone's reading of a documented opcode of the same mode."""
    assert disassemble(raw, 0x1000) == text


@pytest.mark.parametrize("raw, text", [
    (b"\x0f\x12\x34", "BBR0 $12, $1037"), (b"\x87\x12", "SMB0 $12"), (b"\x80\x10", "BRA $1012"),
    (b"\x12\x34", "ORA ($34)"), (b"\x7c\x00\x30", "JMP ($3000, x)"), (b"\xcb", "WAI"), (b"\x1a", "INC a")])
def test_65c02_disassembly(raw, text):
    assert disassemble(raw, 0x1000, VARIANTS["65c02"]) == text


@pytest.mark.parametrize("code", sorted(OPCODES), ids=lambda c: f"{c:02X}")
def test_entry_matches_capstone(code):
    op = OPCODES[code]
    insn = _decode(bytes([code, 0x12, 0x34]))
    assert insn is not None, f"capstone does not decode ${code:02X}"
    assert insn.mnemonic.upper() == op.mnemonic
    if op.mnemonic == "BRK":
        # capstone shows BRK with its signature byte (2 bytes, AM_INT); the chip fetches and
        # skips that byte too (it pushes PC+2, checked by the SingleStepTests), but the table
        # lists BRK as a 1-byte implied instruction that never falls through
        assert (insn.size, op.length, op.mode) == (2, 1, "imp")
        assert insn.am == capstone.mos65xx.MOS65XX_AM_INT
        return
    assert insn.size == op.length
    assert insn.op_str == OPERAND_TEXT[op.mode]
    assert insn.am == getattr(capstone.mos65xx, f"MOS65XX_AM_{MODE_AM[op.mode]}")


@pytest.mark.parametrize("offset, target", [(0x00, 0x1002), (0x7F, 0x1081), (0x80, 0x0F82),
                                            (0xFE, 0x1000), (0xFF, 0x1001)])
def test_branch_targets_match_capstone(offset, target):
    fe = Mos6502()
    for code, op in OPCODES.items():
        if op.mode != "rel":
            continue
        memory = bytearray(0x10000)
        memory[0x1000:0x1002] = bytes([code, offset])
        insn = _decode(bytes(memory[0x1000:0x1002]))
        assert int(insn.op_str, 16) == target
        decoded = fe.decode(memory, 0x1000, 0x10000)
        assert decoded.targets == (target,)
        assert decoded.size == 2


@pytest.mark.parametrize("operands", [b"\x00\x00", b"\xff\xff", b"\x80\x7f", b"\x01\xfe"])
def test_operand_values_match_capstone(operands):
    fe = Mos6502()
    for code, op in OPCODES.items():
        if op.mode in ("rel", "imp", "acc"):
            continue
        memory = bytearray(0x10000)
        memory[0x2000:0x2003] = bytes([code]) + operands
        insn = _decode(bytes(memory[0x2000:0x2003]), 0x2000)
        value = operands[0] if op.length == 2 else int.from_bytes(operands, "little")
        assert [o.imm for o in insn.operands] == [value], f"${code:02X}"
        decoded = fe.decode(memory, 0x2000, 0x10000)
        assert decoded.operands == tuple(operands[:op.length - 1])
        assert decoded.size == op.length
        # recomp's own disassembly text comes from capstone, in $ notation
        assert decoded.text == f"{op.mnemonic} {insn.op_str.replace('0x', '$')}"


@pytest.mark.parametrize("code", sorted(set(range(256)) - set(OPCODES)), ids=lambda c: f"{c:02X}")
def test_undocumented_byte_is_illegal_when_only_documented_ones_run(code):
    assert code in ILLEGAL
    assert _decode(bytes([code, 0x12, 0x34])) is None, "capstone decodes it"
    memory = bytearray(0x10000)
    memory[0x0300] = code
    with pytest.raises(DecodeError, match=rf"illegal opcode \${code:02X} at \$0300"):
        Mos6502Documented().decode(memory, 0x0300, 0x10000)
    if code in {int(c, 16) for c in UNDOCUMENTED["JAM"].split()}:
        with pytest.raises(DecodeError, match=rf"CPU jammed by \${code:02X} at \$0300"):
            Mos6502().decode(memory, 0x0300, 0x10000)
    else:  # the NMOS chip runs it
        assert Mos6502().decode(memory, 0x0300, 0x10000).mnemonic == VARIANTS["6502"].opcodes[code].mnemonic


@pytest.mark.parametrize("cpu, message", [("6502-documented", "illegal opcode"), ("6502", "CPU jammed by")])
def test_illegal_opcode_faults_at_its_address(cpu, message):
    for engine in ("interp", "jit"):
        emu = recomp.Emulator(cpu, engine=engine, console=None, jit_threshold=0)
        emu.load(bytes([0xE8, 0xE8, 0x02]), at=0x0400)  # INX INX JAM
        emu.state.pc = 0x0400
        with pytest.raises(GuestFault, match=rf"{message} \$02 at \$0402") as info:
            emu.run()
        assert info.value.addr == 0x0402
        assert (emu.state.pc, emu.state.x, emu.instructions, emu.cycles) == (0x0402, 2, 2, 4)


def test_singlestep_files_are_the_documented_opcodes():
    files = {int(path.stem, 16) for path in _singlestep_dir().glob("*.json")}
    assert files == set(OPCODES)


@cache
def _cycle_counts(code: int) -> frozenset[int]:
    cases = json.loads((SINGLESTEP / f"{code:02x}.json").read_text())
    return frozenset(len(case["cycles"]) for case in cases)


@pytest.mark.parametrize("code", sorted(OPCODES), ids=lambda c: f"{c:02X}")
def test_cycles_match_singlestep(code):
    """Base cycles are the fewest the chip takes; ``+`` entries take one more when a page is
    crossed (100 random cases always include some), branches one or two more when taken."""
    _singlestep_dir()
    op = OPCODES[code]
    counts = _cycle_counts(code)
    if op.mode == "rel":
        assert not op.page_penalty
        assert counts == {op.cycles, op.cycles + 1, op.cycles + 2}
    elif op.page_penalty:
        assert counts == {op.cycles, op.cycles + 1}
    else:
        assert counts == {op.cycles}


# flags read and written, from the data sheet, for a handful of mnemonics
EXPECTED_FLAGS = {
    "ADC": ("CD", "NVZC"), "SBC": ("CD", "NVZC"), "CMP": ("", "NZC"), "BIT": ("", "NVZ"),
    "ROL": ("C", "NZC"), "ASL": ("", "NZC"), "LDA": ("", "NZ"), "STA": ("", ""), "TXS": ("", ""),
    "TSX": ("", "NZ"), "BCC": ("C", ""), "BVS": ("V", ""), "BNE": ("Z", ""), "BMI": ("N", ""),
    "PLP": ("", "NVDIZC"), "RTI": ("", "NVDIZC"), "PHP": ("NVDIZC", ""), "BRK": ("NVDIZC", "I"),
    "CLV": ("", "V"), "SED": ("", "D"), "JSR": ("", ""), "NOP": ("", ""), "INC": ("", "NZ"),
}


@pytest.mark.parametrize("mnemonic", sorted(EXPECTED_FLAGS))
def test_flags_of_some_mnemonics(mnemonic):
    for op in OPCODES.values():
        if op.mnemonic == mnemonic:
            assert (set(op.reads), set(op.writes)) == tuple(map(set, EXPECTED_FLAGS[mnemonic]))


def test_flags_agree_with_capstone_on_the_status_register():
    """Capstone records whether an instruction reads or writes P (and sets ``modifies_flags``);
    the table must agree for every opcode.  BRK is the exception: capstone lists no register
    access for it, although it pushes P and sets I."""
    p = capstone.mos65xx.MOS65XX_REG_P
    for code, op in OPCODES.items():
        if op.mnemonic == "BRK":
            continue
        insn = _decode(bytes([code, 0x12, 0x34]))
        assert (p in insn.regs_read) == bool(op.reads), f"${code:02X} {op.mnemonic} reads"
        assert (p in insn.regs_write) == bool(op.writes), f"${code:02X} {op.mnemonic} writes"
        assert bool(insn.modifies_flags) == bool(op.writes), f"${code:02X} {op.mnemonic}"

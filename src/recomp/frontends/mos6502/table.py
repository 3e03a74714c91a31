"""The NMOS 6502's documented opcodes: one line per opcode, the chip's data sheet as data.

Each entry: opcode, mnemonic, addressing mode, base cycles, and ``+`` when a read that crosses
a page takes one more cycle.  Flags each mnemonic reads and writes are a second table.  The
other opcode sets (``undocumented``, ``wdc65c02``) are rows in the same form over this one; a
``recomp.frontends.mos6502.variant`` puts a chip's together.
"""

from __future__ import annotations

from typing import NamedTuple

# addressing mode -> instruction length in bytes
MODE_LENGTH = {
    "imp": 1, "acc": 1, "imm": 2, "zp": 2, "zpx": 2, "zpy": 2, "rel": 2, "indx": 2, "indy": 2,
    "abs": 3, "absx": 3, "absy": 3, "ind": 3,
    "zpind": 2, "absxind": 3, "zprel": 3,  # the 65C02's (zp), JMP (abs,X), BBR/BBS zp,rel
}

# mnemonic -> (flags read, flags written)
FLAGS: dict[str, tuple[str, str]] = {
    "ADC": ("CD", "NVZC"), "SBC": ("CD", "NVZC"),
    "AND": ("", "NZ"), "ORA": ("", "NZ"), "EOR": ("", "NZ"), "BIT": ("", "NVZ"),
    "ASL": ("", "NZC"), "LSR": ("", "NZC"), "ROL": ("C", "NZC"), "ROR": ("C", "NZC"),
    "CMP": ("", "NZC"), "CPX": ("", "NZC"), "CPY": ("", "NZC"),
    "INC": ("", "NZ"), "DEC": ("", "NZ"), "INX": ("", "NZ"), "INY": ("", "NZ"),
    "DEX": ("", "NZ"), "DEY": ("", "NZ"),
    "LDA": ("", "NZ"), "LDX": ("", "NZ"), "LDY": ("", "NZ"), "STA": ("", ""), "STX": ("", ""),
    "STY": ("", ""),
    "TAX": ("", "NZ"), "TAY": ("", "NZ"), "TSX": ("", "NZ"), "TXA": ("", "NZ"), "TYA": ("", "NZ"),
    "TXS": ("", ""),
    "PHA": ("", ""), "PLA": ("", "NZ"), "PHP": ("NVDIZC", ""), "PLP": ("", "NVDIZC"),
    "BCC": ("C", ""), "BCS": ("C", ""), "BEQ": ("Z", ""), "BNE": ("Z", ""), "BMI": ("N", ""),
    "BPL": ("N", ""), "BVC": ("V", ""), "BVS": ("V", ""),
    "JMP": ("", ""), "JSR": ("", ""), "RTS": ("", ""), "RTI": ("", "NVDIZC"),
    "BRK": ("NVDIZC", "I"), "NOP": ("", ""),
    "CLC": ("", "C"), "SEC": ("", "C"), "CLD": ("", "D"), "SED": ("", "D"), "CLI": ("", "I"),
    "SEI": ("", "I"), "CLV": ("", "V"),
    # undocumented NMOS
    "SLO": ("", "NZC"), "RLA": ("C", "NZC"), "SRE": ("", "NZC"), "RRA": ("CD", "NVZC"), "SAX": ("", ""),
    "LAX": ("", "NZ"), "DCP": ("", "NZC"), "ISC": ("CD", "NVZC"), "ANC": ("", "NZC"), "ALR": ("", "NZC"),
    "ARR": ("CD", "NVZC"), "ANE": ("", "NZ"), "LXA": ("", "NZ"), "SBX": ("", "NZC"), "USBC": ("CD", "NVZC"),
    "SHA": ("", ""), "SHX": ("", ""), "SHY": ("", ""), "TAS": ("", ""), "LAS": ("", "NZ"), "JAM": ("", ""),
    # 65C02
    "BRA": ("", ""), "PHX": ("", ""), "PHY": ("", ""), "PLX": ("", "NZ"), "PLY": ("", "NZ"), "STZ": ("", ""),
    "TSB": ("", "Z"), "TRB": ("", "Z"), "WAI": ("", ""), "STP": ("", ""),
    **{f"{name}{bit}": ("", "") for name in ("RMB", "SMB", "BBR", "BBS") for bit in range(8)},
}


class Opcode(NamedTuple):
    code: int
    mnemonic: str
    mode: str
    cycles: int
    page_penalty: bool  # a read that crosses a page boundary takes one more cycle

    @property
    def length(self) -> int:
        return MODE_LENGTH[self.mode]

    @property
    def reads(self) -> str:
        return FLAGS[self.mnemonic][0]

    @property
    def writes(self) -> str:
        return FLAGS[self.mnemonic][1]


_ROWS = """
69 ADC imm 2   65 ADC zp 3    75 ADC zpx 4   6D ADC abs 4   7D ADC absx 4+ 79 ADC absy 4+ 61 ADC indx 6 71 ADC indy 5+
29 AND imm 2   25 AND zp 3    35 AND zpx 4   2D AND abs 4   3D AND absx 4+ 39 AND absy 4+ 21 AND indx 6 31 AND indy 5+
0A ASL acc 2   06 ASL zp 5    16 ASL zpx 6   0E ASL abs 6   1E ASL absx 7
90 BCC rel 2   B0 BCS rel 2   F0 BEQ rel 2   30 BMI rel 2   D0 BNE rel 2   10 BPL rel 2   50 BVC rel 2   70 BVS rel 2
24 BIT zp 3    2C BIT abs 4
00 BRK imp 7
18 CLC imp 2   D8 CLD imp 2   58 CLI imp 2   B8 CLV imp 2
C9 CMP imm 2   C5 CMP zp 3    D5 CMP zpx 4   CD CMP abs 4   DD CMP absx 4+ D9 CMP absy 4+ C1 CMP indx 6 D1 CMP indy 5+
E0 CPX imm 2   E4 CPX zp 3    EC CPX abs 4
C0 CPY imm 2   C4 CPY zp 3    CC CPY abs 4
C6 DEC zp 5    D6 DEC zpx 6   CE DEC abs 6   DE DEC absx 7
CA DEX imp 2   88 DEY imp 2
49 EOR imm 2   45 EOR zp 3    55 EOR zpx 4   4D EOR abs 4   5D EOR absx 4+ 59 EOR absy 4+ 41 EOR indx 6 51 EOR indy 5+
E6 INC zp 5    F6 INC zpx 6   EE INC abs 6   FE INC absx 7
E8 INX imp 2   C8 INY imp 2
4C JMP abs 3   6C JMP ind 5
20 JSR abs 6
A9 LDA imm 2   A5 LDA zp 3    B5 LDA zpx 4   AD LDA abs 4   BD LDA absx 4+ B9 LDA absy 4+ A1 LDA indx 6 B1 LDA indy 5+
A2 LDX imm 2   A6 LDX zp 3    B6 LDX zpy 4   AE LDX abs 4   BE LDX absy 4+
A0 LDY imm 2   A4 LDY zp 3    B4 LDY zpx 4   AC LDY abs 4   BC LDY absx 4+
4A LSR acc 2   46 LSR zp 5    56 LSR zpx 6   4E LSR abs 6   5E LSR absx 7
EA NOP imp 2
09 ORA imm 2   05 ORA zp 3    15 ORA zpx 4   0D ORA abs 4   1D ORA absx 4+ 19 ORA absy 4+ 01 ORA indx 6 11 ORA indy 5+
48 PHA imp 3   08 PHP imp 3   68 PLA imp 4   28 PLP imp 4
2A ROL acc 2   26 ROL zp 5    36 ROL zpx 6   2E ROL abs 6   3E ROL absx 7
6A ROR acc 2   66 ROR zp 5    76 ROR zpx 6   6E ROR abs 6   7E ROR absx 7
40 RTI imp 6   60 RTS imp 6
E9 SBC imm 2   E5 SBC zp 3    F5 SBC zpx 4   ED SBC abs 4   FD SBC absx 4+ F9 SBC absy 4+ E1 SBC indx 6 F1 SBC indy 5+
38 SEC imp 2   F8 SED imp 2   78 SEI imp 2
85 STA zp 3    95 STA zpx 4   8D STA abs 4   9D STA absx 5  99 STA absy 5  81 STA indx 6  91 STA indy 6
86 STX zp 3    96 STX zpy 4   8E STX abs 4
84 STY zp 3    94 STY zpx 4   8C STY abs 4
AA TAX imp 2   A8 TAY imp 2   BA TSX imp 2   8A TXA imp 2   9A TXS imp 2   98 TYA imp 2
"""


def parse_rows(rows: str) -> dict[int, Opcode]:
    words = rows.split()
    table = {}
    for i in range(0, len(words), 4):
        code, mnemonic, mode, cycles = words[i:i + 4]
        table[int(code, 16)] = Opcode(int(code, 16), mnemonic, mode, int(cycles.rstrip("+")),
                                      cycles.endswith("+"))
    return table


# opcode -> entry, for the 151 documented opcodes
DOCUMENTED: dict[int, Opcode] = parse_rows(_ROWS)

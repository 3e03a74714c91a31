"""Self-modifying 6502 code and address wraparound, on every engine and mode.

Rewritten immediate operands (Klaus Dormann's ``ex_adci``), opcodes rewritten just ahead of the
storing instruction, rewritten branch offsets, code patched from Python between runs; and the
addressing modes' wraparound: at $FFFF, within page zero, ``JMP ($xxFF)`` and the stack page.

Each program is hand-assembled (the assembly is in the comments) and checked against py65, an
independent NMOS 6502, over the whole machine: registers, flags, all of memory, instructions
and cycles.
"""

from __future__ import annotations

import io

import pytest

import recomp
from conftest import MODES_6502
from recomp.ir.guest import ATTR_CODE

mpu6502 = pytest.importorskip("py65.devices.mpu6502")

MODES = MODES_6502
BUDGET = 500_000  # every run is bounded
ENTRY = 0x0200
FLAGS = 0xCF  # P without B and bit 5, which only exist on the stack


def layout(parts: dict[int, bytes]) -> dict[int, int]:
    return {at + i: byte for at, code in parts.items() for i, byte in enumerate(code)}


def machine(mode: str, parts: dict[int, bytes], s: int = 0xFF) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **MODES[mode])
    for at, code in sorted(parts.items()):
        emu.load(code, at=at)
    emu.state.pc, emu.state.s, emu.state.p = ENTRY, s, 0x20
    return emu


def snapshot(emu: recomp.Emulator) -> tuple:
    st = emu.state
    return (st.pc, st.a, st.x, st.y, st.s, st.p & FLAGS, emu.instructions, emu.cycles,
            emu.memory[0:0x10000])


def run(mode: str, parts: dict[int, bytes], s: int = 0xFF) -> tuple[recomp.Emulator, tuple]:
    emu = machine(mode, parts, s)
    result = emu.run(max_instructions=BUDGET, stop_on_trap=True)
    assert result.exit == "trap", result
    return emu, snapshot(emu)


def py65(parts: dict[int, bytes], s: int = 0xFF) -> tuple:
    """The same program on py65, to the trap (a jump to itself, executed once)."""
    memory = [0] * 0x10000
    for addr, byte in layout(parts).items():
        memory[addr] = byte
    mpu = mpu6502.MPU(memory=memory, pc=ENTRY)
    mpu.sp, mpu.p = s, 0x30
    steps = 0
    while steps < BUDGET:
        pc = mpu.pc
        mpu.step()
        steps += 1
        if mpu.pc == pc:
            break
    return (mpu.pc, mpu.a, mpu.x, mpu.y, mpu.sp, mpu.p & FLAGS, steps, mpu.processorCycles,
            bytes(memory))


def check(mode: str, parts: dict[int, bytes], s: int = 0xFF) -> recomp.Emulator:
    """Run on recomp in ``mode`` and on py65; the whole machines must agree."""
    emu, state = run(mode, parts, s)
    expected = py65(parts, s)
    names = ("pc", "a", "x", "y", "s", "p", "instructions", "cycles")
    got = dict(zip(names, state))
    want = dict(zip(names, expected))
    assert got == want
    if state[-1] != expected[-1]:
        diff = [(hex(i), g, w) for i, (g, w) in enumerate(zip(state[-1], expected[-1])) if g != w]
        pytest.fail(f"memory differs from py65 at (address, recomp, py65): {diff[:16]}")
    return emu


# --- (a) rewritten immediate operands ------------------------------------------------------------

# Klaus Dormann's ex_adci / ex_sbci: the operand of an ADC # / SBC # in a subroutine is stored
# before each call
EX_ADCI = {
    0x0200: bytes([
        0xA2, 0x00,        # 0200 LDX #0
        0x8A,              # 0202 loop: TXA
        0x8D, 0x41, 0x02,  # 0203 STA ex_adci+1
        0x8D, 0x44, 0x02,  # 0206 STA ex_sbci+1
        0xA9, 0x05,        # 0209 LDA #5
        0x18,              # 020B CLC
        0x20, 0x40, 0x02,  # 020C JSR ex_adci
        0x9D, 0x00, 0x04,  # 020F STA $0400,X     ; 5 + X
        0xA9, 0x05,        # 0212 LDA #5
        0x38,              # 0214 SEC
        0x20, 0x43, 0x02,  # 0215 JSR ex_sbci
        0x9D, 0x00, 0x05,  # 0218 STA $0500,X     ; 5 - X
        0xE8,              # 021B INX
        0xD0, 0xE4,        # 021C BNE loop
        0xC6, 0x10,        # 021E DEC $10          ; passes left
        0xD0, 0xE0,        # 0220 BNE loop
        0x4C, 0x22, 0x02,  # 0222 JMP $0222
    ]),
    0x0240: bytes([
        0x69, 0x00,        # 0240 ex_adci: ADC #0
        0x60,              # 0242 RTS
        0xE9, 0x00,        # 0243 ex_sbci: SBC #0
        0x60,              # 0245 RTS
    ]),
    0x0010: bytes([3]),    # three passes of 256
}

# the same with the rewritten instruction right after the store, in the loop's own block
INLINE_IMMEDIATE = {
    0x0200: bytes([
        0xA2, 0x00,        # 0200 LDX #0
        0x8A,              # 0202 loop: TXA
        0x49, 0x5A,        # 0203 EOR #$5A
        0x8D, 0x09, 0x02,  # 0205 STA imm+1
        0x69, 0x00,        # 0208 imm: ADC #0   ; A = 2 * (X ^ $5A) + C
        0x9D, 0x00, 0x04,  # 020A STA $0400,X
        0xE8,              # 020D INX
        0xD0, 0xF2,        # 020E BNE loop
        0x4C, 0x10, 0x02,  # 0210 JMP $0210
    ]),
}


@pytest.mark.parametrize("mode", MODES)
def test_ex_adci(mode):
    emu = check(mode, EX_ADCI)
    assert emu.memory[0x0400:0x0500] == bytes((5 + i) & 0xFF for i in range(256))
    assert emu.memory[0x0500:0x0600] == bytes((5 - i) & 0xFF for i in range(256))
    # each subroutine is invalidated once, when its operand is first rewritten; from then on
    # the operand is read at run time and rewriting it again costs nothing
    assert emu.stats.invalidations <= 2


@pytest.mark.parametrize("mode", MODES)
def test_rewritten_operand_in_same_block(mode):
    emu = check(mode, INLINE_IMMEDIATE)
    carry, table = 0, []
    for x in range(256):
        total = 2 * (x ^ 0x5A) + carry
        table.append(total & 0xFF)
        carry = total >> 8
    assert emu.memory[0x0400:0x0500] == bytes(table)
    assert emu.stats.invalidations <= 1


# --- (b) rewritten opcodes ahead of the store ----------------------------------------------------

NEXT_OPCODE = {
    0x0200: bytes([
        0xA2, 0x10,        # 0200 LDX #$10
        0xA9, 0xE8,        # 0202 LDA #$E8      ; INX
        0x8D, 0x07, 0x02,  # 0204 STA $0207
        0xCA,              # 0207 DEX           ; runs as INX
        0x86, 0x20,        # 0208 STX $20
        0x4C, 0x0A, 0x02,  # 020A JMP $020A
    ]),
}

# an opcode toggled between INX and INY on every pass, right after the store
TOGGLE = {
    0x0200: bytes([
        0xA2, 0x00,        # 0200 LDX #0
        0xA0, 0x00,        # 0202 LDY #0
        0xAD, 0x0C, 0x02,  # 0204 loop: LDA $020C
        0x49, 0x20,        # 0207 EOR #$20      ; INX <-> INY
        0x8D, 0x0C, 0x02,  # 0209 STA $020C
        0xE8,              # 020C INX / INY
        0xC6, 0x10,        # 020D DEC $10
        0xD0, 0xF3,        # 020F BNE loop
        0x4C, 0x11, 0x02,  # 0211 JMP $0211
    ]),
    0x0010: bytes([101]),
}

# three NOPs become INC $0040, one byte at a time: the instruction boundaries change
NOPS_TO_INC = {
    0x0200: bytes([
        0xA0, 0x00,        # 0200 LDY #0
        0xB9, 0x30, 0x02,  # 0202 loop: LDA new,Y
        0x99, 0x10, 0x02,  # 0205 STA patch,Y
        0xC8,              # 0208 INY
        0xC0, 0x03,        # 0209 CPY #3
        0xD0, 0xF5,        # 020B BNE loop
        0xEA,              # 020D NOP
        0xEA,              # 020E NOP
        0xEA,              # 020F NOP
        0xEA, 0xEA, 0xEA,  # 0210 patch: NOP NOP NOP -> INC $0040
        0xE6, 0x41,        # 0213 INC $41
        0x4C, 0x15, 0x02,  # 0215 JMP $0215
    ]),
    0x0230: bytes([0xEE, 0x40, 0x00]),  # new: INC $0040
}

# the write to X before the store must survive the smc exit: the rewritten instruction is an INX,
# no longer the LDX that overwrote X in the old code
LDX_TO_INX = {
    0x0200: bytes([
        0xA9, 0xE8,        # 0200 LDA #$E8      ; INX
        0xA2, 0x41,        # 0202 LDX #$41
        0x8D, 0x07, 0x02,  # 0204 STA $0207
        0xA2, 0xEA,        # 0207 LDX #$EA      ; runs as INX; NOP
        0x86, 0x20,        # 0209 STX $20
        0x4C, 0x0B, 0x02,  # 020B JMP $020B
    ]),
}


@pytest.mark.parametrize("mode", MODES)
def test_store_rewrites_next_opcode(mode):
    emu = check(mode, NEXT_OPCODE)
    assert emu.memory[0x20] == 0x11


@pytest.mark.parametrize("mode", MODES)
def test_opcode_toggled_every_pass(mode):
    emu = check(mode, TOGGLE)
    assert (emu.state.x, emu.state.y) == (50, 51)


@pytest.mark.parametrize("mode", MODES)
def test_instruction_boundaries_change(mode):
    emu = check(mode, NOPS_TO_INC)
    assert emu.memory[0x0210:0x0213] == bytes([0xEE, 0x40, 0x00])
    assert (emu.memory[0x40], emu.memory[0x41]) == (1, 1)


@pytest.mark.parametrize("mode", MODES)
def test_state_before_smc_exit_survives(mode):
    emu = check(mode, LDX_TO_INX)
    assert emu.memory[0x20] == 0x42


# --- (c) rewritten branch offsets ----------------------------------------------------------------

# Klaus Dormann's range test in small: one BCS, its offset taken from a table on each pass, lands
# somewhere in a sled of INYs that crosses a page (a taken branch to the next page costs 4 cycles)
BRANCH_RANGE = {
    0x0200: bytes([
        0xA2, 0x00,        # 0200 LDX #0
        0xA0, 0x00,        # 0202 LDY #0
        0xBD, 0x80, 0x02,  # 0204 loop: LDA offsets,X
        0x8D, 0xF9, 0x02,  # 0207 STA branch+1
        0x38,              # 020A SEC
        0x4C, 0xF8, 0x02,  # 020B JMP branch
        0xE8,              # 020E back: INX
        0xE0, 0x07,        # 020F CPX #7
        0xD0, 0xF1,        # 0211 BNE loop
        0x4C, 0x13, 0x02,  # 0213 JMP $0213
    ]),
    0x0280: bytes([0x00, 0x03, 0x08, 0x01, 0x05, 0x06, 0x00]),  # offsets
    0x02F8: bytes([
        0xB0, 0x00,        # 02F8 branch: BCS sled+offset
        0xC8, 0xC8, 0xC8, 0xC8, 0xC8, 0xC8,  # 02FA sled: INY x 8, to $0301
        0xC8, 0xC8,
        0x4C, 0x0E, 0x02,  # 0302 JMP back
    ]),
}

# the same with a backward branch: BCC to one of the INYs before it (C clear), then SEC stops it
BRANCH_BACK = {
    0x0200: bytes([
        0xA2, 0x00,        # 0200 LDX #0
        0xA0, 0x00,        # 0202 LDY #0
        0xBD, 0x80, 0x02,  # 0204 loop: LDA offsets,X
        0x8D, 0x0B, 0x03,  # 0207 STA branch+1
        0x18,              # 020A CLC
        0x4C, 0x0A, 0x03,  # 020B JMP branch
        0xE8,              # 020E back: INX
        0xE0, 0x05,        # 020F CPX #5
        0xD0, 0xF1,        # 0211 BNE loop
        0x4C, 0x13, 0x02,  # 0213 JMP $0213
    ]),
    0x0280: bytes([0xF4, 0xF8, 0xF3, 0xFB, 0xF5]),  # offsets: to $0300, $0304, $02FF, $0307, $0301
    0x02FF: bytes([
        0xC8,              # 02FF INY  (a target on the previous page: $F3)
        0xC8, 0xC8, 0xC8, 0xC8, 0xC8, 0xC8, 0xC8, 0xC8,  # 0300 sled: INY x 8, to $0307
        0x38,              # 0308 SEC
        0xEA,              # 0309 NOP
        0x90, 0xF4,        # 030A branch: BCC sled+offset
        0x4C, 0x0E, 0x02,  # 030C JMP back
    ]),
}


@pytest.mark.parametrize("mode", MODES)
def test_branch_offset_rewritten_forward(mode):
    emu = check(mode, BRANCH_RANGE)
    assert emu.state.y == 8 + 5 + 0 + 7 + 3 + 2 + 8
    assert emu.stats.invalidations <= 1


@pytest.mark.parametrize("mode", MODES)
def test_branch_offset_rewritten_backward(mode):
    emu = check(mode, BRANCH_BACK)
    assert emu.state.y == 8 + 4 + 9 + 1 + 7
    assert emu.stats.invalidations <= 1


# --- (d) code patched from Python between runs ---------------------------------------------------

STORE_IMMEDIATE = bytes([
    0xA9, 0x11,        # 0200 LDA #$11
    0x85, 0x10,        # 0202 STA $10
    0xA2, 0x00,        # 0204 LDX #0
    0xE8,              # 0206 loop: INX
    0xE0, 0x40,        # 0207 CPX #$40
    0xD0, 0xFB,        # 0209 BNE loop
    0x86, 0x11,        # 020B STX $11
    0x4C, 0x0D, 0x02,  # 020D JMP $020D
])


def rerun(emu: recomp.Emulator) -> recomp.RunResult:
    emu.state.pc = ENTRY
    result = emu.run(max_instructions=BUDGET, stop_on_trap=True)
    assert result.exit == "trap" and result.pc == 0x020D
    return result


@pytest.mark.parametrize("mode", MODES)
def test_python_writes_invalidate(mode):
    emu = machine(mode, {ENTRY: STORE_IMMEDIATE})
    for _ in range(10):  # enough passes for the tiered JIT to compile everything
        rerun(emu)
    assert (emu.memory[0x10], emu.memory[0x11]) == (0x11, 0x40)
    before = emu.stats.invalidations
    translated = emu.machine.attrs_view[0x0201] & ATTR_CODE  # not where the native interpreter runs it

    emu.memory[0x0201] = 0x22  # an operand byte
    rerun(emu)
    assert emu.memory[0x10] == 0x22
    assert emu.stats.invalidations > before or not translated

    emu.memory[0x0208] = 0x80  # the loop's bound, inside a compiled loop
    rerun(emu)
    assert emu.memory[0x11] == 0x80

    emu.memory[0x0206] = 0xCA  # an opcode: INX -> DEX, the loop now counts down from 0
    rerun(emu)
    assert emu.memory[0x11] == 0x80 and emu.state.x == 0x80

    emu.memory[0x0200:0x0204] = bytes([0xA9, 0x33, 0x85, 0x12])  # a slice: LDA #$33; STA $12
    rerun(emu)
    assert (emu.memory[0x10], emu.memory[0x12]) == (0x22, 0x33)

    emu.load(STORE_IMMEDIATE, at=ENTRY)  # the original program again
    for _ in range(3):
        rerun(emu)
        assert (emu.memory[0x10], emu.memory[0x11]) == (0x11, 0x40)


@pytest.mark.parametrize("mode", MODES)
def test_python_writes_volatile_operand(mode):
    """An operand the guest rewrites (now read at run time) patched from Python as well."""
    emu = machine(mode, INLINE_IMMEDIATE)
    assert emu.run(max_instructions=BUDGET, stop_on_trap=True).exit == "trap"
    emu.memory[0x0207] = 0x00  # STA imm+1 -> STA $0009: the ADC's operand is no longer stored
    emu.memory[0x0209] = 0x01  # ADC #1
    emu.state.pc, emu.state.p = ENTRY, 0x20
    assert emu.run(max_instructions=BUDGET, stop_on_trap=True).exit == "trap"
    carry, table = 0, []
    for x in range(256):
        total = (x ^ 0x5A) + 1 + carry
        table.append(total & 0xFF)
        carry = total >> 8
    assert emu.memory[0x0400:0x0500] == bytes(table)
    assert emu.memory[0x0009] == 0xFF ^ 0x5A  # the last value stored


# --- (e) wraparound: compiled code stays inside guest memory -------------------------------------

TRAP = bytes([0x4C, 0x00, 0x03])  # the programs below end with JMP $0300, a trap at $0300

WRAP_CASES = {
    # LDX #2; LDA $FFFF,X; STA $20; LDA #$77; STA $FFFF,X; LDY #$20; LDA $FFF0,Y; STA $21;
    # LDA #$66; STA $FFF0,Y; JMP $0300
    "abs-indexed": ({
        0x0200: bytes([0xA2, 0x02, 0xBD, 0xFF, 0xFF, 0x85, 0x20, 0xA9, 0x77, 0x9D, 0xFF, 0xFF,
                       0xA0, 0x20, 0xB9, 0xF0, 0xFF, 0x85, 0x21, 0xA9, 0x66, 0x99, 0xF0, 0xFF,
                       0x4C, 0x00, 0x03]),
        0x0000: bytes([0x00, 0x5A]), 0x0010: bytes([0xA5]), 0xFFFF: bytes([0xEE]),
    }, {0x0020: 0x5A, 0x0021: 0xA5, 0x0001: 0x77, 0x0010: 0x66}),
    # LDX #$20; LDA $F0,X; STA $20; LDA #$99; STA $F0,X; LDY #$30; LDX $F0,Y; STX $21; JMP $0300
    "zero-page-indexed": ({
        0x0200: bytes([0xA2, 0x20, 0xB5, 0xF0, 0x85, 0x20, 0xA9, 0x99, 0x95, 0xF0, 0xA0, 0x30,
                       0xB6, 0xF0, 0x86, 0x21, 0x4C, 0x00, 0x03]),
        0x0010: bytes([0x42]), 0x0110: bytes([0xBD]), 0x0020: bytes([0x00]),
    }, {0x0020: 0x42, 0x0010: 0x99, 0x0110: 0xBD, 0x0021: 0x42}),
    # LDX #$20; LDA ($F0,X); STA $22; LDX #$01; LDA ($FE,X); STA $23; LDA #$55; STA ($FE,X);
    # JMP $0300      -- ($F0,X): pointer at $10/$11; ($FE,X): low byte at $FF, high at $00
    "indexed-indirect": ({
        0x0200: bytes([0xA2, 0x20, 0xA1, 0xF0, 0x85, 0x22, 0xA2, 0x01, 0xA1, 0xFE, 0x85, 0x23,
                       0xA9, 0x55, 0x81, 0xFE, 0x4C, 0x00, 0x03]),
        0x0010: bytes([0x45, 0x03]), 0x0110: bytes([0x46, 0x04]),
        0x00FF: bytes([0x80]), 0x0000: bytes([0x04]), 0x0100: bytes([0x05]),
        0x0345: bytes([0x31]), 0x0446: bytes([0xEE]), 0x0480: bytes([0x32]), 0x0580: bytes([0xEE]),
    }, {0x0022: 0x31, 0x0023: 0x32, 0x0480: 0x55, 0x0580: 0xEE}),
    # LDY #$01; LDA ($FF),Y; STA $24; LDY #$20; LDA ($30),Y; STA $25; LDA #$44; STA ($30),Y;
    # JMP $0300      -- ($FF),Y: pointer high byte from $00; ($30),Y: $FFF0 + $20 wraps to $0010
    "indirect-indexed": ({
        0x0200: bytes([0xA0, 0x01, 0xB1, 0xFF, 0x85, 0x24, 0xA0, 0x20, 0xB1, 0x30, 0x85, 0x25,
                       0xA9, 0x44, 0x91, 0x30, 0x4C, 0x00, 0x03]),
        0x00FF: bytes([0x40]), 0x0000: bytes([0x06]), 0x0100: bytes([0x07]),
        0x0641: bytes([0x61]), 0x0741: bytes([0xEE]),
        0x0030: bytes([0xF0, 0xFF]), 0x0010: bytes([0x62]),
    }, {0x0024: 0x61, 0x0025: 0x62, 0x0010: 0x44}),
    # JMP ($04FF): low byte from $04FF, high byte from $0400 (not $0500), to $0650
    # $0650: LDA #1; STA $26; JMP $0300;  $0750 (the wrong target): LDA #2; STA $26; JMP $0300
    "jmp-indirect-page": ({
        0x0200: bytes([0x6C, 0xFF, 0x04]),
        0x04FF: bytes([0x50]), 0x0400: bytes([0x06]), 0x0500: bytes([0x07]),
        0x0650: bytes([0xA9, 0x01, 0x85, 0x26, 0x4C, 0x00, 0x03]),
        0x0750: bytes([0xA9, 0x02, 0x85, 0x26, 0x4C, 0x00, 0x03]),
    }, {0x0026: 0x01}),
    # S=$00: LDA #$AA; PHA (to $0100, S=$FF); LDA #$BB; PHA (to $01FF); PLA; STA $27; PLA; STA $28;
    # PLA (from $0101, S=$01); STA $29; JMP $0300
    "stack-push-pull": ({
        0x0200: bytes([0xA9, 0xAA, 0x48, 0xA9, 0xBB, 0x48, 0x68, 0x85, 0x27, 0x68, 0x85, 0x28,
                       0x68, 0x85, 0x29, 0x4C, 0x00, 0x03]),
        0x0101: bytes([0xC1]),
    }, {0x0100: 0xAA, 0x01FF: 0xBB, 0x0027: 0xBB, 0x0028: 0xAA, 0x0029: 0xC1}),
    # S=$00: JSR $0240 (return address $0202: $02 to $0100, $02 to $01FF); RTS; STX $2A; JMP $0300
    # $0240: TSX; RTS
    "stack-jsr-rts": ({
        0x0200: bytes([0x20, 0x40, 0x02, 0x86, 0x2A, 0x4C, 0x00, 0x03]),
        0x0240: bytes([0xBA, 0x60]),
    }, {0x0100: 0x02, 0x01FF: 0x02, 0x002A: 0xFE}),
    # S=$01: BRK pushes $0101, $0100, $01FF; the handler at $0280: TSX; STX $2B; RTI
    "stack-brk-rti": ({
        0x0200: bytes([0x00, 0xEA, 0x4C, 0x00, 0x03]),
        0x0280: bytes([0xBA, 0x86, 0x2B, 0x40]),
        0xFFFE: bytes([0x80, 0x02]),
    }, {0x0101: 0x02, 0x0100: 0x02, 0x01FF: 0x30, 0x002B: 0xFE}),
}
WRAP_STACK = {"stack-push-pull": 0x00, "stack-jsr-rts": 0x00, "stack-brk-rti": 0x01}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", WRAP_CASES)
def test_wraparound(case, mode):
    parts, expected = WRAP_CASES[case]
    emu = check(mode, {**parts, 0x0300: TRAP}, s=WRAP_STACK.get(case, 0xFF))
    assert {addr: emu.memory[addr] for addr in expected} == expected


@pytest.mark.parametrize("mode", MODES)
def test_jsr_in_the_stack_page_reads_its_high_byte_after_pushing(mode):
    """The chip fetches JSR's target low byte, pushes the return address, then fetches the high
    byte; here the push of PCH lands on that high byte (py65 gets this wrong)."""
    emu = recomp.Emulator("6502", console=None, **MODES[mode])
    emu.load(bytes([0x20, 0x34, 0x12]), at=0x015B)  # $015B: JSR $1234
    emu.load(bytes([0x4C, 0x34, 0x01]), at=0x0134)  # $0134: JMP $0134
    emu.state.pc, emu.state.s = 0x015B, 0x5D
    result = emu.run(stop_on_trap=True, max_instructions=10)
    assert (result.exit, result.pc) == ("trap", 0x0134)
    assert (emu.memory[0x015D], emu.memory[0x015C], emu.state.s) == (0x01, 0x5D, 0x5B)

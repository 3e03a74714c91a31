"""6502 interrupts on every engine and mode: IRQ masking and CLI, IRQ and NMI entry, BRK's B flag,
and the interval timer, whose interrupts must be taken at the first instruction boundary at or
after each deadline, exactly, whatever the engine compiled.

Programs are hand-assembled (the assembly is in the comments) so that the tests need no assembler.
"""

from __future__ import annotations

import io

import pytest

import recomp
from conftest import MODES_6502

# the modes every program runs in; results must be identical in all of them
MODES = MODES_6502
BUDGET = 200_000  # every run is bounded: a missed stop fails the test instead of hanging it

TIMER = 0xF010
IRQ_HANDLER = 0x0300
NMI_HANDLER = 0x0380


def layout(parts: dict[int, bytes]) -> bytes:
    """One image from pieces placed at their addresses, the gaps zero; it starts at the first."""
    base = min(parts)
    image = bytearray(max(at + len(code) for at, code in parts.items()) - base)
    for at, code in parts.items():
        image[at - base:at - base + len(code)] = code
    return bytes(image)


def machine(mode: str, program: bytes, at: int = 0x0200, timer: int | None = None) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), timer=timer, **MODES[mode])
    emu.load(program, at=at)
    emu.memory[0xFFFA:0xFFFC] = NMI_HANDLER.to_bytes(2, "little")
    emu.memory[0xFFFE:0x10000] = IRQ_HANDLER.to_bytes(2, "little")
    emu.state.pc = at
    emu.state.s = 0xFF
    emu.state.p = 0x20  # all flags clear (I clear)
    return emu


def pushed(emu: recomp.Emulator) -> tuple[int, int]:
    """The interrupt frame on top of the stack: (return address, pushed P)."""
    s = emu.state.s
    mem = emu.memory
    return mem[0x100 + (s + 2) % 256] | mem[0x100 + (s + 3) % 256] << 8, mem[0x100 + (s + 1) % 256]


def snapshot(emu: recomp.Emulator) -> tuple:
    st = emu.state
    return (st.pc, st.a, st.x, st.y, st.s, st.p, emu.cycles, emu.instructions,
            emu.stats.interrupts, emu.memory[0:0x10000])


# --- IRQ masked by I, taken right after CLI ------------------------------------------------------

MASKED = bytes([
    0x78,              # 0200 SEI
    0xA2, 0xFF,        # 0201 LDX #$FF
    0x9A,              # 0203 TXS
    0xA9, 0xC3,        # 0204 LDA #$C3      ; N=1
    0x38,              # 0206 SEC           ; C=1
    0x58,              # 0207 CLI           ; the pending IRQ is taken right after this
    0xEA,              # 0208 NOP           ; <- return address
    0x4C, 0x09, 0x02,  # 0209 JMP $0209     ; trap
])
MASKED_HANDLER = bytes([
    0x08,              # 0300 PHP           ; P inside the handler (B set by PHP)
    0x68,              # 0301 PLA
    0x85, 0x40,        # 0302 STA $40
    0xA9, 0x00,        # 0304 LDA #0        ; Z=1 N=0 inside the handler...
    0x18,              # 0306 CLC           ; ...and C=0
    0x40,              # 0307 RTI           ; restores N=1 Z=0 C=1 I=0
])


@pytest.mark.parametrize("mode", MODES)
def test_irq_masked_until_cli(mode):
    emu = machine(mode, MASKED)
    emu.load(MASKED_HANDLER, at=IRQ_HANDLER)
    emu.state.I = 1  # as after reset
    emu.irq(True)
    result = emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER)
    assert result.exit == "until"
    # masked through SEI..CLI (6 instructions, 12 cycles), then the 7-cycle entry
    assert emu.instructions == 6
    assert emu.cycles == 12 + 7
    assert emu.stats.interrupts == 1
    assert emu.state.I == 1 and emu.state.s == 0xFC
    # return address $0208 (the instruction after CLI), P = N,C + bit 5, B clear, I clear
    assert pushed(emu) == (0x0208, 0xA1)

    emu.irq(False)  # the device behind the line is serviced: lower it
    result = emu.run(max_instructions=BUDGET, stop_on_trap=True)
    assert result.exit == "trap" and result.pc == 0x0209
    assert emu.memory[0x40] == 0xB5  # inside: N, bit 5, B (PHP), I, C
    st = emu.state
    assert (st.a, st.s, st.p) == (0x00, 0xFF, 0xA1)  # RTI restored the flags, not A
    assert (st.N, st.Z, st.C, st.I) == (1, 0, 1, 0)
    assert emu.stats.interrupts == 1
    # handler: PHP 3, PLA 4, STA zp 3, LDA # 2, CLC 2, RTI 6; NOP 2; JMP 3
    assert emu.cycles == 19 + 20 + 2 + 3


@pytest.mark.parametrize("mode", MODES)
def test_irq_not_taken_while_masked_step_by_step(mode):
    emu = machine(mode, MASKED)
    emu.load(MASKED_HANDLER, at=IRQ_HANDLER)
    emu.state.I = 1  # as after reset
    emu.irq(True)
    pcs = []
    for _ in range(6):
        emu.step()
        pcs.append(emu.state.pc)
    assert pcs == [0x0201, 0x0203, 0x0204, 0x0206, 0x0207, 0x0208]
    assert emu.stats.interrupts == 0 and emu.cycles == 12
    assert emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER).exit == "until"
    assert emu.stats.interrupts == 1
    assert emu.cycles == 19 and emu.instructions == 6


# --- an IRQ line raised while compiled code is masked: taken after the CLI inside the region -----

CLI_IN_REGION = bytes([
    0xA2, 0xFF,        # 0200 LDX #$FF
    0x9A,              # 0202 TXS
    0x78,              # 0203 SEI
    0xA2, 0x00,        # 0204 LDX #0
    0xA0, 0x00,        # 0206 LDY #0
    0xE8,              # 0208 loop: INX
    0xD0, 0xFD,        # 0209 BNE loop
    0xC8,              # 020B INY
    0xC0, 0x04,        # 020C CPY #4
    0xD0, 0xF8,        # 020E BNE loop
    0x58,              # 0210 CLI           ; the IRQ is taken here, inside the same region
    0xEA,              # 0211 NOP           ; <- return address
    0x4C, 0x12, 0x02,  # 0212 JMP $0212
])


@pytest.mark.parametrize("mode", MODES)
def test_irq_taken_after_cli_in_compiled_loop(mode):
    emu = machine(mode, CLI_IN_REGION)
    emu.load(bytes([0x40]), at=IRQ_HANDLER)  # RTI
    emu.state.I = 1  # as after reset
    emu.irq(True)
    result = emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER)
    assert result.exit == "until"
    # 5 setup + 4 * (256 * (INX, BNE) + INY, CPY, BNE) + CLI
    assert emu.instructions == 5 + 4 * (512 + 3) + 1
    # inner loop: 255 * 5 + 4 cycles; outer: + INY 2, CPY 2, BNE 3 (2 the last time)
    inner = 255 * 5 + 4
    assert emu.cycles == 10 + 3 * (inner + 7) + (inner + 6) + 2 + 7
    assert pushed(emu) == (0x0211, 0x23)  # Z, C from the last CPY; I clear, B clear
    assert (emu.state.x, emu.state.y) == (0, 4)


# --- an IRQ between two instructions of a compiled loop ------------------------------------------

SPIN = bytes([
    0xA2, 0xFF,        # 0200 LDX #$FF
    0x9A,              # 0202 TXS
    0xA2, 0x00,        # 0203 LDX #0
    0xA0, 0x00,        # 0205 LDY #0
    0xE8,              # 0207 loop: INX
    0xD0, 0xFD,        # 0208 BNE loop
    0xC8,              # 020A INY
    0x4C, 0x07, 0x02,  # 020B JMP loop
])
SPIN_HANDLER = bytes([
    0xE6, 0x10,        # 0300 INC $10
    0x40,              # 0302 RTI
])


def spin_position(instructions: int) -> tuple[int, int, int, int]:
    """SPIN by hand: (pc, x, y, cycles) after ``instructions`` instructions."""
    pc, x, y, cycles = 0x0207, 0, 0, 8
    for _ in range(instructions - 4):
        if pc == 0x0207:
            x, pc, cycles = (x + 1) & 0xFF, 0x0208, cycles + 2
        elif pc == 0x0208:
            pc, cycles = (0x0207, cycles + 3) if x else (0x020A, cycles + 2)
        elif pc == 0x020A:
            y, pc, cycles = (y + 1) & 0xFF, 0x020B, cycles + 2
        else:
            pc, cycles = 0x0207, cycles + 3
    return pc, x, y, cycles


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("at", [1001, 1002, 1517])
def test_irq_between_instructions_of_compiled_loop(mode, at):
    emu = machine(mode, SPIN)
    emu.load(SPIN_HANDLER, at=IRQ_HANDLER)
    assert emu.run(max_instructions=at).exit == "max-instructions"
    pc, x, y, cycles = spin_position(at)
    assert (emu.state.pc, emu.state.x, emu.state.y, emu.cycles) == (pc, x, y, cycles)
    flags = emu.state.p
    emu.irq(True)
    result = emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER)
    assert result.exit == "until" and emu.instructions == at  # taken at once, no instruction ran
    assert emu.cycles == cycles + 7
    assert pushed(emu) == (pc, flags)
    emu.irq(False)
    emu.run(max_instructions=3000)  # INC, RTI, then back in the loop
    assert emu.memory[0x10] == 1 and emu.stats.interrupts == 1
    pc2, x2, y2, cycles2 = spin_position(at + 3000 - 2)  # the handler's 2 instructions...
    assert (emu.state.pc, emu.state.x, emu.state.y) == (pc2, x2, y2)
    assert emu.cycles == cycles2 + 7 + 5 + 6  # ...took 7 + INC zp 5 + RTI 6 cycles


# --- NMI ------------------------------------------------------------------------------------------

NMI_HANDLER_CODE = bytes([
    0xE6, 0x20,        # 0380 INC $20
    0x40,              # 0382 RTI
])
MASKED_SPIN = bytes([0x78]) + SPIN[:-2] + bytes([0x08, 0x02])  # SEI, then SPIN one byte later


@pytest.mark.parametrize("mode", MODES)
def test_nmi_is_not_maskable(mode):
    emu = machine(mode, MASKED_SPIN)
    emu.load(SPIN_HANDLER, at=IRQ_HANDLER)
    emu.load(NMI_HANDLER_CODE, at=NMI_HANDLER)
    emu.state.I = 1  # as after reset
    emu.irq(True)  # masked all along
    emu.run(max_instructions=700)
    assert emu.state.I == 1 and emu.stats.interrupts == 0
    pc, cycles = emu.state.pc, emu.cycles
    emu.nmi()
    assert emu.run(max_instructions=BUDGET, until_pc=NMI_HANDLER).exit == "until"
    assert emu.instructions == 700 and emu.cycles == cycles + 7
    return_pc, p = pushed(emu)
    assert return_pc == pc and p & 0x34 == 0x24  # bit 5 and I set, B clear
    emu.run(max_instructions=5000)
    assert emu.memory[0x20] == 1  # edge-triggered: taken once
    assert emu.memory[0x10] == 0  # the IRQ stayed masked
    assert emu.stats.interrupts == 1


@pytest.mark.parametrize("mode", MODES)
def test_nmi_before_irq_then_irq_after_rti(mode):
    emu = machine(mode, SPIN)
    emu.load(SPIN_HANDLER, at=IRQ_HANDLER)
    emu.load(NMI_HANDLER_CODE, at=NMI_HANDLER)
    emu.run(max_instructions=100)
    pc, p, cycles = emu.state.pc, emu.state.p, emu.cycles
    emu.irq(True)
    emu.nmi()
    assert emu.run(max_instructions=BUDGET, until_pc=NMI_HANDLER).exit == "until"
    assert pushed(emu) == (pc, p)
    assert emu.cycles == cycles + 7
    # the NMI handler runs with I set; its RTI clears I and the IRQ is taken at once
    assert emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER).exit == "until"
    assert emu.instructions == 102 and emu.stats.interrupts == 2
    assert emu.cycles == cycles + 7 + 5 + 6 + 7  # NMI entry, INC zp, RTI, IRQ entry
    assert pushed(emu) == (pc, p)  # I and B clear in the IRQ's frame too
    assert p & 0x14 == 0
    assert emu.memory[0x20] == 1 and emu.memory[0x10] == 0


# --- BRK and IRQ: the B flag in the pushed P ------------------------------------------------------

BRK_PROGRAM = bytes([
    0xA2, 0xFF,        # 0200 LDX #$FF
    0x9A,              # 0202 TXS
    0x58,              # 0203 CLI
    0x00, 0xEA,        # 0204 BRK           ; + signature byte
    0xEA,              # 0206 NOP           ; <- BRK returns here
    0x4C, 0x07, 0x02,  # 0207 JMP $0207
])
# the usual shared IRQ/BRK handler: look at B in the pushed P, log it
BRK_HANDLER = bytes([
    0x48,              # 0300 PHA
    0x8A,              # 0301 TXA
    0x48,              # 0302 PHA
    0xBA,              # 0303 TSX
    0xBD, 0x03, 0x01,  # 0304 LDA $0103,X   ; the pushed P
    0xA6, 0x50,        # 0307 LDX $50
    0x95, 0x51,        # 0309 STA $51,X     ; log[count] = P
    0x29, 0x10,        # 030B AND #$10
    0xF0, 0x02,        # 030D BEQ irq
    0xE6, 0x60,        # 030F INC $60       ; BRKs seen
    0xE6, 0x50,        # 0311 irq: INC $50
    0x68,              # 0313 PLA
    0xAA,              # 0314 TAX
    0x68,              # 0315 PLA
    0x40,              # 0316 RTI
])


@pytest.mark.parametrize("mode", MODES)
def test_brk_and_irq_b_flag(mode):
    emu = machine(mode, BRK_PROGRAM)
    emu.load(BRK_HANDLER, at=IRQ_HANDLER)
    assert emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER).exit == "until"
    assert emu.cycles == 2 + 2 + 2 + 7 and emu.instructions == 4 and emu.stats.interrupts == 0
    assert pushed(emu) == (0x0206, 0xB0)  # BRK: PC+2, B set (N from LDX #$FF)
    assert emu.state.I == 1
    result = emu.run(max_instructions=BUDGET, stop_on_trap=True)
    assert result.exit == "trap" and result.pc == 0x0207
    cycles, instructions = emu.cycles, emu.instructions

    emu.irq(True)
    assert emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER).exit == "until"
    assert emu.cycles == cycles + 7 and emu.instructions == instructions
    assert pushed(emu) == (0x0207, 0xA0)  # IRQ: the interrupted pc, B clear
    emu.irq(False)
    result = emu.run(max_instructions=BUDGET, stop_on_trap=True)
    assert result.exit == "trap" and result.pc == 0x0207
    assert emu.memory[0x50:0x53] == bytes([2, 0xB0, 0xA0])
    assert emu.memory[0x60] == 1  # the handler told the BRK from the IRQ
    assert emu.state.s == 0xFF and emu.state.I == 0


# --- the interval timer ---------------------------------------------------------------------------

PERIOD = 1000
# the timer is programmed inline, in the same region as the loop it interrupts
TIMER_INLINE = bytes([
    0xA2, 0xFF,        # 0200 LDX #$FF      2
    0x9A,              # 0202 TXS           2
    0xA9, 0x00,        # 0203 LDA #0        2
    0x85, 0x10,        # 0205 STA $10       3   ; interrupt counter
    0x85, 0x11,        # 0207 STA $11       3
    0xA9, 0xE8,        # 0209 LDA #<1000    2
    0x8D, 0x10, 0xF0,  # 020B STA $F010     4   ; period, low byte
    0xA9, 0x03,        # 020E LDA #>1000    2
    0x8D, 0x11, 0xF0,  # 0210 STA $F011     4   ; period, high byte
    0xA9, 0x01,        # 0213 LDA #1        2
    0x8D, 0x12, 0xF0,  # 0215 STA $F012     4   ; enable: started at cycle 30
    0x58,              # 0218 CLI           2
    0xA2, 0x00,        # 0219 LDX #0        2
    0xA0, 0x00,        # 021B LDY #0        2
    0xE8,              # 021D loop: INX     2
    0xD0, 0xFD,        # 021E BNE loop      3 taken, 2 not
    0xC8,              # 0220 INY           2
    0x4C, 0x1D, 0x02,  # 0221 JMP loop      3
])
# the same, with the timer programmed by a subroutine (the loop's region starts after it)
TIMER_SUBROUTINE = layout({0x0200: bytes([
    0xA2, 0xFF,        # 0200 LDX #$FF      2
    0x9A,              # 0202 TXS           2
    0x20, 0x40, 0x02,  # 0203 JSR setup     6
    0x58,              # 0206 CLI           2
    0xA2, 0x00,        # 0207 LDX #0        2
    0xA0, 0x00,        # 0209 LDY #0        2
    0xE8,              # 020B loop: INX     2
    0xD0, 0xFD,        # 020C BNE loop
    0xC8,              # 020E INY           2
    0x4C, 0x0B, 0x02,  # 020F JMP loop      3
]), 0x0240: bytes([
    0xA9, 0x00,        # 0240 setup: LDA #0      2
    0x85, 0x10,        # 0242 STA $10            3
    0xA9, 0xE8,        # 0244 LDA #<1000         2
    0x8D, 0x10, 0xF0,  # 0246 STA $F010          4
    0xA9, 0x03,        # 0249 LDA #>1000         2
    0x8D, 0x11, 0xF0,  # 024B STA $F011          4
    0xA9, 0x01,        # 024E LDA #1             2
    0x8D, 0x12, 0xF0,  # 0250 STA $F012          4   ; enable: started at cycle 33
    0x60,              # 0253 RTS                6
])})
TIMER_HANDLER = bytes([
    0xE6, 0x10,        # 0300 INC $10       5
    0xAD, 0x13, 0xF0,  # 0302 LDA $F013     4   ; acknowledge
    0x40,              # 0305 RTI           6
])
HANDLER_CYCLES = 7 + 5 + 4 + 6
HANDLER_INSTRUCTIONS = 3
# program: (its bytes, cycle the timer starts at, loop address, cycles and pc entering the loop)
TIMER_PROGRAMS = {
    "inline": (TIMER_INLINE, 30, 0x021D, 36),
    "subroutine": (TIMER_SUBROUTINE, 33, 0x020B, 45),
}
# setup instructions before the loop
SETUP_INSTRUCTIONS = {"inline": 14, "subroutine": 15}


def timer_model(program: str, instructions: int, strict: bool = True
                ) -> tuple[list[tuple[int, int, int, int]], tuple]:
    """The timer programs by hand, until ``instructions`` have run: the interrupts as (cycles
    on entering the handler, interrupted pc, x, y), and the final (pc, x, y, cycles, count).

    The IRQ is taken at the first instruction boundary with cycles >= deadline; deadlines are
    start + k * PERIOD whenever the interrupt is taken."""
    _, start, loop, cycles = TIMER_PROGRAMS[program]
    pc, x, y, done = loop, 0, 0, SETUP_INSTRUCTIONS[program]
    deadline, taken = start + PERIOD, []
    while done < instructions:
        if cycles >= deadline:
            taken.append((cycles + 7, pc, x, y))
            deadline += PERIOD
            if done + HANDLER_INSTRUCTIONS > instructions:
                if strict:
                    raise ValueError("the budget ends inside the handler: pick another")
                break
            cycles += HANDLER_CYCLES
            done += HANDLER_INSTRUCTIONS
            continue
        if pc == loop:  # INX
            x, pc, cycles = (x + 1) & 0xFF, loop + 1, cycles + 2
        elif pc == loop + 1:  # BNE loop
            pc, cycles = (loop, cycles + 3) if x else (loop + 3, cycles + 2)
        elif pc == loop + 3:  # INY
            y, pc, cycles = (y + 1) & 0xFF, loop + 4, cycles + 2
        else:  # JMP loop
            pc, cycles = loop, cycles + 3
        done += 1
    return taken, (pc, x, y, cycles, len(taken))


def test_timer_model_by_hand():
    # the loop is entered at cycle 36 with X=0; the timer started at cycle 30, so the first
    # deadline is 1030: boundaries after BNE are at 36 + 5k, after INX at 38 + 5k; the first at
    # or after 1030 is 1031 (k=199, before INX at $021D, X=199), and the handler starts at 1038
    taken, _ = timer_model("inline", 2000)
    assert taken[0] == (1038, 0x021D, 199, 0)
    # back in the loop at 1031 + 22 = 1053 with X=199; 57 INX later X wraps (1053 + 56*5 + 4),
    # INY, JMP: 1342, X=0, Y=1; the next deadline is 2030: 1342 + 5*138 = 2032, X=138
    assert taken[1] == (2039, 0x021D, 138, 1)


TIMER_CASES = [pytest.param(program, mode, id=f"{program}-{mode}")
               for program in TIMER_PROGRAMS for mode in MODES]


def timer_machine(program: str, mode: str) -> recomp.Emulator:
    emu = machine(mode, TIMER_PROGRAMS[program][0], timer=TIMER)
    emu.load(TIMER_HANDLER, at=IRQ_HANDLER)
    return emu


@pytest.mark.parametrize(("program", "mode"), TIMER_CASES)
def test_timer_interrupts_exact_cycles(program, mode):
    """Each interrupt, stopped at the handler: cycles, the interrupted pc and registers."""
    emu = timer_machine(program, mode)
    seen = []
    for _ in range(12):
        result = emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER)
        assert result.exit == "until"
        seen.append((emu.cycles, pushed(emu)[0], emu.state.x, emu.state.y))
        assert emu.memory[0x10] == len(seen) - 1
        emu.step()  # INC $10: leave the stop
    expected, _ = timer_model(program, emu.instructions + 1000, strict=False)
    assert seen == expected[:12]
    assert emu.stats.interrupts == 12


@pytest.mark.parametrize(("program", "mode"), TIMER_CASES)
@pytest.mark.parametrize("instructions", [30_003, 100_000])
def test_timer_whole_run(program, mode, instructions):
    """A long run under a budget only: the final state as the model has it."""
    emu = timer_machine(program, mode)
    assert emu.run(max_instructions=instructions).exit == "max-instructions"
    _, (pc, x, y, cycles, count) = timer_model(program, instructions)
    st = emu.state
    assert (st.pc, st.x, st.y, emu.cycles) == (pc, x, y, cycles)
    assert emu.memory[0x10] == count & 0xFF and emu.stats.interrupts == count
    assert st.s == 0xFF and st.I == 0


TIMER_MASKED = layout({0x0200: bytes([
    0xA2, 0xFF,        # 0200 LDX #$FF
    0x9A,              # 0202 TXS
    0x78,              # 0203 SEI
    0x20, 0x40, 0x02,  # 0204 JSR setup     ; period 100, started at cycle 37
    0xA2, 0x00,        # 0207 LDX #0
    0xCA,              # 0209 wait: DEX     ; 256 * 5 - 1 cycles with I set: 12 periods
    0xD0, 0xFD,        # 020A BNE wait
    0x58,              # 020C CLI           ; one pending IRQ, taken right after CLI
    0xE8,              # 020D INX           ; <- return address
    0x4C, 0x0D, 0x02,  # 020E JMP $020D
]), 0x0240: bytes([
    0xA9, 0x64,        # 0240 setup: LDA #100
    0x8D, 0x10, 0xF0,  # 0242 STA $F010
    0xA9, 0x00,        # 0245 LDA #0
    0x8D, 0x11, 0xF0,  # 0247 STA $F011
    0xA9, 0x01,        # 024A LDA #1
    0x8D, 0x12, 0xF0,  # 024C STA $F012
    0x60,              # 024F RTS
])})


@pytest.mark.parametrize("mode", MODES)
def test_timer_irq_held_while_masked(mode):
    emu = machine(mode, TIMER_MASKED, timer=TIMER)
    emu.load(TIMER_HANDLER, at=IRQ_HANDLER)
    assert emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER).exit == "until"
    assert pushed(emu)[0] == 0x020D
    # LDX, TXS, SEI, JSR: 12; STA $F012 ends at 12 + 3 * (2 + 4) = 30: deadlines 130, 230, ...
    # RTS 6, LDX 2: 38; wait: 256 DEX + 255 BNE taken + 1 not: 1279 -> 1317; CLI: 1319
    assert emu.cycles == 1319 + 7 and emu.stats.interrupts == 1
    assert emu.instructions == 4 + 7 + 1 + 512 + 1
    # the timer's pending flag is one bit: the deadlines that passed under SEI make one IRQ.
    # INC $10 ends at 1331, past the deadline 1330 (pending again, already set), and
    # LDA $F013 acknowledges at 1335; RTI: 1341 at INX. The next deadline is 1430: the loop
    # INX (2), JMP (3) reaches a boundary at 1341 + 5 * 18 = 1431, before INX
    emu.step()  # INC $10, out of the stop
    assert emu.run(max_instructions=BUDGET, until_pc=IRQ_HANDLER).exit == "until"
    assert emu.cycles == 1431 + 7 and pushed(emu)[0] == 0x020D
    assert emu.stats.interrupts == 2 and emu.memory[0x10] == 1


def test_timer_identical_across_modes():
    """Whole machine state after a long timer run, every mode against the interpreter."""
    results = {}
    for mode in MODES:
        emu = timer_machine("subroutine", mode)
        emu.run(max_instructions=50_000)
        results[mode] = snapshot(emu)
    reference = results["interp"]
    for mode, result in results.items():
        assert result == reference, mode

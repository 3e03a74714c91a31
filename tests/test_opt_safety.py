"""The optimizer cannot change what a program does: proof against py65 and against the
unoptimized code, with budgets and interrupts landing where the optimizer deferred writes.

- random machines and programs (``test_6502_py65.machines``) under a random selection and order
  of passes, stopped by an instruction budget at a random point, against py65;
- timer interrupts at random periods in loops of flag-heavy code: every interrupt pushes P, the
  handler logs it, and the log and the whole machine must be identical in every mode, the
  unoptimized interpreter being the reference;
- Klaus Dormann's functional and decimal tests with each pass alone (``test_6502_klaus`` runs
  them with the whole pipeline and without the optimizer).
"""

from __future__ import annotations

import io

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import recomp
from conftest import MODES_6502
from recomp.opt import PASSES
from test_6502_klaus import decimal, functional
from test_6502_klaus import pytestmark as needs_testdata
from test_6502_py65 import SETTINGS, check, machines

PASS_LISTS = st.lists(st.sampled_from(sorted(PASSES)), min_size=1, max_size=8)


@settings(max_examples=60, **SETTINGS)
@given(machines(), PASS_LISTS)
def test_random_passes_on_the_interpreter_agree_with_py65(case, passes):
    check(*case, engine="interp", passes=passes)


@settings(max_examples=15, **SETTINGS)
@given(machines(), PASS_LISTS)
def test_random_passes_on_the_jit_agree_with_py65(case, passes):
    check(*case, engine="jit", jit_threshold=0, passes=passes)


# --- interrupts where flags are deferred ---------------------------------------------------------

TIMER = 0xF010
# loop bodies: instructions that read and write flags, none touching X (the loop counter) or
# the stack pointer for good (PHP/PLA pairs), none jumping
BODY = [
    bytes([0xA9, 0x80]),        # LDA #$80      N=1 Z=0
    bytes([0xA9, 0x00]),        # LDA #$00      N=0 Z=1
    bytes([0xA0, 0x7F]),        # LDY #$7F
    bytes([0xC9, 0x40]),        # CMP #$40      N Z C
    bytes([0x69, 0x37]),        # ADC #$37      N V Z C (reads C, D)
    bytes([0xE9, 0x19]),        # SBC #$19      N V Z C
    bytes([0x26, 0x20]),        # ROL $20       reads C; N Z C
    bytes([0x66, 0x21]),        # ROR $21
    bytes([0xA5, 0x20]),        # LDA $20
    bytes([0x24, 0x21]),        # BIT $21       N V Z
    bytes([0x29, 0xC3]),        # AND #$C3
    bytes([0x49, 0xFF]),        # EOR #$FF
    bytes([0x18]),              # CLC
    bytes([0x38]),              # SEC
    bytes([0xB8]),              # CLV
    bytes([0xF8]),              # SED
    bytes([0xD8]),              # CLD
    bytes([0xC8]),              # INY
    bytes([0x88]),              # DEY
    bytes([0x98]),              # TYA
    bytes([0x08, 0x68]),        # PHP; PLA      P through the stack into A
    bytes([0x48, 0x28]),        # PHA; PLP      A into P through the stack (I may change)
    bytes([0x85, 0x22]),        # STA $22
]
SETUP = bytes([
    0xA2, 0xFF, 0x9A,           # 0200 LDX #$FF; TXS
    0xA9, 0x00, 0x8D, 0x11, 0xF0,  # LDA #>period; STA $F011 (patched below)
    0xA9, 0x00, 0x8D, 0x10, 0xF0,  # LDA #<period; STA $F010
    0xA9, 0x01, 0x8D, 0x12, 0xF0,  # LDA #1; STA $F012: start
    0x58,                       # CLI
])
HANDLER = bytes([
    0x48,                       # 0300 PHA
    0x8A, 0x48,                 # TXA; PHA
    0xBA,                       # TSX
    0xBD, 0x03, 0x01,           # LDA $0103,X    the P the interrupt pushed
    0xA6, 0x30,                 # LDX $30        the log's length
    0x9D, 0x00, 0x04,           # STA $0400,X
    0xE6, 0x30,                 # INC $30
    0xAD, 0x13, 0xF0,           # LDA $F013      acknowledge
    0x68, 0xAA, 0x68,           # PLA; TAX; PLA
    0x40,                       # RTI
])
REFERENCE = dict(engine="interp", optimize=False)
MODES = {"interp-noopt": REFERENCE, **MODES_6502}


def timer_program(body: list[bytes], period: int) -> bytes:
    setup = bytearray(SETUP)
    setup[4], setup[9] = period >> 8, period & 0xFF
    loop = 0x0200 + len(setup)
    code = b"".join(body) + bytes([0xCA, 0xD0])  # DEX; BNE loop
    code += bytes([(loop - (loop + len(code) + 1)) & 0xFF])
    code += bytes([0x4C, loop & 0xFF, loop >> 8])  # JMP loop (X wrapped)
    return bytes(setup) + code


def run_timer(options: dict, program: bytes, instructions: int) -> tuple:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), timer=TIMER, **options)
    emu.load(program, at=0x0200)
    emu.load(HANDLER, at=0x0300)
    emu.memory[0xFFFE], emu.memory[0xFFFF] = 0x00, 0x03
    emu.state.pc, emu.state.p = 0x0200, 0x24
    emu.run(max_instructions=instructions)
    st = emu.state
    return (st.pc, st.a, st.x, st.y, st.s, st.p, emu.instructions, emu.cycles, emu.stats.interrupts,
            emu.memory[0:0x10000])


@settings(max_examples=12, **SETTINGS)
@given(st.lists(st.sampled_from(BODY), min_size=1, max_size=10), st.integers(30, 400),
       st.integers(500, 6000))
def test_interrupts_see_exact_flags_in_every_mode(body, period, instructions):
    program = timer_program(body, period)
    reference = run_timer(REFERENCE, program, instructions)
    event(f"interrupts taken: {min(reference[8], 10)}{'+' if reference[8] > 10 else ''}")
    for mode, options in MODES.items():
        got = run_timer(options, program, instructions)
        assert got[:9] == reference[:9], mode
        log = reference[9][0x0400:0x0400 + min(reference[9][0x30], 256)]
        assert got[9] == reference[9], f"{mode}: P pushed by interrupts, reference {log.hex()}"


# --- Klaus Dormann's tests, each pass alone ------------------------------------------------------

# the passes that reason about self-modifying code and deferred state run the functional test
# alone in every run; the others (each 13 s) under -m slow, and all together in the tests above
EVERY_RUN = {"liveness", "smc"}


@needs_testdata
@pytest.mark.parametrize("name", [name if name in EVERY_RUN else pytest.param(name, marks=pytest.mark.slow)
                                  for name in sorted(PASSES)])
def test_functional_test_with_one_pass(name):
    emu = functional("jit", True, passes=[name], native_interpreter=False)  # code that runs is optimized
    assert emu.stats.opt and set(emu.stats.opt) == {name}


@needs_testdata
@pytest.mark.parametrize("name", sorted(PASSES))
def test_decimal_test_with_one_pass(name):
    decimal("jit", True, passes=[name], native_interpreter=False)

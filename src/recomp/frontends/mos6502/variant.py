"""The chips of the 6502 family recomp runs, each one record: its opcode rows, the semantics of
its mnemonics, its quirks, capstone's mode for it, and its guest spec.

The guest spec's name differs between variants, so that every key made of it (translations,
the code cache's context, the native interpreter's identity, a region's header) keeps one
chip's code from ever running for another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from recomp.frontends.mos6502.semantics import SEMANTICS, VECTORS
from recomp.frontends.mos6502.table import DOCUMENTED, Opcode
from recomp.frontends.mos6502.undocumented import UNDOCUMENTED, UNDOCUMENTED_SEMANTICS
from recomp.frontends.mos6502.wdc65c02 import WDC65C02, WDC65C02_SEMANTICS
from recomp.ir.guest import GuestSpec
from recomp.ir.types import I8, I16

if TYPE_CHECKING:
    from recomp.frontends.mos6502.modes import Operand
    from recomp.frontends.region import RegionBuilder

FAMILY = "6502"


class Variant(NamedTuple):
    """One chip.  ``name``: what users choose it by (``--cpu``); ``summary``: one line for help;
    ``jmp_page_wrap``: JMP ($xxFF) reads its high byte from $xx00 (NMOS); ``cmos_decimal``:
    decimal ADC and SBC set N and Z from their result and take one more cycle (65C02);
    ``interrupt_clears_d``: BRK, IRQ and NMI clear D (65C02); ``capstone_mode``: the name of
    capstone's MOS65XX mode that disassembles it."""

    name: str
    summary: str
    guest: GuestSpec
    opcodes: dict[int, Opcode]
    semantics: dict[str, Callable[[RegionBuilder, Operand], None]]
    jmp_page_wrap: bool
    cmos_decimal: bool
    interrupt_clears_d: bool
    capstone_mode: str


def _guest(name: str) -> GuestSpec:
    return GuestSpec(
        name=name,
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


NMOS = Variant("6502", "the NMOS 6502, all 256 opcodes (the undocumented ones as the chip runs them)",
               _guest("mos6502"), {**DOCUMENTED, **UNDOCUMENTED}, {**SEMANTICS, **UNDOCUMENTED_SEMANTICS},
               jmp_page_wrap=True, cmos_decimal=False, interrupt_clears_d=False,
               capstone_mode="CS_MODE_MOS65XX_6502")
DOCUMENTED_ONLY = NMOS._replace(
    name="6502-documented", summary="the NMOS 6502's 151 documented opcodes: any other is an error",
    guest=_guest("mos6502_documented"), opcodes=DOCUMENTED, semantics=SEMANTICS)
CMOS = Variant("65c02", "the WDC 65C02 (W65C02S), bit instructions, WAI and STP included",
               _guest("wdc65c02"), WDC65C02, WDC65C02_SEMANTICS,
               jmp_page_wrap=False, cmos_decimal=True, interrupt_clears_d=True,
               capstone_mode="CS_MODE_MOS65XX_W65C02")

VARIANTS: dict[str, Variant] = {variant.name: variant for variant in (NMOS, DOCUMENTED_ONLY, CMOS)}

"""The MOS 6502 family: the NMOS chip (all 256 opcodes, or the documented ones only) and the
WDC 65C02, decimal mode, exact cycles, interrupts."""

from recomp.frontends.mos6502.frontend import GUEST, Mos6502, Mos6502Documented, Wdc65C02, disassemble
from recomp.frontends.mos6502.table import DOCUMENTED, Opcode
from recomp.frontends.mos6502.variant import VARIANTS, Variant

__all__ = ["DOCUMENTED", "GUEST", "VARIANTS", "Mos6502", "Mos6502Documented", "Opcode", "Variant", "Wdc65C02",
           "disassemble"]

"""The MOS 6502 (NMOS): every documented opcode, decimal mode, exact cycles, interrupts."""

from recomp.frontends.mos6502.frontend import GUEST, Mos6502, disassemble
from recomp.frontends.mos6502.table import OPCODES, Opcode

__all__ = ["GUEST", "OPCODES", "Mos6502", "Opcode", "disassemble"]

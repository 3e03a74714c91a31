"""The host code of a compiled region, as it sits in memory, and its x86-64 disassembly (capstone)."""

from __future__ import annotations

import ctypes

from recomp.backend.jit import Compiled
from recomp.backend.objects import text_size


def host_code(compiled: Compiled) -> bytes:
    """The machine code of a compiled region (its object file's code section is its only function)."""
    return ctypes.string_at(compiled.address, text_size(compiled.object))


def disassemble(compiled: Compiled) -> list[tuple[int, str, str]]:
    """The region's host code as x86-64 assembly, by capstone: (address, mnemonic, operands)."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    return [(i.address, i.mnemonic, i.op_str) for i in md.disasm(host_code(compiled), compiled.address)]

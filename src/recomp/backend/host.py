"""The host code of a compiled region, as it sits in memory, and its x86-64 disassembly (capstone)."""

from __future__ import annotations

import ctypes
import struct

from recomp.backend.jit import Compiled


def host_code(compiled: Compiled) -> bytes:
    """The machine code of a compiled region (its object file's code section is its only function)."""
    return ctypes.string_at(compiled.address, _text_size(compiled.object))


def disassemble(compiled: Compiled) -> list[tuple[int, str, str]]:
    """The region's host code as x86-64 assembly, by capstone: (address, mnemonic, operands)."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    return [(i.address, i.mnemonic, i.op_str) for i in md.disasm(host_code(compiled), compiled.address)]


def _text_size(elf: bytes) -> int:
    """Size of the code section of an ELF64 little-endian object: ``.text``, or ``.ltext`` under
    the large code model JIT target machines use."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    names_offset, = struct.unpack_from("<Q", elf, shoff + shstrndx * shentsize + 0x18)
    for i in range(shnum):
        header = shoff + i * shentsize
        name_index, = struct.unpack_from("<I", elf, header)
        name = elf[names_offset + name_index:elf.index(b"\0", names_offset + name_index)]
        size = struct.unpack_from("<Q", elf, header + 0x20)[0]
        if name in (b".text", b".ltext") and size:
            return size
    raise ValueError("object has no code section")

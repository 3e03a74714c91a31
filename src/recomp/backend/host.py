"""The host code of a compiled region, as it sits in memory, and its x86-64 disassembly (capstone)."""

from __future__ import annotations

import ctypes

from recomp.backend.compiled import Compiled
from recomp.backend.lower import MARK_CHAIN, MARK_INSN, MARK_LEAVE
from recomp.backend.objects import text_size


def host_code(compiled: Compiled) -> bytes:
    """The machine code of a compiled region (its object file's code section is its only function)."""
    return ctypes.string_at(compiled.address, text_size(compiled.object))


def disassemble(compiled: Compiled) -> list[tuple[int, str, str]]:
    """The region's host code as x86-64 assembly, by capstone: (address, mnemonic, operands)."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    return [(i.address, i.mnemonic, i.op_str) for i in md.disasm(host_code(compiled), compiled.address)]


def by_guest_instruction(compiled: Compiled) -> list[tuple[int | str, list[tuple[int, str, str]]]]:
    """Host code compiled with markers (``lower(..., markers=True)``), cut where they stand: each
    guest instruction's address (or "entry", "leave", "chain" for the code before the first
    marker and the shared exits) with the host instructions that follow it, markers left out."""
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    tags = {MARK_LEAVE: "leave", MARK_CHAIN: "chain"}
    pieces: list[tuple[int | str, list[tuple[int, str, str]]]] = [("entry", [])]
    for insn in md.disasm(host_code(compiled), compiled.address):
        raw = bytes(insn.bytes)
        if len(raw) == 7 and raw[:3] == b"\x0f\x1f\x80":
            tag = int.from_bytes(raw[3:], "little")
            if tag & 0xFF000000 == MARK_INSN or tag in tags:
                pieces.append((tag & 0xFFFFFF if tag & 0xFF000000 == MARK_INSN else tags[tag], []))
                continue
        pieces[-1][1].append((insn.address, insn.mnemonic, insn.op_str))
    return [piece for piece in pieces if piece[1] or piece[0] != "entry"]

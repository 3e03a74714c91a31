"""Object files linked into the process without LLVM.

A warm run's code is all made already: the native interpreter prebuilt when recomp was
installed, regions in the code cache, the SIGINT handler.  Loading LLVM (``llvmlite.binding``)
and an MCJIT engine only to link them cost a third of a warm run's start-up, so this module
links them itself.  It takes only what LLVM emits for recomp's code on an x86-64 host: an ELF
relocatable object whose allocated sections are code and read-only data (no writable data),
with absolute and PC-relative relocations (``R_X86_64_64``, ``PC64``, ``PC32``, ``PLT32``)
against its own sections and symbols, or against ``externals`` the caller names (addresses and
numbers of this process: the SIGINT handler's tables).  Anything else is ``MalformedObject``;
every offset is checked against the data before anything is written.

The code gets pages of its own, mapped writable only while it is put together: then code pages
are read+execute and data pages read-only.  They are unmapped when the ``Pages`` are collected
(``Compiled.memory`` keeps them while the code is in use).  Unwind tables (``.eh_frame``) are
not loaded: nothing unwinds through recomp's code.
"""

from __future__ import annotations

import ctypes
import mmap
import platform
import struct
import sys
import threading
import time
import weakref
from collections.abc import Iterator, Mapping

from recomp.backend.compiled import REGION_FUNCTION, Compiled
from recomp.backend.objects import (
    SHT_NOBITS,
    SHT_RELA,
    SYMBOL,
    MalformedObject,
    Section,
    function_symbol,
    sections,
    string,
    symbol_table,
)

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHN_UNDEF, SHN_ABS = 0, 0xFFF1
NOT_LOADED = (b".eh_frame",)  # allocated, but only for unwinders
RELA = struct.Struct("<QQq")  # offset, info (symbol << 32 | type), addend
# relocation type -> (the field it writes, relative to the place): 64-bit fields wrap, 32-bit
# ones must hold the value signed
QUAD, WORD = struct.Struct("<Q"), struct.Struct("<i")
RELOCATIONS = {1: (QUAD, False), 24: (QUAD, True),  # R_X86_64_64, R_X86_64_PC64
               2: (WORD, True), 4: (WORD, True)}  # R_X86_64_PC32, R_X86_64_PLT32
MASK64 = (1 << 64) - 1
PAGE = mmap.PAGESIZE
MAX_IMAGE = 1 << 26  # bytes mapped for one object (a region's code is a few KiB, an interpreter's 200)

SUPPORTED = sys.platform.startswith("linux") and platform.machine() == "x86_64"  # else MCJIT links


class Pages:
    """Memory mapped for one object's code; unmapped when collected."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.address = _libc().mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE,
                                    mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        if self.address in (None, ctypes.c_void_p(-1).value):
            raise MemoryError(f"cannot map {size} bytes for code")
        weakref.finalize(self, _libc().munmap, self.address, size)

    def protect(self, offset: int, size: int, prot: int) -> None:
        if size and _libc().mprotect(self.address + offset, size, prot) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed on code pages")


_LINKED: weakref.WeakValueDictionary[str, Compiled] = weakref.WeakValueDictionary()  # by symbol
_LINKING = threading.Lock()


def link(name: str, data: bytes, keep: bool = False, externals: Mapping[str, int] | None = None) -> Compiled:
    """Code made earlier, from its object file (checked by ``recomp.backend.objects``): linked
    here where this module can, else by MCJIT (``keep``: for good, in its permanent arena).  The
    same function is linked once: a second machine of the process shares it."""
    with _LINKING:
        compiled = _LINKED.get(name)
        if compiled is None:
            if SUPPORTED:
                compiled = load(data, name, externals)
            else:
                from recomp.backend.jit import jit

                compiled = jit().load(name, data, keep, dict(externals or {}))
            _LINKED[name] = compiled
        return compiled


def load(data: bytes, name: str, externals: Mapping[str, int] | None = None) -> Compiled:
    """Link the object ``data`` into pages of its own; its function ``name`` is the entry point.
    Raises ``MalformedObject`` for anything this linker does not take (see the module)."""
    start = time.perf_counter()
    found = sections(data)
    loaded = loaded_sections(found)
    if any(found[i].flags & SHF_WRITE for i in loaded):
        raise MalformedObject("the object has writable data")
    # code first, then data from a page boundary: each keeps its own protection
    code = [i for i in loaded if found[i].flags & SHF_EXECINSTR]
    place: dict[int, int] = {}
    end = _lay_out(found, code, place, 0)
    data_start = -(-end // PAGE) * PAGE
    end = _lay_out(found, [i for i in loaded if i not in place], place, data_start)
    if end > MAX_IMAGE:
        raise MalformedObject(f"the object's sections take {end} bytes (at most {MAX_IMAGE})")
    image = bytearray(max(end, 1))
    for i, offset in place.items():
        section = found[i]
        if section.type != SHT_NOBITS:
            image[offset:offset + section.size] = data[section.offset:section.offset + section.size]
    pages = Pages(-(-len(image) // PAGE) * PAGE)
    symbols = _symbols(data, found, place, pages.address, externals or {})
    for table in (s for s in found if s.type == SHT_RELA and s.info in place):
        _relocate(data, table, place[table.info], found[table.info].size, symbols, image, pages.address)
    entry = _function(data, found, place, name)
    ctypes.memmove(pages.address, bytes(image), len(image))
    pages.protect(0, data_start, mmap.PROT_READ | mmap.PROT_EXEC)
    pages.protect(data_start, pages.size - data_start, mmap.PROT_READ)
    address = pages.address + entry
    return Compiled(REGION_FUNCTION(address), address, name, "", time.perf_counter() - start, pages, data)


def _lay_out(found: list[Section], indices: list[int], place: dict[int, int], offset: int) -> int:
    for i in indices:
        align = max(found[i].align, 1)
        if align & (align - 1) or align > PAGE:
            raise MalformedObject("a section has a bad alignment")
        offset = -(-offset // align) * align
        place[i] = offset
        offset += found[i].size
    return offset


def _symbols(data: bytes, found: list[Section], place: dict[int, int], base: int, externals: Mapping[str, int]
             ) -> list[int]:
    """Each symbol's value in the process: an address in the pages, or an external's value."""
    table, strings = symbol_table(found)
    values = []
    for offset in range(table.offset, table.offset + table.size, SYMBOL.size):
        name, _, _, shndx, value, _ = SYMBOL.unpack_from(data, offset)
        if shndx == SHN_UNDEF and name:
            text = _name(data, strings, name)
            if text not in externals:
                raise MalformedObject(f"the object needs {text}, which is not given")
            values.append(externals[text])
        elif shndx == SHN_ABS:
            values.append(value)
        elif shndx in place:
            if value > found[shndx].size:
                raise MalformedObject("a symbol lies outside its section")
            values.append(base + place[shndx] + value)
        elif shndx < len(found):
            values.append(-1)  # (none, or in a section not loaded: a relocation against it is refused)
        else:
            raise MalformedObject("a symbol names no section")
    return values


def _name(data: bytes, strings: Section, index: int) -> str:
    return string(data, strings.offset, strings.size, index).decode("ascii", "replace")


def loaded_sections(found: list[Section]) -> list[int]:
    """The indices of the sections a process maps: allocated, not empty, not for unwinders."""
    return [i for i, s in enumerate(found) if s.flags & SHF_ALLOC and s.size and s.name not in NOT_LOADED]


def relocations(data: bytes, table: Section) -> Iterator[tuple[int, int, int, int]]:
    """The entries of a well-formed ``SHT_RELA`` table (which ``sections`` found within the
    data): (offset, type, symbol index, addend)."""
    if table.entsize != RELA.size or table.size % RELA.size:
        raise MalformedObject("a relocation table is malformed")
    for offset, info, addend in RELA.iter_unpack(data[table.offset:table.offset + table.size]):
        yield offset, info & 0xFFFFFFFF, info >> 32, addend


def _relocate(data: bytes, table: Section, at: int, size: int, symbols: list[int], image: bytearray,
              base: int) -> None:
    """Write a section's relocations into the image (a region's code has a few hundred: the
    helper table's and jump tables' addresses)."""
    count = len(symbols)
    for offset, kind, symbol, addend in relocations(data, table):
        rule = RELOCATIONS.get(kind)
        if rule is None:
            raise MalformedObject(f"relocation type {kind} is not one recomp's code uses")
        field, relative = rule
        if symbol >= count or symbols[symbol] < 0:
            raise MalformedObject("a relocation names no loaded symbol")
        if offset + field.size > size:
            raise MalformedObject("a relocation lies outside its section")
        value = symbols[symbol] + addend - (base + at + offset if relative else 0)
        try:
            field.pack_into(image, at + offset, value if field is WORD else value & MASK64)
        except struct.error:
            raise MalformedObject("a relocation's target is out of reach") from None


def _function(data: bytes, found: list[Section], place: dict[int, int], name: str) -> int:
    """The offset in the pages of the function ``name``, defined in a code section."""
    shndx, value = function_symbol(data, found, name)
    if shndx not in place or not found[shndx].flags & SHF_EXECINSTR or value >= found[shndx].size:
        raise MalformedObject(f"{name} is not a function in the object's code")
    return place[shndx] + value


_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long]
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        _LIBC.append(libc)
    return _LIBC[0]


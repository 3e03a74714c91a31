"""Object files as MCJIT makes and loads them (ELF64, little-endian): their sections, and the
checks an object must pass before it is handed to the linker, so that a malformed one is refused
rather than crashing the process."""

from __future__ import annotations

import platform
import struct
from typing import NamedTuple

ELF_MAGIC = b"\x7fELF"
ET_REL = 1  # a relocatable object, as MCJIT emits them
MACHINES = {"x86_64": 62, "aarch64": 183}  # e_machine of the hosts LLVM targets here
SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOBITS, SHT_REL = 2, 3, 4, 8, 9
STT_FUNC = 2
SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")  # name type flags addr offset size link info align entsize
SYMBOL = struct.Struct("<IBBHQQ")  # name info other shndx value size
RELOCATION_SIZES = {SHT_RELA: 24, SHT_REL: 16}


class Section(NamedTuple):
    name: bytes
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    align: int
    entsize: int


class MalformedObject(ValueError):
    """Bytes that are not an object file the JIT can load; the message says what is wrong."""


def sections(data: bytes) -> list[Section]:
    """The section headers of an ELF64 little-endian relocatable object, each checked to lie
    within the data (``MalformedObject`` otherwise)."""
    if len(data) < 64 or not data.startswith(ELF_MAGIC) or data[4] != 2 or data[5] != 1:
        raise MalformedObject("not an ELF64 little-endian object")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_type != ET_REL or e_machine != MACHINES.get(platform.machine()):
        raise MalformedObject(f"not a relocatable object for this host (type {e_type}, machine {e_machine})")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shentsize != SECTION_HEADER.size or not 0 < shnum < 1 << 12 or shstrndx >= shnum:
        raise MalformedObject("bad section header table")
    if shoff + shnum * shentsize > len(data):
        raise MalformedObject("the section header table runs past the end")
    raw = [SECTION_HEADER.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
    for _, kind, _, _, offset, size, link, _, _, _ in raw:
        if kind != SHT_NOBITS and offset + size > len(data):
            raise MalformedObject("a section runs past the end")
        if link >= shnum:
            raise MalformedObject("a section links to no section")
    names = raw[shstrndx]
    if names[1] != SHT_STRTAB:
        raise MalformedObject("the section names are not a string table")
    return [Section(string(data, names[4], names[5], name), kind, flags, offset, size, link, info, align, entsize)
            for name, kind, flags, _, offset, size, link, info, align, entsize in raw]


def string(data: bytes, table: int, size: int, index: int) -> bytes:
    """The name at ``index`` of the string table at ``table`` (``size`` bytes)."""
    if index >= size:
        raise MalformedObject("a name lies outside its string table")
    end = data.find(b"\0", table + index, table + size)
    if end < 0:
        raise MalformedObject("a name is not terminated")
    return data[table + index:end]


def symbol_table(found: list[Section]) -> tuple[Section, Section]:
    """The object's one symbol table and its string table."""
    symbols = [s for s in found if s.type == SHT_SYMTAB]
    if len(symbols) != 1 or symbols[0].entsize != SYMBOL.size or symbols[0].size % SYMBOL.size:
        raise MalformedObject("no well-formed symbol table")
    strings = found[symbols[0].link]
    if strings.type != SHT_STRTAB:
        raise MalformedObject("the symbol names are not a string table")
    return symbols[0], strings


def check_object(data: bytes, symbol: str) -> None:
    """Raise ``MalformedObject`` unless ``data`` is an object MCJIT will load that defines the
    function ``symbol``: well-formed section headers, symbol and relocation tables within bounds,
    and the symbol defined in a section of the object."""
    found = sections(data)
    count = len(found)
    table, _ = symbol_table(found)
    entries = table.size // SYMBOL.size
    for section in found:
        if section.type in RELOCATION_SIZES:
            if section.entsize != RELOCATION_SIZES[section.type] or section.size % section.entsize:
                raise MalformedObject("a relocation table is malformed")
            if section.link != found.index(table) or section.info >= count:
                raise MalformedObject("a relocation table names the wrong sections")
            for offset in range(section.offset, section.offset + section.size, section.entsize):
                info, = struct.unpack_from("<Q", data, offset + 8)
                if info >> 32 >= entries:
                    raise MalformedObject("a relocation names no symbol")
    function_symbol(data, found, symbol)


def function_symbol(data: bytes, found: list[Section], symbol: str) -> tuple[int, int]:
    """The section index and offset of the function ``symbol``, defined in a section of the
    object (``MalformedObject`` otherwise)."""
    table, strings = symbol_table(found)
    wanted = symbol.encode()
    for offset in range(table.offset, table.offset + table.size, SYMBOL.size):
        name, info, _, shndx, value, _ = SYMBOL.unpack_from(data, offset)
        if name and string(data, strings.offset, strings.size, name) == wanted:
            if info & 0xF != STT_FUNC or not 0 < shndx < len(found):
                raise MalformedObject(f"{symbol} is not a function defined in the object")
            return shndx, value
    raise MalformedObject(f"the object does not define {symbol}")


def text_size(data: bytes) -> int:
    """Size of the code section of an object (a region's only function): ``.text``, or
    ``.ltext`` under the large code model JIT target machines use."""
    for section in sections(data):
        if section.name in (b".text", b".ltext") and section.size:
            return section.size
    raise MalformedObject("object has no code section")

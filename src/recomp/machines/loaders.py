"""Program file formats: what a file holds (bytes and where they go, and maybe where to start),
recognised by content or named: raw images, Commodore ``.prg`` (a 2-byte load address first),
Intel HEX, and cc65's ``sim65`` images (a 12-byte header)."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

SIM65_SIGNATURE = b"sim65"
SIM65_HEADER = 12  # bytes
SIM65_CPUS = {0: "6502", 1: "65c02"}  # a sim65 header's CPU byte -> the CPU it names


class Format(StrEnum):
    raw = "raw"
    prg = "prg"
    ihex = "ihex"
    sim65 = "sim65"


class FormatError(ValueError):
    """A file that does not hold what its format says (one line, for the user)."""


class Sim65Header(NamedTuple):
    version: int
    cpu: int
    sp_address: int  # the zero-page address of cc65's C stack pointer
    load: int
    reset: int


class Image:
    """What a program file puts in memory: ``(address, bytes)`` segments (address None: "load it
    where asked"), where it starts if the file says (``entry``), and a sim65 image's header.
    (A plain class: see ``recomp.ir.core``.)"""

    def __init__(self, format: Format, segments: list[tuple[int | None, bytes]] | None = None,
                 entry: int | None = None, sim65: Sim65Header | None = None) -> None:
        self.format = format
        self.segments: list[tuple[int | None, bytes]] = [] if segments is None else segments
        self.entry = entry
        self.sim65 = sim65


NAMED = {".prg": Format.prg, ".hex": Format.ihex, ".ihx": Format.ihex, ".ihex": Format.ihex}  # by the name's end


def detect(data: bytes, name: str) -> Format:
    """The format of a file by its content (sim65's signature, Intel HEX's record syntax), then
    its name (``.prg``, ``.hex``: a damaged HEX file is then an error, not raw bytes run); raw
    otherwise."""
    if data.startswith(SIM65_SIGNATURE):
        return Format.sim65
    if data[:1] == b":" and _looks_like_ihex(data):
        return Format.ihex
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    return NAMED.get(suffix, Format.raw)


def _looks_like_ihex(data: bytes) -> bool:
    try:
        lines = data.decode("ascii").split()
    except UnicodeDecodeError:
        return False
    hexdigits = set("0123456789abcdefABCDEF")
    return bool(lines) and all(line[0] == ":" and set(line[1:]) <= hexdigits for line in lines)


def parse(data: bytes, fmt: Format) -> Image:
    return _PARSERS[fmt](data)


def _raw(data: bytes) -> Image:
    return Image(Format.raw, [(None, data)])


def _prg(data: bytes) -> Image:
    if len(data) < 3:
        raise FormatError("a .prg file holds a 2-byte load address and at least one byte")
    return Image(Format.prg, [(data[0] | data[1] << 8, data[2:])])


def _ihex(data: bytes) -> Image:
    """Intel HEX: data (00), end of file (01), extended segment (02) and linear (04) addresses,
    start addresses (03, 05) as the entry; every record's checksum checked."""
    image = Image(Format.ihex)
    base = 0
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise FormatError("Intel HEX files are ASCII text") from None
    for number, line in enumerate(text.split(), 1):
        try:
            record = bytes.fromhex(line[1:])
        except ValueError:
            raise FormatError(f"line {number}: not an Intel HEX record") from None
        if line[0] != ":" or len(record) < 5 or len(record) != record[0] + 5:
            raise FormatError(f"line {number}: not an Intel HEX record")
        if sum(record) & 0xFF:
            raise FormatError(f"line {number}: checksum mismatch")
        length, offset, kind, payload = record[0], record[1] << 8 | record[2], record[3], record[4:4 + record[0]]
        if kind == 0:
            image.segments.append((base + offset, payload))
        elif kind == 1:
            break
        elif kind in (2, 4) and length == 2:
            base = (payload[0] << 8 | payload[1]) << (4 if kind == 2 else 16)
        elif kind in (3, 5) and length == 4:
            value = int.from_bytes(payload, "big")
            image.entry = ((value >> 16) << 4) + (value & 0xFFFF) if kind == 3 else value
        else:
            raise FormatError(f"line {number}: unknown Intel HEX record type {kind:02X}")
    if not image.segments:
        raise FormatError("the Intel HEX file holds no data")
    return image


def _sim65(data: bytes) -> Image:
    if not data.startswith(SIM65_SIGNATURE):
        raise FormatError("not a sim65 image (no 'sim65' header)")
    if len(data) < SIM65_HEADER:
        raise FormatError(f"a sim65 header is {SIM65_HEADER} bytes; this file has {len(data)}")
    header = Sim65Header(data[5], data[6], data[7], data[8] | data[9] << 8, data[10] | data[11] << 8)
    if header.version != 2:
        raise FormatError(f"sim65 header version {header.version}; recomp reads version 2")
    if header.cpu not in SIM65_CPUS:
        raise FormatError(f"sim65 header names CPU type {header.cpu}, which sim65 does not know")
    if len(data) == SIM65_HEADER:
        raise FormatError("the sim65 image holds no program")
    return Image(Format.sim65, [(header.load, data[SIM65_HEADER:])], header.reset, header)


_PARSERS = {Format.raw: _raw, Format.prg: _prg, Format.ihex: _ihex, Format.sim65: _sim65}


# --- files that are no program ----------------------------------------------------------------
ASSEMBLY_SUFFIXES = (".a65", ".asm", ".inc")  # and .s, which may be TST27 assembly


def _text(data: bytes) -> bool:
    """Entirely printable UTF-8 text (line breaks and tabs allowed)."""
    try:
        return "".join(data.decode("utf-8").split()).isprintable() and bool(data.strip())
    except UnicodeDecodeError:
        return False


def _tst27_source(data: bytes) -> bool:
    """Text with a line of TST27 assembly: labels, then one of its mnemonics (which no 6502
    assembler has)."""
    from recomp.frontends.tst27 import BY_MNEMONIC

    line = rf"^\s*(?:\w+:\s*)*(?:{'|'.join(BY_MNEMONIC)})(?=[ \t;]|$)"
    return re.search(line, data.decode(), re.IGNORECASE | re.MULTILINE) is not None


def _tst27_image(data: bytes) -> bool:
    """TST27 machine code: instruction after instruction to the file's end, the last an END."""
    from recomp.frontends.base import DecodeError
    from recomp.frontends.tst27 import MEMORY_SIZE, Tst27

    cpu, addr, insn = Tst27(), 0, None
    while 0 < len(data) <= MEMORY_SIZE and addr < len(data):
        try:
            insn = cpu.decode(data, addr, len(data))
        except DecodeError:
            return False
        addr = insn.next
    return insn is not None and insn.mnemonic == "END"


class Misfit(NamedTuple):
    """A kind of file that is no program: what it looks like, the test (of its name's suffix,
    its content and the CPU family it would run on), what to do instead (``{path}``; ``{stem}``:
    the path without its suffix), and whether it takes a failure to say so (a run of it that
    would fail anyway)."""

    looks: str
    test: Callable[[str, bytes, str], bool]
    instead: str
    failing: bool


BUILD_C = "build it with cl65 -t sim6502 -O -o {stem}.sim {path}, then recomp run {stem}.sim"
ASSEMBLE = ("assemble it with xa (xa -o {stem}.bin {path}) or ca65 and ld65 (cc65), then recomp run "
            "--load ADDR --entry ADDR {stem}.bin")
RUN_TST27 = "run it with recomp run --cpu tst27 {path}"
MISFITS = (
    Misfit("C source", lambda suffix, data, family: suffix == ".c" and _text(data), BUILD_C, False),
    Misfit("6502 assembly source", lambda suffix, data, family: suffix in ASSEMBLY_SUFFIXES and _text(data),
           ASSEMBLE, False),
    Misfit("TST27 assembly source", lambda suffix, data, family: (
        suffix == ".s" and family != "tst27" and _text(data) and _tst27_source(data)),
        RUN_TST27, True),
    Misfit("6502 assembly source", lambda suffix, data, family: (
        suffix == ".s" and _text(data) and not _tst27_source(data)), ASSEMBLE, True),
    Misfit("a TST27 program", lambda suffix, data, family: family != "tst27" and _tst27_image(data),
           RUN_TST27, True),
    Misfit("text, not a program", lambda suffix, data, family: suffix != ".s" and _text(data),
           "give a raw image, .prg, Intel HEX, sim65 image or TST27 assembly (.s)", True),
)


def misfit(path: Path, data: bytes, family: str, failing: bool) -> str | None:
    """What a file that is no program for a ``family`` CPU looks like and what to do instead,
    in one line, or None.  Only strong evidence counts: source text by its name, or (when the
    run would fail anyway: ``failing``) text or another CPU's code; never a sim65 image or
    Intel HEX (which is text)."""
    suffix = path.suffix.lower()
    if detect(data[:64], "") != Format.raw:
        return None
    for kind in MISFITS:
        if (failing or not kind.failing) and kind.test(suffix, data, family):
            return f"{path} looks like {kind.looks}: " + kind.instead.format(path=path, stem=path.with_suffix(""))
    return None

"""Putting programs into a machine as ``recomp run`` (and later the monitor) does: read files
without reading more than memory holds, recognise their format, place their bytes (programs,
extra files, ROMs, pokes), reject overlaps and overflows with one line, then start the CPU."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from recomp.frontends import DEFAULT_CPU, Frontend, get_frontend
from recomp.machines.base import MachineType
from recomp.machines.loaders import SIM65_CPUS, Format, FormatError, Image, detect, misfit, parse
from recomp.runtime.emulator import Emulator
from recomp.runtime.errors import ConfigError, FileError, GuestFault, LoadError
from recomp.runtime.user_files import read_file

MAX_TEXT_BYTES = 1 << 24  # assembly or Intel HEX text larger than this is no program for any guest here


class Placed(NamedTuple):
    """A file to put in memory: at ``at`` (None: where its format says, else the machine's
    load address); ``rom``: read-only."""

    path: Path
    at: int | None = None
    rom: bool = False


class Boot:
    """Everything placed in memory before a run, and where it starts: the program, its
    ``format`` (None: recognised by content), where it goes (``load_at``; None: its format's
    address, or the machine's), the files of --load FILE@ADDR and --rom FILE@ADDR, the pokes,
    the entry; ``lenient``: with no entry and no reset vector, start where the program was put
    (a monitor); ``placed``, filled in by ``boot``: what it put where, as (start, end, what).
    (A plain class: see ``recomp.ir.core``.)"""

    def __init__(self, program: Path | None = None, format: Format | None = None, load_at: int | None = None,
                 files: list[Placed] | None = None, pokes: list[tuple[int, bytes]] | None = None,
                 entry: int | None = None, lenient: bool = False) -> None:
        self.program = program
        self.format = format
        self.load_at = load_at
        self.files: list[Placed] = [] if files is None else files
        self.pokes: list[tuple[int, bytes]] = [] if pokes is None else pokes
        self.entry = entry
        self.lenient = lenient
        self.placed: list[tuple[int, int, str]] = []


def too_large(path: Path, limit: int, room: str) -> LoadError:
    """The error for a file of more than ``limit`` bytes: its size if it has one."""
    try:
        info = os.stat(path)
        length = f"{info.st_size} bytes" if stat.S_ISREG(info.st_mode) else f"more than {limit} bytes"
    except OSError:
        length = f"more than {limit} bytes"
    return LoadError(f"{path}: the program is {length}; {room}")


def choose_frontend(program: Path | None, frontend: str | None) -> str:
    """The guest CPU: as asked, else TST27 for a ``.s`` file (TST27 assembly is the only source
    recomp assembles), else the NMOS 6502 (a sim65 image may then name another: ``image_cpu``)."""
    if frontend is not None:
        return frontend
    return "tst27" if program is not None and program.suffix == ".s" else DEFAULT_CPU


def image_cpu(image: Image, default: Frontend) -> Frontend:
    """The CPU a program file names (a sim65 header's CPU byte: cl65 -t sim65c02 sets the
    65C02), else ``default``."""
    if image.sim65 is None or default.family != "6502":
        return default
    return get_frontend(SIM65_CPUS[image.sim65.cpu])


def program_image(path: Path, fmt: Format | None, frontend: Frontend, memory_size: int, load_at: int) -> Image:
    """A program file as an ``Image``.  ``.s`` files are TST27 assembly; a raw binary must fit in
    memory from ``load_at``; other formats place themselves."""
    assemble = frontend.assemble
    if path.suffix == ".s" and fmt is None:
        source = read_file(path, MAX_TEXT_BYTES)
        if len(source) > MAX_TEXT_BYTES:
            raise too_large(path, MAX_TEXT_BYTES, f"assembly sources are at most {MAX_TEXT_BYTES}")
        problem = "recomp assembles TST27 only: assemble other sources first and run the image"
        if assemble is not None:
            try:
                return Image(Format.raw, [(None, assemble(source.decode("utf-8", "replace")))])
            except ValueError as error:
                problem = str(error)
        raise LoadError(misfit(path, source, frontend.family, failing=True) or f"{path}: {problem}")
    limit = 4 * memory_size  # no format here takes more (Intel HEX text is 2.8 bytes a byte)
    data = read_file(path, limit)
    hint = misfit(path, data, frontend.family, failing=False) if fmt is None else None
    if hint is not None:
        raise LoadError(hint)
    kind = fmt if fmt is not None else detect(data[:64], path.name)
    room = memory_size - load_at
    if kind == Format.raw and len(data) > room:
        raise too_large(path, room, f"only {room} fit in memory from {load_at:#06x}")
    if len(data) > limit:
        raise too_large(path, limit, f"a {kind} file is at most {limit}")
    try:
        return parse(data, kind)
    except FormatError as error:
        raise LoadError(f"{path}: {error}") from None


def boot(machine: MachineType, emulator: Emulator, image: Image | None, spec: Boot) -> None:
    """Place the program, the extra files and ROMs, and the pokes; then start the CPU."""
    memory_size = emulator.guest.memory_size
    spans: list[tuple[int, int, str, int]] = []  # (start, end, what, which file) of everything placed

    def place(data: bytes, at: int, what: str, source: int, rom: bool = False, poke: bool = False) -> None:
        end = at + len(data)
        if not data:
            raise LoadError(f"{what}: the program is empty")
        if not 0 <= at < memory_size:
            raise LoadError(f"{what}: load address {at:#06x} is outside memory (0x0000..{memory_size - 1:#06x})")
        if end > memory_size:
            raise LoadError(f"{what}: the program is {len(data)} bytes; only {memory_size - at} fit in memory "
                            f"from {at:#06x}")
        for start, stop, other, placed_from in spans:
            patch = poke and not other.startswith("ROM ")  # a poke patches RAM; files never overlap (a
            if at < stop and start < end and not patch and placed_from != source:  # file's own parts may)
                where = emulator.frontend.format_address
                raise LoadError(f"{what} at {where(at)}..{where(end - 1)} overlaps {other} at "
                                f"{where(start)}..{where(stop - 1)}")
        spans.append((at, end, f"ROM {what}" if rom else what, source))
        if rom:
            emulator.machine.map_rom(data, at, f"ROM {what}")
        else:
            emulator.load(data, at)

    for source, placed in enumerate(spec.files):
        extra = program_image(placed.path, None, emulator.frontend, memory_size, placed.at or 0)
        for at, chunk in extra.segments:
            where = at if at is not None else placed.at if placed.at is not None else machine.load_address
            place(chunk, where, str(placed.path), source, placed.rom)
    if image is not None:
        for at, chunk in image.segments:
            where = at if at is not None else spec.load_at if spec.load_at is not None else machine.load_address
            place(chunk, where, str(spec.program), -1)
    for at, data in spec.pokes:
        place(data, at, f"--poke {at:#06x}", -2, poke=True)
    spec.placed = [(start, end, what) for start, end, what, _ in spans]
    entry = spec.entry
    unsaid = entry is None and (image is None or image.entry is None) and machine.default_entry is None
    if spec.lenient and unsaid and _vector_missing(emulator):
        entry = spans[0][0] if spans else 0
    name = spec.program if spec.program is not None else spec.files[0].path if spec.files else "recomp"
    try:
        machine.start(emulator, image, entry)
    except (LoadError, ConfigError) as error:
        hint = misfit_hint(spec.program, emulator)
        raise LoadError(hint) if hint else type(error)(f"{name}: {error}") from None
    pc = emulator.state.pc
    if not spec.lenient and pc not in emulator.hooks and not any(start <= pc < stop for start, stop, *_ in spans):
        where = emulator.frontend.format_address
        placed = ", ".join(f"{where(start)}..{where(stop - 1)}" for start, stop, *_ in spans)
        hint = misfit_hint(spec.program, emulator)
        raise LoadError(hint) if hint else GuestFault(
            pc, f"{name}: execution would start at {where(pc)}, where nothing was loaded (loaded: {placed}): "
                f"is --load missing, or --entry wrong? (in the shell, quote addresses: '$0200')")


def misfit_hint(path: Path | None, emulator: Emulator) -> str | None:
    """For a program that cannot start or ends in a guest fault: the line saying what its file
    looks like if it looks like no program (see ``misfit``), else None."""
    if path is None:
        return None
    try:
        data = read_file(path, emulator.guest.memory_size)
    except FileError:
        return None
    return misfit(path, data, emulator.frontend.family, failing=True)


def _vector_missing(emulator: Emulator) -> bool:
    """The reset vector reads $0000 or $FFFF: it holds no start address."""
    return emulator.guest.reset_vector is not None and emulator.machine.reset_address() in (
        0, emulator.guest.memory_size - 1)

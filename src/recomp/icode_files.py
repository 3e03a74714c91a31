"""Icode files as ``recomp opt`` and the optimizer's text tests (``tests/opt``) read them, in the
manner of LLVM's ``opt`` tests: a region, and in ``;`` comment lines what the passes may assume.

    ; passes: liveness, dce          the passes to run, in order ("none": none; absent: the pipeline)
    ; code: 0x0200-0x0210            bytes the region was lifted from (absent: unknown)
    ; devices: 0xf001 0xf004         device addresses ("none": no device; absent: unknown)
    ; entry: D=0                     registers and flags known at the entry
    region mos6502 @0x0200           the input region
    ...
    ;; successor 0x0300              the code at a static exit (as many as needed)
    ;; expect                        what the passes should make of it (tests only)

The guest is the region's (``mos6502`` or ``tst27``).  ``recomp inspect --stage icode`` writes
them (``format_icode``): ``recomp opt`` of one makes what its ``--stage opt`` shows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recomp.frontends import FRONTENDS, Frontend, get_frontend
from recomp.ir import VerifyError, format_region, parse, verify
from recomp.ir.core import Region
from recomp.opt import PIPELINE, Context


def frontend_guests() -> dict[str, Frontend]:
    """Every frontend by its guest's name, as a region's header gives it (``region wdc65c02 @...``)."""
    frontends = [get_frontend(name) for name in FRONTENDS]
    return {frontend.guest.name: frontend for frontend in frontends}


@dataclass
class IcodeFile:
    region: Region
    passes: list[str]
    context: Context
    expected: str  # the text after ";; expect" ("" if none)


def _number(text: str, where: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number") from None


def _addresses(text: str, where: str, size: int) -> frozenset[int]:
    """``0x0200-0x0210 0xf001``: the addresses, each in memory (``size`` bytes)."""
    if text.strip() == "none":
        return frozenset()
    found: set[int] = set()
    for word in text.replace(",", " ").split():
        low, _, high = word.partition("-")
        first, last = _number(low, where), _number(high or low, where)
        if not 0 <= first <= last < size:
            raise ValueError(f"{where}: {word} is no span of memory (0..{size - 1:#x})")
        found.update(range(first, last + 1))
    return frozenset(found)


def read_icode(text: str) -> IcodeFile:
    """Parse an icode file and verify its regions (``ValueError`` with a line of explanation if
    it is not one)."""
    sections = re.split(r"^;; ", text, flags=re.MULTILINE)
    source = sections[0]
    directives = dict(re.findall(r"^; (\w+): (.*)$", source, flags=re.MULTILINE))
    region = parse(source)
    guests = frontend_guests()
    if region.guest not in guests:
        raise ValueError(f"unknown guest {region.guest!r} (choose from {', '.join(guests)})")
    guest = guests[region.guest].guest
    successors: dict[int, Region] = {}
    expected = ""
    for section in sections[1:]:
        title, _, body = section.partition("\n")
        words = title.split()
        if words[:1] == ["successor"]:
            if len(words) != 2:
                raise ValueError(f";; {title}: expected ';; successor ADDR'")
            successors[_number(words[1], ";; successor")] = parse(body)
        elif title.strip() == "expect":
            expected = body
    verify(region, guest)  # (the passes take a region as the lifter makes it)
    for addr, successor in successors.items():
        try:
            verify(successor, guest)
        except VerifyError as error:
            raise ValueError(f";; successor {addr:#06x}: {error}") from None
    entry = {name: _number(value, "; entry") for name, value in re.findall(r"(\w+)=(\w+)", directives.get("entry", ""))}
    context = Context(
        guest,
        _addresses(directives["code"], "; code", guest.memory_size) if "code" in directives else None,
        _addresses(directives["devices"], "; devices", guest.memory_size) if "devices" in directives else None,
        lambda addr: (successors[addr], set()) if addr in successors else None,
        entry)
    listed = directives.get("passes", ", ".join(PIPELINE))
    passes = [] if listed.strip() == "none" else [p.strip() for p in listed.split(",") if p.strip()]
    return IcodeFile(region, passes, context, expected)


def _spans(addresses: Iterable[int]) -> str:
    """Addresses as ``; code:`` and ``; devices:`` list them: ``0x0200-0x0210 0xf001`` ("none")."""
    runs: list[list[int]] = []
    for addr in sorted(addresses):
        if runs and addr == runs[-1][1] + 1:
            runs[-1][1] = addr
        else:
            runs.append([addr, addr])
    return " ".join(f"{low:#06x}" if low == high else f"{low:#06x}-{high:#06x}" for low, high in runs) or "none"


def format_icode(region: Region, passes: Sequence[str], context: Context) -> str:
    """``region`` as an icode file: the ``passes`` to run and what ``context`` lets them assume,
    the code after each of its static exits included (what ``read_icode`` reads back)."""
    lines = [f"; passes: {', '.join(passes) or 'none'}"]
    if context.code is not None:
        lines.append(f"; code: {_spans(context.code)}")
    if context.devices is not None:
        lines.append(f"; devices: {_spans(context.devices)}")
    if context.entry:
        lines.append("; entry: " + " ".join(f"{name}={value}" for name, value in context.entry.items()))
    text = "\n".join(lines) + "\n" + format_region(region)
    for addr in region.static_exits():
        successor = context.successor(addr)
        if successor is not None:
            text += f";; successor {addr:#06x}\n" + format_region(successor)
    return text

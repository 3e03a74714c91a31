"""Icode files as ``recomp opt`` and the optimizer's text tests (``tests/opt``) read them, in the
manner of LLVM's ``opt`` tests: a region, and in ``;`` comment lines what the passes may assume.

    ; passes: liveness, dce          the passes to run, in order (absent: the pipeline)
    ; code: 0x0200-0x0210            bytes the region was lifted from (absent: unknown)
    ; devices: 0xf001 0xf004         device addresses ("none": no device; absent: unknown)
    ; entry: D=0                     registers and flags known at the entry
    region mos6502 @0x0200           the input region
    ...
    ;; successor 0x0300              the code at a static exit (as many as needed)
    ;; expect                        what the passes should make of it (tests only)

The guest is the region's (``mos6502`` or ``tst27``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from recomp.frontends import FRONTENDS, Frontend, get_frontend
from recomp.ir import parse
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


def _addresses(text: str) -> frozenset[int]:
    if text.strip() == "none":
        return frozenset()
    found: set[int] = set()
    for word in text.replace(",", " ").split():
        low, _, high = word.partition("-")
        found.update(range(int(low, 0), int(high or low, 0) + 1))
    return frozenset(found)


def read_icode(text: str) -> IcodeFile:
    """Parse an icode file (``ValueError`` with a line of explanation if it is not one)."""
    sections = re.split(r"^;; ", text, flags=re.MULTILINE)
    source = sections[0]
    directives = dict(re.findall(r"^; (\w+): (.*)$", source, flags=re.MULTILINE))
    region = parse(source)
    guests = frontend_guests()
    if region.guest not in guests:
        raise ValueError(f"unknown guest {region.guest!r} (choose from {', '.join(guests)})")
    successors: dict[int, Region] = {}
    expected = ""
    for section in sections[1:]:
        title, _, body = section.partition("\n")
        if title.startswith("successor"):
            successors[int(title.split()[1], 0)] = parse(body)
        elif title.strip() == "expect":
            expected = body
    entry = {name: int(value, 0) for name, value in re.findall(r"(\w+)=(\w+)", directives.get("entry", ""))}
    context = Context(
        guests[region.guest].guest,
        _addresses(directives["code"]) if "code" in directives else None,
        _addresses(directives["devices"]) if "devices" in directives else None,
        lambda addr: (successors[addr], set()) if addr in successors else None,
        entry)
    passes = [p.strip() for p in directives["passes"].split(",") if p.strip()] if "passes" in directives \
        else list(PIPELINE)
    return IcodeFile(region, passes, context, expected)

"""Optimizer passes on small icode inputs, as text: see tests/opt/README.md for the format."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from recomp.frontends import get_frontend
from recomp.ir import format_region, parse, verify
from recomp.opt import Context, optimize

CASES = sorted((Path(__file__).parent / "opt").glob("*.icode"))
GUESTS = {"mos6502": "6502", "tst27": "tst27"}


def _addresses(text: str) -> frozenset[int] | None:
    if text == "none":
        return frozenset()
    found: set[int] = set()
    for word in text.replace(",", " ").split():
        low, _, high = word.partition("-")
        found.update(range(int(low, 0), int(high or low, 0) + 1))
    return frozenset(found)


def load_case(path: Path) -> tuple[list[str], Context, str, str]:
    """The passes, the context, the input text and the expected text of a test file."""
    sections = re.split(r"^;; ", path.read_text(), flags=re.MULTILINE)
    header, source = sections[0], sections[0]
    directives = dict(re.findall(r"^; (\w+): (.*)$", header, flags=re.MULTILINE))
    guest = get_frontend(GUESTS[parse(source).guest]).guest
    successors = {}
    expected = ""
    for section in sections[1:]:
        title, _, body = section.partition("\n")
        if title.startswith("successor"):
            successors[int(title.split()[1], 0)] = parse(body)
        elif title == "expect":
            expected = body
    entry = {name: int(value, 0) for name, value in re.findall(r"(\w+)=(\w+)", directives.get("entry", ""))}
    context = Context(
        guest,
        _addresses(directives["code"]) if "code" in directives else None,
        _addresses(directives["devices"]) if "devices" in directives else None,
        lambda addr: (successors[addr], set()) if addr in successors else None,
        entry)
    passes = [p.strip() for p in directives["passes"].split(",")]
    return passes, context, source, expected


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_pass_output(path: Path) -> None:
    passes, context, source, expected = load_case(path)
    region = parse(source)
    verify(region, context.guest)
    optimize(region, context, passes)
    got = format_region(region)
    if os.environ.get("RECOMP_UPDATE_GOLDEN"):
        text = path.read_text()
        path.write_text(text[:text.index(";; expect\n") + len(";; expect\n")] + got)
        expected = got
    assert got == expected


def test_every_pass_has_a_text_test():
    from recomp.opt import PASSES

    tested = set()
    for path in CASES:
        tested.update(load_case(path)[0])
    assert tested == set(PASSES)

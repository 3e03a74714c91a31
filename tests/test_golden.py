"""The lifter's and optimizer's output on the demo programs must not drift from ir/tst27/."""

from __future__ import annotations

import copy
import difflib
import os

import pytest

from conftest import EXAMPLES, ROOT
from recomp.frontends.tst27 import GUEST, assemble
from recomp.ir import format_region, parse
from recomp.opt import optimize
from recomp.runtime import Emulator

GOLDEN = ROOT / "ir" / "tst27"


def lifted(name: str):
    emu = Emulator("tst27", engine="interp")
    emu.load(assemble((EXAMPLES / "tst27" / f"{name}.s").read_text()))
    return emu.lift(0)


def check(path, text: str) -> None:
    if os.environ.get("RECOMP_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                        str(path), "now"))
    assert text == expected, f"golden lift drifted (RECOMP_UPDATE_GOLDEN=1 to accept):\n{diff}"


@pytest.mark.parametrize("name", ["test1", "test2"])
def test_lift_matches_golden(name):
    check(GOLDEN / f"{name}.icode", format_region(lifted(name)))


@pytest.mark.parametrize("name", ["test1", "test2"])
def test_optimized_lift_matches_golden(name):
    region = copy.deepcopy(lifted(name))
    optimize(region, GUEST)
    check(GOLDEN / f"{name}.opt.icode", format_region(region))


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.icode")), ids=lambda p: p.name)
def test_golden_text_round_trips(path):
    text = path.read_text()
    assert format_region(parse(text)) == text

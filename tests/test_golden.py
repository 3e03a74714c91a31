"""The lifter's and optimizer's output on sample code must not drift from the golden text in ir/:
the TST27 demo programs, the 6502 examples, and regions of Klaus Dormann's functional test.
The optimized text is what ``run`` compiles (``recomp.inspection.inspect_region``)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, TESTDATA, missing_testdata
from recomp.frontends.tst27 import assemble
from recomp.inspection import inspect_region
from recomp.ir import format_region, parse
from recomp.runtime import Emulator

GOLDEN = ROOT / "ir"
FUNCTIONAL = TESTDATA / "6502" / "6502_functional_test.bin"


def _tst27(name: str) -> Emulator:
    emu = Emulator("tst27", engine="interp")
    emu.load(assemble((EXAMPLES / "tst27" / f"{name}.s").read_text()))
    return emu


def _mos6502(path: Path, at: int) -> Emulator:
    emu = Emulator("6502", engine="interp")
    emu.load(path.read_bytes(), at=at)
    return emu


# golden file stem -> (machine, region address)
SAMPLES = {
    "tst27/test1": (lambda: _tst27("test1"), 0),
    "tst27/test2": (lambda: _tst27("test2"), 0),
    "6502/hello": (lambda: _mos6502(EXAMPLES / "6502" / "hello.bin", 0x0200), 0x0200),
    "6502/upcase": (lambda: _mos6502(EXAMPLES / "6502" / "upcase.bin", 0x0200), 0x0200),
    # test PHA/PLA: flags loaded through the stack (set_a), checked through it (tst_a)
    "6502/functional-0782": (lambda: _mos6502(FUNCTIONAL, 0), 0x0782),
    # chkadd: binary ADC and SBC, results and flags checked through the stack
    "6502/functional-35a2": (lambda: _mos6502(FUNCTIONAL, 0), 0x35A2),
}


def check(path: Path, text: str) -> None:
    if os.environ.get("RECOMP_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    expected = path.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                        str(path), "now"))
    assert text == expected, f"golden lift drifted (RECOMP_UPDATE_GOLDEN=1 to accept):\n{diff}"


@pytest.mark.parametrize("stem", SAMPLES)
def test_lifts_match_golden(stem):
    make, at = SAMPLES[stem]
    if stem.startswith("6502/functional") and not FUNCTIONAL.exists():
        pytest.skip(missing_testdata(FUNCTIONAL))
    view = inspect_region(make(), at)
    check(GOLDEN / f"{stem}.icode", view.icode())
    check(GOLDEN / f"{stem}.opt.icode", view.opt())


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*/*.icode")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_text_round_trips(path):
    text = path.read_text()
    assert format_region(parse(text)) == text

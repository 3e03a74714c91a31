"""The committed example images are exactly what their sources assemble to, and every example
program's regions go through ``recomp inspect`` and ``recomp opt`` alike."""

from __future__ import annotations

import re

import pytest

from conftest import EXAMPLES, recomp_in_process
from recomp.frontends.tst27 import assemble
from recomp.inspection import STAGES


@pytest.mark.parametrize("source", sorted((EXAMPLES / "tst27").glob("*.s")), ids=lambda p: p.name)
def test_tst27_images_match_sources(source):
    assert source.with_suffix(".bin").read_bytes() == assemble(source.read_text())


# every example program, with what ``recomp inspect`` needs to find its start
INSPECTED = {
    **{path: ["--load", "0x200", "--entry", "0x200"] for path in sorted((EXAMPLES / "6502").glob("*.bin"))},
    EXAMPLES / "apple1" / "echo.bin": ["--load", "0xff00"],
    EXAMPLES / "easy6502" / "snake.bin": ["--load", "0x600", "--entry", "0x600"],
    **{path: [] for path in sorted((EXAMPLES / "cc65").glob("*.sim"))},
    **{path: ["--cpu", "tst27"] for path in sorted((EXAMPLES / "tst27").glob("*.bin"))},
    **{path: [] for path in sorted((EXAMPLES / "tst27").glob("*.s"))},
}


@pytest.mark.parametrize("program", INSPECTED, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_inspected_icode_is_what_opt_optimizes(program, tmp_path):
    """``inspect --stage icode`` writes all ``recomp opt`` needs (the passes, the code, devices and
    entry facts they may assume, the code after the exits): opt of it prints what ``--stage opt``
    shows.  ``--stage all`` heads each stage on a line of its own."""
    status, shown, errors = recomp_in_process("inspect", *INSPECTED[program], str(program), "--stage", "all",
                                              "--plain")
    assert status == 0, errors
    assert len(re.findall(r"^;; ---- ", shown, re.MULTILINE)) == shown.count(";; ---- ") == len(STAGES)
    stages = dict(re.findall(r"^;; ---- (\S+) ----\n(.*?)(?=^;; ---- |\Z)", shown, re.MULTILINE | re.DOTALL))
    assert list(stages) == list(STAGES)
    assert re.match(r"; passes: .*\n; code: 0x", stages["icode"])
    icode = tmp_path / "region.icode"
    icode.write_text(stages["icode"])
    status, optimized, errors = recomp_in_process("opt", str(icode))
    assert status == 0, errors
    assert optimized == stages["opt"]

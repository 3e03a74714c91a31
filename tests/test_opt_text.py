"""Optimizer passes on small icode inputs, as text: see tests/opt/README.md for the format."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recomp.icode_files import read_icode
from recomp.ir import format_region, verify
from recomp.opt import optimize

CASES = sorted((Path(__file__).parent / "opt").glob("*.icode"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_pass_output(path: Path) -> None:
    case = read_icode(path.read_text())
    verify(case.region, case.context.guest)
    optimize(case.region, case.context, case.passes)
    got = format_region(case.region)
    if os.environ.get("RECOMP_UPDATE_GOLDEN"):
        text = path.read_text()
        path.write_text(text[:text.index(";; expect\n") + len(";; expect\n")] + got)
        return
    assert got == case.expected


def test_every_pass_has_a_text_test():
    from recomp.opt import PASSES

    tested = set()
    for path in CASES:
        tested.update(read_icode(path.read_text()).passes)
    assert tested == set(PASSES)

"""The committed example images are exactly what their sources assemble to."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES
from recomp.frontends.tst27 import assemble


@pytest.mark.parametrize("source", sorted((EXAMPLES / "tst27").glob("*.s")), ids=lambda p: p.name)
def test_tst27_images_match_sources(source):
    assert source.with_suffix(".bin").read_bytes() == assemble(source.read_text())

"""Where the shipped examples and benchmarks live, for both a wheel and a source checkout.

A wheel carries ``examples/`` and ``benchmarks/`` inside the package as ``recomp/data/`` (see the
force-include in pyproject.toml); an editable or development install reads them from the repository.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    """The path of a shipped data file, e.g. ``data_path("examples", "tst27", "test1.s")``."""
    packaged = Path(str(files("recomp"))) / "data"
    if packaged.is_dir():
        return packaged.joinpath(*parts)
    return Path(__file__).resolve().parents[2].joinpath(*parts)

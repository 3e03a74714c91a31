"""Where the shipped examples and benchmarks live, for both a wheel and a source checkout, and
the TST27 demo programs that ``recomp demo`` and ``recomp bench`` run.

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


# TST27: the article's two test programs (examples/tst27), whose loops count to a bound
PROGRAMS = ("test1", "test2")
# the reference engine runs about 0.5 MIPS, so it runs the programs with the loop bound cut by 256
SCALED_BOUNDS = {"test1": ("0x01FFFFFF", "0x0001FFFF"), "test2": ("0x00FFFFFF", "0x0000FFFF")}


def program_source(name: str, scaled: bool = False) -> str:
    """The assembly text of a TST27 example; ``scaled`` lowers its loop bound for the reference engine."""
    source = data_path("examples", "tst27", f"{name}.s").read_text()
    if scaled:
        old, new = SCALED_BOUNDS[name]
        if old not in source:
            raise ValueError(f"{name}.s no longer contains the loop bound {old}; update SCALED_BOUNDS")
        source = source.replace(old, new)
    return source

"""Shared fixtures: paths and small helpers to build and run guest programs."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest

from recomp.frontends.tst27 import assemble
from recomp.runtime import Emulator

# the persistent code cache of every run in the suite, the CLI's included, lives in a directory
# of the suite's own: tests never read or fill the user's cache
_CACHE_HOME = tempfile.TemporaryDirectory(prefix="recomp-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME.name


@pytest.fixture(autouse=True)
def no_default_code_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """An Emulator made in a test has no code cache unless the test gives it one: the API's
    default (the user's cache) would let one run's compiled code stand in for the next's, and the
    tests compare tiers and modes that must each compile (tests/test_api_cache.py tests the
    default)."""
    monkeypatch.setattr("recomp.runtime.emulator.default_code_cache", lambda: None)


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
# third-party test data (Klaus Dormann's tests, SingleStepTests): $RECOMP_TESTDATA, by default
# ../shared/testdata beside the checkout; tests that need it skip without it
TESTDATA = Path(os.environ.get("RECOMP_TESTDATA") or ROOT.parent / "shared" / "testdata")


def interpreter_records(variant: str = "interpreter") -> int:
    """The records a 6502 native interpreter ``variant`` and the SIGINT handler add to an empty
    code cache: none when those prebuilt at install time fit (an installed recomp), one each
    when they are built and filed there (a checkout edited since its editable install)."""
    from recomp.frontends import get_frontend
    from recomp.runtime.interpreters import HANDLER, handler_context, interpreter_context, prebuilt

    return (int(prebuilt(interpreter_context(get_frontend("6502")), variant) is None)
            + int(prebuilt(handler_context(), HANDLER) is None))


def missing_testdata(path: Path) -> str:
    """The one-line reason a test skips when its third-party data is not there."""
    return f"{path} not found: set RECOMP_TESTDATA to the folder holding the third-party test data"

# the modes every program runs in: engine, optimizer on, instructions per region
MODES = [
    ("interp", True, 256),
    ("jit", True, 256),
    ("jit", False, 256),
    ("jit", True, 1),
]


# the modes every 6502 program runs in; results must be identical in all of them
MODES_6502 = {
    "interp": dict(engine="interp", optimize=True),
    "jit": dict(engine="jit", optimize=True, jit_threshold=0),
    "jit-noopt": dict(engine="jit", optimize=False, jit_threshold=0),
    "jit-single": dict(engine="jit", optimize=True, region_instructions=1, jit_threshold=0),
    "jit-tiered": dict(engine="jit", optimize=True, jit_threshold=8),
}


def run_tst27(program: bytes, engine: str = "jit", optimize: bool = True, region: int = 256,
              max_instructions: int | None = None) -> tuple[str, Emulator, object]:
    """Run a TST27 program; returns its output, the emulator, and the result or the exception."""
    output = io.StringIO()
    emu = Emulator("tst27", engine=engine, optimize=optimize, output=output,
                   region_instructions=region)
    emu.load(program)
    try:
        outcome: object = emu.run(max_instructions=max_instructions)
    except Exception as error:  # compared between engines by the tests
        outcome = error
    return output.getvalue(), emu, outcome


def recomp_in_process(*args: str) -> tuple[int, str, str]:
    """``recomp ARGS`` in this process, as the console script runs it (but for ending its process at
    once): exit status, stdout, stderr."""
    from recomp.cli import command

    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "argv", ["recomp", *args]), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            command()
            status = 0
        except SystemExit as end:
            status = end.code
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def tst27_source():
    def read(name: str) -> str:
        return (EXAMPLES / "tst27" / f"{name}.s").read_text()
    return read


__all__ = ["EXAMPLES", "MODES", "MODES_6502", "ROOT", "TESTDATA", "assemble", "missing_testdata", "recomp_in_process",
           "run_tst27"]

"""The cc65 benchmark programs of ``recomp bench`` compute on recomp what they compute on the real
sim65 (benchmarks/cc65/expected.json), and the bench's cc65 measurement returns sane figures: a
speed-up over sim65 means nothing if the outputs differ or the numbers are not what they say."""

from __future__ import annotations

import io
import json
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, recomp_in_process
from recomp.bench import CC65_LONG, CC65_PROGRAMS, CC65_TARGETS, _cc65_table, measure_cc65, new_cache_home

CC65 = ROOT / "benchmarks" / "cc65"
EXPECTED = json.loads((CC65 / "expected.json").read_text())


def test_expected_covers_every_program_and_image() -> None:
    assert sorted(EXPECTED) == sorted(CC65_PROGRAMS)
    for name in CC65_PROGRAMS:
        assert (CC65 / f"{name}.sim").is_file() and (CC65 / f"{name}.c").is_file()
        assert 160e6 <= EXPECTED[name]["cycles"]["default"] <= 240e6  # about 200 M sim65 cycles each


def test_the_long_run_is_the_sieve_at_20x_its_default_rounds() -> None:
    name, (count,) = CC65_LONG
    rounds = re.search(r"rounds (\d+)", EXPECTED[name]["stdout"]["default"])
    assert rounds is not None and int(count) == 20 * int(rounds.group(1))
    assert 20 * EXPECTED[name]["cycles"]["default"] >= 4e9


@pytest.mark.parametrize("name", CC65_PROGRAMS)
def test_program_prints_what_sim65_prints(name: str) -> None:
    status, out, err = recomp_in_process("run", str(CC65 / f"{name}.sim"), "1")
    assert (status, out, err) == (0, EXPECTED[name]["stdout"]["1"], "")


@pytest.mark.parametrize("name", CC65_PROGRAMS)
def test_cycle_counts_equal_sim65s(tmp_path: Path, name: str) -> None:
    """Through the API, at count 1: the cycles sim65 counted, once its branch quirk is allowed for."""
    from recomp.machines import get_machine
    from recomp.machines.base import Settings
    from recomp.machines.boot import Boot, boot, program_image
    from test_sim65 import sim65_branch_quirk

    path, machine = CC65 / f"{name}.sim", get_machine("sim65")
    settings = Settings(output=io.StringIO(), errors=io.StringIO(), args=[path.name, "1"], sandbox=tmp_path)
    emulator = machine.emulator("6502", settings)
    boot(machine, emulator, program_image(path, None, emulator.frontend, 0x10000, 0), Boot(path))
    moved = sim65_branch_quirk(emulator)
    result = emulator.run()
    assert (result.exit, result.status, settings.output.getvalue()) == ("exit", 0, EXPECTED[name]["stdout"]["1"])
    assert machine.reported_cycles(emulator) + moved[0] == EXPECTED[name]["cycles"]["1"]


@pytest.mark.skipif(shutil.which("cl65") is None, reason="cl65 (cc65) is not installed")
@pytest.mark.parametrize("name", CC65_PROGRAMS)
def test_images_match_sources(tmp_path: Path, name: str) -> None:
    """The committed image is what the Makefile's cl65 command makes of the C source."""
    shutil.copy(CC65 / f"{name}.c", tmp_path)
    subprocess.run(["make", "-s", "-C", str(tmp_path), "-f", str(CC65 / "Makefile"), f"{name}.sim"],
                   check=True, capture_output=True)
    assert (tmp_path / f"{name}.sim").read_bytes() == (CC65 / f"{name}.sim").read_bytes()


def test_cold_runs_get_an_owner_only_cache_home(tmp_path: Path) -> None:
    home = new_cache_home(tmp_path)
    assert home.is_dir() and stat.S_IMODE(home.stat().st_mode) == 0o700
    assert new_cache_home(tmp_path) != home


def test_measure_cc65_returns_sane_figures(tmp_path: Path) -> None:
    row = measure_cc65("lz", ("1",), tmp_path, repeats=2)  # one round, hot enough to compile a little
    assert row["stdout"] == EXPECTED["lz"]["stdout"]["1"]
    assert row["outputs_agree"] and row["same_instructions"]
    assert row["args"] == ["1"] and row["instructions"] > 1_000_000 and row["cycles"] > row["instructions"]
    for key in ("cold_seconds", "warm_seconds", "run_seconds", "run_mips", "cold_compile_seconds"):
        assert row[key] > 0, key
    assert len(row["cold_seconds_runs"]) == len(row["warm_seconds_runs"]) == len(row["run_seconds_runs"]) == 2
    assert row["run_seconds"] == min(row["run_seconds_runs"])  # (the best warm run's, as the wall times)
    # (how much the cold run compiled, and so the warm run finds, depends on timing: not asserted)
    assert isinstance(row["warm_cache_hits"], int) and row["warm_cache_hits"] >= 0
    if shutil.which("sim65") is None:
        assert row["sim65_seconds"] is None and row["warm_vs_sim65"] is None
    else:
        assert row["sim65_seconds"] > 0 and row["warm_vs_sim65"] > 0 and row["cold_vs_sim65"] > 0
    json.dumps(row)  # it goes into `recomp bench --json`

    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=100)
    console.print(_cc65_table({"targets": CC65_TARGETS, "repeats": 1, "programs": {"lz 1": dict(row, long=False)}},
                              Table))
    assert "lz 1" in console.file.getvalue()


def test_measure_cc65_without_sim65_has_no_speed_ups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import recomp.bench

    monkeypatch.setattr(recomp.bench.shutil, "which", lambda name: None)
    row = measure_cc65("crc32", ("1",), tmp_path, repeats=1)
    assert row["stdout"] == EXPECTED["crc32"]["stdout"]["1"] and row["outputs_agree"]
    assert row["sim65_seconds"] is None and row["sim65_seconds_runs"] == []
    assert row["cold_vs_sim65"] is None and row["warm_vs_sim65"] is None and row["warm_seconds"] > 0

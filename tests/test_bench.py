"""The benchmark's C baseline must compute what the JIT computes, or the speed-up means nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from recomp.bench import build_c_interpreter, measure_kernel, run_c, run_engine
from recomp.data import SCALED_BOUNDS, data_path, program_source
from recomp.frontends.tst27 import assemble

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@pytest.fixture(scope="module")
def c_interpreter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = build_c_interpreter(tmp_path_factory.mktemp("bench"))
    assert exe is not None
    return exe


def small(name: str) -> bytes:
    """An example with its loop bound cut to a few thousand iterations."""
    old, _ = SCALED_BOUNDS[name]
    return assemble(program_source(name).replace(old, "0x00000FFF"))


def test_data_path_finds_the_shipped_files() -> None:
    assert data_path("benchmarks", "tst27_interp.c").is_file()
    assert data_path("examples", "tst27", "test1.s").is_file()


@needs_gcc
@pytest.mark.parametrize("name", ["test1", "test2"])
def test_c_interpreter_matches_jit(c_interpreter: Path, tmp_path: Path, name: str) -> None:
    program = small(name)
    binary = tmp_path / f"{name}.bin"
    binary.write_bytes(program)
    c = run_c(c_interpreter, binary)
    jit = run_engine(program, "jit")
    assert c.output == jit.output
    assert c.instructions == jit.instructions
    assert "r00 = 00000FFF" in c.output
    assert c.seconds >= 0


@needs_gcc
def test_c_interpreter_rejects_a_bad_opcode(c_interpreter: Path, tmp_path: Path) -> None:
    binary = tmp_path / "bad.bin"
    binary.write_bytes(bytes([0x03, 0x00, 0x05]))  # PRINT r0, then opcode 5
    done = subprocess.run([str(c_interpreter), str(binary)], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout == " r00 = 00000000\n"
    assert "unknown opcode at 0x0002" in done.stderr


def test_scaled_sources_keep_their_loop_bounds() -> None:
    for name, (_, new) in SCALED_BOUNDS.items():
        assert new in program_source(name, scaled=True)


def test_startup_is_measured_as_whole_processes(tmp_path: Path) -> None:
    from recomp.bench import _startup_line, measure_startup

    figures = measure_startup(tmp_path, repeats=1)
    assert set(figures) == {"version_seconds", "hello_cold_seconds", "hello_warm_seconds"}
    assert all(seconds > 0 for seconds in figures.values())
    assert "recomp --version" in _startup_line(figures)


def test_warm_runs_wait_for_the_code_cache_to_settle(tmp_path: Path) -> None:
    """A run on a cold run's cache compiles what it found hot, and that code can make more of the
    program hot in the next run: the warm runs are the ones after a run filed nothing new."""
    from recomp.bench import SETTLE_RUNS, cc65_program, new_cache_home, run_recomp, settle
    from recomp.runtime.code_cache import CodeCache

    program, home = cc65_program("sieve"), new_cache_home(tmp_path)
    cold = run_recomp(program, (), home)
    cache = CodeCache(home / "recomp")
    filed = cache.info().records
    settling = settle(program, (), home)
    assert filed >= 1 and 1 <= len(settling) <= SETTLE_RUNS
    assert {run.stdout for run in settling} == {cold.stdout}
    settled = cache.info().records
    warm = run_recomp(program, (), home, stats=True)
    assert warm.stdout == cold.stdout and cache.info().records == settled
    assert warm.stats is not None and warm.stats["compiled"] == 0 and warm.stats["cache_hits"] >= 1


def test_settling_stops_at_the_first_run_that_files_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    import recomp.bench as bench

    records = iter([2, 4, 5, 5, 5, 5, 5])  # before the first run, then after each
    monkeypatch.setattr(bench, "run_recomp", lambda *args, **kwargs: bench.ProcessRun(0.1, "out", None))
    monkeypatch.setattr("recomp.runtime.code_cache.CodeCache.info",
                        lambda self: type("Info", (), {"records": next(records)})())
    assert len(bench.settle(Path("p.sim"), (), tmp_path)) == 3


def test_a_kernels_jit_figures_are_the_best_of_its_runs(tmp_path: Path) -> None:
    """Each JIT tier runs ``repeats`` times, every cold run on a code cache of its own, and the
    best run gives the figures: all end in the same machine, and the warm runs find code."""
    row = measure_kernel("memcpy", tmp_path, py65_instructions=10_000, interp_instructions=10_000, repeats=2)
    assert row["same_machines"] and row["instructions"] > 1_000_000
    assert row["cold_compiled"] >= 1 and row["warm_cache_hits"] >= 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cold-0", "cold-1"]
    assert all(row[f"{tier}_engine_mips"] > 0 for tier in ("cold", "warm", "noopt"))

"""The Python API uses the persistent code cache by default, as ``recomp run`` does: a second
Emulator of a program starts warm.  ``code_cache=None`` opts out."""

from __future__ import annotations

import io

import recomp
from recomp.data import data_path
from recomp.runtime import emulator as emulator_module
from recomp.runtime.private_files import cache_root


def bcd(**options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **options)
    emu.load(data_path("benchmarks", "6502", "bcd.bin").read_bytes(), at=0x0200)
    emu.state.pc = 0x0200
    return emu


def test_an_emulator_uses_the_users_code_cache_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(emulator_module, "default_code_cache", emulator_module.CodeCache)  # (conftest's undone)
    cold = bcd()
    assert cold.tiers.cached_code.cache.root == cache_root() == tmp_path / "recomp"
    cold.run(stop_on_trap=True)
    cold.finish_compiling()
    assert cold.stats.cache_stores >= 1
    warm = bcd()
    warm.run(stop_on_trap=True)
    assert warm.stats.cache_hits == cold.stats.cache_stores and warm.stats.compiled == 0
    assert (warm.state.pc, warm.instructions, warm.memory[0:0x10000]) == \
        (cold.state.pc, cold.instructions, cold.memory[0:0x10000])
    assert bcd(code_cache=None).tiers.cached_code is None
    assert bcd(engine="interp").tiers.cached_code is None

"""Chaining in native code and the persistent code cache: compiled code jumps straight into
compiled code, stores into code unlink it, and a second run loads compiled regions from disk,
never running a corrupt or mismatched record."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

import recomp
from conftest import interpreter_records
from recomp.data import data_path
from recomp.runtime.code_cache import MAGIC, CodeCache, Record

KERNEL_ORIGIN = 0x0200


def kernel(name: str, **options) -> recomp.Emulator:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), **options)
    emu.load(data_path("benchmarks", "6502", f"{name}.bin").read_bytes(), at=KERNEL_ORIGIN)
    emu.state.pc = KERNEL_ORIGIN
    return emu


def machine(emu: recomp.Emulator) -> tuple:
    st = emu.state
    return st.pc, st.a, st.x, st.y, st.s, st.p, emu.instructions, emu.cycles, emu.memory[0:0x10000]


def finish(emu: recomp.Emulator) -> tuple:
    """Run to the kernel's end; then the code compiling in the background is done and counted."""
    result = emu.run(stop_on_trap=True, max_instructions=50_000_000)
    assert result.exit == "trap"
    emu.finish_compiling()
    return machine(emu)


def test_compiled_code_chains_across_regions():
    """mul16's loop, in regions of 8 instructions, spans several: they jump to each other
    through the entry table, and the dispatch loop sees only the first entries."""
    reference = finish(kernel("mul16", native_interpreter=False))  # against py65: test_6502_kernels
    emu = kernel("mul16", jit_threshold=0, region_instructions=8)
    assert finish(emu) == reference
    assert emu.stats.compiled >= 2
    assert emu.stats.chain_hits > 100_000
    assert emu.stats.chain_misses < 100


# 0200 JSR $0300; STA $20; LDA #$22; STA $0301 (rewrites the LDA below); JSR $0300; STA $21;
# LDX $30; INX; STX $30; CPX #$40; BNE $0200 (again, so both calls run compiled); JMP *
# 0300 LDA #$11; RTS
SMC_PROGRAM = {
    0x0200: bytes([0x20, 0x00, 0x03, 0x85, 0x20, 0xA9, 0x22, 0x8D, 0x01, 0x03, 0x20, 0x00, 0x03,
                   0x85, 0x21, 0xA9, 0x11, 0x8D, 0x01, 0x03, 0xA6, 0x30, 0xE8, 0x86, 0x30, 0xE0, 0x40,
                   0xD0, 0xE3, 0x4C, 0x1D, 0x02]),
    0x0300: bytes([0xA9, 0x11, 0x60]),
}


@pytest.mark.parametrize("threshold", [0, 2])
def test_a_store_into_linked_code_unlinks_it(threshold):
    """The caller rewrites the subroutine's operand between calls; the store cannot hit the
    caller's own code, so the caller goes on, and its next jump into the subroutine must not
    find the stale entry.  (In regions of one instruction: a region follows a call into its
    callee, which would make the subroutine the caller's own code.)"""
    emu = recomp.Emulator("6502", console=None, jit_threshold=threshold, region_instructions=1)
    for at, code in SMC_PROGRAM.items():
        emu.load(code, at=at)
    emu.state.pc, emu.state.s = 0x0200, 0xFF
    result = emu.run(stop_on_trap=True, max_instructions=100_000)
    assert (result.exit, result.pc) == ("trap", 0x021D)
    assert (emu.memory[0x20], emu.memory[0x21], emu.memory[0x30]) == (0x11, 0x22, 0x40)
    if threshold == 0:  # tiered, the native interpreter runs it all: nothing to invalidate
        assert emu.stats.invalidations >= 1 and emu.stats.chain_hits > 0


# --- the persistent code cache ---------------------------------------------------------------

def test_a_second_run_loads_compiled_code_from_the_cache(tmp_path):
    cache = CodeCache(tmp_path)
    cold = kernel("sieve", code_cache=cache)
    expected = finish(cold)
    assert cold.stats.compiled >= 1 and cold.stats.cache_stores == cold.stats.compiled
    warm = kernel("sieve", code_cache=cache)
    assert finish(warm) == expected
    assert warm.stats.compiled == 0
    assert warm.stats.cache_hits == cold.stats.compiled
    regions = [record for record in tmp_path.rglob("*.o") if not record.parent.name.startswith("interpreter")]
    assert len(regions) == cold.stats.compiled  # (a native interpreter built in this process may be there too)


def test_cached_code_is_used_only_for_the_same_guest_bytes(tmp_path):
    cache = CodeCache(tmp_path)
    finish(kernel("sieve", code_cache=cache))
    other = kernel("sieve", code_cache=cache)
    other.memory[0x0203] = 3  # fewer repetitions: the region holding the count differs
    reference = kernel("sieve", engine="interp")
    reference.memory[0x0203] = 3
    assert finish(other) == finish(reference)


def test_other_options_do_not_share_cached_code(tmp_path):
    cache = CodeCache(tmp_path)
    finish(kernel("bcd", code_cache=cache))
    unoptimized = kernel("bcd", code_cache=cache, optimize=False)
    finish(unoptimized)
    assert unoptimized.stats.cache_hits == 0 and unoptimized.stats.compiled >= 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_corrupt_record_is_discarded_not_run(tmp_path, damage):
    cache = CodeCache(tmp_path)
    expected = finish(kernel("crc16", code_cache=cache))
    records = sorted(tmp_path.rglob("*.o"))
    assert records
    for path in records:
        data = path.read_bytes()
        path.write_bytes({"truncate": data[:len(data) // 2],
                          "flip": data[:-100] + bytes([data[-100] ^ 0x40]) + data[-99:],
                          "garbage": bytes(range(256)) * 8,
                          "empty": b""}[damage])
    again = kernel("crc16", code_cache=cache)
    assert finish(again) == expected
    assert again.stats.cache_hits == 0 and cache.discarded == len(records)
    assert again.stats.compiled >= 1  # compiled anew, and filed again
    key = (tmp_path / "key").read_bytes()
    assert all(Record.decode(p.read_bytes(), key, p.parent.parent.name, p.parent.name) is not None
               for p in tmp_path.rglob("*.o"))


def test_record_round_trip_and_authentication():
    """A record reads back only with its key, for its context and entry, whole."""
    key, other = bytes(range(32)), bytes(32)
    record = Record("mos6502_0200_x", {0x200: 0xA9, 0x201: 0x11}, b"\x7fELF object")
    data = record.encode(key, "context", "00200-s0-guards")
    assert data.startswith(MAGIC)
    assert Record.decode(data, key, "context", "00200-s0-guards") == record
    assert Record.decode(data, other, "context", "00200-s0-guards") is None  # another key
    assert Record.decode(data, key, "other", "00200-s0-guards") is None  # another context
    assert Record.decode(data, key, "context", "00300-s0-guards") is None  # moved to another entry
    assert Record.decode(data[:-1], key, "context", "00200-s0-guards") is None
    assert Record.decode(data[:20], key, "context", "00200-s0-guards") is None


def test_an_unwritable_cache_is_skipped(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = CodeCache(blocker / "recomp")
    with pytest.warns(RuntimeWarning, match="not using the code cache .*Not a directory"):
        emu = kernel("memcpy", code_cache=cache)
    assert finish(emu) == finish(kernel("memcpy", jit_threshold=0))
    assert cache.stores == 0 and emu.stats.cache_stores == 0


def recomp_cli(*args: str, cache_home) -> subprocess.CompletedProcess:
    env = {"XDG_CACHE_HOME": str(cache_home), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "recomp.cli", *args], capture_output=True, text=True, env=env)


def test_cli_cache_commands_and_no_cache(tmp_path):
    program = str(data_path("benchmarks", "6502", "bcd.bin"))
    run = ("run", "--frontend", "6502", program, "--load", "0x200", "--entry", "0x200", "--stop-on-trap")
    assert recomp_cli(*run, "--no-cache", cache_home=tmp_path).returncode == 0
    assert not (tmp_path / "recomp").exists()
    info = recomp_cli("cache", "info", cache_home=tmp_path)
    assert info.returncode == 0 and "0 compiled regions" in info.stdout
    first = tmp_path / "first.json"
    assert recomp_cli(*run, "--stats-json", str(first), cache_home=tmp_path).returncode == 0
    stored = json.loads(first.read_text())["cache_stores"]
    assert stored >= 1  # bcd's loop
    info = recomp_cli("cache", "info", cache_home=tmp_path)
    records = stored + interpreter_records()
    assert f"{tmp_path / 'recomp'}: trusted" in info.stdout and f"; {records} compiled regions" in info.stdout
    second = tmp_path / "second.json"
    assert recomp_cli(*run, "--stats-json", str(second), cache_home=tmp_path).returncode == 0
    report = json.loads(second.read_text())
    assert (report["cache_hits"], report["compiled"], report["cache_stores"]) == (stored, 0, 0)
    cleared = recomp_cli("cache", "clear", cache_home=tmp_path)
    assert cleared.returncode == 0 and f"removed {records} compiled regions" in cleared.stdout
    assert "0 compiled regions" in recomp_cli("cache", "info", cache_home=tmp_path).stdout

"""The code cache runs only native code recomp wrote itself, in directories only the user can
write: owner-only modes, foreign or shared directories and links refused, records authenticated
and bound to their context and entry, objects checked before they are linked; and whatever is
done to the cache, a run gives the right result and never crashes."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recomp
from recomp.data import data_path
from recomp.runtime.code_cache import KEY_FILE, CodeCache, Record

KERNEL = "crc16"


def run(cache: CodeCache | None, name: str = KERNEL, **options) -> tuple[recomp.Emulator, tuple]:
    """A kernel run to its trap; the emulator and the machine it ends in."""
    emu = recomp.Emulator("6502", console=None, code_cache=cache, **options)
    emu.load(data_path("benchmarks", "6502", f"{name}.bin").read_bytes(), at=0x0200)
    emu.state.pc = 0x0200
    result = emu.run(stop_on_trap=True, max_instructions=50_000_000)
    cpu = emu.state
    memory = hashlib.sha256(emu.memory[0:0x10000]).hexdigest()  # (short in a failing example's report)
    return emu, (result.exit, result.pc, cpu.a, cpu.x, cpu.y, cpu.p, emu.instructions, memory)


@pytest.fixture(scope="module")
def reference() -> tuple:
    return run(None, jit_threshold=0)[1]


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    """A cache a run filled (compiled regions for the kernel)."""
    root = tmp_path_factory.mktemp("filled") / "recomp"
    run(CodeCache(root), jit_threshold=0)
    assert list(root.rglob("*.o"))
    return root


def copy(filled: Path, tmp_path: Path) -> Path:
    root = tmp_path / "recomp"
    shutil.copytree(filled, root, symlinks=True)
    return root


def test_the_cache_is_created_owner_only(filled):
    assert stat.S_IMODE(filled.stat().st_mode) == 0o700
    for path in filled.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert len((filled / KEY_FILE).read_bytes()) == 32


def test_a_warm_run_uses_the_records_it_wrote(filled, tmp_path, reference):
    emu, machine = run(CodeCache(copy(filled, tmp_path)), jit_threshold=0)
    assert machine == reference and emu.stats.cache_hits >= 1 and emu.stats.compiled == 0


@pytest.mark.parametrize("spoil, reason", [
    (lambda root: root.chmod(0o770), "writable by group or others (mode 0770)"),
    (lambda root: root.chmod(0o757), "writable by group or others (mode 0757)"),
    (lambda root: (root / KEY_FILE).chmod(0o644), "its key is readable or writable by others (mode 0644)"),
    (lambda root: (root / KEY_FILE).write_bytes(b"short"), "its key is damaged (5 bytes)"),
])
def test_a_shared_cache_is_refused(filled, tmp_path, reference, spoil, reason):
    root = copy(filled, tmp_path)
    spoil(root)
    cache = CodeCache(root)
    assert reason in cache.problem()
    with pytest.warns(RuntimeWarning, match="not using the code cache"):
        emu, machine = run(cache, jit_threshold=0)
    assert machine == reference and (emu.stats.cache_hits, emu.stats.cache_stores) == (0, 0)


def test_a_foreign_cache_is_refused(filled, tmp_path, reference):
    cache = CodeCache(copy(filled, tmp_path), owner=os.getuid() + 1)  # as if another user made it
    assert "is owned by user" in cache.problem()
    with pytest.warns(RuntimeWarning):
        emu, machine = run(cache, jit_threshold=0)
    assert machine == reference and emu.stats.cache_hits == 0


def test_a_linked_cache_root_is_refused(filled, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(copy(filled, tmp_path))
    assert CodeCache(link).problem() == "it is a symbolic link"


def test_links_inside_the_cache_are_never_followed(filled, tmp_path, reference):
    root = copy(filled, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    context = next(p for p in root.iterdir() if p.is_dir())
    entries = sorted(context.iterdir())
    for entry in entries[1:]:  # entry folders become links to folders elsewhere
        target = elsewhere / entry.name
        shutil.move(entry, target)
        entry.symlink_to(target)
    records = sorted(elsewhere.rglob("*.o"))
    zero = entries[0] / "0-zero.o"
    zero.symlink_to("/dev/zero")  # a record that never ends, looked at first
    assert run(CodeCache(root), jit_threshold=0)[1] == reference
    assert sorted(elsewhere.rglob("*.o")) == records  # nothing deleted or written there
    assert not zero.is_symlink()  # the link itself is removed, unread


def test_a_record_made_without_the_key_is_never_loaded(filled, tmp_path, reference):
    """A planted record: a real object of recomp's, authenticated with another key."""
    root = copy(filled, tmp_path)
    other = CodeCache(tmp_path / "other")
    run(other, jit_threshold=0)
    for planted in (tmp_path / "other").rglob("*.o"):
        target = root / planted.relative_to(tmp_path / "other")
        shutil.copyfile(planted, target)
    cache = CodeCache(root)
    emu, machine = run(cache, jit_threshold=0)
    assert machine == reference and emu.stats.cache_hits == 0 and cache.discarded >= 1


def test_records_are_bound_to_their_entry(filled, tmp_path, reference):
    """Two authentic records swapped between entry folders are refused."""
    root = copy(filled, tmp_path)
    records = sorted(root.rglob("*.o"))
    context = records[0].parent.parent
    decoy = context / "00300-s0-free"
    decoy.mkdir(mode=0o700)
    for path in records:
        shutil.copyfile(path, decoy / path.name)
        (decoy / path.name).chmod(0o600)
    moved = CodeCache(root)
    key = (root / KEY_FILE).read_bytes()
    assert all(Record.decode(p.read_bytes(), key, context.name, decoy.name) is None for p in decoy.iterdir())
    assert run(moved, jit_threshold=0)[1] == reference


def test_an_authentic_record_of_a_malformed_object_is_not_linked(filled, tmp_path, reference):
    """Made with the cache's own key (as a bug of recomp's would make it): the object is checked
    before the linker sees it, so a truncated or empty one cannot crash the process."""
    root = copy(filled, tmp_path)
    key = (root / KEY_FILE).read_bytes()
    for path in root.rglob("*.o"):
        context, entry = path.parent.parent.name, path.parent.name
        record = Record.decode(path.read_bytes(), key, context, entry)
        path.write_bytes(Record(record.name, record.covers, record.object[:len(record.object) // 2])
                         .encode(key, context, entry))
    cache = CodeCache(root)
    emu, machine = run(cache, jit_threshold=0)
    assert machine == reference and emu.stats.cache_hits == 0 and cache.discarded >= 1


def test_a_cache_that_cannot_be_read_or_cleaned_is_skipped(filled, tmp_path, reference, monkeypatch):
    """Permission errors and a read-only filesystem (as a non-root user would meet them)."""
    root = copy(filled, tmp_path)
    for path in root.rglob("*.o"):
        path.write_bytes(b"junk")

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "unlink", refuse)
    emu, machine = run(CodeCache(root), jit_threshold=0)
    assert machine == reference and emu.stats.cache_hits == 0
    monkeypatch.undo()

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "listdir", denied)
    monkeypatch.setattr(os, "scandir", denied)
    cache = CodeCache(root)
    assert run(cache, jit_threshold=0)[1] == reference
    assert cache.info().records == 0


def test_junk_in_the_cache_is_ignored(filled, tmp_path, reference):
    root = copy(filled, tmp_path)
    context = next(p for p in root.iterdir() if p.is_dir())
    for name in ("00200-[]-guards", "fffffff-0-guards", "interpreter-x", "..."):
        (context / name).mkdir(mode=0o700, exist_ok=True)
        (context / name / "x.o").write_bytes(b"junk")
    (root / "stray.o").write_bytes(b"junk")
    assert run(CodeCache(root), jit_threshold=0)[1] == reference


def cli(*args: str, cache_home: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {"XDG_CACHE_HOME": str(cache_home), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "recomp.cli", *args], capture_output=True, text=True, env=env,
                          input=stdin, timeout=300)


HELLO = ("run", "-f", "6502", str(data_path("examples", "6502", "hello.bin")), "--load", "0x200", "--entry",
         "0x200", "--stop-on-trap")


def test_the_cli_warns_once_and_runs_without_a_shared_cache(tmp_path):
    (tmp_path / "recomp").mkdir(mode=0o700)  # as a run that filed code made it
    (tmp_path / "recomp").chmod(0o777)
    done = cli(*HELLO, cache_home=tmp_path)
    assert (done.returncode, done.stdout) == (0, "Hello, 6502!\n")
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "writable by group or others (mode 0777)" in warnings[0]
    info = cli("cache", "info", cache_home=tmp_path)
    assert "not trusted, so not used: it is writable by group or others" in info.stdout


def test_a_planted_interpreter_record_never_runs(tmp_path, monkeypatch):
    """Where no prebuilt native interpreter fits (another CPU), it is built and filed in the code
    cache, where its record serves every program: one planted with a valid-looking header
    (another cache's key) is deleted, and the run is right.  With the process's own copy
    forgotten each time, so that the interpreter is looked up on disk."""
    from recomp.runtime import interpreters

    monkeypatch.setattr(interpreters, "PREBUILT", tmp_path / "none")

    def hello(cache: CodeCache) -> tuple:
        monkeypatch.setattr(interpreters, "_BUILT", {})
        emu = recomp.Emulator("6502", code_cache=cache, output=io.StringIO())
        emu.load(data_path("examples", "6502", "hello.bin").read_bytes(), at=0x200)
        emu.state.pc = 0x200
        result = emu.run(stop_on_trap=True)
        return result.exit, result.pc, emu.instructions, emu.output.getvalue()

    mine, theirs = CodeCache(tmp_path / "mine"), CodeCache(tmp_path / "theirs")
    expected = hello(mine)
    assert hello(theirs) == expected == ("trap", 0x0211, 72, "Hello, 6502!\n")
    ours = sorted(mine.root.rglob("interpreter/*.o"))
    planted = sorted(theirs.root.rglob("interpreter/*.o"))
    assert len(ours) == len(planted) == 1
    shutil.copyfile(planted[0], ours[0])  # another user's key: not ours
    assert hello(mine) == expected
    assert ours[0].read_bytes() != planted[0].read_bytes()  # rejected, and filed anew


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_hostile_cache_never_changes_a_run(filled, tmp_path_factory, reference, data):
    """Records mutated (bytes, lengths, names, places, links, modes): a run either uses a record
    it wrote itself, unchanged, or ignores it; it never crashes, and ends in the right machine."""
    root = copy(filled, tmp_path_factory.mktemp("hostile"))
    records = sorted(root.rglob("*.o"))
    context = records[0].parent.parent
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(records))
        if not path.exists() and not path.is_symlink():
            continue
        action = data.draw(st.sampled_from(["flip", "truncate", "extend", "rename", "move", "link", "swap",
                                            "junk folder", "mode"]))
        if path.is_symlink() and action in ("flip", "truncate", "extend", "swap"):
            continue  # (the link is the mutation; writing through it is not one)
        raw = path.read_bytes() if path.is_file() else b""
        if action == "flip" and raw:
            at = data.draw(st.integers(0, len(raw) - 1))
            path.write_bytes(raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1:])
        elif action == "truncate":
            path.write_bytes(raw[:data.draw(st.integers(0, max(0, len(raw) - 1)))])
        elif action == "extend":
            path.write_bytes(raw + data.draw(st.binary(min_size=1, max_size=64)))
        elif action == "rename":
            path.rename(path.with_name(data.draw(st.sampled_from(["a.o", "b.o", ".o", "x.tmp"]))))
        elif action == "move":
            folder = context / data.draw(st.sampled_from(["00200-s0-guards", "00200-s1-free", "00201-s0-free"]))
            folder.mkdir(mode=0o700, exist_ok=True)
            path.rename(folder / path.name)
        elif action == "link":
            path.unlink()
            path.symlink_to(data.draw(st.sampled_from(["/dev/zero", "/dev/null", str(records[0])])))
        elif action == "swap":
            other = data.draw(st.sampled_from(records))
            if other.is_file() and not other.is_symlink():
                path.write_bytes(other.read_bytes())
        elif action == "junk folder":
            (context / data.draw(st.sampled_from(["00200-[]-guards", "zzz", "00200-s-free"]))).mkdir(exist_ok=True)
        elif action == "mode":
            path.parent.chmod(data.draw(st.sampled_from([0o700, 0o770, 0o707, 0o500])))
    with warnings.catch_warnings(record=True):  # (a folder made shared: the cache is refused)
        warnings.simplefilter("always")
        assert run(CodeCache(root), jit_threshold=0)[1] == reference
    for folder in context.iterdir():  # leave the folders writable for the next example's clean-up
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o700)


def test_notes_are_owner_only_files_and_a_link_or_a_shared_one_is_no_note(tmp_path: Path):
    """A note only saves work (a program whose hot loops are all compiled), but it is read by the
    cache's rules all the same."""
    cache = CodeCache(tmp_path / "cache")
    assert not cache.noted("ctx", "loops-1") and cache.note("ctx", "loops-1") and cache.noted("ctx", "loops-1")
    path = tmp_path / "cache" / "ctx" / "loops-1.note"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == b""
    os.chmod(path, 0o644)
    assert not cache.noted("ctx", "loops-1")
    (tmp_path / "elsewhere").write_bytes(b"")
    os.symlink(tmp_path / "elsewhere", tmp_path / "cache" / "ctx" / "loops-2.note")
    assert not cache.noted("ctx", "loops-2")
    os.chmod(tmp_path / "cache", 0o777)  # a cache others may write is not used: nor are its notes
    assert not cache.noted("ctx", "loops-1") and not cache.note("ctx", "loops-3")
    os.chmod(tmp_path / "cache", 0o700)

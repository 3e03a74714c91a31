"""The sim65 machine's file sandbox holds by construction (``recomp.machines.sandbox``): a guest
program of our own (tests/cc65/paths.c, built with cc65) opens paths inside it and fails on
every way out, links and ``..`` included, even while another process swaps a folder for a link
to the outside; a FIFO never hangs a run; a folder holding recomp's code cache or state is never
a sandbox, so a guest cannot read the cache's key or plant code in it."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import recomp
from conftest import ROOT
from recomp.machines import get_machine
from recomp.machines.base import Settings
from recomp.machines.boot import Boot, boot, program_image
from recomp.machines.sandbox import Sandbox
from recomp.runtime.errors import ConfigError

PATHS = ROOT / "tests" / "cc65" / "paths.sim"


def guest(sandbox: Path | None, *operations: str) -> tuple[list[str], str]:
    """Run paths.sim with these operations: its output lines, and what it said on stderr."""
    machine = get_machine("sim65")
    output, errors = io.StringIO(), io.StringIO()
    settings = Settings(output=output, errors=errors, input=io.BytesIO(), args=["paths.sim", *operations],
                        sandbox=sandbox)
    emulator = machine.emulator("6502", settings)
    boot(machine, emulator, program_image(PATHS, None, emulator.frontend, 0x10000, 0), Boot(PATHS))
    result = emulator.run()
    assert (result.exit, result.status) == ("exit", 0)
    return output.getvalue().splitlines(), errors.getvalue()


@pytest.fixture
def tree(tmp_path) -> Path:
    """A sandbox ``box`` beside a folder ``outside``, with links of every kind in the box."""
    box, outside = tmp_path / "box", tmp_path / "outside"
    (box / "d").mkdir(parents=True)
    outside.mkdir()
    (box / "d" / "secret.txt").write_text("inside")
    (outside / "secret.txt").write_text("OUTSIDE")
    links = {"in": "d/secret.txt", "abs-in": str(box / "d" / "secret.txt"), "out": "../outside/secret.txt",
             "abs-out": str(outside / "secret.txt"), "d/up": "../../outside", "dangling-out": "../outside/new.txt",
             "dangling-in": "d/made.txt", "loop": "loop", "sub": "d"}
    for name, target in links.items():
        (box / name).symlink_to(target)
    os.mkfifo(box / "fifo")
    return box


def test_paths_inside_the_sandbox_open_and_every_way_out_fails(tree):
    box = tree
    lines, errors = guest(box, "r:d/secret.txt", "r:./d/../d/secret.txt", "r:in", "r:abs-in", "r:sub/secret.txt",
                          f"r:{box}/d/secret.txt", "r:out", "r:abs-out", "r:d/up/secret.txt",
                          "r:../outside/secret.txt", "r:d/../../outside/secret.txt", "r:/etc/passwd",
                          f"r:{box}/../outside/secret.txt", "r:fifo", "w:fifo:x", "x:dangling-out",
                          "w:dangling-out:x", "x:dangling-in", "r:d/secret.txt/", "r:.", "r:", "r:loop",
                          "w:dangling-in:made", "r:d/made.txt")
    assert lines == [
        "r d/secret.txt: inside", "r ./d/../d/secret.txt: inside", "r in: inside", "r abs-in: inside",
        "r sub/secret.txt: inside", f"r {box}/d/secret.txt: inside",
        "r out: -1", "r abs-out: -1", "r d/up/secret.txt: -1", "r ../outside/secret.txt: -1",
        "r d/../../outside/secret.txt: -1", "r /etc/passwd: -1", f"r {box}/../outside/secret.txt: -1",
        "r fifo: -1", "w fifo: -1",  # (a FIFO never waits: it is refused at once)
        "x dangling-out: -1", "w dangling-out: -1",
        "x dangling-in: -1",  # O_EXCL never follows a link (nor creates what it names)
        "r d/secret.txt/: -1",  # a trailing / names a folder
        "r .: -1", "r : -1", "r loop: -1",
        "w dangling-in: ok", "r d/made.txt: made",  # a link inside leads inside
    ]
    assert errors == ""
    assert sorted(p.name for p in (tree.parent / "outside").iterdir()) == ["secret.txt"]


def test_a_folder_swapped_for_a_link_never_leads_out(tree):
    """Another process swaps the folder ``d`` for a link to ``../outside`` and back, again and
    again, while the guest opens ``d/secret.txt`` and creates ``d/created.txt``: every open finds
    the inside file or fails, nothing is created outside, and the run ends normally."""
    box = tree
    stop = threading.Event()

    swaps = []

    def swap() -> None:
        while not stop.is_set():
            os.rename(box / "d", box / "d.real")
            os.symlink("../outside", box / "d")
            time.sleep(0.0002)
            os.unlink(box / "d")
            os.rename(box / "d.real", box / "d")
            time.sleep(0.0002)
            swaps.append(1)

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        lines, _ = guest(box, "R:3000:d/secret.txt", "W:1000:d/created.txt")
    finally:
        stop.set()
        swapper.join()
    read, created = lines
    assert re.fullmatch(r"R d/secret.txt: \d+ failed(, \d+ 'i')?", read), read  # never 'O'
    assert len(swaps) >= 10  # (it did swap while the guest ran)
    assert not (tree.parent / "outside" / "created.txt").exists()
    assert created.startswith("W d/created.txt: ")


def test_a_sandbox_that_holds_or_lies_in_recomp_folders_is_refused(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".state"))
    (home / ".cache" / "recomp" / "inner").mkdir(parents=True)
    (home / ".state").mkdir()
    for folder, says in ((home, "holds recomp's code cache"), (home / ".cache", "holds recomp's code cache"),
                         (home / ".cache" / "recomp" / "inner", "lies inside recomp's code cache"),
                         (home / ".state", "holds recomp's state folder")):
        with pytest.raises(ConfigError, match=says):
            Sandbox(folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "home").symlink_to(home)
    with pytest.raises(ConfigError, match="holds recomp's code cache"):  # a second path to it
        Sandbox(elsewhere / "home")
    with pytest.raises(ConfigError, match="holds recomp's own code"):
        Sandbox(Path(recomp.__file__).parent.parent)  # (src/, or site-packages)


def test_a_guest_run_from_home_cannot_touch_the_code_cache(tmp_path, monkeypatch):
    """The default sandbox, the working directory, is never one that holds the cache: run from
    such a folder, the guest has no files (one warning says why), so it can neither read the
    cache's key nor plant a record that a later run would execute."""
    home = tmp_path / "home"
    (home / ".cache").mkdir(parents=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.chdir(home)
    kernel = ("run", str(ROOT / "benchmarks" / "6502" / "bcd.bin"), "--load", "$200", "--entry", "$200",
              "--stop-on-trap", "--stats-json", str(tmp_path / "stats.json"))  # (which waits for its compiles)
    done = subprocess.run([sys.executable, "-m", "recomp.cli", *kernel], capture_output=True, timeout=120)
    assert done.returncode == 0 and (home / ".cache" / "recomp" / "key").exists()  # a run filled the cache
    key = (home / ".cache" / "recomp" / "key").read_bytes()
    lines, errors = guest(None, "r:.cache/recomp/key", "w:.cache/recomp/key:planted", "w:.cache/recomp/x.o:code")
    assert lines == ["r .cache/recomp/key: -1", "w .cache/recomp/key: -1", "w .cache/recomp/x.o: -1"]
    assert errors.splitlines() == [f"recomp: warning: guest file access is off: the working directory ({home}) "
                                   f"holds recomp's code cache ({home / '.cache' / 'recomp'}): a guest could plant "
                                   f"code there that recomp runs later; run from another folder or give "
                                   f"--sandbox DIR"]
    assert (home / ".cache" / "recomp" / "key").read_bytes() == key
    assert not (home / ".cache" / "recomp" / "x.o").exists()


@pytest.mark.parametrize("name, says", [("missing", "does not exist"), ("file", "is not a folder")])
def test_a_sandbox_that_is_not_a_folder_is_a_usage_error(tmp_path, name, says):
    (tmp_path / "file").write_text("")
    done = subprocess.run([sys.executable, "-m", "recomp.cli", "run", "--sandbox", str(tmp_path / name), str(PATHS)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"recomp: error: {PATHS}: the sandbox {tmp_path / name} {says}\n"


def test_remove_takes_the_link_away_never_what_it_names(tree):
    sandbox = Sandbox(tree)
    sandbox.remove(b"out")
    assert not os.path.lexists(tree / "out") and (tree.parent / "outside" / "secret.txt").exists()
    for outside in (b"../outside/secret.txt", b"d/up/secret.txt", b"abs-out/x"):
        with pytest.raises(OSError):
            sandbox.remove(outside)
    (tree / "empty").mkdir()
    sandbox.remove(b"empty")
    assert not (tree / "empty").exists()
    with pytest.raises(OSError):
        sandbox.remove(b"d")  # (not empty)
    assert (tree.parent / "outside" / "secret.txt").read_text() == "OUTSIDE"


@pytest.mark.skipif(shutil.which("cl65") is None, reason="cl65 (cc65) is not installed")
def test_the_guest_image_matches_its_source(tmp_path):
    shutil.copy(PATHS.with_suffix(".c"), tmp_path)
    subprocess.run(["make", "-s", "-C", str(tmp_path), "-f", str(PATHS.parent / "Makefile"), "paths.sim"],
                   check=True, capture_output=True)
    assert (tmp_path / "paths.sim").read_bytes() == PATHS.read_bytes()

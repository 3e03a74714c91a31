"""The native interpreters (and the SIGINT handler) built when recomp is installed: used only when made for this context
and as trusted as the code beside them; a run on one ends as a run on an interpreter built in
the process does.  An installed recomp (as CI tests it) has them, made for its own sources."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

import recomp
from recomp.frontends import get_frontend
from recomp.runtime import interpreters
from recomp.runtime.interpreters import (
    HANDLER,
    MANIFEST,
    build_prebuilt,
    handler_context,
    interpreter_context,
    prebuilt,
)

FRONTEND = get_frontend("6502")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Every variant of every 6502's interpreter, prebuilt as the build hook does."""
    folder = tmp_path_factory.mktemp("prebuilt")
    written = build_prebuilt(folder)
    guests = ("mos6502", "mos6502_documented", "wdc65c02")  # one set per 6502 variant (TST27 has none)
    stencils = [f"{guest}-{interpreters.STENCILS}.o" for guest in guests]
    assert sorted(written) == sorted([MANIFEST, f"{HANDLER}.o", *stencils,
                                      *(f"{guest}-{interpreters.variant_name(*v)}.o" for guest in guests
                                        for v in interpreters.VARIANTS)])
    return folder


def context() -> str:
    return interpreter_context(FRONTEND)


def test_a_prebuilt_interpreter_made_for_this_context_is_used(folder, monkeypatch):
    assert prebuilt(context(), "interpreter", folder) is not None
    monkeypatch.setattr(interpreters, "PREBUILT", folder)
    monkeypatch.setattr(interpreters, "_BUILT", {})  # (the process's own)
    monkeypatch.setattr(interpreters, "build", lambda *args: pytest.fail("built, not loaded"))
    emu = recomp.Emulator("6502", console=None, output=io.StringIO())
    emu.load(bytes([0xA2, 0x05, 0xCA, 0xD0, 0xFD, 0x4C, 0x05, 0x02]), at=0x0200)  # LDX #5; DEX; BNE; JMP *
    emu.state.pc = 0x0200
    result = emu.run(stop_on_trap=True)
    assert (result.exit, result.pc, emu.state.x, emu.instructions) == ("trap", 0x0205, 0, 12)


def test_the_prebuilt_sigint_handler_is_used(folder, monkeypatch):
    """Linked from the file, with the process's tables: LLVM builds nothing."""
    import recomp.backend.jit

    assert prebuilt(handler_context(), HANDLER, folder) is not None
    monkeypatch.setattr(interpreters, "PREBUILT", folder)
    monkeypatch.setattr(recomp.backend.jit.Jit, "interrupt_handler", lambda *args: pytest.fail("built, not loaded"))
    values = {"slots": 0x1000, "count": 1, "busy": 0x2000, "previous": 0x3000, "interrupt": 50, "events": 49,
              "limit": 24, "cycle_limit": 32}
    assert interpreters.interrupt_handler(values, None).address


def test_another_context_or_entry_finds_none(folder):
    assert prebuilt("0" * 24, "interpreter", folder) is None
    assert prebuilt(context(), "interpreter-fast", folder) is None


def copy_of(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "prebuilt"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def test_a_changed_object_is_not_used(folder, tmp_path):
    copy = copy_of(folder, tmp_path)
    entry = json.loads((copy / MANIFEST).read_text())[context()]["interpreter"]
    data = bytearray((copy / entry["file"]).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / entry["file"]).write_bytes(bytes(data))
    assert prebuilt(context(), "interpreter", copy) is None
    assert prebuilt(context(), "interpreter-stops", copy) is not None


@pytest.mark.parametrize("weakness", ["folder writable by others", "object writable by group", "object is a link",
                                      "manifest names a path", "not the sources' owner"])
def test_a_prebuilt_interpreter_others_could_have_written_is_not_used(folder, tmp_path, weakness):
    copy = copy_of(folder, tmp_path)
    manifest = json.loads((copy / MANIFEST).read_text())
    entry = manifest[context()]["interpreter"]
    target = copy / entry["file"]
    if weakness == "folder writable by others":
        copy.chmod(0o777)
    elif weakness == "object writable by group":
        target.chmod(0o664)
    elif weakness == "object is a link":
        moved = tmp_path / "elsewhere.o"
        target.rename(moved)
        target.symlink_to(moved)
    elif weakness == "manifest names a path":
        entry["file"] = f"../{copy.name}/{entry['file']}"
        (copy / MANIFEST).write_text(json.dumps(manifest))
    else:
        if os.getuid() != 0:
            pytest.skip("changing a file's owner needs root")
        os.chown(target, os.getuid() + 1, -1)
    assert prebuilt(context(), "interpreter", copy) is None


def test_an_installed_recomp_has_its_interpreters_prebuilt():
    """Installed from a wheel (not a checkout's editable install, whose sources change under
    it), the package carries every variant, made for its own sources."""
    package = Path(recomp.__file__).resolve().parent
    if "site-packages" not in package.parts:
        pytest.skip(f"recomp is imported from a checkout ({package}), not an installed wheel")
    for stops, trace in interpreters.VARIANTS:
        assert prebuilt(context(), interpreters.variant_name(stops, trace)) is not None
    assert prebuilt(handler_context(), HANDLER) is not None

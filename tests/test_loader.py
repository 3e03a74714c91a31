"""recomp's own linker for code made earlier: a region linked from its object file runs as the
code MCJIT links; whatever it does not take (other relocations, writable data, symbols nobody
gives, offsets outside the data) is refused before a byte is mapped executable; a warm run of
the CLI loads no LLVM at all."""

from __future__ import annotations

import ctypes
import gc
import io
import os
import struct
import subprocess
import sys

import pytest

import recomp
from conftest import ROOT
from recomp.backend import loader
from recomp.backend.jit import jit
from recomp.backend.objects import SECTION_HEADER, MalformedObject, sections
from recomp.frontends import get_frontend
from recomp.runtime.interpreters import HANDLER, HANDLER_SYMBOLS, handler_context, interpreter_context, prebuilt

pytestmark = pytest.mark.skipif(not loader.SUPPORTED, reason="recomp links code itself only on x86-64 Linux")

COUNT_DOWN = bytes([0xA2, 0x00, 0xA0, 0x40, 0xCA, 0xD0, 0xFD, 0x88, 0xD0, 0xFA, 0x4C, 0x0A, 0x02])  # X, Y loops; JMP *


def lift(emu: recomp.Emulator):
    """The region at $0200 as the emulator's pipeline makes it."""
    pipeline = emu.tiers.pipeline
    return pipeline.translate(pipeline.lift(0x0200), False, pipeline.entry_facts())


def test_a_region_linked_here_runs_as_mcjit_links_it():
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), code_cache=None)
    emu.load(COUNT_DOWN, at=0x0200)
    emu.state.pc = 0x0200
    by_mcjit = emu.run(max_instructions=100_000)
    expected = (by_mcjit.pc, emu.state.x, emu.state.y, emu.instructions)
    lifted = lift(emu)
    compiled = jit().compile(lifted.region, emu.guest, guards=True)
    linked = loader.load(compiled.object, compiled.name)
    assert linked.address != compiled.address
    assert ctypes.string_at(linked.address, 16) == ctypes.string_at(compiled.address, 16)
    for code in (compiled, linked):
        again = recomp.Emulator("6502", console=None, output=io.StringIO(), code_cache=None, jit_threshold=0)
        again.load(COUNT_DOWN, at=0x0200)
        again.state.pc = 0x0200
        key = again.tiers.translations.key(0x0200, False, True)
        again.tiers.translations.add(key, again.tiers._compiled(lifted, code))
        result = again.run(max_instructions=100_000)
        assert (result.pc, again.state.x, again.state.y, again.instructions) == expected


def test_a_warm_cli_run_loads_no_llvm(tmp_path):
    """The native interpreter, the SIGINT handler and the program's regions all come linked
    from files: LLVM (``llvmlite.binding``) is never imported."""
    if prebuilt(interpreter_context(get_frontend("6502")), "interpreter") is None or \
            prebuilt(handler_context(), HANDLER) is None:
        pytest.skip("the prebuilt code does not fit these sources (a checkout edited since it was installed)")
    program = ROOT / "benchmarks" / "cc65" / "crc32.sim"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    probe = ("import sys; from recomp.cli import command; sys.argv = ['recomp', 'run', sys.argv[1]]\n"
             "try: command()\n"
             "except SystemExit: pass\n"
             "print('llvm loaded' if 'llvmlite.binding' in sys.modules else 'no llvm', file=sys.stderr)")
    runs = [subprocess.run([sys.executable, "-c", probe, str(program)], env=env, capture_output=True, text=True,
                           timeout=120) for _ in range(3)]
    assert all("crc32" in run.stdout for run in runs)
    assert runs[0].stderr.strip().endswith("llvm loaded")  # (the cold run compiles)
    assert runs[-1].stderr.strip().endswith("no llvm"), runs[-1].stderr


def test_the_sigint_handler_links_with_the_values_given():
    name, data = jit().interrupt_handler(HANDLER_SYMBOLS)
    slots = (ctypes.c_void_p * 4)()
    busy, previous = ctypes.c_int64(1), ctypes.c_void_p(0)
    state = (ctypes.c_uint8 * 64)()
    slots[2] = ctypes.addressof(state)
    values = {"slots": ctypes.addressof(slots), "count": 4, "busy": ctypes.addressof(busy),
              "previous": ctypes.addressof(previous), "interrupt": 50, "events": 49, "limit": 24, "cycle_limit": 32}
    struct.pack_into("<QQ", state, 24, 7, 9)
    handler = loader.load(data, name, {HANDLER_SYMBOLS[k]: v for k, v in values.items()})
    ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(handler.address)(2, None, None)
    assert (state[50], state[49], struct.unpack_from("<QQ", state, 24)) == (1, 1, (0, 0))
    with pytest.raises(MalformedObject, match="recomp_sigint_busy"):
        loader.load(data, name, {HANDLER_SYMBOLS[k]: v for k, v in values.items() if k != "busy"})


def region_object() -> tuple[bytes, str]:
    emu = recomp.Emulator("6502", console=None, output=io.StringIO(), code_cache=None)
    emu.load(COUNT_DOWN, at=0x0200)
    compiled = jit().compile(lift(emu).region, emu.guest, guards=True)
    return compiled.object, compiled.name


def header_of(data: bytearray, name: bytes) -> int:
    """The offset of the section header of section ``name``."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    return shoff + header_index(data, name) * SECTION_HEADER.size


def first_relocation(data: bytearray) -> int:
    """The offset of the first relocation of the code."""
    return sections(bytes(data))[header_index(data, b".rela.ltext")].offset


def header_index(data: bytearray, name: bytes) -> int:
    return [s.name for s in sections(bytes(data))].index(name)


@pytest.mark.parametrize("damage, message", [
    ("relocation type", "relocation type 42"),
    ("relocation offset", "outside its section"),
    ("writable", "writable data"),
    ("function", "does not define"),
    ("alignment", "bad alignment"),
    ("size", "sections take"),
])
def test_what_the_linker_does_not_take_is_refused(damage, message):
    name, data = jit().interrupt_handler(HANDLER_SYMBOLS)  # (its code has relocations)
    externals = dict.fromkeys(HANDLER_SYMBOLS.values(), 8)
    loader.load(data, name, externals)
    damaged = bytearray(data)
    if damage == "relocation type":
        at = first_relocation(damaged)
        struct.pack_into("<Q", damaged, at + 8, struct.unpack_from("<Q", damaged, at + 8)[0] & ~0xFFFFFFFF | 42)
    elif damage == "relocation offset":
        struct.pack_into("<Q", damaged, first_relocation(damaged), 1 << 30)
    elif damage == "writable":
        at = header_of(damaged, b".ltext") + 8  # sh_flags
        struct.pack_into("<Q", damaged, at, struct.unpack_from("<Q", damaged, at)[0] | 1)
    elif damage == "function":
        name = name + "_elsewhere"
    elif damage == "size":  # (a section that takes no bytes of the file: sh_type NOBITS, sh_size)
        at = header_of(damaged, b".ltext")
        struct.pack_into("<I", damaged, at + 4, 8)
        struct.pack_into("<Q", damaged, at + 32, 1 << 40)
    else:
        struct.pack_into("<Q", damaged, header_of(damaged, b".ltext") + 48, 3)  # sh_addralign
    with pytest.raises(MalformedObject, match=message):
        loader.load(bytes(damaged), name, externals)


def test_code_pages_go_with_their_code():
    data, name = region_object()
    linked = loader.load(data, name)
    pages = linked.memory
    maps = lambda: open("/proc/self/maps").read()
    start = f"{pages.address:x}-"
    assert any(line.startswith(start) and " r-xp " in line for line in maps().splitlines())
    del linked, pages
    gc.collect()
    assert not any(line.startswith(start) and " r-xp " in line for line in maps().splitlines())


def test_one_function_is_linked_once():
    data, name = region_object()
    assert loader.link(name, data) is loader.link(name, data)

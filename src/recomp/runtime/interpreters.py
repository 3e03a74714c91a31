"""Where a guest's native interpreter comes from, so that no run waits for LLVM to build one.

A native interpreter (``recomp.backend.native_interpreter``) takes LLVM about half a second to
build: longer than most programs run.  In order of preference, a process gets it

1. from those *prebuilt* when recomp was installed: the package's build hook (``hatch_build.py``
   in the source tree) calls ``build_prebuilt``, which files every variant of every guest's
   interpreter in ``recomp/prebuilt`` beside the code, with a manifest naming the context they
   were made for (recomp's sources, LLVM, the host CPU, the guest);
2. from the code cache, where an earlier run filed it;
3. by building it (and filing it in the code cache, if there is one).

It is built once per process either way.  The native SIGINT handler is prebuilt the same way:
it takes LLVM less time, but then a warm run need not load LLVM at all (``recomp.backend.loader``).
So are the baseline compiler's stencils (``recomp.runtime.baseline``), which a run needs the
first time code turns hot.

Trust: the prebuilt objects are as trusted as the Python code beside them, no more: they are
used only if the folder, the manifest and the object are regular files (not links) owned by the
owner of recomp's own sources and writable by nobody else, if the object's SHA-256 is the
manifest's, and if it is a well-formed object defining the function the manifest names
(``recomp.backend.objects``).  Anything else is not used, and the code comes from the next
source.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from recomp.frontends import FRONTENDS, Frontend, get_frontend
from recomp.runtime.code_cache import CodeCache, Record, digest, source_digest
from recomp.runtime.private_files import folder_problem, read_private

if TYPE_CHECKING:
    from recomp.backend.compiled import Compiled

# guest instructions run from one transfer target (up to the next transfer) before the native
# interpreter returns to have a region compiled there (the state's ``hot``): a million, 3 ms of
# the native interpreter, against the 30 to 80 ms LLVM takes for a region; code that ran that
# long is a loop likely to run much longer, and Klaus Dormann's functional test (30 million
# instructions, no such loop) runs without compiling.  A run that starts with no code from the
# code cache has all its hot code to make, stitched at once: it promotes after half of that
# (the 6502 kernels' cold runs, 2 to 3 ms sooner each; a quarter gained them nothing more, and
# the functional test then stitched and compiled 20 regions, 102 ms instead of 72); a run that
# starts with cached code compiles only what stays hot longer (every region is linked again by
# every later run)
HOT_INSTRUCTIONS = 1 << 20
FIRST_HOT_INSTRUCTIONS = HOT_INSTRUCTIONS >> 1
VARIANTS = tuple((stops, trace) for stops in (False, True) for trace in (False, True))
PREBUILT = Path(__file__).resolve().parent.parent / "prebuilt"  # recomp/prebuilt
MANIFEST = "manifest.json"
HANDLER = "sigint-handler"
STENCILS = "stencils"  # the baseline compiler's (``recomp.runtime.baseline``)
HANDLER_FIELDS = ("interrupt", "events", "limit", "cycle_limit")  # what the SIGINT handler writes in a state
# the symbols the handler reads its tables' addresses, their size and those fields' offsets from,
# given when it is linked (``recomp.runtime.ctrl_c`` keeps the tables)
HANDLER_SYMBOLS = {what: f"recomp_sigint_{what}" for what in ("slots", "count", "busy", "previous", *HANDLER_FIELDS)}
MAX_OBJECT = 1 << 24  # bytes: an interpreter's object is about 200 KiB

_BUILT: dict[tuple[str, bool, bool], Compiled] = {}  # one per process


def native_interpreter(frontend: Frontend, stops: bool, trace: bool, cache: CodeCache | None) -> Compiled:
    """The frontend's native interpreter (``stops``: the variant that returns before stop
    addresses; ``trace``: the one that records each instruction), prebuilt, from the code cache,
    or built now (and filed there)."""
    key = (frontend.guest.name, stops, trace)
    if key not in _BUILT:
        from recomp.backend.loader import link

        found = _made(interpreter_context(frontend), variant_name(stops, trace), cache,
                      lambda: build(frontend, stops, trace))
        _BUILT[key] = link(found.name, found.object, keep=True)
    return _BUILT[key]


def stencil_object(frontend: Frontend, cache: CodeCache | None) -> bytes:
    """The object file of the frontend's stencils (``recomp.backend.stencils``), prebuilt, from
    the code cache, or built now (and filed there)."""
    return _made(interpreter_context(frontend), STENCILS, cache, lambda: build_stencils(frontend)).object


def interpreter_context(frontend: Frontend) -> str:
    """What the interpreter's code depends on: recomp's sources, the JIT, the guest."""
    from recomp.runtime.cached_code import jit_context

    return digest(source_digest(), jit_context(), frontend.guest.name)


def interrupt_handler(values: dict[str, int], cache: CodeCache | None) -> Compiled:
    """The native SIGINT handler (``recomp.backend.signals``), linked with the ``values`` of its
    ``HANDLER_SYMBOLS``: prebuilt, from the code cache, or built now (and filed there)."""
    from recomp.backend.loader import link

    found = _made(handler_context(), HANDLER, cache, build_handler)
    return link(found.name, found.object, keep=True, externals={HANDLER_SYMBOLS[k]: v for k, v in values.items()})


def handler_context() -> str:
    from recomp.runtime.cached_code import jit_context

    return digest(source_digest(), jit_context(), HANDLER)


def _made(context: str, entry: str, cache: CodeCache | None, build: Callable[[], tuple[str, bytes]]) -> Record:
    """Code made once per context: prebuilt, from the code cache, or built now (and filed there)."""
    found = prebuilt(context, entry) or (cache.find(context, entry, b"") if cache is not None else None)
    if found is None:
        name, data = build()
        found = Record(name, {}, data)
        if cache is not None:
            cache.store(context, entry, found)
    return found


def variant_name(stops: bool, trace: bool) -> str:
    return "interpreter" + "-stops" * stops + "-trace" * trace


def build(frontend: Frontend, stops: bool, trace: bool) -> tuple[str, bytes]:
    """A native interpreter made now by LLVM: its function's name and its object file."""
    from recomp.backend.jit import jit

    return jit().native_interpreter(frontend.opcode_lifts(), frontend.guest, stops, trace)


def build_stencils(frontend: Frontend) -> tuple[str, bytes]:
    """The baseline compiler's stencils made now by LLVM: their entry's name and object file."""
    from recomp.backend.jit import jit

    return jit().stencils(frontend.opcode_lifts(), frontend.guest)


def build_handler() -> tuple[str, bytes]:
    """The SIGINT handler made now by LLVM: its function's name and its object file."""
    from recomp.backend.jit import jit

    return jit().interrupt_handler(HANDLER_SYMBOLS)


# --- built at install time --------------------------------------------------------------------
def build_prebuilt(folder: Path) -> list[str]:
    """Build every variant of every guest's native interpreter, its stencils and the SIGINT
    handler into ``folder`` with a manifest (the package's build hook calls this); returns the
    files written."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, dict[str, str]]] = {}
    written = []
    for frontend in _interpreted_frontends():
        context = interpreter_context(frontend)
        entries = manifest.setdefault(context, {})
        for stops, trace in VARIANTS:
            entry = variant_name(stops, trace)
            written.append(_file(folder, f"{frontend.guest.name}-{entry}.o", build(frontend, stops, trace), entries,
                                 entry))
        written.append(_file(folder, f"{frontend.guest.name}-{STENCILS}.o", build_stencils(frontend), entries,
                             STENCILS))
    written.append(_file(folder, f"{HANDLER}.o", build_handler(), manifest.setdefault(handler_context(), {}),
                         HANDLER))
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return [*written, MANIFEST]


def _file(folder: Path, file: str, made: tuple[str, bytes], entries: dict[str, dict[str, str]], entry: str) -> str:
    """Write an object and enter it in the manifest's ``entries``; returns the file's name."""
    name, data = made
    (folder / file).write_bytes(data)
    entries[entry] = {"name": name, "file": file, "sha256": hashlib.sha256(data).hexdigest()}
    return file


def _interpreted_frontends() -> Iterator[Frontend]:
    for name in FRONTENDS:
        frontend = get_frontend(name)
        if frontend.native_interpreter:
            yield frontend


def prebuilt(context: str, entry: str, folder: Path | None = None) -> Record | None:
    """The prebuilt interpreter ``entry`` made for ``context``, if there is a trusted one (in
    ``folder``, by default the package's)."""
    from recomp.backend.objects import MalformedObject, check_object

    folder, owner = PREBUILT if folder is None else folder, _sources_owner()
    manifest = _trusted_read(folder, MANIFEST, owner, 1 << 20)
    if manifest is None:
        return None
    try:
        found = json.loads(manifest)[context][entry]
        name, file, expected = found["name"], found["file"], found["sha256"]
        data = _trusted_read(folder, file, owner, MAX_OBJECT) if Path(file).name == file else None
        if data is None or hashlib.sha256(data).hexdigest() != expected:
            return None
        check_object(data, name)
    except (ValueError, KeyError, TypeError, MalformedObject):
        return None
    return Record(name, {}, data)


def _sources_owner() -> int:
    return os.stat(Path(__file__).resolve()).st_uid


def _trusted_read(folder: Path, name: str, owner: int, limit: int) -> bytes | None:
    """A file's bytes if it and its folder are not links, belong to ``owner`` and are writable
    by nobody else (``recomp.runtime.private_files``' rules, others may read); None otherwise
    (or if it is missing or larger than ``limit``)."""
    if folder_problem(folder, owner) is not None:
        return None
    data = read_private(folder / name, limit, owner, others_may_read=True)
    return data if data is not None and len(data) <= limit else None

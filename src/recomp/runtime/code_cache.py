"""The persistent code cache: compiled regions kept on disk as object files, so that running a
program again skips lifting, optimizing and LLVM for the code that was hot the last time.

A record is filed under a *context* (everything besides the guest's bytes that shaped the code:
recomp's sources, LLVM, the host CPU, the guest and the run's options) and an *entry* (the
translation key's cache name: guest address, specialized flags, guard mode).  It holds the guest
bytes the translation relied on, and is used only while memory holds those bytes.  Each record
carries a SHA-256 of its contents: a corrupt or truncated record is deleted, never executed.

Layout: ``<root>/<context>/<entry>/<bytes digest>.o``; writes go to a temporary file first and
are renamed into place, so a reader never sees half a record.  ``CodeCache`` is the store on
disk; ``CachedCode`` is one machine's use of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from recomp.runtime.keys import TranslationKey
from recomp.runtime.machine import Machine
from recomp.runtime.options import Options

if TYPE_CHECKING:
    from recomp.backend.jit import Compiled

MAGIC = b"RECOMP-OBJ\x01"
SUFFIX = ".o"


def default_root() -> Path:
    """``$XDG_CACHE_HOME/recomp``, by default ``~/.cache/recomp``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "recomp"


@cache
def source_digest() -> str:
    """A digest of recomp's own sources: code compiled by another recomp is never reused."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Record:
    """A compiled region: its function's symbol, the guest bytes it relies on, its object code."""

    name: str
    covers: dict[int, int]  # guest address -> byte value
    object: bytes

    def encode(self) -> bytes:
        header = json.dumps({"name": self.name, "covers": sorted(self.covers.items())}).encode()
        body = len(header).to_bytes(4, "little") + header + self.object
        return MAGIC + hashlib.sha256(body).digest() + body

    @staticmethod
    def decode(data: bytes) -> Record | None:
        """The record in ``data``, or None if it is not one intact record."""
        start = len(MAGIC) + 32
        if len(data) < start + 4 or not data.startswith(MAGIC):
            return None
        body = data[start:]
        if hashlib.sha256(body).digest() != data[len(MAGIC):start]:
            return None
        size = int.from_bytes(body[:4], "little")
        try:
            header = json.loads(body[4:4 + size])
            return Record(header["name"], {int(a): int(v) for a, v in header["covers"]}, body[4 + size:])
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class CacheInfo:
    root: Path
    contexts: int
    records: int
    bytes: int


class CodeCache:
    """Compiled regions on disk under ``root``; counts what it found, missed, wrote and threw away."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.hits = 0
        self.misses = 0
        self.stores = 0
        self.discarded = 0  # corrupt records deleted

    def _folder(self, context: str, entry: str) -> Path:
        return self.root / context / entry

    def find(self, context: str, entry: str, memory: Sequence[int]) -> Record | None:
        """The record for this entry whose guest bytes are in memory now."""
        folder = self._folder(context, entry)
        for path in sorted(folder.glob(f"*{SUFFIX}")):  # not the .tmp files being written
            try:
                record = Record.decode(path.read_bytes())
            except OSError:
                continue
            if record is None:
                self.discarded += 1
                path.unlink(missing_ok=True)
                continue
            if all(0 <= addr < len(memory) and memory[addr] == value for addr, value in record.covers.items()):
                self.hits += 1
                return record
        self.misses += 1
        return None

    def entries(self, context: str) -> list[str]:
        """The entries that have records under a context."""
        try:
            return sorted(path.name for path in (self.root / context).iterdir() if path.is_dir())
        except OSError:
            return []

    def store(self, context: str, entry: str, record: Record) -> bool:
        """File a record; a cache that cannot be written (read-only, full) is skipped: False."""
        folder = self._folder(context, entry)
        name = digest(sorted(record.covers.items())) + SUFFIX
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(record.encode())
                os.replace(temporary, folder / name)
            except OSError:
                os.unlink(temporary)
                raise
        except OSError:
            return False
        self.stores += 1
        return True

    def info(self) -> CacheInfo:
        records = [p for p in self.root.rglob(f"*{SUFFIX}") if p.is_file()] if self.root.is_dir() else []
        contexts = [p for p in self.root.iterdir() if p.is_dir()] if self.root.is_dir() else []
        return CacheInfo(self.root, len(contexts), len(records), sum(p.stat().st_size for p in records))

    def clear(self) -> int:
        """Delete every record; returns how many there were."""
        count = self.info().records
        if self.root.is_dir():
            shutil.rmtree(self.root)
        return count


def jit_context() -> tuple:
    """What, besides the icode, decides the code the process's JIT makes."""
    from recomp.backend.jit import jit

    return jit().context


class CachedCode:
    """One machine's use of a code cache: the context its compiled code is filed under, which
    entries the cache holds there, loading and filing records."""

    def __init__(self, cache: CodeCache, machine: Machine, options: Options, stops: set[int]) -> None:
        self.cache = cache
        self.machine = machine
        self.options = options
        self.stops = stops
        self._context: tuple[tuple, str] | None = None  # (what it depends on, the digest)
        self._entries: set[str] = set()  # the entries the cache holds for the context
        self._preloaded: tuple[str, bool] | None = None  # (context, guard mode) preloaded

    def context(self) -> str:
        """The digest of everything besides guest bytes that shaped this machine's compiled code:
        recomp's sources, the JIT (LLVM, host CPU, pipelines), the guest, the options, and what
        the optimizer and region builder relied on besides the bytes: where devices and stops
        are, and where the loaded program ends (decoding stops there)."""
        m = self.machine
        inputs = (sorted(m.devices), sorted(self.stops), m.loaded_end)
        if self._context is None or self._context[0] != inputs:
            o = self.options
            self._context = inputs, digest(source_digest(), jit_context(), m.guest.name, o.optimize, o.passes,
                                           o.region_instructions, *inputs)
        return self._context[1]

    def preload(self, guards: bool) -> list[TranslationKey]:
        """At the start of a run: the keys of every region the cache holds for this context and
        guard mode, the first time the run has them (a warm start links them all up front)."""
        context = self.context()
        if self._preloaded == (context, guards):
            return []
        self._preloaded = (context, guards)
        self._entries = set(self.cache.entries(context))
        keys = (TranslationKey.parse(entry) for entry in self._entries)
        return [key for key in keys if key is not None and key.guards == guards]

    def load(self, key: TranslationKey) -> tuple[Compiled, set[int]] | None:
        """The code the cache holds for ``key`` and the bytes in memory now, and the bytes it
        covers; None if there is none (or it cannot be loaded)."""
        entry = key.cache_name()
        if entry not in self._entries:  # not on disk: no lookup
            return None
        from recomp.backend.jit import jit

        try:
            record = self.cache.find(self.context(), entry, self.machine.memory_view)
            if record is None:
                return None
            return jit().load(record.name, record.object), set(record.covers)
        except (OSError, ValueError, RuntimeError):
            return None

    def file(self, key: TranslationKey, compiled: Compiled, covers: set[int]) -> bool:
        """Keep compiled code in the cache, with the guest bytes it was made from."""
        if not compiled.object:
            return False
        memory = self.machine.memory_view
        entry = key.cache_name()
        if not self.cache.store(self.context(), entry, Record(compiled.name, {a: memory[a] for a in covers},
                                                               compiled.object)):
            return False
        self._entries.add(entry)
        return True

"""The persistent code cache: compiled regions kept on disk as object files, so that running a
program again skips lifting, optimizing and LLVM for the code that was hot the last time.

The cache holds native code that recomp will execute, so it trusts only what it wrote itself,
where only its user can write (the model of ssh's ``~/.ssh`` and pip's cache):

- The cache root and every directory in it are created owner-only (0700), every file 0600.  A
  root (or a directory in it) that is not owned by the user, is writable by group or others, or
  is a symbolic link is not used at all (``problem`` says why); a symbolic link or a file that is
  not a regular file inside it is never followed or read.
- Records are authenticated: an HMAC-SHA256, under a key made on first use and kept owner-only
  in the cache, covers the record's context, its entry and its contents, so a record moved to
  another entry or context, changed, truncated, or written by anyone without the key is not
  authentic.  An authentic record must still hold a well-formed object defining the expected
  function (``recomp.backend.objects``) before it is handed to the linker.
- A record that fails a check is deleted if it can be, skipped otherwise, and never loaded.

A record is filed under a *context* (everything besides the guest's bytes that shaped the code:
recomp's sources, LLVM, the host CPU, the guest and the run's options) and an *entry* (the
translation key's cache name: guest address, specialized flags, guard mode).  It holds the guest
bytes the translation relied on, and is used only while memory holds those bytes.

Layout: ``<root>/key`` and ``<root>/<context>/<entry>/<bytes digest>.o``; writes go to a
temporary file first and are renamed into place, so a reader never sees half a record.  Beside
the entries, ``<root>/<context>/<digest>.note``: empty files that record a fact a run found (a
program whose hot loops are all compiled), so that later runs skip looking for it.  A note only
ever saves work: one forged or lost changes no result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import stat
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

from recomp.backend.objects import MalformedObject, check_object
from recomp.runtime.private_files import (
    cache_root,
    folder_problem,
    make_folder,
    owner_id,
    read_private,
    unsafe,
    write_private,
)

MAGIC = b"RECOMP-OBJ\x02"
SUFFIX = ".o"
NOTE_SUFFIX = ".note"
KEY_FILE = "key"
KEY_BYTES = 32
MAX_RECORD = 1 << 26  # bytes: a larger file is not a record (a region's object is a few KiB)


@cache
def source_digest() -> str:
    """A digest of recomp's own sources: code compiled by another recomp is never reused (the
    examples an installed package carries in ``data`` are not its sources).  Every process
    computes it: the files are listed with ``os.scandir`` (``Path.rglob`` took 1 of its 3 ms)."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    sources: list[tuple[str, str]] = []  # (path in the package, path)

    def find(folder: str, inside: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__" and (inside or entry.name != "data"):
                        find(entry.path, f"{inside}{entry.name}/")
                elif entry.name.endswith(".py"):
                    sources.append((inside + entry.name, entry.path))

    find(package, "")
    digest = hashlib.sha256()
    for name, path in sorted(sources):
        with open(path, "rb") as source:
            digest.update(name.encode() + b"\0" + source.read())
    return digest.hexdigest()


def digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


class Record(NamedTuple):
    """A compiled region: its function's symbol, the guest bytes it relies on, its object code."""

    name: str
    covers: dict[int, int]  # guest address -> byte value
    object: bytes

    def encode(self, key: bytes, context: str, entry: str) -> bytes:
        header = json.dumps({"name": self.name, "covers": sorted(self.covers.items())}).encode()
        body = len(header).to_bytes(4, "little") + header + self.object
        return MAGIC + _mac(key, context, entry, body) + body

    @staticmethod
    def decode(data: bytes, key: bytes, context: str, entry: str) -> Record | None:
        """The record in ``data`` if it is one intact record made with ``key`` for this context
        and entry, else None."""
        start = len(MAGIC) + 32
        if len(data) < start + 4 or not data.startswith(MAGIC):
            return None
        body = data[start:]
        if not hmac.compare_digest(_mac(key, context, entry, body), data[len(MAGIC):start]):
            return None
        size = int.from_bytes(body[:4], "little")
        try:
            header = json.loads(body[4:4 + size])
            return Record(str(header["name"]), {int(a): int(v) for a, v in header["covers"]}, body[4 + size:])
        except (ValueError, KeyError, TypeError):
            return None


def _mac(key: bytes, context: str, entry: str, body: bytes) -> bytes:
    return hmac.new(key, context.encode() + b"\0" + entry.encode() + b"\0" + body, hashlib.sha256).digest()


class CacheInfo(NamedTuple):
    """What ``recomp cache`` shows of a cache."""

    root: Path
    problem: str | None  # why recomp does not use the cache (None: it does)
    contexts: int
    records: int
    bytes: int


class CodeCache:
    """Compiled regions on disk under ``root``, trusted only as the module says; counts what it
    found, missed, wrote and threw away.  ``owner``: the user the cache must belong to (the
    current one; tests pass another to see a foreign cache refused)."""

    def __init__(self, root: Path | str | None = None, owner: int | None = None) -> None:
        self.root = Path(root) if root is not None else cache_root()
        self.owner = owner_id(owner)
        self.hits = 0
        self.misses = 0
        self.stores = 0
        self.discarded = 0  # records that failed a check, deleted

    # --- trust (the rules of ``recomp.runtime.private_files``) ------------------------------------
    def problem(self) -> str | None:
        """Why the cache must not be used, or None.  A cache that does not exist yet is fine:
        it is created owner-only."""
        reason = folder_problem(self.root, self.owner)
        if reason is not None:
            return f"it {reason}"
        try:
            key = os.lstat(self.root / KEY_FILE)
        except FileNotFoundError:
            return None
        except OSError as error:
            return f"its key cannot be read ({error.strerror})"
        reason = unsafe(key, False, self.owner)
        if reason is None and key.st_size != KEY_BYTES:
            reason = f"is damaged ({key.st_size} bytes)"
        return None if reason is None else f"its key {reason}"

    def _trusted_dir(self, path: Path) -> bool:
        """The folder exists and is to be trusted."""
        return os.path.lexists(path) and folder_problem(path, self.owner) is None

    def _key(self, create: bool) -> bytes | None:
        """The cache's key (made on first use if ``create``), or None."""
        path = self.root / KEY_FILE
        if create and not os.path.lexists(path):
            return self._new_key()
        key = read_private(path, KEY_BYTES, self.owner)
        return key if key is not None and len(key) == KEY_BYTES else None

    def _new_key(self) -> bytes | None:
        """Make the key: written to a private temporary file, then linked into place (so a
        reader never sees half a key, and of two processes making one at once, one wins)."""
        import secrets  # (with tempfile: loaded only by the run that makes a cache)
        import tempfile

        if not self._make_dir(self.root):
            return None
        key = secrets.token_bytes(KEY_BYTES)
        handle, temporary = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(key)
            os.link(temporary, self.root / KEY_FILE)
        except FileExistsError:
            return self._key(create=False)
        except OSError:
            return None
        finally:
            os.unlink(temporary)
        return key

    def _make_dir(self, path: Path) -> bool:
        """An owner-only directory of the cache (made if missing); False if that cannot be."""
        return make_folder(path, self.owner, parents=path == self.root)

    # --- records ---------------------------------------------------------------------------------
    def find(self, context: str, entry: str, memory: Sequence[int]) -> Record | None:
        """The authentic, well-formed record for this entry whose guest bytes are in memory now."""
        folder = self.root / context / entry
        key = self._key(create=False) if self.problem() is None else None
        if key is None or not (self._trusted_dir(folder.parent) and self._trusted_dir(folder)):
            self.misses += 1
            return None
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(SUFFIX))  # not the .tmp files
        except OSError:
            names = []
        for name in names:
            record = self._read(folder / name, key, context, entry)
            if record is None:
                continue
            if all(0 <= addr < len(memory) and memory[addr] == value for addr, value in record.covers.items()):
                self.hits += 1
                return record
        self.misses += 1
        return None

    def _read(self, path: Path, key: bytes, context: str, entry: str) -> Record | None:
        """A record file, if it is a regular file (never a link) holding an authentic record of
        a well-formed object; a file that fails is deleted where it can be."""
        try:
            handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return self._discard(path)
        with os.fdopen(handle, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RECORD:
                return self._discard(path)
            data = file.read(MAX_RECORD + 1)
        record = Record.decode(data, key, context, entry)
        if record is None:
            return self._discard(path)
        try:
            check_object(record.object, record.name)
        except MalformedObject:
            return self._discard(path)
        return record

    def _discard(self, path: Path) -> None:
        self.discarded += 1
        try:
            os.unlink(path)  # a link is removed, never what it points at
        except OSError:
            pass  # (a read-only cache: skipped, and never loaded)

    def entries(self, context: str) -> list[str]:
        """The entries that have records under a context (directories only, never links)."""
        folder = self.root / context
        if self.problem() is not None or not self._trusted_dir(folder):
            return []
        try:
            with os.scandir(folder) as found:
                return sorted(e.name for e in found if e.is_dir(follow_symlinks=False))
        except OSError:
            return []

    def store(self, context: str, entry: str, record: Record) -> bool:
        """File a record; a cache that cannot be written (read-only, full) or is not trusted is
        skipped: False."""
        if self.problem() is not None:
            return False
        key = self._key(create=True)
        folder = self.root / context / entry
        if key is None or not (self._make_dir(folder.parent) and self._make_dir(folder)):
            return False
        name = digest(sorted(record.covers.items())) + SUFFIX
        try:
            write_private(folder / name, record.encode(key, context, entry))
        except OSError:
            return False
        self.stores += 1
        return True

    # --- notes ---------------------------------------------------------------------------------
    def noted(self, context: str, note: str) -> bool:
        """Whether a note (a fact a run found, kept so that later runs need not find it again:
        an empty owner-only file ``<context>/<note>.note``) is in the cache."""
        path = self.root / context / f"{note}{NOTE_SUFFIX}"
        try:
            return self.problem() is None and unsafe(os.lstat(path), False, self.owner) is None
        except OSError:
            return False

    def note(self, context: str, note: str) -> bool:
        """Keep a note under a context; False where the cache cannot be written."""
        folder = self.root / context
        if self.problem() is not None or not self._make_dir(folder.parent) or not self._make_dir(folder):
            return False
        try:
            write_private(folder / f"{note}{NOTE_SUFFIX}", b"")
        except OSError:
            return False
        return True

    # --- the cache as a whole --------------------------------------------------------------------
    def info(self) -> CacheInfo:
        """Where the cache is, whether it is used, and what it holds (files under it, links not
        followed)."""
        problem = self.problem()
        contexts = records = size = 0
        if problem is None and self.root.is_dir():
            for folder, directories, files in os.walk(self.root, onerror=lambda error: None):
                if Path(folder) == self.root:
                    contexts = len(directories)
                for name in files:
                    if name.endswith(SUFFIX):
                        try:
                            info = os.lstat(Path(folder) / name)
                        except OSError:
                            continue
                        records += 1
                        size += info.st_size
        return CacheInfo(self.root, problem, contexts, records, size)

    def clear(self) -> int:
        """Delete the cache (a link at its place is removed, never followed); returns how many
        records it held.  Raises OSError if it cannot be deleted."""
        count = self.info().records
        if self.root.is_symlink():
            self.root.unlink()
        elif self.root.exists():
            shutil.rmtree(self.root)
        return count

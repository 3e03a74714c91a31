"""recomp's own folders in the user's home, and the rules by which it trusts what it finds there
(the model of ssh's ``~/.ssh``): the code cache (``$XDG_CACHE_HOME/recomp``: native code recomp
executes) and the state folder (``$XDG_STATE_HOME/recomp``: the monitor's history).

- Folders are made owner-only (0700) and files 0600.
- A folder that is a symbolic link, is not a directory, belongs to another user, or that group
  or others may write is not used; nor is a file that is a link, is not a regular file, belongs
  to another user, or that anyone but its owner may read or write.  Files are opened without
  following links (``O_NOFOLLOW``) and checked on the descriptor opened, so what is checked is
  what is read.
- Files are written to a temporary file in their folder and renamed into place: a reader never
  sees half a file, and a link planted at the name is replaced, never followed.

``owner`` is the user the files must belong to (the current one; tests pass another, as if
another user had made them).  Files others may read but not write (``others_may_read``: the
native interpreters prebuilt beside recomp's code) are read by the same rules otherwise."""

from __future__ import annotations

import os
import stat
from pathlib import Path

SHARED_WRITE = 0o022  # mode bits no folder may have (group or others write)
NOT_PRIVATE = 0o077  # mode bits no file may have (anyone but the owner)


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/recomp``, by default ``~/.cache/recomp``."""
    return _xdg("XDG_CACHE_HOME", ".cache")


def state_root() -> Path:
    """``$XDG_STATE_HOME/recomp``, by default ``~/.local/state/recomp``."""
    return _xdg("XDG_STATE_HOME", os.path.join(".local", "state"))


def _xdg(variable: str, default: str) -> Path:
    base = os.environ.get(variable) or os.path.join(os.path.expanduser("~"), default)
    return Path(base) / "recomp"


def owner_id(owner: int | None) -> int:
    return os.getuid() if owner is None else owner


def unsafe(info: os.stat_result, directory: bool, owner: int, others_may_read: bool = False) -> str | None:
    """Why a folder (``directory``) or a file with this ``lstat``/``fstat`` is not to be trusted,
    or None."""
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if directory != stat.S_ISDIR(info.st_mode) or not (directory or stat.S_ISREG(info.st_mode)):
        return "is not a directory" if directory else "is not a regular file"
    if info.st_uid != owner:
        return f"is owned by user {info.st_uid}, not by you ({owner})"
    mode = stat.S_IMODE(info.st_mode)
    if (directory or others_may_read) and mode & SHARED_WRITE:
        return f"is writable by group or others (mode {mode:04o})"
    if not (directory or others_may_read) and mode & NOT_PRIVATE:
        return f"is readable or writable by others (mode {mode:04o})"
    return None


def folder_problem(path: Path, owner: int) -> str | None:
    """Why an existing folder is not to be trusted (a missing one is fine: it is made owner-only)."""
    try:
        return unsafe(os.lstat(path), True, owner)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot be read ({error.strerror})"


def make_folder(path: Path, owner: int, parents: bool = False) -> bool:
    """An owner-only folder, made if missing (with its missing parents, if ``parents``); False if
    it cannot be made or is not to be trusted."""
    try:
        if parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    return folder_problem(path, owner) is None


def read_private(path: Path, limit: int, owner: int, others_may_read: bool = False) -> bytes | None:
    """The bytes of an owner-only file (at most ``limit + 1`` of them), or None if it is missing,
    cannot be read or is not to be trusted (a link is never followed, a FIFO never waited on)."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(handle, "rb") as file:
        if unsafe(os.fstat(file.fileno()), False, owner, others_may_read) is not None:
            return None
        try:
            return file.read(limit + 1)
        except OSError:
            return None


def write_private(path: Path, data: bytes) -> None:
    """Write an owner-only file whole: a temporary file (0600) renamed over ``path``.  Raises
    OSError if it cannot be written."""
    import tempfile  # (loaded only by a run that files something)

    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise

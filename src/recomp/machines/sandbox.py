"""The folder a guest program's files are confined to (sim65's ``open`` and ``remove``), held by
construction rather than by checking path strings:

- The folder is opened once, when the machine is built, and every guest path is walked from
  that descriptor one name at a time, each folder opened relative to the one before without
  following links (``O_NOFOLLOW``): what was opened is what is used, so no change to the tree
  meanwhile (a folder swapped for a link to ``../outside``) can lead out.
- ``..`` goes back to the descriptor of the folder before it, never above the sandbox.  A
  symbolic link is followed the same way, name by name from where it stands (or from the
  sandbox, for an absolute one that names a place inside it): a link leading outside fails.
- Only regular files and folders are opened, without waiting (``O_NONBLOCK``): a FIFO, a
  device or a socket fails in the guest at once instead of hanging the run.
- A folder that holds recomp's own files (the code cache, whose native code recomp executes,
  the state folder, recomp's installation and the Python it runs on), or lies inside one, is
  never a sandbox: a guest could plant code the next run executes.  Given as ``--sandbox``, it is
  refused; as the default (the working directory), the guest gets no files, and says so once.

A path that fails any of this fails in the guest (``open`` returns -1) and never reaches the host.
"""

from __future__ import annotations

import errno
import os
import site
import stat
import sys
import weakref
from collections.abc import Callable
from pathlib import Path

from recomp.runtime.errors import ConfigError
from recomp.runtime.private_files import cache_root, state_root

MAX_LINKS = 40  # symbolic links one path may pass through (the kernel's own limit)
FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# what the final open adds to the guest's flags
FILE = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def openable(mode: int) -> bool:
    """The kinds of file a guest may open: regular files and folders."""
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def recomp_places() -> list[tuple[str, Path]]:
    """What a sandbox must not hold, nor lie in: (what it is, where)."""
    package = Path(__file__).resolve().parents[1]
    python = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    user_site = site.getusersitepackages()
    return [("recomp's code cache", cache_root()), ("recomp's state folder", state_root()),
            ("recomp's own code", package),
            *(("the Python recomp runs on", path) for path in sorted(python)),
            ("the Python packages of your user", Path(user_site))]


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "."


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def recomp_place_in(folder: int, path: Path) -> str | None:
    """Which of recomp's places the open folder ``folder`` (found at ``path``) holds or lies in,
    as a phrase ("holds recomp's code cache (/home/me/.cache/recomp)"), or None.  Folders are
    compared by device and inode, so a second path to one (a link, a bind mount) is no way round."""
    info = os.fstat(folder)
    here = (info.st_dev, info.st_ino)
    real = Path(os.path.realpath(path))
    above = {_identity(p) for p in (real, *real.parents)}
    for what, place in recomp_places():
        where = Path(os.path.realpath(place))
        if here in {_identity(p) for p in (where, *where.parents)}:
            return f"holds {what} ({place})"
        if _identity(where) in above - {None}:
            return f"lies inside {what} ({place})"
    return None


class Sandbox:
    """A folder guest files are confined to: ``folder``, or the working directory (None).

    ``ConfigError`` if a ``folder`` given is missing, not a folder, or holds recomp's places; the
    working directory in that case gives the guest no files (``off`` says why, and ``warn`` is
    told once, at the guest's first try)."""

    def __init__(self, folder: Path | None, warn: Callable[[str], None] | None = None) -> None:
        self.off: str | None = None  # why the guest has no files (None: it has the folder's)
        self.warn = warn
        self.root = -1
        path = Path(folder) if folder is not None else Path(".")
        what = f"the sandbox {folder}" if folder is not None else f"the working directory ({_cwd()})"
        try:
            self.root = os.open(path, FOLDER & ~os.O_NOFOLLOW)  # (the folder named may be a link to it)
        except OSError as error:
            reason = {errno.ENOENT: "does not exist", errno.ENOTDIR: "is not a folder"}.get(
                error.errno, f"cannot be opened ({error.strerror})")
            self._refuse(folder, f"{what} {reason}", "")
            return
        weakref.finalize(self, os.close, self.root)
        held = recomp_place_in(self.root, path)
        if held is not None:
            self._refuse(folder, f"{what} {held}: a guest could plant code there that recomp runs later",
                         "; choose another folder")
            return
        real = os.fsencode(os.path.realpath(path))
        self.prefixes = {real, os.fsencode(os.path.abspath(path))}  # absolute paths that lead inside

    def _refuse(self, folder: Path | None, reason: str, hint: str) -> None:
        if folder is not None:
            raise ConfigError(reason + hint)
        self.off = f"guest file access is off: {reason}; run from another folder or give --sandbox DIR"

    # --- what the guest may do --------------------------------------------------------------------
    def open(self, name: bytes, flags: int) -> int:
        """A host descriptor for the guest path ``name`` opened with ``flags`` (files are made
        0600); OSError if it cannot be, or leads outside, or is not a regular file or a folder."""
        parent, last, folder = self._walk(name, follow_last=not (flags & os.O_CREAT and flags & os.O_EXCL))
        try:
            try:
                kind = os.stat(last, dir_fd=parent, follow_symlinks=False).st_mode
            except FileNotFoundError:
                kind = None
            if kind is not None and not openable(kind) and not stat.S_ISLNK(kind):
                raise PermissionError(errno.EACCES, "not a regular file or a folder")
            fd = os.open(last, flags | FILE | (os.O_DIRECTORY if folder else 0), 0o600, dir_fd=parent)
            if not openable(os.fstat(fd).st_mode):  # (swapped in meanwhile)
                os.close(fd)
                raise PermissionError(errno.EACCES, "not a regular file or a folder")
            return fd
        finally:
            self._close(parent)

    def remove(self, name: bytes) -> None:
        """Remove a file (or an empty folder) as ``remove(3)`` does; a link is removed, never what
        it points at.  OSError if it cannot be."""
        parent, last, _ = self._walk(name, follow_last=False)
        try:
            try:
                os.unlink(last, dir_fd=parent)
            except IsADirectoryError:
                os.rmdir(last, dir_fd=parent)
        finally:
            self._close(parent)

    # --- the walk ---------------------------------------------------------------------------------
    def _walk(self, name: bytes, follow_last: bool) -> tuple[int, bytes, bool]:
        """The folder holding the last name of ``name`` (an open descriptor: the caller closes it
        with ``_close``), that name, and whether it must be a folder (a trailing ``/``).  Links on
        the way are followed inside the sandbox; the last one too if ``follow_last``."""
        if self.off is not None:
            if self.warn is not None:
                self.warn(f"recomp: warning: {self.off}")
                self.warn = None
            raise PermissionError(errno.EACCES, self.off)
        names = self._names(name)
        folder_only = name.endswith(b"/")
        stack = [self.root]  # the folders walked, the sandbox first
        links = 0
        try:
            while names:
                part = names.pop(0)
                if part == b"..":
                    if len(stack) == 1:
                        raise PermissionError(errno.EACCES, "outside the sandbox")
                    os.close(stack.pop())
                    continue
                target = self._link(stack[-1], part) if names or follow_last else None
                if target is not None:
                    links += 1
                    if links > MAX_LINKS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
                    if target.startswith(b"/"):
                        for fd in stack[1:]:
                            os.close(fd)
                        del stack[1:]
                    names[:0] = self._names(target)
                    continue
                if not names:
                    parent = stack.pop()
                    for fd in stack[1:]:
                        os.close(fd)
                    return parent, part, folder_only
                stack.append(os.open(part, FOLDER, dir_fd=stack[-1]))
            raise PermissionError(errno.EACCES, "the sandbox itself")
        except BaseException:
            for fd in stack[1:]:
                os.close(fd)
            raise

    def _names(self, path: bytes) -> list[bytes]:
        """The names of a path, relative to the sandbox (an absolute path must lead into it)."""
        if path.startswith(b"/"):
            inside = [path[len(p):] for p in self.prefixes if path == p or path.startswith(p + b"/")]
            if not inside:
                raise PermissionError(errno.EACCES, "outside the sandbox")
            path = inside[0]
        return [part for part in path.split(b"/") if part not in (b"", b".")]

    @staticmethod
    def _link(folder: int, name: bytes) -> bytes | None:
        """Where the link ``name`` in ``folder`` points, or None if it is not a link."""
        try:
            return os.readlink(name, dir_fd=folder)
        except OSError:
            return None

    def _close(self, folder: int) -> None:
        if folder != self.root:
            os.close(folder)

"""What a submission's entries are, and how one regular file is read: what ``grader.files`` builds on.

``Node`` is one entry of a tree (a file, a folder, a link, a special file), ``Skipped`` an entry that
was not read and why, ``Listing`` what ``Tree.files`` returns. ``read_regular`` reads a regular file
under a size cap without ever blocking on a named pipe or a device swapped in for it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

JUNK = frozenset({"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini", "node_modules"})
ROOT = PurePosixPath()

_SPECIAL = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
            (stat.S_ISBLK, "a device"))


class TreeError(Exception):
    """The folder or zip cannot be read as a whole (not a zip, too many entries): the message says why."""


def is_junk(name: str) -> bool:
    """Hidden files and folders, and what macOS, Windows, Python and npm leave behind."""
    return name.startswith(".") or name in JUNK


def kind_of(mode: int) -> str:
    """What a file mode is, in words: ``a file``, ``a folder``, ``a symbolic link``, ``a named pipe``..."""
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return next((what for test, what in _SPECIAL if test(mode)), "a special file")


@dataclass(frozen=True)
class Node:
    kind: str          # "file", "dir", "link" or "other"
    size: int = 0
    target: str = ""   # a link's target, as written
    what: str = ""     # an "other"'s kind in words (a named pipe...)


@dataclass(frozen=True)
class Skipped:
    """An entry that was not read, and why (for the student's report)."""
    path: PurePosixPath
    reason: str

    def __str__(self) -> str:
        return f"{self.path} {self.reason}: not read"


@dataclass
class Listing:
    """``Tree.files``: each readable file as ``(shown, real)`` (where the student put it, and the file it
    is, after links), and what was skipped."""
    files: list[tuple[PurePosixPath, PurePosixPath]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def read_regular(path: Path, limit: int, *, follow: bool = True) -> bytes:
    """The bytes of a regular file, at most ``limit`` (``TreeError`` past it). Opened without blocking
    and checked with ``fstat`` before reading: a named pipe or a device is refused, never read.
    ``follow=False``: a link in the last component is refused too."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise TreeError(f"{path.name} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TreeError(f"{path.name} is {kind_of(info.st_mode)}, not a file")
        if info.st_size > limit:
            raise TreeError(f"{path.name} is larger than {_size(limit)}")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise TreeError(f"{path.name} cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise TreeError(f"{path.name} is larger than {_size(limit)}")
    return data


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"

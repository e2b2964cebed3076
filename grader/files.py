"""A submission's files, read without ever following a link out of it.

A folder is walked with ``lstat`` (``os.scandir`` without following anything) and a zip is read from its
list of members; either becomes a ``Tree``: every file, folder, symbolic link and special file (a named
pipe, a socket, a device) under its own path. Nothing is unpacked to disk to be looked at, and no link
is followed by the operating system. A link is resolved by ``Tree.resolve``, inside the tree, component
by component as ``realpath`` would: it is followed when it ends at a file or folder of the same tree,
and skipped, with the reason, when it is absolute, climbs out with ``..``, dangles, or loops. A zip's
links are its members whose Unix mode says ``S_IFLNK`` (their content is the target), so a zip holding
``d -> /etc`` and then ``d/passwd`` is read as a link that leads out and a member under a link: neither
is read, whatever the order of the members.

``Tree.files`` lists what a student would see, links resolved: ``(shown path, real path)`` pairs, and
the skipped entries with why. ``Tree.read`` reads one real file under a size cap, refusing anything that
is not a regular file (a named pipe swapped in would otherwise block the read).

What an entry is, and the read of one regular file, are in ``grader.files_entries``; writing a tree to
disk in ``grader.files_write``; looking for a name in Python source in ``grader.files_code``.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from grader.files_entries import (
    ROOT,
    Listing,
    Node,
    Skipped,
    TreeError,
    _size,
    is_junk,
    kind_of,
    read_regular,
)

MAX_ENTRIES = 20_000      # files, folders and links one submission's tree may hold
MAX_DEPTH = 64            # folders within folders
MAX_LINK_HOPS = 40        # as Linux's own limit on links followed in one path
MAX_LINK_BYTES = 4096     # a zip member that claims to be a link and is longer is not one


class Tree:
    """The entries of a folder or a zip by relative path; see the module's docstring."""

    most = MAX_ENTRIES

    def __init__(self, nodes: dict[PurePosixPath, Node], label: str, skipped: list[Skipped] | None = None):
        self.nodes = nodes
        self.label = label  # "the folder alice", "the zip hw.zip": for messages
        self.unreadable = list(skipped or [])  # entries that were never nodes (a zip member named ../x)
        self.children: dict[PurePosixPath, list[str]] = {}
        self._index()

    def _index(self) -> None:
        self.children = {}
        for path in sorted(self.nodes):
            if path != ROOT:
                self.children.setdefault(path.parent, []).append(path.name)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_folder(cls, root: Path, label: str | None = None, *, most: int = MAX_ENTRIES) -> FolderTree:
        return FolderTree(root, label or f"the folder {root.name}", most)

    @classmethod
    def from_zip(cls, source: Path | bytes, name: str, label: str | None = None, *, most: int = MAX_ENTRIES) -> ZipTree:
        return ZipTree(source, name, label or f"the zip {name}", most)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def read(self, real: PurePosixPath, limit: int) -> bytes:
        """The bytes of the file at ``real`` (a path ``files`` returned); ``TreeError`` past ``limit``."""
        raise NotImplementedError

    def copy(self, real: PurePosixPath, into: BinaryIO, limit: int) -> None:
        """Write the file at ``real`` into the open file ``into`` (``read``, for small files)."""
        into.write(self.read(real, limit))

    def resolve(self, path: PurePosixPath) -> tuple[PurePosixPath | None, str]:
        """Where ``path`` leads inside the tree, every link followed: ``(real path, "")``, or ``(None, why
        not)`` when a link on the way is absolute, leads out, dangles or loops."""
        pending = list(path.parts)
        current = ROOT
        hops = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if current == ROOT:
                    return None, "outside the submission"
                current = current.parent
                continue
            step = current / part
            node = self.nodes.get(step)
            if node is None or (pending and node.kind == "file"):
                return None, "which is not in the submission"
            if node.kind == "link":
                hops += 1
                if hops > MAX_LINK_HOPS:
                    return None, "in a loop of links"
                target = node.target.replace("\\", "/")
                if target.startswith("/") or (len(target) > 1 and target[1] == ":"):
                    return None, "an absolute path, outside the submission"
                pending[:0] = PurePosixPath(target).parts
                continue
            if node.kind == "other":
                return None, f"{node.what}, not a file"
            current = step
        return current, ""

    def files(self) -> Listing:
        """Every file a student would see, links inside the tree followed (a link to a folder lists that
        folder's files under the link's name, unless it leads back up into itself), in path order."""
        listing = Listing(skipped=list(self.unreadable))
        self._list(ROOT, ROOT, (ROOT,), listing)
        return listing

    def _list(self, real_dir: PurePosixPath, shown_dir: PurePosixPath, stack: tuple[PurePosixPath, ...],
              listing: Listing) -> None:
        for name in self.children.get(real_dir, []):
            real, shown = real_dir / name, shown_dir / name
            node = self.nodes[real]
            if len(listing.files) + len(listing.skipped) > self.most:
                raise TreeError(f"{self.label} holds more than {self.most} files")
            if node.kind == "file":
                listing.files.append((shown, real))
            elif node.kind == "dir":
                self._list(real, shown, (*stack, real), listing)
            elif node.kind == "other":
                listing.skipped.append(Skipped(shown, f"is {node.what}, not a file"))
            else:
                to, why = self.resolve(real)
                if to is None:
                    listing.skipped.append(Skipped(shown, f"is a symbolic link to {node.target}, {why}"))
                elif to != ROOT and self.nodes[to].kind == "file":
                    listing.files.append((shown, to))
                elif any(to == s or to in s.parents for s in stack):
                    listing.skipped.append(Skipped(shown, f"is a symbolic link to {node.target}, a folder that "
                                                          "holds the link itself (a loop)"))
                else:
                    self._list(to, shown, (*stack, to), listing)

    def entries(self) -> Iterator[tuple[PurePosixPath, Node]]:
        """Every node but the root, in path order, links and special files included."""
        for path in sorted(self.nodes):
            if path != ROOT:
                yield path, self.nodes[path]

    def digest(self, limit: int) -> str:
        """sha256 over every entry: its path, its kind, a file's content (up to ``limit`` bytes, then its
        size), a link's target. Reads no link and nothing but regular files."""
        h = hashlib.sha256()
        for path, node in self.entries():
            h.update(f"{path}\0{node.kind}\0{node.target}\0{node.size}\0".encode("utf-8", "surrogateescape"))
            if node.kind == "file" and node.size <= limit:
                try:
                    h.update(hashlib.sha256(self.read(path, limit)).digest())
                except (TreeError, OSError) as exc:
                    h.update(f"unreadable: {exc}".encode("utf-8", "surrogateescape"))
        for skipped in self.unreadable:
            h.update(f"{skipped}".encode("utf-8", "surrogateescape"))
        return h.hexdigest()


class FolderTree(Tree):
    """A folder, walked without following links (hidden folders, ``__pycache__`` and the like not entered)."""

    def __init__(self, root: Path, label: str, most: int):
        self.root, self.most, self.label = root, most, label
        nodes: dict[PurePosixPath, Node] = {ROOT: Node("dir")}
        self._walk(root, ROOT, nodes, 0)
        super().__init__(nodes, label)

    def _walk(self, folder: Path, relative: PurePosixPath, nodes: dict[PurePosixPath, Node], depth: int) -> None:
        if depth > MAX_DEPTH:
            raise TreeError(f"{self.label} nests folders more than {MAX_DEPTH} deep")
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if relative == ROOT:
                raise TreeError(f"{self.label} cannot be read ({exc.strerror})") from None
            nodes[relative] = Node("other", what=f"a folder that cannot be read ({exc.strerror})")
            return
        for entry in entries:
            if len(nodes) > self.most:
                raise TreeError(f"{self.label} holds more than {self.most} files")
            path = relative / entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                nodes[path] = Node("other", what=f"an entry that cannot be read ({exc.strerror})")
                continue
            if stat.S_ISLNK(info.st_mode):
                try:
                    nodes[path] = Node("link", target=os.readlink(entry.path))
                except OSError as exc:
                    nodes[path] = Node("other", what=f"a link that cannot be read ({exc.strerror})")
            elif stat.S_ISDIR(info.st_mode):
                nodes[path] = Node("dir")
                if not is_junk(entry.name):
                    self._walk(Path(entry.path), path, nodes, depth + 1)
            elif stat.S_ISREG(info.st_mode):
                nodes[path] = Node("file", size=info.st_size)
            else:
                nodes[path] = Node("other", what=kind_of(info.st_mode))

    def read(self, real: PurePosixPath, limit: int) -> bytes:
        return read_regular(self.root.joinpath(*real.parts), limit, follow=False)


class ZipTree(Tree):
    """A zip's members. Folders a member implies are folders; a member named outside the zip (absolute,
    ``..``) is listed as skipped, never a node."""

    def __init__(self, source: Path | bytes, name: str, label: str, most: int):
        self.name, self.most = name, most
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
            raise TreeError(f"{label} is not a readable zip file ({exc})") from None
        except OSError as exc:
            raise TreeError(f"{label} cannot be read ({exc.strerror or exc})") from None
        try:
            members = self.archive.infolist()
            if len(members) > most:
                raise TreeError(f"{label} holds {len(members)} members, more than {most}")
            nodes: dict[PurePosixPath, Node] = {ROOT: Node("dir")}
            self.members: dict[PurePosixPath, zipfile.ZipInfo] = {}
            skipped = []
            for member in members:
                raw = member.filename.replace("\\", "/")
                path = PurePosixPath(raw)
                if raw.startswith("/") or ".." in path.parts or (path.parts and ":" in path.parts[0]):
                    skipped.append(Skipped(PurePosixPath(raw), "is named outside the zip"))
                    continue
                if not path.parts:
                    continue
                if path in nodes:  # a second member of one name, or a folder's and a file's: the first counts
                    if not member.is_dir():
                        skipped.append(Skipped(path, "is a second entry of that name"))
                    continue
                if len(path.parts) > MAX_DEPTH:
                    skipped.append(Skipped(path, f"is nested more than {MAX_DEPTH} folders deep"))
                    continue
                for parent in reversed(path.parents):
                    nodes.setdefault(parent, Node("dir"))
                nodes[path] = self._node(member)
                self.members[path] = member
        except TreeError:
            self.archive.close()
            raise
        super().__init__(nodes, label, skipped)
        # A member under a path that is itself a member file or link (``d`` a link, then ``d/x``) cannot
        # be reached without following that link: it is listed as skipped, and is no node.
        kinds = {path: node.kind for path, node in self.nodes.items()}
        for path in sorted(p for p in kinds if p != ROOT):
            blocker = next((q for q in reversed(path.parents) if kinds[q] != "dir"), None)
            if blocker is not None:
                del self.nodes[path]
                what = {"link": "a symbolic link", "file": "a file"}.get(kinds[blocker], "not a folder")
                self.unreadable.append(Skipped(path, f"is under {blocker}, which is {what}"))
        self._index()

    def _node(self, member: zipfile.ZipInfo) -> Node:
        mode = member.external_attr >> 16
        if member.is_dir():
            return Node("dir")
        if member.create_system == 3 and stat.S_ISLNK(mode):
            if member.file_size > MAX_LINK_BYTES:
                return Node("other", what="a symbolic link too long to be one")
            try:
                target = self.archive.read(member).decode("utf-8", "surrogateescape")
            except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError) as exc:
                return Node("other", what=f"a symbolic link that cannot be read ({exc})")
            return Node("link", target=target)
        if member.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            return Node("other", what=kind_of(mode))
        return Node("file", size=member.file_size)

    def read(self, real: PurePosixPath, limit: int) -> bytes:
        member = self.members[real]
        if member.file_size > limit:
            raise TreeError(f"{real} is larger than {_size(limit)}")
        try:
            with self.archive.open(member) as src:
                data = src.read(limit + 1)
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise TreeError(f"{real} in {self.label} cannot be unpacked ({exc})") from None
        if len(data) > limit:
            raise TreeError(f"{real} is larger than {_size(limit)}")
        return data

    def copy(self, real: PurePosixPath, into: BinaryIO, limit: int) -> None:
        """Unpack a member into ``into`` a megabyte at a time: a class zip's members may be large."""
        member = self.members[real]
        if member.file_size > limit:
            raise TreeError(f"{real} is larger than {_size(limit)}")
        written = 0
        try:
            with self.archive.open(member) as src:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > limit:
                        raise TreeError(f"{real} is larger than {_size(limit)}")
                    into.write(chunk)
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise TreeError(f"{real} in {self.label} cannot be unpacked ({exc})") from None

    def close(self) -> None:
        self.archive.close()

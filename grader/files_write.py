"""A submission's tree written to disk as it is, links as links, without writing through any of them."""

from __future__ import annotations

import os
from pathlib import Path

from grader.files import Tree
from grader.files_entries import Skipped, TreeError, is_junk


def materialize(tree: Tree, dest: Path, *, limit: int, skip_junk: bool = False) -> list[Skipped]:
    """Write ``tree`` under ``dest`` as it is: its files, folders and links (links as links, with the
    targets they had, for the next reader's ``Tree`` to judge). Every file and folder is written before
    the first link is made, and a link is made only where no link is on the way, so nothing written
    ever goes through one. Special files and unreadable members are left out, and returned with why;
    ``skip_junk``: hidden files and leftovers are left out too (and not returned)."""
    dest.mkdir(parents=True, exist_ok=True)
    links, failed = [], []
    for path, node in tree.entries():
        if skip_junk and any(is_junk(part) for part in path.parts):
            continue
        out = dest.joinpath(*path.parts)
        if node.kind == "dir":
            out.mkdir(parents=True, exist_ok=True)
        elif node.kind == "file":
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                with open(out, "xb") as f:
                    tree.copy(path, f, limit)
            except (TreeError, OSError) as exc:
                out.unlink(missing_ok=True)  # half a file is worse than none
                failed.append(Skipped(path, f"cannot be unpacked ({exc})"))
        elif node.kind == "link":
            links.append((path, node.target))
    for path, target in links:
        parent = dest
        for part in path.parent.parts:
            parent = parent / part
            if parent.is_symlink() or not parent.is_dir():
                break
        else:
            try:
                os.symlink(target, dest.joinpath(*path.parts))
            except OSError as exc:
                failed.append(Skipped(path, f"cannot be made ({exc.strerror})"))
    return failed

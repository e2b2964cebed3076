"""Turning what a student handed in into a folder a worker can import from.

A submission is a ``.py`` file or a Jupyter notebook (``.ipynb``) of any name, a folder that holds the
module (``<module>.py`` or ``<module>.ipynb``) somewhere inside, or a ``.zip`` of either. Its id is the
file's stem or the folder's name (``grader.intake.submission_id``). Staging copies the module (and the
``.py`` files beside it, for helper modules) into a fresh private folder; a notebook is converted into
``<module>.py`` on the way, without running any of it (``grader/notebook.py``). A problem with the
submission itself becomes ``StagingError``, a message for that student's report.

This module stages one submission; a whole class, as LMS exports and folders hold it, is read into
submissions by ``grader/intake.py``.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader import notebook
from grader.errors import UsageError
from grader.files import Tree
from grader.files_code import names_in_code
from grader.files_entries import TreeError, is_junk, kind_of, read_regular

MAX_FILE_BYTES = 8 << 20
MAX_ZIP_BYTES = 64 << 20   # a student's zip, unpacked (its members are read one at a time, each capped)
MAX_NESTED_ZIPS = 3        # a zip in a zip in a zip holding the module is still graded
MAX_SIBLINGS = 200         # helper modules copied beside the module
SKIPPED_SHOWN = 5
CODE = (".py", ".ipynb")
SUFFIXES = (".py", ".ipynb", ".zip")


class StagingError(Exception):
    """The submission cannot be graded (not found inside, corrupt zip, too big): a message for its report."""


def check_exists(path: Path) -> None:
    """A caller's mistake, not a student's: the path must exist (what it holds is the student's business)."""
    if not os.path.lexists(path):
        raise UsageError(f"no such file or folder: {path}")
    if not path.exists():
        raise UsageError(f"{path} is a symbolic link to {os.readlink(path)}, which does not exist")


def check_gradeable(path: Path) -> None:
    """``grader check``'s test of the student's own path: it exists and is of a kind the grader grades."""
    check_exists(path)
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        raise UsageError(f"{path}: a submission is a .py file, a .ipynb notebook, a .zip or a folder")


@dataclass(frozen=True)
class Staged:
    """The staged folder and module; ``notes`` for the report (a notebook's cells that will not run, and why,
    a file graded under another name, links that were not followed)."""
    workdir: Path
    module_file: Path
    notes: tuple[str, ...] = ()


def stage(path: Path, module: str, workdir: Path) -> Staged:
    """Write the submission's module into ``workdir`` as ``<module>.py`` (a notebook converted into it),
    with the ``.py`` files beside it. ``path`` itself is the caller's and is followed if it is a link;
    nothing inside a folder or zip is read through a link that leads out of it (``grader.files``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise StagingError(f"{path.name} cannot be read ({exc.strerror})") from None
    try:
        if stat.S_ISDIR(info.st_mode):
            with Tree.from_folder(path) as tree:
                return _stage_tree(tree, module, workdir, 0)
        if not stat.S_ISREG(info.st_mode):
            raise StagingError(f"{path.name} is {kind_of(info.st_mode)}, not a file or a folder: it was not read")
        suffix = _suffix(path.name)
        if suffix == ".zip" or (suffix not in CODE and _looks_like_zip(path)):
            with Tree.from_zip(path, path.name) as tree:
                return _stage_tree(tree, module, workdir, 1)
        if suffix not in CODE:
            raise StagingError(f"{path.name} is not a .py file, a notebook (.ipynb), a .zip or a folder, so it "
                               f"was not graded: hand in {module}.py or {module}.ipynb")
        return _write_module(read_regular(path, MAX_FILE_BYTES), path.name, module, workdir, ())
    except TreeError as exc:
        raise StagingError(str(exc)) from None


def _suffix(name: str) -> str:
    """``.py``, ``.ipynb`` or ``.zip`` when ``name`` ends so (``.zip`` alone included), else its suffix."""
    return next((s for s in SUFFIXES if name.lower().endswith(s)), PurePosixPath(name).suffix.lower())


def _looks_like_zip(path: Path) -> bool:
    """A zip by its first bytes (``hw3`` without a suffix, ``work.zip.download``)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _stage_tree(tree: Tree, module: str, workdir: Path, zips: int) -> Staged:
    """The module in a folder or zip: the shallowest ``<module>.py`` or ``<module>.ipynb`` (the ``.py`` if
    both are there); else the only ``.py`` or notebook there is; else the only zip (one in another, up to
    ``MAX_NESTED_ZIPS``). The ``.py`` files beside it come along, for helper modules."""
    listing = tree.files()
    seen = [(shown, real) for shown, real in listing.files if not any(is_junk(p) for p in shown.parts)]
    skipped = [str(s) for s in listing.skipped if not any(is_junk(p) for p in s.path.parts)]
    notes = [f"{tree.label}: {_shown(skipped)}"] if skipped else []
    named = sorted((f for f in seen if f[0].name in (f"{module}.py", f"{module}.ipynb")), key=_order)
    code = sorted((f for f in seen if f[0].suffix.lower() in CODE), key=_order)
    zipped = [f for f in seen if f[0].suffix.lower() == ".zip"]
    if named:
        chosen = named[0]
        if chosen[0].suffix == ".py" and chosen[0].with_suffix(".ipynb") in {f[0] for f in named}:
            notes.append(f"{module}.py and {module}.ipynb are both there: {module}.py was graded")
    elif len(code) == 1:
        chosen = code[0]
        notes.append(f"{tree.label} holds no {module}.py: {chosen[0]} was graded as {module}.py")
    elif not code and len(zipped) == 1 and zips < MAX_NESTED_ZIPS:
        shown, real = zipped[0]
        inner = tree.read(real, MAX_ZIP_BYTES)
        with Tree.from_zip(inner, shown.name, f"{tree.label}, in {shown}") as nested:
            staged = _stage_tree(nested, module, workdir, zips + 1)
        return Staged(staged.workdir, staged.module_file, (*notes, *staged.notes))
    else:
        raise StagingError(_nothing_to_grade(tree.label, module, seen, code, skipped, listing.files))
    folder = chosen[0].parent
    siblings = [f for f in seen if f[0].parent == folder and f[0].suffix == ".py" and f != chosen]
    if len(siblings) > MAX_SIBLINGS:
        raise StagingError(f"{tree.label} holds {len(siblings)} .py files beside {chosen[0]}, more than "
                           f"{MAX_SIBLINGS}")
    for shown, real in siblings:
        if shown.name != f"{module}.py":
            (workdir / shown.name).write_bytes(tree.read(real, MAX_FILE_BYTES))
    return _write_module(tree.read(chosen[1], MAX_FILE_BYTES), str(chosen[0]), module, workdir, tuple(notes))


def _order(item: tuple[PurePosixPath, PurePosixPath]) -> tuple:
    """Shallowest first, a ``.py`` before a notebook, then by path."""
    return len(item[0].parts), item[0].suffix.lower() == ".ipynb", str(item[0])


def _write_module(data: bytes, name: str, module: str, workdir: Path, notes: tuple[str, ...]) -> Staged:
    """``workdir/<module>.py`` from a ``.py`` file's bytes, or from a notebook's (converted, running nothing)."""
    target = workdir / f"{module}.py"
    if name.lower().endswith(".ipynb"):
        try:
            converted = notebook.convert_bytes(data, PurePosixPath(name).name, module)
        except notebook.NotebookError as exc:
            raise StagingError(str(exc)) from None
        data = converted.source.encode("utf-8")
        if len(data) > MAX_FILE_BYTES:
            raise StagingError(f"the code of {name} is larger than {MAX_FILE_BYTES >> 20} MiB")
        notes = (*notes, *converted.notes)
    target.write_bytes(data)
    return Staged(workdir, target, notes)


def _nothing_to_grade(label: str, module: str, seen, code, skipped: list[str], everything) -> str:
    """Why a folder or zip has nothing to grade, saying what it does hold."""
    if code:
        found = f"{len(code)} .py files and notebooks ({_shown([str(f[0]) for f in code])})"
        why = f"{label} holds {found} and none is named {module}.py or {module}.ipynb: name the one to grade so"
    elif seen:
        kinds = Counter(f[0].suffix.lower() or "without a suffix" for f in seen)
        what = ", ".join(f"{n} {k}" for k, n in kinds.most_common(4)) + (", ..." if len(kinds) > 4 else "")
        why = (f"{label} holds {len(seen)} file{'s' if len(seen) != 1 else ''} ({what}); none is {module}.py, "
               "another .py file or a notebook")
        if any(f[0].suffix.lower() == ".zip" for f in seen):
            why += " (zips inside zips are opened one at a time, and only when there is one)"
    elif everything:
        why = f"{label} holds only hidden files ({_shown([str(f[0]) for f in everything])})"
    elif skipped:
        why = f"{label} holds nothing that could be read"
    else:
        why = f"{label} is empty"
    return why + (f"; {_shown(skipped)}" if skipped else "")


def _shown(items: list[str]) -> str:
    return ", ".join(items[:SKIPPED_SHOWN]) + (f" and {len(items) - SKIPPED_SHOWN} more"
                                                if len(items) > SKIPPED_SHOWN else "")


def mention(paths: list[Path], word: bytes) -> bool:
    """Whether any submission's Python files name ``word`` in their code (``files_code.names_in_code``: not
    only in a docstring or a comment) or its notebooks contain it anywhere (a zip is assumed to): a
    cheap look before grading, e.g. to start a fork server with torch while the first ones grade. Reads
    regular files only, no link inside a folder, nothing over ``MAX_FILE_BYTES``."""

    def names(data: bytes, suffix: str) -> bool:
        return names_in_code(data, word.decode()) if suffix == ".py" else word in data

    for path in paths:
        if path.suffix.lower() == ".zip":
            return True
        try:
            if path.is_dir():
                with Tree.from_folder(path) as tree:
                    if any(names(tree.read(real, MAX_FILE_BYTES), shown.suffix.lower()) for shown, real in tree.files().files
                           if shown.suffix.lower() in CODE):
                        return True
            elif names(read_regular(path, MAX_FILE_BYTES), path.suffix.lower()):
                return True
        except (TreeError, OSError):
            continue
    return False


def not_text(source: bytes, module: str) -> str | None:
    """Why ``source`` cannot be Python text, when the reason is its encoding: Python reads UTF-8 unless a
    coding line says otherwise, and a file saved as Latin-1 or UTF-16 fails with a cryptic message."""
    if b"\0" in source and source[:2] not in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 is half NULs
        line = source[:source.index(b"\0")].count(b"\n") + 1
        return f"{module}.py could not be loaded: it holds a NUL byte (line {line}), so it is not a text file"
    try:
        source.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        if re.match(rb"^[ \t\f]*#.*?coding[:=]", b"\n".join(source.split(b"\n", 2)[:2]), re.M):
            return None  # a declared encoding: Python's own message says what is wrong
        line = source[:exc.start].count(b"\n") + 1
        hint = " (it looks like UTF-16)" if source[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return (f"{module}.py could not be loaded: it is not UTF-8 text{hint}: byte 0x{source[exc.start]:02x} "
                f"at line {line} is not UTF-8. Save the file as UTF-8 (most editors: File > Save with Encoding)")

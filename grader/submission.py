"""Turning what a student handed in into a folder a worker can import from.

A submission is a ``.py`` file or a Jupyter notebook (``.ipynb``) of any name, a folder that holds the
module (``<module>.py`` or ``<module>.ipynb``) somewhere inside, or a ``.zip`` of either. Its id is the
file's stem or the folder's name. Staging copies the module (and the ``.py`` files beside it, for helper
modules) into a fresh private folder; a notebook is converted into ``<module>.py`` on the way, without
running any of it (``grader/notebook.py``). A problem with the submission itself becomes ``StagingError``,
a message for that student's report.

A TA passes a whole class as one path: ``discover`` reads the folders and zips that Canvas, Moodle and
Gradescope export (and plain folders of ``alice.py``, ``bob.zip``) into one ``Found`` per student, with
the rule it uses to tell a class from one student's work in its docstring.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import stat
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from grader import notebook
from grader.errors import UsageError
from grader.files import Tree
from grader.files_code import names_in_code
from grader.files_entries import TreeError, is_junk, kind_of, read_regular
from grader.files_write import materialize

MAX_FILE_BYTES = 8 << 20
MAX_ZIP_BYTES = 64 << 20   # a student's zip, unpacked (its members are read one at a time, each capped)
MAX_NESTED_ZIPS = 3        # a zip in a zip in a zip holding the module is still graded
MAX_SIBLINGS = 200         # helper modules copied beside the module
SKIPPED_SHOWN = 5
CODE = (".py", ".ipynb")
SUFFIXES = (".py", ".ipynb", ".zip")

log = logging.getLogger(__name__)


class StagingError(Exception):
    """The submission cannot be graded (not found inside, corrupt zip, too big): a message for its report."""


def submission_id(path: Path) -> str:
    """The file's stem or the folder's name, made safe as a folder name."""
    return safe_id(path.name if path.is_dir() else path.stem)


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


# --------------------------------------------------------------------------- a class at once: LMS exports


class Origin(NamedTuple):
    """Who a class's entry belongs to, as the LMS that exported it named them: ``lms`` (``canvas`` or
    ``moodle``), the LMS's number for the student (Canvas's user id, Moodle's participant id) and the
    name in the file name (Canvas's ``lastfirst``, Moodle's full name). Grades go back to the LMS's
    gradebook by these (``grader.lms``)."""
    lms: str
    user: str
    name: str


@dataclass(frozen=True)
class Found:
    """One student's work among what the caller named: the student's id (unique, safe as a folder name)
    and what to hand to ``stage`` for it (a ``.py``, ``.ipynb`` or ``.zip`` file, or a folder); or, in
    ``problem``, why it cannot be staged at all (a class's entry that is a link leading out of the class):
    a message for that student's report. ``origin``: whom an LMS's export named, if one did."""
    submission: str
    path: Path
    problem: str | None = None
    origin: Origin | None = None


GRADEABLE = (".py", ".ipynb", ".zip")
GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_CLASS_ZIP_MEMBERS = 100_000
MAX_CLASS_ZIP_BYTES = 4 << 30
MAX_METADATA_BYTES = 16 << 20
MAX_ID_BYTES = 100  # a report folder's name, in UTF-8: far under any file system's 255
# Names of what grader grade writes beside the students' folders: no student's folder may take one.
RESERVED_IDS = frozenset({"gradebook.csv", "gradebook.sqlite", "gradebook.sqlite-wal", "gradebook.sqlite-shm",
                          "junit.xml", "summary.md", "histogram.png", "index.html", "grader.lock"})
# Canvas: lastfirst_12345_67890_optimizers.py, lastfirst_LATE_12345_67890_optimizers-1.py
# (user id, then attachment id; a file uploaded again under the same name gets "-1", "-2").
_CANVAS_FILE = re.compile(r"^(?P<name>.+?)_(?:LATE_)?(?P<user>\d+)_\d+_(?P<file>.+)$")
# Moodle: "Full Name_12345_assignsubmission_file_/" (in folders), or "..._file_optimizers.py" (flat).
_MOODLE_DIR = re.compile(r"^(?P<name>.+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")
_MOODLE_FILE = re.compile(r"^(?P<name>.+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$")
# Gradescope: submission_123456/, with submission_metadata.yml beside it.
_GRADESCOPE_DIR = re.compile(r"^submission_\d+$")
_COPY_SUFFIX = re.compile(r"^(?P<stem>.+)-\d+$")


def discover(paths: list[Path], module: str, workdir: Path) -> list[Found]:
    """Every student's work in ``paths``, in the shapes LMS exports take, each with a unique id.

    Each path is either one student's work (graded as today) or a whole class; the rule, applied to
    a folder or to a zip's list of members (hidden files, ``__MACOSX`` and ``__pycache__`` ignored):

    1. ``<module>.py`` (or ``<module>.ipynb``, here and below) at its top: one student's work.
    2. A Gradescope ``submission_metadata.yml`` at its top, or an entry named the way Canvas, Moodle
       or Gradescope name them: a class.
    3. A single folder and nothing else (a zipped folder, Gradescope's ``assignment_N_export/``):
       the rule is applied to that folder.
    4. ``<module>.py`` under two or more of its entries: a class; under exactly one: one student's work.
    5. No ``<module>.py`` anywhere: a class if two or more entries are ``.py``, ``.ipynb`` or ``.zip``
       files or folders that hold one (``alice.py``, ``bob.zip``), else one student's work.

    Whatever a path that exists holds, it costs no one but its own students: an empty or corrupt zip, a
    folder with nothing to grade, a file of another type, a named pipe is one student's work, whose
    report will say what was found (``stage``). Only a path that does not exist is the caller's mistake
    (``UsageError``). Entries of a class are not examined as classes themselves (a student's zip stays a
    student's zip). A class's entry that is a symbolic link is followed only to a place inside the class;
    otherwise its student's report says so (``Found.problem``).

    Ids: Canvas ``lastfirst``, Moodle's full name, Gradescope's names from the metadata (else the folder
    name), otherwise the file's stem or the folder's name; made safe as ``submission_id`` does and unique
    with ``unique_ids``. A class's entries that are neither ``.py``, ``.ipynb``, ``.zip`` nor folders, and
    not named for a student by Canvas or Moodle, are skipped and logged (a warning on the
    ``grader.submission`` logger, so the TA sees them).

    ``workdir`` is the caller's: a class zip is unpacked into ``workdir/<zip name>-<hash>/`` and a
    Canvas student who handed in several files gets them gathered in a folder under it; those folders
    are replaced on the next call, so give discover a folder of its own, and keep it until graded. It is
    created only when needed.
    """
    found: list[_Entry] = []
    for path in paths:
        check_exists(path)
        found.extend(_discover_one(path, module, workdir))
    ids = unique_ids([entry.raw_id for entry in found])
    return [Found(sid, entry.path, entry.problem, entry.origin) for sid, entry in zip(ids, found, strict=True)]


class _Entry(NamedTuple):
    """A student's work before ids are made unique."""
    raw_id: str
    path: Path
    problem: str | None = None
    origin: Origin | None = None


def unique_ids(ids: list[str]) -> list[str]:
    """The ids in order, a later copy of an id suffixed ``-2``, ``-3``...: two reports never share a folder.
    (A suffixed id that is taken too, as in ``a, a, a-2``, gets the next free suffix.) Ids are compared
    as a case-insensitive file system would (``Alice`` and ``alice`` are one folder on macOS), and the
    names of the batch's own files (``summary.md``...) count as taken."""
    taken: set[str] = set(RESERVED_IDS)
    unique = []
    for sid in ids:
        candidate, copy = sid, 1
        while candidate.casefold() in taken:
            copy += 1
            candidate = _fit(sid, f"-{copy}")
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


def safe_id(raw: str) -> str:
    """A name made safe as one folder name: Unicode in its compatibility form (NFKC: ``ｂｏｂ`` is ``bob``),
    letters, digits, ``.``, ``_`` and ``-`` kept (accents too), any other run of characters ``_``, no
    leading ``.``, ``_`` or ``-`` (so never ``..`` nor an option), at most ``MAX_ID_BYTES`` in UTF-8 (a
    longer one cut, with a hash of the whole name so two long names stay two)."""
    text = unicodedata.normalize("NFKC", raw)
    text = re.sub(r"[^\w.-]+|_+", "_", text, flags=re.UNICODE).lstrip("._-").rstrip("._") or "submission"
    if len(text.encode("utf-8")) > MAX_ID_BYTES:
        text = _fit(text, "-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8])
    return text


def _fit(text: str, suffix: str) -> str:
    """``text + suffix`` within ``MAX_ID_BYTES`` of UTF-8, ``text`` cut at a character if need be."""
    room = MAX_ID_BYTES - len(suffix.encode("utf-8"))
    while len(text.encode("utf-8")) > room:
        text = text[:-1]
    return text + suffix


def _discover_one(path: Path, module: str, workdir: Path) -> list[_Entry]:
    """One path's students."""
    alone = [_Entry(submission_id(path), path)]
    if not path.is_dir() and (not path.is_file() or path.suffix.lower() != ".zip"):
        return alone  # a file of its own (stage says what is wrong with it, if anything)
    try:
        tree = (Tree.from_zip(path, path.name, most=MAX_CLASS_ZIP_MEMBERS) if path.is_file()
                else Tree.from_folder(path, most=MAX_CLASS_ZIP_MEMBERS))
    except TreeError as exc:
        log.info("%s: read as one student's work (%s)", path, exc)
        return alone
    with tree:
        try:  # what can be read: a link that leads out, or a named pipe, holds no student's module
            files = sorted({shown for shown, _ in tree.files().files if not any(is_junk(x) for x in shown.parts)})
        except TreeError as exc:
            log.info("%s: read as one student's work (%s)", path, exc)
            return alone
        verdict = _class_root(files, module)
        if verdict is None:
            return alone
        relative_root, kind = verdict
        scratch = _Scratch(workdir, path)
        if path.is_file():
            size = sum(node.size for _, node in tree.entries() if node.kind == "file")
            if size > MAX_CLASS_ZIP_BYTES:
                log.warning("%s: %d MiB unpacked, more than a class zip may hold (%d GiB): graded as one "
                            "student's work; unzip it yourself and pass the folder", path, size >> 20,
                            MAX_CLASS_ZIP_BYTES >> 30)
                return alone
            failed = materialize(tree, scratch.folder() / "unzipped", limit=MAX_CLASS_ZIP_BYTES, skip_junk=True)
        else:
            failed = []
    root = (scratch.folder() / "unzipped" if path.is_file() else path).joinpath(*relative_root.parts)
    label = f"{path}" if relative_root == PurePosixPath() else f"{path}, in {relative_root}"
    broken = {}  # a student's file the class zip could not give: that student's zero, not a lost report
    for item in failed:
        if item.path.parent == relative_root:
            broken[item.path.name] = f"{item.path.name} in {path.name} {item.reason}"
        else:
            log.warning("%s: %s %s", path, item.path, item.reason)
    entries = _class_entries(root, module, scratch, label, broken)
    log.info("%s: read as %s of %d submissions", label, kind, len(entries))
    return entries


def _class_root(files: list[PurePosixPath], module: str) -> tuple[PurePosixPath, str] | None:
    """Where the class starts among ``files`` and what kind of export it is; None for one student's work
    (the rule of ``discover``)."""
    targets = {f"{module}.py", f"{module}.ipynb"}
    top_files = {f.name for f in files if len(f.parts) == 1}
    top_dirs = {f.parts[0] for f in files if len(f.parts) > 1}
    if targets & top_files:
        return None
    kind = _export_kind(top_files, top_dirs)
    if kind:
        return PurePosixPath(), kind
    if not top_files and len(top_dirs) == 1:
        (only,) = top_dirs
        inner = _class_root([PurePosixPath(*f.parts[1:]) for f in files if f.parts[0] == only], module)
        return None if inner is None else (PurePosixPath(only) / inner[0], inner[1])
    holders = {f.parts[0] for f in files if f.name in targets}
    if holders:
        return (PurePosixPath(), "a folder of submissions") if len(holders) > 1 else None
    gradeable = {f.parts[0] for f in files if f.suffix.lower() in GRADEABLE}
    return (PurePosixPath(), "a folder of files named by student") if len(gradeable) > 1 else None


def _export_kind(top_files: set[str], top_dirs: set[str]) -> str | None:
    """Which LMS named these entries, if one did."""
    if GRADESCOPE_METADATA in top_files or any(_GRADESCOPE_DIR.match(d) for d in top_dirs):
        return "a Gradescope export"
    if any(_MOODLE_DIR.match(d) for d in top_dirs) or any(_MOODLE_FILE.match(f) for f in top_files):
        return "a Moodle export"
    if any(_CANVAS_FILE.match(f) and Path(f).suffix.lower() in GRADEABLE for f in top_files):
        return "a Canvas export"
    return None


class _Scratch:
    """``workdir/<name>-<hash of the path>``: private to one class path, emptied on first use by each call."""

    def __init__(self, workdir: Path, source: Path):
        digest = hashlib.sha256(str(source.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:8]
        self.path = workdir / f"{safe_id(source.name)[:40]}-{digest}"
        self.ready = False

    def folder(self) -> Path:
        if not self.ready:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True)
            self.ready = True
        return self.path


@dataclass
class _Owned:
    """A file of a class named for its student (Canvas, Moodle without folders, or plainly ``alice.py``)."""
    raw_id: str
    original: str  # the name the student gave it
    path: Path


def _class_entries(root: Path, module: str, scratch: _Scratch, label: str,
                   broken: dict[str, str] | None = None) -> list[_Entry]:
    """Each student among the entries of a class folder, in name order;
    what was skipped is logged under ``label`` (the path the caller gave, not where a zip was unpacked).
    ``broken``: entries a class zip held but could not unpack, by name, with why."""
    names = _gradescope_names(root / GRADESCOPE_METADATA)
    entries: list[tuple[str, _Entry]] = []  # (sort key, entry)
    by_student: dict[tuple[str, ...], list[_Owned]] = {}
    skipped, junk = [], []
    inside = os.path.realpath(root)
    for entry in sorted(root.iterdir()):
        if is_junk(entry.name):
            junk.append(entry.name)
            continue
        problem = None
        if entry.is_symlink():
            target, real = os.readlink(entry), os.path.realpath(entry)
            if os.path.commonpath([inside, real]) != inside or real == inside or not os.path.exists(real):
                where = "which does not exist" if not os.path.exists(real) else "outside the class folder"
                problem = f"{entry.name} is a symbolic link to {target}, {where}: not read"
        moodle_dir = _MOODLE_DIR.match(entry.name)
        if entry.is_dir() and not problem:
            if moodle_dir and moodle_dir["plugin"] != "file":
                skipped.append(f"{entry.name}/ (Moodle's {moodle_dir['plugin']}, not files)")
                continue
            raw = moodle_dir["name"] if moodle_dir else names.get(entry.name) or entry.name
            entries.append((entry.name, _Entry(safe_id(raw), entry, None, _origin(moodle_dir, "moodle"))))
        elif entry.name == GRADESCOPE_METADATA:
            continue
        elif problem:
            entries.append((entry.name, _Entry(submission_id(entry) if not moodle_dir else safe_id(moodle_dir["name"]),
                                               entry, problem, _origin(moodle_dir, "moodle"))))
        elif entry.suffix.lower() in GRADEABLE or _MOODLE_FILE.match(entry.name) or _CANVAS_FILE.match(entry.name):
            key, owned = _owner(entry)
            by_student.setdefault(key, []).append(owned)
        else:
            skipped.append(entry.name)
    for name, why in sorted((broken or {}).items()):
        if is_junk(name):
            continue
        moodle, canvas = _MOODLE_FILE.match(name), _CANVAS_FILE.match(name)
        raw = moodle["name"] if moodle else canvas["name"] if canvas else PurePosixPath(name).stem
        entries.append((name, _Entry(safe_id(raw), root / name, why,
                                     _origin(moodle, "moodle") or _origin(canvas, "canvas"))))
    for key, owned in by_student.items():
        code = [o for o in owned if Path(o.original).suffix.lower() in GRADEABLE]
        if code:
            skipped += [o.path.name for o in owned if o not in code]
        if len(code) == 1:
            path = code[0].path
        elif code:
            path = _gather(code, module, scratch.folder() / "by-student" / safe_id("_".join(key)))
        else:
            path = owned[0].path  # a Canvas student who handed in only a PDF: their report says so
        origin = Origin(key[0], key[2], owned[0].raw_id) if key[0] in ("canvas", "moodle") else None
        entries.append((owned[0].path.name, _Entry(safe_id(owned[0].raw_id), path, None, origin)))
    _log_skipped(label, skipped, junk)
    return [entry for _, entry in sorted(entries, key=lambda e: e[0])]


def _origin(match: re.Match | None, lms: str) -> Origin | None:
    return Origin(lms, match["user"], match["name"]) if match else None


def _owner(file: Path) -> tuple[tuple[str, ...], _Owned]:
    """Whose file this is, from its name: a key that groups one student's files, and the student's name."""
    moodle = _MOODLE_FILE.match(file.name)
    if moodle:
        return ("moodle", safe_id(moodle["name"]), moodle["user"]), _Owned(moodle["name"], moodle["file"], file)
    canvas = _CANVAS_FILE.match(file.name)
    if canvas:
        return ("canvas", safe_id(canvas["name"]), canvas["user"]), _Owned(canvas["name"], canvas["file"], file)
    return ("file", file.name), _Owned(file.stem, file.name, file)


def _gather(owned: list[_Owned], module: str, dest: Path) -> Path:
    """A folder with one student's files under the names the student gave them (Canvas's ``-1`` of a
    re-upload dropped from ``<module>-1.py``), for ``stage`` to find the module and its helpers."""
    dest.mkdir(parents=True)
    for item in sorted(owned, key=lambda o: (o.original != f"{module}{Path(o.original).suffix}", o.original)):
        name = item.original
        copy = _COPY_SUFFIX.match(Path(name).stem)
        if copy and copy["stem"] == module:
            name = f"{module}{Path(name).suffix}"
        name = PurePosixPath(name.replace("\\", "/")).name
        target = dest / name
        if is_junk(name) or target.exists():
            log.warning("%s: %s left out, %s already has %s", item.path, name, dest, name)
            continue
        try:
            target.write_bytes(read_regular(item.path, MAX_ZIP_BYTES))
        except TreeError as exc:
            log.warning("%s: left out (%s)", item.path, exc)
    return dest


def _log_skipped(label: str, skipped: list[str], junk: list[str]) -> None:
    """A warning the TA sees for what was not graded; hidden files and macOS leftovers only at INFO."""
    if skipped:
        shown = ", ".join(skipped[:10]) + (f" and {len(skipped) - 10} more" if len(skipped) > 10 else "")
        log.warning("%s: skipped %d %s, not .py, .ipynb, .zip or a folder of files: %s",
                    label, len(skipped), "entry" if len(skipped) == 1 else "entries", shown)
    if junk:
        log.info("%s: skipped hidden files and leftovers: %s", label, ", ".join(junk))


def _gradescope_names(metadata: Path) -> dict[str, str]:
    """Gradescope's ``submission_123456`` -> the submitters' names (else email, else SID) joined by ``-``;
    empty without the file. A tiny reader of the block YAML Gradescope writes, not a YAML parser: PyYAML
    is no dependency of the grader (it comes only with the dask extra), and ids must not depend on extras."""
    if not metadata.is_file():
        return {}
    if metadata.stat().st_size > MAX_METADATA_BYTES:
        log.warning("%s: larger than %d MiB, not read; ids are the folder names", metadata, MAX_METADATA_BYTES >> 20)
        return {}
    names = {}
    for submission, people in _read_submitters(metadata.read_text(errors="replace")).items():
        who = [p.get("name") or p.get("email") or p.get("sid") for p in people]
        if any(who):
            names[submission] = "-".join(w for w in who if w)
    if not names:
        log.warning("%s: no submitters found; ids are the folder names", metadata)
    return names


def _read_submitters(text: str) -> dict[str, list[dict[str, str]]]:
    """``{top-level key: [{name, sid, email}, ...]}`` from the ``:submitters:`` list directly under each
    top-level key (a ``:submitters:`` deeper down, in a history say, is not that submission's)."""
    found: dict[str, list[dict[str, str]]] = {}
    current: str | None = None
    child: int | None = None  # indentation of the current key's own keys
    block: int | None = None  # indentation of its ":submitters:" key, while inside that list
    item: int | None = None   # indentation of the current submitter's keys
    for line in text.splitlines():
        body = line.strip()
        if not body or body.startswith("#") or body == "---":
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            current = _scalar(body[:-1]) if body.endswith(":") else None
            child = block = None
            continue
        if current is None:
            continue
        child = indent if child is None else child
        if block is not None:
            if (body == "-" or body.startswith("- ")) and indent >= block:
                found[current].append({})
                body, indent = body[1:].strip(), indent + 2
                item = indent
            if indent == item and found[current] and (pair := _pair(body)):
                found[current][-1][pair[0]] = pair[1]
            if indent > block:
                continue
            block = None
        if indent == child and _pair(body) == ("submitters", "") and current not in found:
            block, item = indent, None
            found[current] = []
    return found


def _pair(body: str) -> tuple[str, str] | None:
    """``:name: Ada Lovelace`` -> ``("name", "Ada Lovelace")`` (a Ruby symbol's colon dropped)."""
    match = re.match(r"^:?([A-Za-z_][A-Za-z0-9_]*):(?:\s+(.*))?$", body)
    return (match[1], _scalar(match[2] or "")) if match else None


def _scalar(text: str) -> str:
    """A YAML scalar as text: quotes removed (``''`` and backslash escapes undone), a comment dropped."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|.)", _unescape, text[1:-1])
    return "" if text in ("~", "null") else re.sub(r"\s+#.*$", "", text)


def _unescape(match: re.Match) -> str:
    code = match[1]
    if code[0] in "xu" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n", "t": "\t", "0": "\0"}.get(code, code)


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

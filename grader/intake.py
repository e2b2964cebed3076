"""A class's submissions at once: every student's work in the paths a TA names, each with a unique id.

A TA passes a whole class as one path: ``discover`` reads the folders and zips that Canvas, Moodle and
Gradescope export (and plain folders of ``alice.py``, ``bob.zip``) into one ``Found`` per student, with
the rule it uses to tell a class from one student's work in its docstring. Ids (``submission_id``,
``safe_id``, ``unique_ids``) are safe as folder names and unique within a class. Each student's work is
then staged on its own by ``grader/submission.py``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from grader.files import Tree
from grader.files_entries import TreeError, is_junk, read_regular
from grader.files_write import materialize
from grader.gradescope_metadata import submitter_names
from grader.submission import MAX_ZIP_BYTES, check_exists

log = logging.getLogger(__name__)


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
    ``grader.intake`` logger, so the TA sees them).

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


def submission_id(path: Path) -> str:
    """The file's stem or the folder's name, made safe as a folder name."""
    return safe_id(path.name if path.is_dir() else path.stem)


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
    names = submitter_names(root / GRADESCOPE_METADATA)
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

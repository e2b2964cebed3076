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
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader import notebook
from grader.errors import UsageError

MAX_FILE_BYTES = 8 << 20
MAX_ZIP_MEMBERS = 2000
MAX_ZIP_BYTES = 64 << 20
SUFFIXES = (".py", ".ipynb", ".zip")

log = logging.getLogger(__name__)


class StagingError(Exception):
    """The submission cannot be graded (not found inside, corrupt zip, too big): a message for its report."""


def submission_id(path: Path) -> str:
    """The file's stem or the folder's name, made safe as a folder name."""
    return safe_id(path.name if path.is_dir() else path.stem)


def check_exists(path: Path) -> None:
    """A caller's mistake, not a student's: the path must exist and be of a kind we grade."""
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        raise UsageError(f"{path}: a submission is a .py file, a .ipynb notebook, a .zip or a folder")


@dataclass(frozen=True)
class Staged:
    """The staged folder and module; ``notes`` for the report (a notebook's cells that will not run, and why)."""
    workdir: Path
    module_file: Path
    notes: tuple[str, ...] = ()


def stage(path: Path, module: str, workdir: Path) -> Staged:
    """Copy the submission's module into ``workdir`` as ``<module>.py`` (a notebook converted into it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"{module}.py"
    if path.is_file() and path.suffix.lower() == ".py":
        _copy_source(path, target)
        return Staged(workdir, target)
    if path.is_file() and path.suffix.lower() == ".ipynb":
        return Staged(workdir, target, _convert_notebook(path, module, target))
    if path.is_file():  # .zip
        unpacked = workdir.parent / f"{workdir.name}.unzipped"
        _unzip(path, unpacked)
        try:
            return _stage_folder(unpacked, module, workdir, f"{path.name}")
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)
    return _stage_folder(path, module, workdir, f"folder {path.name}")


def _stage_folder(folder: Path, module: str, workdir: Path, what: str) -> Staged:
    """The shallowest ``<module>.py`` or ``<module>.ipynb`` (the ``.py`` if both are there), with the ``.py``
    files beside it."""
    found = sorted((p for name in (f"{module}.py", f"{module}.ipynb") for p in folder.rglob(name)
                    if p.is_file() and not any(part.startswith((".", "__MACOSX")) for part in p.relative_to(folder).parts)),
                   key=lambda p: (len(p.parts), p.suffix == ".ipynb", str(p)))
    if not found:
        raise StagingError(f"{what} holds no {module}.py or {module}.ipynb")
    chosen, source_dir = found[0], found[0].parent
    for sibling in source_dir.glob("*.py"):
        if sibling.is_file():
            _copy_source(sibling, workdir / sibling.name)
    target = workdir / f"{module}.py"
    if chosen.suffix == ".ipynb":
        return Staged(workdir, target, _convert_notebook(chosen, module, target))
    if (source_dir / f"{module}.ipynb").is_file():
        return Staged(workdir, target, (f"{module}.py and {module}.ipynb are both there: {module}.py was graded",))
    return Staged(workdir, target)


def _convert_notebook(path: Path, module: str, target: Path) -> tuple[str, ...]:
    """Write the notebook's definitions to ``target`` (see ``grader.notebook``); the notes on its cells."""
    try:
        converted = notebook.convert_file(path, module)
    except notebook.NotebookError as exc:
        raise StagingError(str(exc)) from None
    source = converted.source.encode("utf-8")
    if len(source) > MAX_FILE_BYTES:
        raise StagingError(f"the code of {path.name} is larger than {MAX_FILE_BYTES >> 20} MiB")
    target.write_bytes(source)
    return tuple(converted.notes)


def _copy_source(src: Path, dst: Path) -> None:
    if src.stat().st_size > MAX_FILE_BYTES:
        raise StagingError(f"{src.name} is larger than {MAX_FILE_BYTES >> 20} MiB")
    shutil.copyfile(src, dst)


def _unzip(path: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise StagingError(f"{path.name} is too large to unpack")
            dest.mkdir(parents=True)
            for member in members:
                name = Path(member.filename)
                if member.is_dir() or name.is_absolute() or ".." in name.parts or name.suffix not in (".py", ".ipynb"):
                    continue  # only source files and notebooks, never outside the folder
                out = dest / name
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise StagingError(f"{path.name} is not a readable zip file ({exc})") from None


# --------------------------------------------------------------------------- a class at once: LMS exports


@dataclass(frozen=True)
class Found:
    """One student's work among what the caller named: the student's id (unique, safe as a folder name)
    and what to hand to ``stage`` for it (a ``.py``, ``.ipynb`` or ``.zip`` file, or a folder)."""
    submission: str
    path: Path


GRADEABLE = (".py", ".ipynb", ".zip")
GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_CLASS_ZIP_MEMBERS = 100_000
MAX_CLASS_ZIP_BYTES = 4 << 30
MAX_METADATA_BYTES = 16 << 20
_JUNK = frozenset({"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"})
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

    A ``.py`` or ``.ipynb`` file is one student's work. A path with nothing gradeable (an empty folder, only PDFs) or a
    zip that cannot be read is the caller's mistake: ``UsageError`` naming it. Entries of a class are
    not examined as classes themselves (a student's zip stays a student's zip).

    Ids: Canvas ``lastfirst``, Moodle's full name, Gradescope's names from the metadata (else the folder
    name), otherwise the file's stem or the folder's name; made safe as ``submission_id`` does and unique
    with ``unique_ids``. Entries that are neither ``.py``, ``.ipynb``, ``.zip`` nor folders are skipped
    and logged (a warning on the ``grader.submission`` logger, so the TA sees them).

    ``workdir`` is the caller's: a class zip is unpacked into ``workdir/<zip name>-<hash>/`` and a
    Canvas student who handed in several files gets them gathered in a folder under it; those folders
    are replaced on the next call, so give discover a folder of its own, and keep it until graded. It is
    created only when needed.
    """
    found: list[tuple[str, Path]] = []
    for path in paths:
        check_exists(path)
        found.extend(_discover_one(path, module, workdir))
    return [Found(sid, path) for sid, (_, path) in zip(unique_ids([raw for raw, _ in found]), found, strict=True)]


def unique_ids(ids: list[str]) -> list[str]:
    """The ids in order, a later copy of an id suffixed ``-2``, ``-3``...: two reports never share a folder.
    (A suffixed id that is taken too, as in ``a, a, a-2``, gets the next free suffix.)"""
    taken: set[str] = set()
    unique = []
    for sid in ids:
        candidate, copy = sid, 1
        while candidate in taken:
            copy += 1
            candidate = f"{sid}-{copy}"
        taken.add(candidate)
        unique.append(candidate)
    return unique


def safe_id(raw: str) -> str:
    """A name made safe as a folder name: the rule of ``submission_id``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or "submission"


def _discover_one(path: Path, module: str, workdir: Path) -> list[tuple[str, Path]]:
    if path.is_file() and path.suffix.lower() in (".py", ".ipynb"):
        return [(submission_id(path), path)]
    files = _zip_files(path) if path.is_file() else _folder_files(path)
    if not files:
        raise UsageError(f"{path}: {'an empty zip' if path.is_file() else 'an empty folder'} (nothing but hidden files)")
    if not any(f.suffix.lower() in GRADEABLE for f in files):
        raise UsageError(f"{path}: holds no .py, .ipynb or .zip file to grade")
    verdict = _class_root(files, module)
    if verdict is None:
        return [(submission_id(path), path if path.is_file() else _what_to_stage(path, module))]
    relative_root, kind = verdict
    scratch = _Scratch(workdir, path)
    root = (_unzip_class(path, scratch.folder() / "unzipped") if path.is_file() else path) / relative_root
    label = f"{path}" if relative_root == PurePosixPath() else f"{path}, in {relative_root}"
    entries = _class_entries(root, module, scratch, label)
    log.info("%s: read as %s of %d submissions", label, kind, len(entries))
    return entries


def _is_junk(name: str) -> bool:
    return name.startswith(".") or name in _JUNK


def _folder_files(folder: Path) -> list[PurePosixPath]:
    """Files under ``folder`` relative to it, hidden files and macOS or Python leftovers left out."""
    files = []
    for file in folder.rglob("*"):
        relative = PurePosixPath(*file.relative_to(folder).parts)
        if file.is_file() and not any(_is_junk(part) for part in relative.parts):
            files.append(relative)
    return sorted(files)


def _zip_files(path: Path) -> list[PurePosixPath]:
    """The zip's files as relative paths, without unpacking it (a student's zip is unpacked by ``stage``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable zip file ({exc})") from None
    return sorted({name for member in members if (name := _member_path(member)) is not None})


def _member_path(member: zipfile.ZipInfo) -> PurePosixPath | None:
    """A member's path if it is a file we may unpack: inside the folder, neither hidden nor junk."""
    name = PurePosixPath(member.filename.replace("\\", "/"))
    if member.is_dir() or name.is_absolute() or ".." in name.parts or not name.parts:
        return None
    return None if any(_is_junk(part) for part in name.parts) else name


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
        digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]
        self.path = workdir / f"{safe_id(source.name)}-{digest}"
        self.ready = False

    def folder(self) -> Path:
        if not self.ready:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True)
            self.ready = True
        return self.path


def _unzip_class(path: Path, dest: Path) -> Path:
    """Unpack a class zip (everything but hidden files and junk, never outside ``dest``), under caps."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [(m, name) for m in archive.infolist() if (name := _member_path(m)) is not None]
            total = sum(m.file_size for m, _ in members)
            if len(members) > MAX_CLASS_ZIP_MEMBERS or total > MAX_CLASS_ZIP_BYTES:
                raise UsageError(f"{path}: {len(members)} files, {total >> 20} MiB unpacked, more than a class zip "
                                 f"may hold ({MAX_CLASS_ZIP_MEMBERS} files, {MAX_CLASS_ZIP_BYTES >> 30} GiB); "
                                 "unzip it yourself and pass the folder")
            for member, name in members:
                out = dest.joinpath(*name.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable zip file ({exc})") from None
    return dest


@dataclass
class _Owned:
    """A file of a class named for its student (Canvas, Moodle without folders, or plainly ``alice.py``)."""
    raw_id: str
    original: str  # the name the student gave it
    path: Path


def _class_entries(root: Path, module: str, scratch: _Scratch, label: str) -> list[tuple[str, Path]]:
    """(id, what to stage) for each student among the entries of a class folder, in name order; what was
    skipped is logged under ``label`` (the path the caller gave, not where a zip was unpacked)."""
    names = _gradescope_names(root / GRADESCOPE_METADATA)
    entries: list[tuple[str, str, Path]] = []  # (sort key, id, path)
    by_student: dict[tuple[str, ...], list[_Owned]] = {}
    skipped, junk = [], []
    for entry in sorted(root.iterdir()):
        if _is_junk(entry.name):
            junk.append(entry.name)
        elif entry.is_dir():
            moodle = _MOODLE_DIR.match(entry.name)
            if moodle and moodle["plugin"] != "file":
                skipped.append(f"{entry.name}/ (Moodle's {moodle['plugin']}, not files)")
                continue
            raw = moodle["name"] if moodle else names.get(entry.name) or entry.name
            entries.append((entry.name, safe_id(raw), _what_to_stage(entry, module)))
        elif entry.name == GRADESCOPE_METADATA:
            continue
        elif entry.suffix.lower() in GRADEABLE:
            key, owned = _owner(entry)
            by_student.setdefault(key, []).append(owned)
        else:
            skipped.append(entry.name)
    for key, owned in by_student.items():
        path = owned[0].path if len(owned) == 1 else _gather(owned, module, scratch.folder() / "by-student" / "_".join(key))
        entries.append((owned[0].path.name, safe_id(owned[0].raw_id), path))
    _log_skipped(label, skipped, junk)
    return [(sid, path) for _, sid, path in sorted(entries, key=lambda e: e[0])]


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
        target = dest / name
        if target.exists():
            log.warning("%s: %s left out, %s already has %s", item.path, name, dest, name)
            continue
        shutil.copyfile(item.path, target)
    return dest


def _what_to_stage(folder: Path, module: str) -> Path:
    """A student's folder, or the one file in it when it has no ``<module>.py`` or ``<module>.ipynb`` but
    exactly one ``.py``, ``.ipynb`` or ``.zip`` (a Moodle student who uploaded ``hw3.zip``)."""
    files = _folder_files(folder)
    if any(f.name in (f"{module}.py", f"{module}.ipynb") for f in files):
        return folder
    gradeable = [f for f in files if f.suffix.lower() in GRADEABLE]
    return folder.joinpath(*gradeable[0].parts) if len(gradeable) == 1 else folder


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
    """Whether any submission's Python files or notebooks contain ``word`` (a zip is assumed to): a
    cheap look before grading, e.g. to start a fork server with torch while the first ones grade."""
    for path in paths:
        if path.suffix == ".zip":
            return True
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.suffix in (".py", ".ipynb")]
        try:
            if any(word in f.read_bytes() for f in files):
                return True
        except OSError:
            return True
    return False


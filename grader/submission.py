"""Turning what a student handed in into a folder a worker can import from.

A submission is a ``.py`` file of any name, a folder that holds the module somewhere inside, or a
``.zip`` of either. Its id is the file's stem or the folder's name. Staging copies the module (and
the ``.py`` files beside it, for helper modules) into a fresh private folder; a problem with the
submission itself becomes ``StagingError``, a message for that student's report.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

MAX_FILE_BYTES = 8 << 20
MAX_ZIP_MEMBERS = 2000
MAX_ZIP_BYTES = 64 << 20
SUFFIXES = (".py", ".zip")


class StagingError(Exception):
    """The submission cannot be graded (not found inside, corrupt zip, too big): a message for its report."""


def submission_id(path: Path) -> str:
    """The file's stem or the folder's name, made safe as a folder name."""
    raw = path.name if path.is_dir() else path.stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or "submission"


def check_exists(path: Path) -> None:
    """A caller's mistake, not a student's: the path must exist and be of a kind we grade."""
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    if path.is_file() and path.suffix.lower() not in SUFFIXES:
        raise UsageError(f"{path}: a submission is a .py file, a .zip or a folder")


@dataclass(frozen=True)
class Staged:
    workdir: Path
    module_file: Path


def stage(path: Path, module: str, workdir: Path) -> Staged:
    """Copy the submission's module into ``workdir`` as ``<module>.py``."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"{module}.py"
    if path.is_file() and path.suffix.lower() == ".py":
        _copy_source(path, target)
        return Staged(workdir, target)
    if path.is_file():  # .zip
        unpacked = workdir.parent / f"{workdir.name}.unzipped"
        _unzip(path, unpacked)
        try:
            return _stage_folder(unpacked, module, workdir, f"{path.name}")
        finally:
            shutil.rmtree(unpacked, ignore_errors=True)
    return _stage_folder(path, module, workdir, f"folder {path.name}")


def _stage_folder(folder: Path, module: str, workdir: Path, what: str) -> Staged:
    found = sorted((p for p in folder.rglob(f"{module}.py")
                    if p.is_file() and not any(part.startswith((".", "__MACOSX")) for part in p.relative_to(folder).parts)),
                   key=lambda p: (len(p.parts), str(p)))
    if not found:
        raise StagingError(f"{what} holds no {module}.py")
    source_dir = found[0].parent
    for sibling in source_dir.glob("*.py"):
        if sibling.is_file():
            _copy_source(sibling, workdir / sibling.name)
    return Staged(workdir, workdir / f"{module}.py")


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
                if member.is_dir() or name.is_absolute() or ".." in name.parts or not name.suffix == ".py":
                    continue  # only source files, never outside the folder
                out = dest / name
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise StagingError(f"{path.name} is not a readable zip file ({exc})") from None

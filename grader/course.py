"""Where a course keeps its assignments, and loading one of them.

A course is a folder with ``assignments/<name>/`` (spec, checks, README) and ``reference/<name>.py``.
It is found from ``--course``, else ``$GRADER_COURSE``, else the checkout this package lives in,
else the current folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

from grader.errors import SpecError, UsageError
from grader.spec import SPEC_FILE, AssignmentSpec, load_spec

SECRET_ENV = "GRADER_SECRET"


def course_root(explicit: str | os.PathLike | None = None) -> Path:
    candidates = [explicit, os.environ.get("GRADER_COURSE"), Path(__file__).resolve().parent.parent, Path.cwd()]
    for candidate in candidates:
        if candidate and (Path(candidate) / "assignments").is_dir():
            return Path(candidate).resolve()
    raise UsageError("no course found: pass --course DIR or set GRADER_COURSE to a folder with assignments/")


@dataclass(frozen=True)
class Assignment:
    name: str
    course: Path

    @property
    def folder(self) -> Path:
        return self.course / "assignments" / self.name

    @property
    def checks_dir(self) -> Path:
        return self.folder / "checks"

    @property
    def reference_path(self) -> Path:
        return self.course / "reference" / f"{self.spec.module}.py"

    @cached_property
    def spec(self) -> AssignmentSpec:
        return load_spec(self.folder / SPEC_FILE)

    def load_reference(self) -> ModuleType:
        """Import the hidden solution in the judge under a private name."""
        path = self.reference_path
        if not path.is_file():
            raise SpecError(f"assignment {self.name!r}: no reference solution at {path}")
        spec = importlib.util.spec_from_file_location(f"_grader_reference_{self.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        missing = [f for f in self.spec.functions if not callable(getattr(module, f, None))]
        if missing:
            raise SpecError(f"{path}: the reference does not define {missing}")
        return module


def list_assignments(course: Path) -> list[str]:
    return sorted(p.parent.name for p in (course / "assignments").glob(f"*/{SPEC_FILE}"))


def load_assignment(name: str, course: Path) -> Assignment:
    """The assignment ``name`` of the course, its spec validated; ``UsageError`` if there is none."""
    if not (course / "assignments" / name / SPEC_FILE).is_file():
        known = ", ".join(list_assignments(course)) or "none"
        raise UsageError(f"unknown assignment {name!r} (this course has: {known})")
    assignment = Assignment(name, course)
    _ = assignment.spec  # validate now: an instructor's mistake stops the command before any grading
    return assignment


def course_secret(course: Path) -> bytes:
    """The secret that hidden inputs derive from: ``$GRADER_SECRET``, else ``<course>/.grader/secret``,
    created on first use (readable by its owner only) and kept for regrades."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV].encode()
    path = course / ".grader" / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def derive_seed(secret: bytes, *parts: str) -> int:
    """A 128-bit seed from the secret and the parts (assignment, submission, check)."""
    digest = hashlib.sha256(secret + b"\0" + "\0".join(parts).encode()).digest()
    return int.from_bytes(digest[:16], "little")

"""Shared helpers for the test suite."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from grader.course import Assignment, course_root, load_assignment
from grader.grade import grade_submission
from grader.report import Report

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


def load_reference(name: str) -> ModuleType:
    """Return the module loaded from ``reference/<name>.py`` (``reference/`` is not a package)."""
    return load_module(REFERENCE_DIR / f"{name}.py")


def load_module(path: Path) -> ModuleType:
    """A trusted file of ours (a reference, a stub) imported under a private name."""
    spec = importlib.util.spec_from_file_location(f"_tests_{path.parent.name}_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- grading in-process

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = Path(__file__).resolve().parent / "mutants"
TEST_SECRET = b"test-suite-secret"


@pytest.fixture(scope="session")
def optimizers() -> Assignment:
    return load_assignment("optimizers", course_root(ROOT))


@pytest.fixture
def grade(tmp_path):
    """grade(assignment, source_or_path, name="submission", visible_only=False) -> Report.

    A ``str`` is written to ``<tmp>/<name>.py`` first; a ``Path`` is graded as it is.
    """

    def run(assignment: Assignment, submission: str | Path, name: str = "submission", **kwargs) -> Report:
        if isinstance(submission, str):
            path = tmp_path / f"{name}.py"
            path.write_text(submission)
            submission = path
        return grade_submission(assignment, Path(submission), name, secret=TEST_SECRET, **kwargs)

    return run


def statuses(report: Report) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def not_passed(report: Report) -> set[str]:
    return {c.name for c in report.checks if c.status != "passed"}


def with_limits(assignment: Assignment, **limits) -> Assignment:
    """The same assignment with some limits changed (short deadlines keep the suite fast)."""
    spec = assignment.spec
    changed = Assignment(assignment.name, assignment.course)
    changed.__dict__["spec"] = spec.model_copy(update={"limits": spec.limits.model_copy(update=limits)})
    return changed


def reference_source(name: str = "optimizers") -> str:
    return (ROOT / "reference" / f"{name}.py").read_text()


def checks_of(assignment: Assignment, function: str) -> set[str]:
    return {n for n, c in assignment.spec.checks.items() if function in c.functions}


# --------------------------------------------------------------------------- the platforms' tests


def grader_grade_score(assignment: str, files: dict[str, Path | bytes], tmp_path: Path, secret: str) -> float:
    """The score `grader grade` (a fresh process, as a TA runs it) gives these files: one file graded as
    itself, several as a folder."""
    folder = tmp_path / "grade-in"
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content.read_bytes() if isinstance(content, Path) else content)
    target = folder / next(iter(files)) if len(files) == 1 else folder
    out = tmp_path / "grade-out"
    result = subprocess.run([sys.executable, "-m", "grader", "grade", assignment, str(target), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "GRADER_SECRET": secret})
    assert result.returncode == 0, result.stderr
    (report,) = out.glob("*/report.json")
    return json.loads(report.read_text())["score"]


def copy_course(target: Path, assignments: tuple[str, ...] = ("init",), references: tuple[str, ...] | None = None) -> Path:
    """A course folder at ``target`` holding copies of these assignments and references (by default the
    references of the assignments copied), to edit without touching the real one."""
    for name in assignments:
        shutil.copytree(ROOT / "assignments" / name, target / "assignments" / name)
    (target / "reference").mkdir(parents=True, exist_ok=True)
    for name in references if references is not None else assignments:
        shutil.copy(ROOT / "reference" / f"{name}.py", target / "reference" / f"{name}.py")
    return target

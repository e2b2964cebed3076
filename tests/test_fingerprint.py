"""The assignment's fingerprint (what a resumed batch compares to decide what to regrade) covers everything a
check can pull in: the spec, the check files, every reference of the course, the kit and its versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, copy_course

import grader.testing
from grader.course import load_assignment
from grader.gradebook import assignment_fingerprint


@pytest.fixture
def course(tmp_path) -> Path:
    return copy_course(tmp_path, references=tuple(p.stem for p in (ROOT / "reference").glob("*.py")))


def fingerprint(course: Path) -> str:
    return assignment_fingerprint(load_assignment("init", course))


@pytest.mark.parametrize("edited", ["assignments/init/assignment.toml", "assignments/init/checks/common.py",
                                    "assignments/init/checks/test_hidden.py", "reference/init.py",
                                    "reference/optimizers.py"])  # init's hidden checks train with reference_of("optimizers")
def test_editing_what_a_check_uses_changes_the_fingerprint(course, edited):
    before = fingerprint(course)
    assert fingerprint(course) == before  # nothing changed: nothing to regrade
    with (course / edited).open("a") as f:
        f.write("\n# edited\n")
    assert fingerprint(course) != before


def test_editing_the_kit_changes_the_fingerprint(course, monkeypatch):
    before = fingerprint(course)
    kit = Path(grader.testing.__file__).parent / "compare.py"
    read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda p: read(p) + (b"# edited" if p == kit else b""))
    assert fingerprint(course) != before

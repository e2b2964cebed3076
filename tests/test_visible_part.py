"""``grader assign`` ships exactly what the spec declares visible (grader/visible.py): a hidden check planted in
each wrong place (a file of visible checks, a second file, a helper only hidden checks use, a constant only a
hidden check reads) stays out of the template, and what the visible checks need stays in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT, copy_course

from grader.assign import generate
from grader.course import list_assignments, load_assignment
from grader.grade import grade_submission
from grader.visible import visible_checks

PLANTED_SPEC = """

[checks.planted_in_visible_file]
points = 1
visibility = "hidden"
functions = ["fan_in"]
description = "a hidden check written in test_visible.py"

[checks.planted_in_second_file]
points = 1
visibility = "hidden"
functions = ["fan_in"]
description = "a hidden check in a file of its own"
"""

PLANTED_VISIBLE_FILE = '''

PLANTED_SECRET_CONSTANT = 918273645  # read only by the hidden check below


def test_planted_in_visible_file(student, reference, rng, spec):
    assert student.fan_in((PLANTED_SECRET_CONSTANT, 3)) == common.planted_secret_helper()
'''

PLANTED_HELPER = '''

def planted_secret_helper():
    """Only a hidden check uses this."""
    return 3
'''

PLANTED_SECOND_FILE = '''"""A second file of hidden checks."""


def test_planted_in_second_file(student, reference, rng, spec):
    assert student.fan_in((4, 5)) == 5, "planted second file"
'''


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, Path]:
    """A course with init and a hidden check planted in each wrong place, and its generated template."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    checks = course / "assignments" / "init" / "checks"
    with (course / "assignments" / "init" / "assignment.toml").open("a") as f:
        f.write(PLANTED_SPEC)
    with (checks / "test_visible.py").open("a") as f:
        f.write(PLANTED_VISIBLE_FILE)
    with (checks / "common.py").open("a") as f:
        f.write(PLANTED_HELPER)
    (checks / "test_planted.py").write_text(PLANTED_SECOND_FILE)
    out = tmp_path_factory.mktemp("template")
    generate(course, out)
    return course, out


def test_no_planted_hidden_check_reaches_the_template(planted):
    _, out = planted
    shipped = {p.name: p.read_text() for p in (out / "assignments" / "init" / "checks").glob("*")}
    assert sorted(shipped) == ["common.py", "test_visible.py"]  # test_planted.py: no visible check in it
    for text in shipped.values():
        for word in ("planted_in_visible_file", "PLANTED_SECRET_CONSTANT", "918273645", "planted_secret_helper"):
            assert word not in text


def test_the_planted_checks_are_graded(planted):
    """The course itself still has them: the judge runs the hidden checks, wherever they are written."""
    course, _ = planted
    spec = load_assignment("init", course).spec
    assert spec.checks["planted_in_visible_file"].visibility == "hidden"
    assert "test_planted_in_second_file" in (course / "assignments" / "init" / "checks" / "test_planted.py").read_text()


def test_the_template_still_runs_the_visible_checks(planted, tmp_path):
    """What the visible checks use (helpers, constants, fixtures, imports) is kept: the reference passes every
    visible check from the template, as a student's `grader --course . check` runs them."""
    _, out = planted
    template = load_assignment("init", out)
    report = grade_submission(template, ROOT / "reference" / "init.py", "reference", visible_only=True,
                              secret=b"visible-checks-only")
    visible = {n for n, c in template.spec.checks.items() if c.visibility == "visible"}
    assert {c.name for c in report.checks} == visible
    assert all(c.status == "passed" for c in report.checks), [(c.name, c.message) for c in report.checks]


@pytest.mark.parametrize("name", list_assignments(ROOT))
def test_every_visible_check_and_no_hidden_one_is_shipped(name):
    assignment = load_assignment(name, ROOT)
    visible = {n for n, c in assignment.spec.checks.items() if c.visibility == "visible"}
    shipped = visible_checks(assignment.checks_dir, visible)
    tests = {node.name.removeprefix("test_") for text in shipped.values() for node in ast.parse(text).body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    assert tests == visible
    assert "mistakes.py" not in shipped


def test_a_file_nothing_is_taken_from_is_shipped_byte_for_byte(tmp_path):
    (tmp_path / "test_a.py").write_text("import os\n\n\ndef test_one():\n    assert os.sep\n")
    (tmp_path / "test_b.py").write_text("import os\nimport sys\n\n\ndef test_one_more():\n    assert os.sep\n\n\n"
                                        "def test_two(fixture_x):\n    assert sys.argv\n")
    shipped = visible_checks(tmp_path, {"one", "one_more"})
    assert shipped["test_a.py"] == (tmp_path / "test_a.py").read_text()
    assert shipped["test_b.py"] == "import os\n\n\ndef test_one_more():\n    assert os.sep\n"

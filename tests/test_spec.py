"""The assignment format: specs are validated, and a spec that disagrees with its checks stops the run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET

from grader.course import course_root, derive_seed, list_assignments, load_assignment
from grader.errors import SpecError, UsageError
from grader.grade import grade_submission
from grader.spec import load_spec

SPEC = ROOT / "assignments" / "optimizers" / "assignment.toml"


def test_the_optimizers_spec_is_worth_100_points():
    """Is the optimizers assignment valid and worth exactly 100 points, with both kinds of checks?"""
    spec = load_spec(SPEC)
    assert spec.max_score == 100
    assert {c.visibility for c in spec.checks.values()} == {"visible", "hidden"}
    covered = {f for c in spec.checks.values() for f in c.functions}
    assert covered == set(spec.functions) - set(spec.given)


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace('title = ', 'titel = "x"\ntitle = '), "key titel: Extra inputs"),
    (lambda t: t.replace("points = 6\nvisibility = \"visible\"", "pointz = 6\nvisibility = \"visible\"", 1),
     "key checks.adagrad_matches_torch"),
    (lambda t: t.replace('visibility = "hidden"', 'visibility = "secret"', 1), "visibility"),
    (lambda t: t.replace('functions = ["adagrad"]', 'functions = ["adagard"]', 1), "undeclared functions"),
    (lambda t: t + "\n[limits]\nwall = 3\n", "limits"),
    (lambda t: t.replace("[tolerances]", "[tolerances"), "assignment.toml"),
])
def test_bad_specs_name_the_file_and_the_key(tmp_path, edit, words):
    """Does a spec with an unknown key, a bad value or broken TOML fail with the file and key named?"""
    path = tmp_path / "assignment.toml"
    path.write_text(edit(SPEC.read_text()))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value) and words in str(info.value)


def copy_course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "optimizers", course / "assignments" / "optimizers")
    shutil.copytree(ROOT / "reference", course / "reference")
    return course


def test_a_check_without_a_spec_entry_stops_the_run(tmp_path):
    """Is a test in checks/ that has no [checks.<name>] entry the instructor's error, not a zero for students?"""
    course = copy_course(tmp_path)
    (course / "assignments/optimizers/checks/test_extra.py").write_text("def test_unlisted(student):\n    pass\n")
    with pytest.raises(SpecError, match="test_unlisted.*no entry"):
        grade_submission(load_assignment("optimizers", course), ROOT / "reference/optimizers.py", "x",
                         secret=TEST_SECRET)


def test_a_spec_entry_without_a_check_stops_the_run(tmp_path):
    """Is a [checks.<name>] entry with no test for it (a check silently dropped) an error?"""
    course = copy_course(tmp_path)
    spec = course / "assignments/optimizers/assignment.toml"
    spec.write_text(spec.read_text() + '\n[checks.forgotten]\npoints = 1\nvisibility = "hidden"\nfunctions = ["adam"]\n')
    with pytest.raises(SpecError, match="forgotten"):
        grade_submission(load_assignment("optimizers", course), ROOT / "reference/optimizers.py", "x",
                         secret=TEST_SECRET)


def test_a_visible_check_may_not_use_the_reference(tmp_path):
    """Can a visible check (which students run) compare against the hidden reference? It must not."""
    course = copy_course(tmp_path)
    checks = course / "assignments/optimizers/checks/test_visible.py"
    checks.write_text(checks.read_text().replace("def test_purity(student, public_rng, spec)",
                                                 "def test_purity(student, public_rng, spec, reference)"))
    with pytest.raises(SpecError, match="hidden-only fixtures"):
        grade_submission(load_assignment("optimizers", course), ROOT / "reference/optimizers.py", "x",
                         secret=TEST_SECRET, visible_only=True)


def test_unknown_assignment_lists_the_known_ones():
    """Does asking for an assignment that does not exist say which ones do?"""
    with pytest.raises(UsageError, match="optimizers"):
        load_assignment("optimisers", course_root(ROOT))
    assert "optimizers" in list_assignments(ROOT)


def test_seeds_differ_between_students_and_repeat_for_one():
    """Are hidden inputs reproducible for a regrade and different between students and secrets?"""
    a = derive_seed(b"s", "optimizers", "alice", "test_adam_step")
    assert a == derive_seed(b"s", "optimizers", "alice", "test_adam_step")
    assert a != derive_seed(b"s", "optimizers", "bob", "test_adam_step")
    assert a != derive_seed(b"t", "optimizers", "alice", "test_adam_step")

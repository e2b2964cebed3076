"""Every assignment of the course, end to end: the reference scores 100, the stub 0, a correct
solution in another style 100, and the stub matches the reference's signatures."""

from __future__ import annotations

import inspect

import pytest
from conftest import ROOT, load_module

from grader.course import course_root, list_assignments, load_assignment

ASSIGNMENTS = list_assignments(ROOT)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def assignment(request):
    return load_assignment(request.param, course_root(ROOT))


def test_the_course_has_all_its_assignments():
    """Are the lecture's assignments all here?"""
    assert set(ASSIGNMENTS) == {"optimizers", "init", "conv", "cross_entropy", "mixup", "weight_decay", "dropout", "normalization"}


def test_the_spec_is_whole(assignment):
    """Is the assignment worth 100 points, with visible and hidden checks covering every function a student writes, and a README?"""
    spec = assignment.spec
    assert spec.max_score == 100
    assert {c.visibility for c in spec.checks.values()} == {"visible", "hidden"}
    assert {f for c in spec.checks.values() for f in c.functions} == set(spec.functions) - set(spec.given)
    assert (assignment.folder / "README.md").is_file()


def test_the_reference_scores_100(grade, assignment):
    """Does the reference solution, graded as a submission, pass every check?"""
    report = grade(assignment, assignment.reference_path, "reference")
    assert report.score == report.max_score == 100, [(c.name, c.message) for c in report.checks if c.status != "passed"]


def test_the_stub_scores_0_with_a_message_per_check(grade, assignment):
    """Does the untouched stub score 0 without a traceback, every check naming the function not implemented?"""
    report = grade(assignment, ROOT / "student_template" / f"{assignment.spec.module}.py", "stub")
    assert report.score == 0 and report.load_error is None
    for check in report.checks:
        assert check.status == "error", (check.name, check.status, check.message)
        assert "NotImplementedError" in check.message and "not implemented" in check.message


def test_a_correct_solution_in_another_style_scores_100(grade, assignment):
    """Does alice's correct solution in examples/<assignment>/, written unlike the reference, score 100?"""
    path = ROOT / "examples" / assignment.name / "alice.py"
    report = grade(assignment, path, "alice")
    assert report.score == 100, [(c.name, c.message) for c in report.checks if c.status != "passed"]


def test_stub_and_reference_have_the_same_signatures(assignment):
    """Does every function of the stub have the reference's signature (names, defaults, annotations)?"""
    stub = load_module(ROOT / "student_template" / f"{assignment.spec.module}.py")
    ref = load_module(assignment.reference_path)
    for name in assignment.spec.functions:
        assert inspect.signature(getattr(stub, name)) == inspect.signature(getattr(ref, name)), name

"""The optimizers assignment end to end: the reference, the stub, and what students are told."""

from __future__ import annotations

import inspect

from conftest import MUTANTS, ROOT, load_module, load_reference

import grader


def test_the_reference_scores_100(grade, optimizers):
    """Does the reference solution, graded as a submission, pass every check?"""
    report = grade(optimizers, ROOT / "reference/optimizers.py", "reference")
    assert report.score == report.max_score == 100, [c for c in report.checks if c.status != "passed"]


def test_the_stub_scores_0_with_a_message_per_check(grade, optimizers):
    """Does the untouched stub score 0, every check saying which function is not implemented?"""
    report = grade(optimizers, ROOT / "student_template/optimizers.py", "stub")
    assert report.score == 0 and report.load_error is None
    for check in report.checks:
        assert check.status == "error"
        assert "NotImplementedError" in check.message and "is not implemented yet" in check.message


def test_stub_and_reference_have_the_same_signatures():
    """Does every function of the stub have the reference's signature (names, defaults)?"""
    stub, ref = load_module(ROOT / "student_template/optimizers.py"), load_reference("optimizers")
    spec = grader.load_spec(ROOT / "assignments/optimizers/assignment.toml")
    for name in spec.functions:
        assert inspect.signature(getattr(stub, name)) == inspect.signature(getattr(ref, name)), name


def test_hidden_messages_do_not_show_values(grade, optimizers):
    """Do the messages of failed hidden checks avoid the student's and the expected values?"""
    report = grade(optimizers, MUTANTS / "optimizers" / "adam_eps_inside_sqrt.py", "mutant")
    hidden = [c for c in report.checks if c.visibility == "hidden" and c.status == "failed"]
    assert hidden
    for check in hidden:
        assert "got" not in check.message and "expected" not in check.message, check.message
        assert "element" in check.message or "the value" in check.message  # says where


def test_a_regrade_gives_the_same_report(grade, optimizers):
    """Does grading the same submission twice give the same scores and messages (timings aside)?"""
    first = grade(optimizers, MUTANTS / "optimizers" / "rmsprop_v_starts_at_zero.py", "again")
    second = grade(optimizers, MUTANTS / "optimizers" / "rmsprop_v_starts_at_zero.py", "again")
    strip = {"graded_at", "seconds"}
    assert first.model_dump(exclude=strip | {"checks"}) == second.model_dump(exclude=strip | {"checks"})
    assert [c.model_dump(exclude={"seconds"}) for c in first.checks] == \
           [c.model_dump(exclude={"seconds"}) for c in second.checks]

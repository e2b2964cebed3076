"""The optimizers assignment: what students are told, and regrades."""

from __future__ import annotations

from conftest import MUTANTS


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
    strip = {"graded_at", "seconds", "boundary_seconds"}
    assert first.model_dump(exclude=strip | {"checks"}) == second.model_dump(exclude=strip | {"checks"})
    assert [c.model_dump(exclude={"seconds"}) for c in first.checks] == \
           [c.model_dump(exclude={"seconds"}) for c in second.checks]

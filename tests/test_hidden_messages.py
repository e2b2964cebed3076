"""A hidden check's failure message shows no number unless its author marks the check ``safe_messages``; a
visible check's is shown as written."""

from __future__ import annotations

import pytest
from conftest import ROOT, copy_course

from grader.course import load_assignment
from grader.grade import grade_submission

SPEC = """

[checks.leaky_hidden]
points = 1
visibility = "hidden"
functions = ["fan_in"]
description = "a hidden check that writes its expected value into its message"

[checks.vouched_hidden]
points = 1
visibility = "hidden"
functions = ["fan_in"]
description = "the same, marked safe_messages"

[checks.plain_visible]
points = 1
visibility = "visible"
functions = ["fan_in"]
description = "the same, visible"
"""

CHECKS = '''"""Three checks that fail with the expected value in their message."""

from grader.testing import safe_messages

SECRET_SHAPE = (37, 1913)


def test_leaky_hidden(student, rng):
    got = student.fan_in(SECRET_SHAPE)
    assert got == 0, f"fan_in({SECRET_SHAPE}) should be {SECRET_SHAPE[1] * 2.5}, got {got}"


@safe_messages
def test_vouched_hidden(student, rng):
    got = student.fan_in(SECRET_SHAPE)
    assert got == 0, f"fan_in({SECRET_SHAPE}) should be {SECRET_SHAPE[1] * 2.5}, got {got}"


def test_plain_visible(student, public_rng):
    got = student.fan_in(SECRET_SHAPE)
    assert got == 0, f"fan_in({SECRET_SHAPE}) should be {SECRET_SHAPE[1] * 2.5}, got {got}"
'''


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> dict[str, str]:
    course = copy_course(tmp_path_factory.mktemp("course"))
    with (course / "assignments" / "init" / "assignment.toml").open("a") as f:
        f.write(SPEC)
    (course / "assignments" / "init" / "checks" / "test_messages.py").write_text(CHECKS)
    assignment = load_assignment("init", course)
    report = grade_submission(assignment, ROOT / "reference" / "init.py", "reference", secret=b"s")
    return {c.name: c.message for c in report.checks if c.name in ("leaky_hidden", "vouched_hidden", "plain_visible")}


def test_an_unmarked_hidden_check_shows_no_number(messages):
    assert messages["leaky_hidden"] == "fan_in((…, …)) should be …, got …"


def test_a_marked_hidden_check_and_a_visible_one_show_their_message(messages):
    assert messages["vouched_hidden"] == "fan_in((37, 1913)) should be 4782.5, got 1913"
    assert messages["plain_visible"] == "fan_in((37, 1913)) should be 4782.5, got 1913"

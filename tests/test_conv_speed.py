"""conv's speed check: a call on 1 image and one on 8 stop a slow submission early, by a line through
their two times, and never stop one whose whole batch is within the budget, whatever its fixed cost.

The submissions here are the reference's convolution slowed down by a sleep of ``fixed + per_image *
len(x)`` seconds a call (the judge times the wall clock around the call): cost models whose whole-batch
time is known in advance."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from grader.course import course_root, load_assignment

BATCH = 64


def slowed(fixed: float, per_image: float) -> str:
    return (ROOT / "reference" / "conv.py").read_text() + f'''

import time as _time

_vectorized = conv2d_forward


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    _time.sleep({fixed!r} + {per_image!r} * len(x))
    return _vectorized(x, w, b, stride, padding)
'''


@pytest.fixture(scope="module")
def conv():
    return load_assignment("conv", course_root(ROOT))


def speed(grade, conv, source: str, name: str):
    report = grade(conv, source, name, only=frozenset({"speed"}))
    (check,) = report.checks
    return check


@pytest.mark.parametrize("fixed, per_image", [
    (0.40, 0.0),               # slow to start, quick per image: 0.40 s on 1 image, 8 and 64 alike
    (0.25, 0.0025),            # a fixed part and a part per image: 0.41 s for the batch
    (0.0, 0.3 / BATCH),        # all per image: 0.30 s for the batch, 0.04 s for 8 images
])
def test_a_batch_within_the_budget_passes_whatever_its_fixed_cost(grade, conv, fixed, per_image):
    """Does a submission whose whole batch takes well within the budget (0.65 s) pass, even when one image
    costs it nearly as much as the whole batch (the line through two times must measure that, not guess)?"""
    check = speed(grade, conv, slowed(fixed, per_image), "steady")
    assert check.status == "passed", check.message


def test_a_batch_over_the_budget_but_under_the_margin_is_timed_whole(grade, conv):
    """A batch of about 0.96 s (over the 0.65 s budget, under two budgets): the 8 images end before their
    cut, so the whole batch is timed and fails on its own time, not on an extrapolation."""
    check = speed(grade, conv, slowed(0.0, 0.96 / BATCH), "slowish")
    assert check.status == "failed"
    assert "on 8 (stopped there)" not in check.message
    assert re.match(r"conv2d_forward took ([\d.]+ s|more than [\d.]+ s \(stopped there\)) on a batch of 64 ",
                    check.message), check.message


def test_a_loop_over_output_positions_stops_on_8_images(grade, conv):
    """A correct loop over output positions (several seconds for the batch) is stopped on its 8 images, and
    the message gives both times and what they mean for the whole batch."""
    source = (ROOT / "tests" / "mutants" / "conv" / "forward_loops_over_outputs.py").read_text()
    check = speed(grade, conv, source, "loops")
    assert check.status == "failed"
    assert "image and more than" in check.message and "on 8 (stopped there): at that rate more than" in check.message
    assert "(2 x the budget)" in check.message and "Python loop over output positions is too slow" in check.message


def test_a_wrong_forward_pass_is_named_on_the_first_images(grade, conv):
    """A fast but wrong forward pass (the kernel flipped) fails the speed check on the 8 images' first 4,
    before any timing of the whole batch."""
    source = (ROOT / "reference" / "conv.py").read_text() + '''

_right = conv2d_forward


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    return _right(x, w[:, :, ::-1, ::-1], b, stride, padding)
'''
    check = speed(grade, conv, source, "flipped")
    assert check.status == "failed"
    assert "credited for a correct output only; conv2d_forward on the first 4 images" in check.message, check.message

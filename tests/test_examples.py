"""Do the bundled example submissions in ``examples/optimizers/`` grade as their stories say?

alice is correct in her own style (tests/test_assignments.py grades her); bob, carol and dave each carry a classic mistake; erin handed in
the stub with only two functions done; frank's file cannot even be imported. Each example is graded
once per session (lazily, so ``-k alice`` grades only alice).
"""

from __future__ import annotations

import pytest
from conftest import ROOT, TEST_SECRET, statuses

from grader.grade import grade_submission

EXAMPLES = ROOT / "examples" / "optimizers"
FLAWED = ["bob", "carol", "dave", "erin", "frank"]
# the functions each flawed example gets wrong: a failed check must exercise one of them
WRONG = {
    "bob": {"rmsprop"},
    "carol": {"adagrad", "adam"},
    "dave": {"momentum"},
    "erin": {"rmsprop", "momentum", "adam"},
}
ERIN_FINISHED = {"gd", "adagrad", "warmup_cosine_lr"}


@pytest.fixture(scope="module")
def report_of(optimizers):
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = grade_submission(optimizers, EXAMPLES / f"{name}.py", name, secret=TEST_SECRET)
        return cache[name]

    return get


def test_examples_present():
    """Are exactly alice and the flawed examples bundled?"""
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(["alice", *FLAWED])


@pytest.mark.parametrize("name", FLAWED)
def test_flawed_example_scores_below_100(report_of, optimizers, name):
    """Does each flawed example score below 100, losing points only on checks that exercise what it got wrong?"""
    report = report_of(name)
    assert report.score < 100, f"{name} scored {report.score}"
    failed = [c for c in report.checks if c.status != "passed"]
    assert failed and all(c.message.strip() for c in failed)
    if name in WRONG:
        assert report.load_error is None
        for c in failed:
            involved = set(optimizers.spec.checks[c.name].functions)
            assert involved & WRONG[name], f"{name} failed {c.name} ({sorted(involved)}), not about {WRONG[name]}"


def test_frank_cannot_be_loaded(report_of):
    """Does frank's missing import give a zero with the load error in the report?"""
    report = report_of("frank")
    assert report.score == 0
    assert report.load_error and "jax" in report.load_error
    assert set(statuses(report).values()) == {"error"}


def test_erin_passes_only_checks_of_her_finished_functions(report_of, optimizers):
    """Does erin's half-done stub pass exactly the checks that involve only the functions she finished?"""
    report = report_of("erin")
    checks = optimizers.spec.checks
    passed = {name for name, status in statuses(report).items() if status == "passed"}
    only_finished = {name for name, check in checks.items() if set(check.functions) <= ERIN_FINISHED}
    assert passed, "erin finished adagrad and the schedule: some checks should pass"
    assert passed == only_finished, (f"passed but touch unfinished functions: {sorted(passed - only_finished)}; "
                                     f"failed though only about finished ones: {sorted(only_finished - passed)}")
    assert 0 < report.score < 100

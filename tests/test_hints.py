"""Hints from known mistakes: does a failing check name the mistake a submission made, and only then?

Each assignment's ``checks/mistakes.py`` holds a ``CATALOGUE``, ``{student function: {description: wrong
version}}``; when a check fails, the judge runs the wrong versions on the student's inputs and appends
"your values match <description>" for the first whose values the student's match. Every description is
tested by a mutant (``tests/mutants/<assignment>/``) whose ``# hint:`` header line names it: graded, at
least one of its failing checks must say so. A correct submission must never get a hint, and a hint
must never carry a number its description does not (messages of hidden checks never show inputs or
expected values).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import MUTANTS, ROOT
from test_mutants import read_header

from grader.course import course_root, list_assignments, load_assignment
from grader.report import Report
from grader.testing import load_sibling

HINT = "your values match "
ASSIGNMENTS = list_assignments(ROOT)
CATALOGUED = [name for name in ASSIGNMENTS if (ROOT / "assignments" / name / "checks" / "mistakes.py").is_file()]
HINTED = [path for path in sorted(MUTANTS.glob("*/*.py")) if "hint" in read_header(path)]


def catalogue(assignment: str) -> dict[str, dict]:
    """``mistakes.CATALOGUE`` of an assignment, loaded as its checks load it; {} when it has none."""
    checks = ROOT / "assignments" / assignment / "checks"
    if not (checks / "mistakes.py").is_file():
        return {}
    return load_sibling(str(checks / "common.py"), "mistakes").CATALOGUE


def descriptions(assignment: str) -> set[str]:
    return {description for entries in catalogue(assignment).values() for description in entries}


def hints_in(report: Report) -> list[tuple[str, str]]:
    """(check, the text from "your values match" to the end of its message) for every check that has one."""
    return [(c.name, c.message[c.message.index(HINT):]) for c in report.checks if HINT in c.message]


def digits(text: str) -> set[str]:
    return set(re.findall(r"\d", text))


def assert_hints_are_descriptions(report: Report, assignment: str) -> None:
    """Every hint in the report is "your values match <a description of the catalogue>", on a failing check,
    and holds no digit its description does not: no number from the inputs or the expected values."""
    known = descriptions(assignment)
    for check, hint in hints_in(report):
        status = next(c.status for c in report.checks if c.name == check)
        assert status != "passed", f"{check} passed with a hint: {hint}"
        said = hint[len(HINT):]
        matches = [d for d in known if said.startswith(d)]
        assert matches, f"{check}: the hint names no description of {assignment}'s catalogue: {hint!r}"
        extra = digits(said) - digits(max(matches, key=len))
        assert not extra, f"{check}: the hint shows digits {sorted(extra)} its description does not have: {hint!r}"


def test_every_catalogue_entry_has_a_mutant_that_names_it():
    """Is every description of every catalogue the ``hint:`` of a mutant of the function it is filed under,
    and every mutant's hint a description of its own function's catalogue?"""
    assert CATALOGUED, "no assignment has a checks/mistakes.py"
    claimed = {(p.parent.name, read_header(p)["function"], read_header(p)["hint"]) for p in HINTED}
    for assignment in CATALOGUED:
        spec = load_assignment(assignment, course_root(ROOT)).spec
        for function, entries in catalogue(assignment).items():
            assert function in spec.functions, f"{assignment}: the catalogue files mistakes under {function!r}"
            assert entries, f"{assignment}: the catalogue of {function} is empty"
            for description, wrong in entries.items():
                assert callable(wrong) and wrong.__doc__, f"{assignment}: {description!r} needs a documented function"
                assert (assignment, function, description) in claimed, (
                    f"{assignment}: no mutant of {function} has the header '# hint: {description}'")
    for assignment, function, description in claimed:
        assert description in catalogue(assignment).get(function, {}), (
            f"a mutant of {assignment}.{function} names a hint its catalogue does not have: {description!r}")


@pytest.mark.parametrize("path", HINTED, ids=[f"{p.parent.name}/{p.stem}" for p in HINTED])
def test_the_mutant_is_told_its_mistake(path: Path, grade):
    """Graded, does at least one failing check of the mutant end its message with the hint its header names,
    and is every hint in its report a description of the catalogue, without a leaked number?"""
    header = read_header(path)
    assignment = load_assignment(path.parent.name, course_root(ROOT))
    report = grade(assignment, path, path.stem)
    wanted = HINT + header["hint"]
    named = [check for check, hint in hints_in(report) if hint == wanted]
    assert named, (f"{path.stem}: no failing check says '{wanted}'; the failing checks say "
                   f"{[(c.name, c.message) for c in report.checks if c.status != 'passed']}")
    assert_hints_are_descriptions(report, path.parent.name)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_submissions_get_no_hint(assignment, grade):
    """Do the reference and the bundled correct example (alice) get no hint at all?"""
    spec_assignment = load_assignment(assignment, course_root(ROOT))
    for name, path in (("reference", spec_assignment.reference_path), ("alice", ROOT / "examples" / assignment / "alice.py")):
        report = grade(spec_assignment, path, name)
        assert not [c for c in report.checks if HINT in c.message], (
            f"{assignment}/{name} got a hint: {[(c.name, c.message) for c in report.checks if HINT in c.message]}")


# The bundled examples whose stories are catalogued mistakes: (their function, words of the description).
EXAMPLES = {
    "optimizers/bob": [("rmsprop", "v started at zero")],
    "optimizers/carol": [("adagrad", "eps inside"), ("adam", "eps inside")],
    "optimizers/dave": [("momentum", "without dampening")],
    "conv/bob": [("conv2d_forward", "kernel flipped")],
    "conv/carol": [("conv2d_forward", "padding on one side")],
    "cross_entropy/carol": [("cross_entropy_grad", "without the 1/N")],
    "weight_decay/bob": [("adamw", "g + 2 weight_decay * theta")],
    "weight_decay/carol": [("sgd_weight_decay", "(1 - lr lam)")],
    "weight_decay/dave": [("adamw", "decay after")],
    "dropout/bob": [("dropout_forward", "no rescaling")],
    "dropout/carol": [("dropout_forward", "probability p instead of 1 - p")],
    "dropout/dave": [("dropout_backward", "without the scale")],
    "normalization/bob": [("batchnorm_forward", "eps outside")],
    "normalization/carol": [("batchnorm_backward", "without the terms")],
    "normalization/dave": [("batchnorm_forward", "biased variance in the running")],
}


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_examples_are_told_their_mistakes(example: str, grade):
    """Is each bundled example whose story is a catalogued mistake told that mistake by some failing check,
    and is every hint it gets a description of the catalogue, without a number the description lacks?"""
    name, student = example.split("/")
    assignment = load_assignment(name, course_root(ROOT))
    report = grade(assignment, ROOT / "examples" / name / f"{student}.py", student)
    assert_hints_are_descriptions(report, name)
    told = {hint for _, hint in hints_in(report)}
    for function, words in EXAMPLES[example]:
        description = next(d for d in catalogue(name)[function] if words in d)
        assert HINT + description in told, f"{example} is not told '{description}'; its hints: {sorted(told)}"

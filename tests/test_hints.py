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

import numpy as np
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


def _whole_path_hint(mistakes, got, steps_of, tol):
    """The hint as the catalogue decided it before mistakes were given up at their first step off: every
    mistake run to the end, the stacks compared whole."""
    from grader.testing import matching_mistake

    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = np.stack([np.asarray(x, dtype=np.float64) for x in steps_of(wrong)])
        except Exception:  # noqa: BLE001
            continue
    return matching_mistake(np.stack([np.asarray(x, dtype=np.float64) for x in got]), candidates, tol)


@pytest.mark.parametrize("seed", range(8))
def test_a_mistake_given_up_at_its_first_step_off_names_what_the_whole_path_named(seed):
    """forced_hint and own_path_hint stop running a mistake at its first step off; do they name the mistake
    that running every mistake to the end and comparing whole paths names, for mistakes off at the first
    step, off only after the steps compared one by one, off at the last step, raising half-way, of another
    shape, or matching (and for a student's path that is not finite)?"""
    from grader.spec import Tolerance
    from grader.testing import forced_hint, own_path_hint

    rng = np.random.default_rng(seed)
    tol = Tolerance(rtol=1e-7, atol=1e-9)
    steps = int(rng.integers(1, 40))
    off_at = {"late": min(steps - 1, int(rng.integers(4, 40))), "last": steps - 1}

    def sgd(theta, g, state, lr):
        return theta - lr * g, {"t": state.get("t", 0) + 1}

    def off_after(when):
        def step(theta, g, state, lr):
            t = state.get("t", 0)
            return theta - lr * g * (1.5 if t >= when else 1.0), {"t": t + 1}
        return step

    def raising(theta, g, state, lr):
        if state.get("t", 0) == steps // 2:
            raise ValueError("cannot")
        return sgd(theta, g, state, lr)

    def other_shape(theta, g, state, lr):
        return np.append(theta - lr * g, 0.0), {}

    names = ["off at the first step", "off late", "off at the last step", "raising", "another shape", "the match"]
    funcs = [off_after(0), off_after(off_at["late"]), off_after(off_at["last"]), raising, other_shape, sgd]
    order = rng.permutation(len(names))
    mistakes = {names[i]: funcs[i] for i in order[:int(rng.integers(1, len(names) + 1))]}
    thetas = [rng.normal(size=3) for _ in range(steps)]
    grads = [rng.normal(size=3) for _ in range(steps)]
    forced = [sgd(t, g, {}, 0.1)[0] for t, g in zip(thetas, grads, strict=True)]
    walked, theta = [], thetas[0]
    for g in grads:
        theta = theta - 0.1 * g
        walked.append(theta)
    for got in (forced, walked[:], [*forced[:-1], np.full(3, np.nan)]):
        def forced_steps(wrong, got=got):
            state = {}
            for t, g in zip(thetas[:len(got)], grads[:len(got)], strict=True):
                value, state = wrong(t, g, state, 0.1)
                yield value

        assert forced_hint(mistakes, got, thetas, grads, tol, 0.1) == _whole_path_hint(mistakes, got, forced_steps, tol)

    def walk_steps(wrong):
        theta, state = thetas[0], {}
        for g in grads:
            theta, state = wrong(theta, g, state, 0.1)
            yield theta

    hint = own_path_hint(mistakes, walked, thetas[0], grads, tol, 0.1)
    assert hint == _whole_path_hint(mistakes, walked, walk_steps, tol)
    assert (hint is not None) >= ("the match" in mistakes)


def test_a_mixup_that_mixes_nothing_is_told_so(grade):
    """mixup returning x and y as they came (λ and perm drawn as the contract says): the generalization check
    fails, and its message says nothing was mixed (the blends are compared with the batches only then)."""
    source = (ROOT / "reference" / "mixup.py").read_text() + '''

_mixup = mixup


def mixup(x, y, alpha, rng):
    _, _, lam, perm = _mixup(x, y, alpha, rng)
    return x, y, lam, perm
'''
    assignment = load_assignment("mixup", course_root(ROOT))
    (check,) = grade(assignment, source, "unmixed", only=frozenset({"generalization"})).checks
    assert check.status == "failed"
    assert check.message.endswith("; your x_mix equals x on every call, so nothing was mixed"), check.message

"""Do the checks of each assignment catch realistic student mistakes, and charge them to the right function?

Every file in ``tests/mutants/<assignment>/`` is a full copy of the reference with one mistake, and a
header that says what the mistake is, which student function holds it and which checks must fail::

    # mutant: <one line describing the mistake>
    # function: <the one student function that is wrong>
    # caught-by: <comma-separated check names that MUST fail>
    # hint: <optional: the description, in checks/mistakes.py, that a failing check must name>

A mistake may cost points only on checks whose spec entry lists the wrong function among its
``functions``. The ``caught-by`` lists were read off real grading runs under several course secrets:
every check that fails for one secret fails for all of them (the hidden checks are built so that the
same mistake costs every student the same), and each list names all of them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import MUTANTS, ROOT, statuses

from grader.course import course_root, list_assignments, load_assignment

FILES = sorted(MUTANTS.glob("*/*.py"))
IDS = [f"{p.parent.name}/{p.stem}" for p in FILES]
ASSIGNMENTS = sorted({p.parent.name for p in FILES})
HEADER_KEYS = ("mutant", "function", "caught-by")
HEADER_LINE = re.compile(r"^# (mutant|function|caught-by|hint): (.*\S)\s*$")


def read_header(path: Path) -> dict[str, str]:
    """The header's three fields, in order, from the first three lines of the file, and ``hint`` when the
    fourth line gives one (tests/test_hints.py checks it)."""
    lines = path.read_text().splitlines()[:4]
    fields = {}
    for line in lines[:3]:
        match = HEADER_LINE.match(line)
        assert match, f"{path.name}: header line {line!r} is not '# <key>: <value>'"
        fields[match[1]] = match[2]
    assert tuple(fields) == HEADER_KEYS, f"{path.name}: the header must be {HEADER_KEYS} in that order, got {tuple(fields)}"
    hint = HEADER_LINE.match(lines[3]) if len(lines) > 3 else None
    if hint and hint[1] == "hint":
        fields["hint"] = hint[2]
    return fields


def caught_by(header: dict[str, str]) -> list[str]:
    return [name.strip() for name in header["caught-by"].split(",") if name.strip()]


def function_sources(source: str) -> dict[str, str]:
    """Top-level function name -> a dump of its AST (line numbers and comments ignored)."""
    tree = ast.parse(source)
    return {node.name: ast.dump(node) for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.fixture(scope="module")
def assignment_of():
    cache = {}

    def get(path: Path):
        name = path.parent.name
        if name not in cache:
            cache[name] = load_assignment(name, course_root(ROOT))
        return cache[name]

    return get


def test_every_assignment_has_mutants_for_every_student_function():
    """Does every assignment have mutants, and does every function a student writes have at least one?"""
    assert set(ASSIGNMENTS) == set(list_assignments(ROOT))
    for name in ASSIGNMENTS:
        spec = load_assignment(name, course_root(ROOT)).spec
        covered = {read_header(p)["function"] for p in FILES if p.parent.name == name}
        assert covered == set(spec.functions) - set(spec.given), name


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_mutant_header_and_single_mistake(path, assignment_of):
    """Does the header name a real student function and real checks, and is that function the only one that differs from the reference?"""
    header = read_header(path)
    assignment = assignment_of(path)
    spec = assignment.spec
    function = header["function"]
    assert function in spec.functions and function not in spec.given, f"{function!r} is not a student function"
    names = caught_by(header)
    assert names, "caught-by is empty: a mutant no check catches does not belong here"
    unknown = sorted(set(names) - set(spec.checks))
    assert not unknown, f"caught-by names checks the spec does not have: {unknown}"

    mutant = function_sources(path.read_text())
    reference = function_sources(assignment.reference_path.read_text())
    assert set(mutant) == set(reference), "the mutant must define the same functions as the reference"
    changed = sorted(name for name in reference if mutant[name] != reference[name])
    assert changed == [function], f"the header says {function!r} is wrong, but the functions that differ are {changed}"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_mutant_loses_points_only_where_it_is_wrong(path, assignment_of, grade):
    """Does the mutant fail every check in its caught-by list, fail only checks that exercise its wrong function, with a message each, and score below 100?"""
    header = read_header(path)
    function = header["function"]
    assignment = assignment_of(path)
    spec = assignment.spec
    report = grade(assignment, path, path.stem)
    assert report.load_error is None, f"the mutant should load: {report.load_error}"
    status = statuses(report)

    missed = [name for name in caught_by(header) if status[name] == "passed"]
    assert not missed, f"{path.stem} ({header['mutant']}) passed checks that must catch it: {missed}"
    extra = sorted(name for name, s in status.items() if s != "passed" and name not in caught_by(header))
    assert not extra, f"{path.stem} also failed {extra}: list them in caught-by if that is right"

    for check in report.checks:
        if check.status == "passed":
            continue
        assert function in spec.checks[check.name].functions, (
            f"{check.name} is {check.status} for a mistake in {function}, but its spec entry exercises only "
            f"{spec.checks[check.name].functions}: {check.message}")
        assert check.points == 0
        assert check.message.strip(), f"{check.name} is {check.status} with an empty message"
        assert "the grader failed inside this check" not in check.message, (  # a bug of ours, not the mistake
            f"{check.name}: {check.message}")

    assert report.max_score == 100
    assert report.score < 100, f"{path.stem} scored {report.score}"

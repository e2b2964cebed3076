"""An instructor's mistakes, found before a student is graded.

``grader check-assignment NAME`` runs every test of an assignment that needs no student: the spec loads
(its keys, the functions each check lists), its checks' points add up to 100, every visible check reaches
the template, the reference passes every check (a check that errors for it, a missing fixture, a
misspelt tolerance or parameter, a call of a function its entry does not list: all show up here, with
the reference's message), and the stub ``grader assign`` writes passes none (a check the stub passes
cannot tell a submission that does nothing from a right one).

``grader grade`` of more than one submission runs the reference's part first (``reference_problem``): a class whose checks
fail for the reference stops with that message instead of writing a report of errors per student. Its
verdict is remembered by the assignment's fingerprint, so a resumed or repeated batch pays for it once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from grader.assign import make_stub
from grader.cache import cache_dir
from grader.course import Assignment
from grader.grade import Job
from grader.report import Report
from grader.visible import visible_checks

TOTAL_POINTS = 100
REFERENCE = "reference"  # the reference's id among submissions


def problems(task: Assignment, grade: Callable[[list[Job]], list[Report]]) -> list[str]:
    """Every instructor's mistake in ``task`` that ``grader check-assignment`` finds, worst first; none when
    it is ready. ``grade`` grades jobs with the judge (all checks, hidden ones too)."""
    spec, found = task.spec, []
    total = spec.max_score
    if abs(total - TOTAL_POINTS) > 1e-9:
        found.append(f"the checks' points add up to {total:g}, not {TOTAL_POINTS}")
    visible = {name for name, check in spec.checks.items() if check.visibility == "visible"}
    shipped = visible_checks(task.checks_dir, visible)
    if not any(f"def test_{name}" in text for text in shipped.values() for name in visible):
        found.append("no visible check reaches the template (grader assign would ship none)")
    with tempfile.TemporaryDirectory(prefix="grader-preflight-") as tmp:
        stub = Path(tmp) / "stub" / f"{spec.module}.py"
        stub.parent.mkdir()
        stub.write_text(make_stub(task.reference_path.read_text(encoding="utf-8"), str(task.reference_path)))
        reference, empty = grade([Job(task.reference_path, REFERENCE), Job(stub, "stub")])
    found += _failing(reference)
    found += [f"check {c.name} passes on the stub, whose every function raises NotImplementedError: it cannot "
              "tell a submission that does nothing from a right one" for c in empty.checks if c.status == "passed"]
    return found


def reference_problem(task: Assignment, fingerprint: str, grade: Callable[[list[Job]], list[Report]]) -> str | None:
    """Why the reference does not score full marks (the first failing check and its message), or ``None``;
    remembered under the assignment's ``fingerprint`` once it holds."""
    remembered = cache_dir("preflight") / f"{fingerprint}.ok"
    if remembered.exists():
        return None
    failing = _failing(grade([Job(task.reference_path, REFERENCE)])[0])
    if failing:
        more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
        return f"the reference of {task.name!r} does not pass its checks: {failing[0]}{more}; no submission was graded"
    try:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        remembered.touch()
    except OSError:  # no cache is no error: the next batch checks again
        pass
    return None


def _failing(report: Report) -> list[str]:
    out = [f"the reference could not be loaded: {report.load_error}"] if report.load_error else []
    return out + [f"check {c.name} {c.status} for the reference: {c.message}" for c in report.checks
                  if c.status != "passed"]

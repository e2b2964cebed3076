"""``grader grade``: many submissions, one report each, one gradebook."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.course import course_root, load_assignment
from grader.errors import SpecError
from grader.grade import failed_report, grade_submission
from grader.report import Report, write_gradebook, write_report
from grader.sandbox import isolation
from grader.submission import check_exists, submission_id


def grade_all(*, assignment: str, submissions: list[Path], out: Path, course: str | None = None,
              sandbox: bool = True, console: Console | None = None) -> list[Report]:
    """Grade every submission, write ``out/<id>/report.json`` and ``out/gradebook.csv``, print a table.

    A submission that breaks anything gets a zero report with the reason; the batch goes on.
    """
    console = console or Console(stderr=False, highlight=False)
    task = load_assignment(assignment, course_root(course))
    for path in submissions:
        check_exists(path)
    ids = _unique_ids(submissions)
    confinement = isolation.detect() if sandbox else isolation.unconfined()
    console.print(Text(confinement.summary(), style="dim"))
    reports = []
    for path, sid in zip(submissions, ids, strict=True):
        try:
            report = grade_submission(task, path, sid, isolation=confinement)
        except SpecError:  # the instructor's mistake: it would hit every student the same way
            raise
        except Exception as exc:  # our own bug must not cost the other students their grades
            traceback.print_exc(file=sys.stderr)
            report = failed_report(task, sid, f"the grader failed on this submission ({type(exc).__name__}); "
                                              "please tell the course staff")
        write_report(report, out)
        reports.append(report)
        console.print(Text(f"graded {sid}: {report.score:g}/{report.max_score:g}", style="dim"))
    write_gradebook(reports, out / "gradebook.csv")
    console.print(score_table(task.spec.title, reports))
    console.print(f"reports in {out}/<id>/report.json, gradebook in {out / 'gradebook.csv'}")
    return reports


def _unique_ids(paths: list[Path]) -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for path in paths:
        sid = submission_id(path)
        seen[sid] = seen.get(sid, 0) + 1
        ids.append(sid if seen[sid] == 1 else f"{sid}-{seen[sid]}")
    return ids


def score_table(title: str, reports: list[Report]) -> Table:
    table = Table(title=title)
    table.add_column("submission")
    table.add_column("score", justify="right")
    table.add_column("checks passed", justify="right")
    table.add_column("first problem", overflow="fold")
    for report in reports:
        passed = sum(c.status == "passed" for c in report.checks)
        table.add_row(Text(report.submission), f"{report.score:g}/{report.max_score:g}",
                      f"{passed}/{len(report.checks)}", Text(first_problem(report)))
    return table


def first_problem(report: Report) -> str:
    """One line: why the file did not load (the exception's line), or the first check that did not pass."""
    if report.load_error:
        lines = [line.strip() for line in report.load_error.splitlines() if line.strip()]
        return f"not loaded: {lines[-1]}" if lines else "not loaded"
    for check in report.checks:
        if check.status != "passed":
            return f"{check.name}: {check.status}"
    return ""

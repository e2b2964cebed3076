"""``grader check``: the student's command. Runs the visible checks only, and says so."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.course import course_root, list_assignments, load_assignment
from grader.errors import UsageError
from grader.formatting import STATUS_COLOURS
from grader.grade import grade_submission
from grader.intake import submission_id
from grader.sandbox.isolation import Isolation
from grader.submission import check_gradeable


def check(*, assignment: str, path: Path | None = None, course: str | None = None,
          console: Console | None = None, summary: Path | None = None) -> int:
    """Run the visible checks on ``path`` (default ``./<module>.py``, else ``./<module>.ipynb``); 0 when they
    all pass, else 1. ``summary``: also append the results as Markdown to that file (a CI job's
    summary page: ``$GITHUB_STEP_SUMMARY``). Colours only on a terminal (and never with ``NO_COLOR``)."""
    console = console or Console(highlight=False)
    task = load_assignment(assignment, course_root(course))
    path = path or _default_path(task.spec.module)
    check_gradeable(path)
    # The student's own code on the student's own machine: a plain subprocess, no root needed.
    report = grade_submission(task, path, submission_id(path), visible_only=True, secret=b"visible-checks-only",
                              isolation=Isolation(False, None, "grader check runs your own code"))

    table = Table(title=f"{task.spec.title}: visible checks")
    for column, justify in (("check", "left"), ("status", "left"), ("points", "right"), ("message", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for c in report.checks:
        table.add_row(c.name, Text(c.status, style=STATUS_COLOURS[c.status]), f"{c.points:g}/{c.max_points:g}",
                      Text(c.message))  # Text, not markup: "w[f, c, u, v]" must print as written
    console.print(table)
    if report.notes:
        console.print("[bold]Notes[/] (what of your work was not run, and why):")
        for note in report.notes:
            console.print(Text(f"  - {note}"))  # Text: a note quotes code, "x[0]" must print as written
    if report.output.strip():
        console.print("[dim]your code printed:[/]")
        console.print(report.output, markup=False, highlight=False)
    hidden = [c for c in task.spec.checks.values() if c.visibility == "hidden"]
    hidden_points = sum(c.points for c in hidden)
    verdict = ("the visible checks passed" if all(c.status == "passed" for c in report.checks)
               else "some visible checks did not pass")
    console.print(f"Visible checks: {report.score:g}/{report.max_score:g} points; {verdict}. "
                  f"{len(hidden)} hidden checks worth {hidden_points:g} more points run when your work is graded.")
    if summary is not None:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(markdown_summary(task.spec.title, report, len(hidden), hidden_points))
    return 0 if all(c.status == "passed" for c in report.checks) else 1


def markdown_summary(title: str, report, hidden: int, hidden_points: float) -> str:
    """The visible checks as a Markdown table, for a CI job's summary page."""
    icon = {"passed": "✅", "failed": "❌", "error": "❌", "timeout": "⏱️", "forbidden": "🚫"}
    lines = [f"## {_md(title)}: visible checks", "", f"**{report.score:g}/{report.max_score:g} points**; "
             f"{hidden} hidden checks worth {hidden_points:g} more points run when your work is graded.", "",
             "| check | status | points | message |", "|---|---|---:|---|"]
    for c in report.checks:
        lines.append(f"| {_md(c.name)} | {icon[c.status]} {c.status} | {c.points:g}/{c.max_points:g} | {_md(c.message)} |")
    if report.load_error:
        lines += ["", f"**Your file could not be loaded:** {_md(report.load_error)}"]
    return "\n".join(lines) + "\n\n"


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes and HTML escaped."""
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def check_all(*, course: str | None = None, console: Console | None = None, summary: Path | None = None) -> int:
    """``grader check --all``: the visible checks of every assignment of the course whose file
    (``<module>.py`` or ``<module>.ipynb``) is in the current folder; 0 when all pass, 1 when any
    does not, 2 when no such file is here. For a CI job over a repository holding several."""
    console = console or Console(highlight=False)
    root = course_root(course)
    found = [name for name in list_assignments(root) if _here(load_assignment(name, root).spec.module)]
    if not found:
        raise UsageError(f"no file of any assignment of the course in {Path.cwd()}")
    codes = [check(assignment=name, course=str(root), console=console, summary=summary) for name in found]
    return max(codes)


def _here(module: str) -> bool:
    return any((Path.cwd() / f"{module}{suffix}").exists() for suffix in (".py", ".ipynb"))


def _default_path(module: str) -> Path:
    """``./<module>.py``, else ``./<module>.ipynb``: a student runs ``grader check`` where their work is."""
    here = Path.cwd()
    for candidate in (here / f"{module}.py", here / f"{module}.ipynb"):
        if candidate.exists():
            return candidate
    raise UsageError(f"no {module}.py or {module}.ipynb in {here}: run grader check in the folder of your work, "
                     "or give its path")

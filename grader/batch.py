"""``grader grade``: a class of submissions, one report each, a gradebook that loses nothing.

Each result goes to the SQLite gradebook the moment it exists (``gradebook.py``); a rerun of the same
command grades only what is missing or changed, so a batch stopped by a crash, ``kill -9`` or Ctrl-C
finishes where it stopped. Each submission's HTML page is drawn by the judge that graded it, right
after its report; the pages a run lacks (a judge could not draw one, a crash, a deleted file), the
reports on disk, the CSV gradebook and the exports are rendered from the database at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from grader.course import Assignment, course_root, course_secret, load_assignment
from grader.errors import SpecError
from grader.exports import write_all
from grader.formatting import first_problem
from grader.grade import Job
from grader.gradebook import Gradebook, assignment_fingerprint, exclusive, fingerprint, problem_fingerprint
from grader.intake import discover
from grader.pages import write_html_reports, write_page
from grader.pool import Settings, default_workers, grade_apart, grade_local
from grader.preflight import reference_problem
from grader.report import Report, write_report
from grader.sandbox import forkserver, isolation
from grader.submission import check_exists, mention

TABLE_ROWS = 40  # a longer class gets its summary, not a row each


@dataclass
class BatchResult:
    reports: list[Report]  # of the submissions named, graded now or before
    graded: int            # how many were graded by this run
    skipped: int           # already in the gradebook, unchanged


def grade_all(*, assignment: str, submissions: list[Path], out: Path, course: str | None = None,
              sandbox: bool = True, workers: int | None = None, regrade: bool = False, scheduler: str | None = None,
              console: Console | None = None) -> BatchResult:
    """Grade what the gradebook in ``out`` lacks (everything with ``regrade``), then render
    ``out/<id>/report.json``, ``out/<id>/report.html``, ``out/gradebook.csv`` and the exports from the gradebook."""
    console = console or Console(highlight=False)
    root = course_root(course)
    task = load_assignment(assignment, root)
    for path in submissions:
        check_exists(path)
    with exclusive(out):
        forkserver.sweep_stale()  # what a batch stopped by kill -9 left in $TMPDIR
        return _grade_all(task, root, submissions, out, sandbox, workers, regrade, scheduler, console)


def _grade_all(task: Assignment, root: Path, submissions: list[Path], out: Path, sandbox: bool,
               workers: int | None, regrade: bool, scheduler: str | None, console: Console) -> BatchResult:
    # One path may be a whole class (an LMS export); a class zip is unpacked under out/.unpacked.
    found = discover(submissions, task.spec.module, out / ".unpacked")
    jobs = [Job(f.path, f.submission, f.problem) for f in found]
    if len(jobs) != len(submissions):
        console.print(Text(f"{len(jobs)} submissions found in {len(submissions)} path(s)", style="dim"))
    task_fp = assignment_fingerprint(task)
    # A job with a problem (a class's link that leads out) is never read, not even to fingerprint it.
    prints = {job.submission: fingerprint(job.path) if job.problem is None else problem_fingerprint(job.problem)
              for job in jobs}

    with Gradebook(out / "gradebook.sqlite") as book:
        book.record_origins(task.name, {f.submission: f.origin for f in found if f.origin})
        done = book.fingerprints(task.name)
        todo = [j for j in jobs if regrade or done.get(j.submission) != (prints[j.submission], task_fp)]
        skipped = len(jobs) - len(todo)
        settings = Settings(task.name, str(root), sandbox, course_secret(root), mention([j.path for j in todo if j.problem is None], b"torch"))
        confinement = isolation.detect() if sandbox else isolation.unconfined()
        console.print(Text(confinement.summary(), style="dim"))
        if skipped:
            console.print(Text(f"{skipped} of {len(jobs)} submissions already graded and unchanged "
                               "(--regrade grades them again)", style="dim"))
        if len(todo) > 1:  # the instructor's mistake stops a class here, not in a report of errors per student
            # (one submission, as CI or a platform grades it, costs no second grade: its report says it)
            problem = reference_problem(task, task_fp, lambda jobs: grade_apart(settings, jobs))
            if problem:
                raise SpecError(problem)
        sources = {j.submission: str(j.path) for j in todo}
        drawn: set[str] = set()  # pages the judges drew as they graded

        with _progress(console, len(todo)) as advance:
            def on_report(report: Report) -> None:
                book.record(report, source=sources.get(report.submission, ""), fingerprint=prints[report.submission],
                            assignment_fingerprint=task_fp)
                write_report(report, out)
                advance()

            def on_page(submission: str, page: str) -> None:
                write_page(submission, page, out)
                drawn.add(submission)

            if scheduler:
                from grader.cluster import grade_dask

                grade_dask(scheduler, settings, todo, on_report)
            else:
                grade_local(settings, todo, on_report, workers=workers or default_workers(len(todo)), on_page=on_page)
        everything = book.reports(task.name)
        ours = {j.submission for j in jobs}
        reports = [r for r in everything if r.submission in ours]

    for report in reports:  # a report whose file a crash kept from being written is written now
        if not (out / report.submission / "report.json").exists():
            write_report(report, out)
    graded_now = {j.submission for j in todo}
    write_html_reports([r for r in reports if r.submission in graded_now - drawn
                        or not (out / r.submission / "report.html").exists()], out, workers or default_workers())
    write_all(everything, out, task.spec)
    from grader.classpage import write_class_page  # here: its imports (numpy, the catalogue) only once graded

    write_class_page(everything, out, task)
    if len(reports) <= TABLE_ROWS:
        console.print(score_table(task.spec.title, reports))
    console.print(f"{len(todo)} graded now, {skipped} unchanged; in {out}: <id>/report.json, <id>/report.html "
                  "and <id>/results.json (Gradescope), gradebook.csv, junit.xml, summary.md, "
                  "index.html (the class)")
    return BatchResult(reports, len(todo), skipped)


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "", style="dim")


class _progress:
    """A progress bar with the count, the rate and the time left on a terminal; nothing otherwise.
    Refreshed by hand (no refresh thread: the pool forks)."""

    def __init__(self, console: Console, total: int):
        self.console, self.total = console, total
        self.bar = None

    def __enter__(self):
        if self.console.is_terminal and self.total:
            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                                TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                                console=self.console, auto_refresh=False, transient=False)
            self.bar.start()
            self.task = self.bar.add_task("grading", total=self.total)
        self.last = 0.0
        return self.advance

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)
            now = time.monotonic()
            if now - self.last > 0.1 or self.bar.tasks[0].completed == self.total:
                self.bar.refresh()
                self.last = now

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.refresh()
            self.bar.stop()


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



"""Students' pages on disk: ``out/<id>/report.html``, drawn from each submission's report.

``draw_page`` is the one way a report becomes a page, for every caller: the judge that graded the
submission (``grader.pool``, as it goes) and the batch that draws at the end what the judges did not
(``write_html_reports``, from the gradebook). A page that cannot be drawn never costs a grade: its
error goes to stderr, no page is written, and the next run draws the missing page again.
"""

from __future__ import annotations

import multiprocessing
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from grader.html import render
from grader.report import Report, submission_folder, write_atomic

HTML_PER_PROCESS = 8  # reports; fewer are drawn here, as a process would cost more than it saves


def draw_page(report: Report) -> str | None:
    """``report.html``'s text for ``report`` (``grader.html``), or ``None`` if drawing it failed."""
    try:
        return render(report)
    except Exception:  # noqa: BLE001 - a page is redrawn from the gradebook by the next run; the grade is what counts
        traceback.print_exc(file=sys.stderr)
        return None


def write_page(submission: str, page: str, out_dir: Path) -> Path:
    """``out_dir/<id>/report.html`` with a page already drawn (by the judge that graded it)."""
    path = submission_folder(out_dir, submission) / "report.html"
    write_atomic(path, page)
    return path


def write_html(report: Report, out_dir: Path) -> Path | None:
    """``out_dir/<id>/report.html``: the student's page, self-contained; ``None`` (nothing written) if
    it could not be drawn."""
    page = draw_page(report)
    return None if page is None else write_page(report.submission, page, out_dir)


def write_html_reports(reports: list[Report], out: Path, workers: int) -> None:
    """``out/<id>/report.html`` for each report, drawn by up to ``workers`` processes.

    A figure costs about 0.1 s to draw, and a submission has a few: about what grading it costs a
    judge, so a class's pages are drawn in parallel, as its grades were. The reports come from the
    gradebook; each page is rendered from its report alone.
    """
    processes = min(workers, len(reports) // HTML_PER_PROCESS)
    if processes <= 1:
        for report in reports:
            write_html(report, out)
        return
    # fork, as the judges do: the children need this process's imports, not its state
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        for _ in pool.map(write_html, reports, [out] * len(reports), chunksize=HTML_PER_PROCESS // 2):
            pass  # map raises here what a child raised

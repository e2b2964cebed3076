"""The class summary: ``summary.md`` (with ``histogram.png``), rendered from reports for people.

One page for a terminal, a CI job's summary page or a course page: the class's numbers, a histogram
of scores (a picture and bars of characters), the checks that fail most often and a row per
submission; one submission gets its score and every check instead. Untrusted text (check names,
messages, submission ids) goes in code spans and fenced blocks no backtick run can close, control
characters spelled out (``grader.formatting.printable``).
"""

from __future__ import annotations

import io
import math
import re
import statistics
import textwrap
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from grader.formatting import by_id, check_order, first_problem, num, printable
from grader.report import CheckResult, Report, write_atomic
from grader.spec import AssignmentSpec

HISTOGRAM_BINS = 10
TEXT_BAR_WIDTH = 30
FAILING_CHECKS_SHOWN = 10
CELL_CHARS = 120


# --------------------------------------------------------------------------- summary: numbers

@dataclass(frozen=True)
class Histogram:
    """Counts of scores in equal bins; ``unit`` is "points" when every report has the same maximum,
    else "%" (scores as a percentage of each report's maximum)."""

    edges: list[float]
    counts: list[int]
    unit: str
    top: float


def histogram(reports: list[Report], bins: int = HISTOGRAM_BINS) -> Histogram:
    """Bin scores from 0 to the maximum; the last bin includes the maximum (full marks)."""
    maxima = {r.max_score for r in reports}
    same = len(maxima) == 1 and next(iter(maxima)) > 0
    top = next(iter(maxima)) if same else 100.0
    counts = [0] * bins
    for report in reports:
        if same:
            value = report.score
        else:
            value = 100.0 * report.score / report.max_score if report.max_score else 0.0
        index = math.floor(value * bins / top + 1e-9)
        counts[min(max(index, 0), bins - 1)] += 1
    edges = [top * i / bins for i in range(bins + 1)]
    return Histogram(edges, counts, "points" if same else "%", top)


@dataclass(frozen=True)
class FailingCheck:
    name: str
    not_passed: int
    status: str
    message: str


def failing_checks(reports: list[Report], order: list[str]) -> list[FailingCheck]:
    """Checks that did not pass, most often first (ties in check order), over the submissions that loaded.

    A submission that failed to load fails every check for one reason; counting it here would only
    add the same number to every row, so it is counted once, as "failed to load", instead.
    """
    problems: dict[str, list[CheckResult]] = {}
    for report in reports:
        if report.load_error:
            continue
        for check in report.checks:
            if check.status != "passed":
                problems.setdefault(check.name, []).append(check)
    rank = {name: i for i, name in enumerate(order)}
    rows = []
    for name, checks in problems.items():
        status = Counter(c.status for c in checks).most_common(1)[0][0]
        messages = Counter(c.message for c in checks if c.message)
        rows.append(FailingCheck(name, len(checks), status, messages.most_common(1)[0][0] if messages else ""))
    return sorted(rows, key=lambda row: (-row.not_passed, rank.get(row.name, len(rank))))


# --------------------------------------------------------------------------- summary: Markdown

def _code(text: str, limit: int = CELL_CHARS) -> str:
    """Untrusted text as one inline code span fit for a table cell: one line, ``|`` escaped, truncated.

    A code span shows ``<``, ``*`` and ``[`` literally on GitHub and reads cleanly in a terminal.
    """
    text = " ".join(printable(text).split())
    if not text:
        return ""
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return fence + pad + text.replace("|", "\\|") + pad + fence


def _fenced(text: str, language: str = "text") -> str:
    """A fenced code block longer than any backtick run inside it, so the text cannot close it."""
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}{language}\n{printable(text).rstrip()}\n{fence}"


def _table(header: list[str], rows: list[list[str]], right: Collection[int] = ()) -> str:
    """A GitHub-flavoured Markdown table; columns in ``right`` are right-aligned (numbers)."""
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def text_histogram(hist: Histogram, width: int = TEXT_BAR_WIDTH) -> str:
    """The histogram as bars of characters, for terminals and CI pages where no picture shows."""
    labels = [f"{num(lo)}–{num(hi)}" for lo, hi in zip(hist.edges, hist.edges[1:], strict=False)]
    pad = max(len(label) for label in labels)
    most = max(hist.counts) or 1
    lines = []
    for label, count in zip(labels, hist.counts, strict=True):
        bar = "█" * (max(1, round(width * count / most)) if count else 0)
        lines.append(f"{label:>{pad}} | {bar:<{width}} {count}")
    unit = f"points out of {num(hist.top)}" if hist.unit == "points" else "% of each submission's maximum"
    lines.append(f"({unit}; each bar counts submissions)")
    return "\n".join(lines)


def _summary_numbers(reports: list[Report]) -> str:
    scores = [r.score for r in reports]
    full = sum(r.score >= r.max_score for r in reports)
    not_loaded = sum(bool(r.load_error) for r in reports)
    header = ["submissions", "mean", "median", "min", "max", "full marks", "failed to load"]
    row = [str(len(reports)), num(statistics.fmean(scores)), num(statistics.median(scores)),
           num(min(scores)), num(max(scores)), f"{full} ({full / len(reports):.0%})", str(not_loaded)]
    return _table(header, [row], right=set(range(len(header))))


def _failing_section(reports: list[Report], order: list[str]) -> str:
    rows = failing_checks(reports, order)
    if not rows:
        loaded = sum(not r.load_error for r in reports)
        return "Every check passed in every submission that loaded." if loaded else "No submission loaded."
    shown = rows[:FAILING_CHECKS_SHOWN]
    table = _table(["check", "did not pass", "most frequent status", "most frequent message"],
                   [[_code(r.name), str(r.not_passed), r.status, _code(r.message) or "—"] for r in shown],
                   right={1})
    more = f"\n\n…and {len(rows) - len(shown)} more checks." if len(rows) > len(shown) else ""
    note = "Submissions that failed to load are counted above, not here."
    return f"{table}{more}\n\n{note}" if any(r.load_error for r in reports) else table + more


def _submissions_table(reports: list[Report]) -> str:
    rows = []
    for report in by_id(reports):
        passed = sum(c.status == "passed" for c in report.checks)
        rows.append([_code(report.submission), f"{num(report.score)}/{num(report.max_score)}",
                     f"{passed}/{len(report.checks)}", _code(first_problem(report)) or "—"])
    return _table(["submission", "score", "checks passed", "first problem"], rows, right={1, 2})


def class_summary(reports: list[Report], title: str, order: list[str], picture: str | None) -> str:
    """The Markdown of a summary of two or more submissions."""
    hist = histogram(reports)
    assignments = ", ".join(f"`{a}`" for a in sorted({r.assignment for r in reports}))
    parts = [f"# {title}", f"{len(reports)} submissions of {assignments}.", _summary_numbers(reports),
             "## Scores"]
    if picture:
        parts.append(f"![score histogram]({picture})")
    parts += [_fenced(text_histogram(hist)), "## Most common failing checks", _failing_section(reports, order),
              "## Submissions", _submissions_table(reports)]
    return "\n\n".join(parts) + "\n"


def single_summary(report: Report, title: str, order: list[str]) -> str:
    """The Markdown of one submission (a CI job grading one student): its score and every check."""
    passed = sum(c.status == "passed" for c in report.checks)
    share = f" ({report.score / report.max_score:.0%})" if report.max_score else ""
    parts = [f"# {title}",
             f"{_code(report.submission)}: **{num(report.score)}/{num(report.max_score)}**{share}, "
             f"{passed} of {len(report.checks)} checks passed."]
    if report.load_error:
        parts += ["The submission could not be loaded, so no check could run:", _fenced(report.load_error)]
    rank = {name: i for i, name in enumerate(order)}
    rows = [[_code(c.name), c.status, f"{num(c.points)}/{num(c.max_points)}", _code(c.message) or "—"]
            for c in sorted(report.checks, key=lambda c: rank[c.name])]
    parts += ["## Checks", _table(["check", "status", "points", "message"], rows, right={2})]
    return "\n\n".join(parts) + "\n"


def empty_summary(title: str) -> str:
    return f"# {title}\n\nNo submissions graded yet.\n"


# --------------------------------------------------------------------------- summary: picture

def histogram_png(hist: Histogram, title: str) -> bytes:
    """A bar chart of the histogram as PNG bytes, drawn on a bare Agg canvas.

    No pyplot: it keeps global state (open figures, a backend choice) that a library has no business
    changing, and Agg needs no display. matplotlib is imported here, not at the top, so importing
    this module (``grader.exports`` does) does not pay for it.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6.4, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = hist.edges[1] - hist.edges[0]
    axes.bar(hist.edges[:-1], hist.counts, width=width, align="edge", color="#4c72b0", edgecolor="white")
    axes.set_xlim(0, hist.top)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    unit = f"score (points out of {num(hist.top)})" if hist.unit == "points" else "score (% of maximum)"
    axes.set_xlabel(unit)
    axes.set_ylabel("submissions")
    # Wrapped, or a long title runs off the picture; a $ would start mathtext and could fail to parse.
    axes.set_title(textwrap.fill(title, 64, break_on_hyphens=False).replace("$", r"\$"), fontsize="medium")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_summary(reports: list[Report], folder: Path, title: str,
                  spec: AssignmentSpec | None = None) -> list[Path]:
    """Write ``summary.md`` (and ``histogram.png`` for two or more submissions); return the paths written.

    One submission gets its score and a table of its checks (a histogram of one score says nothing);
    none gets a one-line summary that says so.
    """
    summary = folder / "summary.md"
    order = check_order(reports, spec)
    if not reports:
        write_atomic(summary, empty_summary(title))
        return [summary]
    if len(reports) == 1:
        write_atomic(summary, single_summary(reports[0], title, order))
        return [summary]
    picture = folder / "histogram.png"
    write_atomic(picture, histogram_png(histogram(reports), title))
    write_atomic(summary, class_summary(reports, title, order, picture.name))
    return [summary, picture]

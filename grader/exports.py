"""Exports: files rendered from reports, for the places grades go after the grader.

Every function here is pure in the sense that matters: reports (and the spec, for check order and
descriptions) in, one file out, written atomically, nothing graded and nothing read back. The
gradebook (``gradebook.py``) holds the reports; these render them for

- a spreadsheet (``gradebook.csv``),
- Gradescope (``results.json``, one per submission, in their autograder format),
- CI systems that read JUnit XML (``junit.xml``),
- people (``summary.md`` with ``histogram.png``: a terminal, a CI job summary page, a course page;
  ``report.html``, one per submission, for the student: ``grader/html.py``).

Untrusted text (check messages, load errors, submission ids) is escaped for each format by the
format's own machinery where one exists (``csv``, ``json``, ``ElementTree``) and by small helpers
here where it does not (Markdown). Control characters are spelled out (``\\x1b``), so a message can
neither break XML nor send escape sequences to a terminal.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import statistics
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader.report import CheckResult, Report, submission_folder, write_atomic
from grader.spec import AssignmentSpec

HISTOGRAM_BINS = 10
TEXT_BAR_WIDTH = 30
FAILING_CHECKS_SHOWN = 10
CELL_CHARS = 120

# Characters XML 1.0 does not allow, plus DEL and the C1 controls (terminal escapes on some terminals).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- shared helpers

def _printable(text: str) -> str:
    """``text`` with control characters spelled out as ``\\xNN``: valid in XML, harmless in a terminal."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", text)


def _num(x: float) -> str:
    """A score as people write it: 71, 71.5, 71.33 (not 71.0 or 71.33333333)."""
    return f"{round(x, 2):g}"


def _by_id(reports: list[Report]) -> list[Report]:
    return sorted(reports, key=lambda r: r.submission)


def check_order(reports: list[Report], spec: AssignmentSpec | None = None) -> list[str]:
    """Check names in the spec's order, then any the spec does not name in the order reports list them.

    A check a report has but the spec lacks (the spec changed after grading) is kept, not dropped:
    an export must never silently lose points.
    """
    names = list(spec.checks) if spec is not None else []
    for report in reports:
        names += [c.name for c in report.checks if c.name not in names]
    return names


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    """``write_atomic`` for binary files (the histogram): temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- CSV

def write_gradebook_csv(reports: list[Report], path: Path, spec: AssignmentSpec | None = None) -> Path:
    """One row per submission (by id): submission, score, max_score, then each check's points.

    Checks go in the spec's order when a spec is given. A check a submission has no result for is an
    empty cell, not a 0, so "not graded" and "scored nothing" stay distinguishable.
    """
    names = check_order(reports, spec)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "score", "max_score", *names])
    for report in _by_id(reports):
        points = {c.name: c.points for c in report.checks}
        writer.writerow([report.submission, report.score, report.max_score, *(points.get(n, "") for n in names)])
    write_atomic(path, buffer.getvalue())
    return path


# --------------------------------------------------------------------------- Gradescope

def gradescope_results(report: Report, spec: AssignmentSpec | None = None) -> dict:
    """Gradescope's autograder ``results.json`` for one submission, as a dict.

    Field names follow https://gradescope-autograders.readthedocs.io/en/latest/specs/. The top level
    has no ``max_score``: that format has none (the assignment's total is set on Gradescope). The
    submission's captured output is left out on purpose: it is the student's own printing, which in a
    hidden check could show the hidden inputs. Outputs are plain text (``output_format: text``), so a
    ``<`` in a message is shown, not rendered as HTML.
    """
    return {
        "score": report.score,
        "execution_time": round(report.seconds, 2),
        "output": _gradescope_output(report),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [_gradescope_test(check, spec) for check in _checks_in_order(report, spec)],
    }


def _checks_in_order(report: Report, spec: AssignmentSpec | None) -> list[CheckResult]:
    rank = {name: i for i, name in enumerate(check_order([report], spec))}
    return sorted(report.checks, key=lambda c: rank[c.name])


def _gradescope_output(report: Report) -> str:
    """The text above the tests: why the file did not load, or how the visible checks went; then the
    report's notes (what staging did with the student's files), if any.

    This text is visible at once, while hidden checks wait for publication, so it counts the visible
    checks only: the total would tell a student how the hidden checks went.
    """
    sandbox = f"\n\nYour code ran confined by: {', '.join(report.protections)}." if report.protections else ""
    notes = "".join(f"\n- {note}" for note in report.notes)
    notes = f"\n\nNotes on your files:{notes}" if notes else ""  # a file graded under another name, a link not read
    if report.load_error:
        return f"Your submission could not be loaded, so no check could run:\n\n{report.load_error}{notes}{sandbox}"
    visible = [c for c in report.checks if c.visibility == "visible"]
    hidden = [c for c in report.checks if c.visibility != "visible"]
    passed = sum(c.status == "passed" for c in visible)
    points = sum(c.points for c in visible)
    line = (f"Visible checks: {passed} of {len(visible)} passed, "
            f"{_num(points)}/{_num(sum(c.max_points for c in visible))} points.")
    if hidden:
        line += (f" {len(hidden)} hidden checks ({_num(sum(c.max_points for c in hidden))} points) "
                 "are shown when grades are published.")
    return line + notes + sandbox


def _gradescope_test(check: CheckResult, spec: AssignmentSpec | None) -> dict:
    description = spec.checks[check.name].description if spec is not None and check.name in spec.checks else ""
    problem = check.message if check.status in ("passed", "failed") else f"[{check.status}] {check.message}"
    output = "\n\n".join(part for part in (description, problem if check.status != "passed" else "") if part)
    return {
        "name": check.name,
        "score": check.points,
        "max_score": check.max_points,
        "status": "passed" if check.status == "passed" else "failed",
        "output": output,
        "visibility": "visible" if check.visibility == "visible" else
                      spec.gradescope.hidden_visibility if spec is not None else "after_published",
    }


def write_gradescope(report: Report, path: Path, spec: AssignmentSpec | None = None) -> Path:
    """Write one submission's Gradescope ``results.json`` (spec optional: it adds check descriptions)."""
    write_atomic(path, json.dumps(gradescope_results(report, spec), indent=2, ensure_ascii=False) + "\n")
    return path


# --------------------------------------------------------------------------- JUnit XML

def junit_tree(reports: list[Report]) -> ET.Element:
    """``<testsuites>`` with a ``<testsuite>`` per submission and a ``<testcase>`` per check.

    ``failed`` is a JUnit failure (a wrong answer); ``error``, ``timeout`` and ``forbidden`` are
    errors with the status as their type (the check could not judge, or was not allowed to). The
    score goes in the suite's properties, since JUnit has no notion of points.
    """
    root = ET.Element("testsuites", name=_printable(",".join(sorted({r.assignment for r in reports})) or "grader"))
    suites = [_junit_suite(report) for report in _by_id(reports)]
    root.extend(suites)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key)) for s in suites)))
    root.set("time", f"{sum(float(s.get('time')) for s in suites):.3f}")
    return root


def _junit_suite(report: Report) -> ET.Element:
    failures = sum(c.status == "failed" for c in report.checks)
    errors = sum(c.status not in ("passed", "failed") for c in report.checks)
    seconds = report.seconds or sum(c.seconds for c in report.checks)
    suite = ET.Element("testsuite", name=_printable(report.submission), tests=str(len(report.checks)),
                       failures=str(failures), errors=str(errors), skipped="0", time=f"{seconds:.3f}",
                       timestamp=_junit_timestamp(report.graded_at))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("score", _num(report.score)), ("max_score", _num(report.max_score))):
        ET.SubElement(properties, "property", name=name, value=value)
    classname = _printable(f"{report.assignment}.{report.submission}")
    for check in report.checks:
        suite.append(_junit_case(check, classname))
    if report.load_error:
        ET.SubElement(suite, "system-err").text = _printable(report.load_error)
    return suite


def _junit_timestamp(when: datetime) -> str:
    """ISO 8601 in UTC without an offset, the form JUnit's schema (and Jenkins) accepts."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat()


def _junit_case(check: CheckResult, classname: str) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=_printable(check.name), time=f"{check.seconds:.3f}")
    message = _printable(check.message)
    if check.status == "failed":
        ET.SubElement(case, "failure", message=message, type="failed").text = message
    elif check.status != "passed":
        ET.SubElement(case, "error", message=message, type=check.status).text = message
    return case


def write_junit(reports: list[Report], path: Path) -> Path:
    """Write JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters)."""
    root = junit_tree(reports)
    ET.indent(root)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    write_atomic(path, text)
    return path


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


def first_problem(report: Report) -> str:
    """One line: why the file did not load (its last line), or the first check that did not pass."""
    if report.load_error:
        lines = [line.strip() for line in report.load_error.splitlines() if line.strip()]
        return f"not loaded: {lines[-1]}" if lines else "not loaded"
    for check in report.checks:
        if check.status != "passed":
            return f"{check.name}: {check.status}"
    return ""


# --------------------------------------------------------------------------- summary: Markdown

def _code(text: str, limit: int = CELL_CHARS) -> str:
    """Untrusted text as one inline code span fit for a table cell: one line, ``|`` escaped, truncated.

    A code span shows ``<``, ``*`` and ``[`` literally on GitHub and reads cleanly in a terminal.
    """
    text = " ".join(_printable(text).split())
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
    return f"{fence}{language}\n{_printable(text).rstrip()}\n{fence}"


def _table(header: list[str], rows: list[list[str]], right: Collection[int] = ()) -> str:
    """A GitHub-flavoured Markdown table; columns in ``right`` are right-aligned (numbers)."""
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def text_histogram(hist: Histogram, width: int = TEXT_BAR_WIDTH) -> str:
    """The histogram as bars of characters, for terminals and CI pages where no picture shows."""
    labels = [f"{_num(lo)}–{_num(hi)}" for lo, hi in zip(hist.edges, hist.edges[1:], strict=False)]
    pad = max(len(label) for label in labels)
    most = max(hist.counts) or 1
    lines = []
    for label, count in zip(labels, hist.counts, strict=True):
        bar = "█" * (max(1, round(width * count / most)) if count else 0)
        lines.append(f"{label:>{pad}} | {bar:<{width}} {count}")
    unit = f"points out of {_num(hist.top)}" if hist.unit == "points" else "% of each submission's maximum"
    lines.append(f"({unit}; each bar counts submissions)")
    return "\n".join(lines)


def _summary_numbers(reports: list[Report]) -> str:
    scores = [r.score for r in reports]
    full = sum(r.score >= r.max_score for r in reports)
    not_loaded = sum(bool(r.load_error) for r in reports)
    header = ["submissions", "mean", "median", "min", "max", "full marks", "failed to load"]
    row = [str(len(reports)), _num(statistics.fmean(scores)), _num(statistics.median(scores)),
           _num(min(scores)), _num(max(scores)), f"{full} ({full / len(reports):.0%})", str(not_loaded)]
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
    for report in _by_id(reports):
        passed = sum(c.status == "passed" for c in report.checks)
        rows.append([_code(report.submission), f"{_num(report.score)}/{_num(report.max_score)}",
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
             f"{_code(report.submission)}: **{_num(report.score)}/{_num(report.max_score)}**{share}, "
             f"{passed} of {len(report.checks)} checks passed."]
    if report.load_error:
        parts += ["The submission could not be loaded, so no check could run:", _fenced(report.load_error)]
    rank = {name: i for i, name in enumerate(order)}
    rows = [[_code(c.name), c.status, f"{_num(c.points)}/{_num(c.max_points)}", _code(c.message) or "—"]
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
    this module (the CSV alias in report.py does) does not pay for it.
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
    unit = f"score (points out of {_num(hist.top)})" if hist.unit == "points" else "score (% of maximum)"
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
    _write_atomic_bytes(picture, histogram_png(histogram(reports), title))
    write_atomic(summary, class_summary(reports, title, order, picture.name))
    return [summary, picture]


# --------------------------------------------------------------------------- all of them

def write_all(reports: list[Report], out_dir: Path, spec: AssignmentSpec) -> list[Path]:
    """Every export into ``out_dir``: gradebook.csv, junit.xml, summary.md (+ histogram.png) and
    ``<id>/results.json`` per submission. Returns the paths written."""
    paths = [write_gradebook_csv(reports, out_dir / "gradebook.csv", spec),
             write_junit(reports, out_dir / "junit.xml"),
             *write_summary(reports, out_dir, spec.title, spec)]
    for report in _by_id(reports):
        paths.append(write_gradescope(report, submission_folder(out_dir, report.submission) / "results.json", spec))
    return paths


def write_html(report: Report, out_dir: Path) -> Path:
    """``out_dir/<id>/report.html``: the student's page, self-contained (``grader.html``)."""
    from grader.html import render  # here, not at the top: grader.html imports this module

    return write_page(report.submission, render(report), out_dir)


def write_page(submission: str, page: str, out_dir: Path) -> Path:
    """``out_dir/<id>/report.html`` with a page already drawn (by the judge that graded it)."""
    path = submission_folder(out_dir, submission) / "report.html"
    write_atomic(path, page)
    return path

"""Exports: files rendered from reports, for the places grades go after the grader.

Every function here is pure in the sense that matters: reports (and the spec, for check order and
descriptions) in, one file out, written atomically, nothing graded and nothing read back. The
gradebook (``gradebook.py``) holds the reports; these render them for

- a spreadsheet (``gradebook.csv``),
- Gradescope (``results.json``, one per submission, in their autograder format),
- CI systems that read JUnit XML (``junit.xml``),
- people (``summary.md`` with ``histogram.png``, ``grader/summary.py``: a terminal, a CI job summary
  page, a course page; ``report.html``, one per submission, for the student: ``grader/pages.py``).

Untrusted text (check messages, load errors, submission ids) is escaped for each format by the
format's own machinery where one exists (``csv``, ``json``, ``ElementTree``) and by small helpers
where it does not (Markdown, ``grader/summary.py``). Control characters are spelled out (``\\x1b``,
``grader.formatting.printable``), so a message can neither break XML nor send escape sequences to a terminal.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from grader.formatting import by_id, check_order, num, printable
from grader.report import CheckResult, Report, submission_folder, write_atomic
from grader.spec import AssignmentSpec
from grader.summary import write_summary

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
    for report in by_id(reports):
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
            f"{num(points)}/{num(sum(c.max_points for c in visible))} points.")
    if hidden:
        line += (f" {len(hidden)} hidden checks ({num(sum(c.max_points for c in hidden))} points) "
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
    root = ET.Element("testsuites", name=printable(",".join(sorted({r.assignment for r in reports})) or "grader"))
    suites = [_junit_suite(report) for report in by_id(reports)]
    root.extend(suites)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key)) for s in suites)))
    root.set("time", f"{sum(float(s.get('time')) for s in suites):.3f}")
    return root


def _junit_suite(report: Report) -> ET.Element:
    failures = sum(c.status == "failed" for c in report.checks)
    errors = sum(c.status not in ("passed", "failed") for c in report.checks)
    seconds = report.seconds or sum(c.seconds for c in report.checks)
    suite = ET.Element("testsuite", name=printable(report.submission), tests=str(len(report.checks)),
                       failures=str(failures), errors=str(errors), skipped="0", time=f"{seconds:.3f}",
                       timestamp=_junit_timestamp(report.graded_at))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("score", num(report.score)), ("max_score", num(report.max_score))):
        ET.SubElement(properties, "property", name=name, value=value)
    classname = printable(f"{report.assignment}.{report.submission}")
    for check in report.checks:
        suite.append(_junit_case(check, classname))
    if report.load_error:
        ET.SubElement(suite, "system-err").text = printable(report.load_error)
    return suite


def _junit_timestamp(when: datetime) -> str:
    """ISO 8601 in UTC without an offset, the form JUnit's schema (and Jenkins) accepts."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat()


def _junit_case(check: CheckResult, classname: str) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=printable(check.name), time=f"{check.seconds:.3f}")
    message = printable(check.message)
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


# --------------------------------------------------------------------------- all of them

def write_all(reports: list[Report], out_dir: Path, spec: AssignmentSpec) -> list[Path]:
    """Every export into ``out_dir``: gradebook.csv, junit.xml, summary.md (+ histogram.png) and
    ``<id>/results.json`` per submission. Returns the paths written."""
    paths = [write_gradebook_csv(reports, out_dir / "gradebook.csv", spec),
             write_junit(reports, out_dir / "junit.xml"),
             *write_summary(reports, out_dir, spec.title, spec)]
    for report in by_id(reports):
        paths.append(write_gradescope(report, submission_folder(out_dir, report.submission) / "results.json", spec))
    return paths

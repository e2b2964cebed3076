"""Exports rendered from reports: CSV, Gradescope results.json, JUnit XML, the Markdown summary.

Built from Report objects made directly (nothing is graded), so these run in well under a second.
Each format is read back with an independent reader: ``csv``, a pydantic model of Gradescope's
documented schema, ``junitparser``, and the PNG's own bytes.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Literal

import pytest
from junitparser import Error, Failure, JUnitXml
from pydantic import BaseModel, ConfigDict

from grader.exports import write_all, write_gradebook_csv, write_gradescope, write_junit
from grader.report import CheckResult, Report
from grader.spec import AssignmentSpec
from grader.summary import histogram, write_summary

SPEC = AssignmentSpec(
    title="Toy optimizers",
    module="toy",
    functions=["sgd", "adam"],
    checks={
        "sgd_step": {"points": 2, "visibility": "visible", "functions": ["sgd"], "description": "one SGD step"},
        "adam_step": {"points": 3, "visibility": "hidden", "functions": ["adam"]},
        "adam_trajectory": {"points": 5, "visibility": "hidden", "functions": ["adam"]},
    },
)
ORDER = ["sgd_step", "adam_step", "adam_trajectory"]
TRICKY = 'x < y && "quoted" \'single\' | pipe — naïve Größe ✓ 😀'


def check(name: str, status: str = "passed", message: str = "") -> CheckResult:
    entry = SPEC.checks[name]
    return CheckResult(name=name, status=status, points=entry.points if status == "passed" else 0.0,
                       max_points=entry.points, message=message, visibility=entry.visibility, seconds=0.25)


def report(submission: str, *checks: CheckResult, **extra) -> Report:
    return Report.from_checks(assignment="toy", submission=submission, checks=list(checks), **extra)


def klass() -> list[Report]:
    """Five submissions, listed out of id order, checks listed out of spec order.

    adam_step fails most often among those that loaded (bo, cy, eve); dee did not load at all.
    """
    loaded = "toy.py could not be loaded: ModuleNotFoundError: No module named 'jax'"
    return [
        report("eve", check("adam_trajectory"), check("adam_step", "failed", "step 3: element 0 is off"),
               check("sgd_step")),
        report("ada", check("adam_trajectory"), check("adam_step"), check("sgd_step")),
        report("bo", check("adam_trajectory", "failed", "step 7: element 1 is off"),
               check("adam_step", "failed", "step 3: element 0 is off"), check("sgd_step")),
        report("cy", check("adam_trajectory"), check("adam_step", "timeout", "the call took longer than 10 s"),
               check("sgd_step")),
        report("dee", *(check(n, "error", loaded) for n in ORDER), load_error=loaded),
    ]


# --------------------------------------------------------------------------- CSV

def test_csv_has_a_row_per_submission_and_the_spec_order_of_checks(tmp_path):
    """Does the CSV list submissions by id, checks in the spec's order, and points that add up to the score?"""
    path = write_gradebook_csv(klass(), tmp_path / "gradebook.csv", SPEC)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
        f.seek(0)
        header = next(csv.reader(f))
    assert header == ["submission", "score", "max_score", *ORDER]
    assert [r["submission"] for r in rows] == ["ada", "bo", "cy", "dee", "eve"]
    for row in rows:
        assert sum(float(row[n]) for n in ORDER) == float(row["score"]), row
        assert float(row["max_score"]) == 10.0
    assert {r["submission"]: float(r["score"]) for r in rows} == {"ada": 10, "bo": 2, "cy": 7, "dee": 0, "eve": 7}


def test_csv_leaves_a_check_without_a_result_empty_and_keeps_checks_the_spec_lacks(tmp_path):
    """A check a report lacks is an empty cell (not 0); a check the spec lacks still gets a column."""
    extra = CheckResult(name="bonus", status="passed", points=1, max_points=1)
    reports = [report("a", check("sgd_step"), extra), report("b", check("adam_step"))]
    path = write_gradebook_csv(reports, tmp_path / "g.csv", SPEC)
    rows = list(csv.DictReader(path.open(newline="")))
    assert list(rows[0]) == ["submission", "score", "max_score", *ORDER, "bonus"]
    assert (rows[0]["adam_step"], rows[0]["bonus"], rows[1]["bonus"]) == ("", "1.0", "")


# --------------------------------------------------------------------------- Gradescope

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
TextFormat = Literal["text", "simple_format", "html", "md", "ansi"]


class GradescopeTest(BaseModel):
    """One test case of https://gradescope-autograders.readthedocs.io/en/latest/specs/ (all fields optional)."""

    model_config = ConfigDict(extra="forbid")
    score: float | None = None
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = None
    name: str | None = None
    name_format: TextFormat | None = None
    number: str | None = None
    output: str | None = None
    output_format: TextFormat | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None
    extra_data: dict | None = None


class GradescopeResults(BaseModel):
    """The top level of Gradescope's results.json, as documented (no top-level max_score there)."""

    model_config = ConfigDict(extra="forbid")
    score: float | None = None
    execution_time: float | None = None
    output: str | None = None
    output_format: TextFormat | None = None
    test_output_format: TextFormat | None = None
    test_name_format: TextFormat | None = None
    visibility: Visibility | None = None
    stdout_visibility: Visibility | None = None
    extra_data: dict | None = None
    tests: list[GradescopeTest] | None = None
    leaderboard: list[dict] | None = None


def read_gradescope(path: Path) -> GradescopeResults:
    return GradescopeResults.model_validate_json(path.read_text(encoding="utf-8"))


def test_gradescope_results_follow_their_schema_and_add_up(tmp_path):
    """Does results.json validate against Gradescope's schema, with scores that add up and hidden checks
    shown only once grades are published?"""
    bo = next(r for r in klass() if r.submission == "bo")
    results = read_gradescope(write_gradescope(bo, tmp_path / "results.json", SPEC))
    assert results.score == 2.0 == sum(t.score for t in results.tests)
    assert sum(t.max_score for t in results.tests) == 10.0
    assert [t.name for t in results.tests] == ORDER  # the spec's order, not the report's
    assert [(t.status, t.visibility) for t in results.tests] == [
        ("passed", "visible"), ("failed", "after_published"), ("failed", "after_published")]
    assert results.tests[0].output == "one SGD step"  # the spec's description
    assert "step 3: element 0 is off" in results.tests[1].output
    assert results.output_format == "text"  # a "<" in a message must not be rendered as HTML
    # Shown at once, so it tells only what the visible checks did, never the total with hidden ones.
    assert results.output.startswith("Visible checks: 1 of 1 passed, 2/2 points.")
    assert "2 hidden checks (8 points)" in results.output and "/10" not in results.output


def test_gradescope_marks_errors_and_puts_the_load_error_on_top(tmp_path):
    """A timeout is a failed test that says "timeout"; a load error is the top-level output."""
    cy, dee = (next(r for r in klass() if r.submission == s) for s in ("cy", "dee"))
    timed_out = read_gradescope(write_gradescope(cy, tmp_path / "cy.json")).tests[1]
    assert (timed_out.status, timed_out.output) == ("failed", "[timeout] the call took longer than 10 s")
    results = read_gradescope(write_gradescope(dee, tmp_path / "dee.json"))
    assert "No module named 'jax'" in results.output and "could not be loaded" in results.output
    assert results.score == 0 and all(t.status == "failed" for t in results.tests)


# --------------------------------------------------------------------------- JUnit

def test_junit_counts_match_the_reports(tmp_path):
    """Read back with junitparser: a suite per submission, a case per check, failures and errors counted."""
    reports = klass()
    xml = JUnitXml.fromfile(str(write_junit(reports, tmp_path / "junit.xml")))
    suites = {suite.name: suite for suite in xml}
    assert sorted(suites) == ["ada", "bo", "cy", "dee", "eve"]
    for r in reports:
        suite = suites[r.submission]
        cases = list(suite)
        failed = [c for c in cases if any(isinstance(x, Failure) for x in c.result)]
        errored = [c for c in cases if any(isinstance(x, Error) for x in c.result)]
        assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (
            len(r.checks), sum(c.status == "failed" for c in r.checks),
            sum(c.status in ("error", "timeout", "forbidden") for c in r.checks), 0)
        assert (len(cases), len(failed), len(errored)) == (suite.tests, suite.failures, suite.errors)
        assert {c.classname for c in cases} == {f"toy.{r.submission}"}
        assert {c.name for c in cases} == set(ORDER)
    assert (xml.tests, xml.failures, xml.errors) == (15, 3, 4)
    timeout = next(c for c in suites["cy"] if c.name == "adam_step").result[0]
    assert (type(timeout), timeout.type, timeout.message) == (Error, "timeout", "the call took longer than 10 s")


def test_messages_with_markup_quotes_and_non_ascii_round_trip(tmp_path):
    """Does a message with <, &, quotes, a pipe and non-ASCII come back unchanged from JUnit and Gradescope,
    and stay inside its cell in the Markdown summary?"""
    odd = report("odd", check("sgd_step", "failed", TRICKY), check("adam_step"), check("adam_trajectory"))
    reports = [odd, report("plain", *(check(n) for n in ORDER))]
    xml = JUnitXml.fromfile(str(write_junit(reports, tmp_path / "j.xml")))
    case = next(c for suite in xml if suite.name == "odd" for c in suite if c.name == "sgd_step")
    assert (case.result[0].message, case.result[0].text) == (TRICKY, TRICKY)
    results = json.loads(write_gradescope(odd, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert results["tests"][0]["output"] == TRICKY

    markdown = write_summary(reports, tmp_path, "Odd")[0].read_text(encoding="utf-8")
    row = next(line for line in markdown.splitlines() if line.startswith("| `sgd_step`"))
    assert len(re.split(r"(?<!\\)\|", row)) == 4 + 2  # four cells: the message's pipe is escaped
    assert "x < y && \"quoted\"" in row and "Größe ✓ 😀" in row


def test_control_characters_cannot_break_the_xml(tmp_path):
    """A student's ANSI escape or NUL byte in a message: still well-formed XML, the bytes spelled out."""
    bad = report("bad", check("sgd_step", "error", "boom\x1b[31m red\x00"), check("adam_step"))
    xml = JUnitXml.fromfile(str(write_junit([bad], tmp_path / "j.xml")))
    message = next(iter(next(iter(xml)))).result[0].message
    assert message == "boom\\x1b[31m red\\x00"


# --------------------------------------------------------------------------- summary

def test_summary_has_a_real_png_and_names_the_most_common_failing_check(tmp_path):
    """Is histogram.png a PNG that matplotlib wrote, and does the Markdown report counts, both histograms
    and adam_step as the most common failing check (counted over submissions that loaded)?"""
    reports = klass()
    paths = write_summary(reports, tmp_path, "Toy optimizers", SPEC)
    assert paths == [tmp_path / "summary.md", tmp_path / "histogram.png"]
    png = (tmp_path / "histogram.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" in png and b"Matplotlib" in png  # matplotlib's tEXt chunk
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(tmp_path / "histogram.png").shape
    assert height > 100 and width > 100

    markdown = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "![score histogram](histogram.png)" in markdown
    assert "| 5 | 5.2 | 7 | 0 | 10 | 1 (20%) | 1 |" in markdown
    failing = markdown.split("## Most common failing checks", 1)[1]
    first_row = next(line for line in failing.splitlines() if line.startswith("| `"))
    assert first_row.startswith("| `adam_step` | 3 | failed | `step 3: element 0 is off` |"), first_row
    text_bars = re.search(r"```text\n(.*?)\n```", markdown, re.S).group(1).splitlines()
    counts = [int(line.rsplit(" ", 1)[1]) for line in text_bars if "|" in line]
    assert counts == histogram(reports).counts and sum(counts) == len(reports)


def test_histogram_bins_put_boundaries_and_full_marks_in_the_right_bins():
    """0 in the first bin, 2 in 2–3, 7 in 7–8 and full marks in the last (closed) bin."""
    hist = histogram(klass())
    assert (hist.unit, hist.top) == ("points", 10.0)
    assert hist.counts == [1, 0, 1, 0, 0, 0, 0, 2, 0, 1]
    mixed = histogram([report("a", check("sgd_step")), report("b", check("sgd_step"), check("adam_step", "failed"))])
    assert (mixed.unit, mixed.counts[-1], mixed.counts[4]) == ("%", 1, 1)  # 100 % and 40 %


def test_summary_of_one_submission_reads_as_its_result(tmp_path):
    """A CI job grading one submission: its score and its checks, no class statistics, no histogram."""
    bo = next(r for r in klass() if r.submission == "bo")
    assert write_summary([bo], tmp_path, "Toy optimizers", SPEC) == [tmp_path / "summary.md"]
    markdown = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "**2/10** (20%), 1 of 3 checks passed" in markdown
    assert "| `adam_trajectory` | failed | 0/5 | `step 7: element 1 is off` |" in markdown
    assert "median" not in markdown and not (tmp_path / "histogram.png").exists()


def test_no_reports_write_empty_but_valid_exports(tmp_path):
    """An empty class: a CSV header, an empty JUnit document, a summary that says so, no crash."""
    paths = write_all([], tmp_path, SPEC)
    assert paths == [tmp_path / "gradebook.csv", tmp_path / "junit.xml", tmp_path / "summary.md"]
    assert (tmp_path / "gradebook.csv").read_text() == "submission,score,max_score," + ",".join(ORDER) + "\n"
    xml = JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    assert (xml.tests, len(list(xml))) == (0, 0)
    assert "No submissions graded" in (tmp_path / "summary.md").read_text()


def test_write_all_writes_every_export_and_a_results_json_per_submission(tmp_path):
    reports = klass()
    paths = write_all(reports, tmp_path, SPEC)
    expected = {"gradebook.csv", "junit.xml", "summary.md", "histogram.png",
                *(f"{r.submission}/results.json" for r in reports)}
    assert {str(p.relative_to(tmp_path)) for p in paths} == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert read_gradescope(tmp_path / "eve" / "results.json").score == 7.0
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary files


def test_write_all_refuses_a_submission_id_that_is_not_a_folder_name(tmp_path):
    with pytest.raises(ValueError, match=r"'\.\.' is not a plain folder name"):
        write_all([report("..", check("sgd_step"))], tmp_path / "out", SPEC)
    assert not (tmp_path / "results.json").exists()

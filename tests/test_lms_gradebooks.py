"""Grades into the LMS: `grader export canvas|moodle DIR --roster FILE` after a class exported from that
LMS was graded. The rosters are in each LMS's own format (Canvas's gradebook export with its points
possible row and test student; Moodle's grading worksheet with its participant identifiers), with
accented names and two students of the same name, told apart by their numbers."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from grader.batch import grade_all
from grader.intake import Origin
from grader.lms import Student, canvas_csv, key, match, moodle_csv
from grader.report import CheckResult, Report

EXAMPLES = ROOT / "examples" / "optimizers"
CANVAS_ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Optimizers (4321),Current Score\r\n"
    "    Points Possible,,,,,100,(read only)\r\n"
    '"Doe, Jane",101,S101,jdoe1,Section A,,\r\n'
    '"Doe, Jane",102,S102,jdoe2,Section B,,\r\n'
    '"Müller, Zoë",103,S103,zmuller,Section A,,\r\n'
    '"Nobody, Absent",104,S104,anobody,Section B,,\r\n'
    '"Student, Test",999,,,Section A,,\r\n'
)
MOODLE_ROSTER = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\r\n"
    "Participant 5001,Jane Doe,jane.doe@example.edu,Submitted for grading,,\"100,00\",Yes,"
    "\"Monday, 7 December 2026, 9:00 AM\",-,\r\n"
    "Participant 5002,Jane Doe,jane.doe2@example.edu,Submitted for grading,,\"100,00\",Yes,"
    "\"Monday, 7 December 2026, 9:05 AM\",-,\r\n"
    "Participant 5003,Zoë Müller,zoe@example.edu,Submitted for grading,,\"100,00\",Yes,"
    "\"Monday, 7 December 2026, 9:10 AM\",-,\r\n"
    "Participant 5004,Absent Nobody,absent@example.edu,No submission,,\"100,00\",Yes,-,-,\r\n"
)


def read_canvas_import(text: str) -> tuple[str, float, dict[str, str]]:
    """Canvas's gradebook import, read as its documentation gives it: the columns Student, ID, SIS User ID,
    SIS Login ID, Section, then the assignment's; a "Points Possible" row; a row per student, keyed by
    its Canvas ID, with a number or nothing."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, points, *students = rows
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and len(header) == 6
    assert points[0].strip() == "Points Possible" and points[1:5] == ["", "", "", ""]
    scores = {}
    for row in students:
        assert len(row) == 6 and row[1].isdigit()
        assert row[5] == "" or 0 <= float(row[5]) <= float(points[5])
        scores[row[1]] = row[5]
    return header[5], float(points[5]), scores


def read_moodle_worksheet(text: str, original: str) -> dict[str, str]:
    """Moodle's grading worksheet as its upload reads it: the worksheet's own columns, every row's
    Identifier as it was, a Grade that is empty or a number within the Maximum Grade."""
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    before = list(csv.DictReader(io.StringIO(original, newline="")))
    assert list(rows[0]) == list(before[0])
    assert [r["Identifier"] for r in rows] == [r["Identifier"] for r in before]
    assert all({k: v for k, v in r.items() if k != "Grade"} == {k: v for k, v in b.items() if k != "Grade"}
               for r, b in zip(rows, before, strict=True))
    for row in rows:
        if row["Grade"]:
            assert 0 <= float(row["Grade"].replace(",", ".")) <= float(row["Maximum Grade"].replace(",", "."))
    return {r["Identifier"]: r["Grade"] for r in rows}


def _score(out: Path, submission: str) -> float:
    return Report.model_validate_json((out / submission / "report.json").read_text()).score


@pytest.fixture(scope="module")
def canvas_class(tmp_path_factory) -> Path:
    """A Canvas submissions export graded: the two Jane Does (one right, one with a mistake), Zoë, and a
    file named by nobody on the roster."""
    export = tmp_path_factory.mktemp("canvas") / "submissions"
    export.mkdir()
    shutil.copyfile(EXAMPLES / "alice.py", export / "doejane_101_9001_optimizers.py")
    shutil.copyfile(EXAMPLES / "bob.py", export / "doejane_LATE_102_9002_optimizers.py")
    shutil.copyfile(EXAMPLES / "carol.py", export / "müllerzoë_103_9003_optimizers.py")
    shutil.copyfile(EXAMPLES / "dave.py", export / "strangerdanger_777_9004_optimizers.py")
    out = export.parent / "grades"
    grade_all(assignment="optimizers", submissions=[export], out=out, sandbox=False, workers=1)
    return out


def test_canvas_import_has_each_roster_student_once_scored_by_their_canvas_id(canvas_class, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(CANVAS_ROSTER.encode("utf-8"))
    result = subprocess.run([sys.executable, "-m", "grader", "export", "canvas", str(canvas_class), "--roster",
                             str(roster), "--out", str(tmp_path / "import.csv")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=os.environ)
    assert result.returncode == 0, result.stderr
    column, points, scores = read_canvas_import((tmp_path / "import.csv").read_text(encoding="utf-8"))
    assert column == "Optimizers (4321)"  # the roster's own column: Canvas updates that assignment
    assert points == 100
    reports = {sid: _score(canvas_class, sid) for sid in ("doejane", "doejane-2", "müllerzoë")}
    assert scores == {"101": f"{reports['doejane']:g}", "102": f"{reports['doejane-2']:g}",
                      "103": f"{reports['müllerzoë']:g}", "104": ""}  # no test student; Absent: empty, not 0
    assert scores["101"] == "100" and scores["102"] != "100"  # the two Jane Does told apart by their ids
    # the file named by nobody on the roster: on stderr and in a file, never dropped silently
    assert "strangerdanger" in result.stderr and "no student on the roster" in result.stderr
    unmatched = list(csv.DictReader((tmp_path / "import-unmatched.csv").open(encoding="utf-8")))
    assert [r["submission"] for r in unmatched] == ["strangerdanger"]
    assert "canvas number 777 is not on the roster" in unmatched[0]["why"]


@pytest.fixture(scope="module")
def moodle_class(tmp_path_factory) -> Path:
    export = tmp_path_factory.mktemp("moodle") / "submissions"
    for folder, source in (("Jane Doe_5001_assignsubmission_file_", "bob.py"),
                           ("Jane Doe_5002_assignsubmission_file_", "alice.py"),
                           ("Zoë Müller_5003_assignsubmission_file_", "erin.py"),
                           ("Someone Else_6000_assignsubmission_file_", "frank.py")):
        (export / folder).mkdir(parents=True)
        shutil.copyfile(EXAMPLES / source, export / folder / "optimizers.py")
    out = export.parent / "grades"
    grade_all(assignment="optimizers", submissions=[export], out=out, sandbox=False, workers=1)
    return out


def test_moodle_worksheet_comes_back_with_grades_by_participant(moodle_class, tmp_path):
    roster = tmp_path / "worksheet.csv"
    roster.write_text(MOODLE_ROSTER, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "grader", "export", "moodle", str(moodle_class), "--roster",
                             str(roster)], cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ)
    assert result.returncode == 0, result.stderr
    grades = read_moodle_worksheet((moodle_class / "moodle.csv").read_text(encoding="utf-8"), MOODLE_ROSTER)
    first, second = _score(moodle_class, "Jane_Doe"), _score(moodle_class, "Jane_Doe-2")
    assert second == 100
    zoe = _score(moodle_class, "Zoë_Müller")
    assert grades == {"Participant 5001": f"{first:.2f}".replace(".", ","),
                      "Participant 5002": "100,00", "Participant 5003": f"{zoe:.2f}".replace(".", ","),
                      "Participant 5004": ""}  # the worksheet's own decimal comma
    assert first < 100
    assert "Someone_Else" in result.stderr
    assert (moodle_class / "moodle-unmatched.csv").read_text(encoding="utf-8").count("Someone_Else") == 1


def _report(submission: str, score: float) -> Report:
    return Report.from_checks(assignment="optimizers", submission=submission,
                              checks=[CheckResult(name="c", status="passed" if score else "failed", points=score,
                                                  max_points=10)])


def test_without_numbers_names_match_only_when_one_student_has_them():
    roster = [Student("1", ["Doe Jane", "jdoe"], {}), Student("2", ["Doe Jane", "jane2"], {}),
              Student("3", ["Åsa Öberg", "aoberg"], {})]
    reports = [_report("jdoe", 10), _report("doejane", 5), _report("ÅSA_ÖBERG", 7), _report("nobody", 1)]
    matching = match(reports, roster, {}, "canvas")
    assert {i: r.submission for i, r in matching.scores.items()} == {0: "jdoe", 2: "ÅSA_ÖBERG"}
    why = dict((r.submission, w) for r, w in matching.unmatched)
    assert why == {"doejane": "2 students on the roster go by that name; their numbers tell them apart",
                   "nobody": "no student on the roster has that number or name"}
    assert key("Müller, Zoë") == "müllerzoë" and key("ＡＢＣ") == "abc"


def test_a_number_beats_a_name_and_a_student_is_graded_once():
    roster = [Student("10", ["Doe Jane"], {}), Student("11", ["Roe Rick"], {})]
    reports = [_report("doejane", 3), _report("x", 9)]
    origins = {"x": Origin("canvas", "10", "whoever")}
    matching = match(reports, roster, origins, "canvas")
    assert matching.scores[0].submission == "x"  # by number, though doejane's name fits row 0 too
    assert [(r.submission, w) for r, w in matching.unmatched] == [
        ("doejane", "its student on the roster already has x's grade")]


def test_rosters_of_another_shape_are_refused_with_what_they_hold(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Score\nA,1\n")
    with pytest.raises(Exception, match="not a Canvas gradebook export: no column Student, ID"):
        canvas_csv([], bad, {}, "x")
    with pytest.raises(Exception, match="not a Moodle grading worksheet: no column Identifier, Full name, Grade"):
        moodle_csv([], bad, {})


def test_export_needs_a_graded_folder(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text(CANVAS_ROSTER)
    result = subprocess.run([sys.executable, "-m", "grader", "export", "canvas", str(tmp_path), "--roster",
                             str(roster)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "has no gradebook.sqlite" in result.stderr

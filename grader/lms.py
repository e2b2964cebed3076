"""Grades into an LMS's gradebook: Canvas's gradebook import CSV and Moodle's grading worksheet.

Both start from the LMS's own file, the *roster*: the gradebook Canvas exports ("Export" in its
Gradebook), or the grading worksheet Moodle gives ("Download grading worksheet" on an assignment).
The result is the same file with this assignment's scores filled in, ready for the LMS's import.

Each submission is matched to one student on the roster, most certain first:

1. by the LMS's number for the student, which its submission export put in the file names the batch
   graded (Canvas's user id, the roster's ``ID``; Moodle's participant id, the roster's ``Participant N``):
   the gradebook keeps them (``grader.intake.Origin``);
2. else by name: the name in the export's file name (Canvas's ``lastfirst``, Moodle's full name) or
   the submission id, against the roster's name, login and e-mail, compared without case, accents
   kept, anything but letters and digits ignored, and only when exactly one student on the roster
   has it (two students of the same name are told apart by their numbers alone).

A student on the roster without a submission gets an empty cell, not a zero (the LMS leaves the grade
as it was). A submission that matches nobody, or that only a student someone else matched would fit,
is never dropped: ``Matching.unmatched`` says which and why, and the command prints them and writes
them to a CSV beside the output.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import UsageError
from grader.intake import Origin
from grader.report import Report, write_atomic

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_IDENTIFIER = re.compile(r"^Participant\s+(\d+)$")
MOODLE_REQUIRED = ("Identifier", "Full name", "Grade")


@dataclass
class Student:
    """A row of a roster: its LMS number, and the names a submission may go by."""
    number: str
    names: list[str]
    row: dict[str, str]


@dataclass
class Matching:
    scores: dict[int, Report] = field(default_factory=dict)         # roster row index -> its report
    unmatched: list[tuple[Report, str]] = field(default_factory=list)  # (report, why)


def key(text: str) -> str:
    """A name as matching compares it: compatibility form, no case, letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def match(reports: list[Report], roster: list[Student], origins: dict[str, Origin], lms: str) -> Matching:
    """Each report to one roster row (see the module)."""
    by_number = {s.number: i for i, s in enumerate(roster) if s.number}
    by_name: dict[str, set[int]] = {}
    for i, student in enumerate(roster):
        for name in student.names:
            if key(name):
                by_name.setdefault(key(name), set()).add(i)
    result = Matching()
    ours = {sid: o for sid, o in origins.items() if o.lms == lms}  # numbers this LMS gave
    for report in sorted(reports, key=lambda r: (r.submission not in ours, r.submission)):  # numbered first
        origin = ours.get(report.submission)
        index, why = None, ""
        if origin is not None and origin.user in by_number:
            index = by_number[origin.user]
        else:
            wanted = [key(origin.name), key(report.submission)] if origin else [key(report.submission)]
            candidates = next((by_name[k] for k in wanted if k in by_name), set())
            if len(candidates) == 1:
                (index,) = candidates
            elif candidates:
                why = f"{len(candidates)} students on the roster go by that name; their numbers tell them apart"
            else:
                why = "no student on the roster has that number or name"
            if why and origin is not None:
                why = f"{lms} number {origin.user} is not on the roster, and {why}"
        if index is not None and index in result.scores:  # matched by number first, so that one keeps it
            why = f"its student on the roster already has {result.scores[index].submission}'s grade"
            index = None
        if index is None:
            result.unmatched.append((report, why))
        else:
            result.scores[index] = report
    result.unmatched.sort(key=lambda pair: pair[0].submission)
    return result


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read the roster {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the roster {path} is not UTF-8: export it again from the LMS") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = [row for row in reader if any((value or "").strip() for value in row.values())]
    return list(reader.fieldnames or []), rows


# --------------------------------------------------------------------------- Canvas


def canvas_roster(path: Path) -> tuple[list[str], list[Student]]:
    """The header and the students of a Canvas gradebook export (its "Points Possible" row and the test
    student left out)."""
    header, rows = _read_csv(path)
    missing = [c for c in ("Student", "ID") if c not in header]
    if missing:
        raise UsageError(f"{path} is not a Canvas gradebook export: no column {', '.join(missing)} "
                         f"(its columns: {', '.join(header[:8])})")
    students = []
    for row in rows:
        name = (row.get("Student") or "").strip()
        if name.startswith("Points Possible") or name in ("Student, Test", "Test Student"):
            continue
        last, _, first = name.partition(",")
        names = [last + first, row.get("SIS Login ID") or "", row.get("SIS User ID") or ""]
        students.append(Student((row.get("ID") or "").strip(), [n for n in names if n.strip()], row))
    return header, students


def canvas_csv(reports: list[Report], roster_path: Path, origins: dict[str, Origin], column: str
               ) -> tuple[str, Matching]:
    """Canvas's gradebook import for ``reports``: the roster's students (columns Student, ID, SIS User
    ID, SIS Login ID, Section), the points possible, and ``column`` with each student's score."""
    header, roster = canvas_roster(roster_path)
    matching = match(reports, roster, origins, "canvas")
    top = max((r.max_score for r in reports), default=0.0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CANVAS_COLUMNS, column])
    writer.writerow(["Points Possible", "", "", "", "", _points(top)])
    for i, student in enumerate(roster):
        report = matching.scores.get(i)
        writer.writerow([student.row.get(c, "") or "" for c in CANVAS_COLUMNS] + [_points(report.score) if report else ""])
    return out.getvalue(), matching


def canvas_column(header: list[str], assignment: str, title: str) -> str:
    """The roster's own column for this assignment (``Title (12345)``: Canvas updates that assignment),
    else the title (Canvas makes a new assignment of it)."""
    wanted = {key(assignment), key(title)}
    for name in header:
        found = re.match(r"^(?P<name>.+?)\s*\(\d+\)$", name)
        if found and key(found["name"]) in wanted:
            return name
    return title


# --------------------------------------------------------------------------- Moodle


def moodle_roster(path: Path) -> tuple[list[str], list[Student]]:
    """The header and the students of a Moodle grading worksheet."""
    header, rows = _read_csv(path)
    missing = [c for c in MOODLE_REQUIRED if c not in header]
    if missing:
        raise UsageError(f"{path} is not a Moodle grading worksheet: no column {', '.join(missing)} "
                         f"(its columns: {', '.join(header[:8])})")
    students = []
    for row in rows:
        number = MOODLE_IDENTIFIER.match((row.get("Identifier") or "").strip())
        email = row.get("Email address") or ""
        names = [row.get("Full name") or "", email.partition("@")[0] if email else ""]
        students.append(Student(number[1] if number else "", [n for n in names if n.strip()], row))
    return header, students


def moodle_csv(reports: list[Report], roster_path: Path, origins: dict[str, Origin]) -> tuple[str, Matching]:
    """The grading worksheet with its Grade column filled in for the matched students (scaled to the
    worksheet's Maximum Grade where it has one), every other cell as Moodle wrote it."""
    header, roster = moodle_roster(roster_path)
    matching = match(reports, roster, origins, "moodle")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for i, student in enumerate(roster):
        row = dict(student.row)
        report = matching.scores.get(i)
        row["Grade"] = _moodle_grade(report, row.get("Maximum Grade") or "") if report else ""
        writer.writerow(row)
    return out.getvalue(), matching


def _moodle_grade(report: Report, maximum: str) -> str:
    comma = "," in maximum and "." not in maximum  # a locale that writes 100,00
    try:
        top = float(maximum.replace(",", ".")) if maximum.strip() else report.max_score
    except ValueError:
        top = report.max_score
    value = report.score / report.max_score * top if report.max_score else 0.0
    text = f"{value:.2f}"
    return text.replace(".", ",") if comma else text


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else ""


# --------------------------------------------------------------------------- the command


def export(lms: str, out_dir: Path, roster: Path, *, out: Path | None = None, assignment: str | None = None,
           course: str | None = None) -> tuple[Path, Matching]:
    """``grader export canvas|moodle``: the LMS file for the gradebook in ``out_dir``, and the matching."""
    from grader.gradebook import Gradebook

    book_path = out_dir / "gradebook.sqlite"
    if not book_path.is_file():
        raise UsageError(f"{out_dir} has no gradebook.sqlite: give the folder `grader grade --out` wrote")
    with Gradebook(book_path) as book:
        assignments = book.assignments()
        if assignment is None:
            if len(assignments) != 1:
                raise UsageError(f"{out_dir} holds grades of {', '.join(assignments) or 'no assignment'}: "
                                 "name one with --assignment")
            assignment = assignments[0]
        elif assignment not in assignments:
            raise UsageError(f"{out_dir} holds no grades of {assignment!r} (it has {', '.join(assignments)})")
        reports, origins = book.reports(assignment), book.origins(assignment)
    if lms == "canvas":
        header, _ = canvas_roster(roster)
        text, matching = canvas_csv(reports, roster, origins, canvas_column(header, assignment,
                                                                             _title(assignment, course)))
    else:
        text, matching = moodle_csv(reports, roster, origins)
    target = out or out_dir / f"{lms}.csv"
    write_atomic(target, text)
    unmatched = target.with_name(f"{target.stem}-unmatched.csv")
    if matching.unmatched:
        lines = io.StringIO()
        writer = csv.writer(lines, lineterminator="\n")
        writer.writerow(["submission", "score", "max_score", "why"])
        for report, why in matching.unmatched:
            writer.writerow([report.submission, _points(report.score), _points(report.max_score), why])
        write_atomic(unmatched, lines.getvalue())
    elif unmatched.exists():
        unmatched.unlink()
    return target, matching


def _title(assignment: str, course: str | None) -> str:
    from grader.course import course_root, load_assignment

    try:
        return load_assignment(assignment, course_root(course)).spec.title
    except Exception:  # noqa: BLE001 - without the course at hand, the assignment's name will do
        return assignment

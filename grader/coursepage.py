"""A course's grades in one place: ``grader export course DIR... [--out FOLDER]``.

Each ``DIR`` is a folder ``grader grade --out`` wrote (one assignment each, as a course grades them).
The export joins their gradebooks into ``FOLDER/course.csv`` (a row per student, a column per
assignment, the total) and ``FOLDER/index.html``: the same table, sortable and filterable, each
assignment's average and its most common misconceptions, with links to every assignment's class page
and every student's report.

A student is one row across assignments when the LMS numbered them the same (``intake.Origin``:
the same Canvas user id or Moodle participant id), else when their ids are the same, ignoring case.
A student with no submission for an assignment has an empty cell there, not a zero; the total adds
what there is, out of every assignment's points.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from grader.classpage import SORTING, STYLE, catalogue, misconceptions
from grader.errors import UsageError
from grader.formatting import num
from grader.report import Report, write_atomic

TOP_MISCONCEPTIONS = 5


@dataclass
class Graded:
    """One assignment's gradebook: where it is, its title, its reports and whom the LMS named."""
    name: str
    title: str
    folder: Path
    reports: list[Report]
    origins: dict
    known: dict[str, str] = field(default_factory=dict)

    @property
    def max_score(self) -> float:
        return max((r.max_score for r in self.reports), default=0.0)


@dataclass
class Row:
    student: str                                                  # the id shown (the first one met)
    reports: dict[str, Report] = field(default_factory=dict)      # assignment -> its report

    def total(self) -> float:
        return sum(r.score for r in self.reports.values())


def read(folders: list[Path], course: str | None = None) -> list[Graded]:
    """The gradebooks of ``folders``, in the order given (an assignment graded in two folders: refused)."""
    from grader.course import course_root, load_assignment
    from grader.gradebook import Gradebook

    out: list[Graded] = []
    for folder in folders:
        path = folder / "gradebook.sqlite"
        if not path.is_file():
            raise UsageError(f"{folder} has no gradebook.sqlite: give folders `grader grade --out` wrote")
        with Gradebook(path) as book:
            for name in book.assignments():
                if any(g.name == name for g in out):
                    raise UsageError(f"{name} is graded in two of the folders given: give each assignment once")
                title, known = name, {}
                try:
                    task = load_assignment(name, course_root(course))
                    title, known = task.spec.title, catalogue(task)
                except Exception:  # noqa: BLE001 - the course may be elsewhere: names stand in for titles
                    pass
                out.append(Graded(name, title, folder, book.reports(name), book.origins(name), known))
    if not out:
        raise UsageError("the folders given hold no grades")
    return out


def rows(graded: list[Graded]) -> list[Row]:
    """A row per student (see the module), by id."""
    by_key: dict[str, Row] = {}
    for assignment in graded:
        for report in assignment.reports:
            origin = assignment.origins.get(report.submission)
            key = f"{origin.lms}:{origin.user}" if origin else report.submission.casefold()
            row = by_key.setdefault(key, Row(report.submission))
            row.reports[assignment.name] = report
    return sorted(by_key.values(), key=lambda r: r.student.casefold())


def course_csv(graded: list[Graded], table: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *(g.name for g in graded), "total", "max_total"])
    top = sum(g.max_score for g in graded)
    for row in table:
        cells = [num(row.reports[g.name].score) if g.name in row.reports else "" for g in graded]
        writer.writerow([row.student, *cells, num(row.total()), num(top)])
    return out.getvalue()


def export(folders: list[Path], out: Path, course: str | None = None) -> list[Path]:
    graded = read(folders, course)
    table = rows(graded)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "course.csv", out / "index.html"]
    write_atomic(written[0], course_csv(graded, table))
    write_atomic(written[1], render(graded, table, out))
    return written


# --------------------------------------------------------------------------- the page


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _href(target: Path, start: Path) -> str:
    return quote(os.path.relpath(target, start).replace(os.sep, "/"))


def render(graded: list[Graded], table: list[Row], out: Path) -> str:
    top = sum(g.max_score for g in graded)
    parts = ["<h1>The course</h1>",
             f'<p class="dim">{len(table)} students, {len(graded)} assignments, {num(top)} points in all</p>',
             "<h2>Assignments</h2><table><thead><tr><th>assignment</th><th>submissions</th><th>mean</th>"
             "<th>median</th><th>points</th><th>most common misconceptions</th></tr></thead><tbody>"]
    for g in graded:
        scores = [r.score for r in g.reports]
        found = misconceptions(g.reports, g.known)[:TOP_MISCONCEPTIONS]
        common = "; ".join(f"{_esc(m.description)} ({len(m.students)})" for m in found) or '<span class="dim">none</span>'
        parts.append(f'<tr><td><a href="{_href(g.folder / "index.html", out)}">{_esc(g.title)}</a></td>'
                     f'<td class="n">{len(scores)}</td><td class="n">{num(round(statistics.fmean(scores), 1)) if scores else ""}</td>'
                     f'<td class="n">{num(statistics.median(scores)) if scores else ""}</td>'
                     f'<td class="n">{num(g.max_score)}</td><td>{common}</td></tr>')
    parts.append("</tbody></table>")
    data = {"columns": ["student", *(g.name for g in graded), "total"],
            "rows": [{"id": row.student,
                      "cells": [[num(row.reports[g.name].score),
                                 _href(g.folder / row.reports[g.name].submission / "report.html", out)]
                                if g.name in row.reports else None for g in graded],
                      "total": row.total()} for row in table],
            "maxima": [g.max_score for g in graded], "top": top}
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    parts.append('<h2>Students</h2><div class="controls"><label>name <input id="name" type="search" '
                 'placeholder="part of an id"></label> <span id="count" class="dim"></span></div>'
                 '<noscript><p>The table of students needs JavaScript; course.csv holds the same.</p></noscript>'
                 '<table id="course-table" class="students"><thead><tr id="head"></tr></thead><tbody id="rows">'
                 f'</tbody></table><script type="application/json" id="course-data">{payload}</script>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><title>The course</title>'
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(parts) + f"\n<script>{SCRIPT}</script>\n</body></html>\n")


SCRIPT = SORTING + r"""
(function () {
  var data = JSON.parse(document.getElementById("course-data").textContent);
  var head = document.getElementById("head"), body = document.getElementById("rows");
  var nameBox = document.getElementById("name");
  var sort = {column: 0, descending: false};
  function key(row, column) {
    if (column === 0) return row.id.toLowerCase();
    if (column === data.columns.length - 1) return row.total;
    var cell = row.cells[column - 1];
    return cell === null ? -1 : Number(cell[0]);
  }
  data.columns.forEach(function (label, index) {
    var th = document.createElement("th");
    th.textContent = label; th.dataset.column = String(index); th.title = "sort by " + label;
    th.addEventListener("click", function () {
      sort.descending = sort.column === index ? !sort.descending : index > 0;
      sort.column = index; draw();
    });
    head.appendChild(th);
  });
  function draw() {
    var needle = nameBox.value.trim().toLowerCase();
    var shown = data.rows.filter(function (r) { return !needle || r.id.toLowerCase().indexOf(needle) >= 0; });
    sortRows(shown, function (r) { return key(r, sort.column); }, sort.descending);
    markSorted(head, sort.column, sort.descending);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.id = r.id;
      var who = document.createElement("td"); who.textContent = r.id; tr.appendChild(who);
      r.cells.forEach(function (cell, i) {
        var td = document.createElement("td"); td.className = "n";
        if (cell !== null) {
          var a = document.createElement("a"); a.href = cell[1]; a.textContent = cell[0] + " / " + data.maxima[i];
          td.appendChild(a);
        }
        tr.appendChild(td);
      });
      var total = document.createElement("td"); total.className = "n";
      total.textContent = String(Math.round(r.total * 100) / 100) + " / " + data.top;
      tr.appendChild(total);
      fragment.appendChild(tr);
    });
    body.replaceChildren(fragment);
    document.getElementById("count").textContent = shown.length + " of " + data.rows.length + " students";
  }
  nameBox.addEventListener("input", draw);
  draw();
})();
"""

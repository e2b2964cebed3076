"""The TA's page for a whole class: ``OUT/index.html``, written with the other exports of a batch.

One self-contained file (styles, data and script inline; no network; works from ``file://``):

* the score histogram (inline SVG) and the summary numbers;
* **misconceptions**: each mistake of the assignment's catalogue (``checks/mistakes.py``) that some
  student's values matched, with how many students and which (linked to their pages), most common
  first; then, per check, the failures no catalogued mistake explains, with their most frequent
  message (numbers masked, so messages that differ only in numbers count as one);
* per check: points, visibility, pass rate;
* a table of students (score, a column per check with its status, a link to ``<id>/report.html``),
  sortable by any column and filterable by name and by a failing check, drawn by the page's script
  from data embedded in the page, so a class of thousands stays quick.

A match is read from the check's message, where the checks put it ("...; your values match <the
catalogue's description>"): the report is what the student was told, and what the class page counts.
"""

from __future__ import annotations

import html
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from grader.course import Assignment
from grader.formatting import STATUS_COLOURS as REPORT_COLOURS
from grader.formatting import check_order, num
from grader.report import CheckResult, Report, write_atomic
from grader.spec import AssignmentSpec
from grader.summary import histogram

MATCH = re.compile(r"your values match (?P<what>.+?)(?=; |$)", re.DOTALL)
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MESSAGE_CHARS = 300
STATUS_COLOURS = {**REPORT_COLOURS, "missing": "#9e9e9e"}  # a check a report lacks (an older spec's)


@dataclass
class Misconception:
    description: str
    function: str                       # the catalogue's function, or "" for a match the catalogue lacks
    students: list[str] = field(default_factory=list)
    checks: Counter = field(default_factory=Counter)


@dataclass
class Unexplained:
    check: str
    students: list[str]
    message: str                        # the most frequent message, numbers masked
    count: int                          # how many students got that message


def catalogue(assignment: Assignment) -> dict[str, str]:
    """The catalogue's descriptions of mistakes, each with its function (empty without ``mistakes.py``)."""
    path = assignment.checks_dir / "mistakes.py"
    if not path.is_file():
        return {}
    from grader.testing import load_sibling

    entries = getattr(load_sibling(str(path), "mistakes"), "CATALOGUE", {})
    return {description: function for function, mistakes in entries.items() for description in mistakes}


def misconceptions(reports: list[Report], known: dict[str, str]) -> list[Misconception]:
    """Every mistake some student's values matched, most students first; catalogued ones by their
    catalogue entry (the longest description that fits, so one that extends another is told apart)."""
    found: dict[str, Misconception] = {}
    by_length = sorted(known, key=len, reverse=True)
    for report in reports:
        for check in report.checks:
            if check.status == "passed" or "your values match " not in check.message:
                continue
            for what in _matched(check.message, by_length):
                entry = found.setdefault(what, Misconception(what, known.get(what, "")))
                if report.submission not in entry.students:
                    entry.students.append(report.submission)
                entry.checks[check.name] += 1
    return sorted(found.values(), key=lambda m: (-len(m.students), m.function == "", m.description))


def _matched(message: str, by_length: list[str]) -> list[str]:
    out = []
    for found in MATCH.finditer(message):
        rest = message[found.start("what"):]
        out.append(next((d for d in by_length if rest.startswith(d)), found["what"].strip()))
    return out


def unexplained(reports: list[Report], order: list[str]) -> list[Unexplained]:
    """Per check, the students who did not pass it with no mistake named in its message (submissions that
    could not be loaded left out: every check of theirs fails for the one reason the page counts apart)."""
    out = []
    loaded = [(r, by_name(r)) for r in reports if r.load_error is None]
    for name in order:
        students, messages = [], Counter()
        for report, checks in loaded:
            check = checks.get(name)
            if check is None or check.status == "passed" or "your values match " in check.message:
                continue
            students.append(report.submission)
            messages[mask(f"[{check.status}] {check.message}" if check.status != "failed" else check.message)] += 1
        if students:
            message, count = messages.most_common(1)[0]
            out.append(Unexplained(name, students, message, count))
    return sorted(out, key=lambda u: -len(u.students))


def by_name(report: Report) -> dict[str, CheckResult]:
    return {check.name: check for check in report.checks}


def mask(message: str) -> str:
    """A message with its numbers masked and its length cut: messages that differ only in numbers are one."""
    text = NUMBER.sub("#", " ".join(message.split()))
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 1] + "…"


# --------------------------------------------------------------------------- the page


def write_class_page(reports: list[Report], out_dir: Path, assignment: Assignment) -> Path:
    path = out_dir / "index.html"
    write_atomic(path, render(reports, assignment.spec, catalogue(assignment)))
    return path


def render(reports: list[Report], spec: AssignmentSpec, known: dict[str, str],
           now: datetime | None = None) -> str:
    order = check_order(reports, spec)
    reports = sorted(reports, key=lambda r: r.submission)
    title = f"{spec.title}: the class"
    parts = [f"<h1>{_esc(title)}</h1>",
             f'<p class="dim">{len(reports)} submissions, page written '
             f"{(now or datetime.now(UTC)):%Y-%m-%d %H:%M UTC}</p>"]
    if reports:
        parts += [_numbers(reports), _histogram_svg(reports), _misconceptions(reports, known),
                  _unexplained(reports, order), _checks(reports, spec, order), _students(reports, spec, order)]
    else:
        parts.append("<p>No submission has been graded yet.</p>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(parts) + f"\n<script>{SCRIPT}</script>\n</body></html>\n")


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(submission: str) -> str:
    return f"{quote(submission)}/report.html"


def _links(students: list[str], limit: int = 60) -> str:
    shown = ", ".join(f'<a href="{_page(s)}">{_esc(s)}</a>' for s in students[:limit])
    return shown + (f" and {len(students) - limit} more" if len(students) > limit else "")


def _numbers(reports: list[Report]) -> str:
    percent = [100 * r.score / r.max_score if r.max_score else 0.0 for r in reports]
    full = sum(r.max_score > 0 and r.score >= r.max_score for r in reports)
    unloaded = sum(r.load_error is not None for r in reports)
    cells = [("submissions", str(len(reports))), ("mean", f"{statistics.fmean(percent):.1f} %"),
             ("median", f"{statistics.median(percent):.1f} %"), ("lowest", f"{min(percent):.1f} %"),
             ("highest", f"{max(percent):.1f} %"), ("full marks", str(full)), ("could not be loaded", str(unloaded))]
    return ('<div class="numbers">' + "".join(f'<div><b>{_esc(v)}</b><span>{_esc(k)}</span></div>'
                                             for k, v in cells) + "</div>")


def _histogram_svg(reports: list[Report]) -> str:
    hist = histogram(reports)
    width, height, left, bottom = 640, 220, 40, 30
    tallest = max(hist.counts) or 1
    bar = (width - left - 10) / len(hist.counts)
    shapes = []
    for i, count in enumerate(hist.counts):
        h = (height - bottom - 10) * count / tallest
        x, y = left + i * bar, height - bottom - h
        label = f"{num(hist.edges[i])}–{num(hist.edges[i + 1])}: {count}"
        shapes.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="#4c72b0">'
                      f"<title>{_esc(label)}</title></rect>")
        if count:
            shapes.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{count}</text>')
    for i in range(0, len(hist.edges), max(1, len(hist.counts) // 5)):
        x = left + i * bar
        shapes.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{num(hist.edges[i])}</text>')
    unit = f"points out of {num(hist.top)}" if hist.unit == "points" else "% of the maximum"
    shapes.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#555"/>')
    return (f'<h2>Scores</h2><svg class="hist" viewBox="0 0 {width} {height + 14}" role="img" '
            f'aria-label="histogram of scores">{"".join(shapes)}'
            f'<text x="{(width + left) / 2}" y="{height + 10}" text-anchor="middle">score ({_esc(unit)})</text></svg>')


def _misconceptions(reports: list[Report], known: dict[str, str]) -> str:
    found = misconceptions(reports, known)
    head = ('<h2 id="misconceptions">Misconceptions</h2><p class="dim">Known mistakes of the assignment\'s '
            "catalogue that students' values matched, most common first.</p>")
    if not found:
        return head + "<p>No student's values matched a catalogued mistake.</p>"
    rows = []
    for m in found:
        where = ", ".join(f"{_esc(name)} ({n})" for name, n in m.checks.most_common())
        function = _esc(m.function) if m.function else '<span class="dim">not in the catalogue</span>'
        rows.append(f'<tr><td>{_esc(m.description)}</td><td>{function}</td><td class="n">{len(m.students)}</td>'
                    f"<td>{_links(m.students)}</td><td>{where}</td></tr>")
    return (head + '<table class="mis"><thead><tr><th>mistake</th><th>function</th><th>students</th><th>who</th>'
            "<th>seen in checks</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _unexplained(reports: list[Report], order: list[str]) -> str:
    found = unexplained(reports, order)
    head = ('<h2 id="unexplained">Failures no catalogued mistake explains</h2><p class="dim">Per check, the '
            "students who did not pass it and whose message names no known mistake, with the most frequent "
            "message (numbers shown as #); submissions that could not be loaded are left out.</p>")
    if not found:
        return head + "<p>None.</p>"
    rows = [f'<tr><td>{_esc(u.check)}</td><td class="n">{len(u.students)}</td><td><code>{_esc(u.message)}</code> '
            f'<span class="dim">({u.count} of them)</span></td><td>{_links(u.students, 20)}</td></tr>' for u in found]
    return (head + "<table><thead><tr><th>check</th><th>students</th><th>most frequent message</th><th>who</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _checks(reports: list[Report], spec: AssignmentSpec, order: list[str]) -> str:
    rows, tables = [], [by_name(r) for r in reports]
    for name in order:
        results = [checks[name] for checks in tables if name in checks]
        passed = sum(c.status == "passed" for c in results)
        rate = 100 * passed / len(results) if results else 0.0
        entry = spec.checks.get(name)
        points = num(entry.points) if entry else num(max((c.max_points for c in results), default=0))
        visibility = entry.visibility if entry else (results[0].visibility if results else "")
        rows.append(f'<tr><td>{_esc(name)}</td><td class="n">{points}</td><td>{_esc(visibility)}</td>'
                    f'<td class="n">{rate:.0f} %</td><td><div class="bar"><div style="width:{rate:.1f}%"></div>'
                    f'</div></td><td class="n">{len(results) - passed}</td>'
                    f'<td class="dim">{_esc(entry.description if entry else "")}</td></tr>')
    return ('<h2 id="checks">Checks</h2><table><thead><tr><th>check</th><th>points</th><th>visibility</th>'
            '<th>pass rate</th><th></th><th>not passed</th><th>what it checks</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _students(reports: list[Report], spec: AssignmentSpec, order: list[str]) -> str:
    data = {"checks": order, "colours": STATUS_COLOURS,
            "students": [{"id": r.submission, "page": _page(r.submission), "score": r.score, "max": r.max_score,
                          "loaded": r.load_error is None,
                          "status": [checks[name].status if name in checks else "missing" for name in order]}
                         for r, checks in ((r, by_name(r)) for r in reports)]}
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    options = "".join(f'<option value="{i}">{_esc(name)}</option>' for i, name in enumerate(order))
    return ('<h2 id="students">Students</h2>'
            '<div class="controls"><label>name <input id="name" type="search" placeholder="part of an id"></label> '
            f'<label>not passing <select id="failing"><option value="">any check</option>{options}</select></label> '
            '<span id="count" class="dim"></span></div>'
            '<noscript><p>The table of students needs JavaScript; every student\'s page is in its folder.</p></noscript>'
            f'<table id="students-table" class="students"><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table>'
            f'<script type="application/json" id="class-data">{payload}</script>')


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
.dim{color:#666}table{border-collapse:collapse;margin:.5em 0;width:100%}
th,td{border-bottom:1px solid #e4e4e4;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.n{text-align:right;font-variant-numeric:tabular-nums}
.numbers{display:flex;flex-wrap:wrap;gap:1em}.numbers div{background:#f5f7fb;padding:.5em 1em;border-radius:6px}
.numbers b{display:block;font-size:1.3em}.numbers span{color:#666;font-size:.85em}
svg.hist{max-width:640px;width:100%;font-size:11px}
.bar{background:#eee;width:120px;height:10px;border-radius:3px}.bar div{background:#1b7f3b;height:10px;border-radius:3px}
.controls{margin:.5em 0}.controls label{margin-right:1em}
table.students{width:auto}
table.students th{cursor:pointer;white-space:nowrap;font-size:.8em;vertical-align:bottom}
table.students th.check{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;padding:.5em .2em;width:1.6em}
table.students th.sorted-asc::after{content:" \\25B2"}table.students th.sorted-desc::after{content:" \\25BC"}
table.students td.s{text-align:center;font-weight:bold}
code{font-size:.9em;background:#f6f6f6;padding:0 .2em}
"""

SORTING = r"""
function sortRows(rows, key, descending) {  // by key(row), ties by id
  var sign = descending ? -1 : 1;
  rows.sort(function (a, b) {
    var x = key(a), y = key(b);
    if (x < y) return -sign;
    if (x > y) return sign;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
function markSorted(head, column, descending) {  // the arrow on the sorted column's header
  Array.prototype.forEach.call(head.children, function (th, i) {
    th.classList.remove("sorted-asc", "sorted-desc");
    if (i === column) th.classList.add(descending ? "sorted-desc" : "sorted-asc");
  });
}
"""  # shared with the course page (grader.coursepage)

SCRIPT = SORTING + r"""
(function () {
  var source = document.getElementById("class-data");
  if (!source) return;
  var data = JSON.parse(source.textContent);
  var marks = {passed: "\u2713", failed: "\u2717", error: "!", timeout: "\u29D7", forbidden: "\u2298", missing: "\u2013"};
  var rank = {passed: 0, failed: 1, timeout: 2, error: 3, forbidden: 4, missing: 5};
  var columns = [{label: "student", key: function (s) { return s.id.toLowerCase(); }},
                 {label: "score", key: function (s) { return s.max ? s.score / s.max : 0; }}];
  data.checks.forEach(function (name, i) {
    columns.push({label: name, check: i, key: function (s) { return rank[s.status[i]]; }});
  });
  var sort = {column: 0, descending: false};
  var head = document.getElementById("head"), body = document.getElementById("rows");
  var nameBox = document.getElementById("name"), failing = document.getElementById("failing");
  columns.forEach(function (column, index) {
    var th = document.createElement("th");
    th.textContent = column.label;
    if (column.check !== undefined) th.classList.add("check");
    th.dataset.column = String(index);
    th.title = "sort by " + column.label;
    th.addEventListener("click", function () {
      sort.descending = sort.column === index ? !sort.descending : index === 1;
      sort.column = index;
      draw();
    });
    head.appendChild(th);
  });
  function draw() {
    var needle = nameBox.value.trim().toLowerCase();
    var check = failing.value === "" ? -1 : Number(failing.value);
    var shown = data.students.filter(function (s) {
      return (!needle || s.id.toLowerCase().indexOf(needle) >= 0) && (check < 0 || s.status[check] !== "passed");
    });
    sortRows(shown, columns[sort.column].key, sort.descending);
    markSorted(head, sort.column, sort.descending);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.dataset.id = s.id;
      var who = document.createElement("td"), link = document.createElement("a");
      link.href = s.page; link.textContent = s.id; who.appendChild(link);
      if (!s.loaded) { var note = document.createElement("span"); note.className = "dim"; note.textContent = " (not loaded)"; who.appendChild(note); }
      tr.appendChild(who);
      var score = document.createElement("td");
      score.className = "n"; score.textContent = String(Math.round(s.score * 100) / 100) + " / " + s.max;
      tr.appendChild(score);
      s.status.forEach(function (status, i) {
        var td = document.createElement("td");
        td.className = "s"; td.textContent = marks[status] || "?"; td.title = data.checks[i] + ": " + status;
        td.style.color = data.colours[status] || "#000";
        tr.appendChild(td);
      });
      fragment.appendChild(tr);
    });
    body.replaceChildren(fragment);
    document.getElementById("count").textContent = shown.length + " of " + data.students.length + " students";
  }
  nameBox.addEventListener("input", draw);
  failing.addEventListener("change", draw);
  draw();
})();
"""

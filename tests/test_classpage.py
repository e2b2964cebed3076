"""The TA's class page, OUT/index.html: what it counts (misconceptions across the class, failures no
catalogued mistake explains, pass rates) and, in a real browser (Debian's chromium, headless, driven
over the DevTools protocol: tests/browser.py), its table of students sorted and filtered as a TA would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser import Browser, find
from conftest import ROOT

from grader.batch import grade_all
from grader.classpage import catalogue, mask, misconceptions, render, unexplained
from grader.course import load_assignment
from grader.coursepage import export as export_course
from grader.gradebook import Gradebook
from grader.intake import Origin
from grader.report import CheckResult, Report

TASK = load_assignment("optimizers", ROOT)
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"


def _report(sid: str, messages: dict[str, str], status: str = "failed") -> Report:
    checks = [CheckResult(name=name, status="passed" if name not in messages else status, points=0 if name in messages
                          else c.points, max_points=c.points, message=messages.get(name, ""), visibility=c.visibility)
              for name, c in TASK.spec.checks.items()]
    return Report.from_checks(assignment="optimizers", submission=sid, checks=checks)


def test_misconceptions_count_students_once_by_the_catalogues_words():
    known = catalogue(TASK)
    description = "RMSprop with v started at zero as in PyTorch; the assignment starts v at the first squared gradient"
    assert known[description] == "rmsprop"  # a description with "; " inside: matched whole, by the catalogue
    v_zero = f"your values match {description}"
    reports = [_report("ann", {"rmsprop_step": f"element 0 is off by 0.1; {v_zero}",
                               "rmsprop_trajectories": f"step 3 of 200 is off; {v_zero}"}),
               _report("ben", {"rmsprop_step": f"element (1, 2) is off by 0.5; {v_zero}"}),
               _report("cat", {"adam_step": "element 3 is off by 0.25; your values match a mistake nobody wrote down"}),
               _report("dan", {"adam_step": "element 1 is off by 0.5", "momentum_step": "element 2 is off by 3e-05"}),
               _report("eve", {"adam_step": "element 7 is off by 0.125"}),
               _report("fay", {})]
    found = misconceptions(reports, known)
    assert [(m.description, m.function, m.students) for m in found] == [
        (description, "rmsprop", ["ann", "ben"]),
        ("a mistake nobody wrote down", "", ["cat"])]
    assert found[0].checks == {"rmsprop_step": 2, "rmsprop_trajectories": 1}
    left = unexplained(reports, list(TASK.spec.checks))
    assert [(u.check, u.students, u.message, u.count) for u in left] == [
        ("adam_step", ["dan", "eve"], "element # is off by #", 2), ("momentum_step", ["dan"], "element # is off by #", 1)]
    assert mask("off by -1.5e-07 at (0, 12)") == "off by # at (#, #)"


def test_the_page_is_one_file_with_no_network_and_its_data_cannot_close_the_script():
    reports = [_report("</script><script>alert(1)</script>", {"adam_step": "x </script> y"}), _report("b", {})]
    page = render(reports, TASK.spec, catalogue(TASK))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from anywhere
    assert "<link" not in page and "@import" not in page
    assert page.count("</script>") == 2  # the data's own "</script>" is written <\/script>
    data = json.loads(re.search(r'<script type="application/json" id="class-data">(.*?)</script>', page, re.S)[1])
    assert [s["id"] for s in data["students"]] == ["</script><script>alert(1)</script>", "b"]


def test_a_class_of_a_thousand_renders_compactly():
    reports = [_report(f"student{i:04d}", {"adam_step": f"element {i} is off"} if i % 3 else {}) for i in range(1000)]
    page = render(reports, TASK.spec, catalogue(TASK))
    assert len(page) < 1_000_000 and page.count("student0999") >= 2


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("class") / "grades"
    grade_all(assignment="optimizers", submissions=[ROOT / "examples" / "optimizers"], out=out, workers=1)
    return out


@pytest.fixture(scope="module")
def browser():
    executable = find()
    if executable is None:
        pytest.skip("no chromium here: the class page's browser test needs Debian's chromium (apt-get install "
                    "chromium); .ci/run installs it")
    instance = Browser(executable)
    yield instance
    instance.close()


def _rows(page) -> list[str]:
    return page.evaluate("Array.from(document.querySelectorAll('#rows tr')).map(r => r.dataset.id)")


def test_the_class_page_sorts_and_filters_in_a_real_browser(graded_class, browser):
    reports = {p.parent.name: Report.model_validate_json(p.read_text()) for p in graded_class.glob("*/report.json")}
    page = browser.open((graded_class / "index.html").as_uri())
    assert _rows(page) == sorted(reports)  # by name at first
    assert page.evaluate("document.getElementById('count').textContent") == f"{len(reports)} of {len(reports)} students"
    page.click('th[data-column="1"]')  # score: highest first
    by_score = _rows(page)
    assert [reports[s].score for s in by_score] == sorted((r.score for r in reports.values()), reverse=True)
    assert by_score == sorted(reports, key=lambda s: (-reports[s].score, s))
    page.click('th[data-column="1"]')  # again: lowest first
    assert _rows(page) == sorted(reports, key=lambda s: (reports[s].score, s))
    failing = sorted(s for s, r in reports.items() if any(c.name == "rmsprop_step" and c.status != "passed"
                                                          for c in r.checks))
    assert failing and len(failing) < len(reports)
    index = list(TASK.spec.checks).index("rmsprop_step")
    page.select("#failing", str(index))
    assert sorted(_rows(page)) == failing
    assert _rows(page) == sorted(failing, key=lambda s: (reports[s].score, s))  # still sorted by score
    page.type("#name", failing[0][:3])
    assert _rows(page) == [s for s in sorted(failing, key=lambda s: (reports[s].score, s)) if failing[0][:3] in s.lower()]
    links = page.evaluate("Array.from(document.querySelectorAll('#rows a')).map(a => a.getAttribute('href'))")
    assert all((graded_class / link).is_file() for link in links)  # each row links to the student's page
    page.evaluate("document.getElementById('name').value = ''; document.getElementById('name')"
                  ".dispatchEvent(new Event('input'))")
    page.select("#failing", "")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = page.screenshot(SHOTS / "class-page.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the misconception table names the bundled one-mistake examples' mistakes, with links to their pages
    table = page.evaluate("Array.from(document.querySelectorAll('table.mis tbody tr')).map(r => "
                          "[r.cells[0].textContent, Number(r.cells[2].textContent)])")
    assert table and all(n >= 1 for _, n in table)
    assert [n for _, n in table] == sorted((n for _, n in table), reverse=True)


# --------------------------------------------------------------------------- the course


def _gradebook(folder: Path, assignment: str, scores: dict[str, float], origins: dict[str, Origin]) -> Path:
    with Gradebook(folder / "gradebook.sqlite") as book:
        for sid, score in scores.items():
            report = Report.from_checks(assignment=assignment, submission=sid, checks=[
                CheckResult(name="a", status="passed" if score == 10 else "failed", points=score, max_points=10,
                            message="" if score == 10 else "your values match a known slip")])
            book.record(report, source="", fingerprint="f", assignment_fingerprint="g")
        book.record_origins(assignment, origins)
    return folder


@pytest.fixture
def two_assignments(tmp_path) -> list[Path]:
    first = _gradebook(tmp_path / "hw1", "hw1", {"ann": 10, "Bob": 4, "cy": 7},
                       {"ann": Origin("canvas", "1", "ann"), "cy": Origin("canvas", "3", "cy")})
    second = _gradebook(tmp_path / "hw2", "hw2", {"ann-2": 6, "bob": 10, "dee": 2},  # ann under another id
                        {"ann-2": Origin("canvas", "1", "ann")})
    return [first, second]


def test_the_course_joins_assignments_by_lms_number_else_id(two_assignments, tmp_path):
    paths = export_course(two_assignments, tmp_path / "course")
    lines = (tmp_path / "course" / "course.csv").read_text().splitlines()
    assert lines == ["student,hw1,hw2,total,max_total", "ann,10,6,16,20", "Bob,4,10,14,20", "cy,7,,7,20",
                     "dee,,2,2,20"]  # cy and dee: an empty cell where nothing was handed in, not a zero
    page = paths[1].read_text()
    assert page.count("a known slip (2)") == 2  # each assignment's misconceptions, with how many students


def test_the_course_page_sorts_by_total_in_a_real_browser(two_assignments, tmp_path, browser):
    export_course(two_assignments, tmp_path / "course")
    page = browser.open((tmp_path / "course" / "index.html").as_uri())
    assert _rows(page) == ["ann", "Bob", "cy", "dee"]
    page.click('th[data-column="3"]')  # the total: highest first
    assert _rows(page) == ["ann", "Bob", "cy", "dee"]
    page.click('th[data-column="2"]')  # hw2: highest first, no submission last
    assert _rows(page) == ["Bob", "ann", "dee", "cy"]
    page.type("#name", "b")
    assert _rows(page) == ["Bob"]
    hrefs = page.evaluate("Array.from(document.querySelectorAll('#rows a')).map(a => a.getAttribute('href'))")
    assert hrefs == ["../hw1/Bob/report.html", "../hw2/bob/report.html"]  # each assignment's report of theirs


def test_a_thousand_students_sort_and_filter_in_a_real_browser(tmp_path, browser):
    reports = [_report(f"student{i:04d}", {"adam_step": "element 1 is off"} if i % 3 else {}) for i in range(1000)]
    path = tmp_path / "index.html"
    path.write_text(render(reports, TASK.spec, catalogue(TASK)), encoding="utf-8")
    page = browser.open(path.as_uri())
    assert len(_rows(page)) == 1000
    page.click('th[data-column="1"]')
    rows = _rows(page)
    assert rows[:334] == [f"student{i:04d}" for i in range(0, 1000, 3)]  # full marks first, then by name
    page.select("#failing", str(list(TASK.spec.checks).index("adam_step")))
    assert len(_rows(page)) == 666
    page.click('th[data-column="0"]')  # by name again, the filter kept
    assert _rows(page) == [f"student{i:04d}" for i in range(1000) if i % 3]

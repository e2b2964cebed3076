"""HTML reports: a graded failing submission's page with its paths, figures kept or dropped by the
plugin, the page's escaping and self-containment, the densities drawn, and a batch's pages."""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pytest
from conftest import MUTANTS, ROOT, TEST_SECRET

from grader import figures
from grader.batch import grade_all
from grader.course import load_assignment
from grader.drawing import _rastrigin_grid, _rosenbrock_grid, density
from grader.grade import grade_submission
from grader.html import render
from grader.pages import write_html_reports
from grader.report import CheckResult, Report
from grader.sandbox import objectives

IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
PNG = b"\x89PNG\r\n\x1a\n"

# momentum without dampening (the demonstration on Rastrigin fails), a schedule whose exception
# carries markup, and markup printed at import: all of it must arrive escaped.
MARKUP_MESSAGE = "<script>alert('message')</script> & <img src=x onerror=alert(1)>"
MARKUP_OUTPUT = "<script>alert('output')</script>"
MALLORY = (MUTANTS / "optimizers" / "momentum_no_dampening.py").read_text() + f"""

print({MARKUP_OUTPUT!r})


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    raise ValueError({MARKUP_MESSAGE!r})
"""


def images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in IMAGE.findall(page)]


@pytest.fixture(scope="module")
def mallory(tmp_path_factory) -> Report:
    path = tmp_path_factory.mktemp("mallory") / "mallory.py"
    path.write_text(MALLORY)
    return grade_submission(load_assignment("optimizers", ROOT), path, "mallory", secret=TEST_SECRET)


def test_the_page_of_a_failing_submission_has_its_score_checks_and_paths(mallory):
    demo = next(c for c in mallory.checks if c.name == "momentum_passes_rastrigin_minima")
    assert demo.status == "failed" and demo.visibility == "hidden"
    assert [(f["kind"], f["surface"], f["public"]) for f in demo.figures] == [("path", "rastrigin", True)] * 2
    assert [f["title"].split()[0] for f in demo.figures] == ["momentum", "RMSprop"]  # RMSprop's drawn too
    path = np.array(demo.figures[0]["student"], dtype=float)
    assert path.shape[1] == 2 and np.allclose(path[0], (-4.5, 4.5))  # the lecture's start

    page = render(mallory)
    assert f"Score: <strong>{mallory.score:g}</strong> / {mallory.max_score:g}" in page
    for check in mallory.checks:
        assert f'id="check-{check.name}"' in page
    pictures = images(page)
    assert len(pictures) == sum(len(c.figures) for c in mallory.checks) >= 3
    assert all(p.startswith(PNG) and len(p) > 10_000 for p in pictures)
    assert "http://" not in page and "https://" not in page  # nothing to fetch: styles and images inline
    assert "<script" not in page.lower() and "<link" not in page.lower()


def test_student_text_arrives_escaped(mallory):
    schedule = next(c for c in mallory.checks if c.name == "warmup_cosine_properties")
    assert MARKUP_MESSAGE in schedule.message and MARKUP_OUTPUT in mallory.output  # the raw text is in the report
    page = render(mallory)
    assert "&lt;script&gt;alert(&#x27;message&#x27;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(&#x27;output&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "alert('" not in page


def test_the_report_with_figures_survives_the_gradebook(mallory):
    """Figures are plain data: the JSON round trip (the gradebook's) gives the same report and page."""
    again = Report.model_validate_json(mallory.model_dump_json())
    assert again == mallory
    assert images(render(again)) == images(render(mallory))


def test_a_report_from_before_figures_still_loads():
    data = json.loads(Report.from_checks(assignment="a", submission="s", checks=[
        CheckResult(name="c", status="passed", points=1, max_points=1)]).model_dump_json())
    del data["checks"][0]["figures"]
    old = Report.model_validate_json(json.dumps(data))
    assert old.checks[0].figures == [] and "<section" in render(old)


# --------------------------------------------------------------------------- the plugin's filtering

TINY_SPEC = """
title = "Tiny"
module = "tiny"
functions = ["double"]

[checks.shown]
points = 1
visibility = "visible"
functions = ["double"]

[checks.secret]
points = 1
visibility = "hidden"
functions = ["double"]
"""

TINY_VISIBLE = """
from grader import figures


def test_shown(student):
    figures.add("curve", "a visible check's figure", x=[0, 1], student=[student.double(1.0), 4.0],
                reference=[2.0, 4.0])
"""

TINY_HIDDEN = """
from grader import figures


def test_secret(student, rng):
    x = 1000 + rng.uniform()
    figures.add("curve", "drawn from the hidden inputs", student=[student.double(x)], reference=[2 * x])
    figures.add("curve", "drawn from the lecture's inputs", public=True, student=[student.double(1.0)],
                reference=[2.0])
    assert student.double(x) == 2 * x
"""


def test_a_hidden_checks_figures_reach_the_report_only_when_public(tmp_path):
    folder = tmp_path / "assignments" / "tiny"
    (folder / "checks").mkdir(parents=True)
    (folder / "assignment.toml").write_text(TINY_SPEC)
    (folder / "checks" / "test_visible.py").write_text(TINY_VISIBLE)
    (folder / "checks" / "test_hidden.py").write_text(TINY_HIDDEN)
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "tiny.py").write_text("def double(x):\n    return 2 * x\n")
    submission = tmp_path / "student.py"
    submission.write_text("def double(x):\n    return 2 * x\n")

    report = grade_submission(load_assignment("tiny", tmp_path), submission, "student", secret=TEST_SECRET)
    titles = {c.name: [f["title"] for f in c.figures] for c in report.checks}
    assert {c.name: c.status for c in report.checks} == {"shown": "passed", "secret": "passed"}
    assert titles == {"shown": ["a visible check's figure"], "secret": ["drawn from the lecture's inputs"]}
    secret = next(c for c in report.checks if c.name == "secret")
    assert secret.figures[0]["student"] == [2.0]  # the lecture's value; the hidden one (about 2000) is nowhere
    assert "drawn from the hidden inputs" not in report.model_dump_json() + render(report)


def test_figures_are_recorded_only_inside_a_check_and_capped():
    figures.add("curve", "outside any check", student=[1.0], reference=[1.0])  # no check running: ignored
    with figures.collecting() as recorded:
        for i in range(figures.MAX_FIGURES + 3):
            figures.add("histogram", f"figure {i}", samples=np.arange(10 * figures.MAX_POINTS), density="normal",
                        params={"std": 1.0})
        figures.add("path", "ragged", student=[[1.0, 2.0], [3.0]])  # not a series: dropped, never an error
    assert len(recorded) == figures.MAX_FIGURES
    assert all(len(f["samples"]) == figures.MAX_POINTS for f in recorded)
    with figures.collecting() as recorded:
        figures.add("path", "diverged", surface="rosenbrock", student=[[1.0, 2.0], [math.inf, math.nan]],
                    reference=[[1.0, 2.0]])
    assert recorded[0]["student"] == [[1.0, 2.0], [None, None]]  # what JSON would make of them anyway


# --------------------------------------------------------------------------- drawing

def test_the_grids_are_the_objectives():
    points = np.random.default_rng(0).uniform(-3, 3, size=(50, 2))
    for grid, value in ((_rosenbrock_grid, objectives.rosenbrock), (_rastrigin_grid, objectives.rastrigin)):
        assert np.allclose(grid(points[:, 0], points[:, 1]), [value(p) for p in points], rtol=1e-12)


@pytest.mark.parametrize(("name", "params", "mean"), [
    ("normal", {"mean": 0.5, "std": 0.2}, 0.5), ("uniform", {"low": -1.0, "high": 3.0}, 1.0),
    ("beta", {"a": 2.0, "b": 5.0}, 2 / 7), ("beta", {"a": 0.4, "b": 0.4}, 0.5), ("beta", {"a": 300.0, "b": 300.0}, 0.5),
])
def test_each_density_integrates_to_one_with_the_right_mean(name, params, mean):
    pdf, (lo, hi), _ = density(name, params)
    t = np.linspace(lo, hi, 2_000_001)
    mass, first = np.trapezoid(pdf(t), t), np.trapezoid(t * pdf(t), t)
    tolerance = 0.03 if params.get("a", 1) < 1 else 1e-4  # Beta(0.4, 0.4) is infinite at 0 and 1
    assert abs(mass - 1) < tolerance and abs(first - mean) < tolerance
    with pytest.raises(ValueError, match="unknown density 'cauchy'"):
        density("cauchy", {})


def test_every_kind_draws_and_a_broken_figure_costs_only_its_picture():
    rng = np.random.default_rng(1)
    figs = [
        {"kind": "histogram", "title": "λ against Beta(0.1, 0.1)", "samples": rng.beta(0.1, 0.1, 300).tolist(),
         "density": "beta", "params": {"a": 0.1, "b": 0.1}},
        {"kind": "histogram", "title": "uniform", "samples": rng.uniform(-1, 1, 500).tolist(), "density": "uniform",
         "params": {"low": -1, "high": 1}},
        {"kind": "histogram", "title": "nothing finite", "samples": [None, None], "density": "normal",
         "params": {"std": 1.0}},
        {"kind": "curve", "title": "loss $x$", "x": list(range(50)), "student": np.geomspace(10, 1e-3, 40).tolist(),
         "reference": np.geomspace(10, 1e-4, 50).tolist(), "ylabel": "loss"},
        {"kind": "path", "title": "flies off", "surface": "rosenbrock", "student": [[-1.5, 2], [1e30, -1e30]],
         "reference": [[-1.5, 2], [1, 1]]},
        {"kind": "path", "title": "diverges", "surface": "rastrigin", "student": [[-4.5, 4.5], [None, None]],
         "reference": [[-4.5, 4.5], [0, 0]]},
        {"kind": "path", "title": "on no known surface", "surface": "himmelblau", "student": [], "reference": []},
        {"kind": "sankey", "title": "of an unknown kind"},
    ]
    check = CheckResult(name="c", status="failed", points=0, max_points=1, message="m", visibility="visible",
                        figures=figs)
    page = render(Report.from_checks(assignment="a", submission="s", checks=[check]))
    assert len(images(page)) == 6
    assert "on no known surface: this picture could not be drawn (KeyError)" in page
    assert "of an unknown kind: a figure of kind sankey cannot be drawn" in page


def test_a_load_error_and_notes_are_shown_escaped():
    report = Report.from_checks(assignment="a", submission="<b>s</b>", checks=[], load_error="SyntaxError: <oops>",
                                notes=["cell 3 was not run: it calls display(<widget>)"], output="\x1b[31mred")
    page = render(report)
    assert "SyntaxError: &lt;oops&gt;" in page and "display(&lt;widget&gt;)" in page
    assert "<title>a: &lt;b&gt;s&lt;/b&gt;</title>" in page
    assert "\x1b" not in page and "\\x1b[31mred" in page  # a terminal escape spelled out


# --------------------------------------------------------------------------- batches

def test_a_batch_writes_a_page_per_submission_and_rewrites_only_what_it_graded(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", TEST_SECRET.decode())
    examples = ROOT / "examples" / "optimizers"
    out = tmp_path / "grades"
    result = grade_all(assignment="optimizers", submissions=[examples / "alice.py", examples / "bob.py"], out=out,
                       course=str(ROOT), workers=1)
    for report in result.reports:
        page = (out / report.submission / "report.html").read_text()
        assert f"<strong>{report.score:g}</strong> / 100" in page
        assert len(images(page)) == sum(len(c.figures) for c in report.checks) >= 3
    (out / "bob" / "report.html").unlink()
    alice = (out / "alice" / "report.html").stat().st_mtime_ns
    again = grade_all(assignment="optimizers", submissions=[examples / "alice.py", examples / "bob.py"], out=out,
                      course=str(ROOT), workers=1)
    assert (again.graded, again.skipped) == (0, 2)
    assert (out / "bob" / "report.html").is_file()  # missing: drawn from the gradebook
    assert (out / "alice" / "report.html").stat().st_mtime_ns == alice  # unchanged: left alone


@pytest.mark.parametrize("workers", [1, 2])
def test_the_judges_draw_the_pages_the_gradebook_would(tmp_path, monkeypatch, workers):
    """Pages are drawn by the judge that graded the submission, as it goes: is each the page its
    report in the gradebook gives, with nothing left to draw at the end?"""
    import grader.batch

    monkeypatch.setenv("GRADER_SECRET", TEST_SECRET.decode())
    left: list = []
    monkeypatch.setattr(grader.batch, "write_html_reports", lambda reports, *_: left.extend(reports))
    examples = ROOT / "examples" / "optimizers"
    out = tmp_path / "grades"
    result = grade_all(assignment="optimizers", submissions=sorted(examples.glob("*.py")), out=out,
                       course=str(ROOT), workers=workers)
    assert left == [] and len(result.reports) == 6
    for report in result.reports:  # from the gradebook
        assert (out / report.submission / "report.html").read_text() == render(report), report.submission


def test_many_pages_are_drawn_by_several_processes(tmp_path):
    path = [[-1.5, 2.0], [0.5, 0.2], [1.0, 1.0]]
    reports = [Report.from_checks(assignment="a", submission=f"s{i}", checks=[CheckResult(
        name="c", status="passed", points=1, max_points=1, visibility="visible",
        figures=[{"kind": "path", "title": f"path {i}", "surface": "rosenbrock", "student": path,
                  "reference": path}])]) for i in range(20)]
    write_html_reports(reports, tmp_path, workers=2)
    for report in reports:
        page = (tmp_path / report.submission / "report.html").read_text()
        assert f"path {report.submission[1:]}" in page and len(images(page)) == 1
    with pytest.raises(ValueError, match="not a plain folder name"):
        write_html_reports([reports[0].model_copy(update={"submission": ".."})], tmp_path, workers=2)


def test_a_passed_checks_picture_is_kept_and_a_failed_ones_is_not(tmp_path, monkeypatch):
    """A fresh process draws a correct submission's pictures from the cache (grader.cache), not with
    matplotlib; a failed check's picture, which rarely recurs, is drawn each time and not kept."""
    from grader import drawing, html

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    curve = {"kind": "curve", "title": "kept", "student": [3.0, 2.0, 1.0], "reference": [3.0, 2.0, 1.0]}
    other = {**curve, "title": "not kept"}
    checks = [CheckResult(name="a", status="passed", points=1, max_points=1, figures=[curve]),
              CheckResult(name="b", status="failed", points=0, max_points=1, message="m", figures=[other])]
    page = html.render(Report.from_checks(assignment="x", submission="s", checks=checks))
    (kept,) = (tmp_path / "figures").iterdir()
    assert kept.read_bytes()[:4] == b"\x89PNG" and kept.read_bytes() == drawing.figure_png(curve)
    html._figure_html.cache_clear()
    monkeypatch.setattr(drawing, "figure_png", lambda figure: (_ for _ in ()).throw(AssertionError("drawn again")))
    again = html.render(Report.from_checks(assignment="x", submission="s", checks=checks[:1]))
    picture = re.compile(r'<img src="data:image/png;base64,[^"]+"')
    assert picture.findall(again) == picture.findall(page)[:1]  # the same picture, read back


def test_the_picture_cache_keeps_the_most_recently_used(tmp_path, monkeypatch):
    from grader import drawing

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(drawing, "KEPT_PICTURES", 3)
    monkeypatch.setattr(drawing, "figure_png", lambda figure: b"\x89PNG\r\n\x1a\n" + figure["title"].encode())
    for n in range(5):
        assert drawing._kept_png(f"key{n}", {"title": str(n)}).endswith(str(n).encode())
    kept = sorted(p.read_bytes()[-1:] for p in (tmp_path / "figures").iterdir())
    assert len(kept) == 3 and kept[-1] == b"4"

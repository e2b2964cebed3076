"""Gradescope: the autograder zip `grader gradescope` builds, and its run step in the container's layout.

The run step runs here as `run_autograder` runs it (`python -m grader --course <source>/course
gradescope-run ASSIGNMENT`), under a temporary folder standing for `/autograder`
(`$GRADER_AUTOGRADER_ROOT`), with the course files unpacked from the zip; the grader is this
checkout's (`setup.sh`'s install from the zip is not exercised here).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from test_exports import read_gradescope

from grader.course import load_assignment
from grader.exports import gradescope_results
from grader.gradescope import with_pictures
from grader.report import CheckResult, Report

SECRET = "gradescope-test-secret"
EXAMPLES = ROOT / "examples" / "optimizers"


def grader(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env or {**os.environ, "GRADER_SECRET": SECRET})


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "autograder.zip"
    result = grader("--course", str(ROOT), "gradescope", "optimizers", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def container(zip_path: Path, root: Path, files: dict[str, Path | bytes], submission_id: int | None) -> Path:
    """``root`` laid out as Gradescope lays out /autograder for one submission."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir(parents=True)
    for name, content in files.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    if submission_id is not None:
        (root / "submission_metadata.json").write_text(json.dumps({"id": submission_id, "users": [{"name": "S"}]}))
    return root


def run_autograder(root: Path, assignment: str = "optimizers") -> tuple[subprocess.CompletedProcess, dict]:
    env = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}  # the secret baked into the zip
    env["GRADER_AUTOGRADER_ROOT"] = str(root)
    result = grader("--course", str(root / "source" / "course"), "gradescope-run", assignment, env=env, cwd=root)
    return result, json.loads((root / "results" / "results.json").read_text())


def test_the_zip_carries_the_scripts_the_course_and_its_secret(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        secret = archive.read("course/.grader/secret").decode().strip()
        run = archive.read("run_autograder").decode()
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "course/pyproject.toml", "course/README.md", "course/grader/__init__.py",
            "course/grader/gradescope.py", "course/assignments/optimizers/assignment.toml",
            "course/assignments/optimizers/checks/test_hidden.py", "course/assignments/optimizers/checks/mistakes.py",
            "course/reference/optimizers.py", "course/reference/conv.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert stat.S_IMODE(modes["course/.grader/secret"]) == 0o600 and secret == SECRET
    assert "gradescope-run optimizers" in run
    assert "torch==2.13.0" in setup and setup.index("torch==2.13.0") < setup.index('"$SOURCE/course"')


def test_an_unknown_assignment_builds_nothing(tmp_path):
    result = grader("--course", str(ROOT), "gradescope", "optimisers", "--out", str(tmp_path / "a.zip"))
    assert result.returncode == 2 and "unknown assignment 'optimisers'" in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("case, files, expected", [
    ("correct", {"alice.py": EXAMPLES / "alice.py"}, 100.0),
    ("one mistake, any file name", {"my_optimizers.py": EXAMPLES / "bob.py"}, None),
    ("a notebook in a folder", {"work/optimizers.ipynb": ROOT / "student_template" / "optimizers.ipynb"}, 0.0),
    ("corrupt zip", {"hand-in.zip": b"PK\x03\x04 broken"}, 0.0),
    ("hostile", {"optimizers.py": ROOT / "tests" / "hostile" / "optimizers" / "environ_snoop.py"}, 0.0),
    ("nothing", {}, 0.0),
])
def test_run_autograder_writes_gradescopes_results_with_grader_grades_score(autograder_zip, tmp_path, case, files,
                                                                            expected):
    root = container(autograder_zip, tmp_path / "autograder", files, 123456)
    result, data = run_autograder(root)
    assert result.returncode == 0, result.stderr
    results = read_gradescope(root / "results" / "results.json")  # every field of Gradescope's format, typed
    assert results.score == sum(t.score for t in results.tests) and results.execution_time > 0
    task = load_assignment("optimizers", ROOT)
    assert [t.name for t in results.tests] == list(task.spec.checks)
    assert all(t.visibility == ("visible" if task.spec.checks[t.name].visibility == "visible" else "after_published")
               for t in results.tests)
    if expected is None:  # the same file graded by `grader grade`: the same score
        out = tmp_path / "grades"
        assert grader("grade", "optimizers", str(EXAMPLES / "bob.py"), "--out", str(out)).returncode == 0
        expected = json.loads((out / "bob" / "report.json").read_text())["score"]
        assert 0 < expected < 100
    assert results.score == expected, data["output"]
    if case == "one mistake, any file name":  # the report's pictures, shown under their check's message
        pictured = [t for t in data["tests"] if t.get("output_format") == "html"]
        assert pictured
        for test in pictured:
            text, *pictures = test["output"].split('<img src="data:image/png;base64,')
            assert (text.startswith('<pre style="white-space:pre-wrap">') if test["status"] == "failed" else True)
            assert "<script" not in text
            assert pictures and all(base64.b64decode(p.split('"')[0]).startswith(b"\x89PNG") for p in pictures)
        assert not [t for t in data["tests"] if "<img" in t["output"] and t.get("output_format") != "html"]
    if case == "corrupt zip":
        assert "hand-in.zip is not a readable zip file" in results.output
    if case == "a notebook in a folder":  # graded (the stub's functions raise NotImplementedError), not refused
        assert "could not be loaded" not in results.output
        assert all("not implemented" in t.output for t in results.tests if t.visibility == "visible")
    if case == "nothing":
        assert "the folder submission is empty" in results.output
    assert "Your code ran confined by: rlimits" in results.output
    assert SECRET not in json.dumps(data)  # the baked secret never reaches what the student sees


def test_a_regrade_of_the_same_submission_draws_the_same_hidden_inputs(autograder_zip, tmp_path):
    """The seed is the baked secret and Gradescope's submission id: the same id, the same messages; another
    id, other hidden inputs (so other numbers in the messages of a wrong submission)."""
    outputs = []
    for n, submission_id in enumerate((777, 777, 778)):
        root = container(autograder_zip, tmp_path / f"run{n}", {"optimizers.py": EXAMPLES / "carol.py"}, submission_id)
        _, data = run_autograder(root)
        outputs.append([t["output"] for t in data["tests"] if t["visibility"] != "visible"])
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_when_the_grader_itself_fails_the_student_still_gets_a_results_file(autograder_zip, tmp_path):
    root = container(autograder_zip, tmp_path / "autograder", {"optimizers.py": EXAMPLES / "alice.py"}, 1)
    result, data = run_autograder(root, assignment="no_such_assignment")
    assert result.returncode == 0
    assert data["score"] == 0 and data["tests"] == []
    assert "The autograder failed (UsageError)" in data["output"] and "tell the course staff" in data["output"]


def test_the_spec_sets_when_students_see_the_hidden_checks():
    task = load_assignment("optimizers", ROOT)
    spec = task.spec.model_copy(update={"gradescope": task.spec.gradescope.model_copy(
        update={"hidden_visibility": "after_due_date"})})
    checks = [CheckResult(name=name, status="passed", points=c.points, max_points=c.points, visibility=c.visibility)
              for name, c in spec.checks.items()]
    report = Report.from_checks(assignment="optimizers", submission="s", checks=checks)
    tests = gradescope_results(report, spec)["tests"]
    assert {t["visibility"] for t in tests} == {"visible", "after_due_date"}


def test_a_checks_pictures_go_under_its_escaped_message_within_a_budget():
    curve = {"kind": "curve", "title": "loss <per step>", "student": [3.0, 2.0, 1.5], "reference": [3.0, 1.0, 0.5]}
    checks = [CheckResult(name="a", status="failed", points=0, max_points=5, message="expected x < 1, got <b>2</b>",
                          figures=[curve, {"kind": "no such kind", "title": "t"}]),
              CheckResult(name="b", status="passed", points=5, max_points=5, figures=[curve]),
              CheckResult(name="c", status="failed", points=0, max_points=5, message="no pictures")]
    report = Report.from_checks(assignment="optimizers", submission="s", checks=checks)
    data = with_pictures(gradescope_results(report), report)
    a, b, c = data["tests"]
    assert a["output_format"] == "html"
    assert a["output"].startswith('<pre style="white-space:pre-wrap">expected x &lt; 1, got &lt;b&gt;2&lt;/b&gt;</pre>')
    assert a["output"].count("<img") == 1 and "<figcaption>loss &lt;per step&gt;</figcaption>" in a["output"]
    assert b["output_format"] == "html" and b["output"].count("<img") == 1
    assert "output_format" not in c and c["output"] == "no pictures"
    one = len(a["output"].split('src="')[1].split('"')[0])
    tight = with_pictures(gradescope_results(report), report, budget=one + 10)
    assert [t["output"].count("<img") for t in tight["tests"]] == [1, 0, 0]
    assert "1 picture was left out" in tight["output"]

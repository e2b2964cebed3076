"""The `grader` command as users run it: exit codes, files written, what it prints."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

GRADER = [sys.executable, "-m", "grader"]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "GRADER_SECRET": "cli-test-secret", "COLUMNS": "200"}
    return subprocess.run([*GRADER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_grade_writes_reports_and_a_gradebook(tmp_path):
    """Does `grader grade` on the reference and the stub exit 0 and write 100/100 and 0/100 reports and a gradebook?"""
    shutil.copy(ROOT / "reference/optimizers.py", tmp_path / "ada.py")
    shutil.copy(ROOT / "student_template/optimizers.py", tmp_path / "bo.py")
    out = tmp_path / "out"
    result = run("grade", "optimizers", str(tmp_path / "ada.py"), str(tmp_path / "bo.py"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    ada = json.loads((out / "ada/report.json").read_text())
    bo = json.loads((out / "bo/report.json").read_text())
    assert (ada["score"], ada["max_score"], bo["score"]) == (100, 100, 0)
    assert ada["schema_version"] == 1 and ada["assignment"] == "optimizers" and ada["submission"] == "ada"
    assert {c["status"] for c in bo["checks"]} == {"error"}
    assert all("not implemented" in c["message"] for c in bo["checks"])
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [(r["submission"], float(r["score"])) for r in rows] == [("ada", 100.0), ("bo", 0.0)]
    assert float(rows[0]["adam_step"]) == 5.0 and float(rows[1]["adam_step"]) == 0.0
    assert "ada" in result.stdout and "100/100" in result.stdout


@pytest.mark.parametrize("args, words", [
    (["grade", "optimisers", "x.py"], "unknown assignment 'optimisers'"),
    (["grade", "optimizers", "no/such/file.py"], "no such file or folder"),
    (["check", "optimizers", "README.md"], "a submission is a .py file"),
    (["check", "optimizers", "missing.py"], "no such file or folder"),
])
def test_caller_mistakes_exit_non_zero_with_one_line(args, words):
    """Does a caller's mistake end with status 2 and a one-line message, no traceback?"""
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr


def test_check_runs_only_the_visible_checks(tmp_path):
    """Does `grader check` in a folder with optimizers.py run the visible checks and say hidden ones remain?"""
    shutil.copy(ROOT / "reference/optimizers.py", tmp_path / "optimizers.py")
    result = run("check", "optimizers", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the visible checks passed" in result.stdout and "hidden checks worth 66" in result.stdout
    assert "all tests passed" not in result.stdout.lower()
    assert "adam_step" not in result.stdout and "adam_matches_torch" in result.stdout


def test_check_fails_on_the_stub(tmp_path):
    """Does `grader check` on the unfinished stub exit 1 and show what is missing?"""
    result = run("check", "optimizers", str(ROOT / "student_template/optimizers.py"))
    assert result.returncode == 1
    assert "adagrad is not implemented yet" in result.stdout
    assert "0/34" in result.stdout


@pytest.mark.parametrize("assignment", ["init", "conv", "cross_entropy", "mixup", "weight_decay", "dropout", "normalization"])
def test_check_and_grade_work_for_every_assignment(tmp_path, assignment):
    """Do `grader check` (alice: exit 0) and `grader grade` (all examples: exit 0, a report each) work for each assignment?"""
    examples = sorted((ROOT / "examples" / assignment).glob("*.py"))
    result = run("check", assignment, str(ROOT / "examples" / assignment / "alice.py"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the visible checks passed" in result.stdout
    result = run("grade", assignment, *map(str, examples), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    scores = {p.stem: json.loads((tmp_path / p.stem / "report.json").read_text())["score"] for p in examples}
    assert scores.pop("alice") == 100 and scores and all(s < 100 for s in scores.values()), scores


@pytest.mark.parametrize("percent, code", [(None, 0), ("70", 0), ("80", 1), ("100", 1)])
def test_fail_under_sets_the_exit_status_of_a_ci_job(tmp_path, percent, code):
    """One submission graded for CI (bob scores 78 of 100): exit 1 exactly when it is under the bar,
    and the exports a CI job reads exist for that single submission."""
    shutil.copy(ROOT / "examples/optimizers/bob.py", tmp_path / "bob.py")
    out = tmp_path / "out"
    extra = ["--fail-under", percent] if percent else []
    result = run("grade", "optimizers", str(tmp_path / "bob.py"), "--out", str(out), "--workers", "1", *extra)
    assert result.returncode == code, result.stderr
    assert json.loads((out / "bob/report.json").read_text())["score"] == 78
    assert (code == 1) == ("bob scored 78/100, under" in result.stderr)
    for export in ("junit.xml", "summary.md", "gradebook.csv", "bob/results.json"):
        assert (out / export).stat().st_size > 0, export


def test_fail_under_takes_a_percentage():
    result = run("grade", "optimizers", "x.py", "--fail-under", "120")
    assert result.returncode == 2 and "percentage from 0 to 100" in result.stderr

"""The judge uses two private parts of pytest (``_pytest.runner.runtestprotocol`` and ``item._initrequest()``)
to run every check once per submission in one session, so pyproject.toml bounds pytest to the range they are
tested on: the installed version (the whole suite) and the lowest one, here."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from packaging.requirements import Requirement

LOWEST = "8.0.0"


def declared() -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return next(Requirement(r) for r in project["dependencies"] if Requirement(r).name == "pytest")


def test_the_installed_pytest_is_in_the_declared_range():
    assert pytest.__version__ in declared().specifier
    assert LOWEST in declared().specifier and f"{LOWEST.split('.')[0]}.0" in declared().specifier


def scores(out: Path) -> dict[str, float]:
    return {json.loads(p.read_text())["submission"]: json.loads(p.read_text())["score"] for p in out.glob("*/report.json")}


def grade(out: Path, pythonpath: str | None) -> dict[str, float]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())} | ({"PYTHONPATH": pythonpath} if pythonpath else {})
    result = subprocess.run([sys.executable, "-m", "grader", "grade", "init", str(ROOT / "examples" / "init"),
                             "--out", str(out)], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return scores(out)


def test_the_judge_grades_alike_on_the_lowest_pytest(tmp_path):
    """pytest 8.0 (unpacked from its wheel, first on the path) grades the class as the installed one does."""
    wheels = tmp_path / "wheels"
    download = subprocess.run([sys.executable, "-m", "pip", "download", f"pytest=={LOWEST}", "--no-deps", "-d",
                               str(wheels), "-q"], capture_output=True, text=True, timeout=300)
    assert download.returncode == 0, download.stderr[-2000:]
    lowest = tmp_path / "pytest-lowest"
    with zipfile.ZipFile(next(wheels.glob("pytest-*.whl"))) as wheel:
        wheel.extractall(lowest)
    probe = subprocess.run([sys.executable, "-c", "import pytest; print(pytest.__version__)"],
                           env={"PYTHONPATH": str(lowest)}, capture_output=True, text=True)
    assert probe.stdout.strip() == LOWEST
    assert grade(tmp_path / "lowest", str(lowest)) == grade(tmp_path / "installed", None) != {}

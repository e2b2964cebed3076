"""The code base stays lint-clean; in particular no test or check is shadowed by a second one of the
same name (ruff's F811), which would silently drop it from grading."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


def test_ruff_finds_nothing():
    """Does ruff pass on the grader, the assignments, the references, the stubs and the tests?"""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: install the project with its [test] extra")
    folders = [p for p in ("grader", "tests", "assignments", "reference", "student_template", "benchmarks", "tools")
               if (ROOT / p).exists()]
    result = subprocess.run([ruff, "check", "--output-format", "concise", *folders], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

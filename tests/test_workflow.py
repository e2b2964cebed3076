"""The GitHub Actions workflow shipped to students, run here step by step, and ``grader check``'s
outputs for a CI job (``--all``, ``--summary``, no colours off a terminal)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from grader.course import list_assignments, load_assignment

WORKFLOW = ROOT / "student_template" / ".github" / "workflows" / "visible-checks.yml"
GRADER = Path(sys.executable).with_name("grader")


def steps() -> dict[str, dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return {step.get("name", step.get("uses")): step for step in job["steps"]}


def student_repository(folder: Path, solved: set[str]) -> Path:
    """A student's repository made from the template: its copy of every assignment's visible part (no
    hidden checks, no reference), its workflow, and a file per assignment, solved (a correct example)
    or the stub."""
    shutil.copytree(ROOT / "student_template", folder)
    assert not list(folder.rglob("test_hidden.py")) and not (folder / "reference").exists()
    for name in list_assignments(ROOT):
        module = load_assignment(name, ROOT).spec.module
        source = ROOT / "examples" / name / "alice.py" if name in solved else ROOT / "student_template" / f"{module}.py"
        shutil.copyfile(source, folder / f"{module}.py")
    return folder


def run_step(step: dict, cwd: Path, summary: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "PATH": f"{GRADER.parent}:{os.environ['PATH']}",
           "GRADER_COURSE": ""}
    return subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_workflow_runs_on_every_push_and_installs_the_cpu_build_of_torch_first():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "push" in triggers
    install = steps()["Install the grader"]["run"]
    torch_line = next(i for i, line in enumerate(install.splitlines()) if "torch==" in line)
    grader_line = next(i for i, line in enumerate(install.splitlines()) if "GRADER_PACKAGE" in line)
    assert torch_line < grader_line and "whl/cpu" in install.splitlines()[torch_line]


def test_the_check_step_passes_a_solved_repository_and_writes_the_summary(tmp_path):
    """The step as GitHub runs it, on a repository where every assignment is solved: exit 0, and a
    summary page with a table per assignment."""
    repo = student_repository(tmp_path / "repo", solved=set(list_assignments(ROOT)))
    summary = tmp_path / "summary.md"
    done = run_step(steps()["Visible checks"], repo, summary)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    page = summary.read_text()
    for name in list_assignments(ROOT):
        assert f"## {load_assignment(name, ROOT).spec.title}: visible checks" in page
    assert "| check | status | points | message |" in page and "❌" not in page


def test_the_check_step_fails_while_a_visible_check_fails_and_says_which(tmp_path):
    repo = student_repository(tmp_path / "repo", solved=set(list_assignments(ROOT)) - {"optimizers"})
    summary = tmp_path / "summary.md"
    done = run_step(steps()["Visible checks"], repo, summary)
    assert done.returncode == 1
    page = summary.read_text()
    assert "| adam_matches_torch | ❌ error |" in page  # the stub raises NotImplementedError
    assert "\x1b[" not in done.stdout, "no colour codes when the output is not a terminal"


@pytest.mark.parametrize("name", ["optimizers"])
def test_check_output_has_no_colour_codes_off_a_terminal(name, tmp_path):
    shutil.copyfile(ROOT / "examples" / name / "bob.py", tmp_path / "optimizers.py")
    done = subprocess.run([str(GRADER), "--course", str(ROOT), "check", name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1 and "adam" in done.stdout
    assert "\x1b[" not in done.stdout

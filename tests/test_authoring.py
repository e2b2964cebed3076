"""docs/authoring.md builds an assignment from nothing: its files and commands, run here in an empty course,
must do what the guide says they do."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

GUIDE = ROOT / "docs" / "authoring.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    """The guide's fenced blocks, (language, text), in order; nested fences (a block inside a list) too."""
    text = "\n".join(line.removeprefix("  ") for line in GUIDE.read_text(encoding="utf-8").splitlines()) + "\n"
    return [(lang, body) for lang, body in BLOCK.findall(text)]


def files() -> dict[str, str]:
    """Every block whose first line is ``# file: PATH``, blocks of one path joined in order."""
    out: dict[str, list[str]] = {}
    for _, body in blocks():
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            out.setdefault(first.removeprefix("# file: ").strip(), []).append(rest)
    return {path: "\n\n".join(parts) for path, parts in out.items()}


def commands() -> list[list[str]]:
    return [shlex.split(line) for lang, body in blocks() if lang == "sh" for line in body.splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """An empty course with the guide's files, after the guide's commands ran in it."""
    root = tmp_path_factory.mktemp("course")
    for path, text in files().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"} | {"GRADER_COURSE": str(root)}
    for command in commands():
        assert command[0] == "grader", command
        result = subprocess.run([sys.executable, "-m", "grader", *command[1:]], cwd=root, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{shlex.join(command)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return root


def reports(course: Path) -> dict[str, dict]:
    out = {}
    for path in (course / "graded").glob("*/report.json"):
        report = json.loads(path.read_text(encoding="utf-8"))
        out[report["submission"]] = report
    return out


def test_the_guide_writes_a_whole_assignment():
    written = files()
    for path in ("assignments/leaky_relu/assignment.toml", "assignments/leaky_relu/README.md",
                 "assignments/leaky_relu/checks/test_visible.py", "assignments/leaky_relu/checks/test_hidden.py",
                 "assignments/leaky_relu/checks/mistakes.py", "reference/leaky.py"):
        assert path in written, path
    assert [c[:2] for c in commands()] == [["grader", "assign"], ["grader", "grade"]]


def test_the_template_is_the_stub_and_the_visible_part(course):
    template = course / "template"
    stub = (template / "leaky.py").read_text(encoding="utf-8")
    assert "NotImplementedError" in stub and "np.where" not in stub
    assert (template / "leaky.ipynb").is_file()
    shipped = sorted(p.name for p in (template / "assignments" / "leaky_relu" / "checks").iterdir())
    assert shipped == ["test_visible.py"]


def test_the_reference_scores_100_the_stub_0_and_the_mutant_loses_its_checks(course):
    graded = reports(course)
    assert sorted(graded) == ["leaky", "leaky-2", "mallory"]  # two files named leaky.py get two ids, in order
    reference, stub, mallory = graded["leaky"], graded["leaky-2"], graded["mallory"]
    assert reference["score"] == reference["max_score"] == 100
    assert stub["score"] == 0
    assert all("not implemented yet" in c["message"] for c in stub["checks"])
    assert mallory["score"] == 30
    failed = {c["name"]: c["message"] for c in mallory["checks"] if c["status"] != "passed"}
    assert set(failed) == {"backward_matches_numerical", "values"}
    hint = "your values match the ReLU's gradient (0 below zero, the slope forgotten)"
    assert all(hint in message for message in failed.values()), failed

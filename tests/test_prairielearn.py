"""PrairieLearn: the question files `grader prairielearn` writes, and its entrypoint run in the grading
container's layout (a temporary folder standing for `/grade`, `$GRADER_PRAIRIELEARN_ROOT`), with this
checkout's grader standing in for the image's (`$GRADER_PYTHON`)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from conftest import ROOT
from pydantic import BaseModel, ConfigDict, Field

SECRET = "prairielearn-test-secret"
EXAMPLES = ROOT / "examples" / "optimizers"


class PLImage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = "Figure"
    url: str = Field(pattern=r"^data:image/png;base64,")


class PLTest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    points: float
    max_points: float
    message: str = ""
    output: str = ""
    images: list[PLImage] = []


class PLResults(BaseModel):
    """PrairieLearn's results.json as its external-grading documentation gives it."""
    model_config = ConfigDict(extra="allow")  # "any additional data" is allowed; execution_time is ours
    gradable: Literal[True]
    score: float = Field(ge=0, le=1)
    message: str
    output: str
    tests: list[PLTest]


def grader(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env or {**os.environ, "GRADER_SECRET": SECRET})


@pytest.fixture(scope="module")
def question(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("question")
    result = grader("--course", str(ROOT), "prairielearn", "optimizers", "--out", str(out), "--image", "me/grader:1")
    assert result.returncode == 0, result.stderr
    return out


def grade(question: Path, root: Path, files: dict[str, Path | bytes], assignment: str | None = None) -> dict:
    """One grading job: /grade laid out as PrairieLearn lays it out, the entrypoint run, the results read."""
    shutil.copytree(question / "serverFilesCourse", root / "serverFilesCourse")
    (root / "student").mkdir(parents=True)
    for name, content in files.items():
        target = root / "student" / name
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    entrypoint = root / "serverFilesCourse" / "grader" / "run.sh"
    if assignment:
        entrypoint.write_text(entrypoint.read_text().replace("prairielearn-run optimizers", f"prairielearn-run {assignment}"))
    env = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}  # the secret in the server files
    env |= {"GRADER_PRAIRIELEARN_ROOT": str(root), "GRADER_PYTHON": sys.executable,
            "GRADER_WORKER_VENV": str(ROOT / ".venv-worker")}  # the image's is /opt/grader-worker
    result = subprocess.run([str(entrypoint)], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    path = root / "results" / "results.json"
    assert path.stat().st_size < 1_000_000
    return json.loads(path.read_text())


def test_the_question_files_keep_secrets_in_the_server_files_and_out_of_the_image(question):
    info = json.loads((question / "info.json").read_text())["externalGradingOptions"]
    assert info == {"enabled": True, "image": "me/grader:1", "serverFilesCourse": ["grader/"],
                    "entrypoint": "/grade/serverFilesCourse/grader/run.sh", "timeout": 330}
    server = question / "serverFilesCourse" / "grader"
    assert (server / "run.sh").stat().st_mode & stat.S_IXUSR
    assert (server / "course" / "assignments" / "optimizers" / "checks" / "test_hidden.py").is_file()
    assert (server / "course" / "reference" / "optimizers.py").is_file()
    secret = server / "course" / ".grader" / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text().strip() == SECRET
    image_side = [p for p in (question / "package").rglob("*") if p.is_file()]
    assert (question / "package" / "grader" / "prairielearn.py").is_file()
    assert not [p for p in image_side if "reference" in p.parts or "assignments" in p.parts or p.name == "secret"]
    assert "torch==2.13.0" in (question / "Dockerfile").read_text()


@pytest.mark.parametrize("case, files, expected", [
    ("correct", {"alice.py": EXAMPLES / "alice.py"}, 1.0),
    ("one mistake", {"optimizers.py": EXAMPLES / "carol.py"}, None),
    ("corrupt zip", {"work.zip": b"PK\x03\x04 broken"}, 0.0),
    ("hostile", {"optimizers.py": ROOT / "tests" / "hostile" / "optimizers" / "environ_snoop.py"}, 0.0),
])
def test_the_entrypoint_writes_prairielearns_results_with_grader_grades_score(question, tmp_path, case, files, expected):
    data = grade(question, tmp_path / "grade", files)
    results = PLResults.model_validate(data)
    assert [t.name for t in results.tests][:2] == ["adagrad_matches_torch", "momentum_matches_torch"]
    assert len(results.tests) == 18 and sum(t.max_points for t in results.tests) == 100
    if expected is None:
        out = tmp_path / "grades"
        assert grader("grade", "optimizers", str(EXAMPLES / "carol.py"), "--out", str(out)).returncode == 0
        expected = json.loads((out / "carol" / "report.json").read_text())["score"] / 100
        assert 0 < expected < 1
    assert results.score == pytest.approx(expected) == pytest.approx(sum(t.points for t in results.tests) / 100)
    assert "Your code ran confined by: rlimits" in results.output
    assert SECRET not in json.dumps(data)  # the secret in the server files never reaches the student
    if case == "corrupt zip":
        assert "could not be loaded" in results.message and "work.zip is not a readable zip file" in results.message
    if case == "correct":
        pictures = [image for t in results.tests for image in t.images]
        assert pictures and all(base64.b64decode(p.url.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)


def test_the_same_files_draw_the_same_hidden_inputs(question, tmp_path):
    runs = [grade(question, tmp_path / f"grade{n}", {"optimizers.py": EXAMPLES / "dave.py"}) for n in range(2)]
    assert [t["message"] for t in runs[0]["tests"]] == [t["message"] for t in runs[1]["tests"]]


def test_when_the_grader_itself_fails_the_student_still_gets_results(question, tmp_path):
    data = grade(question, tmp_path / "grade", {"optimizers.py": EXAMPLES / "alice.py"}, assignment="nope")
    assert data["score"] == 0 and data["tests"] == [] and "The grader failed (UsageError)" in data["message"]

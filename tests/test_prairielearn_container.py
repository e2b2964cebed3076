"""PrairieLearn end to end, as PrairieLearn runs it: the image is built from the Dockerfile that
`grader prairielearn` writes (its steps run in a throwaway container, tests/container.py: there is no
Docker daemon here), then for each submission `/grade` is laid out as PrairieLearn lays it out (the
student's files in /grade/student, the question's server files in /grade/serverFilesCourse) and the
entrypoint named in info.json runs, with Docker's default capabilities (no CAP_SYS_ADMIN).

Each score must equal `grader grade`'s for the same files, and each results.json must be
PrairieLearn's format (tests/test_prairielearn.py's strict model).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, grader_grade_score
from container import EXCHANGE, available, dockerfile_script, run_in_container
from test_prairielearn import PLResults

from grader.course import load_assignment

SECRET = "prairielearn-container-secret"
EXAMPLES = ROOT / "examples" / "optimizers"
CASES: dict[str, dict[str, Path | bytes]] = {
    "correct": {"optimizers.py": EXAMPLES / "alice.py"},
    "one_mistake": {"optimizers.py": EXAMPLES / "bob.py"},
    "corrupt": {"work.zip": b"PK\x03\x04 this zip was cut short"},
    "hostile": {"optimizers.py": ROOT / "tests" / "hostile" / "optimizers" / "environ_snoop.py"},
}

RUN = r"""
X=/exchange
mkdir -p "$X/out"
entrypoint=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["externalGradingOptions"]["entrypoint"])' "$X/question/info.json")
for case in "$X"/cases/*/; do
    name=$(basename "$case")
    rm -rf /grade /tmp/* /tmp/.[!.]*
    mkdir -p /grade/student /grade/serverFilesCourse /grade/results
    cp -a "$X/question/serverFilesCourse/grader" /grade/serverFilesCourse/grader
    cp -a "$case/student/." /grade/student/
    start=$(date +%s.%N)
    cd /grade && rc=0 && $DROP_CAP_SYS_ADMIN "$entrypoint" > "$X/out/$name.log" 2>&1 || rc=$?
    echo "$rc $start $(date +%s.%N)" > "$X/out/$name.run"
    cp /grade/results/results.json "$X/out/$name.json"
done
ls /opt > "$X/opt.ls"
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """The exchange folder after the container ran: out/<case>.json, .run (exit status, start, end), .log."""
    reason = available()
    if reason:
        pytest.skip(f"a stand-in container {reason}")
    exchange = tmp_path_factory.mktemp("prairielearn-exchange")
    question = exchange / "question"
    built = subprocess.run([sys.executable, "-m", "grader", "--course", str(ROOT), "prairielearn", "optimizers",
                            "--out", str(question)], cwd=ROOT, env={**os.environ, "GRADER_SECRET": SECRET},
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    for case, files in CASES.items():
        folder = exchange / "cases" / case / "student"
        folder.mkdir(parents=True)
        for name, content in files.items():
            (folder / name).write_bytes(content.read_bytes() if isinstance(content, Path) else content)
    # `docker build` of the question's image, with pip's own index for torch (this machine's serves the CPU build)
    build = dockerfile_script((question / "Dockerfile").read_text(), f"{EXCHANGE}/question", {"TORCH_INDEX": ""})
    script = f"{{\n{build}}} > {EXCHANGE}/build.log 2>&1\n{RUN}"  # its ENV stays, as in the image
    result = run_in_container(script, base=tmp_path_factory.mktemp("container"), exchange=exchange)
    log = (exchange / "build.log").read_text() if (exchange / "build.log").exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr + log)[-4000:]
    return exchange


def test_the_image_holds_the_grader_and_its_workers_interpreter(graded):
    assert set((graded / "opt.ls").read_text().split()) >= {"grader", "grader-worker"}


@pytest.mark.parametrize("case", list(CASES))
def test_the_entrypoint_scores_as_grader_grade_does_in_prairielearns_format(graded, tmp_path, case):
    rc, start, end = (graded / "out" / f"{case}.run").read_text().split()
    log = (graded / "out" / f"{case}.log").read_text()
    assert rc == "0", log[-3000:]
    path = graded / "out" / f"{case}.json"
    assert path.stat().st_size < 1_000_000
    data = json.loads(path.read_text())
    results = PLResults.model_validate(data)
    expected = grader_grade_score("optimizers", CASES[case], tmp_path, SECRET)
    assert results.score == pytest.approx(expected / 100) == pytest.approx(sum(t.points for t in results.tests) / 100)
    spec = load_assignment("optimizers", ROOT).spec
    assert [t.name for t in results.tests] == list(spec.checks)
    assert all(t.max_points == spec.checks[t.name].points for t in results.tests)
    assert 0 < data["execution_time"] <= float(end) - float(start)
    assert "Your code ran confined by: rlimits, scrubbed-environment, unprivileged-uid." in results.output
    assert SECRET not in json.dumps(data) and SECRET not in log
    if case == "correct":
        assert results.score == 1 and results.message.startswith(f"{len(spec.checks)} of {len(spec.checks)} checks passed")
        assert [image for t in results.tests for image in t.images]  # the report's pictures
    if case == "one_mistake":
        assert 0 < results.score < 1 and all(t.message for t in results.tests if t.points < t.max_points)
    if case == "corrupt":
        assert "could not be loaded" in results.message and "work.zip is not a readable zip file" in results.message
    if case == "hostile":
        assert results.score == 0

"""Gradescope end to end, as Gradescope runs it: the zip `grader gradescope` builds is unpacked into a
fresh `/autograder` of a throwaway container (tests/container.py), its `setup.sh` installs everything
there from this machine's package index, and `/autograder/run_autograder` grades one submission at a
time, with Docker's default capabilities (no CAP_SYS_ADMIN: the sandbox's uid tier).

The submissions are a correct one, one with a single mistake, a corrupt zip and a hostile one that
hunts for the secret; each score must equal `grader grade`'s for the same files, and each
`results.json` must be Gradescope's format, field by field (tests/test_exports.py reads it with a
strict model).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, grader_grade_score
from container import available, run_in_container
from test_exports import read_gradescope

from grader.course import load_assignment

SECRET = "gradescope-container-secret"
EXAMPLES = ROOT / "examples" / "optimizers"
CASES: dict[str, dict[str, Path | bytes]] = {
    "correct": {"optimizers.py": EXAMPLES / "alice.py"},
    "one_mistake": {"my_optimizers.py": EXAMPLES / "bob.py"},
    "corrupt": {"hand-in.zip": b"PK\x03\x04 this zip was cut short"},
    "hostile": {"optimizers.py": ROOT / "tests" / "hostile" / "optimizers" / "environ_snoop.py"},
}

SCRIPT = r"""
X=/exchange
mkdir -p /autograder/source && cd /autograder/source && unzip -q "$X/autograder.zip"
cp /autograder/source/run_autograder /autograder/run_autograder
start=$(date +%s.%N)
GRADER_TORCH_INDEX= bash ./setup.sh > "$X/setup.log" 2>&1
echo "$start $(date +%s.%N)" > "$X/setup.seconds"
mkdir -p "$X/out"
for case in "$X"/cases/*/; do
    name=$(basename "$case")
    rm -rf /autograder/submission /autograder/results /autograder/submission_metadata.json /tmp/* /tmp/.[!.]*
    cp -a "$case/submission" /autograder/submission
    cp "$case/submission_metadata.json" /autograder/
    start=$(date +%s.%N)
    cd /autograder && rc=0 && $DROP_CAP_SYS_ADMIN /autograder/run_autograder > "$X/out/$name.log" 2>&1 || rc=$?
    echo "$rc $start $(date +%s.%N)" > "$X/out/$name.run"
    cp /autograder/results/results.json "$X/out/$name.json"
done
ls /autograder > "$X/autograder.ls"
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """The exchange folder after the container ran: out/<case>.json, .run (exit status, start, end), .log."""
    reason = available()
    if reason:
        pytest.skip(f"a stand-in container {reason}")
    exchange = tmp_path_factory.mktemp("gradescope-exchange")
    env = {**os.environ, "GRADER_SECRET": SECRET}
    built = subprocess.run([sys.executable, "-m", "grader", "--course", str(ROOT), "gradescope", "optimizers",
                            "--out", str(exchange / "autograder.zip")], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    for n, (case, files) in enumerate(CASES.items()):
        folder = exchange / "cases" / case / "submission"
        folder.mkdir(parents=True)
        for name, content in files.items():
            if isinstance(content, Path):
                shutil.copyfile(content, folder / name)
            else:
                (folder / name).write_bytes(content)
        metadata = {"id": 424200 + n, "created_at": "2026-12-07T12:00:00Z", "assignment": {"title": "optimizers"},
                    "users": [{"email": f"{case}@example.edu", "name": case}]}
        (folder.parent / "submission_metadata.json").write_text(json.dumps(metadata))
    result = run_in_container(SCRIPT, base=tmp_path_factory.mktemp("container"),
                              exchange=exchange)
    setup_log = (exchange / "setup.log").read_text() if (exchange / "setup.log").exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr + setup_log)[-4000:]
    return exchange


def test_setup_sh_installs_the_grader_and_torch_once_under_autograder(graded):
    assert set((graded / "autograder.ls").read_text().split()) >= {"run_autograder", "source", "venv",
                                                                    "worker-venv"}
    assert "error" not in (graded / "setup.log").read_text().lower()


@pytest.mark.parametrize("case", list(CASES))
def test_run_autograder_scores_as_grader_grade_does_in_gradescopes_format(graded, tmp_path, case):
    rc, start, end = (graded / "out" / f"{case}.run").read_text().split()
    log = (graded / "out" / f"{case}.log").read_text()
    assert rc == "0", log[-3000:]
    results = read_gradescope(graded / "out" / f"{case}.json")  # every field typed as Gradescope documents it
    data = json.loads((graded / "out" / f"{case}.json").read_text())
    assert results.score == grader_grade_score("optimizers", CASES[case], tmp_path, SECRET), results.output
    assert results.score == sum(t.score for t in results.tests)
    assert 0 < results.execution_time <= float(end) - float(start)
    spec = load_assignment("optimizers", ROOT).spec
    assert [t.name for t in results.tests] == list(spec.checks)
    assert all(t.max_score == spec.checks[t.name].points for t in results.tests)
    assert all(t.visibility == ("visible" if spec.checks[t.name].visibility == "visible" else "after_published")
               for t in results.tests)
    # Docker's default capabilities: no namespaces, so the workers ran as an unprivileged uid.
    assert "Your code ran confined by: rlimits, scrubbed-environment, unprivileged-uid." in results.output, results.output
    assert "namespace" not in results.output
    assert SECRET not in json.dumps(data) and SECRET not in log
    if case == "correct":
        assert results.score == 100 and all(t.status == "passed" for t in results.tests)
    if case == "one_mistake":
        assert 0 < results.score < 100
        assert "graded as optimizers.py" in results.output  # any file name is graded, and the note says so
        failed = [t for t in results.tests if t.status == "failed"]
        assert failed and all(t.output for t in failed)
    if case == "corrupt":
        assert results.score == 0 and "hand-in.zip is not a readable zip file" in results.output
    if case == "hostile":
        assert results.score == 0

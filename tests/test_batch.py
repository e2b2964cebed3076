"""Batches: the parallel pool, the gradebook that survives a SIGKILL, reruns, regrades, determinism."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, TEST_SECRET

from grader.batch import grade_all
from grader.course import load_assignment
from grader.grade import Job, grade_submission
from grader.pool import Settings, grade_local
from grader.sandbox import isolation

EXAMPLES = ROOT / "examples" / "optimizers"
EXPECTED = {"alice": 100.0, "bob": 78.0, "carol": 57.0, "dave": 71.0, "erin": 27.0, "frank": 0.0}


def _class(tmp_path: Path, copies: int) -> list[Path]:
    """``copies`` students per bundled example, as files named by student."""
    folder = tmp_path / "class"
    folder.mkdir()
    paths = []
    for k in range(copies):
        for example in sorted(EXAMPLES.glob("*.py")):
            target = folder / f"{example.stem}{k}.py"
            shutil.copyfile(example, target)
            paths.append(target)
    return paths


def _rows(db: Path) -> list[tuple[str, float]]:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT submission, score FROM grades ORDER BY submission").fetchall()
    except sqlite3.OperationalError:  # the file exists, its table not yet
        return []


def test_two_judges_give_the_scores_of_one(monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", TEST_SECRET.decode())
    settings = Settings("optimizers", str(ROOT), True, TEST_SECRET)
    jobs = [Job(p, p.stem) for p in sorted(EXAMPLES.glob("*.py"))]
    reports = []
    grade_local(settings, jobs, reports.append, workers=2)
    assert sorted(r.submission for r in reports) == sorted(EXPECTED)  # each exactly once
    assert {r.submission: r.score for r in reports} == EXPECTED
    assert all(r.protections == isolation.detect().protections for r in reports)


def test_the_same_submission_graded_twice_gives_the_same_report():
    task = load_assignment("optimizers", ROOT)
    first, second = (grade_submission(task, EXAMPLES / "bob.py", "bob", secret=TEST_SECRET) for _ in range(2))
    timing = {"graded_at", "seconds", "boundary_seconds"}

    def strip(report):
        data = report.model_dump(exclude=timing)
        for check in data["checks"]:
            check.pop("seconds")
        return data

    assert strip(first) == strip(second)
    other = grade_submission(task, EXAMPLES / "bob.py", "bob-twin", secret=TEST_SECRET)
    assert other.score == first.score  # another student's hidden inputs differ; the same code scores the same


def test_a_rerun_grades_only_what_is_missing_or_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", TEST_SECRET.decode())
    paths = [EXAMPLES / "alice.py", EXAMPLES / "bob.py"]
    out = tmp_path / "grades"
    first = grade_all(assignment="optimizers", submissions=paths, out=out, course=str(ROOT), workers=1)
    assert (first.graded, first.skipped) == (2, 0)
    again = grade_all(assignment="optimizers", submissions=paths, out=out, course=str(ROOT), workers=1)
    assert (again.graded, again.skipped) == (0, 2)
    assert [r.score for r in again.reports] == [100.0, 78.0]

    changed = tmp_path / "bob.py"  # bob fixes his file: only bob is graded again
    changed.write_text(EXAMPLES.joinpath("alice.py").read_text())
    third = grade_all(assignment="optimizers", submissions=[paths[0], changed], out=out, course=str(ROOT), workers=1)
    assert (third.graded, third.skipped) == (1, 1)
    assert {r.submission: r.score for r in third.reports} == {"alice": 100.0, "bob": 100.0}

    forced = grade_all(assignment="optimizers", submissions=paths, out=out, course=str(ROOT), workers=1, regrade=True)
    assert (forced.graded, forced.skipped) == (2, 0)
    assert _rows(out / "gradebook.sqlite") == [("alice", 100.0), ("bob", 78.0)]
    csv_lines = (out / "gradebook.csv").read_text().splitlines()
    assert [line.split(",")[:2] for line in csv_lines[1:]] == [["alice", "100.0"], ["bob", "78.0"]]


def test_a_batch_killed_halfway_finishes_when_run_again(tmp_path):
    paths = _class(tmp_path, 3)  # 18 submissions
    out = tmp_path / "grades"
    env = {**os.environ, "GRADER_SECRET": TEST_SECRET.decode()}
    command = [sys.executable, "-m", "grader", "--course", str(ROOT), "grade", "optimizers", *map(str, paths),
               "--out", str(out), "--workers", "2"]
    batch = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = out / "gradebook.sqlite"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and batch.poll() is None:
        if db.exists() and len(_rows(db)) >= 5:
            break
        time.sleep(0.05)
    assert batch.poll() is None, f"the batch ended before it could be killed: {batch.stderr.read().decode()[-2000:]}"
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    before = len(_rows(db))
    assert 5 <= before < len(paths), "killed half-way: some grades kept, some missing"

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{len(paths) - before} graded now, {before} unchanged" in " ".join(done.stdout.split())
    rows = _rows(db)
    assert len(rows) == len(paths) == len({sid for sid, _ in rows})  # every submission exactly once
    assert {sid: score for sid, score in rows} == {p.stem: EXPECTED[p.stem.rstrip("0123456789")] for p in paths}
    reports = sorted(out.glob("*/report.json"))
    assert sorted(p.parent.name for p in reports) == sorted(p.stem for p in paths)
    for path in reports:
        assert json.loads(path.read_text())["submission"] == path.parent.name
    # The killed run's judges and sandboxes died with it: no process of any sandbox uid is left.
    deadline = time.monotonic() + 10  # SIGKILLed judges' fork servers see their socket close and exit
    while (leftovers := _sandbox_pids()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leftovers


def _sandbox_pids() -> list[str]:
    return [e.name for e in os.scandir("/proc") if e.name.isdigit() and _uid(e.path) >= isolation.SANDBOX_UID_BASE]


def _uid(proc: str) -> int:
    try:
        return os.stat(proc).st_uid
    except OSError:
        return -1


TORCH_WORK = '''
import torch

def torch_work(n):
    a = torch.randn(n, n, dtype=torch.float64)
    b = torch.nn.functional.conv2d(torch.randn(1, 3, 32, 32), torch.randn(8, 3, 3, 3), padding=1)
    return [float((a @ a.T).trace()), float(b.abs().sum() > 0), torch.get_num_threads()]
'''


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandboxed", "unconfined"])
def test_torch_work_completes_in_a_child_of_the_warm_fork_server(tmp_path, sandbox):
    """The fork server imported torch and ran an op before forking; the child's own ops must not hang."""
    from grader.sandbox.process import Worker
    from grader.spec import Limits

    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "mod.py").write_text(TORCH_WORK)
    iso = isolation.detect() if sandbox else isolation.unconfined()
    worker = Worker(tmp_path / "work", "mod", Limits(), tmp_path / "out.log", isolation=iso)
    worker.start(time.monotonic() + 60)
    try:
        for n in (64, 300):
            trace, nonzero, threads = worker.call("torch_work", [n], {}, time.monotonic() + 20).value
            assert trace > 0 and nonzero == 1.0 and threads == 1
    finally:
        worker.stop()


def test_a_small_batch_starts_fewer_judges_by_default(monkeypatch):
    """A judge's start-up costs about what grading 24 submissions does: does the default give one
    judge per core for a class, and fewer for a handful, and never none?"""
    from grader import pool

    monkeypatch.setattr(pool.os, "sched_getaffinity", lambda _: set(range(8)))
    assert pool.default_workers() == 8
    assert [pool.default_workers(n) for n in (0, 1, 23, 24, 47, 48, 1000)] == [1, 1, 1, 2, 2, 3, 8]

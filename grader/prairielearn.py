"""Grading on PrairieLearn: the files of an externally graded question (``grader prairielearn``) and what
runs in its grading container (``grader prairielearn-run``).

PrairieLearn runs one container per submission from a Docker image the course names, with the
question's and the course's server files mounted under ``/grade``: the student's files in
``/grade/student``, the ``serverFilesCourse`` folders the question lists in
``/grade/serverFilesCourse``; the entrypoint must leave ``/grade/results/results.json``.

So the pieces go where their audience is:

* the **image** (``Dockerfile``) holds what is not secret: Python 3.11, ``torch==2.13.0`` (CPU),
  the grader and its dependencies, and the sandboxed workers' interpreter. It may be public.
* ``serverFilesCourse/grader/`` holds what is: every assignment's spec, checks and mistakes, every
  reference, the course secret, and ``run.sh``, the entrypoint. PrairieLearn never shows server
  files to students.
* ``info.json`` is the fragment to merge into the question's ``info.json``
  (``externalGradingOptions``: the image, the server files, the entrypoint, a timeout).

``run`` writes PrairieLearn's results format: ``score`` in [0, 1], ``message`` (how the visible
checks went, or why nothing could be graded), ``output`` (the notes on the files and the protections
that held), ``tests`` with ``name``, ``description``, ``points``, ``max_points``, ``message`` and the
check's pictures as PNG data URLs in ``images``, within PrairieLearn's 1 MB. Hidden checks are
listed with their points like the visible ones (PrairieLearn has no "after publication"); their
messages, like every hidden check's message here, name no hidden value. The hidden inputs derive
from the course secret and the submitted files, so a regrade of the same files draws the same ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from grader.course import course_secret, load_assignment
from grader.formatting import num
from grader.report import Report, write_atomic

ROOT_ENV = "GRADER_PRAIRIELEARN_ROOT"  # /grade, unless a test runs the steps somewhere else
MAX_RESULTS_BYTES = 1_000_000  # PrairieLearn's limit on results.json
IMAGE_BUDGET = 700_000  # bytes of pictures, leaving room for the text
SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache"})
IMAGE = "YOUR-DOCKERHUB-USER/grader:0.1"

DOCKERFILE = """\
# The grading image of a PrairieLearn question graded by `grader` (build it from this folder, which
# `grader prairielearn` wrote, and push it where PrairieLearn can pull it). It holds nothing secret:
# the checks, references and course secret reach the container as serverFilesCourse/grader/.
FROM python:3.11-slim
# Where the CPU build of torch comes from (empty: pip's own index, if it serves the CPU build).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# The sandboxed workers' interpreter: a venv any uid can read, with torch (CPU) first, numpy and scipy.
RUN python -m venv /opt/grader-worker \\
 && /opt/grader-worker/bin/pip install --quiet ${TORCH_INDEX:+--extra-index-url $TORCH_INDEX} torch==2.13.0 \\
 && /opt/grader-worker/bin/pip install --quiet numpy scipy
# The grader's: it sees the workers' packages through a .pth file, so torch is installed once.
COPY package/ /opt/grader-src/
RUN python -m venv /opt/grader \\
 && /opt/grader-worker/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \\
    > "$(/opt/grader/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/grader-worker.pth" \\
 && /opt/grader/bin/pip install --quiet /opt/grader-src && rm -rf /opt/grader-src
ENV GRADER_WORKER_VENV=/opt/grader-worker PATH=/opt/grader/bin:$PATH
"""

RUN_SH = """\
#!/bin/sh
# PrairieLearn's entrypoint for this question: grade /grade/student, write /grade/results/results.json.
HERE="$(cd "$(dirname "$0")" && pwd)"
# The workers drop to an unprivileged uid: the course files (checks, references, secret) must be root's only.
chmod -R go-rwx "$HERE" 2>/dev/null || true
export GRADER_WORKER_VENV="${{GRADER_WORKER_VENV:-/opt/grader-worker}}"
exec "${{GRADER_PYTHON:-/opt/grader/bin/python}}" -m grader --course "$HERE/course" prairielearn-run {assignment}
"""


def build(course: Path, assignment: str, out: Path, *, image: str = IMAGE) -> list[Path]:
    """Write the question's pieces for ``assignment`` under ``out``; the paths written."""
    task = load_assignment(assignment, course)
    secret = course_secret(course)
    package = Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    server = out / "serverFilesCourse" / "grader"
    for folder in (server, out / "package"):
        shutil.rmtree(folder, ignore_errors=True)
    ignore = shutil.ignore_patterns(*SKIPPED_PARTS, "*.pyc")
    shutil.copytree(course / "assignments", server / "course" / "assignments", ignore=ignore)
    shutil.copytree(course / "reference", server / "course" / "reference", ignore=ignore)
    (server / "course" / ".grader").mkdir(parents=True)
    secret_file = server / "course" / ".grader" / "secret"
    secret_file.write_bytes(secret + b"\n")
    secret_file.chmod(0o600)
    run_sh = server / "run.sh"
    run_sh.write_text(RUN_SH.format(assignment=task.name))
    run_sh.chmod(0o755)
    shutil.copytree(package, out / "package" / "grader", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        if (package.parent / name).is_file():
            shutil.copyfile(package.parent / name, out / "package" / name)
    (out / "Dockerfile").write_text(DOCKERFILE)
    timeout = min(600, max(30, int(task.spec.limits.submission_seconds) + 30))
    info = {"externalGradingOptions": {"enabled": True, "image": image, "serverFilesCourse": ["grader/"],
                                       "entrypoint": "/grade/serverFilesCourse/grader/run.sh", "timeout": timeout}}
    (out / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    return [out / "info.json", out / "Dockerfile", out / "package", server]


# --------------------------------------------------------------------------- in the container


def grade_root() -> Path:
    return Path(os.environ.get(ROOT_ENV, "/grade"))


def submission_id(student: Path) -> str:
    """``prairielearn-<sha256 of the submitted files>``: the same files, the same hidden inputs."""
    digest = hashlib.sha256()
    for path in sorted(p for p in student.rglob("*") if p.is_file() and not p.is_symlink()) if student.is_dir() else []:
        digest.update(str(path.relative_to(student)).encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"prairielearn-{digest.hexdigest()[:16]}"


def run(assignment: str, course: Path) -> int:
    """Grade ``/grade/student`` and write ``/grade/results/results.json``; always 0, always a results file."""
    root = grade_root()
    results = root / "results" / "results.json"
    started = time.monotonic()
    _write(results, _failure("Grading started but did not finish (stopped, or out of time or memory). "
                             "Please tell the course staff."))
    try:
        from grader.grade import grade_submission
        from grader.sandbox.isolation import detect

        task = load_assignment(assignment, course)
        student = root / "student"
        report = grade_submission(task, student, submission_id(student), secret=course_secret(course),
                                  isolation=detect())
        data = results_of(report, {name: c.description for name, c in task.spec.checks.items()})
        data["execution_time"] = round(time.monotonic() - started, 2)
        _write(results, data)
    except BaseException as exc:  # noqa: BLE001 - whatever happens, the student gets a results.json
        traceback.print_exc(file=sys.stderr)
        _write(results, _failure(f"The grader failed ({type(exc).__name__}); your submission was not graded. "
                                 "Please tell the course staff."))
        if isinstance(exc, KeyboardInterrupt):
            return 130
    return 0


def results_of(report: Report, descriptions: dict[str, str]) -> dict:
    """PrairieLearn's ``results.json`` for a report (see the module's docstring)."""
    from grader.drawing import pictures_within

    shown, left_out = pictures_within(report.checks, IMAGE_BUDGET)
    tests = []
    for check in report.checks:
        images = [{"label": str(figure.get("title", "Figure"))[:200], "url": url}
                  for figure, url in shown.get(check.name, [])]
        tests.append({"name": check.name, "description": descriptions.get(check.name, ""),
                      "points": check.points, "max_points": check.max_points,
                      "message": "" if check.status == "passed" else
                      check.message if check.status == "failed" else f"[{check.status}] {check.message}",
                      "output": "", "images": images})
    if report.load_error:
        message = f"Your submission could not be loaded, so no check could run:\n\n{report.load_error}"
    else:
        passed = sum(c.status == "passed" for c in report.checks)
        message = f"{passed} of {len(report.checks)} checks passed: {num(report.score)}/{num(report.max_score)} points."
    output = [f"- {note}" for note in report.notes]
    if left_out:
        output.append(f"- {left_out} pictures left out (PrairieLearn takes at most 1 MB of results)")
    if report.protections:
        output.append(f"Your code ran confined by: {', '.join(report.protections)}.")
    data = {"gradable": True, "score": round(report.score / report.max_score, 6) if report.max_score else 0.0,
            "message": message, "output": "\n".join(output), "tests": tests}
    while len(json.dumps(data)) > MAX_RESULTS_BYTES and any(t["images"] for t in tests):
        next(t for t in reversed(tests) if t["images"])["images"].pop()
    return data


def _failure(message: str) -> dict:
    return {"gradable": True, "score": 0.0, "message": message, "output": "", "tests": []}


def _write(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

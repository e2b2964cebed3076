"""Grading on Gradescope: the autograder zip (``grader gradescope``) and what runs in its container.

Gradescope builds one image per assignment from the zip a course uploads: it unpacks the zip into
``/autograder/source`` and runs ``setup.sh`` there, as root, once. For each submission it starts a
container from that image, puts the student's files in ``/autograder/submission`` and
``/autograder/submission_metadata.json``, runs ``/autograder/run_autograder`` and shows the student
``/autograder/results/results.json``.

The zip carries the course as this grader sees it: the ``grader`` package's source and
``pyproject.toml`` (``setup.sh`` installs the grader from them, not from PyPI), every assignment's
spec, checks and mistakes, every reference, and the course secret (``course/.grader/secret``): the
image holds exactly the course's version of all of them. None of it is in the student's view:
Gradescope shows students their results, never the image.

``run_autograder`` calls ``grader gradescope-run ASSIGNMENT``: ``run`` below. A submission's hidden
inputs derive from the course secret and its Gradescope submission id, so a regrade of the same
submission draws the same inputs. Whatever the submission is or does, a ``results.json`` is written:
a provisional one first ("grading did not finish"), replaced by the real one; an error of the
grader's own becomes a zero with a message that says so.
"""

from __future__ import annotations

import html
import json
import os
import stat
import sys
import time
import traceback
import zipfile
from pathlib import Path

from grader.course import course_secret, load_assignment
from grader.exports import gradescope_results
from grader.report import Report, write_atomic

ROOT_ENV = "GRADER_AUTOGRADER_ROOT"  # /autograder, unless a test runs the steps somewhere else
CARRIED = ("pyproject.toml", "README.md")
IMAGE_BUDGET = 2_000_000  # bytes of pictures in one results.json
SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache", ".git", ".venv", ".venv-worker"})

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the assignment's image: it installs the grader and its
# dependencies under /autograder. torch==2.13.0 (CPU) goes first, so pip never resolves a CUDA build;
# then the grader from the course files in this zip (course/), not from PyPI. $GRADER_PIP_ARGS adds
# pip options (an index of your own, say); $GRADER_TORCH_INDEX is where the CPU build of torch comes
# from (empty: pip's own index, as on a machine whose index serves the CPU build).
set -euo pipefail
AUTOGRADER="${GRADER_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "$0")" && pwd)"
TORCH_INDEX="${GRADER_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"
usable() {  # a Python >= 3.11 that can make a venv
    [ -n "$1" ] && "$1" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}
PYTHON="$(command -v python3.11 || true)"
usable "$PYTHON" || PYTHON="$(command -v python3 || true)"
if ! usable "$PYTHON"; then  # Gradescope's Ubuntu 22.04 image: Python 3.10 only
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
    PYTHON="$(command -v python3.11)"
fi
install() {  # $1: the venv; then pip's arguments
    venv="$1"; shift
    "$venv/bin/python" -m pip install --quiet ${GRADER_PIP_ARGS:-} "$@"
}
# The sandboxed workers' interpreter: a venv any uid can read, with torch (CPU), numpy and scipy.
"$PYTHON" -m venv "$AUTOGRADER/worker-venv"
install "$AUTOGRADER/worker-venv" ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} torch==2.13.0
install "$AUTOGRADER/worker-venv" numpy scipy
# The judge's: the grader and what it needs besides. It sees the workers' packages through a .pth
# file, so torch is installed once (the image is 900 MB smaller) and pip counts it as installed.
"$PYTHON" -m venv "$AUTOGRADER/venv"
site() { "$1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }
site "$AUTOGRADER/worker-venv" > "$(site "$AUTOGRADER/venv")/grader-worker-venv.pth"
install "$AUTOGRADER/venv" "$SOURCE/course"
# Grade the reference once, trusted: torch's trajectories and the pictures every correct submission
# shows are then computed and drawn in the image, not in each submission's container.
WARM="$(mktemp -d)"
"$AUTOGRADER/venv/bin/python" -m grader --course "$SOURCE/course" grade {assignment} \
    "$SOURCE/course/reference/{module}.py" --out "$WARM" --no-sandbox > /dev/null 2>&1 \
    || echo "warning: the reference did not grade; the caches stay cold"
rm -rf "$WARM"
chmod -R go-rwx "$SOURCE/course"  # the checks, references and secret: root's only
echo "grader installed in $AUTOGRADER/venv"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission; it always leaves /autograder/results/results.json.
AUTOGRADER="${{GRADER_AUTOGRADER_ROOT:-/autograder}}"
export GRADER_WORKER_VENV="$AUTOGRADER/worker-venv"
# The workers drop to an unprivileged uid: the course (checks, references, secret) must be root's only.
chmod -R go-rwx "$AUTOGRADER/source" 2>/dev/null || true
exec "$AUTOGRADER/venv/bin/python" -m grader --course "$AUTOGRADER/source/course" gradescope-run {assignment}
"""


def build(course: Path, assignment: str, out: Path) -> Path:
    """Write the autograder zip for ``assignment`` of ``course`` to ``out``; its path."""
    task = load_assignment(assignment, course)  # an unknown assignment or a broken spec stops here
    secret = course_secret(course)
    package = Path(__file__).resolve().parent
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "setup.sh", SETUP_SH.replace("{assignment}", task.name).replace("{module}", task.spec.module),
             executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.format(assignment=task.name), executable=True)
        for name in CARRIED:
            source = package.parent / name
            if source.is_file():
                _add(archive, f"course/{name}", source.read_bytes())
        _add_tree(archive, package, "course/grader")
        _add_tree(archive, course / "assignments", "course/assignments")
        _add_tree(archive, course / "reference", "course/reference")
        _add(archive, "course/.grader/secret", secret + b"\n", private=True)
    os.replace(tmp, out)
    return out


def _add(archive: zipfile.ZipFile, name: str, data: str | bytes, *, executable: bool = False,
         private: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | (0o600 if private else 0o755 if executable else 0o644)) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    """The files under ``folder`` (no caches, no links), under ``prefix`` in the zip, in path order."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in SKIPPED_PARTS for part in relative.parts) or path.is_symlink() or not path.is_file():
            continue
        _add(archive, f"{prefix}/{relative.as_posix()}", path.read_bytes())


# --------------------------------------------------------------------------- in the container


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_ENV, "/autograder"))


def submission_id(metadata: Path) -> str:
    """``gradescope-<id>`` from ``submission_metadata.json`` (the seed of the hidden inputs: a regrade of
    the same submission draws the same ones); ``gradescope-unknown`` without it."""
    try:
        value = json.loads(metadata.read_text(encoding="utf-8")).get("id")
    except (OSError, ValueError, AttributeError):
        return "gradescope-unknown"
    return f"gradescope-{value}" if isinstance(value, int | str) and str(value).isalnum() else "gradescope-unknown"


def run(assignment: str, course: Path) -> int:
    """Grade ``/autograder/submission`` and write ``/autograder/results/results.json``; always 0, and
    always a results file (the student sees it: Gradescope shows nothing useful for a crash)."""
    root = autograder_root()
    results = root / "results" / "results.json"
    started = time.monotonic()
    _write(results, _failure("Grading started but did not finish (the autograder was stopped, or ran out of "
                             "time or memory). Please tell the course staff.", 0.0))
    try:
        from grader.grade import grade_submission
        from grader.sandbox.isolation import detect

        task = load_assignment(assignment, course)
        report = grade_submission(task, root / "submission", submission_id(root / "submission_metadata.json"),
                                  secret=course_secret(course), isolation=detect())
        data = with_pictures(gradescope_results(report, task.spec), report)
        data["execution_time"] = round(time.monotonic() - started, 2)
        _write(results, data)
    except BaseException as exc:  # noqa: BLE001 - whatever happens, the student gets a results.json
        traceback.print_exc(file=sys.stderr)
        _write(results, _failure(f"The autograder failed ({type(exc).__name__}); your submission was not graded. "
                                 "Please tell the course staff.", time.monotonic() - started))
        if isinstance(exc, KeyboardInterrupt):
            return 130
    return 0


def with_pictures(data: dict, report: Report, budget: int = IMAGE_BUDGET) -> dict:
    """``data`` (Gradescope's results for ``report``) with each check's figures shown under its message.

    Gradescope renders a test's ``output`` as HTML when its ``output_format`` is ``html`` and shows
    images given as data URLs there, so a check with pictures gets an HTML output: its text escaped
    in a ``<pre>`` (as the text format shows it), then the pictures. Checks without pictures stay
    plain text. At most ``budget`` bytes of pictures, first checks first; how many were left out is
    said at the top.
    """
    from grader.drawing import pictures_within

    order = {test["name"]: i for i, test in enumerate(data["tests"])}  # the tests' order: first ones first
    checks = sorted((c for c in report.checks if c.name in order), key=lambda c: order[c.name])
    shown, left_out = pictures_within(checks, budget)
    for test in data["tests"]:
        pictures = []
        for figure, url in shown.get(test["name"], []):
            title = html.escape(str(figure.get("title", "Figure")), quote=True)
            pictures.append(f'<figure><img src="{url}" alt="{title}" style="max-width:100%">'
                            f"<figcaption>{title}</figcaption></figure>")
        if pictures:
            text = f'<pre style="white-space:pre-wrap">{html.escape(test["output"])}</pre>' if test["output"] else ""
            test["output"] = text + "".join(pictures)
            test["output_format"] = "html"
    if left_out:
        data["output"] += (f"\n\n{left_out} {'picture was' if left_out == 1 else 'pictures were'} left out: "
                           "the results had no room for them.")
    return data


def _failure(message: str, seconds: float) -> dict:
    return {"score": 0.0, "execution_time": round(seconds, 2), "output": message, "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def _write(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

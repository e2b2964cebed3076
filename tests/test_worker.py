"""A submission that crashes, hangs, cannot load or returns junk gets a report, and costs only its own checks."""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import checks_of, not_passed, reference_source, statuses, with_limits


def replace_function(source: str, name: str, body: str) -> str:
    """The reference with ``name`` redefined at the end of the module."""
    return source + f"\n\ndef {name}(theta, grad, state, lr, **hyper):\n" + "".join(
        f"    {line}\n" for line in body.splitlines())


@pytest.fixture
def fast(optimizers):
    return with_limits(optimizers, call_seconds=1.0, startup_seconds=5.0)


def test_a_hanging_function_times_out_and_costs_only_its_checks(grade, fast):
    """Does an adam that loops forever lose adam's checks as timeouts while every other check still passes?"""
    report = grade(fast, replace_function(reference_source(), "adam", "while True:\n    pass"), "hangs")
    adam = checks_of(fast, "adam")
    assert not_passed(report) == adam
    assert {statuses(report)[n] for n in adam} == {"timeout"}
    assert report.score == 100 - sum(fast.spec.checks[n].points for n in adam)


@pytest.mark.parametrize("body, words", [
    ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
    ("import os\nos._exit(0)", "exited (status 0)"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "SIGKILL"),
])
def test_a_crashing_function_costs_only_its_checks(grade, fast, body, words):
    """Does a worker that dies inside rmsprop cost rmsprop's checks only, with a message saying how it died?"""
    report = grade(fast, replace_function(reference_source(), "rmsprop", body), "crashes")
    assert not_passed(report) == checks_of(fast, "rmsprop")
    failed = [c for c in report.checks if c.status != "passed"]
    assert all(c.status == "error" and words in c.message for c in failed), failed[0].message


@pytest.mark.parametrize("body, words", [
    ("raise SystemExit(0)", "SystemExit"),
    ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    ("return {1, 2}", "cannot be graded"),
    ("import numpy as np\nreturn np.array([object()]), {}", "dtype object"),
    ("return theta - lr * grad", "pair (theta_new, state_new)"),
    ("return (theta - lr * grad)[:1], {}", "shape"),
])
def test_junk_and_exits_inside_a_call_are_that_checks_problem(grade, fast, body, words):
    """Do sys.exit, KeyboardInterrupt and unreadable or wrongly shaped results fail momentum's checks with a clear message?"""
    report = grade(fast, replace_function(reference_source(), "momentum", body), "junk")
    assert not_passed(report) == checks_of(fast, "momentum")
    assert all(words in c.message for c in report.checks if c.status != "passed")


@pytest.mark.parametrize("source, words", [
    ("def adam(:\n", "syntax error at line 1"),
    ("import numpy_that_does_not_exist\n", "ModuleNotFoundError"),
    ("import sys\nsys.exit(0)\n", "SystemExit"),
    ("raise RuntimeError('broken at import')\n", "broken at import"),
    ("", "does not define a function named"),
    ("\x00\x01\x02 binary junk", "could not be loaded"),
])
def test_a_submission_that_cannot_load_gets_zero_and_a_reason(grade, fast, source, words):
    """Does a file that fails to load, or defines nothing, get 0 with the reason in every check and no traceback?"""
    report = grade(fast, source, "broken")
    assert report.score == 0 and report.max_score == 100
    assert all(c.status == "error" and words in c.message for c in report.checks), report.checks[0].message


def test_import_that_never_finishes_times_out(grade, optimizers):
    """Does a submission that sleeps at import get timeouts, within the start-up deadline, not a hung grader?"""
    slow = with_limits(optimizers, startup_seconds=1.0)
    start = time.monotonic()
    report = grade(slow, "import time\ntime.sleep(600)\n", "sleeps")
    assert time.monotonic() - start < 30
    assert report.score == 0 and {c.status for c in report.checks} == {"timeout"}


def test_a_missing_function_costs_only_its_checks(grade, optimizers):
    """Does a file without warmup_cosine_lr lose exactly the schedule's checks?"""
    source = reference_source().split("def warmup_cosine_lr")[0]
    report = grade(optimizers, source, "no_schedule")
    assert not_passed(report) == checks_of(optimizers, "warmup_cosine_lr")
    assert all("does not define a function named warmup_cosine_lr" in c.message
               for c in report.checks if c.status != "passed")


def test_output_is_captured_and_truncated(grade, optimizers):
    """Is what a submission prints kept in the report, cut to the spec's limit?"""
    small = with_limits(optimizers, output_bytes=1000)
    report = grade(small, reference_source() + "\nprint('hello from import')\nprint('x' * 100000)\n", "chatty")
    assert report.score == 100
    assert report.output.startswith("hello from import") and "bytes cut" in report.output
    assert len(report.output) < 1100


def test_the_judge_never_imports_student_code(grade, optimizers):
    """After a grade, is there no module in the judge that came from the submission?"""
    report = grade(optimizers, reference_source(), "optimizers")
    assert report.score == 100
    assert "optimizers" not in sys.modules
    assert not [m for m in list(sys.modules.values()) if "grader-optimizers" in (getattr(m, "__file__", "") or "")]


def test_processes_a_submission_starts_are_killed(grade, optimizers):
    """Is a child process the submission started (same session or a new one) gone when its grade ends?"""
    source = reference_source() + ("\nimport subprocess\np = subprocess.Popen(['sleep', '600'])\n"
                                   "q = subprocess.Popen(['sleep', '601'], start_new_session=True)\n")
    grade(optimizers, source, "spawns")
    time.sleep(0.2)
    survivors = [p for p in Path("/proc").glob("[0-9]*") if _cmdline(p) in ("sleep 600", "sleep 601")]
    assert not survivors, f"processes started by the submission are still alive: {survivors}"


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def test_zip_folder_and_corrupt_submissions(grade, optimizers, tmp_path):
    """Are a zip and a folder graded like the file inside them, and a corrupt zip a zero with a message?"""
    folder = tmp_path / "dana"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "optimizers.py").write_text(reference_source())
    assert grade(optimizers, folder, "dana").score == 100

    archive = tmp_path / "eve.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(folder / "src" / "optimizers.py", "eve/optimizers.py")
        z.writestr("../../escape.py", "print('never written')")
    assert grade(optimizers, archive, "eve").score == 100
    assert not (tmp_path.parent / "escape.py").exists()

    corrupt = tmp_path / "frank.zip"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    report = grade(optimizers, corrupt, "frank")
    assert report.score == 0 and "not a readable zip" in report.load_error

    empty = tmp_path / "gina"
    empty.mkdir()
    report = grade(optimizers, empty, "gina")
    assert report.score == 0 and "the folder gina is empty" in report.checks[0].message



def test_torch_imports_under_the_memory_limit_and_a_hog_does_not(grade, fast):
    """Can a submission import torch within the address-space limit, while one that allocates 16 GB fails its checks?"""
    source = reference_source() + "\nimport torch\n"
    hog = replace_function(source, "adagrad", "import numpy as np\nreturn np.ones(2 * 1024**3), {}")
    report = grade(fast, hog, "hog")
    assert not_passed(report) == checks_of(fast, "adagrad")
    assert all("MemoryError" in c.message for c in report.checks if c.status != "passed")


def test_the_cpu_limit_stops_a_busy_loop(grade, optimizers):
    """Is a busy loop stopped by the CPU-time rlimit (before the wall-clock deadline), costing only its checks?"""
    limited = with_limits(optimizers, cpu_seconds=1, call_seconds=20)
    report = grade(limited, replace_function(reference_source(), "warmup_cosine_lr", "while True:\n    pass"), "busy")
    assert not_passed(report) == checks_of(limited, "warmup_cosine_lr")
    assert all("CPU time limit" in c.message for c in report.checks if c.status != "passed")


def test_a_check_can_require_a_value_error(optimizers, tmp_path):
    """Does expect_raises accept the student's ValueError (or a subclass) and fail on another exception or none?"""
    from grader.errors import StudentError
    from grader.sandbox.proxy import Student
    from grader.testing import expect_raises

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "optimizers.py").write_text(
        "class Bad(ValueError):\n    pass\n"
        "def gd(kind, *a):\n"
        "    if kind == 'value': raise Bad('fan_in needs 2 dims')\n"
        "    if kind == 'type': raise TypeError('no')\n"
        "    return 1\n")
    student = Student(tmp_path / "sub", optimizers.spec, tmp_path / "out.log")
    try:
        assert "fan_in needs 2 dims" in expect_raises(ValueError, lambda: student.gd("value"), "gd")
        with pytest.raises(AssertionError, match="should raise ValueError, but it raised TypeError"):
            expect_raises(ValueError, lambda: student.gd("type"), "gd")
        with pytest.raises(AssertionError, match="should raise ValueError, but it returned 1"):
            expect_raises(ValueError, lambda: student.gd("none"), "gd")
        with pytest.raises(StudentError):
            student.gd("type")
    finally:
        student.close()

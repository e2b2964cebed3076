"""Grading one submission: stage it, run the checks in the judge against a worker, build the report."""

from __future__ import annotations

import ast
import gc
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.course import Assignment, course_secret
from grader.errors import SpecError
from grader.plugin import JudgePlugin, RunChecks
from grader.report import CheckResult, Report
from grader.sandbox import forkserver
from grader.sandbox.isolation import Isolation, detect
from grader.sandbox.proxy import Student
from grader.submission import StagingError, mention, stage

JUDGE_INI = Path(__file__).with_name("judge.ini")


@dataclass(frozen=True)
class Job:
    """One submission to grade: where it is and its id (the name of its report folder); ``problem``, when
    it is known before grading that it cannot be staged (``intake.Found.problem``), says why."""

    path: Path
    submission: str
    problem: str | None = None


def grade_submission(assignment: Assignment, path: Path, submission: str, *, visible_only: bool = False,
                     secret: bytes | None = None, isolation: Isolation | None = None) -> Report:
    """Grade one submission. Whatever the submission is or does, a ``Report`` comes back;
    only the instructor's mistakes (``SpecError``) raise. The one fork server it needs (with torch if
    its files mention torch) starts first, while the checks import what they import."""
    reports: list[Report] = []
    torch = mention([path], b"torch")
    grade_stream(assignment, [Job(path, submission)], reports.append, visible_only=visible_only, secret=secret,
                 isolation=isolation, prestart_torch=torch, prestart_light=not torch)
    return reports[0]


def grade_stream(assignment: Assignment, jobs: Iterable[Job], on_report: Callable[[Report], None], *,
                 visible_only: bool = False, secret: bytes | None = None, isolation: Isolation | None = None,
                 prestart_torch: bool = False, prestart_light: bool = True, explain: bool = False) -> None:
    """Grade each job in turn in one pytest session, handing each report to ``on_report`` as it is done.
    ``prestart_torch``: start the fork server with torch now too (some submission mentions torch);
    ``prestart_light``: the one without torch (unless no submission will need it). Either starts on
    first need anyway.

    ``jobs`` may be lazy (a queue the pool feeds). A submission that breaks anything gets a report
    with the reason; a bug of the grader's own becomes a zero report that says so, and the stream goes
    on. ``SpecError`` (the instructor's mistake) and ``KeyboardInterrupt`` stop it."""
    isolation = isolation or detect()
    secret = secret or course_secret(assignment.course)
    if prestart_light:
        forkserver.prestart(isolation, max(1, assignment.spec.limits.file_bytes >> 20))
    if prestart_torch:
        forkserver.prestart(isolation, max(1, assignment.spec.limits.file_bytes >> 20), with_torch=True)

    def driver(run: RunChecks) -> None:
        for n, job in enumerate(jobs):
            if n == 1:
                _freeze_heap()
            try:
                report = _grade_one(assignment, job, run, isolation)
            except SpecError:
                raise
            except Exception as exc:  # our own bug must not cost the other students their grades
                traceback.print_exc(file=sys.stderr)
                report = failed_report(assignment, job.submission, "the grader failed on this submission "
                                       f"({type(exc).__name__}); please tell the course staff")
            on_report(report)
        forkserver.settle_all()  # the last child is gone when the stream returns

    run_checks(assignment, JudgePlugin(assignment, secret, driver, visible_only=visible_only, explain=explain))


def _freeze_heap() -> None:
    """Before a stream's second submission, once the first has imported whatever the checks import
    lazily (``torch._dynamo`` on a first ``torch.optim`` step): collect, then move everything alive
    into the collector's permanent generation. A full collection then walks what the submissions
    allocate, not the 300,000 objects of torch, NumPy and pytest, whose walks took 15 to 140 ms each,
    several per submission."""
    gc.collect()
    gc.freeze()


def _grade_one(assignment: Assignment, job: Job, run: RunChecks, isolation: Isolation) -> Report:
    started = time.monotonic()
    spec = assignment.spec
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        workdir, output = Path(tmp) / "work", Path(tmp) / "output.log"
        load_error, notes, source = None, [], b""
        try:
            if job.problem:
                raise StagingError(job.problem)
            staged = stage(job.path, spec.module, workdir)
            notes = list(staged.notes)  # a notebook's cells that will not run, and why
            # Parsing runs no code: a syntax error is reported without starting a worker.
            source = staged.module_file.read_bytes()
            ast.parse(source, filename=staged.module_file.name)
        except StagingError as exc:
            load_error = str(exc)
        except SyntaxError as exc:
            load_error = _not_text(source, spec.module) or (f"{spec.module}.py could not be loaded: syntax error "
                                                            f"at line {exc.lineno}: {exc.msg}")
        except ValueError as exc:  # a file with NUL bytes, on Pythons that raise ValueError for it
            load_error = _not_text(source, spec.module) or f"{spec.module}.py could not be loaded: {exc}"

        student = Student(workdir, spec, output, load_error=load_error, isolation=isolation)
        try:
            checks = run(student, job.submission)
        finally:
            student.close()
        # What failed at import (a notebook's statements), from the worker's hello. Student (proxy.py) has
        # no public handle on its worker, and its __getattr__ makes any other name a student function.
        notes += student.notes
        return Report.from_checks(
            assignment=assignment.name, submission=job.submission, checks=checks,
            load_error=load_error or student.load_failure, output=_read_output(output, spec.limits.output_bytes),
            protections=isolation.protections, notes=notes,
            seconds=round(time.monotonic() - started, 4), boundary_seconds=round(student.ipc_seconds, 4),
        )


def _not_text(source: bytes, module: str) -> str | None:
    """Why ``source`` cannot be Python text, when the reason is its encoding: Python reads UTF-8 unless a
    coding line says otherwise, and a file saved as Latin-1 or UTF-16 fails with a cryptic message."""
    if b"\0" in source and source[:2] not in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 is half NULs
        line = source[:source.index(b"\0")].count(b"\n") + 1
        return f"{module}.py could not be loaded: it holds a NUL byte (line {line}), so it is not a text file"
    try:
        source.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        if re.match(rb"^[ \t\f]*#.*?coding[:=]", b"\n".join(source.split(b"\n", 2)[:2]), re.M):
            return None  # a declared encoding: Python's own message says what is wrong
        line = source[:exc.start].count(b"\n") + 1
        hint = " (it looks like UTF-16)" if source[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        return (f"{module}.py could not be loaded: it is not UTF-8 text{hint}: byte 0x{source[exc.start]:02x} "
                f"at line {line} is not UTF-8. Save the file as UTF-8 (most editors: File > Save with Encoding)")


def run_checks(assignment: Assignment, plugin: JudgePlugin) -> None:
    """Run the assignment's checks with pytest in this process, under the judge's own configuration."""
    args = [str(assignment.checks_dir), "-c", str(JUDGE_INI), "--rootdir", str(assignment.folder),
            "--noconftest", "--assert=plain", "--import-mode=importlib", "-p", "no:cacheprovider",
            "-p", "no:terminal", "-p", "no:pastebin", "-p", "no:nose", "-p", "no:doctest",
            "-p", "no:logging",  # the checks do not log; its handlers cost a few ms per submission
            # They report exceptions raised in __del__ and in threads, none of which the checks start,
            # and at the session's end run the collector five times over torch's heap: 0.2 s of every judge.
            "-p", "no:unraisableexception", "-p", "no:threadexception",
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    with _plugin_autoload_disabled():
        try:
            code = pytest.main(args, plugins=[plugin])
        finally:
            _forget_check_modules(assignment.checks_dir)
    if plugin.error is not None:
        raise plugin.error
    if plugin.setup_errors:
        raise SpecError(f"the checks of {assignment.name!r} cannot run: {plugin.setup_errors[0]}")
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise SpecError(f"the checks of {assignment.name!r} cannot run: pytest exited with {code!r}")


def _forget_check_modules(checks_dir: Path) -> None:
    """pytest's importlib mode reuses a module of the same name from ``sys.modules``: without this,
    another assignment's (or another course's) ``checks/test_hidden.py`` could stand in for ours."""
    root = str(checks_dir.resolve()) + os.sep
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(root):
            del sys.modules[name]


@contextmanager
def _plugin_autoload_disabled():
    """No installed pytest plugin joins the judge's session, and no assertion rewriter of a pytest
    that embeds the judge (a test suite) rewrites the checks: their messages are the same everywhere."""
    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    rewriters = [f for f in sys.meta_path if type(f).__name__ == "AssertionRewritingHook"]
    for finder in rewriters:
        sys.meta_path.remove(finder)
    try:
        yield
    finally:
        sys.meta_path[:0] = rewriters
        if old is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old


def _read_output(path: Path, limit: int) -> str:
    """The head and the tail of the captured output, within ``limit`` bytes."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            if size <= limit:
                data = f.read()
            else:
                head = f.read(limit // 2)
                f.seek(size - limit // 2)
                data = head + f"\n[... {size - limit} bytes cut ...]\n".encode() + f.read()
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def failed_report(assignment: Assignment, submission: str, message: str) -> Report:
    """A report for a submission the grader could not grade at all: every check at zero, with why."""
    checks = [CheckResult(name=name, status="error", points=0.0, max_points=c.points, message=message,
                          visibility=c.visibility) for name, c in assignment.spec.checks.items()]
    return Report.from_checks(assignment=assignment.name, submission=submission, checks=checks, load_error=message)


__all__ = ["Job", "grade_submission", "grade_stream", "failed_report", "run_checks"]

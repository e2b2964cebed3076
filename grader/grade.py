"""The judge: one pytest session that grades a stream of submissions against the assignment's checks.

For each submission it stages the file, starts a worker (the student's code, sandboxed, in another
process) and runs every collected check against it, then builds the report. The plugin gives checks
their fixtures (``student``, ``reference``, ``reference_of``, ``rng``, ``public_rng``, ``spec``), ties each
collected test to its entry in the spec (a test without an entry, or an entry without a test, is the
instructor's mistake and stops the run), and turns every outcome into a ``CheckResult``.

The checks are collected once per session and run once per submission (as pytest-xdist's workers run the
items a controller sends them): a submission costs its checks, not a pytest start-up and a collection.
"""

from __future__ import annotations

import ast
import gc
import os
import re
import sys
import tempfile
import time
import traceback
import zlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from _pytest.runner import runtestprotocol

from grader import eager_torch, figures
from grader.course import Assignment, course_secret, derive_seed, load_assignment
from grader.errors import SpecError, StudentFault
from grader.report import CheckResult, Report, failed_report
from grader.sandbox import forkserver, heap
from grader.sandbox.isolation import Isolation, detect
from grader.sandbox.proxy import Student
from grader.submission import StagingError, mention, not_text, stage

JUDGE_INI = Path(__file__).with_name("judge.ini")
HIDDEN_ONLY_FIXTURES = ("reference", "reference_of", "rng")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\b\d+[eE][-+]?\d+")
_ANY_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")  # not the 2 of conv2d



@dataclass(frozen=True)
class Job:
    """One submission to grade: where it is and its id (the name of its report folder); ``problem``, when
    it is known before grading that it cannot be staged (``intake.Found.problem``), says why."""

    path: Path
    submission: str
    problem: str | None = None


def grade_submission(assignment: Assignment, path: Path, submission: str, *, visible_only: bool = False,
                     secret: bytes | None = None, isolation: Isolation | None = None,
                     only: frozenset[str] | None = None) -> Report:
    """Grade one submission. Whatever the submission is or does, a ``Report`` comes back;
    only the instructor's mistakes (``SpecError``) raise. The one fork server it needs (with torch if
    its files mention torch) starts first, while the checks import what they import. ``only``: these
    checks alone (a notebook's ``check("adam")``), the others neither run nor reported."""
    reports: list[Report] = []
    torch = mention([path], b"torch")
    grade_stream(assignment, [Job(path, submission)], reports.append, visible_only=visible_only, secret=secret,
                 isolation=isolation, prestart_torch=torch, prestart_light=not torch, only=only)
    return reports[0]


def grade_stream(assignment: Assignment, jobs: Iterable[Job], on_report: Callable[[Report], None], *,
                 visible_only: bool = False, secret: bytes | None = None, isolation: Isolation | None = None,
                 prestart_torch: bool = False, prestart_light: bool = True, explain: bool = False,
                 only: frozenset[str] | None = None) -> None:
    """Grade each job in turn in one pytest session, handing each report to ``on_report`` as it is done.
    ``prestart_torch``: start the fork server with torch now too (some submission mentions torch);
    ``prestart_light``: the one without torch (unless no submission will need it). Either starts on
    first need anyway.

    ``jobs`` may be lazy (a queue the pool feeds). A submission that breaks anything gets a report
    with the reason; a bug of the grader's own becomes a zero report that says so, and the stream goes
    on. ``SpecError`` (the instructor's mistake) and ``KeyboardInterrupt`` stop it."""
    heap.keep_freed_memory()  # the checks' arrays reuse freed pages (see grader/sandbox/heap.py)
    isolation = isolation or detect()
    secret = secret or course_secret(assignment.course)
    if prestart_light:
        forkserver.prestart(isolation, max(1, assignment.spec.limits.file_bytes >> 20))
    if prestart_torch:
        forkserver.prestart(isolation, max(1, assignment.spec.limits.file_bytes >> 20), with_torch=True)

    run_checks(assignment, JudgePlugin(assignment, secret, jobs, on_report, isolation, visible_only=visible_only,
                                       explain=explain, only=only))


def _freeze_heap() -> None:
    """Before a stream's second submission, once the first has imported whatever the checks import
    lazily (``torch._dynamo`` on a first ``torch.optim`` step): collect, then move everything alive
    into the collector's permanent generation. A full collection then walks what the submissions
    allocate, not the 300,000 objects of torch, NumPy and pytest, whose walks took 15 to 140 ms each,
    several per submission."""
    gc.collect()
    gc.freeze()


def check_name(item: pytest.Item) -> str:
    name = getattr(item, "originalname", None) or item.name
    return name.removeprefix("test_")


@dataclass
class _Outcome:
    status: str = "passed"
    message: str = ""
    seconds: float = 0.0
    ran: bool = False
    figures: list[dict] = field(default_factory=list)


@dataclass(eq=False)  # hashed by identity: pytest keeps its plugins in sets (8.0 to 9.0 hash them)
class JudgePlugin:
    assignment: Assignment
    secret: bytes
    jobs: Iterable[Job]  # graded in turn, in the session (a lazy queue the pool feeds, or a list)
    on_report: Callable[[Report], None]  # each report the moment it is done
    isolation: Isolation
    visible_only: bool = False
    explain: bool = False  # an internal error's message says what it is (the reference's preflight; never a student's)
    only: frozenset[str] | None = None  # these checks alone (with visible_only, of the visible ones)
    student: Student | None = None  # the submission being graded, and its id
    submission: str = ""
    outcomes: dict[str, _Outcome] = field(default_factory=dict)
    setup_errors: list[str] = field(default_factory=list)  # the instructor's: bad spec, broken check file
    error: BaseException | None = None  # raised while grading (Ctrl-C, a SpecError): re-raised after the session
    _reference: object = None
    _items: list = field(default_factory=list)

    # --------------------------------------------------------------------------- the session

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if self.setup_errors or session.testsfailed:
            return True
        self._items = list(session.items)
        eager_torch.install()  # the checks imported torch, if they use it: torch.optim without torch._dynamo
        try:
            self._grade_all()
        except BaseException as exc:  # noqa: BLE001 - pytest would swallow it into an exit code
            self.error = exc
        return True

    def _grade_all(self) -> None:
        """Each job in turn, its report to ``on_report``; our own bug in one costs that submission alone."""
        for n, job in enumerate(self.jobs):
            if n == 1:
                _freeze_heap()
            try:
                report = self._grade_one(job)
            except SpecError:
                raise
            except Exception as exc:  # our own bug must not cost the other students their grades
                traceback.print_exc(file=sys.stderr)
                report = failed_report(self.assignment, job.submission, "the grader failed on this submission "
                                       f"({type(exc).__name__}); please tell the course staff")
            self.on_report(report)
        forkserver.settle_all()  # the last child is gone when the stream returns

    def _grade_one(self, job: Job) -> Report:
        assignment, isolation = self.assignment, self.isolation
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
                load_error = not_text(source, spec.module) or (f"{spec.module}.py could not be loaded: syntax error "
                                                                f"at line {exc.lineno}: {exc.msg}")
            except ValueError as exc:  # a file with NUL bytes, on Pythons that raise ValueError for it
                load_error = not_text(source, spec.module) or f"{spec.module}.py could not be loaded: {exc}"

            student = Student(workdir, spec, output, load_error=load_error, isolation=isolation)
            try:
                checks = self.run(student, job.submission)
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

    def run(self, student: Student, submission: str) -> list[CheckResult]:
        """Run every collected check against one submission; its results in the spec's order."""
        self.student, self.submission = student, submission
        self.outcomes = {check_name(item): _Outcome() for item in self._items}
        try:
            for i, item in enumerate(self._items):
                item._initrequest()  # fresh fixtures for this run of the item (as pytest-rerunfailures does)
                runtestprotocol(item, nextitem=self._items[i + 1] if i + 1 < len(self._items) else None, log=False)
        finally:
            self.student = None
        return self.results()

    # ------------------------------------------------------------------------------ fixtures

    @pytest.fixture
    def spec(self):
        return self.assignment.spec

    @pytest.fixture(name="student")
    def student_fixture(self, request):
        self.student.allowed = frozenset(self.assignment.spec.checks[check_name(request.node)].functions)
        yield self.student
        self.student.settle()  # whatever this check's requests still do in the worker is this check's
        self.student.allowed = None

    @pytest.fixture
    def reference(self):
        if self._reference is None:
            self._reference = self.assignment.load_reference()
        return self._reference

    @pytest.fixture
    def reference_of(self):
        """Another assignment's reference, by assignment name: ``reference_of("optimizers").adam``."""
        return lambda name: load_assignment(name, self.assignment.course).load_reference()

    @pytest.fixture
    def rng(self, request) -> np.random.Generator:
        """Hidden inputs: seeded from the course secret, the assignment, the submission and the check."""
        return np.random.default_rng(derive_seed(self.secret, self.assignment.name, self.submission, request.node.name))

    @pytest.fixture
    def public_rng(self, request) -> np.random.Generator:
        """Inputs of visible checks: the same for everyone, so students can reproduce them."""
        return np.random.default_rng(zlib.crc32(f"{self.assignment.name}/{request.node.name}".encode()))

    # --------------------------------------------------------------------------------- hooks

    def pytest_collectreport(self, report):
        if report.failed:
            self.setup_errors.append(f"{report.nodeid}: {report.longreprtext}")

    def pytest_collection_modifyitems(self, config, items):
        try:
            self._select(config, items)
        except SpecError as exc:
            self.setup_errors.append(str(exc))
            config.hook.pytest_deselected(items=list(items))
            items[:] = []

    def _select(self, config, items):
        checks = self.assignment.spec.checks
        where = self.assignment.checks_dir
        names = set()
        for item in items:
            name = check_name(item)
            if name not in checks:
                raise SpecError(f"{item.nodeid} in {where} has no entry [checks.{name}] in the spec")
            names.add(name)
            if checks[name].visibility == "visible":
                leaks = [f for f in HIDDEN_ONLY_FIXTURES if f in item.fixturenames]
                if leaks:
                    raise SpecError(f"visible check {name} uses hidden-only fixtures {leaks}")
        # A student's copy of an assignment (student_template/assignments/) has no hidden checks: only
        # the checks that will run must be there.
        missing = sorted(n for n in set(checks) - names if self._wanted(n))
        if missing:
            raise SpecError(f"checks {missing} are in the spec but no test_<name> for them in {where}")
        if self.visible_only or self.only is not None:
            keep = [i for i in items if self._wanted(check_name(i))]
            config.hook.pytest_deselected(items=[i for i in items if i not in keep])
            items[:] = keep

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        """Run the check's body collecting the figures it records (``grader.figures``), kept for its result."""
        with figures.collecting() as recorded:
            try:
                return (yield)
            finally:
                hidden = self.assignment.spec.checks[check_name(item)].visibility == "hidden"
                kept = self.outcomes[check_name(item)].figures
                kept.extend(figures.shown(recorded, hidden)[:figures.MAX_FIGURES - len(kept)])

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        """Record the outcome and answer with a short report: pytest's own failure formatting
        (source listings of every frame) costs about 0.3 s per failed check, which we never show."""
        outcome = self.outcomes[check_name(item)]
        outcome.seconds += call.duration
        outcome.ran = True
        result, longrepr = "passed", None
        if call.excinfo is not None:
            hidden = self.assignment.spec.checks[check_name(item)].visibility == "hidden"
            status, message = self._classify(item, call.excinfo, hidden)
            if outcome.status == "passed":
                outcome.status, outcome.message = status, message
            result, longrepr = "failed", f"{status}: {message}"
        return pytest.TestReport(item.nodeid, item.location, dict.fromkeys(item.keywords, 1), result, longrepr, call.when,
                          duration=call.duration, start=call.start, stop=call.stop)

    def _classify(self, item, excinfo, hidden: bool) -> tuple[str, str]:
        exc = excinfo.value
        if isinstance(exc, StudentFault):
            message = str(exc)
            return exc.status, _NUMBER.sub("…", message) if hidden else message
        if isinstance(exc, (AssertionError, pytest.fail.Exception)):
            message = (exc.msg if isinstance(exc, pytest.fail.Exception) else str(exc)) or "the check failed"
            if hidden and item.get_closest_marker("safe_messages") is None:
                # Its author has not vouched for its messages: a number in one may be a secret input or an
                # expected value (``assert got == want, f"expected {want}"``), so none is shown.
                return "failed", _ANY_NUMBER.sub("…", message)
            return "failed", message
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        print(f"grader: internal error in check {item.nodeid}:\n{detail}", file=sys.stderr)
        if self.explain:  # the instructor's mistake, for the instructor: the exception and where the check raised it
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(self.assignment.folder))]
            where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            if isinstance(exc, pytest.FixtureLookupError):
                return "error", (f"the check asks for a fixture {exc.argname!r}, which does not exist (the judge's are "
                                 "student, reference, reference_of, rng, public_rng and spec)")
            return "error", f"the grader failed inside this check{where}: {type(exc).__name__}: {exc}"
        return "error", f"the grader failed inside this check ({type(exc).__name__}); please tell the course staff"

    # ------------------------------------------------------------------------------- results

    def _wanted(self, name: str) -> bool:
        check = self.assignment.spec.checks[name]
        return (self.only is None or name in self.only) and not (self.visible_only and check.visibility == "hidden")

    def results(self) -> list[CheckResult]:
        out = []
        for name, check in self.assignment.spec.checks.items():
            if not self._wanted(name):
                continue
            outcome = self.outcomes.get(name, _Outcome(status="error", message="the check did not run"))
            if not outcome.ran:
                outcome = _Outcome(status="error", message="the check did not run")
            passed = outcome.status == "passed"
            out.append(CheckResult(name=name, status=outcome.status, points=check.points if passed else 0.0,
                                   max_points=check.points, message=outcome.message,
                                   visibility=check.visibility, seconds=round(outcome.seconds, 4),
                                   figures=outcome.figures))
        return out


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


__all__ = ["Job", "JudgePlugin", "grade_submission", "grade_stream", "run_checks"]

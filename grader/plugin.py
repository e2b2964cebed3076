"""The pytest plugin the judge runs checks with.

It gives checks their fixtures (``student``, ``reference``, ``rng``, ``public_rng``, ``spec``), ties
each collected test to its entry in the spec (a test without an entry, or an entry without a test,
is the instructor's mistake and stops the run), and turns every outcome into a ``CheckResult``.

One pytest session grades a whole stream of submissions: the checks are collected once, and the
plugin's ``pytest_runtestloop`` hands ``driver`` a function that runs every collected check against
one submission (as pytest-xdist's workers run the items a controller sends them). A submission
costs its checks, not a pytest start-up and a collection.
"""

from __future__ import annotations

import re
import sys
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from _pytest.runner import runtestprotocol

from grader import eager_torch, figures
from grader.course import Assignment, derive_seed, load_assignment
from grader.errors import SpecError, StudentFault
from grader.report import CheckResult
from grader.sandbox.proxy import Student

HIDDEN_ONLY_FIXTURES = ("reference", "reference_of", "rng")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\b\d+[eE][-+]?\d+")
_ANY_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")  # not the 2 of conv2d


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


RunChecks = Callable[[Student, str], list[CheckResult]]


@dataclass(eq=False)  # hashed by identity: pytest keeps its plugins in sets (8.0 to 9.0 hash them)
class JudgePlugin:
    assignment: Assignment
    secret: bytes
    driver: Callable[[RunChecks], None]  # called once, in the session, with the function that grades one submission
    visible_only: bool = False
    explain: bool = False  # an internal error's message says what it is (the reference's preflight; never a student's)
    student: Student | None = None  # the submission being graded, and its id
    submission: str = ""
    outcomes: dict[str, _Outcome] = field(default_factory=dict)
    setup_errors: list[str] = field(default_factory=list)  # the instructor's: bad spec, broken check file
    error: BaseException | None = None  # raised by the driver (Ctrl-C, a SpecError): re-raised after the session
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
            self.driver(self.run)
        except BaseException as exc:  # noqa: BLE001 - pytest would swallow it into an exit code
            self.error = exc
        return True

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
        missing = sorted(n for n in set(checks) - names if not (self.visible_only and checks[n].visibility == "hidden"))
        if missing:
            raise SpecError(f"checks {missing} are in the spec but no test_<name> for them in {where}")
        if self.visible_only:
            keep = [i for i in items if checks[check_name(i)].visibility == "visible"]
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
                kept.extend(shown_figures(recorded, hidden)[:figures.MAX_FIGURES - len(kept)])

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

    def results(self) -> list[CheckResult]:
        out = []
        for name, check in self.assignment.spec.checks.items():
            if self.visible_only and check.visibility == "hidden":
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


def shown_figures(recorded: list[dict], hidden: bool) -> list[dict]:
    """The figures a report may carry: all of a visible check's; of a hidden check's, only those it
    marked ``public`` (drawn from the lecture's inputs), so hidden inputs and expected numbers never
    reach a student through a picture."""
    return [f for f in recorded if not hidden or f.get("public") is True]

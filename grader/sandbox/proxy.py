"""The ``student`` fixture: the submission's functions, called across the trust boundary.

``student.adam(theta, grad, {}, lr=0.1)`` sends the call to the worker and returns what came back,
decoded as plain data. The proxy owns the worker: it starts one on the first call, replaces one
that died or hung (that call's check pays for it, the next check gets a fresh process), and keeps
the submission within its whole-grade time budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from grader.errors import SpecError, StudentError, StudentFault, StudentTimeout
from grader.sandbox.isolation import Isolation
from grader.sandbox.process import CallResult, Worker
from grader.spec import AssignmentSpec


class Student:
    def __init__(self, workdir: Path, spec: AssignmentSpec, output: Path, *, load_error: str | None = None,
                 isolation: Isolation | None = None):
        self._spec = spec
        self._worker = Worker(workdir, spec.module, spec.limits, output, spec.forbidden, isolation)
        self._fatal: StudentFault | None = StudentError(load_error) if load_error else None
        self._deadline = time.monotonic() + spec.limits.submission_seconds
        self.allowed: frozenset[str] | None = None  # set per check: the functions its spec entry declares
        self.calls = 0
        self.ipc_seconds = 0.0  # time spent starting the worker and crossing to it (codec, pipes), not in calls

    def __getattr__(self, name: str) -> StudentFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return StudentFunction(self, name)

    def call(self, fn: str, *args, echo: bool = False, within: float | None = None, **kwargs) -> CallResult:
        """Call ``fn`` in the worker; ``echo=True`` also returns the arguments as the function left them;
        ``within``: stop it after that many seconds (``StudentTimeout``), sooner than the spec's limit."""
        return next(self.stream(fn, [(args, kwargs)], echo=echo, within=within))

    def stream(self, fn: str, calls: list[tuple[tuple | list, dict]], *, carry=None, echo: bool = False,
               walk: str | None = None, repeat: int = 1, theta_only: bool = False,
               trace: int = 0, within: float | None = None) -> Iterator[CallResult]:
        """Many calls of ``fn`` in one request, sent now; each result as it arrives; each call has its own deadline.
        ``carry=(a, o)``, or a list of such pairs: call ``i + 1`` gets element ``o`` of call ``i``'s
        value as argument ``a``. ``theta_only``: see ``Worker.stream``. ``within``: the whole request
        is stopped that many seconds after it is sent, if the spec's limits do not stop it first."""
        if self.allowed is not None and fn not in self.allowed:
            raise SpecError(f"the check calls {fn!r} but its spec entry lists only {sorted(self.allowed)}")
        self._ensure_started()
        if fn not in self._worker.functions:
            raise StudentError(f"{self._spec.module}.py does not define a function named {fn}")
        self.calls += len(calls) * repeat
        deadline = self._next_deadline
        if within is not None:
            cut = time.monotonic() + within
            deadline = lambda: min(self._next_deadline(), cut)  # noqa: E731 - a deadline per frame
        results = self._worker.stream(fn, [(list(a), k) for a, k in calls], deadline,
                                      carry=carry, echo=echo, walk=walk, repeat=repeat, theta_only=theta_only,
                                      trace=trace)
        return self._accounted(results)

    def _accounted(self, results: Iterator[CallResult]) -> Iterator[CallResult]:
        with closing(results):  # closing this closes that: the worker's answers are read to the end
            for result in results:
                self.ipc_seconds += max(0.0, result.seconds - result.worker_seconds)
                yield result

    def _next_deadline(self) -> float:
        now = time.monotonic()
        if now >= self._deadline:
            raise StudentTimeout(f"the submission used up its time budget of {self._spec.limits.submission_seconds:g} s")
        return min(now + self._spec.limits.call_seconds, self._deadline)

    def _ensure_started(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._worker.alive:
            return
        started = time.monotonic()
        try:
            self._worker.start(self._deadline)
        except StudentFault as exc:  # the import itself failed: it will fail the same way every time
            self._fatal = exc
            raise
        finally:  # the grader's cost too (fork, limits, privileges), with the submission's import
            self.ipc_seconds += time.monotonic() - started

    def settle(self) -> None:
        """Read the answers of every request a check sent and left unread (see ``Worker.settle``);
        the plugin calls this after each check."""
        self._worker.settle()

    @property
    def notes(self) -> list[str]:
        """What the submission's module reported at import (a notebook's cells that raised), capped."""
        return list(self._worker.notes)

    @property
    def load_failure(self) -> str | None:
        """Why the submission could not be loaded (import error, crash or timeout at import), if so."""
        return str(self._fatal) if self._fatal is not None else None

    def close(self) -> None:
        self._worker.stop()


class StudentFunction:
    """``student.adam``: call it like the function, or ``.map`` many calls in one round trip."""

    def __init__(self, student: Student, name: str):
        self.student, self.name = student, name

    def __call__(self, *args, **kwargs):
        return self.student.call(self.name, *args, **kwargs).value

    def map(self, calls: list[tuple[tuple | list, dict]]) -> list:
        """The values of independent calls, ``[(args, kwargs), ...]``, sent as one request. Raises
        as the first failing call would (the calls after it are not run)."""
        return [r.value for r in self.student.stream(self.name, calls)]

    def stream(self, calls: list[tuple[tuple | list, dict]], *, carry=None, theta_only: bool = False) -> Iterator:
        """Each call's value as it arrives (see ``Student.stream``: the request goes now); stop reading
        whenever you like.
        ``carry=[(0, 0), (2, 1)]`` runs an optimizer on its own θ and state: the calls give the gradients.
        ``theta_only=True``: each optimizer step arrives as ``(theta, {})``, its state left in the worker."""
        return _values(self.student.stream(self.name, calls, carry=carry, theta_only=theta_only))

    def walk(self, surface: str, theta0, grad0, steps: int, hyper: dict, trace: int = 0) -> Iterator:
        """An optimizer step function run freely for ``steps`` steps on a surface of
        ``grader.sandbox.objectives`` from ``theta0`` (where the gradient is ``grad0``; later ones are
        computed in the worker): ``walk_from`` with the state starting empty."""
        return self.walk_from(surface, (theta0, grad0, {}), steps, hyper, trace)

    def walk_from(self, how, args: tuple | list, steps: int, hyper: dict | None = None, trace: int = 0) -> Iterator:
        """This function run freely for ``steps`` steps in the worker from ``args``, each step's leading
        arguments made from the one before as ``how`` says (``grader.sandbox.objectives.walker``: an
        optimizer on a surface, a step on a least-squares objective with its data, gradient descent on
        a linear model with this function's gradient at its outputs). Yields ``(t, value, trace,
        after)`` for some steps t (1-based): the last step, the step where the walk stopped, and now and
        then one to show progress. ``trace``: with ``trace`` k, θ every k steps since the previous
        answer (a picture, not a grade), else ``None``; ``after``: θ after step t when the value is not θ."""
        return _values(self.student.stream(self.name, [(tuple(args), hyper or {})], walk=how, repeat=steps,
                                           trace=trace), steps=True)

    def __repr__(self) -> str:
        return f"<student function {self.name}>"


def _values(results: Iterator[CallResult], steps: bool = False) -> Iterator:
    """Each result's value (with ``steps``, ``(step number, value, trace, after)``); closing this closes ``results``."""
    with closing(results):
        for result in results:
            yield (result.index + 1, result.value, result.trace, result.after) if steps else result.value

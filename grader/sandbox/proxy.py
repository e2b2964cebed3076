"""The ``student`` fixture: the submission's functions, called across the trust boundary.

``student.adam(theta, grad, {}, lr=0.1)`` sends the call to the worker and returns what came back,
decoded as plain data. The proxy owns the worker: it starts one on the first call, replaces one
that died or hung (that call's check pays for it, the next check gets a fresh process), and keeps
the submission within its whole-grade time budget.
"""

from __future__ import annotations

import time
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

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs).value

    def call(self, fn: str, *args, echo: bool = False, **kwargs) -> CallResult:
        """Call ``fn`` in the worker; ``echo=True`` also returns the arguments as the function left them."""
        if self.allowed is not None and fn not in self.allowed:
            raise SpecError(f"the check calls {fn!r} but its spec entry lists only {sorted(self.allowed)}")
        self._ensure_started()
        if fn not in self._worker.functions:
            raise StudentError(f"{self._spec.module}.py does not define a function named {fn}")
        now = time.monotonic()
        if now >= self._deadline:
            raise StudentTimeout(f"the submission used up its time budget of {self._spec.limits.submission_seconds:g} s")
        deadline = min(now + self._spec.limits.call_seconds, self._deadline)
        self.calls += 1
        return self._worker.call(fn, list(args), kwargs, deadline, echo=echo)

    def _ensure_started(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._worker.alive:
            return
        try:
            self._worker.start(self._deadline)
        except StudentFault as exc:  # the import itself failed: it will fail the same way every time
            self._fatal = exc
            raise

    @property
    def load_failure(self) -> str | None:
        """Why the submission could not be loaded (import error, crash or timeout at import), if so."""
        return str(self._fatal) if self._fatal is not None else None

    def close(self) -> None:
        self._worker.stop()

"""Exceptions with a meaning for the grader.

Two families, kept apart on purpose:

* ``UsageError`` and ``SpecError`` are the caller's or the instructor's mistakes: they stop a command
  with a one-line message.
* ``StudentFault`` and its subclasses are raised inside checks when the submission misbehaves; they
  become a check's status (error, timeout, forbidden) and never stop a batch.
"""

from __future__ import annotations


class UsageError(Exception):
    """The caller asked for something that cannot be done (unknown assignment, missing file)."""


class SpecError(Exception):
    """An assignment is badly defined: the message says which file and which key."""


class StudentFault(Exception):
    """Something the submission did; ``status`` is the check status it maps to."""

    status = "error"


class StudentError(StudentFault):
    """The student's function raised, or the submission could not be loaded.

    ``types`` names the classes of the student's exception, most specific first (its MRO), so that
    a check can ask whether it was a ``ValueError`` without the exception object ever crossing.
    """

    def __init__(self, message: str, types: tuple[str, ...] = ()):
        super().__init__(message)
        self.types = types


class StudentTimeout(StudentFault):
    """A call did not return within its deadline."""

    status = "timeout"


class WorkerCrashed(StudentFault):
    """The worker process died while serving a call (segfault, os._exit, killed by a limit)."""


class ForbiddenAPI(StudentFault):
    """The function under test uses a routine the assignment forbids."""

    status = "forbidden"


class BadResult(AssertionError):
    """The student's function returned something of the wrong type, shape or dtype.

    An ``AssertionError`` so that it counts as a failed check, like a wrong value.
    """

"""Calling the student: a batch of calls read as if made one by one, and a call that must raise."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np

from grader.errors import StudentError, StudentFault
from grader.testing.values import kind_of


def expect_raises(exception: type[BaseException], call: Callable[[], object], what: str) -> str:
    """The student's function must raise ``exception`` (or a subclass); returns its message.

    ``call`` is a zero-argument function that makes the student call, e.g.
    ``lambda: student.fan_in((3,))``. Another exception, or none, fails the check with a message;
    ``NotImplementedError`` (an unfinished stub) propagates, so the check's status is ``error``.
    """
    try:
        value = call()
    except StudentError as exc:
        if exception.__name__ in exc.types:
            return str(exc)
        if "NotImplementedError" in exc.types or not exc.types:  # the stub, or a file that did not load
            raise
        raise AssertionError(f"{what} should raise {exception.__name__}, but it raised {exc.types[0]}") from None
    raise AssertionError(f"{what} should raise {exception.__name__}, but it returned {kind_of(value)}")


def one_by_one(results: Iterable) -> Iterator:
    """The results of a batch of student calls (``student.fn.stream(calls)``, ``student.stream(...)``),
    to be checked one by one as if each call had been made alone, in one round trip.

    The whole batch is read before the first result is handed out. A fault of call i (it raised,
    timed out, crashed, used a forbidden routine) is raised only when the check asks for result i,
    after it has checked results 0 .. i - 1: the first wrong result is still the one reported, as
    when the check called and checked one at a time. Reading to the end also means a later call
    that hangs or kills the worker costs this check's time, not the next check's result."""
    done, fault = [], None
    try:
        for result in results:
            done.append(result)
    except StudentFault as exc:
        fault = exc
    yield from done
    if fault is not None:
        raise fault


def assert_unchanged(fn: str, before: Mapping[str, object], after: Mapping[str, object], *, step: int | None = None,
                     how: str = "") -> None:
    """A student's function must leave its arguments as it got them. ``before``: copies of the arguments taken
    before the call, by name; ``after``: the same arguments as the function left them (``student.call(...,
    echo=True)`` hands them back as ``result.args_after``). An array must be unchanged; a dict (an optimizer's
    state) must keep its keys and its values. The message names the function, the argument and the ``step``;
    ``how`` says what to write instead ("theta - lr * g, not theta -= ...")."""
    where = "" if step is None else f" at step {step}"
    for name, old in before.items():
        new = after[name]
        if isinstance(old, dict):
            if not isinstance(new, dict) or set(new) != set(old) or any(not np.array_equal(old[k], new[k]) for k in old):
                raise AssertionError(f"{fn} changed the {name} dict it was given{where}; return a new dict instead "
                                     "of updating the old one")
        elif isinstance(old, np.ndarray) and not np.array_equal(old, new):
            raise AssertionError(f"{fn} changed its argument {name} in place{where}; compute a new array instead"
                                 + (f" ({how})" if how else ""))

"""Shared by the visible and the hidden checks of init (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from grader.errors import StudentFault


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

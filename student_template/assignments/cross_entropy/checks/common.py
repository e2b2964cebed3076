"""Shared by the visible and the hidden checks of cross_entropy (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from grader.testing import hint_on_failure, one_by_one, value_hint  # noqa: F401 - the checks call them as common.<name>


def values(function, arguments: Iterable[tuple]) -> Iterator:
    """``function(*args)`` for each ``args`` of ``arguments`` (``function`` is a student's, such as
    ``student.cross_entropy``), in one request, handed out one by one as ``one_by_one`` does."""
    return one_by_one(function.stream([(args, {}) for args in arguments]))


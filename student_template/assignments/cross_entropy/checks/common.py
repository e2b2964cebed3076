"""Shared by the visible and the hidden checks of cross_entropy (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from grader.spec import Tolerance
from grader.testing import matching_mistake, one_by_one


def values(function, arguments: Iterable[tuple]) -> Iterator:
    """``function(*args)`` for each ``args`` of ``arguments`` (``function`` is a student's, such as
    ``student.cross_entropy``), in one request, handed out one by one as ``one_by_one`` does."""
    return one_by_one(function.stream([(args, {}) for args in arguments]))


@contextmanager
def hint_on_failure(hint: Callable[..., str | None], /, *args, **kwargs) -> Iterator[None]:
    """A failed comparison inside the block gets ``hint(*args, **kwargs)`` ("your values match ...")
    appended to its message; ``hint`` runs only then, so a passing check never computes the known mistakes."""
    try:
        yield
    except AssertionError as exc:
        found = hint(*args, **kwargs)
        if found is None:
            raise
        raise AssertionError(f"{exc}; {found}") from None


def value_hint(mistakes: Mapping[str, Callable], got, args: tuple, tol: Tolerance) -> str | None:
    """The first known mistake (``mistakes.CATALOGUE[function]``) whose value on the student's arguments
    ``args`` is the student's ``got``, as "your values match <its description>"."""
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = wrong(*args)
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(got, candidates, tol)

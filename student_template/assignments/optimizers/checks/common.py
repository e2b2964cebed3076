"""Shared by the visible and the hidden checks of optimizers (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from grader.spec import Tolerance
from grader.testing import matching_mistake, one_by_one  # noqa: F401 - one_by_one: shared with the other assignments' checks


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


def forced_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], thetas: Sequence[np.ndarray],
                grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake that, given θ from ``thetas`` and the gradient from ``grads`` at each call
    (teacher-forced, as the student's calls were) and its own state, returns every θ in ``got``."""
    return _first_match(mistakes, got, lambda wrong: _forced(wrong, thetas, grads, len(got), args, hyper), tol)


def own_path_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], theta0: np.ndarray,
                  grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake that, walking from ``theta0`` on its own θ and state and fed ``grads`` (as
    the student's steps were), returns every θ in ``got``."""
    return _first_match(mistakes, got, lambda wrong: _walk(wrong, theta0, grads, len(got), args, hyper), tol)


def _first_match(mistakes, got, steps_of, tol) -> str | None:
    if not len(got):
        return None
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = np.stack(steps_of(wrong))
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(np.stack([np.asarray(x, dtype=np.float64) for x in got]), candidates, tol)


def _forced(wrong, thetas, grads, count, args, hyper) -> list[np.ndarray]:
    state, out = {}, []
    for theta, g in zip(thetas[:count], grads[:count], strict=True):
        value, state = wrong(theta, g, state, *args, **hyper)
        out.append(np.asarray(value, dtype=np.float64))
    return out


def _walk(wrong, theta0, grads, count, args, hyper) -> list[np.ndarray]:
    theta, state, out = theta0, {}, []
    for g in grads[:count]:
        theta, state = wrong(theta, g, state, *args, **hyper)
        out.append(np.asarray(theta, dtype=np.float64))
    return out

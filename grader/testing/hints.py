"""Hints that name a known mistake ("your values match ..."): the mistake catalogue's wrong versions run on
the student's inputs, only after a comparison failed, and matched within the spec's ``mistake`` tolerance."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from grader.errors import BadResult
from grader.spec import Tolerance
from grader.testing.compare import _off, all_close
from grader.testing.values import as_array


def matching_mistake(actual, candidates: Mapping[str, object], tol: Tolerance) -> str | None:
    """For a check that computes known wrong answers itself: the description of the first candidate
    value (``{"the sum over the batch instead of the mean": wrong_value, ...}``) that ``actual``
    matches within ``tol``, as "your values match <description>", or ``None``. Append it to the
    check's message: it names a kind of mistake, never a number. A value may be an array (or a number),
    or a tuple of them, as a backward pass returns ``(dx, dgamma, dbeta)``: then every part must match."""
    parts = _parts(actual)
    if parts is None:
        return None
    for description, value in candidates.items():
        expected = _parts(value)
        if (expected is not None and len(expected) == len(parts)
                and all(e.shape == a.shape and all_close([a], [e], tol) for a, e in zip(parts, expected, strict=True))):
            return f"your values match {description}"
    return None


def _parts(value) -> list[np.ndarray] | None:
    """``value`` as float64 arrays: one for an array or a number, one per element for a tuple or list of
    them; ``None`` for anything else."""
    try:
        if isinstance(value, (tuple, list)) and value and all(isinstance(v, (np.ndarray, int, float)) for v in value):
            return [as_array(v, "value") for v in value]
        return [as_array(value, "value")]
    except (BadResult, ValueError, TypeError):
        return None


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
    """The first known mistake (``{description: wrong function}``) whose value on the student's arguments
    ``args`` is the student's ``got``, as "your values match <its description>"."""
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = wrong(*args)
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(got, candidates, tol)


def forced_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], thetas: Sequence[np.ndarray],
                grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake (a wrong optimizer step) that, given θ from ``thetas`` and the gradient from
    ``grads`` at each call (teacher-forced, as the student's calls were) and its own state, returns every θ
    in ``got``."""
    return _first_match(mistakes, got, lambda wrong: _forced(wrong, len(got), thetas, grads, args, hyper), tol)


def _forced(wrong: Callable, steps: int, thetas: Sequence[np.ndarray], grads: Sequence[np.ndarray], args: tuple,
            hyper: dict) -> Iterator:
    """``wrong``'s values over the first ``steps`` teacher-forced steps, its state carried from call to call."""
    state: dict = {}
    for theta, g in zip(thetas[:steps], grads[:steps], strict=True):
        value, state = wrong(theta, g, state, *args, **hyper)
        yield value


def forced_candidates(mistakes: Mapping[str, Callable], steps: int, thetas: Sequence[np.ndarray],
                      grads: Sequence[np.ndarray], *args, **hyper) -> dict[str, np.ndarray]:
    """What each known mistake returns over the first ``steps`` teacher-forced steps (``forced_hint``), stacked:
    the same for every student given the same θs and gradients (a visible check's), so a judge may keep it."""
    return _candidates(mistakes, lambda wrong: _forced(wrong, steps, thetas, grads, args, hyper))


def own_path_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], theta0: np.ndarray,
                  grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake that, walking from ``theta0`` on its own θ and state and fed ``grads`` (as
    the student's steps were), returns every θ in ``got``."""
    def walk(wrong) -> Iterator:
        theta, state = theta0, {}
        for g in grads[:len(got)]:
            theta, state = wrong(theta, g, state, *args, **hyper)
            yield theta

    return _first_match(mistakes, got, walk, tol)


def _first_match(mistakes: Mapping[str, Callable], got: Sequence, steps_of: Callable, tol: Tolerance) -> str | None:
    """``matching_mistake`` of ``got`` against each mistake's steps (``steps_of(wrong)``, an iterable), stacked; but
    a mistake is given up at its first step off, without running the rest of its steps (most are off at the first).
    When ``got`` holds a value that is not finite, every mistake runs to the end and the stacks are compared whole,
    as ``matching_mistake`` compares them."""
    if not len(got):
        return None
    actual = np.stack([np.asarray(x, dtype=np.float64) for x in got])
    if not np.isfinite(actual).all():
        return matching_mistake(actual, _candidates(mistakes, steps_of), tol)
    for description, wrong in mistakes.items():
        if _follows(steps_of(wrong), actual, tol):
            return f"your values match {description}"
    return None


def _follows(steps, actual: np.ndarray, tol: Tolerance, first: int = 4) -> bool:
    """Whether ``steps`` gives exactly ``len(actual)`` values, each within ``tol`` of its row of the finite
    ``actual`` (elementwise, as ``matching_mistake`` decides on the stack): the ``first`` steps are compared
    as they come, the rest at once. A mistake that raises matches nothing."""
    rest = []
    try:
        for n, value in enumerate(steps):
            if n >= len(actual):
                return False
            value = np.asarray(value, dtype=np.float64)
            if value.shape != actual[n].shape:
                return False
            if n < first:
                if _off(actual[n], value, tol).any():
                    return False
            else:
                rest.append(value)
    except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
        return False
    if len(rest) + min(first, len(actual)) != len(actual):
        return False
    return not rest or not _off(actual[first:], np.stack(rest), tol).any()


def _candidates(mistakes: Mapping[str, Callable], steps_of: Callable) -> dict[str, np.ndarray]:
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = np.stack([np.asarray(x, dtype=np.float64) for x in steps_of(wrong)])
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return candidates

"""Shared by the visible and the hidden checks of weight_decay (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from grader.spec import Tolerance
from grader.testing import (
    as_array,
    matching_mistake,
    one_by_one,  # noqa: F401 - shared with the other assignments' checks
)

SGD_RESULT = "sgd_weight_decay's result (the new theta alone: it keeps no state)"


class StatelessSteps:
    """An optimizer step ``(theta, g, state, **hyper) -> (theta_new, state)`` made of one call of a student
    function that keeps no state, such as theta - lr * l2_grad(g, theta, lam).

    ``trajectory_check`` sends the steps of anything with a ``stream`` method in one request, as it does
    a student's optimizer: on its teacher-forced path every call's arguments are known before the first
    is made, and with no state there is nothing to carry from one call to the next.
    """

    def __init__(self, function, arguments: Callable[..., tuple], theta_new: Callable[..., object]):
        self.function = function  # the student's function, e.g. ``student.l2_grad``
        self.arguments = arguments  # (theta, g, **hyper) -> its positional arguments
        self.theta_new = theta_new  # (its value, theta, **hyper) -> the new theta, or BadResult

    def __call__(self, theta, g, state, **hyper):
        return self.theta_new(self.function(*self.arguments(theta, g, **hyper)), theta, **hyper), state

    def stream(self, calls: list[tuple[tuple, dict]], *, carry=None, theta_only: bool = False) -> Iterator:
        """``(theta_new, {})`` for each step ``((theta, g, state), hyper)`` of ``calls``; ``carry`` and
        ``theta_only`` are ignored, there being no state."""
        requests = [(self.arguments(theta, g, **hyper), {}) for (theta, g, _), hyper in calls]
        for ((theta, _, _), hyper), value in zip(calls, one_by_one(self.function.stream(requests)), strict=True):
            yield self.theta_new(value, theta, **hyper), {}


def sgd_weight_decay_steps(sgd_weight_decay) -> StatelessSteps:
    """The student's sgd_weight_decay(theta, g, lr, lam) as a step."""
    return StatelessSteps(sgd_weight_decay, lambda theta, g, lr, lam: (theta, g, lr, lam),
                          lambda value, theta, lr, lam: as_array(value, SGD_RESULT, theta.shape))


def l2_grad_steps(l2_grad) -> StatelessSteps:
    """Gradient descent on L + R with the student's l2_grad: theta - lr * l2_grad(g, theta, lam)."""
    return StatelessSteps(l2_grad, lambda theta, g, lr, lam: (g, theta, lam),
                          lambda value, theta, lr, lam: theta - lr * as_array(value, "l2_grad's result", theta.shape))


# ------------------------------------------------------------------------ hints from known mistakes


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
    """The first known mistake whose value on the student's arguments ``args`` is the student's ``got``."""
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = wrong(*args)
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(got, candidates, tol)


def forced_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], thetas: Sequence[np.ndarray],
                grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake that, given θ from ``thetas`` and the gradient from ``grads`` at each call
    (teacher-forced, as the student's calls were) and its own state, returns every θ in ``got``."""
    def forced(wrong):
        state, out = {}, []
        for theta, g in zip(thetas[:len(got)], grads[:len(got)], strict=True):
            value, state = wrong(theta, g, state, *args, **hyper)
            out.append(value)
        return out

    return _first_match(mistakes, got, forced, tol)


def own_path_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], theta0: np.ndarray,
                  grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake that, walking from ``theta0`` on its own θ and state and fed ``grads`` (as
    the student's steps were), returns every θ in ``got``."""
    def walk(wrong):
        theta, state, out = theta0, {}, []
        for g in grads[:len(got)]:
            theta, state = wrong(theta, g, state, *args, **hyper)
            out.append(theta)
        return out

    return _first_match(mistakes, got, walk, tol)


def _first_match(mistakes, got, steps_of, tol) -> str | None:
    if not len(got):
        return None
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = np.stack([np.asarray(x, dtype=np.float64) for x in steps_of(wrong)])
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(np.stack([np.asarray(x, dtype=np.float64) for x in got]), candidates, tol)


def l2_grad_step_mistakes(mistakes: Mapping[str, Callable]) -> dict[str, Callable]:
    """Known mistakes of l2_grad as the steps ``l2_grad_steps`` makes of it, theta - lr * l2_grad(g, theta, lam),
    for ``trajectory_check``."""
    return {description: (lambda theta, g, state, lr, lam, wrong=wrong: (theta - lr * wrong(g, theta, lam), state))
            for description, wrong in mistakes.items()}


def sgd_step_mistakes(mistakes: Mapping[str, Callable]) -> dict[str, Callable]:
    """Known mistakes of sgd_weight_decay as the steps ``sgd_weight_decay_steps`` makes of it, for ``trajectory_check``."""
    return {description: (lambda theta, g, state, lr, lam, wrong=wrong: (wrong(theta, g, lr, lam), state))
            for description, wrong in mistakes.items()}

"""Shared by the visible and the hidden checks of weight_decay (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from grader.testing import as_array, hint_on_failure, one_by_one, own_path_hint, value_hint  # noqa: F401 - the checks use them as <module>.<name>

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


def l2_grad_step_mistakes(mistakes: Mapping[str, Callable]) -> dict[str, Callable]:
    """Known mistakes of l2_grad as the steps ``l2_grad_steps`` makes of it, theta - lr * l2_grad(g, theta, lam),
    for ``trajectory_check``."""
    return {description: (lambda theta, g, state, lr, lam, wrong=wrong: (theta - lr * wrong(g, theta, lam), state))
            for description, wrong in mistakes.items()}


def sgd_step_mistakes(mistakes: Mapping[str, Callable]) -> dict[str, Callable]:
    """Known mistakes of sgd_weight_decay as the steps ``sgd_weight_decay_steps`` makes of it, for ``trajectory_check``."""
    return {description: (lambda theta, g, state, lr, lam, wrong=wrong: (wrong(theta, g, lr, lam), state))
            for description, wrong in mistakes.items()}

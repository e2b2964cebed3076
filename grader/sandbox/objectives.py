"""The lecture's test surfaces and their gradients, in float64, NumPy only.

Both sides load this module: the judge computes every loss that decides a grade with it, and a
worker computes gradients with it to run an optimizer freely in one request (``walk`` in
``worker.serve``) instead of a round trip per step. A submission that tampered with the worker's
copy would only change the path its own optimizer takes, which its step function decides anyway;
the final loss is computed again in the judge.
"""

from __future__ import annotations

import numpy as np


def rosenbrock(theta: np.ndarray) -> float:
    """The banana: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1)."""
    x, y = theta
    return float((1 - x) ** 2 + 100 * (y - x * x) ** 2)


def rosenbrock_grad(theta: np.ndarray) -> np.ndarray:
    x, y = theta
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def rastrigin(theta: np.ndarray) -> float:
    """Many local minima: f(x) = 10 d + sum(x_i^2 - 10 cos 2 pi x_i), minimum 0 at the origin."""
    theta = np.asarray(theta, dtype=float)
    return float(10 * theta.size + np.sum(theta**2 - 10 * np.cos(2 * np.pi * theta)))


def rastrigin_grad(theta: np.ndarray) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    return 2 * theta + 20 * np.pi * np.sin(2 * np.pi * theta)


#: gradients a worker can compute by name
GRADIENTS = {"rosenbrock": rosenbrock_grad, "rastrigin": rastrigin_grad}


def shape_of(theta) -> tuple[int, ...] | None:
    """The shape of a walk's starting point, which every step must keep."""
    return np.shape(theta)


def as_theta(value) -> np.ndarray:
    """A step's θ as the next step gets it: a float64 array (``continues`` has checked it converts)."""
    return np.asarray(value, dtype=np.float64)


def is_step(value) -> bool:
    """An optimizer step's value as far as its state goes: a pair whose second element is a dict."""
    return isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[1], dict)


def continues(value, shape) -> bool:
    """Whether a walk goes on after a step returned ``value``: a pair ``(theta, state)`` with ``state``
    a dict and ``theta`` an array of numbers of the starting point's shape, all finite. The worker
    answers for the step where this fails and stops; the judge, which checks each step it is shown
    with ``grader.testing.as_step``, stops reading there too."""
    if type(value) is tuple and len(value) == 2 and type(value[1]) is dict:  # the common case, quickly
        theta = value[0]
        if type(theta) is np.ndarray and theta.dtype == np.float64:
            return theta.shape == tuple(shape) and np.count_nonzero(np.isfinite(theta)) == theta.size  # .all(): 2x
    if not is_step(value):
        return False
    theta = value[0]
    if isinstance(theta, bool) or not isinstance(theta, (int, float, np.ndarray)):
        return False
    try:
        theta = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return theta.shape == tuple(shape) and bool(np.all(np.isfinite(theta)))

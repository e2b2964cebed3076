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

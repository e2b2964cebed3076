"""Loss surfaces of the lecture's demonstrations, with their gradients, for checks to use.

All in float64 and computed in the judge: the loss that decides a grade never comes from student code.
"""

from __future__ import annotations

import numpy as np

from grader.sandbox.objectives import (
    least_squares_grad,
    rastrigin,
    rastrigin_grad,
    rosenbrock,
    rosenbrock_grad,
)

__all__ = ["rosenbrock", "rosenbrock_grad", "rastrigin", "rastrigin_grad", "LinearRegression", "LeastSquares"]


class LinearRegression:
    """Mean squared error of a linear model with bias on a data set: L(w) = mean((X w + b - y)^2).

    theta = [w_1, ..., w_d, b]. Features of very different scales make the surface steep in some
    directions and flat in others, the case per-parameter learning rates are for.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.A = np.hstack([np.asarray(X, dtype=float), np.ones((len(X), 1))])
        self.y = np.asarray(y, dtype=float)

    @classmethod
    def course_data(cls, seed: int = 0, n: int = 50) -> LinearRegression:
        """A small data set like the lecture's: two features on scales 1 and 50.

        The Hessian's eigenvalues are about 1.7, 2 and 5000: from 0, in 100 steps, gradient descent
        at lr = 1e-4 crawls and at lr = 1e-3 diverges; Adagrad at lr = 1 gets close, at lr = 0.1 barely moves.
        """
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n, 2)) * np.array([1.0, 50.0])
        y = X @ np.array([8.0, 0.1]) + 8.0 + rng.normal(scale=0.1, size=n)
        return cls(X, y)

    def loss(self, theta: np.ndarray) -> float:
        r = self.A @ theta - self.y
        return float(np.mean(r * r))

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return 2.0 * self.A.T @ (self.A @ theta - self.y) / len(self.y)


class LeastSquares:
    """The mean squared errors of ``s`` linear models, each on its own data set: model ``i`` has
    parameters θ[i] (θ is (s, d)), inputs A[i] (n, d) and targets y[i] (n,).

    ``grad`` is what a worker computes too: a student's step on this objective runs in one request
    (``grader.testing.start_steps``), its gradients computed beside it; the losses are the judge's."""

    def __init__(self, a: np.ndarray, y: np.ndarray):
        self.a, self.y = np.asarray(a, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """The gradient of each model's MSE with respect to its own row of θ."""
        return least_squares_grad(theta, self.a, self.y)

    def walk(self, kind: str) -> dict:
        """How a worker walks on this objective (``grader.sandbox.objectives.walker``)."""
        return {"kind": kind, "objective": "least_squares", "data": {"a": self.a, "y": self.y}}

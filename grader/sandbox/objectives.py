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
    answers for the step where this fails, says it is the last, and stops; the judge checks that
    step's value with ``grader.testing.as_step``."""
    if type(value) is tuple and len(value) == 2 and type(value[1]) is dict:  # the common case, quickly
        theta = value[0]
        if type(theta) is np.ndarray and theta.dtype == np.float64:
            return theta.shape == tuple(shape) and np.count_nonzero(np.isfinite(theta)) == theta.size  # .all(): 2x
    if not is_step(value):
        return False
    theta = _numbers(value[0], shape)
    return theta is not None and bool(np.all(np.isfinite(theta)))


def least_squares_grad(theta: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The gradient of the mean squared error of linear models, one per data set, each with respect to
    its own row of θ: θ (s, d), A (s, n, d), y (s, n)."""
    residual = np.einsum("snd,sd->sn", a, theta) - y
    return 2 * np.einsum("snd,sn->sd", a, residual) / y.shape[1]


#: gradients of objectives that carry data (sent with the walk), by name
DATA_GRADIENTS = {"least_squares": least_squares_grad}


def _numbers(value, shape) -> np.ndarray | None:
    """``value`` as a fresh float64 array when ``grader.testing.as_array`` would take it with this shape
    (a number or an array of numbers, not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
        return None
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.shape == tuple(shape) else None


class StepWalk:
    """An optimizer's step ``f(theta, grad(theta), state, ...) -> (theta, state)`` run on its own θ and
    state; it goes on while a step is a finite step of θ's shape (``continues``)."""

    width = 3  # the leading arguments each step replaces
    after = None

    def __init__(self, args: list, grad, codec, max_bytes: int):
        self.theta, self.grad, self.shape = args[0], grad, shape_of(args[0])
        self.codec, self.max_bytes = codec, max_bytes

    def take(self, value) -> bool:
        """Whether the walk goes on after a step returned ``value``; if so, θ (a fresh float64 array)
        and the state (plain data) as the next step gets them, what a round trip would give."""
        if not continues(value, self.shape):
            return False
        theta = value[0]
        try:
            if type(theta) is np.ndarray and theta.dtype in self.codec.NATIVE_DTYPES:
                theta = theta.astype(np.float64)  # a copy
            else:
                theta = as_theta(self.codec.copy(theta, self.max_bytes))
            self.state = self.codec.copy(value[1], self.max_bytes)
        except Exception:
            return False
        self.theta = theta
        return True

    def args(self) -> list:
        return [self.theta, self.grad(self.theta), self.state]


class ThetaWalk(StepWalk):
    """A step without state, ``f(theta, grad(theta), ...) -> theta``; it goes on while θ is finite and
    keeps its shape."""

    width = 2

    def take(self, value) -> bool:
        theta = _numbers(value, self.shape)
        if theta is None or not np.all(np.isfinite(theta)):
            return False
        self.theta = theta
        return True

    def args(self) -> list:
        return [self.theta, self.grad(self.theta)]


class OutputsWalk:
    """Gradient descent on a linear model ``A θ`` whose loss's gradient at the outputs the function
    computes, ``f(A θ, ...) -> dL/d(A θ)``: θ ← θ - lr Aᵀ g. It goes on while g has the outputs' shape
    and θ stays finite; each frame carries θ after its step (``after``)."""

    width = 1

    def __init__(self, theta, a, lr: float):
        self.theta, self.a, self.lr = np.array(theta, dtype=np.float64), np.asarray(a, dtype=np.float64), float(lr)
        self.shape = (self.a.shape[0], *self.theta.shape[1:])

    @property
    def after(self) -> np.ndarray:
        return self.theta

    def take(self, value) -> bool:
        g = _numbers(value, self.shape)
        if g is None:
            return False
        self.theta = self.theta - self.lr * self.a.T @ g
        return bool(np.all(np.isfinite(self.theta)))

    def args(self) -> list:
        return [self.a @ self.theta]


def walker(spec, args: list, codec, max_bytes: int):
    """How a walk goes (``worker.serve``), from the request's ``walk`` and its first call's arguments;
    ``None`` for a walk this module does not know. ``spec``: a surface's name (an optimizer's steps on
    it), or ``{"kind": "step" | "theta", "surface": name}``, ``{"kind": "step" | "theta", "objective":
    name, "data": {...}}`` (a gradient of ``DATA_GRADIENTS`` with its data as keyword arguments), or
    ``{"kind": "outputs", "theta": θ₀, "a": A, "lr": lr}``."""
    if type(spec) is str:
        spec = {"kind": "step", "surface": spec}
    if type(spec) is not dict:
        return None
    kind = spec.get("kind")
    if kind == "outputs":
        try:
            return OutputsWalk(spec["theta"], spec["a"], spec["lr"])
        except (KeyError, TypeError, ValueError):
            return None
    grad = GRADIENTS.get(spec.get("surface"))
    data = spec.get("data")
    if grad is None and spec.get("objective") in DATA_GRADIENTS and type(data) is dict:
        def grad(theta, _f=DATA_GRADIENTS[spec["objective"]], _data=data):
            return _f(theta, **_data)
    if grad is None:
        return None
    return {"step": StepWalk, "theta": ThetaWalk}.get(kind, lambda *_: None)(args, grad, codec, max_bytes)

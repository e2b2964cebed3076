"""Training loops that call a student's function at every step, run in the student's worker in one
request (the gradients or updates computed beside it), the losses that grade them left to the judge."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing

import numpy as np

from grader.errors import BadResult
from grader.sandbox.objectives import GRADIENTS
from grader.testing.values import as_array, as_step


def start_steps(step: Callable, grad, theta0, steps: int, what: str, *, state: bool = False, args: Sequence = (),
                kwargs: Mapping | None = None) -> Callable[[], np.ndarray]:
    """θ after ``steps`` steps ``θ ← step(θ, grad(θ), *args, **kwargs)`` from ``θ₀`` (with ``state``: an
    optimizer's ``θ, s ← step(θ, grad(θ), s, *args, **kwargs)``, s starting ``{}``), stopping early at
    a θ that is not finite; in two halves like ``start_optimizer``: the function returned waits for θ.

    A student's function on a surface of ``grader.sandbox.objectives`` or a ``grader.testing.surfaces.LeastSquares``
    runs in one request, the gradients computed in the worker; anything else (the reference) makes a
    call per step here. Either way a step whose value is not a θ of θ₀'s shape (with ``state``, not a
    pair ``(θ, dict)``) raises ``BadResult`` naming ``what``, as ``as_array`` and ``as_step`` do.

    Finish the student's runs in the order they were started, before the check sends that student
    anything else: a request skips what is left unread of the ones before it."""
    theta = np.array(theta0, dtype=np.float64)
    kwargs = dict(kwargs or {})
    how = _walk_of(grad, "step" if state else "theta")
    if hasattr(step, "walk_from") and how is not None:
        first = (theta, grad(theta), {}) if state else (theta, grad(theta))
        walk = step.walk_from(how, (*first, *args), steps, kwargs)
        return lambda: _finish_steps(walk, theta, steps, what, state)

    def run() -> np.ndarray:
        now, memory = theta, {}
        for _ in range(steps):
            if state:
                now, memory = as_step(step(now, grad(now), memory, *args, **kwargs), what, theta.shape)
            else:
                now = as_array(step(now, grad(now), *args, **kwargs), what, theta.shape)
            if not np.all(np.isfinite(now)):
                break
        return now

    return run


def _walk_of(grad, kind: str) -> dict | None:
    """How a worker computes ``grad`` (``objectives.walker``), or ``None`` if it cannot."""
    surface = next((name for name, g in GRADIENTS.items() if g is grad), None)
    if surface is not None:
        return {"kind": kind, "surface": surface}
    walk = getattr(getattr(grad, "__self__", None), "walk", None)  # a bound method of an objective with data
    return walk(kind) if callable(walk) and getattr(grad, "__name__", "") == "grad" else None


def _finish_steps(walk: Iterator, theta: np.ndarray, steps: int, what: str, state: bool) -> np.ndarray:
    last, now = 0, theta
    with closing(walk):
        for t, value, _, _ in walk:
            now = as_step(value, what, theta.shape)[0] if state else as_array(value, what, theta.shape)
            last = t
            if not np.all(np.isfinite(now)):
                break
    if last != steps and np.all(np.isfinite(now)):  # the worker ended the walk on a step that should have gone on
        raise BadResult(f"{what} stopped after step {last} of {steps}")
    return now


def start_output_descent(gradient: Callable, a, theta0, lr: float, steps: int, what: str, *,
                         args: Sequence = ()) -> Callable[[], np.ndarray]:
    """θ after ``steps`` steps of gradient descent on the linear model ``A θ`` from ``θ₀``, with the loss's
    gradient at the outputs from ``gradient``: ``g = gradient(A θ, *args)``, then ``θ ← θ - lr Aᵀ g``
    (computed by the grader), stopping early at a θ that is not finite. In two halves like
    ``start_optimizer``. A student's function runs in one request, the updates computed in the worker;
    a plain function makes a call per step here. A ``g`` that is not an array of the outputs' shape
    raises ``BadResult`` with ``what.format(t=step)``. Finish it as ``start_steps`` says."""
    a, theta = np.asarray(a, dtype=np.float64), np.array(theta0, dtype=np.float64)
    shape = (a.shape[0], *theta.shape[1:])
    if hasattr(gradient, "walk_from"):
        walk = gradient.walk_from({"kind": "outputs", "theta": theta, "a": a, "lr": float(lr)},
                                  (a @ theta, *args), steps)
        return lambda: _finish_output_descent(walk, theta, shape, steps, what)

    def run() -> np.ndarray:
        w = theta
        for t in range(1, steps + 1):
            g = as_array(gradient(a @ w, *args), what.format(t=t), shape)
            w = w - lr * a.T @ g
            if not np.all(np.isfinite(w)):
                break
        return w

    return run


def _finish_output_descent(walk: Iterator, theta: np.ndarray, shape: tuple, steps: int, what: str) -> np.ndarray:
    last, now = 0, theta
    with closing(walk):
        for t, value, _, after in walk:
            as_array(value, what.format(t=t), shape)
            last = t
            if not (isinstance(after, np.ndarray) and after.shape == theta.shape and after.dtype == np.float64):
                raise BadResult(f"{what.format(t=t)}: the worker sent no weights after this step")
            now = after
            if not np.all(np.isfinite(now)):
                break
    if last != steps and np.all(np.isfinite(now)):
        raise BadResult(f"{what.format(t=last)}: the descent stopped after step {last} of {steps}")
    return now

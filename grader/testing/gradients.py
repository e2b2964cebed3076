"""Numerical gradients, as the course teaches them: central differences in float64, and the comparison of a
student's backward pass with them.

**Accuracy.** ``(f(x + h e_i) - f(x - h e_i)) / 2h`` differs from the derivative by a truncation error of
about ``h² |f'''| / 6`` and a rounding error of about ``eps |f| / h`` (``eps`` = 2.2e-16). With the default
``h = 1e-6`` on a function of unit scale both are near 1e-10 to 1e-12: a relative tolerance of 1e-6 with
an absolute one of 1e-8 (for derivatives near 0, where only the rounding is left) leaves a margin of a
hundred or more. Two cases break it: within ``h`` of a kink (ReLU at 0, a max that changes its argument)
the two sides average two slopes, so keep inputs at least ``h`` away from kinks; and a loss of large scale
(``|f|`` of 1e6) multiplies the rounding error, so compare on inputs of ordinary scale. Keep ``f`` in
float64: float32 rounding (1e-7) over ``h`` is an error of 0.1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.spec import Tolerance
from grader.testing.values import as_array, relative_error


def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6, *, batched: bool = False,
                   chunk: int = 1024) -> np.ndarray:
    """Central differences in float64: ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every element i.

    ``batched=True``: ``f`` takes a stack of inputs, shape ``(k, *x.shape)``, and returns their ``k`` values
    (a loss written with ``axis=`` arguments, say): the ``2 x.size`` evaluations then go in stacks of
    ``chunk``, tens of times faster than one call each, with the very same numbers (each perturbed input is
    built as the one-at-a-time form builds it)."""
    x = np.array(x, dtype=np.float64)
    if not batched:
        grad = np.empty_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            up = f(x)
            x[i] = old - h
            down = f(x)
            x[i] = old
            grad[i] = (up - down) / (2 * h)
        return grad
    flat = x.ravel()
    grad = np.empty(flat.size)
    for start in range(0, flat.size, chunk):
        index = np.arange(start, min(flat.size, start + chunk))
        rows = np.arange(len(index))
        values = []
        for sign in (1.0, -1.0):
            stack = np.repeat(flat[None, :], len(index), axis=0)
            stack[rows, index] = flat[index] + sign * h
            values.append(np.asarray(f(stack.reshape(len(index), *x.shape)), dtype=np.float64).reshape(len(index)))
        grad[index] = (values[0] - values[1]) / (2 * h)
    return grad.reshape(x.shape)


def assert_gradient_close(got, numerical: np.ndarray, tol: Tolerance, what: str, *, reveal: bool = False,
                          against: str = "the central difference") -> None:
    """A student's gradient against central differences: every element within a relative error
    ``|a - b| / (|a| + |b|)`` of ``tol.rtol``, or an absolute difference of ``tol.atol`` (derivatives near 0,
    where central differences keep only their rounding error). The message names the first element off, its
    relative error and how many are off; with ``reveal`` (visible checks), also the two values, the numerical
    one described as ``against`` ("the central difference (h = 1e-6) of torch's loss")."""
    numerical = np.asarray(numerical, dtype=np.float64)
    got = as_array(got, what, numerical.shape)
    err = relative_error(got, numerical)
    bad = ~((err <= tol.rtol) | (np.abs(got - numerical) <= tol.atol))
    if not bad.any():
        return
    i = tuple(int(v) for v in np.argwhere(bad)[0])
    shown = (f"is {float(got[i])!r}, {against} there is {float(numerical[i])!r}, a relative error of" if reveal
             else "is off by a relative error of")
    raise AssertionError(f"{what}: element {i} {shown} {err[i]:.2g} (tolerance {tol.rtol:g}); "
                         f"{int(bad.sum())} of {bad.size} elements are off")

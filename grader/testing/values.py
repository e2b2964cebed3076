"""The student's values as the judge takes them: a float64 array of a given shape, a number, an optimizer's
(θ, state) pair; anything else is ``BadResult`` naming what it was instead. And the relative error."""

from __future__ import annotations

import numpy as np

from grader.errors import BadResult

TINY = 1e-300


def relative_error(a, b) -> np.ndarray:
    """|a - b| / max(|a| + |b|, tiny), elementwise."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), TINY)


def as_array(value, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The student's value as a float64 array, or ``BadResult`` saying what it was instead."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
        raise BadResult(f"{what} should be a NumPy array of numbers, got {kind_of(value)}")
    array = np.asarray(value, dtype=np.float64)
    if shape is not None and array.shape != tuple(shape):
        raise BadResult(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    return array


def as_float(value, what: str) -> float:
    """The student's value as a Python float (a 0-d or size-1 array is accepted)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadResult(f"{what} should be a number, got {kind_of(value)}")
    return float(value)


def as_step(value, what: str, shape: tuple[int, ...]) -> tuple[np.ndarray, dict]:
    """An optimizer step's result: ``(theta_new, state_new)`` with theta of the given shape."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise BadResult(f"{what} should return a pair (theta_new, state_new), got {kind_of(value)}")
    theta, state = value
    if not isinstance(state, dict):
        raise BadResult(f"{what} should return its state as a dict, got {kind_of(state)}")
    return as_array(theta, f"theta_new from {what}", shape), state


def kind_of(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"a {type(value).__name__}"

# BEGIN REFERENCE
"""Reference solution of the ``dropout`` assignment (hidden from students).

Inverted dropout, as in PyTorch: in training each unit is kept with probability 1 − p and the kept
ones are scaled by 1 / (1 − p), so E[out] = x and nothing changes at evaluation time.
"""
# END REFERENCE
# BEGIN STUDENT
# """Dropout: during training some neurons are dropped at random; at test time every neuron is used.
#
# Inverted dropout, as in PyTorch: in training each unit is dropped with probability ``p`` and the
# units kept are scaled by 1 / (1 − p), so that the expected output equals the input and nothing
# changes at evaluation time. Dropout helps generalization, not optimization.
#
# * ``x`` and ``dout`` are float64 NumPy arrays of any shape; ``0 <= p <= 1``.
# * Randomness only through ``rng``, the ``numpy.random.Generator`` you are given: one draw,
#   ``rng.random(x.shape)``, per call in training, and none in evaluation.
# * The functions are pure: never modify their arguments; return new arrays.
#
# Check your work with ``grader check dropout`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import numpy as np


def dropout_forward(x: np.ndarray, p: float, train: bool,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    # BEGIN STUDENT
    # """Inverted dropout's forward pass; returns ``(out, keep)``.
    #
    # ``p`` is the probability of DROPPING a unit; a ``p`` outside [0, 1] is a ``ValueError`` (in
    # training and in evaluation).
    #
    # Training (``train=True``):
    #
    #     keep = rng.random(x.shape) >= p      exactly one draw of x's shape, for every p (0 and 1 too)
    #     out  = x * keep / (1 - p)            all zeros when p = 1 (no division by 0)
    #     return out, keep                     keep: a bool array of x's shape
    #
    # Evaluation (``train=False``): every unit is used and ``rng`` is not touched:
    #
    #     return a new array equal to x, None
    # """
    # # TODO: implement dropout_forward.
    # END STUDENT
    # BEGIN SOLUTION
    """keep = rng.random(x.shape) >= p and out = x * keep / (1 - p) in training (zeros for p = 1);
    (a copy of x, None) in evaluation, rng untouched. ValueError for p outside [0, 1]."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p is the probability of dropping a unit, in [0, 1]; got {p!r}")
    x = np.asarray(x, dtype=np.float64)
    if not train:
        return x.copy(), None
    keep = rng.random(x.shape) >= p
    if p == 1.0:
        return np.zeros_like(x), keep
    return x * keep / (1.0 - p), keep
    # END SOLUTION


def dropout_backward(dout: np.ndarray, keep: np.ndarray | None, p: float) -> np.ndarray:
    # BEGIN STUDENT
    # """The gradient of sum(dout * out) with respect to x, for the ``keep`` dropout_forward returned.
    #
    #     keep is None (evaluation):  dx = dout (a new array), whatever p
    #     otherwise:                  dx = dout * keep / (1 - p), all zeros when p = 1
    # """
    # # TODO: implement dropout_backward.
    # END STUDENT
    # BEGIN SOLUTION
    """dout where keep is None (evaluation); dout * keep / (1 - p) otherwise, zeros for p = 1."""
    dout = np.asarray(dout, dtype=np.float64)
    if keep is None:
        return dout.copy()
    if p == 1.0:
        return np.zeros_like(dout)
    return dout * keep / (1.0 - p)
    # END SOLUTION

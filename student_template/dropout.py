"""Dropout: during training some neurons are dropped at random; at test time every neuron is used.

Inverted dropout, as in PyTorch: in training each unit is dropped with probability ``p`` and the
units kept are scaled by 1 / (1 − p), so that the expected output equals the input and nothing
changes at evaluation time. Dropout helps generalization, not optimization.

* ``x`` and ``dout`` are float64 NumPy arrays of any shape; ``0 <= p <= 1``.
* Randomness only through ``rng``, the ``numpy.random.Generator`` you are given: one draw,
  ``rng.random(x.shape)``, per call in training, and none in evaluation.
* The functions are pure: never modify their arguments; return new arrays.

Check your work with ``grader check dropout`` (the visible checks; hidden ones run at grading).
"""

from __future__ import annotations

import numpy as np


def dropout_forward(x: np.ndarray, p: float, train: bool,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """Inverted dropout's forward pass; returns ``(out, keep)``.

    ``p`` is the probability of DROPPING a unit; a ``p`` outside [0, 1] is a ``ValueError`` (in
    training and in evaluation).

    Training (``train=True``):

        keep = rng.random(x.shape) >= p      exactly one draw of x's shape, for every p (0 and 1 too)
        out  = x * keep / (1 - p)            all zeros when p = 1 (no division by 0)
        return out, keep                     keep: a bool array of x's shape

    Evaluation (``train=False``): every unit is used and ``rng`` is not touched:

        return a new array equal to x, None
    """
    # TODO: implement dropout_forward.
    raise NotImplementedError("dropout_forward is not implemented yet")


def dropout_backward(dout: np.ndarray, keep: np.ndarray | None, p: float) -> np.ndarray:
    """The gradient of sum(dout * out) with respect to x, for the ``keep`` dropout_forward returned.

        keep is None (evaluation):  dx = dout (a new array), whatever p
        otherwise:                  dx = dout * keep / (1 - p), all zeros when p = 1
    """
    # TODO: implement dropout_backward.
    raise NotImplementedError("dropout_backward is not implemented yet")

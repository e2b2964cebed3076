# BEGIN REFERENCE
"""Reference solution of the ``mixup`` assignment (hidden from students).

mixup blends each example of a batch with another one of the same batch, and blends the labels the
same way: an input that is λ cat and 1 − λ dog gets the label λ cat, 1 − λ dog.
"""
# END REFERENCE
# BEGIN STUDENT
# """Mixup: train on blends of two examples, labelled with the same blend of their labels.
#
# An input that is λ of a cat picture and 1 − λ of a dog picture gets the label λ cat, 1 − λ dog.
#
# * ``x`` is a float64 NumPy array of shape (N, ...): N examples of any shape (vectors, images, ...).
# * ``y`` is a float64 array of shape (N, K): one row of class probabilities per example (one-hot rows
#   or soft labels), each row summing to 1.
# * Randomness only through ``rng``, the ``numpy.random.Generator`` you are given, in the order stated
#   below: the same seed must give the same numbers as the reference.
# * The function is pure: never modify ``x`` or ``y``; return new arrays.
#
# Check your work with ``grader check mixup`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import numpy as np


def mixup(x: np.ndarray, y: np.ndarray, alpha: float,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    # BEGIN STUDENT
    # """Blend a batch with a shuffled copy of itself.
    #
    # In this order:
    #
    #     λ = rng.beta(alpha, alpha)          one λ for the whole batch, a float in [0, 1]
    #     perm = rng.permutation(N)           N = x.shape[0]
    #
    # and return the four values
    #
    #     x_mix = λ x + (1 − λ) x[perm]       shape (N, ...), like x
    #     y_mix = λ y + (1 − λ) y[perm]       shape (N, K), like y: rows still sum to 1
    #     λ                                   the weight of x itself (a float)
    #     perm                                the permutation (an integer array of shape (N,))
    # """
    # # TODO: draw lam, then perm, and blend x and y with them.
    # END STUDENT
    # BEGIN SOLUTION
    """One λ ~ Beta(alpha, alpha) for the batch, drawn first, then perm = rng.permutation(N).

    Returns (λ x + (1 − λ) x[perm], λ y + (1 − λ) y[perm], λ, perm); x and y are left as they were.
    """
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(x.shape[0])
    x_mix = lam * x + (1.0 - lam) * x[perm]
    y_mix = lam * y + (1.0 - lam) * y[perm]
    return x_mix, y_mix, lam, perm
    # END SOLUTION

"""Known mistakes of the dropout assignment: wrong versions of the students' functions, for the checks to
name when a student's values match one ("...; your values match no rescaling by 1 / (1 - p) ...").

The catalogue's format, and what a description may say: docs/authoring.md, section 6. Every entry
has a mutant in ``tests/mutants/dropout/`` whose ``hint:`` header names it.
"""

from __future__ import annotations

import numpy as np


def no_rescaling(x, p, train, rng):
    """x * keep: the units kept are not scaled by 1 / (1 - p), so E[out] = (1 - p) x."""
    if not train:
        return np.array(x, dtype=np.float64), None
    keep = rng.random(np.shape(x)) >= p
    return x * keep, keep


def keeps_with_probability_p(x, p, train, rng):
    """keep = rng.random(x.shape) < p: each unit KEPT with probability p (p read as the keep probability)."""
    if not train:
        return np.array(x, dtype=np.float64), None
    keep = rng.random(np.shape(x)) < p
    return x * keep / (1.0 - p), keep


def scaled_by_p(x, p, train, rng):
    """x * keep / p: the kept units scaled by 1 / p instead of 1 / (1 - p)."""
    if not train:
        return np.array(x, dtype=np.float64), None
    keep = rng.random(np.shape(x)) >= p
    return x * keep / p, keep


def scaling_in_evaluation(x, p, train, rng):
    """Evaluation returns (1 - p) x, as the non-inverted dropout does; inverted dropout scales in training
    only, so that evaluation is the identity."""
    if not train:
        return (1.0 - p) * np.asarray(x, dtype=np.float64), None
    keep = rng.random(np.shape(x)) >= p
    return x * keep / (1.0 - p), keep


def backward_without_mask(dout, keep, p):
    """dout / (1 - p): the gradient reaches the dropped units too."""
    if keep is None:
        return np.array(dout, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # p = 1: the mistake's own inf, never a warning
        return dout / (1.0 - p)


def backward_without_scale(dout, keep, p):
    """dout * keep: the 1 / (1 - p) of the forward pass forgotten in the backward pass."""
    if keep is None:
        return np.array(dout, dtype=np.float64)
    return dout * keep


CATALOGUE = {
    "dropout_forward": {
        "no rescaling of the kept units by 1 / (1 - p) (out = x * keep)": no_rescaling,
        "keep = rng.random(x.shape) < p, which keeps each unit with probability p instead of 1 - p": keeps_with_probability_p,
        "the kept units scaled by 1 / p instead of 1 / (1 - p)": scaled_by_p,
        "evaluation scaled by (1 - p), the old non-inverted dropout; with inverted dropout evaluation returns x":
            scaling_in_evaluation,
    },
    "dropout_backward": {
        "the backward pass without the mask (dout / (1 - p)): dropped units get no gradient": backward_without_mask,
        "the backward pass without the scale (dout * keep): the forward pass's 1 / (1 - p) is part of the gradient":
            backward_without_scale,
    },
}

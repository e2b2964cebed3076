# mutant: keep = rng.random(x.shape) < 1 - p: the right probability, but another mask than the contract's
# function: dropout_forward
# caught-by: forward_matches_torch, forward_values
"""Reference solution of the ``dropout`` assignment (hidden from students).

Inverted dropout, as in PyTorch: in training each unit is kept with probability 1 − p and the kept
ones are scaled by 1 / (1 − p), so E[out] = x and nothing changes at evaluation time.
"""

from __future__ import annotations

import numpy as np


def dropout_forward(x: np.ndarray, p: float, train: bool,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """keep = rng.random(x.shape) >= p and out = x * keep / (1 - p) in training (zeros for p = 1);
    (a copy of x, None) in evaluation, rng untouched. ValueError for p outside [0, 1]."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p is the probability of dropping a unit, in [0, 1]; got {p!r}")
    x = np.asarray(x, dtype=np.float64)
    if not train:
        return x.copy(), None
    keep = rng.random(x.shape) < 1.0 - p
    if p == 1.0:
        return np.zeros_like(x), keep
    return x * keep / (1.0 - p), keep


def dropout_backward(dout: np.ndarray, keep: np.ndarray | None, p: float) -> np.ndarray:
    """dout where keep is None (evaluation); dout * keep / (1 - p) otherwise, zeros for p = 1."""
    dout = np.asarray(dout, dtype=np.float64)
    if keep is None:
        return dout.copy()
    if p == 1.0:
        return np.zeros_like(dout)
    return dout * keep / (1.0 - p)

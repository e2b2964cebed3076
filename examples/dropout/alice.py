"""Alice's dropout: a scale factor and np.where, every case written out."""

import numpy as np


def _check_p(p):
    if p < 0 or p > 1:
        raise ValueError("dropout probability must be between 0 and 1")


def dropout_forward(x, p, train, rng):
    _check_p(p)
    if not train:
        return np.array(x, dtype=float), None
    u = rng.uniform(size=np.shape(x))  # the same numbers as rng.random(x.shape)
    keep = u >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return np.where(keep, np.asarray(x) * scale, 0.0), keep


def dropout_backward(dout, keep, p):
    if keep is None:
        return np.array(dout, dtype=float)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return np.where(keep, np.asarray(dout) * scale, 0.0)

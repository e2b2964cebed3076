"""Bob's dropout: he drops the units but forgets to scale the ones he keeps (out = x * mask)."""

import numpy as np


def dropout_forward(x, p, train, rng):
    if not 0 <= p <= 1:
        raise ValueError(f"bad p: {p}")
    if not train:
        return x.copy(), None
    mask = rng.random(x.shape) >= p
    return x * mask, mask


def dropout_backward(dout, keep, p):
    if keep is None:
        return dout.copy()
    if p == 1:
        return np.zeros_like(dout)
    return dout * keep / (1 - p)

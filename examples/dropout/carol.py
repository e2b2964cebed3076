"""Carol's dropout: she reads p as the probability of keeping a unit (mask = rng.random(shape) < p)."""

import numpy as np


def dropout_forward(x, p, train, rng):
    if p < 0 or p > 1:
        raise ValueError("p must be in [0, 1]")
    if train is False:
        return np.copy(x), None
    mask = rng.random(x.shape) < p
    if p == 1:
        return np.zeros(x.shape), mask
    return x * mask / (1 - p), mask


def dropout_backward(dout, keep, p):
    if keep is None:
        return np.copy(dout)
    if p == 1:
        return np.zeros(dout.shape)
    return dout * keep / (1 - p)

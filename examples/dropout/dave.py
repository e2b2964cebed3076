"""Dave's dropout: a correct forward pass, but his backward pass applies the mask and forgets the scale."""

import numpy as np


def dropout_forward(x, p, train, rng):
    if not (0.0 <= p <= 1.0):
        raise ValueError("p out of range")
    x = np.asarray(x, dtype=np.float64)
    if not train:
        return x.copy(), None
    keep = rng.random(x.shape) >= p
    out = np.zeros_like(x)
    if p < 1.0:
        out[keep] = x[keep] / (1.0 - p)
    return out, keep


def dropout_backward(dout, keep, p):
    if keep is None:
        return np.array(dout, dtype=np.float64)
    return dout * keep

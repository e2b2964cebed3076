"""Dave's Kaiming init: N(0, 2 / n) written straight into rng.normal, and ReLU gain everywhere."""

import numpy as np


def fan_in(shape):
    if len(shape) < 2:
        raise ValueError("shape must have at least two dimensions")
    return int(np.prod(shape[1:]))


def kaiming_normal(shape, rng, gain=2.0):
    return rng.normal(0, gain / fan_in(shape), size=shape)


def init_mlp(sizes, rng):
    return [(kaiming_normal((n_out, n_in), rng), np.zeros(n_out)) for n_in, n_out in zip(sizes, sizes[1:])]

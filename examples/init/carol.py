"""Carol's Kaiming init: she remembered Kaiming *uniform* from PyTorch's nn.Linear docs."""

import numpy as np


def fan_in(shape):
    assert len(shape) >= 2, "weight needs (out, in, ...)"
    n = shape[1]
    for k in shape[2:]:
        n = n * k
    return n


def kaiming_normal(shape, rng, gain=2.0):
    # same variance as N(0, gain / fan_in): Var(U(-b, b)) = b^2 / 3
    bound = np.sqrt(3.0 * gain / fan_in(shape))
    return rng.uniform(-bound, bound, size=shape)


def init_mlp(sizes, rng):
    params = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        params.append((kaiming_normal((b, a), rng, gain=1.0 if last else 2.0), np.zeros(b)))
    return params

"""Kaiming init homework -- Alice.

I draw with rng.normal(mean, std, size) (the same numbers as standard_normal * std) and build the
MLP with an explicit loop over (fan_in, fan_out) pairs.
"""

import numpy as np


def fan_in(shape):
    if len(shape) < 2:
        raise ValueError("need a weight shape (out, in, ...), got %r" % (shape,))
    receptive_field = 1
    for k in shape[2:]:          # kernel dims, if it is a convolution
        receptive_field *= k
    return shape[1] * receptive_field


def kaiming_normal(shape, rng, gain=2.0):
    std = np.sqrt(gain) / np.sqrt(fan_in(shape))
    return rng.normal(loc=0.0, scale=std, size=shape)


def init_mlp(sizes, rng):
    params = []
    n_layers = len(sizes) - 1
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        is_output = layer == n_layers - 1
        std = np.sqrt((1.0 if is_output else 2.0) / n_in)
        W = rng.normal(0.0, std, size=(n_out, n_in))
        params.append([W, np.zeros(n_out)])
    return params

"""Bob's Kaiming init. He writes his layers as x @ W, so his weights come out (fan_in, fan_out)."""

import math

import numpy as np


def fan_in(shape):
    if len(shape) < 2:
        raise ValueError("fan_in needs at least 2 dims")
    return int(shape[1] * np.prod(shape[2:]))


def kaiming_normal(shape, rng, gain=2.0):
    return rng.standard_normal(shape) * math.sqrt(gain / fan_in(shape))


def init_mlp(sizes, rng):
    layers = []
    for i in range(len(sizes) - 1):
        gain = 1.0 if i == len(sizes) - 2 else 2.0
        W = kaiming_normal((sizes[i], sizes[i + 1]), rng, gain)   # so that h = x @ W
        layers.append((W, np.zeros(sizes[i + 1])))
    return layers

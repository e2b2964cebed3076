# mutant: init_mlp draws every weight from N(0, 1), without the Kaiming scale
# function: init_mlp
# caught-by: init_mlp_scales, init_mlp_values, kaiming_trains_better
"""Reference solution of the ``init`` assignment (hidden from students): Kaiming initialization.

A weight of shape ``(fan_out, fan_in)`` (linear) or ``(out_channels, in_channels, k1, k2, ...)``
(convolution) is drawn from N(0, gain / fan_in); gain 2 keeps the second moment of the activations
constant through ReLU layers. Randomness only through the ``rng`` passed in.
"""

from __future__ import annotations

import math

import numpy as np


def fan_in(shape: tuple[int, ...]) -> int:
    """(out, in) -> in; (out, in, k1, k2, ...) -> in * k1 * k2 * ...; fewer than 2 dims is a ValueError."""
    dims = tuple(int(d) for d in shape)
    if len(dims) < 2:
        raise ValueError(f"a weight shape needs at least 2 dimensions (out, in, ...), got {dims}")
    return dims[1] * math.prod(dims[2:])


def kaiming_normal(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 2.0) -> np.ndarray:
    """rng.standard_normal(shape) * sqrt(gain / fan_in(shape)): N(0, gain / fan_in), gain 2 for ReLU."""
    return rng.standard_normal(shape) * math.sqrt(gain / fan_in(shape))


def init_mlp(sizes: list[int], rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """sizes = [d_in, h1, ..., d_out] -> [(W1, b1), ...], W of shape (fan_out, fan_in), b = 0 of shape (fan_out,).

    Every layer but the last uses gain 2 (it feeds a ReLU); the last uses gain 1. The weights are
    drawn layer by layer, first layer first.
    """
    n_layers = len(sizes) - 1
    layers = []
    for i in range(n_layers):
        d_in, d_out = int(sizes[i]), int(sizes[i + 1])
        gain = 1.0 if i == n_layers - 1 else 2.0
        layers.append((rng.standard_normal((d_out, d_in)), np.zeros(d_out)))
    return layers

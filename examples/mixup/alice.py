"""Alice's mixup: a shuffled index array, one weight, and the blend written as an interpolation."""

import numpy as np


def mixup(x, y, alpha, rng):
    n = len(x)
    (weight,) = rng.beta(alpha, alpha, size=1)  # one weight for the batch, drawn first
    order = np.arange(n)
    rng.shuffle(order)  # same draws as rng.permutation(n)

    partner_x = np.take(x, order, axis=0)
    x_mix = partner_x + weight * (x - partner_x)  # = weight * x + (1 - weight) * partner_x

    y_mix = np.empty_like(y, dtype=float)
    for i in range(n):
        y_mix[i] = weight * y[i] + (1 - weight) * y[order[i]]
    return x_mix, y_mix, float(weight), order

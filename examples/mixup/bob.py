"""Bob's mixup: shuffles the batch first, then picks the mixing weight."""

import numpy as np


def mixup(x, y, alpha, rng):
    # shuffle the batch to find a partner for every example
    index = rng.permutation(x.shape[0])
    x2, y2 = x[index], y[index]
    # how much of the original example to keep
    lam = rng.beta(alpha, alpha)
    mixed_x = lam * x + (1 - lam) * x2
    mixed_y = lam * y + (1 - lam) * y2
    return mixed_x, mixed_y, lam, index

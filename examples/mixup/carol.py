"""Carol's mixup: every example gets its own mixing weight ("more randomness is better")."""

import numpy as np


def mixup(x, y, alpha, rng):
    n = x.shape[0]
    lam = rng.beta(alpha, alpha, size=n)
    perm = rng.permutation(n)
    lam_x = lam.reshape(n, *([1] * (x.ndim - 1)))
    x_mix = lam_x * x + (1 - lam_x) * x[perm]
    y_mix = lam[:, np.newaxis] * y + (1 - lam[:, np.newaxis]) * y[perm]
    return x_mix, y_mix, lam, perm

# mutant: draws one lambda per example (size=N) instead of one for the batch, and returns them all
# function: mixup
# caught-by: input_mixture, label_mixture, lambda_distribution, seeded_draws, values
"""Reference solution of the ``mixup`` assignment (hidden from students).

mixup blends each example of a batch with another one of the same batch, and blends the labels the
same way: an input that is λ cat and 1 − λ dog gets the label λ cat, 1 − λ dog.
"""

from __future__ import annotations

import numpy as np


def mixup(x: np.ndarray, y: np.ndarray, alpha: float,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """One λ ~ Beta(alpha, alpha) for the batch, drawn first, then perm = rng.permutation(N).

    Returns (λ x + (1 − λ) x[perm], λ y + (1 − λ) y[perm], λ, perm); x and y are left as they were.
    """
    n = x.shape[0]
    lam = rng.beta(alpha, alpha, size=n)
    perm = rng.permutation(n)
    lam_x = lam.reshape((n,) + (1,) * (x.ndim - 1))
    x_mix = lam_x * x + (1.0 - lam_x) * x[perm]
    y_mix = lam[:, None] * y + (1.0 - lam[:, None]) * y[perm]
    return x_mix, y_mix, lam, perm

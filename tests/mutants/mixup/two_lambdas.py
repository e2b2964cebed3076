# mutant: draws one lambda for x and another for y (two rng.beta calls), returns the one of x
# function: mixup
# caught-by: label_mixture, seeded_draws, values
# hint: two different lambdas, one drawn for the inputs and another for the labels; draw one lambda and blend x and y with it alike
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
    lam = float(rng.beta(alpha, alpha))
    lam_y = float(rng.beta(alpha, alpha))
    perm = rng.permutation(x.shape[0])
    x_mix = lam * x + (1.0 - lam) * x[perm]
    y_mix = lam_y * y + (1.0 - lam_y) * y[perm]
    return x_mix, y_mix, lam, perm

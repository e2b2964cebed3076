"""Known mistakes of the mixup assignment: wrong versions of the students' mixup, for the checks to name
when a student's values match one ("...; your values match two different lambdas ...").

The catalogue's format, and what a description may say: docs/authoring.md, section 6. Every entry
has a mutant in ``tests/mutants/mixup/`` whose ``hint:`` header names it. Only the hidden checks use
it (the visible ones name their mistakes in ``common.py``).
"""

from __future__ import annotations

import numpy as np


def two_lambdas(x, y, alpha, rng):
    """One λ for the inputs and another for the labels (two rng.beta draws, then the permutation), the
    inputs' λ returned: an input that is λ cat and 1 − λ dog no longer gets the label λ cat, 1 − λ dog."""
    lam_x = float(rng.beta(alpha, alpha))
    lam_y = float(rng.beta(alpha, alpha))
    perm = rng.permutation(np.asarray(x).shape[0])
    return lam_x * x + (1.0 - lam_x) * x[perm], lam_y * y + (1.0 - lam_y) * y[perm], lam_x, perm


CATALOGUE = {
    "mixup": {
        "two different lambdas, one drawn for the inputs and another for the labels; draw one lambda and "
        "blend x and y with it alike": two_lambdas,
    },
}

# mutant: the loss sums over the batch: no 1/N
# function: cross_entropy
# caught-by: batch_mean, cross_entropy_indices_matches_torch, cross_entropy_indices_values, cross_entropy_probabilities_matches_torch, cross_entropy_probabilities_values, purity
# hint: the sum over the batch instead of the mean (the loss is missing its 1/N)
"""Reference solution of the ``cross_entropy`` assignment (hidden from students).

Logits are float64 arrays; a target is either class indices, an integer array of shape (N,), or
probabilities, a float array of shape (N, K) whose rows sum to 1. Every function shifts each row by
its own maximum before ``exp``, so logits of magnitude 1e4 stay finite, and the loss is computed
from the log-softmax directly (never ``log`` of a probability, which underflows to 0). The
functions are self-contained on purpose and never modify their arguments.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z), along the last axis."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    """L = -(1/N) sum_n sum_k y_nk log softmax(z)_nk, with log softmax(z) = z - m - log sum exp(z - m)."""
    z = np.asarray(logits, dtype=np.float64)
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    target = np.asarray(target)
    if target.ndim == 1:  # class indices
        return float(-log_p[np.arange(n), target].sum())
    return float(-(target * log_p).sum())


def cross_entropy_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/dz = (softmax(z) - y) / N, with y the one-hot rows of class indices, or the probabilities."""
    z = np.asarray(logits, dtype=np.float64)
    n = z.shape[0]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    target = np.asarray(target)
    if target.ndim == 1:  # class indices
        y = np.zeros_like(p)
        y[np.arange(n), target] = 1.0
    else:
        y = np.asarray(target, dtype=np.float64)
    return (p - y) / n

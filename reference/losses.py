# BEGIN REFERENCE
"""Reference solution of the ``cross_entropy`` assignment (hidden from students).

Logits are float64 arrays; a target is either class indices, an integer array of shape (N,), or
probabilities, a float array of shape (N, K) whose rows sum to 1. Every function shifts each row by
its own maximum before ``exp``, so logits of magnitude 1e4 stay finite, and the loss is computed
from the log-softmax directly (never ``log`` of a probability, which underflows to 0). The
functions are self-contained on purpose and never modify their arguments.
"""
# END REFERENCE
# BEGIN STUDENT
# """Softmax and the cross-entropy loss for classification, with its gradient.
#
# * ``logits`` are float64 NumPy arrays of shape (N, K): N examples, K classes (``softmax`` takes any
#   shape and works along the last axis).
# * A ``target`` comes in one of two forms:
#     - class indices: an integer array of shape (N,), each in 0 .. K-1;
#     - probabilities: a float array of shape (N, K) whose rows sum to 1 (soft labels, as mixup
#       makes; a one-hot row is the probability form of a class index).
# * Logits may be as large as 1e4 in magnitude: every function must stay finite and correct there.
# * The functions are pure: never modify ``logits`` or ``target``; return new arrays.
# * ``torch.nn.functional``, ``scipy.special.softmax``, ``scipy.special.log_softmax``,
#   ``scipy.special.logsumexp`` and torch's ``softmax``, ``log_softmax`` and ``logsumexp`` are
#   forbidden: use NumPy.
#
# Check your work with ``grader check cross_entropy`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    # BEGIN STUDENT
    # """Softmax along the last axis; same shape as ``logits``, each row sums to 1.
    #
    #     softmax(z)_k = exp(z_k) / Σ_j exp(z_j)
    #
    # exp(1e4) overflows float64 and exp(-1e4) underflows to 0. Softmax does not change when a
    # constant is added to a row, so subtract each row's own maximum first:
    #
    #     softmax(z)_k = exp(z_k − m) / Σ_j exp(z_j − m),   m = max_j z_j   (of that row)
    # """
    # # TODO: implement softmax.
    # END STUDENT
    # BEGIN SOLUTION
    """softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z), along the last axis."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    # END SOLUTION


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    # BEGIN STUDENT
    # """The mean cross-entropy loss of a batch, a Python float (natural log).
    #
    #     L = −(1/N) Σ_n Σ_k y_nk log softmax(z_n)_k
    #
    # ``target`` of shape (N,) holds class indices (y_n is then the one-hot row of class target[n],
    # and the inner sum is just −log softmax(z_n)_{target[n]}); of shape (N, K) it holds y itself.
    # The mean is over the N examples only (not over the N × K entries).
    #
    # Do not take the log of a softmax probability: a class 1000 below its row's maximum has
    # probability exp(−1000), which is 0 in float64, and log(0) = −inf. Compute the log-softmax
    # directly:
    #
    #     log softmax(z)_k = z_k − m − log Σ_j exp(z_j − m),   m = max_j z_j
    #
    # Equals ``torch.nn.functional.cross_entropy(logits, target)`` for both target forms.
    # """
    # # TODO: implement the loss.
    # END STUDENT
    # BEGIN SOLUTION
    """L = -(1/N) sum_n sum_k y_nk log softmax(z)_nk, with log softmax(z) = z - m - log sum exp(z - m)."""
    z = np.asarray(logits, dtype=np.float64)
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    target = np.asarray(target)
    if target.ndim == 1:  # class indices
        return float(-log_p[np.arange(n), target].sum() / n)
    return float(-(target * log_p).sum() / n)
    # END SOLUTION


def cross_entropy_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    # BEGIN STUDENT
    # """The gradient of ``cross_entropy`` with respect to the logits, shape (N, K):
    #
    #     ∂L/∂z = (softmax(z) − y) / N
    #
    # with y the one-hot rows of the class indices, or the probabilities themselves. Keep the 1/N:
    # the loss is a mean over the batch.
    # """
    # # TODO: implement the gradient.
    # END STUDENT
    # BEGIN SOLUTION
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
    # END SOLUTION

"""Softmax and the cross-entropy loss for classification, with its gradient.

* ``logits`` are float64 NumPy arrays of shape (N, K): N examples, K classes (``softmax`` takes any
  shape and works along the last axis).
* A ``target`` comes in one of two forms:
    - class indices: an integer array of shape (N,), each in 0 .. K-1;
    - probabilities: a float array of shape (N, K) whose rows sum to 1 (soft labels, as mixup
      makes; a one-hot row is the probability form of a class index).
* Logits may be as large as 1e4 in magnitude: every function must stay finite and correct there.
* The functions are pure: never modify ``logits`` or ``target``; return new arrays.
* ``torch.nn.functional``, ``scipy.special.softmax``, ``scipy.special.log_softmax``,
  ``scipy.special.logsumexp`` and torch's ``softmax``, ``log_softmax`` and ``logsumexp`` are
  forbidden: use NumPy.

Check your work with ``grader check cross_entropy`` (the visible checks; hidden ones run at grading).
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax along the last axis; same shape as ``logits``, each row sums to 1.

        softmax(z)_k = exp(z_k) / Σ_j exp(z_j)

    exp(1e4) overflows float64 and exp(-1e4) underflows to 0. Softmax does not change when a
    constant is added to a row, so subtract each row's own maximum first:

        softmax(z)_k = exp(z_k − m) / Σ_j exp(z_j − m),   m = max_j z_j   (of that row)
    """
    # TODO: implement softmax.
    raise NotImplementedError("softmax is not implemented yet")


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    """The mean cross-entropy loss of a batch, a Python float (natural log).

        L = −(1/N) Σ_n Σ_k y_nk log softmax(z_n)_k

    ``target`` of shape (N,) holds class indices (y_n is then the one-hot row of class target[n],
    and the inner sum is just −log softmax(z_n)_{target[n]}); of shape (N, K) it holds y itself.
    The mean is over the N examples only (not over the N × K entries).

    Do not take the log of a softmax probability: a class 1000 below its row's maximum has
    probability exp(−1000), which is 0 in float64, and log(0) = −inf. Compute the log-softmax
    directly:

        log softmax(z)_k = z_k − m − log Σ_j exp(z_j − m),   m = max_j z_j

    Equals ``torch.nn.functional.cross_entropy(logits, target)`` for both target forms.
    """
    # TODO: implement the loss.
    raise NotImplementedError("cross_entropy is not implemented yet")


def cross_entropy_grad(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The gradient of ``cross_entropy`` with respect to the logits, shape (N, K):

        ∂L/∂z = (softmax(z) − y) / N

    with y the one-hot rows of the class indices, or the probabilities themselves. Keep the 1/N:
    the loss is a mean over the batch.
    """
    # TODO: implement the gradient.
    raise NotImplementedError("cross_entropy_grad is not implemented yet")

"""Known mistakes of the cross_entropy assignment: wrong versions of the students' functions, for the
checks to name when a student's values match one ("...; your values match the sum over the batch ...").

The catalogue's format, and what a description may say: docs/authoring.md, section 6. Every entry
has a mutant in ``tests/mutants/cross_entropy/`` whose ``hint:`` header names it.
"""

from __future__ import annotations

import numpy as np


def _log_softmax(logits):
    """z - m - log(sum(exp(z - m))) with m each row's max, as the assignment computes it."""
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _probabilities(target, k: int) -> np.ndarray:
    """The target as rows of probabilities: class indices become one-hot rows."""
    target = np.asarray(target)
    return np.eye(k)[target] if target.ndim == 1 else np.asarray(target, dtype=np.float64)


def loss_summed_over_batch(logits, target):
    """-sum_n sum_k y_nk log softmax(z)_nk: the examples' losses added up, the 1/N of the mean left out."""
    log_p = _log_softmax(logits)
    return float(-(_probabilities(target, log_p.shape[1]) * log_p).sum())


def loss_mean_over_entries(logits, target):
    """-mean(y * log softmax(z)) over all N x K entries: np.mean divides by N K, so the loss is 1/K of the
    true one (a sum over the classes, then a mean over the examples)."""
    log_p = _log_softmax(logits)
    return float(-np.mean(_probabilities(target, log_p.shape[1]) * log_p))


def loss_of_argmax_classes(logits, target):
    """Probability targets replaced by their most likely class: soft labels become hard ones."""
    log_p = _log_softmax(logits)
    target = np.asarray(target)
    labels = target.argmax(axis=1) if target.ndim == 2 else target
    return float(-log_p[np.arange(len(log_p)), labels].mean())


def grad_without_mean(logits, target):
    """softmax(z) - y: the gradient of the summed loss, the 1/N of the mean left out."""
    p = np.exp(_log_softmax(logits))
    return p - _probabilities(target, p.shape[1])


def grad_sign_flipped(logits, target):
    """(y - softmax(z)) / N: the gradient of -L, which gradient descent climbs."""
    p = np.exp(_log_softmax(logits))
    return (_probabilities(target, p.shape[1]) - p) / len(p)


CATALOGUE = {
    "cross_entropy": {
        "the sum over the batch instead of the mean (the loss is missing its 1/N)": loss_summed_over_batch,
        "a mean over all N x K entries of y log p, which also divides by the number of classes; sum over the "
        "classes, then average over the examples": loss_mean_over_entries,
        "the loss of the most likely class of each target row: with soft labels every class counts":
            loss_of_argmax_classes,
    },
    "cross_entropy_grad": {
        "the gradient without the 1/N of the mean, softmax(z) - y instead of (softmax(z) - y) / N": grad_without_mean,
        "the gradient with its sign flipped, (y - softmax(z)) / N instead of (softmax(z) - y) / N": grad_sign_flipped,
    },
}

# BEGIN REFERENCE
"""Reference solution of the ``weight_decay`` assignment (hidden from students).

L2 regularization and weight decay: the penalty and its gradient, gradient descent with weight
decay (the same as gradient descent on L + R), and AdamW (decoupled weight decay). The functions
never modify their arguments.
"""
# END REFERENCE
# BEGIN STUDENT
# """Weight decay: the L2 penalty, gradient descent with weight decay, and AdamW.
#
# * ``theta`` and ``grad`` are float64 NumPy arrays of the same shape (any shape: a vector, a weight
#   matrix, ...). ``lam`` (λ) is the strength of the penalty, ``lr`` (η) the learning rate.
# * ``adamw`` has the optimizer signature of the optimizers assignment::
#
#       adamw(theta, grad, state, lr, **hyper) -> (theta_new, state_new)
#
#   ``state`` is ``{}`` on the first call; you decide what it holds (arrays and numbers only) and
#   return the new one. ``t`` below counts calls, starting at 1.
# * The functions are pure: never modify ``theta``, ``grad`` or ``state``; return new objects.
# * Everything is elementwise. ``torch.optim`` is forbidden: use NumPy.
#
# Check your work with ``grader check weight_decay`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import numpy as np


def l2_penalty(theta: np.ndarray, lam: float) -> float:
    # BEGIN STUDENT
    # """The L2 penalty R(θ) = λ Σᵢ θᵢ², summed over every element of ``theta`` whatever its shape.
    #
    # Returns a float (a single number, not an array).
    # """
    # # TODO: implement the penalty.
    # END STUDENT
    # BEGIN SOLUTION
    """R(theta) = lam * sum_i theta_i**2, over every element whatever the shape, as a float."""
    return float(lam * np.sum(theta * theta))
    # END SOLUTION


def l2_grad(grad: np.ndarray, theta: np.ndarray, lam: float) -> np.ndarray:
    # BEGIN STUDENT
    # """The gradient of L + R, given the gradient ``grad`` of the loss L:
    #
    #     g′ = g + 2 λ θ          (the derivative of λ θᵢ² is 2 λ θᵢ)
    #
    # Returns a new array of the shape of ``theta``.
    # """
    # # TODO: implement the gradient of L + R.
    # END STUDENT
    # BEGIN SOLUTION
    """The gradient of L + R from the gradient of L: g' = g + 2 lam theta."""
    return grad + 2.0 * lam * theta
    # END SOLUTION


def sgd_weight_decay(theta: np.ndarray, grad: np.ndarray, lr: float, lam: float) -> np.ndarray:
    # BEGIN STUDENT
    # """One step of gradient descent with weight decay; ``grad`` is the gradient of the loss L alone:
    #
    #     θ ← (1 − 2 η λ) θ − η g
    #
    # This is one step of plain gradient descent on L + R, θ − η (g + 2 λ θ): the lecture's proof that
    # weight decay is L2 regularization for gradient descent. No state: returns only the new θ.
    # """
    # # TODO: implement one step of gradient descent with weight decay.
    # END STUDENT
    # BEGIN SOLUTION
    """One step of gradient descent with weight decay: theta <- (1 - 2 lr lam) theta - lr grad."""
    return (1.0 - 2.0 * lr * lam) * theta - lr * grad
    # END SOLUTION


def adamw(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, weight_decay: float = 0.01,
          beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> tuple[np.ndarray, dict]:
    # BEGIN STUDENT
    # """AdamW: Adam with decoupled weight decay. ``grad`` is the gradient of the loss L alone.
    #
    #     θ ← θ (1 − η · weight_decay)              (first: the decay, outside Adam)
    #     m ← β₁ m + (1 − β₁) g                     (m₀ = 0, the raw gradient: no penalty in it)
    #     v ← β₂ v + (1 − β₂) g²                    (v₀ = 0)
    #     m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)       (t = 1 on the first call)
    #     θ ← θ − η m̂ / (√v̂ + ε)                    (from the decayed θ)
    #
    # Not Adam on L + R: adding the penalty's gradient to g would send the decay through Adam's
    # division by √v̂. Equals ``torch.optim.AdamW(lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)``.
    # """
    # # TODO: implement AdamW.
    # END STUDENT
    # BEGIN SOLUTION
    """AdamW: theta <- theta (1 - lr weight_decay), then the bias-corrected Adam step with the raw gradient."""
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    decayed = theta * (1.0 - lr * weight_decay)
    return decayed - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}
    # END SOLUTION

# mutant: l2_penalty sums |theta| (an L1 penalty) instead of theta**2
# function: l2_penalty
# caught-by: l2_penalty_matches_torch, l2_penalty_values
# hint: the L1 penalty lam * sum(|theta|) instead of lam * sum(theta**2)
"""Reference solution of the ``weight_decay`` assignment (hidden from students).

L2 regularization and weight decay: the penalty and its gradient, gradient descent with weight
decay (the same as gradient descent on L + R), and AdamW (decoupled weight decay). The functions
never modify their arguments.
"""

from __future__ import annotations

import numpy as np


def l2_penalty(theta: np.ndarray, lam: float) -> float:
    """R(theta) = lam * sum_i theta_i**2, over every element whatever the shape, as a float."""
    return float(lam * np.sum(np.abs(theta)))


def l2_grad(grad: np.ndarray, theta: np.ndarray, lam: float) -> np.ndarray:
    """The gradient of L + R from the gradient of L: g' = g + 2 lam theta."""
    return grad + 2.0 * lam * theta


def sgd_weight_decay(theta: np.ndarray, grad: np.ndarray, lr: float, lam: float) -> np.ndarray:
    """One step of gradient descent with weight decay: theta <- (1 - 2 lr lam) theta - lr grad."""
    return (1.0 - 2.0 * lr * lam) * theta - lr * grad


def adamw(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, weight_decay: float = 0.01,
          beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> tuple[np.ndarray, dict]:
    """AdamW: theta <- theta (1 - lr weight_decay), then the bias-corrected Adam step with the raw gradient."""
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    decayed = theta * (1.0 - lr * weight_decay)
    return decayed - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}

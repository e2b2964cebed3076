# mutant: adamw runs Adam on g + weight_decay * theta (L2 coupled into the gradient) instead of decaying theta
# function: adamw
# caught-by: adamw_generalizes, adamw_is_not_adam_on_l2, adamw_matches_torch, adamw_step, adamw_trajectories, purity
# hint: Adam on L + R, the weight decay coupled into the gradient (Adam run on g + weight_decay * theta) instead of AdamW's decoupled decay, theta * (1 - lr * weight_decay) outside Adam's update
"""Reference solution of the ``weight_decay`` assignment (hidden from students).

L2 regularization and weight decay: the penalty and its gradient, gradient descent with weight
decay (the same as gradient descent on L + R), and AdamW (decoupled weight decay). The functions
never modify their arguments.
"""

from __future__ import annotations

import numpy as np


def l2_penalty(theta: np.ndarray, lam: float) -> float:
    """R(theta) = lam * sum_i theta_i**2, over every element whatever the shape, as a float."""
    return float(lam * np.sum(theta * theta))


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
    grad = grad + weight_decay * theta
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    decayed = theta
    return decayed - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}

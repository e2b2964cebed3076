# mutant: Adam bias-corrects m but forgets to bias-correct v (v_hat = v)
# function: adam
# caught-by: adam_matches_torch, adam_step, adam_trajectories, purity
# hint: Adam with m bias-corrected but not v (v_hat = v)
"""Reference solution of the ``optimizers`` assignment (hidden from students).

Every step has the signature ``step(theta, grad, state, lr, **hyper) -> (theta_new, state_new)``;
``state`` is ``{}`` on the first call and the functions never modify their arguments.
"""

from __future__ import annotations

import math

import numpy as np


def gd(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float) -> tuple[np.ndarray, dict]:
    """Plain gradient descent: theta <- theta - lr * grad."""
    return theta - lr * grad, {}


def adagrad(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float,
            eps: float = 1e-10) -> tuple[np.ndarray, dict]:
    """s <- s + g**2 (a running sum, s0 = 0); theta <- theta - lr * g / (sqrt(s) + eps)."""
    s = state.get("s", 0.0) + grad * grad
    return theta - lr * grad / (np.sqrt(s) + eps), {"s": s}


def rmsprop(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, alpha: float = 0.9,
            eps: float = 1e-8) -> tuple[np.ndarray, dict]:
    """v <- g**2 on the first call, then v <- alpha v + (1 - alpha) g**2; theta <- theta - lr g / (sqrt(v) + eps)."""
    if "v" in state:
        v = alpha * state["v"] + (1.0 - alpha) * grad * grad
    else:
        v = grad * grad
    return theta - lr * grad / (np.sqrt(v) + eps), {"v": v}


def momentum(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float,
             beta: float = 0.9) -> tuple[np.ndarray, dict]:
    """m <- g on the first call, then m <- beta m + (1 - beta) g; theta <- theta - lr m."""
    if "m" in state:
        m = beta * state["m"] + (1.0 - beta) * grad
    else:
        m = np.array(grad, dtype=float)
    return theta - lr * m, {"m": m}


def adam(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, beta1: float = 0.9,
         beta2: float = 0.999, eps: float = 1e-8, bias_correction: bool = True) -> tuple[np.ndarray, dict]:
    """Adam with m, v from 0 and optional bias correction by (1 - beta**t), t counting calls from 1."""
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    if bias_correction:
        m_hat = m / (1.0 - beta1**t)
        v_hat = v
    else:
        m_hat, v_hat = m, v
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def warmup_cosine_lr(step: int, base_lr: float, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up to base_lr over warmup_steps (step counts from 0), then cosine decay to 0 at total_steps."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * p))

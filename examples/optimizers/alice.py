"""Optimizers homework -- Alice.

All the update rules below are elementwise, so they work for theta of any shape.
"""

from __future__ import annotations

import math

import numpy as np


def gd(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float) -> tuple[np.ndarray, dict]:
    """Plain gradient descent, given as the worked example: θ ← θ − η g."""
    return theta - lr * grad, {}


def adagrad(theta, grad, state, lr, eps=1e-10):
    # accumulated squared gradients (a running sum, starts at zero)
    g2 = np.square(grad)
    sum_sq = g2 if "sum_sq" not in state else state["sum_sq"] + g2
    scale = lr / (eps + np.sqrt(sum_sq))
    new_theta = theta - scale * grad
    return new_theta, {"sum_sq": sum_sq}


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    g2 = np.square(grad)
    if not state:                      # first call: the average starts at g**2
        avg_sq = g2
    else:
        avg_sq = alpha * state["avg_sq"] + (1 - alpha) * g2
    new_theta = theta - lr * grad / (eps + np.sqrt(avg_sq))
    return new_theta, {"avg_sq": avg_sq}


def momentum(theta, grad, state, lr, beta=0.9):
    velocity = state.get("velocity")
    if velocity is None:
        velocity = grad.copy()
    else:
        velocity = beta * velocity + (1 - beta) * grad
    return theta - lr * velocity, {"velocity": velocity}


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    step = state.get("step", 0) + 1
    m1 = state.get("m1", np.zeros_like(grad))
    m2 = state.get("m2", np.zeros_like(grad))
    m1 = beta1 * m1 + (1 - beta1) * grad
    m2 = beta2 * m2 + (1 - beta2) * np.square(grad)
    if bias_correction:
        first = m1 / (1 - beta1 ** step)
        second = m2 / (1 - beta2 ** step)
    else:
        first, second = m1, m2
    update = lr * first / (np.sqrt(second) + eps)
    return theta - update, {"step": step, "m1": m1, "m2": m2}


def warmup_cosine_lr(step: int, base_lr: float, warmup_steps: int, total_steps: int) -> float:
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return 0.5 * base_lr * (1 + math.cos(math.pi * progress))

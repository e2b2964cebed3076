"""Dave's optimizers."""

from __future__ import annotations

import math

import numpy as np


def gd(theta, grad, state, lr):
    return theta - lr * grad, {}


def adagrad(theta, grad, state, lr, eps=1e-10):
    acc = state.get("acc", 0.0) + grad ** 2
    return theta - lr * grad / (np.sqrt(acc) + eps), {"acc": acc}


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    v = grad ** 2 if "v" not in state else alpha * state["v"] + (1 - alpha) * grad ** 2
    return theta - lr * grad / (np.sqrt(v) + eps), {"v": v}


def momentum(theta, grad, state, lr, beta=0.9):
    # velocity keeps a memory of the previous gradients
    if "velocity" in state:
        velocity = beta * state["velocity"] + grad
    else:
        velocity = np.array(grad, dtype=float)
    return theta - lr * velocity, {"velocity": velocity}


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * grad ** 2
    if bias_correction:
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    else:
        m_hat, v_hat = m, v
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * p))

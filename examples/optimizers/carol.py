"""Carol -- optimizers assignment."""

from __future__ import annotations

import math

import numpy as np


def gd(theta, grad, state, lr):
    return theta - lr * grad, {}


def adagrad(theta, grad, state, lr, eps=1e-10):
    G = state["G"] + grad * grad if "G" in state else grad * grad
    # eps keeps the square root away from zero
    return theta - lr * grad / np.sqrt(G + eps), {"G": G}


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    if "v" not in state:
        v = grad * grad
    else:
        v = alpha * state["v"] + (1 - alpha) * grad * grad
    return theta - lr * grad / (np.sqrt(v) + eps), {"v": v}


def momentum(theta, grad, state, lr, beta=0.9):
    m = grad if "m" not in state else beta * state["m"] + (1 - beta) * grad
    return theta - lr * m, {"m": m}


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * grad * grad
    if bias_correction:
        mh, vh = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    else:
        mh, vh = m, v
    return theta - lr * mh / np.sqrt(vh + eps), {"t": t, "m": m, "v": v}


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return base_lr * (1 + math.cos(math.pi * p)) / 2

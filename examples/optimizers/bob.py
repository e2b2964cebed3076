"""Bob's optimizers. RMSprop written like torch.optim.RMSprop (square_avg starts at zeros)."""

from __future__ import annotations

import math

import numpy as np


def gd(theta, grad, state, lr):
    return theta - lr * grad, {}


def adagrad(theta, grad, state, lr, eps=1e-10):
    s = state.get("s", np.zeros_like(theta)) + grad ** 2
    return theta - lr * grad / (np.sqrt(s) + eps), {"s": s}


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    square_avg = state.get("square_avg", np.zeros_like(theta))
    square_avg = alpha * square_avg + (1 - alpha) * grad ** 2
    return theta - lr * grad / (np.sqrt(square_avg) + eps), {"square_avg": square_avg}


def momentum(theta, grad, state, lr, beta=0.9):
    if "buf" in state:
        buf = beta * state["buf"] + (1 - beta) * grad
    else:
        buf = grad.copy()
    return theta - lr * buf, {"buf": buf}


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", np.zeros_like(theta)) + (1 - beta1) * grad
    v = beta2 * state.get("v", np.zeros_like(theta)) + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t) if bias_correction else m
    v_hat = v / (1 - beta2 ** t) if bias_correction else v
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return base_lr * 0.5 * (1 + math.cos(math.pi * p))

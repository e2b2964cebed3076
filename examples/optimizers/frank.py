"""Frank's optimizers: JAX for the elementwise math."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np


def gd(theta, grad, state, lr):
    return theta - lr * grad, {}


def adagrad(theta, grad, state, lr, eps=1e-10):
    s = state.get("s", 0.0) + jnp.square(grad)
    return np.asarray(theta - lr * grad / (jnp.sqrt(s) + eps)), {"s": np.asarray(s)}


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    v = jnp.square(grad) if "v" not in state else alpha * state["v"] + (1 - alpha) * jnp.square(grad)
    return np.asarray(theta - lr * grad / (jnp.sqrt(v) + eps)), {"v": np.asarray(v)}


def momentum(theta, grad, state, lr, beta=0.9):
    m = np.array(grad, dtype=float) if "m" not in state else beta * state["m"] + (1 - beta) * grad
    return theta - lr * m, {"m": m}


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * jnp.square(grad)
    m_hat, v_hat = (m / (1 - beta1 ** t), v / (1 - beta2 ** t)) if bias_correction else (m, v)
    return np.asarray(theta - lr * m_hat / (jnp.sqrt(v_hat) + eps)), {"t": t, "m": np.asarray(m), "v": np.asarray(v)}


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return base_lr * 0.5 * (1 + math.cos(math.pi * p))

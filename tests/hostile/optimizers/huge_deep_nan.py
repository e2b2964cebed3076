# threat: return a huge array, a deeply nested structure, NaN and inf
import numpy as np


def adagrad(theta, grad, state, lr, eps=1e-10):
    return np.zeros(200_000_000), {}


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    deep = []
    for _ in range(100_000):
        deep = [deep]
    return deep, {}


def momentum(theta, grad, state, lr, beta=0.9):
    return np.full_like(theta, np.nan), {}


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    return np.full_like(theta, np.inf), {}


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    return float("nan")

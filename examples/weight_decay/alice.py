"""Alice's regularization module: written from the formulas, PyTorch-style for AdamW.

Her AdamW keeps running products beta1**t and beta2**t instead of a step counter, lerps the first
moment like torch does and folds the bias corrections into the step size and the denominator.
"""

import math

import numpy as np


def l2_penalty(theta, lam):
    flat = np.ravel(theta)
    return lam * float(np.dot(flat, flat))


def l2_grad(grad, theta, lam):
    # d/dtheta of lam * theta^2 is 2 * lam * theta
    return np.add(grad, np.multiply(2 * lam, theta))


def sgd_weight_decay(theta, grad, lr, lam):
    # gradient descent on L + R: theta - lr * (g + 2 lam theta)
    return theta - lr * l2_grad(grad, theta, lam)


def adamw(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    if state:
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        b1_power, b2_power = state["b1_power"] * beta1, state["b2_power"] * beta2
    else:
        exp_avg, exp_avg_sq = np.zeros_like(theta), np.zeros_like(theta)
        b1_power, b2_power = beta1, beta2
    decayed = theta - lr * weight_decay * theta
    exp_avg = exp_avg + (1 - beta1) * (grad - exp_avg)
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * np.square(grad)
    step_size = lr / (1 - b1_power)
    denom = np.sqrt(exp_avg_sq) / math.sqrt(1 - b2_power) + eps
    new_state = {"exp_avg": exp_avg, "exp_avg_sq": exp_avg_sq, "b1_power": b1_power, "b2_power": b2_power}
    return decayed - step_size * exp_avg / denom, new_state

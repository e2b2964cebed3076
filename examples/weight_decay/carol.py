"""Carol's regularization module. She writes the penalty with the norm and forgets to square it
(lam * ||theta|| instead of lam * ||theta||^2), and her weight-decay step shrinks by (1 - lr * lam):
she dropped the 2 of the derivative. Her AdamW is right."""

import numpy as np


def l2_penalty(theta, lam):
    return lam * np.linalg.norm(theta)


def l2_grad(grad, theta, lam):
    return grad + 2.0 * lam * theta


def sgd_weight_decay(theta, grad, lr, lam):
    return (1.0 - lr * lam) * theta - lr * grad


def adamw(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    theta = theta * (1.0 - lr * weight_decay)
    update = (m / (1.0 - beta1 ** t)) / (np.sqrt(v / (1.0 - beta2 ** t)) + eps)
    return theta - lr * update, {"t": t, "m": m, "v": v}

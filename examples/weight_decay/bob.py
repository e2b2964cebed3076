"""Bob's regularization module. His AdamW is "Adam with L2 regularization": he adds the penalty's
gradient 2 * wd * theta to the loss gradient and runs Adam on it, the coupling AdamW was made to undo."""

import numpy as np


def l2_penalty(theta, lam):
    return float(lam * (theta ** 2).sum())


def l2_grad(grad, theta, lam):
    return grad + 2 * lam * theta


def sgd_weight_decay(theta, grad, lr, lam):
    return theta * (1 - 2 * lr * lam) - lr * grad


def adamw(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    g = l2_grad(grad, theta, weight_decay)  # the gradient of L + R
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", np.zeros_like(theta)) + (1 - beta1) * g
    v = beta2 * state.get("v", np.zeros_like(theta)) + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}

"""Dave's regularization module. His l2_grad adds the penalty's gradient into grad in place, and
his AdamW takes the Adam step first and decays afterwards."""

import numpy as np


def l2_penalty(theta, lam):
    return lam * sum(float(x) ** 2 for x in np.ravel(theta))


def l2_grad(grad, theta, lam):
    grad += 2 * lam * theta
    return grad


def sgd_weight_decay(theta, grad, lr, lam):
    return theta - lr * (grad + 2 * lam * theta)


def adamw(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    step = state.get("step", 0) + 1
    m = beta1 * state.get("m", 0) + (1 - beta1) * grad
    v = beta2 * state.get("v", 0) + (1 - beta2) * grad * grad
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    theta = theta * (1 - lr * weight_decay)
    return theta, {"step": step, "m": m, "v": v}

"""Known mistakes of the weight_decay assignment: wrong versions of the students' functions, for the checks
to name when a student's values match one ("...; your values match Adam on L + R, ...").

The catalogue's format, and what a description may say: docs/authoring.md, section 6. Every entry
has a mutant in ``tests/mutants/weight_decay/`` whose ``hint:`` header names it.
"""

from __future__ import annotations

import numpy as np


def l2_penalty_without_lambda(theta, lam):
    """sum(theta**2): lam forgotten."""
    return float(np.sum(theta * theta))


def l1_penalty(theta, lam):
    """lam * sum(|theta|): the L1 penalty, not the squared L2 norm."""
    return float(lam * np.sum(np.abs(theta)))


def l2_grad_lambda_theta(grad, theta, lam):
    """g + lam theta: the derivative of lam theta**2 taken as lam theta, the 2 lost."""
    return grad + lam * theta


def sgd_weight_decay_one_lambda(theta, grad, lr, lam):
    """(1 - lr lam) theta - lr g: the shrink of gradient descent on lam ||theta||**2 without its 2."""
    return (1.0 - lr * lam) * theta - lr * grad


def _adam_update(grad, state, beta1, beta2, eps, *, bias_correction=True):
    """Adam's step direction m_hat / (sqrt(v_hat) + eps) for ``grad``, and the new state (t from 1)."""
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    m_hat, v_hat = (m / (1.0 - beta1**t), v / (1.0 - beta2**t)) if bias_correction else (m, v)
    return m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def adam_on_coupled_decay(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam on g + weight_decay theta, as torch.optim.Adam(weight_decay=...) does: the decay goes through
    Adam's normalisation, which is what AdamW exists to avoid."""
    update, new = _adam_update(grad + weight_decay * theta, state, beta1, beta2, eps)
    return theta - lr * update, new


def adam_on_l2_gradient(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam on the gradient of L + weight_decay ||theta||**2, g + 2 weight_decay theta (l2_grad's form)."""
    update, new = _adam_update(grad + 2.0 * weight_decay * theta, state, beta1, beta2, eps)
    return theta - lr * update, new


def adamw_decay_after(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    """The Adam step first, then the shrink: (theta - lr update)(1 - lr weight_decay)."""
    update, new = _adam_update(grad, state, beta1, beta2, eps)
    return (theta - lr * update) * (1.0 - lr * weight_decay), new


def adamw_without_bias_correction(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    """The decoupled decay right, but m_hat = m and v_hat = v."""
    update, new = _adam_update(grad, state, beta1, beta2, eps, bias_correction=False)
    return theta * (1.0 - lr * weight_decay) - lr * update, new


def adamw_shrink_without_lr(theta, grad, state, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    """theta (1 - weight_decay) before the Adam step: lr left out of the shrink."""
    update, new = _adam_update(grad, state, beta1, beta2, eps)
    return theta * (1.0 - weight_decay) - lr * update, new


CATALOGUE = {
    "l2_penalty": {
        "the penalty without lam, sum(theta**2) instead of lam * sum(theta**2)": l2_penalty_without_lambda,
        "the L1 penalty lam * sum(|theta|) instead of lam * sum(theta**2)": l1_penalty,
    },
    "l2_grad": {
        "g + lam theta instead of g + 2 lam theta (the derivative of lam theta**2 is 2 lam theta)":
            l2_grad_lambda_theta,
    },
    "sgd_weight_decay": {
        "gradient descent with a shrink factor of (1 - lr lam) instead of (1 - 2 lr lam)": sgd_weight_decay_one_lambda,
    },
    "adamw": {
        "Adam on L + R, the weight decay coupled into the gradient (Adam run on g + weight_decay * theta) "
        "instead of AdamW's decoupled decay, theta * (1 - lr * weight_decay) outside Adam's update":
            adam_on_coupled_decay,
        "Adam on L + R, the weight decay coupled into the gradient (Adam run on g + 2 weight_decay * theta) "
        "instead of AdamW's decoupled decay, theta * (1 - lr * weight_decay) outside Adam's update":
            adam_on_l2_gradient,
        "AdamW with the decay after the Adam step instead of before it": adamw_decay_after,
        "AdamW without bias correction (m_hat = m, v_hat = v)": adamw_without_bias_correction,
        "AdamW with a shrink factor of (1 - weight_decay) instead of (1 - lr * weight_decay)": adamw_shrink_without_lr,
    },
}

"""Known mistakes of the optimizers assignment: wrong versions of the students' steps, for the checks to
name when a student's values match one ("...; your values match Adam with eps inside the square root").

The catalogue's format, and what a description may say: docs/authoring.md, section 6. Every entry
has a mutant in ``tests/mutants/optimizers/`` whose ``hint:`` header names it.
"""

from __future__ import annotations

import numpy as np


def adagrad_eps_inside_sqrt(theta, grad, state, lr, eps=1e-10):
    """s <- s + g**2; theta <- theta - lr g / sqrt(s + eps): eps under the root, where it is far larger
    than outside it when s is tiny."""
    s = state.get("s", 0.0) + grad * grad
    return theta - lr * grad / np.sqrt(s + eps), {"s": s}


def adagrad_mean_of_squares(theta, grad, state, lr, eps=1e-10):
    """The squared gradients averaged (s / t) instead of summed, as RMSprop-like code does: the step no
    longer shrinks as the sum grows, which is the point of Adagrad."""
    t = state.get("t", 0) + 1
    s = state.get("s", 0.0) + grad * grad
    return theta - lr * grad / (np.sqrt(s / t) + eps), {"s": s, "t": t}


def rmsprop_eps_inside_sqrt(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    """v as the assignment says, but theta <- theta - lr g / sqrt(v + eps)."""
    v = alpha * state["v"] + (1.0 - alpha) * grad * grad if "v" in state else grad * grad
    return theta - lr * grad / np.sqrt(v + eps), {"v": v}


def rmsprop_v_from_zero(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    """v started at 0 as torch.optim.RMSprop does, so the first v is (1 - alpha) g**2 and the first
    step is 1 / sqrt(1 - alpha) times Adagrad's instead of equal to it."""
    v = alpha * state.get("v", 0.0) + (1.0 - alpha) * grad * grad
    return theta - lr * grad / (np.sqrt(v) + eps), {"v": v}


def momentum_without_dampening(theta, grad, state, lr, beta=0.9):
    """m <- beta m + g (torch SGD's default, dampening 0) instead of the lecture's beta m + (1 - beta) g;
    the first call still sets m = g, so only the second step on shows it."""
    m = beta * state["m"] + grad if "m" in state else np.array(grad, dtype=float)
    return theta - lr * m, {"m": m}


def momentum_m_from_zero(theta, grad, state, lr, beta=0.9):
    """m started at 0, so the first m is (1 - beta) g instead of g (the lecture's form starts at g)."""
    m = beta * state.get("m", 0.0) + (1.0 - beta) * grad
    return theta - lr * m, {"m": m}


def _adam_moments(grad, state, beta1, beta2):
    """t counting calls from 1, and m, v from 0, as the assignment says."""
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    return t, m, v


def adam_eps_inside_sqrt(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    """Adam with theta <- theta - lr m_hat / sqrt(v_hat + eps)."""
    t, m, v = _adam_moments(grad, state, beta1, beta2)
    m_hat, v_hat = (m / (1.0 - beta1**t), v / (1.0 - beta2**t)) if bias_correction else (m, v)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), {"t": t, "m": m, "v": v}


def adam_bias_correction_one_step_ahead(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                                        bias_correction=True):
    """The bias correction divides by 1 - beta**(t + 1), as when a step counter starts at 1 and is
    incremented before its first use: the first step is corrected as if it were the second."""
    t, m, v = _adam_moments(grad, state, beta1, beta2)
    m_hat, v_hat = (m / (1.0 - beta1 ** (t + 1)), v / (1.0 - beta2 ** (t + 1))) if bias_correction else (m, v)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def adam_v_not_corrected(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    """m is bias-corrected and v is not (v_hat = v), so the early steps are far too long."""
    t, m, v = _adam_moments(grad, state, beta1, beta2)
    m_hat, v_hat = (m / (1.0 - beta1**t), v) if bias_correction else (m, v)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


def adam_always_corrected(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    """The bias correction applied whatever the flag says (bias_correction=False ignored)."""
    t, m, v = _adam_moments(grad, state, beta1, beta2)
    m_hat, v_hat = m / (1.0 - beta1**t), v / (1.0 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}


CATALOGUE = {
    "adagrad": {
        "Adagrad with eps inside the square root, g / sqrt(s + eps) instead of g / (sqrt(s) + eps)":
            adagrad_eps_inside_sqrt,
        "Adagrad with the mean of the squared gradients (s / t) instead of their running sum":
            adagrad_mean_of_squares,
    },
    "rmsprop": {
        "RMSprop with eps inside the square root, g / sqrt(v + eps) instead of g / (sqrt(v) + eps)":
            rmsprop_eps_inside_sqrt,
        "RMSprop with v started at zero as in PyTorch; the assignment starts v at the first squared gradient":
            rmsprop_v_from_zero,
    },
    "momentum": {
        "momentum without dampening, m = beta m + g (PyTorch's default), instead of m = beta m + (1 - beta) g":
            momentum_without_dampening,
        "momentum with m started at zero, so that the first step is (1 - beta) g instead of g":
            momentum_m_from_zero,
    },
    "adam": {
        "Adam with eps inside the square root, m_hat / sqrt(v_hat + eps) instead of m_hat / (sqrt(v_hat) + eps)":
            adam_eps_inside_sqrt,
        "Adam with the bias correction one step ahead, 1 - beta**(t + 1) instead of 1 - beta**t "
        "(t is 1 on the first call)": adam_bias_correction_one_step_ahead,
        "Adam with m bias-corrected but not v (v_hat = v)": adam_v_not_corrected,
        "Adam bias-correcting even when bias_correction is False": adam_always_corrected,
    },
}

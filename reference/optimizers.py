# BEGIN REFERENCE
"""Reference solution of the ``optimizers`` assignment (hidden from students).

Every step has the signature ``step(theta, grad, state, lr, **hyper) -> (theta_new, state_new)``;
``state`` is ``{}`` on the first call and the functions never modify their arguments.
"""
# END REFERENCE
# BEGIN STUDENT
# """Optimizers: Adagrad, RMSprop, momentum, Adam and a warm-up/cosine learning-rate schedule.
#
# Every optimizer step has the same signature::
#
#     step(theta, grad, state, lr, **hyper) -> (theta_new, state_new)
#
# * ``theta`` and ``grad`` are float64 NumPy arrays of the same shape (any shape).
# * ``state`` is ``{}`` on the first call; you decide what it holds (arrays and numbers only) and
#   return the new one. ``t`` below counts calls, starting at 1.
# * The functions are pure: never modify ``theta``, ``grad`` or ``state``; return new objects.
# * Everything is elementwise. ``torch.optim`` is forbidden: use NumPy.
#
# Check your work with ``grader check optimizers`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import math  # noqa: F401  (for warmup_cosine_lr)

import numpy as np


def gd(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float) -> tuple[np.ndarray, dict]:
    # BEGIN REFERENCE
    """Plain gradient descent: theta <- theta - lr * grad."""
    # END REFERENCE
    # BEGIN STUDENT
    # """Plain gradient descent, given as the worked example: θ ← θ − η g.
    #
    # Note the pattern: a new array (``theta - lr * grad``), never ``theta -= ...``, and a state
    # (empty here) returned beside it.
    # """
    # END STUDENT
    return theta - lr * grad, {}


def adagrad(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float,
            eps: float = 1e-10) -> tuple[np.ndarray, dict]:
    # BEGIN STUDENT
    # """Adagrad: a per-parameter learning rate from the running sum of squared gradients.
    #
    #     s ← s + g²          (s₀ = 0: a running *sum*, no averaging, as in the lecture)
    #     θ ← θ − η g / (√s + ε)
    #
    # Note where ε goes: outside the square root. Equals ``torch.optim.Adagrad(lr, eps=eps)``.
    # """
    # # TODO: implement Adagrad.
    # END STUDENT
    # BEGIN SOLUTION
    """s <- s + g**2 (a running sum, s0 = 0); theta <- theta - lr * g / (sqrt(s) + eps)."""
    s = state.get("s", 0.0) + grad * grad
    return theta - lr * grad / (np.sqrt(s) + eps), {"s": s}
    # END SOLUTION


def rmsprop(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, alpha: float = 0.9,
            eps: float = 1e-8) -> tuple[np.ndarray, dict]:
    # BEGIN STUDENT
    # """RMSprop: like Adagrad, but recent gradients count more.
    #
    #     first call:  v ← g²              (so the first step equals Adagrad's)
    #     later calls: v ← α v + (1 − α) g²
    #     θ ← θ − η g / (√v + ε)
    #
    # Unlike ``torch.optim.RMSprop``, which starts v at 0, v starts at the first g².
    # """
    # # TODO: implement RMSprop.
    # END STUDENT
    # BEGIN SOLUTION
    """v <- g**2 on the first call, then v <- alpha v + (1 - alpha) g**2; theta <- theta - lr g / (sqrt(v) + eps)."""
    if "v" in state:
        v = alpha * state["v"] + (1.0 - alpha) * grad * grad
    else:
        v = grad * grad
    return theta - lr * grad / (np.sqrt(v) + eps), {"v": v}
    # END SOLUTION


def momentum(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float,
             beta: float = 0.9) -> tuple[np.ndarray, dict]:
    # BEGIN STUDENT
    # """Momentum in the lecture's form (a moving average of gradients, which joins RMSprop into Adam).
    #
    #     first call:  m ← g
    #     later calls: m ← β m + (1 − β) g
    #     θ ← θ − η m
    #
    # Equals ``torch.optim.SGD(lr, momentum=beta, dampening=beta)``.
    # """
    # # TODO: implement momentum.
    # END STUDENT
    # BEGIN SOLUTION
    """m <- g on the first call, then m <- beta m + (1 - beta) g; theta <- theta - lr m."""
    if "m" in state:
        m = beta * state["m"] + (1.0 - beta) * grad
    else:
        m = np.array(grad, dtype=float)
    return theta - lr * m, {"m": m}
    # END SOLUTION


def adam(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, beta1: float = 0.9,
         beta2: float = 0.999, eps: float = 1e-8, bias_correction: bool = True) -> tuple[np.ndarray, dict]:
    # BEGIN STUDENT
    # """Adam: momentum plus RMSprop, with bias correction.
    #
    #     m ← β₁ m + (1 − β₁) g        (m₀ = 0)
    #     v ← β₂ v + (1 − β₂) g²       (v₀ = 0)
    #     with bias correction:  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   (t = 1 on the first call)
    #     without:               m̂ = m,  v̂ = v
    #     θ ← θ − η m̂ / (√v̂ + ε)
    #
    # With ``bias_correction=True`` this equals ``torch.optim.Adam(lr, betas=(beta1, beta2), eps=eps)``.
    # """
    # # TODO: implement Adam.
    # END STUDENT
    # BEGIN SOLUTION
    """Adam with m, v from 0 and optional bias correction by (1 - beta**t), t counting calls from 1."""
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1.0 - beta1) * grad
    v = beta2 * state.get("v", 0.0) + (1.0 - beta2) * grad * grad
    if bias_correction:
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
    else:
        m_hat, v_hat = m, v
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}
    # END SOLUTION


def warmup_cosine_lr(step: int, base_lr: float, warmup_steps: int, total_steps: int) -> float:
    # BEGIN STUDENT
    # """The learning rate at ``step`` (counting from 0): linear warm-up, then a cosine decay to 0.
    #
    #     step < warmup_steps:  η = η₀ (step + 1) / warmup_steps
    #     otherwise:            p = min(1, (step − warmup_steps) / max(1, total_steps − warmup_steps))
    #                           η = η₀ · ½ (1 + cos π p)
    #
    # Returns a float.
    # """
    # # TODO: implement the schedule.
    # END STUDENT
    # BEGIN SOLUTION
    """Linear warm-up to base_lr over warmup_steps (step counts from 0), then cosine decay to 0 at total_steps."""
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * p))
    # END SOLUTION

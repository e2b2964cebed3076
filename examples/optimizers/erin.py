"""Optimizers: Adagrad, RMSprop, momentum, Adam and a warm-up/cosine learning-rate schedule.

Every optimizer step has the same signature::

    step(theta, grad, state, lr, **hyper) -> (theta_new, state_new)

* ``theta`` and ``grad`` are float64 NumPy arrays of the same shape (any shape).
* ``state`` is ``{}`` on the first call; you decide what it holds (arrays and numbers only) and
  return the new one. ``t`` below counts calls, starting at 1.
* The functions are pure: never modify ``theta``, ``grad`` or ``state``; return new objects.
* Everything is elementwise. ``torch.optim`` is forbidden: use NumPy.

Check your work with ``grader check optimizers`` (the visible checks; hidden ones run at grading).
"""

from __future__ import annotations

import math  # noqa: F401  (for warmup_cosine_lr)

import numpy as np


def gd(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float) -> tuple[np.ndarray, dict]:
    """Plain gradient descent, given as the worked example: θ ← θ − η g.

    Note the pattern: a new array (``theta - lr * grad``), never ``theta -= ...``, and a state
    (empty here) returned beside it.
    """
    return theta - lr * grad, {}


def adagrad(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float,
            eps: float = 1e-10) -> tuple[np.ndarray, dict]:
    """Adagrad: a per-parameter learning rate from the running sum of squared gradients.

        s ← s + g²          (s₀ = 0: a running *sum*, no averaging, as in the lecture)
        θ ← θ − η g / (√s + ε)

    Note where ε goes: outside the square root. Equals ``torch.optim.Adagrad(lr, eps=eps)``.
    """
    if "s" in state:
        s = state["s"] + grad ** 2
    else:
        s = grad ** 2
    theta_new = theta - lr * grad / (np.sqrt(s) + eps)
    return theta_new, {"s": s}


def rmsprop(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, alpha: float = 0.9,
            eps: float = 1e-8) -> tuple[np.ndarray, dict]:
    """RMSprop: like Adagrad, but recent gradients count more.

        first call:  v ← g²              (so the first step equals Adagrad's)
        later calls: v ← α v + (1 − α) g²
        θ ← θ − η g / (√v + ε)

    Unlike ``torch.optim.RMSprop``, which starts v at 0, v starts at the first g².
    """
    # TODO: implement RMSprop.
    raise NotImplementedError("rmsprop is not implemented yet")


def momentum(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float,
             beta: float = 0.9) -> tuple[np.ndarray, dict]:
    """Momentum in the lecture's form (a moving average of gradients, which joins RMSprop into Adam).

        first call:  m ← g
        later calls: m ← β m + (1 − β) g
        θ ← θ − η m

    Equals ``torch.optim.SGD(lr, momentum=beta, dampening=beta)``.
    """
    # TODO: implement momentum.
    raise NotImplementedError("momentum is not implemented yet")


def adam(theta: np.ndarray, grad: np.ndarray, state: dict, lr: float, beta1: float = 0.9,
         beta2: float = 0.999, eps: float = 1e-8, bias_correction: bool = True) -> tuple[np.ndarray, dict]:
    """Adam: momentum plus RMSprop, with bias correction.

        m ← β₁ m + (1 − β₁) g        (m₀ = 0)
        v ← β₂ v + (1 − β₂) g²       (v₀ = 0)
        with bias correction:  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   (t = 1 on the first call)
        without:               m̂ = m,  v̂ = v
        θ ← θ − η m̂ / (√v̂ + ε)

    With ``bias_correction=True`` this equals ``torch.optim.Adam(lr, betas=(beta1, beta2), eps=eps)``.
    """
    # TODO: implement Adam.
    raise NotImplementedError("adam is not implemented yet")


def warmup_cosine_lr(step: int, base_lr: float, warmup_steps: int, total_steps: int) -> float:
    """The learning rate at ``step`` (counting from 0): linear warm-up, then a cosine decay to 0.

        step < warmup_steps:  η = η₀ (step + 1) / warmup_steps
        otherwise:            p = min(1, (step − warmup_steps) / max(1, total_steps − warmup_steps))
                              η = η₀ · ½ (1 + cos π p)

    Returns a float.
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    p = min(1.0, p)
    return base_lr * 0.5 * (1 + math.cos(math.pi * p))

# BEGIN REFERENCE
"""Reference solution of the ``normalization`` assignment (hidden from students).

Batch normalization takes x of shape (N, D) and normalizes each feature over the batch; layer
normalization takes x of shape (..., D) and normalizes each example over its last axis. ε sits
inside the square root, √(σ² + ε), and σ² is the biased variance (divide by N, or by D); only the
running variance of batch normalization uses the unbiased one, as PyTorch does. Every function is
self-contained and never modifies its arguments (the state dict included).
"""
# END REFERENCE
# BEGIN STUDENT
# """Batch normalization and layer normalization: forward and backward passes.
#
# * ``x`` is a float64 NumPy array: (N, D) for batch normalization (each of the D features is
#   normalized over the N examples of the batch), (..., D) for layer normalization (each example is
#   normalized over its last axis). ``gamma`` and ``beta`` have shape (D,).
# * ε goes inside the square root: x̂ = (x − μ) / √(σ² + ε), with σ² the biased variance (divide by
#   N, or by D).
# * The functions are pure: never modify ``x``, ``gamma``, ``beta``, ``dout`` or ``state``; return new
#   arrays and a new dict.
# * ``torch.nn.functional.batch_norm``, ``torch.nn.functional.layer_norm``, ``torch.nn.BatchNorm*``,
#   ``torch.nn.LayerNorm`` and autograd (``torch.autograd``, ``Tensor.backward``) are forbidden: use NumPy.
#
# Check your work with ``grader check normalization`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import numpy as np


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: dict, train: bool,
                      momentum: float = 0.1, eps: float = 1e-5) -> tuple[np.ndarray, dict]:
    # BEGIN STUDENT
    # """Batch normalization of x (N, D), feature by feature; returns ``(out, state_new)``.
    #
    # ``state`` is ``{}`` on the first call (running mean 0, running variance 1) and holds
    # ``"running_mean"`` and ``"running_var"`` (arrays of shape (D,)) after.
    #
    # Training (``train=True``), with μ the mean of x over the batch and σ² its biased variance:
    #
    #     x̂ = (x − μ) / √(σ² + ε),    out = γ x̂ + β
    #     running_mean ← (1 − momentum) running_mean + momentum μ
    #     running_var  ← (1 − momentum) running_var  + momentum σ² N / (N − 1)   (unbiased, as PyTorch)
    #
    # N = 1 in training raises ``ValueError`` (one example has no variance).
    #
    # Evaluation (``train=False``): x̂ = (x − running_mean) / √(running_var + ε) from the state
    # (the defaults when it is ``{}``), and the state returned is equal to the one given (a copy).
    #
    # Equals ``torch.nn.functional.batch_norm(x, running_mean, running_var, gamma, beta, train,
    # momentum, eps)``.
    # """
    # # TODO: implement batchnorm_forward.
    # END STUDENT
    # BEGIN SOLUTION
    """Batch normalization over axis 0 of x (N, D); the running statistics in a new dict."""
    x = np.asarray(x, dtype=np.float64)
    gamma, beta = np.asarray(gamma, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    d = x.shape[1]
    running_mean = np.array(state.get("running_mean", np.zeros(d)), dtype=np.float64)
    running_var = np.array(state.get("running_var", np.ones(d)), dtype=np.float64)
    if not train:
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        return gamma * x_hat + beta, {key: np.array(value, dtype=np.float64) for key, value in state.items()}
    n = x.shape[0]
    if n < 2:
        raise ValueError("batch normalization in training needs at least 2 examples per feature")
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    new_state = {
        "running_mean": (1 - momentum) * running_mean + momentum * mu,
        "running_var": (1 - momentum) * running_var + momentum * var * n / (n - 1),
    }
    return gamma * x_hat + beta, new_state
    # END SOLUTION


def batchnorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # BEGIN STUDENT
    # """The gradients of Σ dout · out with respect to x, γ and β, for the training-mode forward pass
    # on x; returns ``(dx, dgamma, dbeta)`` of shapes (N, D), (D,), (D,).
    #
    # With μ, σ² and x̂ as in the forward pass (over the batch, axis 0) and dx̂ = dout · γ:
    #
    #     dγ = Σ_n dout · x̂,    dβ = Σ_n dout
    #     dx = (1/N) / √(σ² + ε) · (N dx̂ − Σ_n dx̂ − x̂ Σ_n (dx̂ · x̂))
    #
    # The two sums over the batch are there because μ and σ² depend on every example.
    # """
    # # TODO: implement batchnorm_backward.
    # END STUDENT
    # BEGIN SOLUTION
    """dx, dgamma, dbeta of the training-mode batch normalization, the sums over axis 0."""
    dout, x = np.asarray(dout, dtype=np.float64), np.asarray(x, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    n = x.shape[0]
    mu = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    x_hat = (x - mu) * inv_std
    dx_hat = dout * gamma
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    # END SOLUTION


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    # BEGIN STUDENT
    # """Layer normalization of x (..., D), each example over its last axis; same shape as x.
    #
    # With μ and σ² the mean and the biased variance of each example's D values:
    #
    #     out = γ (x − μ) / √(σ² + ε) + β
    #
    # Equals ``torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps)``.
    # """
    # # TODO: implement layernorm_forward.
    # END STUDENT
    # BEGIN SOLUTION
    """Layer normalization over the last axis of x (..., D)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return np.asarray(gamma, dtype=np.float64) * (x - mu) / np.sqrt(var + eps) + np.asarray(beta, dtype=np.float64)
    # END SOLUTION


def layernorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # BEGIN STUDENT
    # """The gradients of Σ dout · out with respect to x, γ and β for ``layernorm_forward``; returns
    # ``(dx, dgamma, dbeta)`` of shapes x.shape, (D,), (D,).
    #
    # The same formulas as batch normalization's with the roles of the axes swapped: μ, σ² and the
    # sums in dx run over the last axis (D values per example), and dγ = Σ dout · x̂, dβ = Σ dout
    # are summed over every axis but the last.
    # """
    # # TODO: implement layernorm_backward.
    # END STUDENT
    # BEGIN SOLUTION
    """dx, dgamma, dbeta of layer normalization over the last axis; dgamma, dbeta summed over the others."""
    dout, x = np.asarray(dout, dtype=np.float64), np.asarray(x, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    d = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    x_hat = (x - mu) * inv_std
    dx_hat = dout * gamma
    dx = inv_std / d * (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True))
    others = tuple(range(x.ndim - 1))
    return dx, (dout * x_hat).sum(axis=others), dout.sum(axis=others)
    # END SOLUTION

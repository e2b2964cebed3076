# mutant: no ValueError for a batch of one in training (the running var gets inf and nan)
# function: batchnorm_forward
# caught-by: batchnorm_rejects_one_example
"""Reference solution of the ``normalization`` assignment (hidden from students).

Batch normalization takes x of shape (N, D) and normalizes each feature over the batch; layer
normalization takes x of shape (..., D) and normalizes each example over its last axis. ε sits
inside the square root, √(σ² + ε), and σ² is the biased variance (divide by N, or by D); only the
running variance of batch normalization uses the unbiased one, as PyTorch does. Every function is
self-contained and never modifies its arguments (the state dict included).
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: dict, train: bool,
                      momentum: float = 0.1, eps: float = 1e-5) -> tuple[np.ndarray, dict]:
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
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    new_state = {
        "running_mean": (1 - momentum) * running_mean + momentum * mu,
        "running_var": (1 - momentum) * running_var + momentum * var * n / (n - 1),
    }
    return gamma * x_hat + beta, new_state


def batchnorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Layer normalization over the last axis of x (..., D)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return np.asarray(gamma, dtype=np.float64) * (x - mu) / np.sqrt(var + eps) + np.asarray(beta, dtype=np.float64)


def layernorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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

"""Normalization homework -- Alice.

One helper does the work for both normalizations: it normalizes along a chosen axis and hands back
what the backward pass needs. Batch norm is that helper on axis 0, layer norm on the last axis.
The backward pass is the chain rule written out in three steps (through x_hat, the variance, the mean).
"""

import numpy as np


def _normalize(x, axis, eps):
    mean = np.mean(x, axis=axis, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axis, keepdims=True)
    std = np.sqrt(var + eps)
    return centered / std, centered, var, std


def _backward(dout, x, gamma, eps, axis):
    x_hat, centered, var, std = _normalize(np.asarray(x, dtype=float), axis, eps)
    m = x.shape[axis]
    dx_hat = dout * gamma
    # x_hat = centered * (var + eps)^(-1/2): through the variance, then through the mean
    dvar = np.sum(dx_hat * centered, axis=axis, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmean = -np.sum(dx_hat / std, axis=axis, keepdims=True) - 2.0 * dvar * np.mean(centered, axis=axis, keepdims=True)
    dx = dx_hat / std + dvar * 2.0 * centered / m + dmean / m
    other_axes = tuple(range(x.ndim - 1))
    return dx, np.sum(dout * x_hat, axis=other_axes), np.sum(dout, axis=other_axes)


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    mean_run = state["running_mean"] if "running_mean" in state else np.zeros(d)
    var_run = state["running_var"] if "running_var" in state else np.ones(d)
    if not train:
        out = gamma * (x - mean_run) / np.sqrt(var_run + eps) + beta
        return out, {name: np.copy(value) for name, value in state.items()}
    if n == 1:
        raise ValueError("need more than one example per batch to normalize in training mode")
    x_hat, centered, var, _ = _normalize(x, 0, eps)
    unbiased = np.sum(centered ** 2, axis=0) / (n - 1)
    new_state = {"running_mean": mean_run + momentum * (np.mean(x, axis=0) - mean_run),
                 "running_var": var_run + momentum * (unbiased - var_run)}
    return gamma * x_hat + beta, new_state


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    return _backward(np.asarray(dout, dtype=float), np.asarray(x, dtype=float), gamma, eps, 0)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    x_hat = _normalize(np.asarray(x, dtype=float), -1, eps)[0]
    return gamma * x_hat + beta


def layernorm_backward(dout, x, gamma, eps=1e-5):
    return _backward(np.asarray(dout, dtype=float), np.asarray(x, dtype=float), gamma, eps, -1)

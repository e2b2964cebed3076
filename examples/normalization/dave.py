"""Dave's normalization: the running variance is updated with np.var's default (divide by N)."""

import numpy as np


def batchnorm_forward(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    n, d = x.shape
    rm = state.get("running_mean", np.zeros(d))
    rv = state.get("running_var", np.ones(d))
    if not train:
        return gamma * (x - rm) / np.sqrt(rv + eps) + beta, dict(state)
    if n < 2:
        raise ValueError("batch of one")
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return out, {"running_mean": (1 - momentum) * rm + momentum * mu,
                 "running_var": (1 - momentum) * rv + momentum * var}


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) / (n * np.sqrt(var + eps))
    return dx, (dout * x_hat).sum(0), dout.sum(0)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def layernorm_backward(dout, x, gamma, eps=1e-5):
    d = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    x_hat = (x - mu) / np.sqrt(var + eps)
    dx_hat = dout * gamma
    dx = (d * dx_hat - dx_hat.sum(-1, keepdims=True) - x_hat * (dx_hat * x_hat).sum(-1, keepdims=True)) / (
        d * np.sqrt(var + eps))
    axes = tuple(range(x.ndim - 1))
    return dx, (dout * x_hat).sum(axes), dout.sum(axes)

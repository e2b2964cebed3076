"""Known mistakes of the normalization assignment: wrong versions of the students' functions, for the
checks to name when a student's values match one ("...; your values match eps outside the square root ...").

The catalogue's format, and what a description may say: docs/authoring.md, section 6. Every entry
has a mutant in ``tests/mutants/normalization/`` whose ``hint:`` header names it.
"""

from __future__ import annotations

import numpy as np


def _stats(x, axis):
    mu = x.mean(axis=axis, keepdims=True)
    return mu, ((x - mu) ** 2).mean(axis=axis, keepdims=True)


def _bn(x, gamma, beta, state, train, momentum, eps, *, inside=True, ddof_norm=0, ddof_running=1, swap=False):
    """Batch normalization with one thing changed, the rest as the assignment says."""
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    rm = np.array(state.get("running_mean", np.zeros(d)), dtype=np.float64)
    rv = np.array(state.get("running_var", np.ones(d)), dtype=np.float64)
    if not train:
        mu, var = rm, rv
    else:
        if n < 2:
            raise ValueError("one example")
        mu = x.mean(axis=0)
        var = x.var(axis=0, ddof=ddof_norm)
    x_hat = (x - mu) / (np.sqrt(var + eps) if inside else np.sqrt(var) + eps)
    out = np.asarray(gamma) * x_hat + np.asarray(beta)
    if not train:
        return out, {k: np.array(v) for k, v in state.items()}
    running_var = x.var(axis=0, ddof=ddof_running)
    keep, take = (momentum, 1 - momentum) if swap else (1 - momentum, momentum)
    return out, {"running_mean": keep * rm + take * mu, "running_var": keep * rv + take * running_var}


def bn_eps_outside_sqrt(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    """x_hat = (x - mu) / (sqrt(var) + eps)."""
    return _bn(x, gamma, beta, state, train, momentum, eps, inside=False)


def bn_unbiased_variance(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    """The batch normalized with the unbiased variance (divide by N - 1)."""
    return _bn(x, gamma, beta, state, train, momentum, eps, ddof_norm=1)


def bn_biased_running_var(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    """The running variance updated with the biased variance (divide by N)."""
    return _bn(x, gamma, beta, state, train, momentum, eps, ddof_running=0)


def bn_momentum_swapped(x, gamma, beta, state, train, momentum=0.1, eps=1e-5):
    """running <- momentum running + (1 - momentum) batch statistic."""
    return _bn(x, gamma, beta, state, train, momentum, eps, swap=True)


def bn_backward_without_mean_terms(dout, x, gamma, eps=1e-5):
    """dx = dout gamma / sqrt(var + eps), as if mu and var did not depend on x."""
    dout, x = np.asarray(dout, dtype=np.float64), np.asarray(x, dtype=np.float64)
    mu, var = _stats(x, 0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return dout * gamma / np.sqrt(var + eps), (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def ln_over_batch_axis(x, gamma, beta, eps=1e-5):
    """Each feature normalized over the first axis (the batch), as batch normalization does."""
    x = np.asarray(x, dtype=np.float64)
    mu, var = _stats(x, 0)
    return np.asarray(gamma) * (x - mu) / np.sqrt(var + eps) + np.asarray(beta)


def ln_backward_summed_over_first_axis(dout, x, gamma, eps=1e-5):
    """dx right, dgamma and dbeta summed over axis 0 only (not over every axis but the last)."""
    dout, x = np.asarray(dout, dtype=np.float64), np.asarray(x, dtype=np.float64)
    d = x.shape[-1]
    mu, var = _stats(x, -1)
    inv = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv
    dx_hat = dout * gamma
    dx = inv / d * (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True) - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


CATALOGUE = {
    "batchnorm_forward": {
        "eps outside the square root, (x - mu) / (sqrt(var) + eps) instead of (x - mu) / sqrt(var + eps)":
            bn_eps_outside_sqrt,
        "the unbiased variance (divide by N - 1) in the normalization; normalize with the biased one":
            bn_unbiased_variance,
        "the biased variance in the running variance; PyTorch's running_var uses the unbiased one, "
        "var N / (N - 1)": bn_biased_running_var,
        "momentum applied the wrong way round, momentum * running + (1 - momentum) * batch statistic":
            bn_momentum_swapped,
    },
    "batchnorm_backward": {
        "dx without the terms that come from the batch mean and variance, dout gamma / sqrt(var + eps)":
            bn_backward_without_mean_terms,
    },
    "layernorm_forward": {
        "a normalization over the batch axis (axis 0), as batch normalization does; layer normalization "
        "normalizes each example over its last axis": ln_over_batch_axis,
    },
    "layernorm_backward": {
        "dgamma and dbeta summed over the first axis only; sum over every axis but the last":
            ln_backward_summed_over_first_axis,
    },
}

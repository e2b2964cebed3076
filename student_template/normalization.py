"""Batch normalization and layer normalization: forward and backward passes.

* ``x`` is a float64 NumPy array: (N, D) for batch normalization (each of the D features is
  normalized over the N examples of the batch), (..., D) for layer normalization (each example is
  normalized over its last axis). ``gamma`` and ``beta`` have shape (D,).
* ε goes inside the square root: x̂ = (x − μ) / √(σ² + ε), with σ² the biased variance (divide by
  N, or by D).
* The functions are pure: never modify ``x``, ``gamma``, ``beta``, ``dout`` or ``state``; return new
  arrays and a new dict.
* ``torch.nn.functional.batch_norm``, ``torch.nn.functional.layer_norm``, ``torch.nn.BatchNorm*``,
  ``torch.nn.LayerNorm`` and autograd (``torch.autograd``, ``Tensor.backward``) are forbidden: use NumPy.

Check your work with ``grader check normalization`` (the visible checks; hidden ones run at grading).
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, state: dict, train: bool,
                      momentum: float = 0.1, eps: float = 1e-5) -> tuple[np.ndarray, dict]:
    """Batch normalization of x (N, D), feature by feature; returns ``(out, state_new)``.

    ``state`` is ``{}`` on the first call (running mean 0, running variance 1) and holds
    ``"running_mean"`` and ``"running_var"`` (arrays of shape (D,)) after.

    Training (``train=True``), with μ the mean of x over the batch and σ² its biased variance:

        x̂ = (x − μ) / √(σ² + ε),    out = γ x̂ + β
        running_mean ← (1 − momentum) running_mean + momentum μ
        running_var  ← (1 − momentum) running_var  + momentum σ² N / (N − 1)   (unbiased, as PyTorch)

    N = 1 in training raises ``ValueError`` (one example has no variance).

    Evaluation (``train=False``): x̂ = (x − running_mean) / √(running_var + ε) from the state
    (the defaults when it is ``{}``), and the state returned is equal to the one given (a copy).

    Equals ``torch.nn.functional.batch_norm(x, running_mean, running_var, gamma, beta, train,
    momentum, eps)``.
    """
    # TODO: implement batchnorm_forward.
    raise NotImplementedError("batchnorm_forward is not implemented yet")


def batchnorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients of Σ dout · out with respect to x, γ and β, for the training-mode forward pass
    on x; returns ``(dx, dgamma, dbeta)`` of shapes (N, D), (D,), (D,).

    With μ, σ² and x̂ as in the forward pass (over the batch, axis 0) and dx̂ = dout · γ:

        dγ = Σ_n dout · x̂,    dβ = Σ_n dout
        dx = (1/N) / √(σ² + ε) · (N dx̂ − Σ_n dx̂ − x̂ Σ_n (dx̂ · x̂))

    The two sums over the batch are there because μ and σ² depend on every example.
    """
    # TODO: implement batchnorm_backward.
    raise NotImplementedError("batchnorm_backward is not implemented yet")


def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Layer normalization of x (..., D), each example over its last axis; same shape as x.

    With μ and σ² the mean and the biased variance of each example's D values:

        out = γ (x − μ) / √(σ² + ε) + β

    Equals ``torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps)``.
    """
    # TODO: implement layernorm_forward.
    raise NotImplementedError("layernorm_forward is not implemented yet")


def layernorm_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                       eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gradients of Σ dout · out with respect to x, γ and β for ``layernorm_forward``; returns
    ``(dx, dgamma, dbeta)`` of shapes x.shape, (D,), (D,).

    The same formulas as batch normalization's with the roles of the axes swapped: μ, σ² and the
    sums in dx run over the last axis (D values per example), and dγ = Σ dout · x̂, dβ = Σ dout
    are summed over every axis but the last.
    """
    # TODO: implement layernorm_backward.
    raise NotImplementedError("layernorm_backward is not implemented yet")

# BEGIN REFERENCE
"""Reference solution of the ``init`` assignment (hidden from students): Kaiming initialization.

A weight of shape ``(fan_out, fan_in)`` (linear) or ``(out_channels, in_channels, k1, k2, ...)``
(convolution) is drawn from N(0, gain / fan_in); gain 2 keeps the second moment of the activations
constant through ReLU layers. Randomness only through the ``rng`` passed in.
"""
# END REFERENCE
# BEGIN STUDENT
# """Kaiming initialization: the fan-in of a weight, N(0, gain / fan_in), and a whole MLP.
#
# * Weight shapes follow PyTorch: a linear layer's weight is ``(fan_out, fan_in)`` (it computes
#   ``W @ x + b``), a convolution's is ``(out_channels, in_channels, k1, k2, ...)``.
# * Randomness only through the ``numpy.random.Generator`` passed in as ``rng``, in the order stated,
#   so that a seeded solution draws exactly the reference's numbers. Never use ``np.random.*``.
# * ``torch.nn.init`` is forbidden: use NumPy.
#
# Check your work with ``grader check init`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import math  # noqa: F401  (math.sqrt, math.prod)

import numpy as np


def fan_in(shape: tuple[int, ...]) -> int:
    # BEGIN STUDENT
    # """The number of inputs each output of a layer with this weight shape sees.
    #
    #     (out, in)                 ->  in                (a linear layer)
    #     (out, in, k1, k2, ...)    ->  in · k1 · k2 · …  (a convolution: in channels times the kernel)
    #
    # A shape of fewer than 2 dimensions has no fan-in: raise ``ValueError``.
    # """
    # # TODO: implement fan_in.
    # END STUDENT
    # BEGIN SOLUTION
    """(out, in) -> in; (out, in, k1, k2, ...) -> in * k1 * k2 * ...; fewer than 2 dims is a ValueError."""
    dims = tuple(int(d) for d in shape)
    if len(dims) < 2:
        raise ValueError(f"a weight shape needs at least 2 dimensions (out, in, ...), got {dims}")
    return dims[1] * math.prod(dims[2:])
    # END SOLUTION


def kaiming_normal(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 2.0) -> np.ndarray:
    # BEGIN STUDENT
    # """A weight of the given shape drawn from N(0, gain / fan_in(shape)).
    #
    #     W = rng.standard_normal(shape) * sqrt(gain / fan_in(shape))
    #
    # gain 2 (the default) suits a layer followed by a ReLU: it keeps the mean square of the
    # activations the same from layer to layer. Draw all values at once from ``rng`` (the same
    # numbers as ``rng.normal(0, std, shape)``; note that ``rng.normal`` takes the std, not the
    # variance).
    # """
    # # TODO: implement kaiming_normal.
    # END STUDENT
    # BEGIN SOLUTION
    """rng.standard_normal(shape) * sqrt(gain / fan_in(shape)): N(0, gain / fan_in), gain 2 for ReLU."""
    return rng.standard_normal(shape) * math.sqrt(gain / fan_in(shape))
    # END SOLUTION


def init_mlp(sizes: list[int], rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    # BEGIN STUDENT
    # """Initialize an MLP with layer sizes ``[d_in, h1, ..., d_out]``: a list of (W, b), one per layer.
    #
    # * W of layer i has shape (sizes[i + 1], sizes[i]) = (fan_out, fan_in), drawn with
    #   ``kaiming_normal``: gain 2 for every layer but the last (they feed a ReLU), gain 1 for the
    #   last (the lecture's sqrt(2 / d_in) and sqrt(1 / h)).
    # * b of layer i is ``np.zeros(sizes[i + 1])``: no draw.
    # * Draw the weights layer by layer, first layer first.
    # """
    # # TODO: implement init_mlp.
    # END STUDENT
    # BEGIN SOLUTION
    """sizes = [d_in, h1, ..., d_out] -> [(W1, b1), ...], W of shape (fan_out, fan_in), b = 0 of shape (fan_out,).

    Every layer but the last uses gain 2 (it feeds a ReLU); the last uses gain 1. The weights are
    drawn layer by layer, first layer first.
    """
    n_layers = len(sizes) - 1
    layers = []
    for i in range(n_layers):
        d_in, d_out = int(sizes[i]), int(sizes[i + 1])
        gain = 1.0 if i == n_layers - 1 else 2.0
        layers.append((kaiming_normal((d_out, d_in), rng, gain=gain), np.zeros(d_out)))
    return layers
    # END SOLUTION

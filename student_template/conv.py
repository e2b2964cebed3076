"""Convolution: the forward pass of a 2-D convolution layer, with stride and zero padding.

Shapes, as in PyTorch:

* ``x`` is a batch of images, (N, C, H, W): N images, C channels, H rows, W columns;
* ``w`` holds the filters, (F, C, k_h, k_w): F filters, each spanning all C channels;
* ``b`` holds one bias per filter, (F,), or is ``None`` (no bias);
* the output is (N, F, H', W').

``kernel``, ``stride`` and ``padding`` are each an int (the same for both directions) or an
``(h, w)`` pair: ``stride=(2, 1)`` steps two rows down and one column across.

Rules: use NumPy (``np.pad``, slicing, ``np.lib.stride_tricks.sliding_window_view``, ``np.einsum``,
``np.tensordot``, ``@`` are all fine). Any library convolution or correlation is forbidden
(``torch.nn.functional.conv2d``, ``torch.conv2d``, ``torch.nn.Conv2d``, ``scipy.signal``,
``scipy.ndimage``, ``np.convolve``, ``np.correlate``): a function that calls one scores 0 on its
checks. The functions are pure: never modify ``x``, ``w`` or ``b``.

Check your work with ``grader check conv`` (the visible checks; hidden ones run at grading).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view  # noqa: F401  (one way to get every receptive field)


def conv2d_output_shape(h: int, w: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                        padding: int | tuple[int, int] = 0) -> tuple[int, int]:
    """The output size (H', W') of a convolution over an h x w input.

        H' = floor((H + 2 p_h - k_h) / s_h) + 1
        W' = floor((W + 2 p_w - k_w) / s_w) + 1

    ``kernel``, ``stride`` and ``padding`` are each an int or an (h, w) pair. Padding adds p zeros on
    *both* sides, hence 2p. A window that would run past the padded input does not count (the floor).
    Returns a tuple of two ints. If H' or W' would be below 1 (the kernel does not fit the padded
    input), raise ``ValueError``.

    Example: conv2d_output_shape(32, 32, 3, 1, 1) == (32, 32); conv2d_output_shape(7, 9, (3, 4), (2, 3), (1, 0)) == (4, 2).
    """
    # TODO: implement the size formula (mind the floor, and the ValueError).
    raise NotImplementedError("conv2d_output_shape is not implemented yet")


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> np.ndarray:
    """The forward pass of a convolution layer.

    Pad x with p_h rows of zeros above and below and p_w columns of zeros left and right (call it xp),
    then for every image n, filter f and output position (i, j):

        out[n, f, i, j] = b[f] + sum over c, u, v of  xp[n, c, i*s_h + u, j*s_w + v] * w[f, c, u, v]

    with u < k_h, v < k_w. This is a cross-correlation: the kernel is NOT flipped (every filter is a
    receptive field that slides over the image; the same weights are shared by every position).
    Without a bias (``b is None``) leave out b[f].

    Returns an array of shape (N, F, H', W'), (H', W') as conv2d_output_shape gives them. Raise
    ``ValueError`` if x's channels differ from the filters' (x.shape[1] != w.shape[1]) or if the
    kernel does not fit the padded input.

    Speed matters: a batch of 64 3x32x32 images with 16 3x3 filters must take well under a second.
    A Python loop over every output element is too slow; loop over the k_h * k_w kernel taps at most,
    and let NumPy do the rest.
    """
    # TODO: implement the convolution.
    raise NotImplementedError("conv2d_forward is not implemented yet")

# BEGIN REFERENCE
"""Reference solution of the ``conv`` assignment (hidden from students).

A 2-D convolution layer's forward pass, as deep-learning libraries define it: a cross-correlation
(no kernel flip) of a zero-padded batch with a bank of filters, with a stride. ``kernel``,
``stride`` and ``padding`` are each an int or an ``(h, w)`` pair.
"""
# END REFERENCE
# BEGIN STUDENT
# """Convolution: the forward pass of a 2-D convolution layer, with stride and zero padding.
#
# Shapes, as in PyTorch:
#
# * ``x`` is a batch of images, (N, C, H, W): N images, C channels, H rows, W columns;
# * ``w`` holds the filters, (F, C, k_h, k_w): F filters, each spanning all C channels;
# * ``b`` holds one bias per filter, (F,), or is ``None`` (no bias);
# * the output is (N, F, H', W').
#
# ``kernel``, ``stride`` and ``padding`` are each an int (the same for both directions) or an
# ``(h, w)`` pair: ``stride=(2, 1)`` steps two rows down and one column across.
#
# Rules: use NumPy (``np.pad``, slicing, ``np.lib.stride_tricks.sliding_window_view``, ``np.einsum``,
# ``np.tensordot``, ``@`` are all fine). Any library convolution or correlation is forbidden
# (``torch.nn.functional.conv2d``, ``torch.conv2d``, ``torch.nn.Conv2d``, ``scipy.signal``,
# ``scipy.ndimage``, ``np.convolve``, ``np.correlate``): a function that calls one scores 0 on its
# checks. The functions are pure: never modify ``x``, ``w`` or ``b``.
#
# Check your work with ``grader check conv`` (the visible checks; hidden ones run at grading).
# """
# END STUDENT

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view  # noqa: F401  (one way to get every receptive field)


# BEGIN REFERENCE
def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """An int or an (h, w) pair, as a pair of ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} should be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)
# END REFERENCE


def conv2d_output_shape(h: int, w: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                        padding: int | tuple[int, int] = 0) -> tuple[int, int]:
    # BEGIN STUDENT
    # """The output size (H', W') of a convolution over an h x w input.
    #
    #     H' = floor((H + 2 p_h - k_h) / s_h) + 1
    #     W' = floor((W + 2 p_w - k_w) / s_w) + 1
    #
    # ``kernel``, ``stride`` and ``padding`` are each an int or an (h, w) pair. Padding adds p zeros on
    # *both* sides, hence 2p. A window that would run past the padded input does not count (the floor).
    # Returns a tuple of two ints. If H' or W' would be below 1 (the kernel does not fit the padded
    # input), raise ``ValueError``.
    #
    # Example: conv2d_output_shape(32, 32, 3, 1, 1) == (32, 32); conv2d_output_shape(7, 9, (3, 4), (2, 3), (1, 0)) == (4, 2).
    # """
    # # TODO: implement the size formula (mind the floor, and the ValueError).
    # END STUDENT
    # BEGIN SOLUTION
    """(H', W') with H' = floor((H + 2 p_h - k_h) / s_h) + 1, likewise W'; a result below 1 is a ValueError."""
    kh, kw = _pair(kernel, "kernel")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError("kernel and stride must be at least 1 and padding at least 0")
    out_h = (h + 2 * ph - kh) // sh + 1
    out_w = (w + 2 * pw - kw) // sw + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f"a {kh}x{kw} kernel does not fit a {h}x{w} input padded by {(ph, pw)}: "
                         f"the output would be {out_h}x{out_w}")
    return out_h, out_w
    # END SOLUTION


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> np.ndarray:
    # BEGIN STUDENT
    # """The forward pass of a convolution layer.
    #
    # Pad x with p_h rows of zeros above and below and p_w columns of zeros left and right (call it xp),
    # then for every image n, filter f and output position (i, j):
    #
    #     out[n, f, i, j] = b[f] + sum over c, u, v of  xp[n, c, i*s_h + u, j*s_w + v] * w[f, c, u, v]
    #
    # with u < k_h, v < k_w. This is a cross-correlation: the kernel is NOT flipped (every filter is a
    # receptive field that slides over the image; the same weights are shared by every position).
    # Without a bias (``b is None``) leave out b[f].
    #
    # Returns an array of shape (N, F, H', W'), (H', W') as conv2d_output_shape gives them. Raise
    # ``ValueError`` if x's channels differ from the filters' (x.shape[1] != w.shape[1]) or if the
    # kernel does not fit the padded input.
    #
    # Speed matters: a batch of 64 3x32x32 images with 16 3x3 filters must take well under a second.
    # A Python loop over every output element is too slow; loop over the k_h * k_w kernel taps at most,
    # and let NumPy do the rest.
    # """
    # # TODO: implement the convolution.
    # END STUDENT
    # BEGIN SOLUTION
    """out[n, f, i, j] = b[f] + sum_{c,u,v} xp[n, c, i*s_h + u, j*s_w + v] * w[f, c, u, v].

    x (N, C, H, W), w (F, C, k_h, k_w), b (F,) or None; xp is x with p_h zero rows above and below
    and p_w zero columns left and right. Returns (N, F, H', W'). Mismatched channels are a ValueError.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"x and w should have 4 dimensions, got shapes {x.shape} and {w.shape}")
    n, c, h, wd = x.shape
    f, cw, kh, kw = w.shape
    if c != cw:
        raise ValueError(f"x has {c} channels but the filters expect {cw}")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    out_h, out_w = conv2d_output_shape(h, wd, (kh, kw), (sh, sw), (ph, pw))

    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # Every receptive field, (N, C, H', W', k_h, k_w): a view, nothing copied yet.
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :out_h, :out_w]
    out = np.einsum("nchwuv,fcuv->nfhw", windows, w, optimize=True)
    if b is not None:
        out = out + np.asarray(b, dtype=np.float64).reshape(1, f, 1, 1)
    return np.ascontiguousarray(out)
    # END SOLUTION

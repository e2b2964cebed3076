# mutant: conv2d_forward puts all 2p rows and columns of zeros on the bottom and right, none on the top and left
# function: conv2d_forward
# caught-by: forward_edge_cases, forward_matches_torch, forward_pair_arguments, forward_values, speed
# hint: zero padding on one side only, all of it below and to the right of the input; pad p rows and columns on each of the four sides
"""Reference solution of the ``conv`` assignment (hidden from students).

A 2-D convolution layer's forward pass, as deep-learning libraries define it: a cross-correlation
(no kernel flip) of a zero-padded batch with a bank of filters, with a stride. ``kernel``,
``stride`` and ``padding`` are each an int or an ``(h, w)`` pair.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """An int or an (h, w) pair, as a pair of ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} should be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv2d_output_shape(h: int, w: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                        padding: int | tuple[int, int] = 0) -> tuple[int, int]:
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


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                   stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0) -> np.ndarray:
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

    xp = np.pad(x, ((0, 0), (0, 0), (0, 2 * ph), (0, 2 * pw)))
    # Every receptive field, (N, C, H', W', k_h, k_w): a view, nothing copied yet.
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :out_h, :out_w]
    out = np.einsum("nchwuv,fcuv->nfhw", windows, w, optimize=True)
    if b is not None:
        out = out + np.asarray(b, dtype=np.float64).reshape(1, f, 1, 1)
    return np.ascontiguousarray(out)

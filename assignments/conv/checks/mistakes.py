"""Known mistakes of the conv assignment: wrong versions of the students' conv2d_forward, for the checks to
name when a student's output matches one ("...; your values match a true convolution, ...").

The catalogue's format, and what a description may say: docs/authoring.md, section 6. Every entry
has a mutant in ``tests/mutants/conv/`` whose ``hint:`` header names it, and shows on every course secret. Other
slips are named by ``common.output_mistakes`` in other words: those that show only on some inputs (the
bias added along the last axis raises unless the shapes happen to broadcast) or have no mutant yet.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, (int, np.integer)) else (int(value[0]), int(value[1]))


def _cross_correlate(xp: np.ndarray, w: np.ndarray, stride) -> np.ndarray:
    """out[n, f, i, j] = sum_{c,u,v} xp[n, c, i*s_h + u, j*s_w + v] * w[f, c, u, v] on an input padded
    already, with H' = floor((H_padded - k_h) / s_h) + 1 (a ValueError when the kernel does not fit)."""
    (sh, sw), (kh, kw) = _pair(stride), w.shape[2:]
    out_h, out_w = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    if out_h < 1 or out_w < 1:
        raise ValueError("the kernel does not fit the padded input")
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :out_h, :out_w]
    return np.einsum("nchwuv,fcuv->nfhw", windows, w)


def _with_bias(out: np.ndarray, b) -> np.ndarray:
    """b[f] added to every output of filter f."""
    return out if b is None else out + np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)


def _pad(x, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    return np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))


def kernel_flipped(x, w, b=None, stride=1, padding=0):
    """A true convolution, as in signal processing: the kernel's rows and columns reversed before the
    sliding sum. A convolution layer is a cross-correlation: w is used as it is."""
    ph, pw = _pair(padding)
    return _with_bias(_cross_correlate(_pad(x, ph, ph, pw, pw), np.asarray(w)[:, :, ::-1, ::-1], stride), b)


def padded_bottom_right(x, w, b=None, stride=1, padding=0):
    """All 2p rows and columns of zeros below and to the right of the input, none above or to the left
    (as np.pad(x, (0, 2p)) does), so every window sits p rows and columns too far up and left."""
    ph, pw = _pair(padding)
    return _with_bias(_cross_correlate(_pad(x, 0, 2 * ph, 0, 2 * pw), np.asarray(w), stride), b)


CATALOGUE = {
    "conv2d_forward": {
        "a true convolution, the kernel flipped; a convolution layer is a cross-correlation: use w as it is, "
        "without reversing its rows and columns": kernel_flipped,
        "zero padding on one side only, all of it below and to the right of the input; pad p rows and columns "
        "on each of the four sides": padded_bottom_right,
    },
}

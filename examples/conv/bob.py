"""Bob's convolution: im2col and one matrix product.

Bob remembered from signal processing that a convolution flips the kernel, and flipped it.
Deep-learning "convolutions" are cross-correlations: everything else here is right.
"""

import numpy as np


def _two(v):
    if isinstance(v, int):
        return v, v
    return v[0], v[1]


def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    kh, kw = _two(kernel)
    sh, sw = _two(stride)
    ph, pw = _two(padding)
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError("kernel does not fit")
    return oh, ow


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F, C2, kh, kw = w.shape
    if C != C2:
        raise ValueError("channels do not match")
    sh, sw = _two(stride)
    ph, pw = _two(padding)
    oh, ow = conv2d_output_shape(H, W, (kh, kw), (sh, sw), (ph, pw))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))

    # convolution = flip the kernel, then slide it
    w_flipped = w[:, :, ::-1, ::-1]

    # im2col: cols[n, i, j, c, u, v]
    cols = np.empty((N, oh, ow, C, kh, kw))
    for u in range(kh):
        for v in range(kw):
            cols[:, :, :, :, u, v] = xp[:, :, u:u + sh * oh:sh, v:v + sw * ow:sw].transpose(0, 2, 3, 1)
    out = cols.reshape(N * oh * ow, C * kh * kw) @ w_flipped.reshape(F, -1).T
    out = out.reshape(N, oh, ow, F).transpose(0, 3, 1, 2)
    if b is not None:
        out = out + b.reshape(1, F, 1, 1)
    return out

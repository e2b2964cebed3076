"""Alice's convolution: shift and add.

Instead of cutting out every receptive field, I slide the *input* under each kernel tap (u, v):
the tap contributes w[:, :, u, v] times a strided slice of the padded input to every output
position at once. k_h * k_w matrix products, no window array.
"""

import numpy as np


def _hw(value):
    """7 -> (7, 7); (3, 5) -> (3, 5)."""
    h, w = np.broadcast_to(np.asarray(value, dtype=int), (2,))
    return int(h), int(w)


def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    sizes = np.array([h, w])
    k, s, p = (np.array(_hw(v)) for v in (kernel, stride, padding))
    out = np.floor_divide(sizes + 2 * p - k, s) + 1
    if np.any(out <= 0):
        raise ValueError(f"output size {tuple(out)} is empty: the kernel {tuple(k)} is larger than the "
                         f"padded input {tuple(sizes + 2 * p)}")
    return int(out[0]), int(out[1])


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"channel mismatch: input has {C}, weights have {Cw}")
    SH, SW = _hw(stride)
    PH, PW = _hw(padding)
    OH, OW = conv2d_output_shape(H, W, (KH, KW), (SH, SW), (PH, PW))

    padded = np.zeros((N, C, H + 2 * PH, W + 2 * PW))
    padded[:, :, PH:PH + H, PW:PW + W] = x

    # channels last, so that each tap is one (N*OH*OW, C) @ (C, F) product
    padded = padded.transpose(0, 2, 3, 1)
    result = np.zeros((N, OH, OW, F))
    for u in range(KH):
        for v in range(KW):
            rows = padded[:, u:u + SH * (OH - 1) + 1:SH, v:v + SW * (OW - 1) + 1:SW, :]
            result += rows @ w[:, :, u, v].T
    if b is not None:
        result += b
    return result.transpose(0, 3, 1, 2).copy()

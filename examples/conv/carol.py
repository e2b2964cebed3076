"""Carol's convolution: a loop over the kernel taps.

Two slips: her padded array gets x in its top-left corner, so all the zeros end up on the bottom and
right; and conv2d_output_shape never complains about a kernel that does not fit.
"""

import numpy as np


def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    if type(kernel) is int:
        kernel = (kernel, kernel)
    if type(stride) is int:
        stride = (stride, stride)
    if type(padding) is int:
        padding = (padding, padding)
    out_h = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    out_w = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    return (out_h, out_w)


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    if type(stride) is int:
        stride = (stride, stride)
    if type(padding) is int:
        padding = (padding, padding)
    n, c, h, wid = x.shape
    f, cw, kh, kw = w.shape
    if c != cw:
        raise ValueError(f"x has {c} channels, w has {cw}")
    out_h, out_w = conv2d_output_shape(h, wid, (kh, kw), stride, padding)

    xp = np.zeros((n, c, h + 2 * padding[0], wid + 2 * padding[1]))
    xp[:, :, :h, :wid] = x

    out = np.zeros((n, f, out_h, out_w))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride[0] * out_h:stride[0], j:j + stride[1] * out_w:stride[1]]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out

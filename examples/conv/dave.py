"""Dave's convolution: the textbook loops.

Every output element out[n, f, i, j] is one dot product between a receptive field and a filter,
exactly as the formula reads. It is right, but it runs a Python loop over every output element:
on the speed check's batch that is a million iterations, several seconds.
"""

import numpy as np


def pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    kh, kw = pair(kernel)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out = (h + 2 * ph - kh) // sh + 1
    W_out = (w + 2 * pw - kw) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError("the kernel is larger than the padded input")
    return H_out, W_out


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F, C_w, kh, kw = w.shape
    if C != C_w:
        raise ValueError("input channels and filter channels differ")
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    H_out, W_out = conv2d_output_shape(H, W, (kh, kw), (sh, sw), (ph, pw))
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant")

    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            filt = w[f].ravel()
            for i in range(H_out):
                for j in range(W_out):
                    field = x_pad[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    out[n, f, i, j] = np.dot(field.ravel(), filt)
                    if b is not None:
                        out[n, f, i, j] += b[f]
    return out

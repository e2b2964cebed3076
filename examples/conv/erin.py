"""Erin's convolution: she let PyTorch do the forward pass, and rounded the size formula up.

torch.nn.functional.conv2d is the library answer this assignment forbids, so every check of
conv2d_forward is marked "forbidden"; and math.ceil gives one row too many when the stride does not
divide H + 2p - k.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    out_h = math.ceil((h + 2 * ph - kh) / sh) + 1
    out_w = math.ceil((w + 2 * pw - kw) / sw) + 1
    if out_h < 1 or out_w < 1:
        raise ValueError("kernel too large")
    return out_h, out_w


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    if x.shape[1] != w.shape[1]:
        raise ValueError("channel mismatch")
    out = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                   stride=_pair(stride), padding=_pair(padding))
    return np.asarray(out.numpy())

"""Does the reference ``conv`` solution agree with PyTorch, used as an independent oracle?

``conv2d_forward`` is compared with ``torch.nn.functional.conv2d`` in float64 on hundreds of random
cases (square and non-square inputs and kernels, int and (h, w) stride and padding, strides larger
than the kernel, 1x1 kernels, padding wider than the kernel, with and without a bias), and
``conv2d_output_shape`` with the output sizes torch computes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from conftest import load_reference

conv_ref = load_reference("conv")

RTOL, ATOL = 1e-12, 1e-12


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def torch_conv(x, w, b, stride, padding) -> np.ndarray:
    t = lambda a: None if a is None else torch.tensor(a, dtype=torch.float64)  # noqa: E731
    return F.conv2d(t(x), t(w), t(b), stride=pair(stride), padding=pair(padding)).numpy()


def random_case(rng):
    """Sizes, kernel, stride and padding drawn until the kernel fits the padded input."""
    while True:
        n, c, f = (int(v) for v in rng.integers(1, 5, size=3))
        h, w = (int(v) for v in rng.integers(1, 20, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 7, size=2))
        sh, sw = (int(v) for v in rng.integers(1, 6, size=2))
        ph, pw = (int(v) for v in rng.integers(0, 5, size=2))
        if rng.random() < 0.4:  # ints for stride and padding, and a square kernel
            kw, sw, pw = kh, sh, ph
        if h + 2 * ph >= kh and w + 2 * pw >= kw:
            stride = sh if sh == sw and rng.random() < 0.5 else (sh, sw)
            padding = ph if ph == pw and rng.random() < 0.5 else (ph, pw)
            return (n, c, h, w), (f, c, kh, kw), stride, padding


@pytest.mark.parametrize("seed", range(10))
def test_forward_matches_torch_on_random_cases(seed):
    """Does conv2d_forward equal torch's conv2d (float64) on 40 random cases per seed, bias or not?"""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        x_shape, w_shape, stride, padding = random_case(rng)
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        b = rng.normal(size=w_shape[0]) if rng.random() < 0.7 else None
        expected = torch_conv(x, w, b, stride, padding)
        got = conv_ref.conv2d_forward(x, w, b, stride, padding)
        assert got.shape == expected.shape, (x_shape, w_shape, stride, padding)
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
        assert conv_ref.conv2d_output_shape(x_shape[2], x_shape[3], w_shape[2:], stride, padding) == expected.shape[2:]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", [
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),            # the usual 3x3 same-padding layer
    ((2, 3, 10, 11), (2, 3, 2, 2), 3, 0),          # stride larger than the kernel
    ((2, 4, 6, 7), (3, 4, 1, 1), 2, 1),            # 1x1 kernel with stride and padding
    ((1, 2, 4, 4), (2, 2, 2, 3), 2, 3),            # padding wider than the kernel
    ((2, 3, 4, 5), (2, 3, 6, 7), 1, 1),            # kernel as large as the padded input: a 1x1 output
    ((2, 2, 9, 11), (3, 2, 3, 2), (2, 3), (1, 2)),  # (h, w) pairs whose parts differ
    ((64, 3, 32, 32), (16, 3, 3, 3), 1, 1),        # the speed check's batch
])
def test_forward_matches_torch_on_named_cases(x_shape, w_shape, stride, padding):
    """Does conv2d_forward equal torch's conv2d on the edge cases the checks are about, without a bias too?"""
    rng = np.random.default_rng(sum(x_shape) + sum(w_shape))
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    for bias in (b, None):
        np.testing.assert_allclose(conv_ref.conv2d_forward(x, w, bias, stride, padding),
                                   torch_conv(x, w, bias, stride, padding), rtol=RTOL, atol=ATOL)


def test_forward_is_a_cross_correlation_not_a_convolution():
    """Does a single 1 in the image reproduce the kernel flipped (a cross-correlation), as torch's does?"""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    out = conv_ref.conv2d_forward(x, w, None, 1, 0)
    np.testing.assert_array_equal(out[0, 0], w[0, 0, ::-1, ::-1])
    np.testing.assert_array_equal(out, torch_conv(x, w, None, 1, 0))


def test_forward_leaves_its_inputs_alone():
    """Are x, w and b unchanged after a call?"""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    copies = [a.copy() for a in (x, w, b)]
    conv_ref.conv2d_forward(x, w, b, 2, 1)
    for before, after in zip(copies, (x, w, b), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("seed", range(5))
def test_output_shape_matches_torch(seed):
    """Does conv2d_output_shape give torch's output size for 200 random settings, ints and pairs?"""
    rng = np.random.default_rng(100 + seed)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(1, 60, size=2))
        kernel, stride, padding = ((int(rng.integers(lo, hi)) if rng.random() < 0.5 else
                                    tuple(int(v) for v in rng.integers(lo, hi, size=2)))
                                   for lo, hi in ((1, 9), (1, 6), (0, 5)))
        (kh, kw), (ph, pw) = pair(kernel), pair(padding)
        if h + 2 * ph < kh or w + 2 * pw < kw:
            with pytest.raises(ValueError):
                conv_ref.conv2d_output_shape(h, w, kernel, stride, padding)
            continue
        expected = torch_conv(np.zeros((1, 1, h, w)), np.zeros((1, 1, kh, kw)), None, stride, padding).shape[2:]
        assert conv_ref.conv2d_output_shape(h, w, kernel, stride, padding) == expected


@pytest.mark.parametrize("h, w, kernel, stride, padding", [
    (4, 4, 5, 1, 0), (3, 8, (6, 2), 1, (1, 0)), (10, 2, 3, 1, 0), (4, 10, 5, 2, 0), (6, 6, (3, 9), (1, 3), (0, 1)),
])
def test_output_shape_below_one_is_a_value_error(h, w, kernel, stride, padding):
    """Is an output size below 1 a ValueError, where torch refuses the same convolution?"""
    with pytest.raises(ValueError):
        conv_ref.conv2d_output_shape(h, w, kernel, stride, padding)
    (kh, kw) = pair(kernel)
    with pytest.raises(RuntimeError):
        torch_conv(np.zeros((1, 1, h, w)), np.zeros((1, 1, kh, kw)), None, stride, padding)


@pytest.mark.parametrize("x_shape, w_shape, padding", [
    ((2, 3, 6, 6), (4, 2, 3, 3), 0), ((2, 3, 6, 6), (4, 1, 3, 3), 1), ((2, 1, 6, 6), (4, 3, 3, 3), 0),
    ((2, 3, 4, 9), (2, 3, 7, 3), 1), ((1, 2, 8, 3), (2, 2, 2, 4), 0),
])
def test_forward_bad_shapes_are_value_errors(x_shape, w_shape, padding):
    """Are mismatched channels and a kernel that does not fit ValueErrors (torch refuses them too)?"""
    x, w = np.ones(x_shape), np.ones(w_shape)
    with pytest.raises(ValueError):
        conv_ref.conv2d_forward(x, w, None, 1, padding)
    with pytest.raises(RuntimeError):
        torch_conv(x, w, None, 1, padding)

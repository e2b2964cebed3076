"""Does the reference ``init`` solution agree with PyTorch's ``torch.nn.init``, used as an independent oracle?

* ``fan_in`` against ``torch.nn.init._calculate_fan_in_and_fan_out`` (the fan-in ``kaiming_normal_``
  uses in mode ``fan_in``) on many random linear and convolution shapes, and the same ``ValueError``
  for shapes of fewer than 2 dimensions.
* ``kaiming_normal`` against ``torch.nn.init.kaiming_normal_(mode='fan_in')``: our gain is the
  variance gain, the square of ``torch.nn.init.calculate_gain`` (relu 2, linear 1, leaky_relu(a)
  2 / (1 + a²)); on large samples both have mean 0 and the std sqrt(gain / fan_in), and a two-sample
  Kolmogorov-Smirnov test cannot tell their distributions apart.
* ``init_mlp`` layer by layer against ``kaiming_normal_`` with nonlinearity relu (hidden layers) and
  linear (the output layer).
* The NumPy fact the assignment promises students: ``rng.normal(0, std, shape)`` draws exactly the
  numbers of ``rng.standard_normal(shape) * std``.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import scipy.stats
import torch
from conftest import load_reference

ref = load_reference("init")


def random_shapes(seed: int, count: int = 200):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        ndim = int(rng.integers(2, 6))
        yield tuple(int(d) for d in rng.integers(1, 12, size=ndim))


def torch_fan_in(shape) -> int:
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))[0]


def test_fan_in_matches_torch_on_random_shapes():
    """Does fan_in equal PyTorch's fan-in on 200 random shapes of 2 to 5 dimensions?"""
    for shape in random_shapes(0):
        assert ref.fan_in(shape) == torch_fan_in(shape), shape


@pytest.mark.parametrize("shape", [(), (1,), (7,)])
def test_fan_in_rejects_short_shapes_like_torch(shape):
    """Do both the reference and PyTorch raise ValueError for a shape of fewer than 2 dimensions?"""
    with pytest.raises(ValueError):
        ref.fan_in(shape)
    with pytest.raises(ValueError):
        torch_fan_in(shape)


# (our gain, torch's nonlinearity, torch's slope a)
GAINS = [(2.0, "relu", 0.0), (1.0, "linear", 0.0), (2 / (1 + 0.2**2), "leaky_relu", 0.2),
         (2 / (1 + 0.01**2), "leaky_relu", 0.01)]


@pytest.mark.parametrize("gain, nonlinearity, a", GAINS)
def test_our_gain_is_the_square_of_torchs(gain, nonlinearity, a):
    """Is the assignment's (variance) gain the square of torch.nn.init.calculate_gain?"""
    assert math.isclose(gain, torch.nn.init.calculate_gain(nonlinearity, a) ** 2, rel_tol=1e-12)


def torch_kaiming(shape, nonlinearity: str, a: float, seed: int) -> np.ndarray:
    tensor = torch.empty(shape, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(tensor, a=a, mode="fan_in", nonlinearity=nonlinearity,
                                  generator=torch.Generator().manual_seed(seed))
    return tensor.numpy()


@pytest.mark.parametrize("shape", [(300, 700), (700, 300), (64, 32, 5, 3), (40, 30, 7), (16, 8, 3, 3, 3), (2000, 1, 1, 1)])
@pytest.mark.parametrize("gain, nonlinearity, a", GAINS)
def test_kaiming_normal_has_torchs_moments(shape, gain, nonlinearity, a):
    """On about 1e5 values or more, do the reference and kaiming_normal_ agree in mean, std and distribution?"""
    seed = zlib.crc32(repr((shape, nonlinearity, a)).encode())
    ours = ref.kaiming_normal(shape, np.random.default_rng(seed), gain=gain)
    theirs = torch_kaiming(shape, nonlinearity, a, seed)
    std = math.sqrt(gain / torch_fan_in(shape))
    n = ours.size
    assert ours.shape == theirs.shape == shape and ours.dtype == np.float64
    for sample in (ours, theirs):
        assert abs(sample.mean()) < 6 * std / math.sqrt(n)
        assert abs(sample.std() / std - 1) < 6 / math.sqrt(2 * n)
    assert scipy.stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > 1e-4


def test_kaiming_normal_default_gain_is_relus():
    """Is the default gain torch's relu gain, squared?"""
    shape = (500, 400)
    ours = ref.kaiming_normal(shape, np.random.default_rng(1))
    theirs = torch_kaiming(shape, "relu", 0.0, 1)
    assert abs(ours.std() / theirs.std() - 1) < 0.02


@pytest.mark.parametrize("sizes", [[400, 300, 500, 100], [600, 200], [50, 400, 400, 400, 1]])
def test_init_mlp_layers_have_torchs_kaiming_std(sizes):
    """Is every hidden layer kaiming_normal_(relu) and the output layer kaiming_normal_(linear), with b = 0?"""
    layers = ref.init_mlp(sizes, np.random.default_rng(2))
    assert len(layers) == len(sizes) - 1
    for i, (w, b) in enumerate(layers):
        assert w.shape == (sizes[i + 1], sizes[i]) and b.shape == (sizes[i + 1],) and not b.any()
        nonlinearity = "linear" if i == len(layers) - 1 else "relu"
        theirs = torch_kaiming(w.shape, nonlinearity, 0.0, i)
        tol = 8 / math.sqrt(2 * min(w.size, theirs.size))
        assert abs(w.std() / theirs.std() - 1) < tol, (i, w.std(), theirs.std())


def test_init_mlp_draws_layer_by_layer():
    """Are the weights rng.standard_normal((fan_out, fan_in)) per layer, first layer first, scaled by sqrt(gain / fan_in)?"""
    sizes = [7, 30, 20, 3]
    layers = ref.init_mlp(sizes, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    for i, (w, _) in enumerate(layers):
        gain = 1.0 if i == len(layers) - 1 else 2.0
        assert np.array_equal(w, rng.standard_normal((sizes[i + 1], sizes[i])) * math.sqrt(gain / sizes[i]))


@pytest.mark.parametrize("seed", range(5))
def test_normal_and_scaled_standard_normal_draw_the_same_numbers(seed):
    """Does rng.normal(0, std, shape) give exactly rng.standard_normal(shape) * std, as the README promises?"""
    for shape in [(50, 30), (7, 3, 3, 3), (1000,)]:
        std = math.sqrt(2 / shape[-1])
        a = np.random.default_rng(seed).standard_normal(shape) * std
        b = np.random.default_rng(seed).normal(0, std, shape)
        c = np.random.default_rng(seed).normal(size=shape, scale=std)
        assert np.array_equal(a, b) and np.array_equal(a, c)

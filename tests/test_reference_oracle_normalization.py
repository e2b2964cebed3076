"""Does the reference ``normalization`` solution agree with PyTorch, used as an independent oracle?

``batchnorm_forward`` against ``torch.nn.functional.batch_norm`` (training, the running statistics over
sequences of calls, evaluation), ``layernorm_forward`` against ``torch.nn.functional.layer_norm`` on
arrays of 0 to 3 leading axes, both backward passes against autograd and against central differences,
all in float64 over many random cases, with features (or examples) of scale down to 0.003, whose
variance is near eps: where eps sits shows there.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import load_reference

from grader.testing import numerical_grad, relative_error

ref = load_reference("normalization")

RTOL, ATOL = 1e-10, 1e-12
SEEDS = range(40)


def t(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)


def batch(rng, n: int, d: int) -> np.ndarray:
    """(n, d) with feature scales from 0.003 to 10, means up to 2; at least one feature of scale <= 0.01."""
    scales = 10.0 ** rng.uniform(-2.5, 1.0, size=d)
    scales[int(rng.integers(d))] = rng.choice([0.01, 0.003])
    return rng.normal(size=(n, d)) * scales + rng.uniform(-2, 2, size=d)


def affine(rng, d: int):
    return rng.uniform(0.3, 3.0, size=d) * rng.choice([-1.0, 1.0], size=d), rng.normal(size=d)


def torch_bn(x, g, b, rm, rv, train, momentum, eps):
    rm, rv = t(rm), t(rv)
    out = F.batch_norm(t(x), rm, rv, t(g), t(b), train, momentum, eps)
    return out.numpy(), rm.numpy(), rv.numpy()


@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_forward_and_running_statistics_match_torch(seed):
    """Over a sequence of training and evaluation calls, are out and the running statistics F.batch_norm's?"""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 30)), int(rng.integers(1, 10))
    g, b = affine(rng, d)
    momentum, eps = float(rng.choice([0.1, rng.uniform(0.01, 0.9)])), float(rng.choice([1e-5, 1e-3]))
    state, rm, rv = {}, np.zeros(d), np.ones(d)
    for train in (True, True, False, True, False, True):
        x = batch(rng, n if train else int(rng.integers(1, 6)), d)
        out, new = ref.batchnorm_forward(x, g, b, state, train, momentum, eps)
        expected, rm, rv = torch_bn(x, g, b, rm, rv, train, momentum, eps)
        np.testing.assert_allclose(out, expected, rtol=RTOL, atol=ATOL)
        if train or state:
            np.testing.assert_allclose(new["running_mean"], rm, rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(new["running_var"], rv, rtol=RTOL, atol=ATOL)
        else:
            assert new == {}
        if not train and state:
            assert new is not state and all(new[k] is not state[k] for k in state)
            assert all(np.array_equal(new[k], state[k]) for k in state)
        state = new


def test_evaluation_from_the_empty_state_uses_the_defaults():
    """train=False with {}: running mean 0 and variance 1, and the state stays {}."""
    rng = np.random.default_rng(0)
    x, (g, b) = batch(rng, 4, 3), affine(rng, 3)
    out, state = ref.batchnorm_forward(x, g, b, {}, False)
    np.testing.assert_allclose(out, torch_bn(x, g, b, np.zeros(3), np.ones(3), False, 0.1, 1e-5)[0], rtol=RTOL)
    assert state == {}


def test_one_example_in_training_is_a_value_error():
    """N = 1 has no variance: ValueError in training, fine in evaluation."""
    x = np.ones((1, 3))
    with pytest.raises(ValueError):
        ref.batchnorm_forward(x, np.ones(3), np.zeros(3), {}, True)
    ref.batchnorm_forward(x, np.ones(3), np.zeros(3), {}, False)


@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_backward_matches_autograd_and_central_differences(seed):
    """Are dx, dgamma and dbeta autograd's through F.batch_norm (training), and the central differences of
    sum(dout * out) within the relative error the checks allow?"""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 20)), int(rng.integers(1, 8))
    x, (g, b), dout = batch(rng, n, d), affine(rng, d), rng.normal(size=(n, d))
    eps = float(rng.choice([1e-5, 1e-3]))
    xt, gt, bt = (t(a).requires_grad_() for a in (x, g, b))
    (F.batch_norm(xt, None, None, gt, bt, True, 0.1, eps) * t(dout)).sum().backward()
    got = ref.batchnorm_backward(dout, x, g, eps)
    for mine, theirs in zip(got, (xt.grad, gt.grad, bt.grad), strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-9, atol=1e-11)

    def loss(xs):
        return np.sum(dout * np.stack([ref.batchnorm_forward(xi, g, b, {}, True, 0.1, eps)[0] for xi in xs]), axis=(1, 2))

    numerical = numerical_grad(loss, x, batched=True)
    assert np.all((relative_error(got[0], numerical) < 1e-6) | (np.abs(got[0] - numerical) < 1e-7))


@pytest.mark.parametrize("seed", SEEDS)
def test_layernorm_matches_torch_and_autograd(seed):
    """On arrays of 0 to 3 leading axes: out is F.layer_norm's, dx, dgamma and dbeta autograd's (dgamma and
    dbeta summed over every leading axis), and dx the central differences of sum(dout * out)."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(0, 4)))) + (int(rng.integers(2, 10)),)
    lead = shape[:-1]
    scales = 10.0 ** rng.uniform(-2.5, 1.0, size=lead + (1,))
    x = rng.normal(size=shape) * scales + rng.uniform(-2, 2, size=lead + (1,))
    (g, b), dout = affine(rng, shape[-1]), rng.normal(size=shape)
    eps = float(rng.choice([1e-5, 1e-3]))
    xt, gt, bt = (t(a).requires_grad_() for a in (x, g, b))
    out = F.layer_norm(xt, (shape[-1],), gt, bt, eps)
    np.testing.assert_allclose(ref.layernorm_forward(x, g, b, eps), out.detach().numpy(), rtol=RTOL, atol=ATOL)
    (out * t(dout)).sum().backward()
    got = ref.layernorm_backward(dout, x, g, eps)
    assert got[1].shape == got[2].shape == (shape[-1],)
    for mine, theirs in zip(got, (xt.grad, gt.grad, bt.grad), strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-9, atol=1e-11)
    axes = tuple(range(1, x.ndim + 1))
    numerical = numerical_grad(lambda xs: np.sum(dout * ref.layernorm_forward(xs, g, b, eps), axis=axes), x, batched=True)
    assert np.all((relative_error(got[0], numerical) < 1e-6) | (np.abs(got[0] - numerical) < 1e-7))


def test_eps_sits_inside_the_square_root():
    """A feature of scale 0.01 has variance near eps: (x - mu) / sqrt(var + eps) differs from
    (x - mu) / (sqrt(var) + eps) by far more than the checks' tolerance there."""
    x = np.array([[0.0, 0.01], [1.0, -0.01], [2.0, 0.02], [3.0, -0.02]])
    out, _ = ref.batchnorm_forward(x, np.ones(2), np.zeros(2), {}, True)
    outside = (x - x.mean(0)) / (x.std(0) + 1e-5)
    assert np.max(relative_error(out[:, 1], outside[:, 1])) > 1e-3
    np.testing.assert_allclose(out, torch_bn(x, np.ones(2), np.zeros(2), np.zeros(2), np.ones(2), True, 0.1, 1e-5)[0],
                               rtol=RTOL, atol=ATOL)


def test_inputs_are_not_modified():
    """Do the four functions leave their arguments (and the state dict) as they were?"""
    rng = np.random.default_rng(3)
    x, (g, b), dout = batch(rng, 5, 4), affine(rng, 4), rng.normal(size=(5, 4))
    state = {"running_mean": rng.normal(size=4), "running_var": rng.uniform(0.5, 2, size=4)}
    copies = [a.copy() for a in (x, g, b, dout, state["running_mean"], state["running_var"])]
    for train in (True, False):
        ref.batchnorm_forward(x, g, b, state, train)
    ref.batchnorm_backward(dout, x, g)
    ref.layernorm_forward(x, g, b)
    ref.layernorm_backward(dout, x, g)
    for before, after in zip(copies, (x, g, b, dout, state["running_mean"], state["running_var"]), strict=True):
        np.testing.assert_array_equal(before, after)
    assert set(state) == {"running_mean", "running_var"}

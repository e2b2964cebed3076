"""Does the reference ``losses`` solution agree with PyTorch, used as an independent oracle?

``softmax`` against ``torch.softmax(dim=-1)``, ``cross_entropy`` against
``torch.nn.functional.cross_entropy`` with both target forms (class indices and probabilities),
``cross_entropy_grad`` against autograd, all in float64 over many random cases: ordinary logits,
logits of magnitude 1e4, rows at very different offsets, and a true class 1000 below its row's max.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import load_reference

from grader.testing import numerical_grad, relative_error

ref = load_reference("losses")

RTOL, ATOL = 1e-10, 1e-13
SEEDS = range(40)
KINDS = ("ordinary", "huge", "offsets", "far_below")


def random_case(seed: int, kind: str):
    """Logits (N, K), class indices (N,) and probability targets (N, K) of one kind."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 9)), int(rng.integers(2, 11))
    z = rng.normal(size=(n, k)) * 10.0 ** rng.uniform(-1, 1)
    if kind == "huge":
        z = rng.uniform(-1e4, 1e4, size=(n, k))
    elif kind == "offsets":  # rows far apart: a global max instead of each row's gives 0/0
        z = z + rng.choice([-1e4, 0.0, 1e4], size=(n, 1))
    elif kind == "far_below":  # the true class 1000 below the row's max: log of a probability gives inf
        pass
    labels = rng.integers(0, k, size=n)
    if kind == "far_below":
        z[np.arange(n), labels] = z.max(axis=1) - 1000.0
    probs = rng.dirichlet(np.full(k, 0.5), size=n)
    probs[rng.random((n, k)) < 0.2] = 0.0  # soft labels with exact zeros
    probs[probs.sum(axis=1) == 0, 0] = 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    return z, labels, probs


def torch_loss_and_grad(z: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(target) if target.ndim == 1 else torch.tensor(target, dtype=torch.float64)
    loss = F.cross_entropy(zt, tt)
    loss.backward()
    return loss.item(), zt.grad.numpy()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_matches_torch(seed, kind):
    """Is softmax torch.softmax(dim=-1), finite and with rows summing to 1, for every kind of logits?"""
    z, _, _ = random_case(seed, kind)
    got = ref.softmax(z)
    np.testing.assert_allclose(got, torch.softmax(torch.tensor(z), dim=-1).numpy(), rtol=RTOL, atol=ATOL)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-13)


@pytest.mark.parametrize("shape", [(7,), (1,), (2, 3, 4), (3, 1, 5), (2, 2, 2, 6)])
def test_softmax_on_the_last_axis_of_any_shape(shape):
    """Does softmax work along the last axis for 1-D and 3-D or 4-D inputs as torch.softmax(dim=-1) does?"""
    z = np.random.default_rng(sum(shape)).normal(size=shape) * 5 + 1e4
    np.testing.assert_allclose(ref.softmax(z), torch.softmax(torch.tensor(z), dim=-1).numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_and_grad_match_torch(seed, kind):
    """Are the loss and its gradient F.cross_entropy's and autograd's, for class indices and for probabilities?"""
    z, labels, probs = random_case(seed, kind)
    for target in (labels, probs):
        loss, grad = torch_loss_and_grad(z, target)
        got = ref.cross_entropy(z, target)
        assert isinstance(got, float) and np.isfinite(got)
        assert got == pytest.approx(loss, rel=RTOL, abs=1e-9), target.dtype
        np.testing.assert_allclose(ref.cross_entropy_grad(z, target), grad, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_one_hot_equals_indices(seed):
    """Do class indices and the equivalent one-hot probabilities give the same loss and gradient?"""
    z, labels, _ = random_case(seed, "ordinary")
    one_hot = np.eye(z.shape[1])[labels]
    assert ref.cross_entropy(z, one_hot) == pytest.approx(ref.cross_entropy(z, labels), rel=1e-14)
    np.testing.assert_allclose(ref.cross_entropy_grad(z, one_hot), ref.cross_entropy_grad(z, labels), rtol=1e-14)


@pytest.mark.parametrize("seed", range(10))
def test_gradient_matches_central_differences(seed):
    """Is the analytic gradient the central-difference gradient of the loss (relative error, float64)?"""
    z, labels, probs = random_case(seed, "ordinary")
    for target in (labels, probs):
        numerical = numerical_grad(lambda x, t=target: ref.cross_entropy(x, t), z)
        analytic = ref.cross_entropy_grad(z, target)
        assert np.all((relative_error(analytic, numerical) < 1e-6) | (np.abs(analytic - numerical) < 1e-8))


def test_known_values():
    """Hand-computed values: uniform logits give log K; a true class 1000 below gives 1000; the loss of a
    batch is the mean of its rows'."""
    assert ref.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 3])) == pytest.approx(np.log(4), rel=1e-15)
    assert ref.cross_entropy(np.array([[0.0, -1000.0]]), np.array([1])) == pytest.approx(1000.0, rel=1e-15)
    z = np.array([[1.0, 2.0, 3.0], [1e4, 0.0, -1e4]])
    rows = [ref.cross_entropy(z[i:i + 1], np.array([t])) for i, t in enumerate([2, 0])]
    assert ref.cross_entropy(z, np.array([2, 0])) == pytest.approx(np.mean(rows), rel=1e-15)
    np.testing.assert_allclose(ref.softmax(np.array([1e4, 1e4])), [0.5, 0.5], rtol=1e-15)


def test_inputs_are_not_modified():
    """Do the three functions leave their arguments as they were?"""
    z, labels, probs = random_case(3, "offsets")
    copies = z.copy(), labels.copy(), probs.copy()
    ref.softmax(z)
    for target in (labels, probs):
        ref.cross_entropy(z, target)
        ref.cross_entropy_grad(z, target)
    for before, after in zip(copies, (z, labels, probs), strict=True):
        np.testing.assert_array_equal(before, after)

"""Does the reference ``dropout`` agree with PyTorch, on more inputs than the checks use?

Dropout is random and torch draws its own numbers, so the reference is checked against

* ``torch.nn.functional.dropout`` where the random numbers do not matter: the scale of a kept unit
  (1 / (1 − p)), p = 0 and p = 1, evaluation mode, the ValueError for p outside [0, 1], and in
  distribution (the fraction kept, E[out] = x) with binomial and normal bounds;
* torch's autograd through ``torch.nn.functional.dropout`` with torch's own mask handed to the
  reference's backward pass, and through x * keep / (1 − p) with the reference's mask;
* the contract's draw made here on a copy of the generator: keep = rng.random(x.shape) >= p, one
  draw for every p and none in evaluation.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import load_reference
from scipy import stats

dropout_ref = load_reference("dropout")

RTOL = 1e-13
P_VALUES = (0.0, 0.05, 0.2, 0.5, 0.7, 0.95, 1.0)


def random_x(seed: int) -> np.ndarray:
    """An input of random shape (vector, batch, feature maps) and scale, with no zero."""
    r = np.random.default_rng([seed, 3])
    shape = [(int(r.integers(1, 300)),), (int(r.integers(1, 40)), int(r.integers(1, 70))),
             tuple(int(d) for d in r.integers(1, 6, size=4))][seed % 3]
    return r.uniform(0.1, 2.0, size=shape) * r.choice([-1.0, 1.0], size=shape) * 10.0 ** r.uniform(-3, 3)


@pytest.mark.parametrize("seed", range(60))
def test_forward_is_the_contract_draw_scaled_as_torch(seed):
    """Is keep the contract's one draw, each kept unit x times torch's scale and each dropped one 0, for every p?"""
    x = random_x(seed)
    x0 = x.copy()
    for p in P_VALUES:
        rng, mine = np.random.default_rng([seed, 11]), np.random.default_rng([seed, 11])
        out, keep = dropout_ref.dropout_forward(x, p, True, rng)
        expected_keep = mine.random(x.shape) >= p
        assert keep.dtype == np.bool_ and np.array_equal(keep, expected_keep)
        assert rng.bit_generator.state == mine.bit_generator.state, "the reference drew more than rng.random(x.shape)"
        torch.manual_seed(seed)
        t_out = torch.nn.functional.dropout(torch.as_tensor(x), p, training=True).numpy()
        kept = t_out != 0
        if p == 1.0:
            assert not kept.any() and np.array_equal(out, np.zeros_like(x))
            continue
        scale = t_out[kept] / x[kept]  # torch's scale of a kept unit, 1 / (1 - p)
        if kept.any():
            np.testing.assert_allclose(scale, 1.0 / (1.0 - p), rtol=RTOL)
        np.testing.assert_allclose(out, np.where(keep, x / (1.0 - p), 0.0), rtol=RTOL, atol=0)
        if p == 0.0:
            assert np.array_equal(t_out, x) and np.array_equal(out, x)
    assert np.array_equal(x, x0), "the reference modified x"


@pytest.mark.parametrize("p", P_VALUES[1:-1])
def test_fraction_kept_and_mean_as_torch(p):
    """Over 200,000 units, do the reference and torch keep fractions that Binomial(n, 1 - p) admits, and both
    average to x (E[out] = x)?"""
    x = np.random.default_rng(5).uniform(0.5, 2.0, size=(400, 500))
    out, keep = dropout_ref.dropout_forward(x, p, True, np.random.default_rng(int(p * 1000)))
    torch.manual_seed(int(p * 1000))
    t_out = torch.nn.functional.dropout(torch.as_tensor(x), p, training=True).numpy()
    n = x.size
    for kept in (int(keep.sum()), int(np.count_nonzero(t_out))):
        assert stats.binomtest(kept, n, 1.0 - p).pvalue > 1e-6
    sd = np.sqrt(p / (1.0 - p) * np.sum(x * x))
    for total in (out.sum(), t_out.sum()):
        assert abs(total - x.sum()) <= 5.5 * sd


@pytest.mark.parametrize("seed", range(40))
def test_backward_is_autograd_through_torchs_mask(seed):
    """Handed torch's own mask, does the reference's backward pass give torch's autograd gradient, for every p?"""
    x = random_x(seed)
    dout = np.random.default_rng([seed, 4]).normal(size=x.shape)
    for p in P_VALUES:
        torch.manual_seed(seed)
        t = torch.tensor(x, requires_grad=True)
        out = torch.nn.functional.dropout(t, p, training=True)
        (out * torch.as_tensor(dout)).sum().backward()
        mask = (out != 0).detach().numpy()
        np.testing.assert_allclose(dropout_ref.dropout_backward(dout, mask, p), t.grad.numpy(), rtol=RTOL, atol=0)


@pytest.mark.parametrize("seed", range(20))
def test_backward_is_autograd_through_the_references_mask(seed):
    """With the reference's keep, is the backward pass torch's gradient of sum(dout * x * keep / (1 - p))?"""
    x = random_x(seed)
    dout = np.random.default_rng([seed, 6]).normal(size=x.shape)
    for p in P_VALUES[:-1]:
        _, keep = dropout_ref.dropout_forward(x, p, True, np.random.default_rng(seed))
        t = torch.tensor(x, requires_grad=True)
        (t * torch.as_tensor(keep) / (1.0 - p) * torch.as_tensor(dout)).sum().backward()
        np.testing.assert_allclose(dropout_ref.dropout_backward(dout, keep, p), t.grad.numpy(), rtol=RTOL, atol=0)
    _, keep = dropout_ref.dropout_forward(x, 1.0, True, np.random.default_rng(seed))
    assert np.array_equal(dropout_ref.dropout_backward(dout, keep, 1.0), np.zeros_like(dout))


@pytest.mark.parametrize("p", P_VALUES)
def test_evaluation_is_torchs_identity(p):
    """In evaluation, is out torch's (x itself), keep None, the generator untouched, and the backward pass dout?"""
    x = random_x(int(p * 100))
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    out, keep = dropout_ref.dropout_forward(x, p, False, rng)
    assert keep is None and rng.bit_generator.state == before
    assert np.array_equal(out, torch.nn.functional.dropout(torch.as_tensor(x), p, training=False).numpy())
    assert out is not x
    dout = np.ones_like(x)
    dx = dropout_ref.dropout_backward(dout, None, p)
    assert np.array_equal(dx, dout) and dx is not dout


@pytest.mark.parametrize("p", [-0.1, -1e-12, 1.0 + 1e-12, 1.5, 2.0])
@pytest.mark.parametrize("train", [True, False])
def test_bad_p_raises_value_error_as_torch(p, train):
    """Do the reference and torch both reject p outside [0, 1] with a ValueError, in training and in evaluation?"""
    x = np.ones((3, 4))
    with pytest.raises(ValueError):
        torch.nn.functional.dropout(torch.as_tensor(x), p, training=train)
    with pytest.raises(ValueError):
        dropout_ref.dropout_forward(x, p, train, np.random.default_rng(0))

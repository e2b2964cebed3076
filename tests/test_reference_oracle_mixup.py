"""Does the reference ``mixup`` agree with independent oracles?

There is no library mixup to compare with, so the reference is checked against

* the contract's draws made here on a copy of the generator (λ = rng.beta(α, α) first, then
  rng.permutation(N), and nothing else drawn);
* an independent formulation of the blend in PyTorch on the same draws: a mixing matrix
  M = λ I + (1 − λ) P, with P the permutation matrix (P[i, perm[i]] = 1), applied as M @ x;
* ``torch.distributions.Beta(α, α)``: its mean and variance against the reference's λ over many seeds,
  and a two-sample Kolmogorov-Smirnov test against torch's own Beta samples.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import load_reference
from scipy import stats

mixup_ref = load_reference("mixup")

RTOL, ATOL = 1e-12, 1e-12
ALPHAS = (0.1, 0.4, 1.0, 2.0, 5.0)


def random_case(seed: int):
    """A batch of random shape (vectors, images, sequences, no feature axis), one-hot or soft labels."""
    r = np.random.default_rng([seed, 1])
    n = int(r.integers(1, 40))
    features = [(), (int(r.integers(1, 8)),), (2, 3, 4), (5, 2)][seed % 4]
    k = int(r.integers(2, 9))
    x = r.normal(size=(n, *features)) * 10.0 ** r.uniform(-2, 2)
    y = r.dirichlet(np.ones(k), size=n) if seed % 2 else np.eye(k)[r.integers(k, size=n)]
    return x, y, float(10.0 ** r.uniform(-1.3, 0.7))


def torch_mixing_matrix(x: np.ndarray, lam: float, perm: np.ndarray) -> np.ndarray:
    """M @ x with M = λ I + (1 − λ) P: row i of the result is λ x[i] + (1 − λ) x[perm[i]]."""
    n = x.shape[0]
    p = torch.zeros(n, n, dtype=torch.float64)
    p[torch.arange(n), torch.as_tensor(perm)] = 1.0
    m = lam * torch.eye(n, dtype=torch.float64) + (1.0 - lam) * p
    flat = torch.as_tensor(x, dtype=torch.float64).reshape(n, -1)
    return (m @ flat).reshape(x.shape).numpy()


@pytest.mark.parametrize("seed", range(200))
def test_matches_the_contract_draws_and_torch_blend(seed):
    """Are λ and perm the contract's two draws (and nothing more drawn), and the blends torch's M @ x, M @ y?"""
    x, y, alpha = random_case(seed)
    x0, y0 = x.copy(), y.copy()
    rng = np.random.default_rng(seed)
    mine = np.random.default_rng(seed)
    lam_e = mine.beta(alpha, alpha)
    perm_e = mine.permutation(x.shape[0])

    x_mix, y_mix, lam, perm = mixup_ref.mixup(x, y, alpha, rng)
    assert isinstance(lam, float) and lam == lam_e
    assert np.array_equal(perm, perm_e) and perm.dtype.kind == "i"
    assert rng.bit_generator.state == mine.bit_generator.state, "the reference drew more than λ and perm"
    np.testing.assert_allclose(x_mix, torch_mixing_matrix(x, lam, perm), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(y_mix, torch_mixing_matrix(y, lam, perm), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(y_mix.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.array_equal(x, x0) and np.array_equal(y, y0), "the reference modified its inputs"


def test_the_lectures_cat_and_dog():
    """Is a 50/50-ish blend of a cat and a dog labelled λ cat, (1 − λ) dog (and a batch of one left alone)?"""
    cat, dog = np.zeros((3, 4, 4)), np.ones((3, 4, 4))
    for seed in range(20):
        x_mix, y_mix, lam, perm = mixup_ref.mixup(np.stack([cat, dog]), np.eye(2), 1.0, np.random.default_rng(seed))
        if perm[0] == 1:
            np.testing.assert_allclose(x_mix[0], (1.0 - lam) * dog, rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(y_mix, [[lam, 1.0 - lam], [1.0 - lam, lam]], rtol=RTOL, atol=ATOL)
        else:
            np.testing.assert_allclose(y_mix, np.eye(2), rtol=RTOL, atol=ATOL)
    x_mix, y_mix, _, perm = mixup_ref.mixup(np.ones((1, 3)), np.array([[0.2, 0.8]]), 0.4, np.random.default_rng(0))
    assert perm.tolist() == [0] and np.array_equal(x_mix, np.ones((1, 3))) and np.allclose(y_mix, [[0.2, 0.8]])


def reference_lambdas(alpha: float, n: int) -> np.ndarray:
    x, y = np.zeros((3, 1)), np.eye(3)
    return np.array([mixup_ref.mixup(x, y, alpha, np.random.default_rng([seed, 7]))[2] for seed in range(n)])


@pytest.mark.parametrize("alpha", ALPHAS)
def test_lambda_has_torch_beta_moments(alpha):
    """Do the reference's λ over 4000 seeds have the mean and variance of torch.distributions.Beta(α, α)?"""
    lams = reference_lambdas(alpha, 4000)
    beta = torch.distributions.Beta(torch.tensor(alpha, dtype=torch.float64), torch.tensor(alpha, dtype=torch.float64))
    mean, var = float(beta.mean), float(beta.variance)
    n = lams.size
    assert abs(lams.mean() - mean) <= 5 * np.sqrt(var / n)
    centered = (lams - mean) ** 2
    assert abs(centered.mean() - var) <= 5 * centered.std() / np.sqrt(n)
    assert np.all((lams >= 0.0) & (lams <= 1.0))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_lambda_follows_torch_beta_samples(alpha):
    """Are the reference's λ and torch's own Beta(α, α) samples one distribution (two-sample KS, fixed seeds)?"""
    lams = reference_lambdas(alpha, 2000)
    torch.manual_seed(0)
    a = torch.tensor(alpha, dtype=torch.float64)  # float32 samples of Beta(0.1, 0.1) pile up at 1 - 2**-24
    samples = torch.distributions.Beta(a, a).sample((2000,))
    assert stats.ks_2samp(lams, samples.numpy()).pvalue > 1e-3
    assert stats.kstest(lams, stats.beta(alpha, alpha).cdf).pvalue > 1e-3

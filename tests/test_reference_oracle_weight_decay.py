"""Does the reference ``weight_decay`` solution (``reference/regularization.py``) agree with PyTorch?

PyTorch is the independent oracle, in float64:

* ``l2_penalty`` against ``lam * (theta ** 2).sum()``, and ``l2_grad`` against autograd's gradient of
  L + R on random shapes;
* ``sgd_weight_decay`` against ``torch.optim.SGD(lr, weight_decay=2 lam)`` (SGD adds weight_decay *
  theta to the gradient, so this is gradient descent on L + lam ||theta||^2) over 500 steps;
* ``adamw`` against ``torch.optim.AdamW(lr, betas, eps, weight_decay)`` over 500 steps, states included,
  and against ``torch.optim.Adam`` when weight_decay = 0; and it is *not* ``Adam(weight_decay=...)``,
  the coupled L2 penalty.

Trajectories: the reference computes each gradient at its own theta; the same gradient is handed to
torch (``p.grad``), so both sides see identical inputs. The decay is a fixed contraction, so rounding
cannot be amplified along the way.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import load_reference

ref = load_reference("regularization")

N_STEPS = 500
RTOL, ATOL = 1e-10, 1e-12
SHAPES = [(1,), (7,), (3, 4), (2, 3, 5)]


def _random_grads(seed: int = 0, dim: int = 6):
    """Random gradients spanning six orders of magnitude, with a zero component on the first call."""
    g = np.random.default_rng(seed).normal(size=(N_STEPS, dim)) * np.logspace(-3, 3, dim)
    g[0, 0] = 0.0
    return np.random.default_rng(seed + 1).normal(size=dim), lambda theta, k: g[k]


def _quadratic():
    """f = 0.5 * sum a_i (theta_i - c_i)^2 with curvatures 1e-2 .. 1e2 (an ill-conditioned bowl)."""
    a, c = np.array([1e-2, 1.0, 10.0, 100.0]), np.array([3.0, -2.0, 0.5, 1.0])
    return np.array([-1.0, 4.0, 2.0, -3.0]), lambda theta, k: a * (theta - c)


def _rosenbrock():
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from the lecture's start (-1.5, 2)."""

    def grad(theta, k):
        x, y = theta
        return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])

    return np.array([-1.5, 2.0]), grad


def _regression():
    """Mean squared error of a linear model on 20 points with 8 features (theta of shape (2, 4))."""
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(20, 8)), rng.normal(size=20)
    return rng.normal(size=(2, 4)), lambda theta, k: (2 * X.T @ (X @ theta.ravel() - y) / 20).reshape(2, 4)


PROBLEMS = {"random": _random_grads, "quadratic": _quadratic, "rosenbrock": _rosenbrock, "regression": _regression}

ADAMW_CASES = {
    "defaults": dict(lr=1e-2),
    "strong-decay": dict(lr=3e-3, weight_decay=0.5),
    "custom": dict(lr=1e-3, weight_decay=0.1, beta1=0.8, beta2=0.99, eps=1e-6),
    "fast-betas": dict(lr=2e-3, weight_decay=2.0, beta1=0.5, beta2=0.9, eps=1e-3),
}


def _run_reference(step, problem):
    """theta0, the reference's thetas after each step and the gradients it used, and its final state."""
    theta, grad_fn = PROBLEMS[problem]()
    theta0, state, thetas, grads = theta.copy(), {}, [], []
    for k in range(N_STEPS):
        g = np.array(grad_fn(theta, k), dtype=np.float64)
        theta, state = step(theta, g, state)
        thetas.append(theta)
        grads.append(g)
    assert np.all(np.isfinite(thetas)), "the reference trajectory blew up; pick a smaller lr"
    return theta0, np.array(thetas), grads, state


def _run_torch(make_opt, theta0, grads):
    """Replay the given gradients through a torch optimizer; its thetas and its per-parameter state."""
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = make_opt(p)
    thetas = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        thetas.append(p.detach().numpy().copy())
    return np.array(thetas), opt.state[p]


def _torch_hyper(hyper: dict) -> dict:
    return dict(lr=hyper["lr"], betas=(hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)),
                eps=hyper.get("eps", 1e-8), weight_decay=hyper.get("weight_decay", 0.01))


# ------------------------------------------------------------------------------ the penalty

@pytest.mark.parametrize("seed", range(20))
def test_l2_penalty_matches_torch(seed):
    """Is l2_penalty lam * sum(theta**2) over every element, as a float, for random shapes and scales?"""
    rng = np.random.default_rng(seed)
    shape = SHAPES[seed % len(SHAPES)]
    theta = rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 3)
    lam = 10.0 ** rng.uniform(-4, 1)
    got = ref.l2_penalty(theta, lam)
    assert isinstance(got, float)
    expected = float(lam * (torch.tensor(theta, dtype=torch.float64) ** 2).sum())
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_l2_grad_is_autograd_of_l_plus_r(seed):
    """Is l2_grad(grad L, theta, lam) autograd's gradient of L + lam * sum(theta**2), L a random smooth loss?"""
    rng = np.random.default_rng(seed)
    shape = SHAPES[seed % len(SHAPES)]
    theta = rng.normal(size=shape)
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    lam = 10.0 ** rng.uniform(-3, 1)

    def loss(p):
        return (torch.tensor(a) * torch.sin(p) + torch.tensor(b) * p**2).sum()

    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    (grad_l,) = torch.autograd.grad(loss(p), p)
    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    (grad_total,) = torch.autograd.grad(loss(p) + lam * (p**2).sum(), p)
    np.testing.assert_allclose(ref.l2_grad(grad_l.numpy(), theta, lam), grad_total.numpy(), rtol=1e-12, atol=1e-14)
    # and the gradient of the penalty alone is the gradient of l2_penalty, by autograd
    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    (grad_r,) = torch.autograd.grad(lam * (p**2).sum(), p)
    np.testing.assert_allclose(ref.l2_grad(np.zeros(shape), theta, lam), grad_r.numpy(), rtol=1e-12, atol=1e-14)


def test_l2_grad_is_the_numerical_gradient_of_l2_penalty():
    """Does central differencing of l2_penalty give l2_grad(0, theta, lam)?"""
    rng = np.random.default_rng(3)
    theta, lam = rng.normal(size=(3, 4)), 0.37
    numerical = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        e = np.zeros_like(theta)
        e[i] = 1e-6
        numerical[i] = (ref.l2_penalty(theta + e, lam) - ref.l2_penalty(theta - e, lam)) / 2e-6
    np.testing.assert_allclose(ref.l2_grad(np.zeros_like(theta), theta, lam), numerical, rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------- gradient descent with weight decay

@pytest.mark.parametrize("problem", ["random", "quadratic", "regression"])
@pytest.mark.parametrize("lr, lam", [(1e-3, 0.05), (5e-3, 1.0), (1e-2, 0.3)])
def test_sgd_weight_decay_matches_torch_sgd(problem, lr, lam):
    """Does sgd_weight_decay walk torch.optim.SGD(lr, weight_decay=2 lam)'s 500-step trajectory?"""
    theta0, ref_thetas, grads, _ = _run_reference(
        lambda theta, g, state: (ref.sgd_weight_decay(theta, g, lr, lam), state), problem)
    torch_thetas, _ = _run_torch(lambda p: torch.optim.SGD([p], lr=lr, weight_decay=2 * lam), theta0, grads)
    np.testing.assert_allclose(ref_thetas, torch_thetas, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_sgd_weight_decay_is_gradient_descent_on_l_plus_r(problem):
    """Is sgd_weight_decay the same as theta - lr * l2_grad(g, theta, lam), step after step (the lecture's proof)?"""
    lr, lam = (1e-4, 0.5) if problem == "rosenbrock" else (1e-3, 0.5)
    theta, grad_fn = PROBLEMS[problem]()
    other = theta.copy()
    for k in range(N_STEPS):
        theta = ref.sgd_weight_decay(theta, grad_fn(theta, k), lr, lam)
        other = other - lr * ref.l2_grad(grad_fn(other, k), other, lam)
    np.testing.assert_allclose(theta, other, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------------- AdamW

@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("case", sorted(ADAMW_CASES))
def test_adamw_matches_torch_adamw(case, problem):
    """Does adamw follow torch.optim.AdamW's 500-step trajectory in float64, and end in the same m and v?"""
    hyper = ADAMW_CASES[case]
    theta0, ref_thetas, grads, state = _run_reference(lambda th, g, s: ref.adamw(th, g, s, **hyper), problem)
    torch_thetas, torch_state = _run_torch(lambda p: torch.optim.AdamW([p], **_torch_hyper(hyper)), theta0, grads)
    np.testing.assert_allclose(ref_thetas, torch_thetas, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(state["m"], torch_state["exp_avg"].numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(state["v"], torch_state["exp_avg_sq"].numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_adamw_without_decay_is_adam(problem):
    """With weight_decay = 0, is adamw torch.optim.Adam?"""
    theta0, ref_thetas, grads, _ = _run_reference(lambda th, g, s: ref.adamw(th, g, s, 1e-2, weight_decay=0.0),
                                                  problem)
    torch_thetas, _ = _run_torch(lambda p: torch.optim.Adam([p], lr=1e-2), theta0, grads)
    np.testing.assert_allclose(ref_thetas, torch_thetas, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("coupling", [1.0, 2.0])
def test_adamw_is_not_adam_on_l_plus_r(coupling):
    """Does adamw part from Adam with the penalty coupled into the gradient (torch Adam(weight_decay=c * wd))?"""
    theta0, ref_thetas, grads, _ = _run_reference(lambda th, g, s: ref.adamw(th, g, s, 1e-2, weight_decay=0.5),
                                                  "random")
    coupled, _ = _run_torch(lambda p: torch.optim.Adam([p], lr=1e-2, weight_decay=coupling * 0.5), theta0, grads)
    assert np.max(np.abs(ref_thetas - coupled)) > 1e-2


def test_adamw_with_zero_gradient_only_shrinks():
    """With a zero gradient, does adamw multiply theta by exactly (1 - lr * weight_decay) at every step?"""
    theta, state = np.array([3.0, -0.5, 1e-3]), {}
    for t in range(1, 51):
        theta, state = ref.adamw(theta, np.zeros(3), state, 0.1, weight_decay=0.5)
        np.testing.assert_allclose(theta, np.array([3.0, -0.5, 1e-3]) * 0.95**t, rtol=1e-13)


def test_functions_leave_their_arguments_alone():
    """Are all four functions pure (theta, grad and state unchanged)?"""
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    ref.l2_penalty(theta, 0.1)
    ref.l2_grad(g, theta, 0.1)
    ref.sgd_weight_decay(theta, g, 0.1, 0.1)
    _, state = ref.adamw(theta, g, {}, 0.1)
    frozen = {k: np.copy(v) for k, v in state.items()}
    ref.adamw(theta, g, state, 0.1)
    assert np.array_equal(theta, [1.0, -2.0]) and np.array_equal(g, [0.5, 0.25])
    assert all(np.array_equal(frozen[k], state[k]) for k in frozen)

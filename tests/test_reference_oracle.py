"""Does the reference ``optimizers`` solution agree with PyTorch, used as an independent oracle?

Every trajectory runs 500 steps in float64.  The reference computes each gradient at its own
current theta; the very same gradient is then handed to the torch optimizer (``p.grad``), so both
sides see identical inputs and any difference is the optimizers' own (the update is additive in
theta, so rounding cannot feed back through the gradient and chaos cannot amplify it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import load_reference

opt_ref = load_reference("optimizers")

N_STEPS = 500
RTOL, ATOL = 1e-10, 1e-12


def _random_grads(seed: int = 0, dim: int = 6):
    """Random gradients spanning six orders of magnitude, with a zero component on the first call."""
    g = np.random.default_rng(seed).normal(size=(N_STEPS, dim)) * np.logspace(-3, 3, dim)
    g[0, 0] = 0.0
    return np.zeros(dim), lambda theta, k: g[k]


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


PROBLEMS = {"random": _random_grads, "quadratic": _quadratic, "rosenbrock": _rosenbrock}

# name -> (reference function, reference hyper-parameters, torch factory, {ref state key: torch state key})
CASES = {
    "gd": (opt_ref.gd, dict(lr=5e-4), lambda p: torch.optim.SGD([p], lr=5e-4), {}),
    "adagrad": (
        opt_ref.adagrad,
        dict(lr=0.5),
        lambda p: torch.optim.Adagrad([p], lr=0.5, eps=1e-10),
        {"s": "sum"},
    ),
    "adagrad-eps": (
        opt_ref.adagrad,
        dict(lr=0.1, eps=1e-3),
        lambda p: torch.optim.Adagrad([p], lr=0.1, eps=1e-3),
        {"s": "sum"},
    ),
    "momentum": (
        opt_ref.momentum,
        dict(lr=5e-4, beta=0.9),
        lambda p: torch.optim.SGD([p], lr=5e-4, momentum=0.9, dampening=0.9),
        {"m": "momentum_buffer"},
    ),
    "momentum-0.99": (
        opt_ref.momentum,
        dict(lr=2e-4, beta=0.99),
        lambda p: torch.optim.SGD([p], lr=2e-4, momentum=0.99, dampening=0.99),
        {"m": "momentum_buffer"},
    ),
    "adam": (
        opt_ref.adam,
        dict(lr=1e-2),
        lambda p: torch.optim.Adam([p], lr=1e-2),
        {"m": "exp_avg", "v": "exp_avg_sq"},
    ),
    "adam-custom": (
        opt_ref.adam,
        dict(lr=3e-3, beta1=0.8, beta2=0.99, eps=1e-6, bias_correction=True),
        lambda p: torch.optim.Adam([p], lr=3e-3, betas=(0.8, 0.99), eps=1e-6),
        {"m": "exp_avg", "v": "exp_avg_sq"},
    ),
}


def _run_reference(fn, hyper, problem):
    """Reference trajectory: the thetas after each step, the gradients used, and the final state."""
    theta, grad_fn = PROBLEMS[problem]()
    theta0, state, thetas, grads = theta.copy(), {}, [], []
    for k in range(N_STEPS):
        g = np.array(grad_fn(theta, k), dtype=np.float64)
        theta, state = fn(theta, g, state, **hyper)
        thetas.append(theta)
        grads.append(g)
    assert np.all(np.isfinite(thetas)), "the reference trajectory blew up; pick a smaller lr"
    return theta0, np.array(thetas), grads, state


def _run_torch(make_opt, theta0, grads, preset=None):
    """Replay the given gradients through a torch optimizer; ``preset`` seeds its per-parameter state."""
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = make_opt(p)
    if preset is not None:
        opt.state[p] = preset(p)
    thetas = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        thetas.append(p.detach().numpy().copy())
    return np.array(thetas), opt.state[p]


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_torch_optim(case, problem):
    """Does the reference follow the same 500-step trajectory (and end in the same state) as torch.optim?"""
    fn, hyper, make_opt, state_keys = CASES[case]
    theta0, ref_thetas, grads, ref_state = _run_reference(fn, hyper, problem)
    torch_thetas, torch_state = _run_torch(make_opt, theta0, grads)
    np.testing.assert_allclose(ref_thetas, torch_thetas, rtol=RTOL, atol=ATOL)
    for ref_key, torch_key in state_keys.items():
        np.testing.assert_allclose(ref_state[ref_key], torch_state[torch_key].numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("alpha, lr, eps", [(0.9, 1e-2, 1e-8), (0.99, 3e-3, 1e-6)])
def test_rmsprop_matches_torch_with_preset_square_avg(problem, alpha, lr, eps):
    """Is rmsprop torch's RMSprop once torch's square_avg starts at g0**2 instead of 0 (so step 1 is Adagrad's)?"""
    theta0, ref_thetas, grads, ref_state = _run_reference(
        opt_ref.rmsprop, dict(lr=lr, alpha=alpha, eps=eps), problem
    )

    def preset(p):
        # alpha * g0^2 + (1 - alpha) * g0^2 == g0^2 up to rounding, reproducing the reference's first call.
        return {"step": torch.tensor(0.0), "square_avg": torch.tensor(grads[0] ** 2, dtype=torch.float64)}

    make_opt = lambda p: torch.optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps)  # noqa: E731
    torch_thetas, torch_state = _run_torch(make_opt, theta0, grads, preset=preset)
    np.testing.assert_allclose(ref_thetas, torch_thetas, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ref_state["v"], torch_state["square_avg"].numpy(), rtol=RTOL, atol=ATOL)


def test_rmsprop_first_step_equals_adagrad():
    """Is rmsprop's first step exactly Adagrad's (v = g**2, not (1 - alpha) g**2)?"""
    theta, grad = np.array([0.3, -1.0, 2.0]), np.array([0.5, -2.0, 1e-3])
    a, _ = opt_ref.rmsprop(theta, grad, {}, lr=0.1, alpha=0.9, eps=1e-8)
    b, _ = opt_ref.adagrad(theta, grad, {}, lr=0.1, eps=1e-8)
    np.testing.assert_allclose(a, b, rtol=RTOL)


@pytest.mark.parametrize(
    "warmup, total, base_lr", [(10, 100, 0.1), (5, 37, 3e-4), (2, 3, 1.0), (20, 1000, 1e-3)]
)
def test_warmup_cosine_matches_torch_schedulers(warmup, total, base_lr):
    """Does warmup_cosine_lr equal SequentialLR(LinearLR from 1/W, CosineAnnealingLR to 0) at every step?"""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = torch.optim.lr_scheduler
    linear = sched.LinearLR(opt, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1)
    cosine = sched.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=0.0)
    seq = sched.SequentialLR(opt, [linear, cosine], milestones=[warmup])
    for step in range(total + 1):
        expected = opt.param_groups[0]["lr"]
        assert opt_ref.warmup_cosine_lr(step, base_lr, warmup, total) == pytest.approx(
            expected, rel=RTOL, abs=1e-12 * base_lr
        ), f"step {step}"
        opt.step()
        seq.step()


def test_warmup_cosine_known_points():
    """Does warmup_cosine_lr hit hand-computed values: start, end of warm-up, cosine quarter/half, the end and beyond?"""
    f = opt_ref.warmup_cosine_lr
    assert f(0, 0.4, 4, 104) == pytest.approx(0.1, rel=RTOL)  # (0 + 1) / 4
    assert f(3, 0.4, 4, 104) == pytest.approx(0.4, rel=RTOL)  # last warm-up step reaches base_lr
    assert f(4, 0.4, 4, 104) == pytest.approx(0.4, rel=RTOL)  # cosine starts at p = 0
    assert f(29, 0.4, 4, 104) == pytest.approx(0.2 * (1 + math.sqrt(0.5)), rel=RTOL)  # p = 1/4
    assert f(54, 0.4, 4, 104) == pytest.approx(0.2, rel=RTOL)  # p = 1/2
    assert f(104, 0.4, 4, 104) == pytest.approx(0.0, abs=1e-15)
    assert f(500, 0.4, 4, 104) == pytest.approx(0.0, abs=1e-15)  # clamped, not periodic
    assert f(0, 1.0, 0, 10) == pytest.approx(1.0, rel=RTOL)  # no warm-up at all

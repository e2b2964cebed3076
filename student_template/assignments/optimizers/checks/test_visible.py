"""Visible checks of the optimizers assignment: PyTorch as the oracle, and properties of the math.

Students may run these with ``grader check optimizers``; their inputs come from a public seed.
"""

from __future__ import annotations

from contextlib import closing

import numpy as np
import pytest

from grader.testing import (
    StudentError,
    as_float,
    as_step,
    assert_close,
    assert_each_close,
    assert_unchanged,
    lazy_torch,
    load_mistakes,
    load_sibling,
    torch_trajectory,
)

torch = lazy_torch()  # imported only if a trajectory of torch's is not in the oracle cache yet

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)


def random_gradients(rng, steps: int, shape=(6,)) -> list[np.ndarray]:
    """Gradients whose elements live on scales from 1e-3 to 1e3, so that eps and the scaling matter."""
    scales = 10.0 ** rng.uniform(-3, 3, size=shape)
    return [rng.normal(size=shape) * scales for _ in range(steps)]


def student_trajectory(step, fn: str, theta0: np.ndarray, grads: list[np.ndarray], **hyper):
    """The student's optimizer on its own θ and state, fed the given gradients: one request, each call
    getting the θ and the state its previous call returned. The request goes now; the function returned
    reads its θs, so the oracle can be computed while the worker runs."""
    values = step.stream([((theta0, g, {}), hyper) for g in grads], carry=[(0, 0), (2, 1)], theta_only=True)

    def thetas() -> list[np.ndarray]:
        with closing(values):
            return [as_step(value, f"{fn} at step {t}", theta0.shape)[0] for t, value in enumerate(values, 1)]

    return thetas


def assert_same_trajectory(got, expected, tol, what: str, fn: str, theta0, grads, **hyper) -> None:
    """The student's own walk against the oracle's; when it is off, the known mistakes of ``fn`` walk
    from the same θ₀ on the same gradients, and the one whose whole walk the student's matches is named."""
    with common.hint_on_failure(common.own_path_hint, mistakes.CATALOGUE[fn], got, theta0, grads, tol, **hyper):
        assert_each_close(got, expected, tol, lambda t: f"{what}: step {t} of {len(expected)}", reveal=True)


@pytest.mark.parametrize("lr, eps", [(0.1, 1e-10), (1.0, 1e-6)])
def test_adagrad_matches_torch(student, public_rng, spec, lr, eps):
    theta0 = public_rng.normal(size=6)
    grads = random_gradients(public_rng, 100)
    kwargs = {} if eps == 1e-10 else {"eps": eps}  # the first case relies on the default eps
    got = student_trajectory(student.adagrad, "adagrad", theta0, grads, lr=lr, **kwargs)
    expected = torch_trajectory(lambda ps: torch.optim.Adagrad(ps, lr=lr, eps=eps), theta0, grads)
    assert_same_trajectory(got(), expected, spec.tolerance("torch"), f"adagrad(lr={lr}, eps={eps}) vs torch Adagrad",
                           "adagrad", theta0, grads, lr=lr, **kwargs)


@pytest.mark.parametrize("lr, beta", [(0.01, 0.9), (0.1, 0.5)])
def test_momentum_matches_torch(student, public_rng, spec, lr, beta):
    theta0 = public_rng.normal(size=6)
    grads = random_gradients(public_rng, 100)
    kwargs = {} if beta == 0.9 else {"beta": beta}
    got = student_trajectory(student.momentum, "momentum", theta0, grads, lr=lr, **kwargs)
    expected = torch_trajectory(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta, dampening=beta), theta0, grads)
    assert_same_trajectory(got(), expected, spec.tolerance("torch"),
                           f"momentum(lr={lr}, beta={beta}) vs torch SGD(momentum={beta}, dampening={beta})",
                           "momentum", theta0, grads, lr=lr, **kwargs)


@pytest.mark.parametrize("lr, betas, eps", [(0.001, (0.9, 0.999), 1e-8), (0.05, (0.5, 0.9), 1e-6)])
def test_adam_matches_torch(student, public_rng, spec, lr, betas, eps):
    theta0 = public_rng.normal(size=6)
    grads = random_gradients(public_rng, 100)
    kwargs = {} if eps == 1e-8 else {"beta1": betas[0], "beta2": betas[1], "eps": eps}
    got = student_trajectory(student.adam, "adam", theta0, grads, lr=lr, **kwargs)
    expected = torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps), theta0, grads)
    assert_same_trajectory(got(), expected, spec.tolerance("torch"), f"adam(lr={lr}, betas={betas}) vs torch Adam",
                           "adam", theta0, grads, lr=lr, **kwargs)


def rmsprop_formula_step(theta, g, v, lr, alpha, eps):
    """The assignment's formula, written out: v starts at g**2, then decays with alpha."""
    v = g * g if v is None else alpha * v + (1 - alpha) * g * g
    return theta - lr * g / (np.sqrt(v) + eps), v


def test_rmsprop_properties(student, public_rng, spec):
    tol = spec.tolerance("step")
    theta0, lr = public_rng.normal(size=5), 0.01
    g = public_rng.normal(size=5) * 10.0 ** public_rng.uniform(-6, 3, size=5)

    first, _ = as_step(student.rmsprop(theta0, g, {}, lr), "rmsprop", theta0.shape)
    with common.hint_on_failure(common.own_path_hint, mistakes.CATALOGUE["rmsprop"], [first], theta0, [g], tol, lr):
        assert_close(first, theta0 - lr * g / (np.abs(g) + 1e-8), tol,
                     "rmsprop's first step should equal Adagrad's, theta - lr * g / (|g| + eps), since v starts at g**2",
                     reveal=True)

    own_path = [(0, 0), (2, 1)]  # each call gets the θ and the state its previous call returned
    theta = theta0
    values = common.one_by_one(student.rmsprop.stream([((theta0, g, {}, lr), {"alpha": 0.9})] * 20, carry=own_path))
    for t, value in enumerate(values, 1):
        new, _ = as_step(value, f"rmsprop at step {t}", theta0.shape)
        assert_close(new - theta, first - theta0, tol,
                     f"with a constant gradient v stays g**2, so every step should be the same; step {t} differs",
                     reveal=True)
        theta = new

    alphas = (0.0, 0.0, 0.5, 0.99)
    grads = [public_rng.normal(size=5) * 10.0 ** public_rng.uniform(-3, 3, size=5) for _ in alphas]
    values = common.one_by_one(student.rmsprop.stream(
        [((theta0, g, {}, lr), {"alpha": alpha, "eps": 1e-6}) for g, alpha in zip(grads, alphas, strict=True)],
        carry=own_path))
    theta, v = theta0, None
    for t, (value, g, alpha) in enumerate(zip(values, grads, alphas, strict=False), 1):
        new, _ = as_step(value, f"rmsprop at step {t}", theta0.shape)
        expected, v = rmsprop_formula_step(theta, g, v, lr, alpha, 1e-6)
        assert_close(new, expected, tol, f"rmsprop step {t} with alpha={alpha}: v <- alpha v + (1 - alpha) g**2",
                     reveal=True)
        theta = new


def test_warmup_cosine_properties(student, spec):
    tol = spec.tolerance("schedule")
    # every call in one request, in the order they are checked: (step, base_lr, warmup_steps, total_steps)
    calls = [(step, 0.1, 10, 110) for step in (*range(10), 10, 60, 110, 150, *range(10, 111))] + [(0, 2.0, 0, 50)]
    values = common.one_by_one(student.warmup_cosine_lr.stream([(args, {}) for args in calls]))

    def lr(step):
        """The next call's rate; ``step`` is the step that call was made for."""
        return as_float(next(values), f"warmup_cosine_lr({step}, ...)")

    for step in range(10):
        assert_close(lr(step), 0.1 * (step + 1) / 10, tol,
                     f"warm-up: at step {step} of 10 the rate should be base_lr * {step + 1} / 10", reveal=True)
    assert_close(lr(10), 0.1, tol, "the rate should be base_lr right after the warm-up", reveal=True)
    assert_close(lr(60), 0.05, tol, "half-way through the cosine decay the rate should be base_lr / 2", reveal=True)
    assert_close(lr(110), 0.0, tol, "the rate should reach 0 at total_steps", reveal=True)
    assert_close(lr(150), 0.0, tol, "the rate should stay 0 after total_steps", reveal=True)
    decay = [lr(s) for s in range(10, 111)]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False)), "the rate should never rise during the cosine decay"
    assert_close(lr(0), 2.0, tol, "with warmup_steps=0 step 0 should have base_lr", reveal=True)


def test_purity(student, public_rng, spec):
    tol = spec.tolerance("torch")
    theta0 = public_rng.normal(size=(2, 3))
    grads = random_gradients(public_rng, 2, shape=(2, 3))
    oracles = {
        "adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-10),
        "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.9),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.1),
        "rmsprop": None,  # no PyTorch equivalent: the formula, written out
    }
    def start(fn: str):
        """``fn``'s two calls in one request, sent now; what went wrong, to be raised at ``fn``'s turn."""
        try:
            return common.one_by_one(student.stream(fn, [((theta0, g, {}, 0.1), {}) for g in grads],
                                                    carry=[(0, 0), (2, 1)], echo=True))
        except StudentError as exc:  # fn is missing: the optimizers before it are still checked first
            return exc

    streams = {fn: start(fn) for fn in oracles}  # every request sent before the first is read
    for fn, make_optimizer in oracles.items():
        if isinstance(streams[fn], StudentError):
            raise streams[fn]
        if make_optimizer is None:
            expected, v = [], None
            theta = theta0
            for g in grads:
                theta, v = rmsprop_formula_step(theta, g, v, 0.1, 0.9, 1e-8)
                expected.append(theta)
        else:
            expected = torch_trajectory(make_optimizer, theta0, grads)
        theta, state, walked = theta0, {}, []
        for t, (g, result) in enumerate(zip(grads, streams[fn], strict=False), 1):
            before = (theta.copy(), g.copy(), {k: np.copy(v) for k, v in state.items()})
            (theta_after, g_after, state_after, _), _ = result.args_after
            assert_unchanged(fn, dict(zip(("theta", "grad", "state"), before, strict=True)),
                             {"theta": theta_after, "grad": g_after, "state": state_after}, step=t,
                             how="e.g. theta - lr * g, not theta -= ...")
            theta, state = as_step(result.value, f"{fn} at step {t}", theta0.shape)
            walked.append(theta)
            with common.hint_on_failure(common.own_path_hint, mistakes.CATALOGUE[fn], walked, theta0, grads, tol, 0.1):
                assert_close(theta, expected[t - 1], tol,
                             f"{fn} at step {t} (purity is credited for correct steps only)", reveal=True)

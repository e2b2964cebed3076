"""Visible checks of the weight_decay assignment: PyTorch as the oracle, and properties of the math.

Students may run these with ``grader check weight_decay``; their inputs come from a public seed.
PyTorch's equivalents, all in float64 and all computed here in the judge:

* the penalty λ Σ θ² is ``lam * (theta ** 2).sum()``, and its gradient comes from autograd;
* gradient descent on L + λ‖θ‖² is ``torch.optim.SGD(lr, weight_decay=2 lam)`` (SGD adds
  weight_decay · θ to the gradient);
* AdamW is ``torch.optim.AdamW``; Adam on L + R, the mistake AdamW exists to fix, is
  ``torch.optim.Adam(weight_decay=c)``, which adds c · θ to the gradient before Adam's update.
"""

from __future__ import annotations

from contextlib import closing

import numpy as np
import pytest

from grader.testing import (
    as_array,
    as_float,
    as_step,
    assert_close,
    assert_unchanged,
    lazy_torch,
    load_mistakes,
    load_sibling,
    oracle,
    oracle_step,
    relative_error,
    torch_trajectory,
    trajectory_check,
)
from grader.testing.surfaces import rosenbrock_grad

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)
torch = lazy_torch()  # imported only when an oracle's value is not in the cache yet

# ------------------------------------------------------------------------------------ helpers


def torch_step(make_optimizer):
    """A reference step for ``trajectory_check`` backed by a torch optimizer: at every step the torch
    parameter is set to the θ it is given, so torch walks the same teacher-forced path as the student.
    Its path is the same for every student: remembered (``oracle_step``)."""

    def step(theta, g, state, **hyper):
        if not state:
            p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
            state = {"p": p, "optimizer": make_optimizer([p], **hyper)}
        p = state["p"]
        with torch.no_grad():
            p.copy_(torch.from_numpy(np.asarray(theta, dtype=np.float64)))
        p.grad = torch.tensor(g, dtype=torch.float64)
        state["optimizer"].step()
        return p.detach().numpy().copy(), state

    return oracle_step(step)


@oracle
def torch_l2_penalty(theta: np.ndarray, lam: float) -> float:
    return float(lam * (torch.tensor(theta, dtype=torch.float64) ** 2).sum())


@oracle
def torch_l2_grads(theta: np.ndarray, a: np.ndarray, b: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """The gradients of a smooth loss L(θ) = Σ a sin θ + b θ² and of L + λ Σ θ², by torch's autograd."""

    def loss(p):
        return (torch.tensor(a) * torch.sin(p) + torch.tensor(b) * p**2).sum()

    p = torch.tensor(theta, requires_grad=True)
    (grad_l,) = torch.autograd.grad(loss(p), p)
    p = torch.tensor(theta, requires_grad=True)
    (expected,) = torch.autograd.grad(loss(p) + lam * (p**2).sum(), p)
    return grad_l.numpy(), expected.numpy()


def torch_sgd_on_l_plus_r(params, lr, lam):
    return torch.optim.SGD(params, lr=lr, weight_decay=2 * lam)


def torch_adamw(params, lr, weight_decay=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    return torch.optim.AdamW(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)


def student_adamw_run(student, theta0, grads, **hyper) -> list[np.ndarray]:
    """The student's adamw on its own θ and state, fed ``grads``: one request, each call getting the θ and the
    state its previous call returned (carried in the worker, as a round trip would give them), not a round
    trip per step."""
    values = student.adamw.stream([((theta0, g, {}), hyper) for g in grads], carry=[(0, 0), (2, 1)], theta_only=True)
    with closing(values):
        return [as_step(value, f"adamw at step {t}", theta0.shape)[0] for t, value in enumerate(values, 1)]


def same_path(got, expected, rtol: float) -> bool:
    return all(np.all(np.isfinite(a)) and np.all(relative_error(a, e) <= rtol) for a, e in zip(got, expected, strict=True))


def first_step_off(got, expected, rtol: float) -> int:
    for t, (a, e) in enumerate(zip(got, expected, strict=True), 1):
        if not (np.all(np.isfinite(a)) and np.all(relative_error(a, e) <= rtol)):
            return t
    return 0


COUPLED = ("your adamw matches Adam on L + R: weight decay coupled into the gradient (g + {c} * weight_decay * theta "
           "goes through Adam's normalisation, so the decay is divided by sqrt(v_hat) like any other gradient). "
           "AdamW decouples it: first theta <- theta * (1 - lr * weight_decay), then the Adam step with the raw gradient")


def coupled_adam(theta0, grads, lr, weight_decay, **adam) -> dict[str, list[np.ndarray]]:
    """Adam on L + R, the penalty coupled into the gradient as g + λθ or g + 2λθ (torch Adam's weight_decay)."""
    betas, eps = (adam.get("beta1", 0.9), adam.get("beta2", 0.999)), adam.get("eps", 1e-8)
    return {c: torch_trajectory(lambda ps, c=c: torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps,
                                                                weight_decay=float(c) * weight_decay), theta0, grads)
            for c in ("1", "2")}


SGD_RESULT = common.SGD_RESULT


def regression(rng, n: int = 20, d: int = 8):
    """Mean squared error of a linear model on a small public data set: its gradient, and a stable lr."""
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    lr = 1.0 / np.linalg.eigvalsh(2 * X.T @ X / n).max()
    return (lambda theta: 2 * X.T @ (X @ theta - y) / n), lr


# ----------------------------------------------------------------------------------- l2_penalty


def test_l2_penalty_matches_torch(student, public_rng, spec):
    tol = spec.tolerance("penalty")
    cases = [((5,), 0.1), ((3, 4), 3.0), ((2, 3, 4), 0.02), ((6,), 0.0), ((1,), 0.5)]
    thetas = [public_rng.normal(size=shape) * 10.0 ** public_rng.uniform(-2, 2, size=shape) for shape, _ in cases]
    calls = [((theta, lam), {}) for theta, (_, lam) in zip(thetas, cases, strict=True)]
    values = common.one_by_one(student.l2_penalty.stream(calls))
    for (shape, lam), theta, value in zip(cases, thetas, values, strict=True):
        expected = torch_l2_penalty(theta, lam)
        got = as_float(value, f"l2_penalty(theta of shape {shape}, lam={lam})")
        for wrong, mistake in ((float(np.sum(theta**2)), "sum(theta**2) without lam"),
                               (lam * float(np.sqrt(np.sum(theta**2))), "lam * ||theta||, the norm not squared"),
                               (lam * float(np.sum(np.abs(theta))), "lam * sum(|theta|), the L1 penalty")):
            if lam not in (0.0, 1.0) and abs(got - wrong) <= 1e-9 * abs(wrong) and abs(got - expected) > 1e-9 * expected:
                raise AssertionError(f"l2_penalty(theta of shape {shape}, lam={lam}) returns {mistake}; "
                                     "the L2 penalty is lam * sum(theta**2)")
        assert_close(got, expected, tol, f"l2_penalty(theta of shape {shape}, lam={lam}) should be lam * sum(theta**2) "
                     "over every element, as torch computes it", reveal=True)


# -------------------------------------------------------------------------------------- l2_grad


def test_l2_grad_matches_autograd(student, public_rng, spec):
    tol = spec.tolerance("step")
    cases = []  # (shape, lam, theta, the gradient of L, the gradient of L + R)
    for shape, lam in [((5,), 0.1), ((3, 4), 2.5), ((2, 2, 3), 0.01)]:
        theta = public_rng.normal(size=shape)
        a, b = (public_rng.normal(size=shape) for _ in range(2))
        grad_l, expected = torch_l2_grads(theta, a, b, lam)
        cases.append((shape, lam, theta, grad_l, expected))
    values = common.one_by_one(student.l2_grad.stream([((g, theta, lam), {}) for _, lam, theta, g, _ in cases]))
    for (shape, lam, theta, g, expected), value in zip(cases, values, strict=True):
        got = as_array(value, "l2_grad's result", shape)
        if np.allclose(got, g + lam * theta, rtol=1e-9) and not np.allclose(got, expected, rtol=1e-9):
            raise AssertionError(f"l2_grad(grad, theta of shape {shape}, lam={lam}) returns grad + lam * theta; "
                                 "the derivative of lam * theta**2 is 2 * lam * theta, so g' = grad + 2 lam theta")
        assert_close(got, expected, tol,
                     f"l2_grad(grad of L, theta of shape {shape}, lam={lam}) should be the gradient of "
                     "L + lam * sum(theta**2) that torch's autograd finds", reveal=True)


# --------------------------------------------------------------------- weight decay = L2 for GD


def test_weight_decay_is_l2_for_gd(student, public_rng, spec):
    """The lecture's proof: one step of gradient descent on L + λ‖θ‖² is θ − η (g + 2λθ) = (1 − 2ηλ) θ − η g.
    Both ways of writing it, with the student's functions, must walk torch's SGD(weight_decay=2λ) path."""
    tol = spec.tolerance("torch")
    grad, lr = regression(public_rng)
    lam, steps = 0.5, 100
    theta0 = public_rng.normal(size=8)
    g0 = grad(theta0)

    first = as_array(student.sgd_weight_decay(theta0, g0, lr, lam), SGD_RESULT, theta0.shape)
    if np.allclose(first, (1 - lr * lam) * theta0 - lr * g0, rtol=1e-12):
        raise AssertionError("sgd_weight_decay shrinks theta by (1 - lr * lam); gradient descent on L + lam ||theta||^2 "
                             "subtracts lr * 2 lam theta, so the factor is (1 - 2 lr lam)")

    reference = torch_step(torch_sgd_on_l_plus_r)
    trajectory_check(common.l2_grad_steps(student.l2_grad), reference, grad, theta0, steps, tol,
                     f"gradient descent on L + R with your l2_grad, theta - lr * l2_grad(g, theta, lam={lam}), "
                     f"vs torch SGD(weight_decay=2 lam)", reveal=True,
                     mistakes=common.l2_grad_step_mistakes(mistakes.CATALOGUE["l2_grad"]), lr=lr, lam=lam)
    trajectory_check(common.sgd_weight_decay_steps(student.sgd_weight_decay), reference, grad, theta0, steps, tol,
                     f"your sgd_weight_decay(theta, g, lr, lam={lam}) vs torch SGD(weight_decay=2 lam)",
                     reveal=True, mistakes=common.sgd_step_mistakes(mistakes.CATALOGUE["sgd_weight_decay"]), lr=lr,
                     lam=lam)


# ------------------------------------------------------------------------------------------ AdamW


@pytest.mark.parametrize("surface", ["random gradients", "Rosenbrock"])
def test_adamw_matches_torch(student, public_rng, spec, surface):
    tol = spec.tolerance("torch")
    if surface == "random gradients":
        # the default hyperparameters (weight_decay 0.01, betas 0.9 and 0.999, eps 1e-8); gradients on
        # scales from 1e-3 to 1e3, so that eps and the scaling matter
        theta0 = public_rng.normal(size=6)
        grads = [public_rng.normal(size=6) * 10.0 ** public_rng.uniform(-3, 3, size=6) for _ in range(100)]
        got = student_adamw_run(student, theta0, grads, lr=0.01)
        expected = torch_trajectory(lambda ps: torch.optim.AdamW(ps, lr=0.01), theta0, grads)
        for t, (a, e) in enumerate(zip(got, expected, strict=True), 1):
            with common.hint_on_failure(common.own_path_hint, mistakes.CATALOGUE["adamw"], got[:t], theta0, grads, tol,
                                        lr=0.01):
                assert_close(a, e, tol, f"adamw(lr=0.01) with the default hyperparameters vs torch AdamW: "
                             f"step {t} of 100", reveal=True)
    else:
        # 300 steps on the banana, teacher-forced: at each step your adamw gets torch's θ and its own state
        hyper = {"lr": 0.02, "weight_decay": 0.3, "beta1": 0.9, "beta2": 0.99, "eps": 1e-6}
        trajectory_check(student.adamw, torch_step(torch_adamw), rosenbrock_grad, np.array([-1.5, 2.0]), 300, tol,
                         f"adamw({', '.join(f'{k}={v}' for k, v in hyper.items())}) on Rosenbrock vs torch AdamW",
                         reveal=True, mistakes=mistakes.CATALOGUE["adamw"], **hyper)


def test_adamw_is_not_adam_on_l2(student, public_rng, spec):
    """The point of AdamW. With a zero gradient Adam's step is 0, so AdamW only shrinks θ by (1 − η·weight_decay)
    per step; Adam on L + R would move every θᵢ by about η whatever its size. And since the decay does not go
    through the gradient, scaling the loss's gradient leaves AdamW's path unchanged (Adam's step ignores the
    gradient's scale), while Adam on L + R changes: the penalty's share of the gradient changes."""
    rtol = spec.tolerance("scale_invariance").rtol
    theta0 = public_rng.normal(size=6) * 10.0 ** public_rng.uniform(-2, 1, size=6)
    lr, weight_decay, steps = 0.1, 0.5, 20

    zeros = [np.zeros(6)] * steps
    got = student_adamw_run(student, theta0, zeros, lr=lr, weight_decay=weight_decay)
    shrink = [theta0 * (1 - lr * weight_decay) ** t for t in range(1, steps + 1)]
    if not same_path(got, shrink, rtol):
        t = first_step_off(got, shrink, rtol)
        for c, path in coupled_adam(theta0, zeros, lr, weight_decay).items():
            if same_path(got, path, rtol):
                raise AssertionError(f"with a zero gradient, at step {t}: " + COUPLED.format(c=c))
        if same_path(got, [theta0 * (1 - weight_decay) ** t for t in range(1, steps + 1)], rtol):
            raise AssertionError("with a zero gradient your adamw shrinks theta by (1 - weight_decay) per step; "
                                 "the decoupled decay is theta <- theta * (1 - lr * weight_decay)")
        assert_close(got[t - 1], shrink[t - 1], spec.tolerance("scale_invariance"),
                     f"with a zero gradient Adam's step is 0, so adamw(lr={lr}, weight_decay={weight_decay}) should "
                     f"only shrink theta by (1 - lr * weight_decay) per step; step {t} of {steps}", reveal=True)

    # eps tiny, so that Adam's step is the same for g and 1000 g up to rounding
    hyper = {"lr": 0.05, "weight_decay": weight_decay, "beta1": 0.9, "beta2": 0.99, "eps": 1e-12}
    grads = [public_rng.normal(size=6) for _ in range(30)]
    got = student_adamw_run(student, theta0, grads, **hyper)
    if same_path(got, [theta0 * (1 - hyper["lr"] * weight_decay) ** t for t in range(1, 31)], rtol):
        raise AssertionError("your adamw only shrinks theta and ignores the gradient: after the decay comes "
                             "Adam's step theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)")
    scaled = student_adamw_run(student, theta0, [1000.0 * g for g in grads], **hyper)
    if not same_path(scaled, got, rtol):
        t = first_step_off(scaled, got, rtol)
        for c, path in coupled_adam(theta0, grads, **hyper).items():
            if same_path(got, path, rtol):
                raise AssertionError(f"multiplying the loss's gradient by 1000 changed your adamw's path at step {t}: "
                                     + COUPLED.format(c=c))
        raise AssertionError(f"multiplying the loss's gradient by 1000 changed your adamw's path at step {t} of 30 "
                             f"(eps={hyper['eps']}); in AdamW the decay does not go through the gradient and Adam's "
                             "step m_hat / (sqrt(v_hat) + eps) does not depend on the gradient's scale")


# ---------------------------------------------------------------------------------------- purity


HINTS = {"l2_grad": "grad + 2 * lam * theta, not grad += ...",
         "sgd_weight_decay": "(1 - 2 * lr * lam) * theta - lr * grad, not theta *= ...",
         "adamw": "theta * (1 - lr * weight_decay) - ..., not theta *= ... or theta -= ..."}


def test_purity(student, public_rng, spec):
    tol = spec.tolerance("torch")
    theta0 = public_rng.normal(size=(2, 3))
    grads = [public_rng.normal(size=(2, 3)) for _ in range(2)]
    lr, lam = 0.1, 0.3

    def unchanged(fn, names, before, after, t=None):
        assert_unchanged(fn, dict(zip(names, before, strict=True)), dict(zip(names, after, strict=True)), step=t,
                         how=HINTS[fn])

    g = grads[0]
    result = student.call("l2_grad", g, theta0, lam, echo=True)
    unchanged("l2_grad", ("grad", "theta"), (g, theta0), result.args_after[0][:2])
    with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE["l2_grad"], result.value, (g, theta0, lam), tol):
        assert_close(result.value, g + 2 * lam * theta0, tol,
                     "l2_grad = grad + 2 lam theta (purity is credited for correct values only)", reveal=True)

    result = student.call("sgd_weight_decay", theta0, g, lr, lam, echo=True)
    unchanged("sgd_weight_decay", ("theta", "grad"), (theta0, g), result.args_after[0][:2])
    got = as_array(result.value, SGD_RESULT, theta0.shape)
    with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE["sgd_weight_decay"], got, (theta0, g, lr, lam),
                                tol):
        assert_close(got, (1 - 2 * lr * lam) * theta0 - lr * g, tol,
                     "sgd_weight_decay = (1 - 2 lr lam) theta - lr grad (purity is credited for correct values only)",
                     reveal=True)

    expected = torch_trajectory(lambda ps: torch.optim.AdamW(ps, lr=lr), theta0, grads)
    theta, state, walked = theta0, {}, []
    for t, g in enumerate(grads, 1):
        before = (theta.copy(), g.copy(), {k: np.copy(v) for k, v in state.items()})
        result = student.call("adamw", theta, g, state, lr, echo=True)
        theta_after, g_after, state_after, _ = result.args_after[0]
        unchanged("adamw", ("theta", "grad", "state"), before, (theta_after, g_after, state_after), t)
        theta, state = as_step(result.value, f"adamw at step {t}", theta0.shape)
        walked.append(theta)
        with common.hint_on_failure(common.own_path_hint, mistakes.CATALOGUE["adamw"], walked, theta0, grads, tol, lr):
            assert_close(theta, expected[t - 1], tol,
                         f"adamw at step {t} (purity is credited for correct steps only)", reveal=True)

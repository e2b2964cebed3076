"""Hidden checks of the weight_decay assignment: the reference solution on inputs from a secret seed.

Messages say which case, which step and which element went wrong, never the inputs or the expected
numbers. Every loss that decides a grade is computed here, from the θ the student's functions return.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial.legendre import legvander

from grader.testing import (
    as_array,
    as_float,
    as_step,
    assert_close,
    load_mistakes,
    load_sibling,
    safe_messages,
    start_steps,
    trajectory_check,
)
from grader.testing.surfaces import LeastSquares, LinearRegression, rastrigin_grad, rosenbrock_grad

# Read for hidden values: these checks' messages name steps, elements, counts, relative errors and the
# student's own values, never a secret input or an expected number (the kit's helpers with reveal=False).
pytestmark = safe_messages

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)
SGD_RESULT = common.SGD_RESULT


def random_shape(rng) -> tuple[int, ...]:
    """A vector, a weight matrix or a 3-d tensor: the penalty sums over every element whatever the shape."""
    return [(int(rng.integers(1, 9)),), (int(rng.integers(2, 6)), int(rng.integers(2, 6))), (2, 3, 4)][rng.integers(3)]


def random_lambda(rng) -> float:
    """λ from 1e-3 to 10 but never near 1, where forgetting λ would not show."""
    return float(10.0 ** rng.choice([rng.uniform(-3, -0.3), rng.uniform(0.3, 1)]))


def penalty_cases(rng):
    """(name, theta): ordinary, tiny, huge and mixed scales, each in a random shape."""
    for case, scale in (("ordinary values", 1.0), ("tiny values (about 1e-8)", 1e-8), ("huge values (about 1e6)", 1e6),
                        ("values from 1e-6 to 1e4", None)):
        shape = random_shape(rng)
        s = 10.0 ** rng.uniform(-6, 4, size=shape) if scale is None else scale
        yield case, rng.normal(size=shape) * s


# ---------------------------------------------------------------------------- penalty and gradient


def test_l2_penalty_values(student, reference, rng, spec):
    tol = spec.tolerance("penalty")
    cases = [(case, theta, lam) for case, theta in penalty_cases(rng) for lam in (random_lambda(rng), random_lambda(rng))]
    calls = [((theta, lam), {}) for _, theta, lam in cases] + [((rng.normal(size=5), 0.0), {})]
    values = common.one_by_one(student.l2_penalty.stream(calls))
    for case, theta, lam in cases:
        expected = reference.l2_penalty(theta, lam)
        got = as_float(next(values), f"l2_penalty, {case}, a theta of {theta.ndim} dimension(s)")
        with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE["l2_penalty"], got, (theta, lam), tol):
            assert_close(got, expected, tol, f"l2_penalty, {case}, a theta of {theta.ndim} dimension(s)")
    assert_close(as_float(next(values), "l2_penalty with lam = 0"), 0.0, tol, "l2_penalty with lam = 0")


def test_l2_grad_values(student, reference, rng, spec):
    tol = spec.tolerance("step")
    cases = [(case, theta, rng.normal(size=theta.shape) * 10.0 ** rng.uniform(-3, 3), random_lambda(rng))
             for case, theta in penalty_cases(rng)]  # (case, theta, g, lam)
    values = common.one_by_one(student.l2_grad.stream([((g, theta, lam), {}) for _, theta, g, lam in cases]))
    for (case, theta, g, lam), value in zip(cases, values, strict=True):
        got = as_array(value, f"l2_grad's result, {case}", theta.shape)
        with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE["l2_grad"], got, (g, theta, lam), tol):
            assert_close(got, reference.l2_grad(g, theta, lam), tol,
                         f"l2_grad, {case}, a theta of {theta.ndim} dimension(s)")


def test_sgd_weight_decay_step(student, reference, rng, spec):
    tol = spec.tolerance("step")
    cases = []  # (case, theta, g, lr, lam)
    for i, (case, theta) in enumerate(penalty_cases(rng)):
        g = rng.normal(size=theta.shape) * 10.0 ** rng.uniform(-3, 3)
        lr, lam = 10.0 ** rng.uniform(-4, -1), (0.0 if i == 3 else random_lambda(rng))
        cases.append((case, theta, g, lr, lam))
    values = common.one_by_one(student.sgd_weight_decay.stream([(case[1:], {}) for case in cases]))
    for (case, theta, g, lr, lam), value in zip(cases, values, strict=True):
        got = as_array(value, f"{SGD_RESULT}, {case},", theta.shape)
        which = "lam = 0 (plain gradient descent)" if lam == 0 else "lam > 0"
        with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE["sgd_weight_decay"], got, (theta, g, lr, lam),
                                    tol):
            assert_close(got, reference.sgd_weight_decay(theta, g, lr, lam), tol, f"sgd_weight_decay, {case}, {which}")


# ------------------------------------------------------------------ weight decay = L2 for gradient descent


def gd_problems(rng):
    """(name, gradient, θ₀, lr): the banana, and polynomial regressions with θ a (2, 25) matrix."""
    yield "Rosenbrock", rosenbrock_grad, np.array([-1.5, 2.0]) + rng.uniform(-0.2, 0.2, size=2), rng.uniform(1e-4, 3e-4)
    problem = PolynomialRegression(rng, sets=2)
    yield "a polynomial regression", problem.grad, problem.theta0, problem.stable_lr()


def test_gd_on_l2_trajectory(student, reference, rng, spec):
    """Gradient descent on L + R, written as θ − η l2_grad(g, θ, λ) with the student's l2_grad, and the student's
    sgd_weight_decay must both walk the reference's path (so, the same path), step by step."""
    tol = spec.tolerance("step")

    def reference_step(theta, g, state, lr, lam):
        return reference.sgd_weight_decay(theta, g, lr, lam), state

    gd_on_l_plus_r = common.l2_grad_steps(student.l2_grad)
    sgd_step = common.sgd_weight_decay_steps(student.sgd_weight_decay)
    for surface, grad, theta0, lr in gd_problems(rng):
        lam = rng.uniform(0.05, 1.0)
        trajectory_check(gd_on_l_plus_r, reference_step, grad, theta0, 100, tol,
                         f"gradient descent on L + R with your l2_grad, theta - lr * l2_grad(g, theta, lam), on {surface}",
                         mistakes=common.l2_grad_step_mistakes(mistakes.CATALOGUE["l2_grad"]), lr=lr, lam=lam)
        trajectory_check(sgd_step, reference_step, grad, theta0, 100, tol, f"your sgd_weight_decay on {surface}",
                         mistakes=common.sgd_step_mistakes(mistakes.CATALOGUE["sgd_weight_decay"]), lr=lr, lam=lam)


# ----------------------------------------------------------------------------------------- AdamW


def adamw_cases(rng):
    """(name, shape, gradient scale, defaults?): as for Adam, with weight decay large enough to show."""
    yield "ordinary gradients", (4, 3), np.ones((4, 3)), False
    yield "tiny gradients (about 1e-12)", (5,), np.full(5, 1e-12), True
    yield "huge gradients (about 1e8)", (5,), np.full(5, 1e8), False
    yield "gradients from 1e-12 to 1e8", (7,), 10.0 ** rng.uniform(-12, 8, size=7), True
    yield "ordinary gradients", (6,), np.ones(6), True


def random_adamw_hyper(rng) -> dict:
    return {"weight_decay": rng.uniform(0.1, 1.0), "beta1": rng.uniform(0.5, 0.95), "beta2": rng.uniform(0.9, 0.9999),
            "eps": 10.0 ** rng.uniform(-8, -4)}


def test_adamw_step(student, reference, rng, spec):
    """One and two steps from an empty state; a wrong step is compared with the known AdamW mistakes'
    steps on the same inputs."""
    tol = spec.tolerance("step")
    for case, shape, scale, defaults in adamw_cases(rng):
        theta = rng.normal(size=shape)
        lr = 10.0 ** rng.uniform(-2, -1)
        hyper = {} if defaults else random_adamw_hyper(rng)
        state_ref = {}
        calls, expected, thetas, grads = [], [], [], []  # the student's calls, the reference's steps, their inputs
        for _ in (1, 2):
            g = rng.normal(size=shape) * scale
            calls.append(((theta, g, {}, lr), hyper))
            thetas.append(theta)
            grads.append(g)
            theta, state_ref = reference.adamw(theta, g, state_ref, lr, **hyper)
            expected.append(theta)
        values = common.one_by_one(student.adamw.stream(calls, carry=(2, 1)))  # its state carried in the worker
        got = []
        for t, (value, want) in enumerate(zip(values, expected, strict=True), 1):
            got.append(as_step(value, "adamw", shape)[0])
            which = "first call (empty state)" if t == 1 else "second call (with the state your first call returned)"
            settings = "default hyperparameters" if defaults else "other hyperparameters"
            with common.hint_on_failure(common.forced_hint, mistakes.CATALOGUE["adamw"], got, thetas, grads, tol, lr,
                                        **hyper):
                assert_close(got[-1], want, tol, f"adamw, {case}, {settings}, {which}")


# Settings near the lecture's demonstrations; each trajectory is compared step by step.
SURFACES = {
    "Rosenbrock": (rosenbrock_grad, lambda rng: np.array([-1.5, 2.0]) + rng.uniform(-0.2, 0.2, size=2), (0.01, 0.05)),
    "Rastrigin": (rastrigin_grad, lambda rng: np.array([-4.5, 4.5]) + rng.uniform(-0.3, 0.3, size=2), (0.01, 0.1)),
    "a linear regression": (LinearRegression.course_data().grad, lambda rng: rng.normal(size=3), (0.01, 0.1)),
}


def test_adamw_trajectories(student, reference, rng, spec):
    for surface, (grad, start, rates) in SURFACES.items():
        lr = rates[int(rng.integers(2))]
        trajectory_check(student.adamw, reference.adamw, grad, start(rng), 200, spec.tolerance("step"),
                         f"adamw on {surface}", mistakes=mistakes.CATALOGUE["adamw"], lr=lr, **random_adamw_hyper(rng))


# ------------------------------------------------------------------------ generalization


class PolynomialRegression:
    """An over-parameterized polynomial regression: one random cubic curve, ``sets`` small training sets of
    10 noisy points each, a model with 25 Legendre features (degree 24, orthonormal on [-1, 1]) per set, so
    25 parameters for 10 points, and a shared validation set of 500 points. θ has shape (sets, 25), one row
    per training set, started from N(0, 0.3²) as a network would be. Without weight decay the part of θ₀
    the 10 points do not constrain stays, and the fit chases the noise; weight decay removes both."""

    def __init__(self, rng, sets: int, n_train: int = 10, degree: int = 24, n_val: int = 500,
                 noise: float = 0.3, init: float = 0.3):
        coef = rng.normal(scale=0.5, size=4)
        x_train, x_val = rng.uniform(-1, 1, size=(sets, n_train)), rng.uniform(-1, 1, size=n_val)
        self.y_train = legvander(x_train, 3) @ coef + noise * rng.normal(size=(sets, n_train))
        self.y_val = legvander(x_val, 3) @ coef + noise * rng.normal(size=n_val)
        scale = np.sqrt(2 * np.arange(degree + 1) + 1)
        self.A, self.A_val = legvander(x_train, degree) * scale, legvander(x_val, degree) * scale
        self.theta0 = rng.normal(scale=init, size=(sets, degree + 1))
        # Each set's training MSE. Its gradient with respect to each set's row of θ is what a worker computes
        # too: a student's steps on it run there in one request (start_steps).
        self.grad = LeastSquares(self.A, self.y_train).grad

    def stable_lr(self) -> float:
        """1 / the largest curvature over the sets: gradient descent is stable on every one."""
        return float(1.0 / max(np.linalg.eigvalsh(2 * a.T @ a / len(a)).max() for a in self.A))

    def validation_losses(self, theta: np.ndarray) -> np.ndarray:
        """The validation MSE of each training set's model."""
        residual = theta @ self.A_val.T - self.y_val
        return np.mean(residual * residual, axis=1)


def check_generalization(spec, problem, fn: str, start, settings: str) -> None:
    """Trained without and with weight decay by the student's function and by the reference's, on the same
    data: ``start(who, decay, steps)`` starts a run (``start_steps``) and returns what waits for its θ."""
    steps, tol = int(spec.parameter("generalization_steps")), spec.tolerance("final_loss")
    runs = {(who, decay): start(who, decay, steps) for who in ("student", "reference") for decay in (False, True)}
    # the reference's runs first, here, while the worker runs the student's
    loss = {key: problem.validation_losses(runs[key]()) for key in sorted(runs, key=lambda key: key[0] == "student")}
    before, after = float(np.mean(loss["student", False])), float(np.mean(loss["student", True]))
    sets = problem.theta0.shape[0]
    story = (f"{steps} steps of {fn} on an over-parameterized polynomial regression (25 parameters for 10 "
             f"points, {sets} training sets)")
    assert np.isfinite(before) and np.isfinite(after) and after < before, (
        f"{story}: weight decay ({settings}) should lower the mean validation loss, as the reference's does; with "
        f"yours it went from {before:.4g} without weight decay to {after:.4g} with it")
    assert_close(loss["student", False], loss["reference", False], tol,
                 f"{story}: the validation losses your {fn} reaches without weight decay, against the reference's "
                 "(element i: the model of training set i)")
    assert_close(loss["student", True], loss["reference", True], tol,
                 f"{story}: weight decay ({settings}) lowers the mean validation loss your {fn} reaches, but not to "
                 "the reference's (element i: the model of training set i)")


def test_sgd_weight_decay_generalizes(student, reference, rng, spec):
    problem = PolynomialRegression(rng, sets=int(spec.parameter("generalization_sets")))
    lr, lam = problem.stable_lr(), float(spec.parameter("sgd_lambda"))

    def start(who, decay, steps):
        fn, what = ((student.sgd_weight_decay, SGD_RESULT) if who == "student"
                    else (reference.sgd_weight_decay, "the reference's result"))
        return start_steps(fn, problem.grad, problem.theta0, steps, what, args=(lr, lam if decay else 0.0))

    check_generalization(spec, problem, "sgd_weight_decay", start, f"lam = {lam}")


def test_adamw_generalizes(student, reference, rng, spec):
    problem = PolynomialRegression(rng, sets=int(spec.parameter("generalization_sets")))
    lr, wd = float(spec.parameter("adamw_lr")), float(spec.parameter("adamw_weight_decay"))

    def start(who, decay, steps):
        fn, what = (student.adamw, "adamw") if who == "student" else (reference.adamw, "reference adamw")
        return start_steps(fn, problem.grad, problem.theta0, steps, what, state=True, args=(lr,),
                           kwargs={"weight_decay": wd if decay else 0.0})

    check_generalization(spec, problem, "adamw", start, f"lr = {lr}, weight_decay = {wd}")

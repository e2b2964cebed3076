"""Hidden checks of the optimizers assignment: the reference solution on inputs from a secret seed.

Messages say which step and which element went wrong, never the inputs or the expected numbers.
"""

from __future__ import annotations

from contextlib import closing

import numpy as np

from grader.testing import (
    as_float,
    as_step,
    assert_close,
    assert_results_close,
    figures,
    load_mistakes,
    load_sibling,
    run_optimizer,
    safe_messages,
    start_optimizer,
    start_trajectory,
    trajectory_check,
)
from grader.testing.surfaces import LinearRegression, rastrigin, rastrigin_grad, rosenbrock, rosenbrock_grad

# Read for hidden values: these checks' messages name steps, elements, counts, relative errors and the
# student's own values, never a secret input or an expected number (the kit's helpers with reveal=False).
pytestmark = safe_messages

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)

OPTIMIZERS = ("adagrad", "rmsprop", "momentum", "adam")


def random_hyper(fn: str, rng) -> dict:
    """Hyperparameters away from the defaults, with an eps large enough that where it sits (inside or
    outside the square root) always shows: the same mistake must cost the same for every student."""
    return {
        "adagrad": lambda: {"eps": 10.0 ** rng.uniform(-4, -2)},
        "rmsprop": lambda: {"alpha": rng.uniform(0.5, 0.99), "eps": 10.0 ** rng.uniform(-4, -2)},
        "momentum": lambda: {"beta": rng.uniform(0.5, 0.99)},
        "adam": lambda: {"beta1": rng.uniform(0.5, 0.95), "beta2": rng.uniform(0.9, 0.9999),
                         "eps": 10.0 ** rng.uniform(-4, -2)},
    }[fn]()


def gradient_cases(rng):
    """(name, shape, gradient scale, defaults?): ordinary, tiny (eps inside or outside the root shows),
    huge, mixed. Two cases use the default hyperparameters, so a wrong default always shows too."""
    yield "ordinary gradients", (4, 3), np.ones((4, 3)), False
    yield "tiny gradients (about 1e-12)", (5,), np.full(5, 1e-12), True
    yield "huge gradients (about 1e8)", (5,), np.full(5, 1e8), False
    yield "gradients from 1e-12 to 1e8", (7,), 10.0 ** rng.uniform(-12, 8, size=7), True


def check_two_steps(student, reference, rng, tol, fn: str) -> None:
    """From an empty state, then once more with the state each side returned: the student's two calls
    in one request, its state carried from the first to the second in the worker. A wrong step is
    compared with the known mistakes' two steps on the same inputs. Every case's request is sent
    before the first is read: one wait for the worker, not one per case."""
    cases = []
    for case, shape, scale, defaults in gradient_cases(rng):
        theta = rng.normal(size=shape)
        lr = 10.0 ** rng.uniform(-3, -1)
        hyper = {} if defaults else random_hyper(fn, rng)
        calls, expected, state_ref = [], [], {}
        thetas, grads = [], []
        for _ in (1, 2):  # the reference's two steps, and the inputs of the student's
            g = rng.normal(size=shape) * scale
            calls.append(((theta, g, {}, lr), hyper))
            thetas.append(theta)
            grads.append(g)
            theta, state_ref = getattr(reference, fn)(theta, g, state_ref, lr, **hyper)
            expected.append(theta)
        values = common.one_by_one(getattr(student, fn).stream(calls, carry=(2, 1), theta_only=True))
        cases.append((case, shape, defaults, lr, hyper, expected, thetas, grads, values))
    for case, shape, defaults, lr, hyper, expected, thetas, grads, values in cases:
        got = []
        for t, (value, want) in enumerate(zip(values, expected, strict=True), 1):
            got.append(as_step(value, fn, shape)[0])
            which = "first call (empty state)" if t == 1 else "second call (with the state your first call returned)"
            settings = "default hyperparameters" if defaults else "other hyperparameters"
            with common.hint_on_failure(common.forced_hint, mistakes.CATALOGUE[fn], got, thetas, grads, tol, lr,
                                        **hyper):
                assert_close(got[-1], want, tol, f"{fn}, {case}, {settings}, {which}")


def test_adagrad_step(student, reference, rng, spec):
    check_two_steps(student, reference, rng, spec.tolerance("step"), "adagrad")


def test_rmsprop_step(student, reference, rng, spec):
    check_two_steps(student, reference, rng, spec.tolerance("step"), "rmsprop")


def test_momentum_step(student, reference, rng, spec):
    check_two_steps(student, reference, rng, spec.tolerance("step"), "momentum")


def test_adam_step(student, reference, rng, spec):
    check_two_steps(student, reference, rng, spec.tolerance("step"), "adam")


def test_adam_without_bias_correction(student, reference, rng, spec):
    tol = spec.tolerance("step")
    hyper = {"lr": 0.01, "beta1": 0.9, "beta2": 0.9, "bias_correction": False}
    trajectory_check(student.adam, reference.adam, rosenbrock_grad, rng.uniform(-2, 2, size=2), 300, tol,
                     "adam(bias_correction=False) on Rosenbrock", mistakes=mistakes.CATALOGUE["adam"], **hyper)
    gradients = rng.normal(size=(50, 6)) * 10.0 ** rng.uniform(-6, 3, size=6)
    theta, state_ref, calls, expected, thetas = rng.normal(size=6), {}, [], [], []
    for g in gradients:  # teacher-forced: the student gets the reference's theta and its own state
        calls.append(((theta, g, {}), hyper))
        thetas.append(theta)
        theta, state_ref = reference.adam(theta, g, state_ref, **hyper)
        expected.append(theta)
    values = common.one_by_one(student.adam.stream(calls, carry=(2, 1), theta_only=True))
    got = []
    for t, (value, want) in enumerate(zip(values, expected, strict=True), 1):
        got.append(as_step(value, "adam", (6,))[0])
        with common.hint_on_failure(common.forced_hint, mistakes.CATALOGUE["adam"], got, thetas, gradients, tol,
                                    **hyper):
            assert_close(got[-1], want, tol, f"adam(bias_correction=False) on random gradients, step {t}")


# Settings near the lecture's demonstrations; each trajectory is compared step by step.
SURFACES = {
    "Rosenbrock": (rosenbrock_grad, lambda rng: np.array([-1.5, 2.0]) + rng.uniform(-0.2, 0.2, size=2)),
    "Rastrigin": (rastrigin_grad, lambda rng: np.array([-4.5, 4.5]) + rng.uniform(-0.3, 0.3, size=2)),
    "a linear regression": (LinearRegression.course_data().grad, lambda rng: rng.normal(size=3)),
}
LEARNING_RATES = {"adagrad": (1.0, 0.1), "rmsprop": (0.01, 0.001), "momentum": (1e-4, 3e-4), "adam": (0.01, 0.1)}


def check_trajectories(student, reference, rng, spec, fn: str) -> None:
    started = []  # every surface's request is sent before the first is checked: the judge computes the
    for surface, (grad, start) in SURFACES.items():  # next reference path while the worker runs the last
        lr = LEARNING_RATES[fn][int(rng.integers(2))]
        started.append(start_trajectory(getattr(student, fn), getattr(reference, fn), grad, start(rng), 200,
                                        spec.tolerance("step"), f"{fn} on {surface}", mistakes=mistakes.CATALOGUE[fn],
                                        lr=lr, **random_hyper(fn, rng)))
    for finish in started:
        finish()


def test_adagrad_trajectories(student, reference, rng, spec):
    check_trajectories(student, reference, rng, spec, "adagrad")


def test_rmsprop_trajectories(student, reference, rng, spec):
    check_trajectories(student, reference, rng, spec, "rmsprop")


def test_momentum_trajectories(student, reference, rng, spec):
    check_trajectories(student, reference, rng, spec, "momentum")


def test_adam_trajectories(student, reference, rng, spec):
    check_trajectories(student, reference, rng, spec, "adam")


def test_warmup_cosine_values(student, reference, rng, spec):
    tol = spec.tolerance("schedule")
    settings = [(int(rng.integers(1, 50)), int(rng.integers(60, 300))) for _ in range(3)]
    settings += [(0, int(rng.integers(10, 100))), (20, 20), (5, 1)]
    schedules = [(10.0 ** rng.uniform(-4, 0), warmup, total) for warmup, total in settings]  # (base_lr, ...)
    calls = [((step, *schedule), {}) for schedule in schedules for step in range(schedule[2] + 5)]
    expected = [reference.warmup_cosine_lr(step, *schedule) for (step, *schedule), _ in calls]
    where = [f"warmup_cosine_lr at step {step}, in the "
             f"{'warm-up' if step < warmup else 'cosine decay' if step < total else 'after total_steps'} "
             f"of schedule {i} of {len(settings)}"
             for i, (_, warmup, total) in enumerate(schedules, 1) for step in range(total + 5)]
    with closing(student.warmup_cosine_lr.stream(calls)) as values:  # every step of every schedule, in order
        assert_results_close(values, expected, tol, lambda k: where[k - 1], as_float)


# The lecture's demonstrations. Every loss is computed here from the θ the student's optimizer reached.
# Their settings are the lecture's and named in the messages: the paths are drawn for the report.
def draw(title: str, surface: str, student_path: list, reference_path: list) -> None:
    figures.add("path", title, public=True, surface=surface, student=student_path, reference=reference_path)


def test_adam_reaches_rosenbrock_minimum(student, reference, spec):
    start, steps = (-1.5, 2.0), 1000
    adam = {"lr": 0.01, "beta1": 0.9, "beta2": 0.9, "bias_correction": False}
    paths = {name: [] for name in ("adam", "adam_ref", "adagrad", "adagrad_ref")}
    students_adam = start_optimizer(student.adam, rosenbrock_grad, start, steps, "adam", path=paths["adam"],
                                    **adam)  # runs while the reference's does
    f_adam_ref = rosenbrock(run_optimizer(reference.adam, rosenbrock_grad, start, steps, "reference adam",
                                          path=paths["adam_ref"], **adam))
    f_adam = rosenbrock(students_adam())
    draw("Adam (no bias correction) on Rosenbrock", "rosenbrock", paths["adam"], paths["adam_ref"])
    assert f_adam <= max(10 * f_adam_ref, 1e-3), (
        f"simplified Adam (beta1 = beta2 = 0.9, no bias correction, lr = 0.01) should reach the banana's minimum "
        f"in {steps} steps from {start}; your adam ends at f = {f_adam:.3g}")
    students_adagrad = start_optimizer(student.adagrad, rosenbrock_grad, start, steps, "adagrad",
                                       path=paths["adagrad"], lr=1.0)
    f_adagrad_ref = rosenbrock(run_optimizer(reference.adagrad, rosenbrock_grad, start, steps, "reference",
                                             path=paths["adagrad_ref"], lr=1.0))
    f_adagrad = rosenbrock(students_adagrad())
    draw("Adagrad (lr = 1) on Rosenbrock", "rosenbrock", paths["adagrad"], paths["adagrad_ref"])
    assert_close(f_adagrad, f_adagrad_ref, spec.tolerance("final_loss"),
                 f"Adagrad (lr = 1) from {start} should stop well short of the minimum after {steps} steps, "
                 "where the lecture's Adagrad stops; the final loss of yours", reveal=True)


def test_momentum_passes_rastrigin_minima(student, reference, spec):
    # The lecture's setting (lr = 0.015, beta = 0.995, 5000 steps) reaches the global minimum only for
    # lr within 0.4 % of 0.015; this one does for lr from 0.0086 to 0.0119, so a correct solution
    # passes whatever the order of its floating-point operations.
    start, steps = (-4.5, 4.5), 1000
    paths = {name: [] for name in ("momentum", "momentum_ref", "rmsprop", "rmsprop_ref")}
    students_momentum = start_optimizer(student.momentum, rastrigin_grad, start, steps, "momentum",
                                        path=paths["momentum"], lr=0.01, beta=0.98)
    students_rmsprop = start_optimizer(student.rmsprop, rastrigin_grad, start, steps, "rmsprop",
                                       path=paths["rmsprop"], lr=0.01)
    f_rmsprop_ref = rastrigin(run_optimizer(reference.rmsprop, rastrigin_grad, start, steps, "reference",
                                            path=paths["rmsprop_ref"], lr=0.01))
    f_momentum = rastrigin(students_momentum())
    if f_momentum >= 1e-3:  # the reference's path only to draw beside a student's that went wrong
        run_optimizer(reference.momentum, rastrigin_grad, start, steps, "reference", path=paths["momentum_ref"],
                      lr=0.01, beta=0.98)
        draw("momentum (beta = 0.98) on Rastrigin", "rastrigin", paths["momentum"], paths["momentum_ref"])
    try:  # RMSprop's path is drawn whatever momentum did; its fault, if any, is reported after momentum's
        f_rmsprop, rmsprop_fault = rastrigin(students_rmsprop()), None
    except Exception as exc:  # noqa: BLE001 - re-raised below
        f_rmsprop, rmsprop_fault = None, exc
    draw("RMSprop (lr = 0.01) on Rastrigin", "rastrigin", paths["rmsprop"], paths["rmsprop_ref"])
    assert f_momentum < 1e-3, (
        f"momentum (beta = 0.98, lr = 0.01) should roll over Rastrigin's hills from {start} to the global minimum "
        f"in {steps} steps; yours ends at f = {f_momentum:.3g}")
    if rmsprop_fault is not None:
        raise rmsprop_fault
    assert_close(f_rmsprop, f_rmsprop_ref, spec.tolerance("final_loss"),
                 f"RMSprop (lr = 0.01) from {start} should stop in the first local minimum it meets; "
                 "the final loss of yours", reveal=True)

"""Hidden checks of the cross_entropy assignment: the reference solution on inputs from a secret seed.

Messages say which case and which element went wrong, never the inputs or the expected numbers.
Every case kind is drawn for every student (ordinary logits, logits of magnitude 1e4, rows far
apart, a true class 1000 below its row's max), so the same mistake costs every student the same.
"""

from __future__ import annotations

import numpy as np

from grader.testing import (
    as_array,
    as_float,
    assert_close,
    assert_gradient_close,
    load_mistakes,
    load_sibling,
    numerical_grad,
    relative_error,
    safe_messages,
    start_output_descent,
)

# Read for hidden values: these checks' messages name steps, elements, counts, relative errors and the
# student's own values, never a secret input or an expected number (the kit's helpers with reveal=False).
pytestmark = safe_messages

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)


def probability_targets(rng, n: int, k: int) -> np.ndarray:
    """Soft labels: Dirichlet rows with some exact zeros, each row summing to 1 and none one-hot."""
    p = rng.dirichlet(np.full(k, 0.7), size=n)
    p[rng.random((n, k)) < 0.25] = 0.0
    p[:, :2] += 0.05  # at least two classes per row carry weight
    return p / p.sum(axis=1, keepdims=True)


def logit_cases(rng):
    """(name, logits, the rows' true classes): every kind, each drawn fresh from the secret seed."""
    for scale in (0.3, 3.0):
        n, k = int(rng.integers(2, 12)), int(rng.integers(3, 12))
        yield f"ordinary logits, ({n}, {k})", rng.normal(size=(n, k)) * scale, rng.integers(0, k, size=n)
    n, k = int(rng.integers(3, 9)), int(rng.integers(3, 9))
    yield f"logits of magnitude up to 1e4, ({n}, {k})", rng.uniform(-1e4, 1e4, size=(n, k)), rng.integers(0, k, size=n)
    n, k = int(rng.integers(3, 9)), int(rng.integers(3, 9))
    offsets = np.resize(rng.permutation([-1e4, 0.0, 1e4]), n)[rng.permutation(n)][:, None]
    z = rng.normal(size=(n, k)) * 3 + offsets
    yield f"rows far apart (offsets of -1e4, 0 and +1e4), ({n}, {k})", z, rng.integers(0, k, size=n)
    n, k = int(rng.integers(2, 9)), int(rng.integers(3, 9))
    z, labels = rng.normal(size=(n, k)) * 3, rng.integers(0, k, size=n)
    z[np.arange(n), labels] = z.max(axis=1) - rng.uniform(1000, 2000, size=n)
    yield f"rows whose true class is 1000 to 2000 below the row's max, ({n}, {k})", z, labels


def test_softmax_values(student, reference, rng, spec):
    """softmax against the reference on every kind of secret batch."""
    tol = spec.tolerance("values")
    cases = list(logit_cases(rng))
    values = common.values(student.softmax, [(z,) for _, z, _ in cases])
    for (name, z, _), value in zip(cases, values, strict=True):
        got = as_array(value, f"softmax of {name}", z.shape)
        assert_close(got, reference.softmax(z), tol, f"softmax of {name}")


def check_loss(student, reference, rng, spec, probabilities: bool) -> None:
    tol = spec.tolerance("loss")
    cases = []  # (name, z, target)
    for name, z, labels in logit_cases(rng):
        if probabilities:
            target = probability_targets(rng, *z.shape)
            target[np.arange(len(z)), labels] += 0.5  # the far-below classes carry weight
            target /= target.sum(axis=1, keepdims=True)
        else:
            target = labels
        cases.append((name, z, target))
    form = "soft labels" if probabilities else "class indices"
    values = common.values(student.cross_entropy, [(z, target) for _, z, target in cases])
    for (name, z, target), value in zip(cases, values, strict=True):
        got = as_float(value, f"cross_entropy of {name} with {form}")
        with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE["cross_entropy"], got, (z, target), tol):
            assert_close(got, reference.cross_entropy(z, target), tol, f"cross_entropy of {name} with {form}")


def test_cross_entropy_indices_values(student, reference, rng, spec):
    """The loss with class indices against the reference on every kind of secret batch."""
    check_loss(student, reference, rng, spec, probabilities=False)


def test_cross_entropy_probabilities_values(student, reference, rng, spec):
    """The loss with soft labels against the reference on every kind of secret batch."""
    check_loss(student, reference, rng, spec, probabilities=True)


def test_gradient_values(student, reference, rng, spec):
    """The gradient against the reference, then against central differences of the reference's loss."""
    tol = spec.tolerance("values")
    cases = [(name, z, target, form) for name, z, labels in logit_cases(rng)
             for target, form in ((labels, "class indices"), (probability_targets(rng, *z.shape), "soft labels"))]
    values = common.values(student.cross_entropy_grad, [(z, target) for _, z, target, _ in cases])
    for (name, z, target, form), value in zip(cases, values, strict=True):
        got = as_array(value, f"cross_entropy_grad of {name} with {form}", z.shape)
        with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE["cross_entropy_grad"], got, (z, target), tol):
            assert_close(got, reference.cross_entropy_grad(z, target), tol, f"cross_entropy_grad of {name} with {form}")

    num_tol = spec.tolerance("numerical")
    n, k = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    z = rng.normal(size=(n, k)) * 1.5
    targets = ((rng.integers(0, k, size=n), "class indices"), (probability_targets(rng, n, k), "soft labels"))
    values = common.values(student.cross_entropy_grad, [(z, target) for target, _ in targets])
    for (target, form), value in zip(targets, values, strict=True):
        got = as_array(value, "cross_entropy_grad", z.shape)
        numerical = numerical_grad(lambda x, t=target: reference.cross_entropy(x, t), z)
        assert_gradient_close(got, numerical, num_tol,
                              f"cross_entropy_grad with {form}, against central differences (h = 1e-6) of the loss")


# ------------------------------------------------------------------ the final-loss demonstration


def three_blobs(rng, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """Three overlapping Gaussian classes in the plane, with a bias column: (A (3m, 3), labels (3m,))."""
    angles = 2 * np.pi * np.arange(3) / 3
    centers = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    x = np.vstack([c + rng.normal(size=(per_class, 2)) for c in centers])
    return np.hstack([x, np.ones((len(x), 1))]), np.repeat(np.arange(3), per_class)


def test_softmax_regression(student, reference, rng, spec):
    """Softmax regression trained in the judge with your gradient; loss and predictions by the reference."""
    steps, lr = int(spec.parameter("regression_steps")), float(spec.parameter("regression_lr"))
    a, labels = three_blobs(rng, int(spec.parameter("regression_points_per_class")))
    smoothing = float(spec.parameter("label_smoothing"))
    smoothed = np.full((len(a), 3), smoothing / 3) + (1 - smoothing) * np.eye(3)[labels]
    forms = ((labels, "class indices"), (smoothed, f"label-smoothed soft labels ({smoothing:g})"))
    w0 = np.zeros((a.shape[1], 3))

    def train(grad, target, what: str):
        """Gradient descent on W (3, 3) from 0, logits A W; dL/dW = A^T dL/dlogits, computed by the grader."""
        return start_output_descent(grad, a, w0, lr, steps, f"cross_entropy_grad at step {{t}} of {what}", args=(target,))

    for target, form in forms:
        what = f"softmax regression on three classes with {form}"
        run = train(student.cross_entropy_grad, target, what)  # in the worker, while the judge trains the reference
        w_ref = train(reference.cross_entropy_grad, target, "the reference")()
        w = run()
        logits, logits_ref = a @ w, a @ w_ref
        loss = reference.cross_entropy(logits, target) if np.all(np.isfinite(w)) else np.inf
        loss_ref = reference.cross_entropy(logits_ref, target)
        setting = f"{what}, {steps} steps of gradient descent (lr = {lr:g}) from W = 0 with your gradient"
        if not np.isfinite(loss):
            raise AssertionError(f"{setting}: training diverged (the weights are no longer finite)")
        first = as_array(student.cross_entropy_grad(np.zeros((len(a), 3)), target), "cross_entropy_grad", (len(a), 3))
        start = ("your gradient at W = 0 already differs from the reference's" if not np.allclose(
            first, reference.cross_entropy_grad(np.zeros((len(a), 3)), target), rtol=1e-9, atol=1e-15)
            else "your gradient at W = 0 matches, the difference appears later")
        tol = spec.tolerance("final_loss")
        if not abs(loss - loss_ref) <= tol.atol + tol.rtol * max(loss, loss_ref):
            direction = "higher" if loss > loss_ref else "lower"
            raise AssertionError(f"{setting}: the final training loss (computed by the grader) is {direction} than the "
                                 f"reference's, a relative error of {float(relative_error(loss, loss_ref)):.2g} "
                                 f"(tolerance {tol.rtol:g}); {start}")
        wrong = int(np.sum(logits.argmax(axis=1) != logits_ref.argmax(axis=1)))
        if wrong:
            raise AssertionError(f"{setting}: your model classifies {wrong} of {len(a)} training points differently "
                                 f"from the reference's, so its accuracy differs; {start}")

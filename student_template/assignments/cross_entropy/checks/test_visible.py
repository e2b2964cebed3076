"""Visible checks of the cross_entropy assignment: PyTorch as the oracle, and properties of the math.

Students may run these with ``grader check cross_entropy``; their inputs are fixed or come from a
public seed. Every expected value is computed here, in the judge, with PyTorch in float64.

The stability checks say which of the usual mistakes happened, read off the outputs on crafted
inputs: no max subtraction (exp(1e4) overflows, exp(-1e4) underflows: nan), one maximum for the
whole batch instead of each row's (0/0 in rows far below it), the log of a softmax probability
(inf when the true class is 1000 below its row's max), a clipped or eps-padded probability (a
finite loss that saturates), and 0 * log 0 (nan) with probability targets.
"""

from __future__ import annotations

import numpy as np

from grader.testing import (
    BadResult,
    StudentError,
    as_array,
    as_float,
    assert_close,
    assert_gradient_close,
    lazy_torch,
    load_mistakes,
    load_sibling,
    numerical_grad,
    oracle,
)

torch = lazy_torch()  # imported only when an oracle's value is not in the cache yet

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)

# ------------------------------------------------------------------------------ PyTorch oracles


# The visible inputs are the same for everyone: each oracle's values are computed once (grader.testing.oracle).
@oracle
def torch_softmax(z: np.ndarray) -> np.ndarray:
    return torch.softmax(torch.tensor(z, dtype=torch.float64), dim=-1).numpy()


def _torch_target(target: np.ndarray) -> torch.Tensor:
    if target.ndim == 1:
        return torch.tensor(target, dtype=torch.int64)
    return torch.tensor(target, dtype=torch.float64)


@oracle
def torch_loss(z: np.ndarray, target: np.ndarray) -> float:
    return torch.nn.functional.cross_entropy(torch.tensor(z, dtype=torch.float64), _torch_target(target)).item()


@oracle
def torch_grad(z: np.ndarray, target: np.ndarray) -> np.ndarray:
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(zt, _torch_target(target)).backward()
    return zt.grad.numpy()


# ------------------------------------------------------------------------------------- inputs


def probability_targets(rng, n: int, k: int) -> np.ndarray:
    """Soft labels: Dirichlet rows with some exact zeros, each row summing to 1."""
    p = rng.dirichlet(np.full(k, 0.7), size=n)
    p[rng.random((n, k)) < 0.25] = 0.0
    p[p.sum(axis=1) == 0, 0] = 1.0
    return p / p.sum(axis=1, keepdims=True)


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def describe(target: np.ndarray) -> str:
    return "class indices" if target.ndim == 1 else "probability targets"


# (N, K, scale of the logits): a single example, two classes, many classes, logits up to a few hundred.
SHAPES = [(1, 2, 1.0), (4, 3, 0.1), (6, 5, 3.0), (16, 10, 1.0), (5, 7, 30.0)]


# --------------------------------------------------------------------------------- softmax


def test_softmax_matches_torch(student, public_rng, spec):
    """softmax of (N, K) batches of several sizes and scales against torch.softmax(dim=-1)."""
    tol = spec.tolerance("values")
    cases = [(n, k, scale, public_rng.normal(size=(n, k)) * scale) for n, k, scale in SHAPES + [(3, 1, 1.0)]]
    values = common.values(student.softmax, [(z,) for *_, z in cases])
    for (n, k, scale, z), value in zip(cases, values, strict=True):
        what = f"softmax of a ({n}, {k}) batch of logits (scale {scale:g})"
        assert_close(as_array(value, what, z.shape), torch_softmax(z), tol, what, reveal=True)


def test_softmax_last_axis(student, public_rng, spec):
    """softmax of a 1-D vector and of a 3-D array, along the last axis."""
    tol = spec.tolerance("values")
    batch = public_rng.normal(size=(4, 3))
    others = [public_rng.normal(size=shape) * 2 for shape in [(6,), (2, 3, 4)]]
    values = common.values(student.softmax, [(z,) for z in [batch, *others]])
    assert_close(as_array(next(values), "softmax of a (4, 3) batch", batch.shape), torch_softmax(batch), tol,
                 "softmax of a (4, 3) batch", reveal=True)
    for z in others:
        what = f"softmax of an array of shape {z.shape} (along its last axis, like torch.softmax(dim=-1))"
        try:
            got = as_array(next(values), what, z.shape)
        except StudentError as exc:  # an error here is a wrong axis: say so
            raise AssertionError(f"{what} failed: {exc}. Softmax works along the last axis (axis=-1, "
                                 "keepdims=True), whatever the number of dimensions") from None
        assert_close(got, torch_softmax(z), tol, f"{what}; use axis=-1, not axis=1", reveal=True)


BASE = np.array([[0.5, -1.25, 2.0, 0.25, -0.5],
                 [1.5, 0.0, -2.0, 3.0, 0.75],
                 [-1.0, 2.5, 0.5, -0.25, 1.0]])
LABELS = np.array([2, 0, 4])

# Rows moved far from 0. Softmax and cross-entropy do not change when a constant is added to a row,
# and z + offset - offset is exactly z here, so each case has an exact ordinary-scale twin.
SHIFTS = {
    "logits around +1e4": np.full((3, 1), 1e4),
    "logits around -1e4": np.full((3, 1), -1e4),
    "a batch whose rows sit at -1e4, 0 and +1e4": np.array([[-1e4], [0.0], [1e4]]),
}
NO_SHIFT = ("you do not subtract each row's maximum before exp: exp(1e4) overflows to inf (inf / inf = nan) "
            "and exp(-1e4) underflows to 0 (0 / 0 = nan). Subtract m = z.max(axis=-1, keepdims=True) first")
GLOBAL_MAX = ("fine for a batch whose rows are all near +1e4 or all near -1e4, but not in the rows far below the "
              "batch's largest logit: you subtract one maximum for the whole batch (z.max() without axis, or the "
              "max over the wrong axis), so every exp of such a row underflows to 0 and 0 / 0 = nan. Subtract each "
              "row's own maximum: z.max(axis=-1, keepdims=True)")


def bad_rows(p: np.ndarray) -> np.ndarray:
    """Rows of a softmax that are not finite or do not sum to 1."""
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(p).all(axis=-1) | ~(np.abs(p.sum(axis=-1) - 1) < 1e-6)


def test_softmax_stability(student, spec):
    """Rows around +-1e4, rows far apart, a spread of 2000: finite, summing to 1, and torch's values."""
    tol = spec.tolerance("values")
    cases = {name: BASE + offset for name, offset in SHIFTS.items()}
    cases["a row spread from -1000 to +1000"] = np.array([[1000.0, 0.0, -1000.0, 999.0, 3.0]])
    values = common.values(student.softmax, [(z,) for z in cases.values()])
    got = {name: as_array(value, f"softmax of {name}", z.shape)
           for (name, z), value in zip(cases.items(), values, strict=True)}
    bad = {name: bad_rows(p) for name, p in got.items()}
    whole = [name for name in cases if name != "a batch whose rows sit at -1e4, 0 and +1e4" and bad[name].any()]
    if whole:
        raise AssertionError(f"softmax is not finite (or its rows do not sum to 1) for {' and for '.join(whole)}: "
                             f"{NO_SHIFT}")
    mixed = bad["a batch whose rows sit at -1e4, 0 and +1e4"]
    if mixed.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(mixed))
        raise AssertionError(f"softmax of a batch whose rows sit at -1e4, 0 and +1e4 is nan (or does not sum to 1) "
                             f"in row(s) {rows}. It is {GLOBAL_MAX}")
    for name, z in cases.items():
        assert_close(got[name], torch_softmax(z), tol, f"softmax of {name} (against torch.softmax)", reveal=True)


# ---------------------------------------------------------------------------------- the loss


def check_loss_against_torch(student, rng, spec, probabilities: bool) -> None:
    tol = spec.tolerance("loss")
    cases = []  # (n, k, scale, z, target)
    for n, k, scale in SHAPES:
        z = rng.normal(size=(n, k)) * scale
        cases.append((n, k, scale, z, probability_targets(rng, n, k) if probabilities else rng.integers(0, k, size=n)))
    values = common.values(student.cross_entropy, [(z, target) for *_, z, target in cases])
    for (n, k, scale, z, target), value in zip(cases, values, strict=True):
        what = f"cross_entropy of a ({n}, {k}) batch (scale {scale:g}) with {describe(target)}"
        got, expected = as_float(value, what), torch_loss(z, target)
        try:
            assert_close(got, expected, tol, f"{what}, against torch.nn.functional.cross_entropy", reveal=True)
        except AssertionError as exc:
            hint = padded_log_hint(got, z, target)
            if probabilities and np.isclose(got, torch_loss(z, target.argmax(axis=1)), rtol=1e-9, atol=0):
                hint = (". It equals the loss of the argmax classes: with probability targets every class counts, "
                        "L = -(1/N) sum_n sum_k y_nk log softmax(z_n)_k")
            if not hint:
                known = common.value_hint(mistakes.CATALOGUE["cross_entropy"], got, (z, target), tol)
                hint = f"; {known}" if known else ""
            raise AssertionError(f"{exc}{hint}") from None


def padded_log_hint(got: float, z: np.ndarray, target: np.ndarray) -> str:
    """A hint when the loss is -mean(sum(y log(p + eps))) or uses a clipped p, for a usual eps."""
    p = torch_softmax(z)
    y = one_hot(target, z.shape[1]) if target.ndim == 1 else target
    for eps in (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-16):
        for form, q in ((f"log(p + {eps:g})", p + eps), (f"log(clip(p, {eps:g}, 1))", np.clip(p, eps, 1))):
            padded = float(-np.sum(y * np.log(q)) / len(z))
            if np.isclose(got, padded, rtol=1e-12, atol=0) and got != torch_loss(z, target):
                return (f". It equals -mean({form}): the eps changes the loss wherever a probability is small; "
                        "compute the log-softmax directly, z - m - log(sum(exp(z - m)))")
    return ""


def test_cross_entropy_indices_matches_torch(student, public_rng, spec):
    """The loss with class indices against F.cross_entropy."""
    check_loss_against_torch(student, public_rng, spec, probabilities=False)


def test_cross_entropy_probabilities_matches_torch(student, public_rng, spec):
    """The loss with soft labels against F.cross_entropy."""
    check_loss_against_torch(student, public_rng, spec, probabilities=True)


def test_one_hot_equals_indices(student, public_rng, spec):
    """Class indices and the same classes as one-hot probabilities: equal loss and gradient."""
    tol = spec.tolerance("loss")
    cases = []  # (n, k, z, labels)
    for n, k, scale in SHAPES[1:4]:
        z = public_rng.normal(size=(n, k)) * scale
        cases.append((n, k, z, public_rng.integers(0, k, size=n)))
    arguments = [(z, target) for _, k, z, labels in cases for target in (labels, one_hot(labels, k))]
    losses = common.values(student.cross_entropy, arguments)  # the loss calls in one request, the gradient's in
    grads = common.values(student.cross_entropy_grad, arguments)  # another, sent when the first is checked
    for n, k, z, _ in cases:
        by_index = as_float(next(losses), "cross_entropy with class indices")
        by_one_hot = as_float(next(losses), "cross_entropy with one-hot targets")
        assert_close(by_one_hot, by_index, tol,
                     f"({n}, {k}) batch: the loss with one-hot probability targets against the loss with the same "
                     "classes as indices (they must be equal: check your two target branches)", reveal=True)
        g_index = as_array(next(grads), "cross_entropy_grad with class indices", z.shape)
        g_one_hot = as_array(next(grads), "cross_entropy_grad with one-hot targets", z.shape)
        assert_close(g_one_hot, g_index, spec.tolerance("values"),
                     f"({n}, {k}) batch: the gradient with one-hot probability targets against the gradient with "
                     "the same classes as indices (they must be equal: check your two target branches)", reveal=True)


def loss_factor(value, z_ordinary, target) -> float:
    """Your loss (``value``, of ``z_ordinary``) over torch's on an ordinary row of the same shape and target form:
    1 when your loss is right. A constant-factor mistake (a missing 1/N, a mean over the classes) is charged
    elsewhere, not here."""
    mine = as_float(value, f"cross_entropy of an ordinary row with {describe(target)}")
    factor = mine / torch_loss(z_ordinary, target)
    if not (np.isfinite(factor) and factor > 0):
        raise AssertionError(f"cross_entropy of the ordinary row {z_ordinary.tolist()} with {describe(target)} is "
                             f"{mine!r}, not a positive number, so its stability cannot be judged: fix the values first")
    return factor


def test_cross_entropy_stability(student, spec):
    """The loss at logits of magnitude 1e4 and with a true class 1000 below its row's max."""
    shift_tol, tol = spec.tolerance("shift"), spec.tolerance("loss")
    # 1. Whole rows moved to +-1e4: your loss must equal your own loss on the same rows at ordinary scale
    #    (so a mistake in the values themselves is charged by the value checks, not here).
    broken = []
    targets = (LABELS, one_hot(LABELS, 5))
    values = common.values(student.cross_entropy, [(z, target) for target in targets
                                                   for z in (BASE, *(BASE + offset for offset in SHIFTS.values()))])
    for target in targets:
        ordinary = as_float(next(values), "cross_entropy of ordinary logits")
        if not np.isfinite(ordinary):
            raise AssertionError(f"cross_entropy of ordinary logits with {describe(target)} is {ordinary!r}")
        for name in SHIFTS:
            huge = as_float(next(values), f"cross_entropy of {name}")
            if not abs(huge - ordinary) <= shift_tol.atol + shift_tol.rtol * max(abs(huge), abs(ordinary)):
                broken.append((name, target, huge, ordinary))
    for name, target, huge, ordinary in broken:
        where = (f"cross_entropy of {name} with {describe(target)} is {huge!r}, your loss for the same rows at "
                 f"ordinary scale is {ordinary!r} (adding a constant to a row changes nothing)")
        if name != "a batch whose rows sit at -1e4, 0 and +1e4":
            raise AssertionError(f"{where}: {NO_SHIFT}, and compute log softmax(z) = z - m - log(sum(exp(z - m)))")
    if broken:
        name, target, huge, ordinary = broken[0]
        raise AssertionError(f"cross_entropy of {name} with {describe(target)} is {huge!r}, your loss for the same "
                             f"rows at ordinary scale is {ordinary!r}. It is {GLOBAL_MAX}")

    # 2. A true class 1000 below its row's maximum: the loss is about 1000, the log of its probability is log(0).
    row = np.array([[3.0, 0.5, -997.0, 1.0, -2.0]])  # class 2 is 1000 below the max
    ordinary_row = np.array([[0.3, 0.5, -0.7, 1.0, -0.2]])
    targets = (np.array([2]), one_hot(np.array([2]), 5))
    values = common.values(student.cross_entropy, [(z, target) for target in targets for z in (ordinary_row, row)])
    for target in targets:
        factor = loss_factor(next(values), ordinary_row, target)
        expected = factor * torch_loss(row, target)
        true = f"the true loss is {expected:.6g}" if abs(factor - 1) < 1e-6 else (
            f"torch's loss is {torch_loss(row, target):.6g}, {expected:.6g} with the factor {factor:.6g} your loss has "
            "on an ordinary row")
        got = as_float(next(values), "cross_entropy with the true class 1000 below the row's max")
        where = f"cross_entropy of the row {row.tolist()[0]} with {describe(target)} (true class 2, 1000 below the max)"
        if np.isinf(got):
            raise AssertionError(
                f"{where} is {got}, {true}: you take the log of a softmax probability, and "
                "exp(-1000) is 0 in float64, so log(0) = -inf. Compute the log-softmax directly: "
                "log softmax(z)_k = z_k - m - log(sum_j exp(z_j - m)), m = the row's max")
        if np.isfinite(got) and got < 0.5 * expected:
            raise AssertionError(
                f"{where} is {got:.6g}, {true}: your loss saturates, as -log(p + eps) or "
                "-log(clip(p, eps, 1)) does (-log(1e-12) = 27.6). Clipping hides the inf but gives a wrong loss; "
                "compute the log-softmax directly: z_k - m - log(sum_j exp(z_j - m))")
        assert_close(got, expected, tol, where, reveal=True)

    # 3. The true class is the max and the others are 1000 below: 0 * log(0) = nan with probability targets.
    row = np.array([[3.0, -997.0, -996.5, -1001.0, -998.0]])
    targets = (np.array([0]), one_hot(np.array([0]), 5))
    values = common.values(student.cross_entropy, [(row, target) for target in targets])
    for target in targets:
        got = as_float(next(values), "cross_entropy with the other classes 1000 below the true one")
        where = (f"cross_entropy of the row {row.tolist()[0]} with {describe(target)} (true class 0, the others about "
                 "1000 below it)")
        if np.isnan(got):
            raise AssertionError(
                f"{where} is nan, the true loss is 0: the other classes' probabilities underflow to 0 and their "
                "target weights are 0, so sum(y * log(p)) has 0 * log(0) = 0 * -inf = nan. Multiply y by the "
                "log-softmax, z - m - log(sum(exp(z - m))), which is finite")
        assert_close(got, torch_loss(row, target), tol, where, reveal=True)


# ------------------------------------------------------------------------------ the gradient


def test_gradient_stability(student, spec):
    """The gradient at logits of magnitude 1e4 equals your gradient for the same rows at ordinary scale."""
    tol = spec.tolerance("shift")
    failures = {}
    targets = (LABELS, one_hot(LABELS, 5))
    values = common.values(student.cross_entropy_grad, [(z, target) for offset in SHIFTS.values() for target in targets
                                                        for z in (BASE, BASE + offset)])
    for name in SHIFTS:
        for target in targets:
            ordinary = as_array(next(values), "cross_entropy_grad of ordinary logits", BASE.shape)
            if not np.all(np.isfinite(ordinary)):
                raise AssertionError(f"cross_entropy_grad of ordinary logits with {describe(target)} is not finite")
            huge = as_array(next(values), f"cross_entropy_grad of {name}", BASE.shape)
            try:
                assert_close(huge, ordinary, tol, f"cross_entropy_grad of {name} with {describe(target)}, against your "
                             "own gradient for the same rows at ordinary scale (adding a constant to a row changes "
                             "nothing)", reveal=True)
            except AssertionError as exc:
                failures.setdefault(name, str(exc))
    if "logits around +1e4" in failures or "logits around -1e4" in failures:
        first = failures.get("logits around +1e4") or failures["logits around -1e4"]
        raise AssertionError(f"{first}. In the softmax inside your gradient, {NO_SHIFT}")
    if failures:
        raise AssertionError(f"{next(iter(failures.values()))}. The softmax inside your gradient is {GLOBAL_MAX}")


def test_batch_mean(student, public_rng, spec):
    """A batch's loss is the mean of its examples' losses; row n of its gradient is 1/N of example n's."""
    tol = spec.tolerance("loss")
    n, k = 6, 4
    z = public_rng.normal(size=(n, k)) * 2
    for target in (public_rng.integers(0, k, size=n), probability_targets(public_rng, n, k)):
        form = describe(target)
        pieces = [(z, target)] + [(z[i:i + 1], target[i:i + 1]) for i in range(n)]  # the batch, then each example
        losses = common.values(student.cross_entropy, pieces)
        whole = as_float(next(losses), f"cross_entropy of a batch of {n} with {form}")
        rows = np.array([as_float(value, f"cross_entropy of one example with {form}") for value in losses])
        if np.isclose(whole, rows.sum(), rtol=1e-9, atol=0) and not np.isclose(whole, rows.mean(), rtol=1e-9, atol=0):
            raise AssertionError(
                f"cross_entropy with {form}: your loss of a batch of {n} is the SUM of your {n} per-example losses "
                f"({whole:.6g} = {rows.sum():.6g}); the loss is their mean, L = -(1/N) sum_n ..., so divide by N")
        assert_close(whole, rows.mean(), tol, f"cross_entropy with {form}: your loss of a batch of {n} against the "
                     "mean of your losses of its examples one by one (L = (1/N) sum_n loss_n)", reveal=True)
        expected_rows = np.array([torch_loss(z[i:i + 1], target[i:i + 1]) for i in range(n)])
        if np.allclose(rows, expected_rows / k, rtol=1e-9, atol=0):
            raise AssertionError(
                f"cross_entropy with {form}: your loss is 1/{k} of the true one (K = {k} classes): np.mean over the "
                "N x K array of y * log p divides by N * K. Sum over the classes, then average over the N examples")

        values = common.values(student.cross_entropy_grad, pieces)
        grads = as_array(next(values), f"cross_entropy_grad of a batch of {n} with {form}", z.shape)
        row_grads = np.vstack([as_array(value, f"cross_entropy_grad of one example with {form}", (1, k))
                               for value in values])
        if np.allclose(grads, row_grads, rtol=1e-9, atol=1e-15) and not np.allclose(grads, row_grads / n, rtol=1e-9, atol=1e-15):
            raise AssertionError(
                f"cross_entropy_grad with {form}: the gradient of a batch of {n} is missing the 1/N: each row equals "
                f"the gradient of that example alone, but the loss is a mean, so dL/dz = (softmax(z) - y) / N")
        assert_close(grads, row_grads / n, spec.tolerance("values"),
                     f"cross_entropy_grad with {form}: row n of the gradient of a batch of {n} against 1/{n} times your "
                     "gradient of example n alone", reveal=True)
        expected_row_grads = np.vstack([torch_grad(z[i:i + 1], target[i:i + 1]) for i in range(n)])
        if np.allclose(row_grads, expected_row_grads / k, rtol=1e-9, atol=1e-15):
            raise AssertionError(
                f"cross_entropy_grad with {form}: your gradient is 1/{k} of the true one (K = {k} classes): you "
                "divide by N * K; the loss averages over the N examples only, so dL/dz = (softmax(z) - y) / N")


def gradient_mistake(got: np.ndarray, z: np.ndarray, target: np.ndarray) -> str:
    """The name of a usual mistake when the student's gradient is exactly one of them, else ''."""
    n, k = z.shape
    p = torch_softmax(z)
    y = one_hot(target, k) if target.ndim == 1 else target
    right = (p - y) / n

    def same(a):
        return np.allclose(got, a, rtol=1e-7, atol=1e-14)

    if same(-right):
        return "the sign is flipped: dL/dz = (softmax(z) - y) / N, not (y - softmax(z)) / N"
    if same(n * right):
        return "the 1/N is missing: the loss is a mean over the batch, so dL/dz = (softmax(z) - y) / N"
    if same(right / k):
        return "you divide by N * K: the loss averages over the N examples only, so dL/dz = (softmax(z) - y) / N"
    if same(p / n) or same(p):
        return "the target is never subtracted: dL/dz = (softmax(z) - y) / N"
    if target.ndim == 2 and same((p - one_hot(target.argmax(axis=1), k)) / n):
        return "probability targets are replaced by their argmax class; with soft labels y is the probabilities"
    return ""


def test_gradient_matches_numerical(student, public_rng, spec):
    """The analytic gradient against central differences of torch's loss, then autograd."""
    num_tol, tol = spec.tolerance("numerical"), spec.tolerance("values")
    n, k = 4, 5
    targets = (public_rng.integers(0, k, size=n), probability_targets(public_rng, n, k))
    cases = [(public_rng.normal(size=(n, k)) * 1.5, target) for target in targets]  # (z, target)
    for (z, target), value in zip(cases, common.values(student.cross_entropy_grad, cases), strict=True):
        form = describe(target)
        got = as_array(value, f"cross_entropy_grad with {form}", z.shape)
        numerical = numerical_grad(lambda x, t=target: torch_loss(x, t), z)
        mistake = gradient_mistake(got, z, target)
        if mistake:
            raise AssertionError(f"cross_entropy_grad of a ({n}, {k}) batch with {form}: {mistake}")
        assert_gradient_close(got, numerical, num_tol, f"cross_entropy_grad of a ({n}, {k}) batch with {form}",
                              reveal=True, against="the central difference (h = 1e-6) of torch's loss")
        assert_close(got, torch_grad(z, target), tol, f"cross_entropy_grad with {form}, against torch's autograd",
                     reveal=True)


# ---------------------------------------------------------------------------------- purity


def test_purity(student, public_rng, spec):
    """logits and target are left as they were, and the values are right (purity is credited for correct
    answers only: a function that returns zeros must not earn it)."""
    z = public_rng.normal(size=(4, 5)) * 3.0 + 1.0  # any shift in place would show: no row's max is 0
    labels = public_rng.integers(0, z.shape[1], size=len(z))
    probs = probability_targets(public_rng, *z.shape)
    calls = [("softmax", (z,), torch_softmax(z), "values"),
             ("cross_entropy", (z, labels), torch_loss(z, labels), "loss"),
             ("cross_entropy", (z, probs), torch_loss(z, probs), "loss"),
             ("cross_entropy_grad", (z, labels), torch_grad(z, labels), "values"),
             ("cross_entropy_grad", (z, probs), torch_grad(z, probs), "values")]
    for fn, args, expected, tolerance in calls:
        before = [a.copy() for a in args]
        result = student.call(fn, *args, echo=True)
        after, _ = result.args_after
        form = f" (with {describe(args[1])})" if len(args) > 1 else ""
        for name, old, new in zip(("logits", "target"), before, after, strict=False):
            if not (isinstance(new, np.ndarray) and new.shape == old.shape and np.array_equal(old, new)):
                raise AssertionError(f"{fn}{form} changed its argument {name} in place; compute new arrays instead "
                                     "(z = logits - logits.max(axis=-1, keepdims=True), not logits -= ...)")
        if result.value is None:
            raise BadResult(f"{fn}{form} returned None: return the result")
        value = as_float(result.value, fn) if fn == "cross_entropy" else result.value
        with common.hint_on_failure(common.value_hint, mistakes.CATALOGUE.get(fn, {}), value, args,
                                    spec.tolerance(tolerance)):
            assert_close(value, expected, spec.tolerance(tolerance),
                         f"{fn}{form} (purity is credited for correct values only)", reveal=True)

"""Hidden checks of the mixup assignment: the reference solution on inputs and seeds from a secret.

Messages say which case and what went wrong (and which usual mistake it looks like), never the
inputs or the expected numbers. Every loss that decides a grade is computed here.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from grader.testing import load_mistakes, load_sibling, matching_mistake, safe_messages

# Read for hidden values: these checks' messages name steps, elements, counts, relative errors and the
# student's own values, never a secret input or an expected number (the kit's helpers with reveal=False).
pytestmark = safe_messages

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)

# ------------------------------------------------------------------------------------- values

FEATURES = ("no feature axis, x of shape (N,)", "vectors (N, D)", "images (N, C, H, W)", "sequences (N, T, D)")


def random_case(rng, i: int, cases: int):
    """Case i: large batches first (so a wrong draw order is told apart from chance), then N = 3, 2, 1."""
    n = int(rng.integers(8, 65)) if i < cases - 3 else cases - i
    kind = i % len(FEATURES)
    features = [(), (int(rng.integers(1, 9)),), tuple(int(d) for d in rng.integers(1, 6, size=3)),
                tuple(int(d) for d in rng.integers(1, 6, size=2))][kind]
    k = int(rng.integers(2, 11))
    soft = i % 2 == 0
    y = rng.dirichlet(np.full(k, 0.5), size=n) if soft else np.eye(k)[rng.integers(k, size=n)]
    x = rng.normal(size=(n, *features)) * 10.0 ** rng.uniform(-2, 2)
    alpha = (0.1, 0.2, 0.4, 1.0, 2.0)[i % 5] if i < 20 else float(10.0 ** rng.uniform(-1.3, 0.7))
    label = f"case {i + 1} of {cases} ({FEATURES[kind]}, {'soft' if soft else 'one-hot'} labels)"
    return x, y, alpha, int(rng.integers(2**63)), label


def test_values(student, reference, rng, spec):
    """x_mix, y_mix, λ and perm equal the reference's on 40 secret batches, each with a secretly seeded rng."""
    count = 40
    cases = [random_case(rng, i, count) for i in range(count)]  # (x, y, alpha, seed, label)
    gens = [np.random.default_rng(seed) for *_, seed, _ in cases]
    arguments = [((x, y, alpha, gen), {}) for (x, y, alpha, *_), gen in zip(cases, gens, strict=True)]
    values = common.one_by_one(student.mixup.stream(arguments))
    for (x, y, alpha, _, label), gen, value in zip(cases, gens, values, strict=True):
        x_mix, y_mix, lam, perm = common.unpack(value, x, y, f"mixup, {label}")
        x_ref, y_ref, _, _ = reference.mixup(x, y, alpha, common.clone(gen))
        what = f"mixup, {label}"
        try:
            common.check_draws(lam, perm, gen, alpha, spec.tolerance("draw"), what)
            common.check_mixture(x_mix, x_ref, x, lam, perm, spec.tolerance("mix"), what, "x")
            common.check_mixture(y_mix, y_ref, y, lam, perm, spec.tolerance("mix"), what, "y")
        except AssertionError as exc:
            hint = known_mistake((x_mix, y_mix, lam, perm), x, y, alpha, gen, spec.tolerance("mix"))
            if hint is None:
                raise
            raise AssertionError(f"{exc}; {hint}") from None


def known_mistake(returned: tuple, x, y, alpha, gen, tol) -> str | None:
    """"your values match <description>" for the first mistake of ``mistakes.CATALOGUE`` that, run on the same
    x, y and alpha with a copy of the generator the student was handed, returns the student's (x_mix, y_mix,
    lam, perm), all four; None if none does."""
    def flat(x_mix, y_mix, lam, perm) -> np.ndarray:
        return np.concatenate([np.ravel(x_mix), np.ravel(y_mix), [lam], np.ravel(perm)]).astype(np.float64)

    candidates = {description: flat(*wrong(x, y, alpha, common.clone(gen)))
                  for description, wrong in mistakes.CATALOGUE["mixup"].items()}
    return matching_mistake(flat(*returned), candidates, tol)


# ---------------------------------------------------------------------- the distribution of λ

GOF_ALPHAS = (0.1, 2.0)  # U-shaped and peaked: between them every usual wrong λ is far from Beta(α, α)


def tiny_calls(alpha: float, seeds) -> list[tuple]:
    """mixup's arguments, ``(x, y, alpha, rng)``, for a tiny batch and a generator seeded with each of ``seeds``."""
    x, y = np.arange(8.0).reshape(4, 2), np.eye(4)  # a tiny batch: this check is about λ only
    return [(x, y, alpha, np.random.default_rng(int(s))) for s in seeds]


def lambdas(values, calls: list[tuple], what: str) -> np.ndarray:
    """λ from mixup's value for each of ``calls``."""
    return np.array([common.unpack(value, x, y, what)[2] for value, (x, y, *_) in zip(values, calls, strict=True)])


def typical_seeds(reference, rng, alpha: float, calls: int, typical: float) -> np.ndarray:
    """Secret seeds on which the reference's λ pass the test comfortably (p >= typical). A correct
    solution draws exactly the reference's λ from the same seeds, so it can never fail the test."""
    for _ in range(100):
        seeds = rng.integers(2**63, size=calls)
        tiny = tiny_calls(alpha, seeds)
        reference_lams = np.array([float(reference.mixup(*args)[2]) for args in tiny])  # its own: nothing to check
        if stats.kstest(reference_lams, stats.beta(alpha, alpha).cdf).pvalue >= typical:
            return seeds
    raise RuntimeError("no typical set of seeds for the reference")  # p >= 0.01 fails 100 times: never


def look_alike(lams: np.ndarray, alpha: float) -> str:
    """Which usual wrong distribution the student's λ follow best (by the Kolmogorov-Smirnov p-value)."""
    if np.ptp(lams) == 0:
        return "; lam is the same number on every call: draw it from rng on every call"
    beta = stats.beta(alpha, alpha).cdf
    var = float(np.var(lams))
    other = (1.0 / (4.0 * var) - 1.0) / 2.0 if var > 0 else np.inf
    candidates = {
        "Uniform(0, 1), as from rng.random() or Beta(1, 1)": stats.uniform.cdf,
        f"Beta({alpha:g}, 1)": stats.beta(alpha, 1.0).cdf,
        f"Beta(1, {alpha:g})": stats.beta(1.0, alpha).cdf,
        f"max(lam, 1 - lam) with lam ~ Beta({alpha:g}, {alpha:g}), never below 0.5":
            lambda t: np.clip(2.0 * beta(t) - 1.0, 0.0, 1.0),
        f"min(lam, 1 - lam) with lam ~ Beta({alpha:g}, {alpha:g}), never above 0.5":
            lambda t: np.clip(2.0 * beta(t), 0.0, 1.0),
    }
    if 0 < other < np.inf:
        candidates[f"Beta(a, a) with a = {other:.2g} instead of {alpha:g}"] = stats.beta(other, other).cdf
    p_values = {name: stats.kstest(lams, cdf).pvalue for name, cdf in candidates.items()}
    plausible = [name for name, p in p_values.items() if p >= 0.01]  # the first plausible one, in the order above
    name = plausible[0] if plausible else max(p_values, key=p_values.get)
    return f"; they look like {name} (p = {p_values[name]:.2g})" if p_values[name] >= 1e-3 else ""


def test_lambda_distribution(student, reference, rng, spec):
    """λ over many secretly seeded calls follows Beta(α, α) for α = 0.1 and α = 2 (Kolmogorov-Smirnov)."""
    calls = int(spec.parameter("gof_calls_per_alpha"))
    for alpha in GOF_ALPHAS:
        seeds = typical_seeds(reference, rng, alpha, calls, float(spec.parameter("gof_typical_p")))
        tiny = tiny_calls(alpha, seeds)
        lams = lambdas(common.values(student.mixup, tiny), tiny, f"mixup(x, y, alpha={alpha:g}, rng)")
        p = stats.kstest(lams, stats.beta(alpha, alpha).cdf).pvalue
        assert p >= spec.parameter("gof_p_value"), (
            f"over {calls} calls with alpha = {alpha:g} and differently seeded rngs, your lam does not follow "
            f"Beta({alpha:g}, {alpha:g}) (Kolmogorov-Smirnov p = {p:.2g}){look_alike(lams, alpha)}; "
            "draw lam = rng.beta(alpha, alpha)")


# ------------------------------------------------------------------------- generalization

D, K, N_TRAIN, N_VAL, LABEL_NOISE = 20, 3, 40, 2000, 0.3
EPOCHS, LR, ALPHA = 150, 1.0, 1.0


def noisy_data(rng):
    """A linear three-class problem in 20 dimensions with 30 % of the labels redrawn at random, and only
    40 training examples: softmax regression fits the noise and its validation loss runs away."""
    w = rng.normal(size=(D, K))

    def draw(n):
        x = rng.normal(size=(n, D))
        c = np.argmax(x @ w, axis=1)
        c = np.where(rng.random(n) < LABEL_NOISE, rng.integers(K, size=n), c)
        return x, np.eye(K)[c]

    return draw(N_TRAIN), draw(N_VAL)


def cross_entropy(w, b, x, y) -> float:
    z = x @ w + b
    z = z - z.max(axis=1, keepdims=True)
    return float(-(y * (z - np.log(np.exp(z).sum(axis=1, keepdims=True)))).sum(axis=1).mean())


def gap(batches, data) -> float:
    """Full-batch gradient descent on soft-label cross-entropy, one batch per epoch from ``batches(epoch)``;
    the validation loss minus the loss on the clean training set, both computed here."""
    (xt, yt), (xv, yv) = data
    w, b = np.zeros((D, K)), np.zeros(K)
    for epoch in range(EPOCHS):
        xb, yb = batches(epoch)
        z = xb @ w + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        g = (p / p.sum(axis=1, keepdims=True) - yb) / len(xb)
        w, b = w - LR * xb.T @ g, b - LR * g.sum(axis=0)
    return cross_entropy(w, b, xv, yv) - cross_entropy(w, b, xt, yt)


def training_run(rng):
    """A data set; for every epoch a seed for mixup's generator and a fresh order of the training batch
    (as from a data loader: a solution that pairs example i with a fixed partner, e.g. the batch
    reversed, still gets varied pairs)."""
    return noisy_data(rng), rng.integers(2**63, size=EPOCHS), [rng.permutation(N_TRAIN) for _ in range(EPOCHS)]


def mixed_gap(blend, data, seeds, orders) -> float:
    """The gap after training on ``blend(x, y, generator, epoch) -> (x_mix, y_mix)`` of each epoch's batch."""
    (xt, yt), _ = data

    def batch(epoch):
        xb, yb = xt[orders[epoch]], yt[orders[epoch]]
        return blend(xb, yb, np.random.default_rng(int(seeds[epoch])), epoch)

    return gap(batch, data)


def test_generalization(student, reference, rng, spec):
    """Training on the student's blends narrows the train/validation gap at least half as much as on the
    reference's (same data, same seeds, same batch orders); every loss is computed here."""
    for _ in range(100):  # keep a data set on which the reference's mixup narrows the gap by 10 % or more
        data, seeds, orders = training_run(rng)
        gap_none = gap(lambda epoch, train=data[0]: train, data)
        gap_ref = mixed_gap(lambda x, y, gen, epoch: reference.mixup(x, y, ALPHA, gen)[:2], data, seeds, orders)
        if gap_none - gap_ref >= 0.1 * gap_none:
            break
    unmixed = []
    # the epochs' calls in a few requests: an epoch's batch and generator do not depend on earlier results
    (xt, yt), _ = data
    values = common.values(student.mixup, [(xt[order], yt[order], ALPHA, np.random.default_rng(int(seed)))
                                           for seed, order in zip(seeds, orders, strict=True)])

    def student_blend(x, y, gen, epoch):  # called for epoch 0, 1, ... in turn: the value of that epoch's call
        what = f"mixup at epoch {epoch + 1} of {EPOCHS}"
        x_mix, y_mix, _, _ = common.unpack(next(values), x, y, what, draws=False)
        if not (np.all(np.isfinite(x_mix)) and np.all(np.isfinite(y_mix))):
            raise AssertionError(f"{what} returned a value that is not finite")
        unmixed.append((x_mix, x))  # compared only for the message of a failure
        return x_mix, y_mix

    gap_student = mixed_gap(student_blend, data, seeds, orders)
    share = (gap_none - gap_student) / (gap_none - gap_ref)
    if share >= spec.parameter("gap_fraction"):
        return
    same = all(np.allclose(x_mix, x, rtol=1e-12, atol=1e-12) for x_mix, x in unmixed)
    hint = "; your x_mix equals x on every call, so nothing was mixed" if same else ""
    raise AssertionError(
        f"softmax regression trained for {EPOCHS} epochs on a small noisy data set with your mixup (alpha = {ALPHA:g}, "
        f"one call per epoch) narrows the gap between validation and training loss by {max(share, 0.0):.0%} of what "
        f"the reference's mixup achieves with the same data and seeds (at least "
        f"{spec.parameter('gap_fraction'):.0%} needed){hint}")

"""Visible checks of the mixup assignment: the contract's draws, PyTorch for the blends, and properties.

Students may run these with ``grader check mixup``; their inputs come from a public seed. Every
expected value is computed here: λ and the permutation with NumPy's generator (the one the contract
names), the blends with ``torch.lerp`` (``lerp(x[perm], x, λ) = x[perm] + λ (x − x[perm])``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from grader.testing import lazy_torch, load_sibling, oracle

common = load_sibling(__file__, "common")
torch = lazy_torch()  # imported only when an oracle's value is not in the cache yet


@oracle
def torch_blend(v: np.ndarray, lam: float, perm: np.ndarray) -> np.ndarray:
    """λ v + (1 − λ) v[perm], written as PyTorch's linear interpolation from v[perm] towards v."""
    t = torch.as_tensor(v, dtype=torch.float64)
    return torch.lerp(t[torch.as_tensor(perm)], t, lam).numpy()


def batch(rng, n: int, features: tuple[int, ...], k: int, soft: bool) -> tuple[np.ndarray, np.ndarray]:
    """Inputs of shape (n, *features) and labels (n, k): one-hot rows, or soft rows that sum to 1."""
    x = rng.normal(size=(n, *features))
    y = rng.dirichlet(np.ones(k), size=n) if soft else np.eye(k)[rng.integers(k, size=n)]
    return x, y


def calls(student, cases: list[tuple]) -> Iterator[tuple[tuple, np.random.Generator, str]]:
    """For each ``(x, y, alpha, seed)`` of ``cases``, in one request: mixup's four values (checked for form),
    the generator it was handed, and the call as text."""
    gens = [np.random.default_rng(seed) for *_, seed in cases]
    arguments = [((x, y, alpha, gen), {}) for (x, y, alpha, _), gen in zip(cases, gens, strict=True)]
    values = common.one_by_one(student.mixup.stream(arguments))
    for (x, y, alpha, seed), gen, value in zip(cases, gens, values, strict=True):
        what = f"mixup(x of shape {x.shape}, y of shape {y.shape}, alpha={alpha}, rng=np.random.default_rng({seed}))"
        yield common.unpack(value, x, y, what), gen, what


# (N, feature shape, K, alpha, soft labels?): images, vectors, scalars, a batch of one, tiny and large alpha.
SEEDED_CASES = [
    (8, (5,), 3, 0.4, False), (16, (3, 4, 4), 10, 1.0, True), (5, (), 2, 0.2, False), (32, (3,), 4, 2.0, True),
    (12, (2, 6), 5, 0.1, False), (20, (7,), 6, 0.7, True), (64, (2,), 3, 0.3, False), (1, (4,), 3, 1.0, True),
]


def test_seeded_draws(student, public_rng, spec):
    """λ = rng.beta(alpha, alpha) first, then perm = rng.permutation(N), and the blends, for seeded rngs."""
    cases = []  # (x, y, alpha, seed)
    for n, features, k, alpha, soft in SEEDED_CASES:
        x, y = batch(public_rng, n, features, k, soft)
        cases.append((x, y, alpha, int(public_rng.integers(2**32))))
    for (x, y, alpha, _), ((x_mix, y_mix, lam, perm), gen, what) in zip(cases, calls(student, cases), strict=True):
        common.check_draws(lam, perm, gen, alpha, spec.tolerance("draw"), what, reveal=True)
        tol = spec.tolerance("mix")
        common.check_mixture(x_mix, torch_blend(x, lam, perm), x, lam, perm, tol, what, "x", reveal=True)
        common.check_mixture(y_mix, torch_blend(y, lam, perm), y, lam, perm, tol, what, "y", reveal=True)


def test_input_mixture(student, public_rng, spec):
    """x_mix is λ x + (1 − λ) x[perm] for the λ and perm the function returned (whatever they are)."""
    cases = []  # (x, y, alpha, seed)
    for n, features, alpha in [(10, (3,), 0.4), (7, (2, 5, 5), 1.0), (6, (), 0.05), (9, (4,), 50.0), (1, (3,), 1.0),
                               (2, (2,), 0.5)]:
        x, y = batch(public_rng, n, features, 4, soft=False)
        cases.append((x, y, alpha, int(public_rng.integers(2**32))))
    for (x, _, _, _), ((x_mix, _, lam, perm), _, what) in zip(cases, calls(student, cases), strict=True):
        common.check_mixture(x_mix, torch_blend(x, lam, perm), x, lam, perm, spec.tolerance("mix"),
                             f"{what}, with the lam and perm it returned", "x", reveal=True)


def test_label_mixture(student, public_rng, spec):
    """Rows of y_mix sum to 1 and y_mix is λ y + (1 − λ) y[perm]: the lecture's half cat, half dog."""
    cat, dog = public_rng.uniform(size=(2, 3, 8, 8))
    x, y = np.stack([cat, dog]), np.eye(2)
    for (_, y_mix, lam, perm), _, what in calls(student, [(x, y, 1.0, seed) for seed in range(6)]):
        blended = "lam cat + (1 - lam) dog" if perm[0] == 1 else "the cat itself (perm is the identity)"
        common.check_mixture(y_mix, torch_blend(y, lam, perm), y, lam, perm, spec.tolerance("mix"),
                             f"the lecture's example, x = [cat, dog], y = [[1, 0], [0, 1]]: the first input of "
                             f"{what} is {blended}, and its label must say the same", "y", reveal=True)

    atol = spec.tolerance("label_sum").atol
    cases = []  # (x, y, alpha, seed)
    for n, k, alpha, soft in [(10, 4, 0.4, False), (12, 7, 1.0, True), (5, 3, 0.1, True), (30, 10, 2.0, False)]:
        x, y = batch(public_rng, n, (3,), k, soft)
        cases.append((x, y, alpha, int(public_rng.integers(2**32))))
    for (_, y, _, _), ((_, y_mix, lam, perm), _, what) in zip(cases, calls(student, cases), strict=True):
        sums = y_mix.sum(axis=1)
        bad = np.flatnonzero(~(np.abs(sums - 1.0) <= atol))
        if bad.size:
            raise AssertionError(f"{what}: row {bad[0]} of y_mix sums to {sums[bad[0]]!r}; a blend of two label rows "
                                 "that each sum to 1, with weights lam and 1 - lam, sums to 1")
        if np.any(y_mix < -atol) or np.any(y_mix > 1.0 + atol):
            raise AssertionError(f"{what}: y_mix has entries outside [0, 1]; a blend of probabilities is one")
        common.check_mixture(y_mix, torch_blend(y, lam, perm), y, lam, perm, spec.tolerance("mix"),
                             f"{what}, with the lam and perm it returned", "y", reveal=True)


def test_purity(student, public_rng):
    """mixup leaves its arguments x and y as they were (it returns new arrays)."""
    cases = []  # (x, y, alpha, rng): the arguments of each call
    for features, soft in [((2, 3, 3), True), ((5,), False)]:
        x, y = batch(public_rng, 6, features, 3, soft)
        cases.append((x, y, 0.4, np.random.default_rng(int(public_rng.integers(2**32)))))
    results = common.one_by_one(student.stream("mixup", [(args, {}) for args in cases], echo=True))
    for (x, y, *_), result in zip(cases, results, strict=True):
        common.unpack(result.value, x, y, f"mixup(x of shape {x.shape}, ...)", draws=False)
        (x_after, y_after, *_), _ = result.args_after
        for name, before, after in (("x", x, x_after), ("y", y, y_after)):
            if not (isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(after, before)):
                raise AssertionError(f"mixup changed its argument {name} (of shape {before.shape}) in place; compute "
                                     f"new arrays, e.g. lam * {name} + (1 - lam) * {name}[perm], never "
                                     f"{name} *= lam or {name}[...] = ...")

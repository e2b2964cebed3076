"""Visible checks of the dropout assignment: PyTorch in distribution and for the backward pass, and properties.

Students may run these with ``grader check dropout``; their inputs come from a public seed. Dropout is
random, so against ``torch.nn.functional.dropout`` the checks compare what does not depend on the random
numbers (the value a kept unit takes, the gradient through a given mask) and distributions (the fraction
kept, E[out] = x); the exact draws are the contract's, ``rng.random(x.shape) >= p``, checked on a copy
of the generator.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from grader.testing import (
    as_array,
    assert_close,
    assert_gradient_close,
    assert_unchanged,
    binomial_test,
    expect_raises,
    hint_on_failure,
    lazy_torch,
    load_mistakes,
    load_sibling,
    numerical_grad,
    oracle,
    value_hint,
)

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)  # empty in the student's copy, which has no mistakes.py
torch = lazy_torch()  # imported only when an oracle's value is not in the cache yet

P_VALUES = (0.1, 0.3, 0.5, 0.8)  # below and above 0.5: keeping with probability p instead of 1 - p shows


@oracle
def torch_kept_scale(x: np.ndarray, p: float, seed: int) -> tuple[float, float, float]:
    """torch.nn.functional.dropout(x, p, training=True): the fraction of units it kept, and the smallest and
    largest out / x over the units it kept (both 1 / (1 - p): every kept unit is scaled alike)."""
    torch.manual_seed(seed)
    out = torch.nn.functional.dropout(torch.as_tensor(x), p, training=True)
    kept = out != 0
    ratio = (out[kept] / torch.as_tensor(x)[kept]).numpy()
    return float(kept.double().mean()), float(ratio.min()), float(ratio.max())


@oracle
def torch_dropout_grad(x: np.ndarray, dout: np.ndarray, p: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Autograd through torch.nn.functional.dropout: its mask (the units whose out is not 0; x has no zero)
    and the gradient of sum(dout * out) with respect to x."""
    torch.manual_seed(seed)
    t = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.dropout(t, p, training=True)
    (out * torch.as_tensor(dout)).sum().backward()
    return (out != 0).detach().numpy(), t.grad.numpy()


def seed_of(rng) -> int:
    return int(rng.integers(2**32))


def forward_calls(student, cases: list[tuple]) -> list[tuple]:
    """For each ``(x, p, train, seed)``, in one request: (out, keep) checked for form, the generator the call
    was handed, and the call as text."""
    gens = [np.random.default_rng(seed) for *_, seed in cases]
    values = common.one_by_one(student.dropout_forward.stream(
        [((x, p, train, gen), {}) for (x, p, train, _), gen in zip(cases, gens, strict=True)]))
    done = []
    for (x, p, train, seed), gen, value in zip(cases, gens, values, strict=True):
        what = f"dropout_forward(x of shape {x.shape}, p={p}, train={train}, rng=np.random.default_rng({seed}))"
        done.append((common.forward_result(value, x.shape, train, what), gen, what))
    return done


def test_forward_matches_torch(student, public_rng, spec):
    """Each kept unit is x / (1 - p), as torch.nn.functional.dropout scales it, each dropped one 0, and keep is
    the contract's draw, rng.random(x.shape) >= p."""
    cases = [(public_rng.normal(size=(50, 40)), p, True, seed_of(public_rng)) for p in P_VALUES]
    tol = spec.tolerance("values")
    for (x, p, _, _), ((out, keep), gen, what) in zip(cases, forward_calls(student, cases), strict=True):
        _, low, high = torch_kept_scale(x, p, seed_of(public_rng))
        with hint_on_failure(common.forward_hint, mistakes.CATALOGUE["dropout_forward"], out, x, p, True,
                             gen, spec.tolerance("mistake")):
            assert_close(out, np.where(keep, x * low, 0.0), tol,
                         f"{what}: out against x * keep * (the scale torch.nn.functional.dropout gives kept units, "
                         f"1 / (1 - p) = {high:.6g}) for the keep you returned", reveal=True)
            expected = common.clone(gen).random(x.shape) >= p
            if not np.array_equal(keep, expected):
                bad = int(np.sum(keep != expected))
                raise AssertionError(f"{what}: keep differs from rng.random(x.shape) >= p on {bad} of {keep.size} "
                                     "units; draw exactly rng.random(x.shape) from the rng you were given and keep "
                                     "the units whose number is >= p")


def test_keep_fraction(student, public_rng, spec):
    """The number of units kept is Binomial(n, 1 - p), the fraction torch keeps (two-sided binomial test)."""
    alpha = spec.parameter("binomial_alpha")
    cases = [(np.ones((200, 500)), p, True, seed_of(public_rng)) for p in P_VALUES]
    for (x, p, _, _), ((_, keep), _, what) in zip(cases, forward_calls(student, cases), strict=True):
        n, kept = keep.size, int(keep.sum())
        torch_fraction, _, _ = torch_kept_scale(x, p, seed_of(public_rng))
        pvalue = binomial_test(kept, n, 1.0 - p)
        assert pvalue >= alpha, (
            f"{what} kept {kept} of {n} units ({kept / n:.4f}); each unit is kept with probability 1 - p = {1 - p:g} "
            f"(torch.nn.functional.dropout kept {torch_fraction:.4f} here), and a binomial test rejects yours "
            f"(p-value {pvalue:.2g} < {alpha:g}, a false alarm for a correct draw once in {1 / alpha:.0e} calls)")


def test_mean_preserved(student, public_rng, spec):
    """Inverted dropout keeps the expected value: over many draws, out averages to x, as torch's does."""
    alpha = spec.parameter("binomial_alpha")
    z_max = NormalDist().inv_cdf(1 - alpha / 2)
    for p in P_VALUES:
        row = public_rng.uniform(0.5, 2.0, size=400)  # positive, so out summed over a draw is a weighted count
        x = np.tile(row, (250, 1))
        seed = seed_of(public_rng)
        (out, _), _, what = forward_calls(student, [(x, p, True, seed)])[0]
        # sum(out) = sum over units of x_j keep_j / (1 - p): mean sum(x), variance p / (1 - p) sum(x**2)
        total, expected = float(out.sum()), float(x.sum())
        sd = math.sqrt(p / (1 - p) * float(np.sum(x * x)))
        z = (total - expected) / sd
        assert abs(z) <= z_max, (
            f"{what} on {x.shape[0]} copies of a positive row: sum(out) / sum(x) = {total / expected:.4f}, but inverted "
            f"dropout keeps the mean, E[out] = x (ratio 1 within {z_max * sd / expected:.2g} here, a false alarm once in "
            f"{1 / alpha:.0e} calls): the kept units are scaled by 1 / (1 - p), as torch.nn.functional.dropout does")


def test_backward_matches_autograd(student, public_rng, spec):
    """dropout_backward(dout, keep, p) equals autograd through torch.nn.functional.dropout with the same mask."""
    tol = spec.tolerance("values")
    cases = []
    for p in (*P_VALUES, 0.0, 1.0):
        x = public_rng.uniform(0.5, 2.0, size=(16, 24)) * public_rng.choice([-1.0, 1.0], size=(16, 24))  # no zero
        dout = public_rng.normal(size=x.shape)
        keep, grad = torch_dropout_grad(x, dout, p, seed_of(public_rng))
        cases.append((dout, keep, p, grad))
    values = common.one_by_one(student.dropout_backward.stream([((d, k, p), {}) for d, k, p, _ in cases]))
    for (dout, keep, p, grad), value in zip(cases, values, strict=True):
        what = f"dropout_backward(dout, keep, p={p}) with torch's mask as keep"
        got = as_array(value, what, dout.shape)
        with hint_on_failure(value_hint, mistakes.CATALOGUE["dropout_backward"], got, (dout, keep, p),
                             spec.tolerance("mistake")):
            assert_close(got, grad, tol, f"{what}, against torch's autograd through the same mask", reveal=True)


def test_backward_matches_numerical(student, public_rng, spec):
    """dropout_backward against central differences of your dropout_forward with the mask held fixed (every
    forward call gets a generator in the same state, so draws the same mask)."""
    tol = spec.tolerance("numerical")
    for p in (0.3, 0.6):
        x, dout = public_rng.normal(size=(4, 6)), public_rng.normal(size=(4, 6))
        seed = seed_of(public_rng)
        (_, keep), _, what = forward_calls(student, [(x, p, True, seed)])[0]

        def loss(stack, p=p, seed=seed, x=x, dout=dout, what=what):
            """sum(dout * out) for each input of the stack, each forward call with the same mask."""
            values = common.one_by_one(student.dropout_forward.stream(
                [((z, p, True, np.random.default_rng(seed)), {}) for z in stack]))
            outs = [common.forward_result(v, x.shape, True, what)[0] for v in values]
            return np.array([np.sum(dout * o) for o in outs])

        expected = numerical_grad(loss, x, batched=True)
        call = f"dropout_backward(dout, keep, p={p}) with the keep of {what}"
        got = as_array(student.dropout_backward(dout, keep, p), call, x.shape)
        with hint_on_failure(value_hint, mistakes.CATALOGUE["dropout_backward"], got, (dout, keep, p),
                             spec.tolerance("mistake")):
            assert_gradient_close(got, expected, tol, f"{call}, against central differences of your dropout_forward",
                                  reveal=True)


def test_evaluation_is_identity(student, public_rng, spec):
    """train=False: out equals x, keep is None, rng is not touched, whatever p (0, 1 included)."""
    for p in (0.0, 0.5, 1.0):
        x = public_rng.normal(size=(5, 7))
        gen = np.random.default_rng(seed_of(public_rng))
        what = f"dropout_forward(x, p={p}, train=False, rng)"
        result = student.call("dropout_forward", x, p, False, gen, echo=True)
        out, _ = common.forward_result(result.value, x.shape, False, what)
        with hint_on_failure(common.forward_hint, mistakes.CATALOGUE["dropout_forward"], out, x, p, False,
                             gen, spec.tolerance("mistake")):
            assert_close(out, x, spec.tolerance("values"),
                         f"{what}: evaluation uses every unit, unscaled (inverted dropout scales in training only)",
                         reveal=True)
        after = result.args_after[0][3]
        if not (isinstance(after, np.random.Generator) and after.bit_generator.state == gen.bit_generator.state):
            raise AssertionError(f"{what} drew from rng: evaluation drops nothing, so it must not touch the generator")


def test_p_zero_and_one(student, public_rng, spec):
    """p = 0 keeps everything (out = x), p = 1 drops everything (out = 0, no division by 0); both draw exactly
    rng.random(x.shape), so the generator's state afterwards does not depend on p."""
    for p in (0.0, 1.0, 0.4):
        x = public_rng.normal(size=(6, 5))
        gen = np.random.default_rng(seed_of(public_rng))
        what = f"dropout_forward(x, p={p}, train=True, rng)"
        result = student.call("dropout_forward", x, p, True, gen, echo=True)
        out, keep = common.forward_result(result.value, x.shape, True, what)
        if p == 0.0:
            assert np.all(keep), f"{what}: p = 0 drops nothing, so keep must be all True"
            assert_close(out, x, spec.tolerance("values"), f"{what}: p = 0 must return x", reveal=True)
        elif p == 1.0:
            assert not np.any(keep), f"{what}: p = 1 drops every unit, so keep must be all False"
            if not np.all(out == 0.0):
                raise AssertionError(f"{what}: p = 1 must return all zeros (got "
                                     f"{'NaN or inf' if not np.all(np.isfinite(out)) else 'values other than 0'}); "
                                     "return zeros without dividing by 1 - p = 0")
        after = result.args_after[0][3]
        if not (isinstance(after, np.random.Generator)
                and after.bit_generator.state == common.after_one_draw(gen, x.shape)):
            raise AssertionError(f"{what}: the generator is not where exactly one rng.random(x.shape) leaves it; draw "
                                 "keep = rng.random(x.shape) >= p once, for every p (0 and 1 included), and nothing else")


def test_bad_p_raises(student, public_rng):
    """p outside [0, 1] is a ValueError, in training and in evaluation."""
    x = public_rng.normal(size=(3, 4))
    student.dropout_forward(x, 0.5, True, np.random.default_rng(0))  # a valid call must not raise
    for p in (-0.1, 1.5):
        for train in (True, False):
            expect_raises(ValueError, lambda p=p, train=train: student.dropout_forward(x, p, train,
                                                                                        np.random.default_rng(0)),
                          f"dropout_forward(x, p={p}, train={train}, rng)")


def test_purity(student, public_rng, spec):
    """dropout_forward leaves x alone, dropout_backward leaves dout and keep alone."""
    x = public_rng.normal(size=(6, 8))
    for train in (True, False):
        result = student.call("dropout_forward", x, 0.3, train, np.random.default_rng(seed_of(public_rng)), echo=True)
        common.forward_result(result.value, x.shape, train, f"dropout_forward(x, 0.3, train={train}, rng)")
        assert_unchanged("dropout_forward", {"x": x}, {"x": result.args_after[0][0]}, how="x * keep / (1 - p)")
    dout, keep = public_rng.normal(size=(6, 8)), public_rng.random((6, 8)) >= 0.3
    for k in (keep, None):
        result = student.call("dropout_backward", dout, k, 0.3, echo=True)
        as_array(result.value, "dropout_backward(dout, keep, 0.3)", dout.shape)
        before = {"dout": dout} if k is None else {"dout": dout, "keep": keep}
        after = {"dout": result.args_after[0][0]} if k is None else {"dout": result.args_after[0][0],
                                                                        "keep": result.args_after[0][1]}
        assert_unchanged("dropout_backward", before, after, how="dout * keep / (1 - p)")

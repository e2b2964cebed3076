"""Shared by the visible and the hidden checks of mixup (each loads this file by path: ``checks/`` is
not a package, and this file is not a check).

* ``contract_draws``: what ``rng.beta(alpha, alpha)`` followed by ``rng.permutation(N)`` gives on a
  copy of the generator the student was handed (the copy that crossed to the worker starts in the
  same state, so a correct solution makes exactly these draws).
* ``unpack``: the student's four return values, checked for form (one λ in [0, 1], a permutation).
* ``check_draws`` and ``check_mixture``: compare, and when something is off say which usual mistake
  it looks like (permutation drawn first, λ from another generator, λ folded, two λ, weights
  swapped, nothing mixed). No message shows an input or an expected number, so hidden checks can
  use all of them.
* ``one_by_one`` and ``values``: the results of many calls made in few requests, checked as if made
  one at a time.
"""

from __future__ import annotations

import numpy as np

from grader.testing import (
    BadResult,
    Tolerance,
    as_array,
    as_float,
    assert_close,
    clone_generator,
    is_close,
    one_by_one,  # noqa: F401 - shared with the other assignments' checks
)

clone = clone_generator  # the checks call common.clone


def contract_draws(gen: np.random.Generator, alpha: float, n: int) -> tuple[float, np.ndarray]:
    """λ = rng.beta(alpha, alpha) first, then perm = rng.permutation(n), from a copy of ``gen``."""
    g = clone(gen)
    lam = float(g.beta(alpha, alpha))
    return lam, g.permutation(n)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return "None" if value is None else f"a {type(value).__name__}"


def unpack(value, x: np.ndarray, y: np.ndarray, what: str, *, draws: bool = True):
    """``(x_mix, y_mix, lam, perm)`` of the right form, or ``BadResult`` saying what is wrong with it.

    With ``draws=False`` (checks that use only the blends) lam and perm are returned as they came.
    """
    if not isinstance(value, (tuple, list)) or len(value) != 4:
        raise BadResult(f"{what} should return four values (x_mix, y_mix, lam, perm), got {_describe(value)}")
    x_mix, y_mix, lam, perm = value
    n = x.shape[0]
    x_mix = as_array(x_mix, f"x_mix from {what}", x.shape)
    y_mix = as_array(y_mix, f"y_mix from {what}", y.shape)
    if not draws:
        return x_mix, y_mix, lam, perm
    if isinstance(lam, np.ndarray) and lam.size > 1:
        raise BadResult(f"lam from {what} is an array of shape {lam.shape}: mixup draws ONE "
                        "lam = rng.beta(alpha, alpha) for the whole batch, not one per example")
    lam = as_float(lam, f"lam from {what}")
    if not 0.0 <= lam <= 1.0:
        raise BadResult(f"lam from {what} is outside [0, 1]: it should be a draw of Beta(alpha, alpha)")
    if isinstance(perm, (list, tuple)) or (isinstance(perm, np.ndarray) and perm.dtype.kind in "iu"):
        try:
            perm = np.asarray(perm, dtype=np.float64)
        except (TypeError, ValueError):
            raise BadResult(f"perm from {what} should be an array of integers") from None
    perm = as_array(perm, f"perm from {what}", (n,))
    if not np.array_equal(np.sort(perm), np.arange(n)):
        raise BadResult(f"perm from {what} is not a permutation of 0, 1, ..., N - 1 (N = {n})")
    return x_mix, y_mix, lam, perm.astype(np.int64)


def check_draws(lam: float, perm: np.ndarray, gen: np.random.Generator, alpha: float, tol: Tolerance,
                what: str, *, reveal: bool = False) -> None:
    """λ and perm must be the contract's draws from ``gen``; if not, name the mistake they look like."""
    n = perm.shape[0]
    lam_e, perm_e = contract_draws(gen, alpha, n)
    lam_ok, perm_ok = is_close(lam, lam_e, tol), np.array_equal(perm, perm_e)
    if lam_ok and perm_ok:
        return
    g = clone(gen)
    perm_first = g.permutation(n)
    lam_second = float(g.beta(alpha, alpha))
    g = clone(gen)
    g.random()
    perm_after_uniform = g.permutation(n)
    g = clone(gen)
    g.beta(alpha, alpha)
    g.beta(alpha, alpha)
    perm_third = g.permutation(n)
    shown = f" (got lam = {lam!r}, expected {lam_e!r})" if reveal else ""

    if not lam_ok:
        if np.array_equal(perm, perm_first) and is_close(lam, lam_second, tol):
            why = ("the permutation was drawn before lam: draw lam = rng.beta(alpha, alpha) FIRST, then "
                   "perm = rng.permutation(N); the same two draws in the other order give other numbers")
        elif np.array_equal(perm, perm_first):
            why = ("perm is the first draw from the rng you were given, so lam did not come from it: draw lam "
                   "with rng.beta(alpha, alpha), not np.random.beta or a generator of your own")
        elif np.array_equal(perm, perm_after_uniform):
            why = ("lam looks like a uniform draw (rng.random() or rng.uniform()); mixup draws "
                   "lam = rng.beta(alpha, alpha)")
        elif perm_ok and lam_e < 0.5 and is_close(lam, 1.0 - lam_e, tol):
            why = ("lam is 1 - (the draw), i.e. max(lam, 1 - lam) or the weight of x[perm]; mixup returns "
                   "lam = rng.beta(alpha, alpha) as drawn, the weight of x itself")
        elif perm_ok and is_close(lam, 1.0 - lam_e, tol):
            why = "lam is 1 - rng.beta(alpha, alpha): return the draw itself, the weight of x"
        elif perm_ok:
            why = "perm is right, but lam is not the value of rng.beta(alpha, alpha), the rng's first draw"
        else:
            why = ("neither lam nor perm is what rng.beta(alpha, alpha) followed by rng.permutation(N) gives "
                   "with the rng you were given")
        raise AssertionError(f"{what}: {why}{shown}")
    if np.array_equal(perm, perm_third):
        why = ("lam is right, but perm is the rng's third draw instead of its second: you drew lam twice "
               "(one for x and one for y?); draw one lam and use it for both")
    else:
        why = ("lam is right, but perm is not rng.permutation(N) drawn right after it (not rng.choice, a "
               "reversed batch or an order of your own)")
    raise AssertionError(f"{what}: {why}")


UNMIXED = {
    "x": ("x_mix equals x: each example was mixed with itself (lam x + (1 - lam) x is x); blend it with "
          "x[perm], the batch in permuted order"),
    "y": ("y_mix equals y: the labels were not mixed; an input that is lam of one example and 1 - lam of "
          "another gets the label lam y + (1 - lam) y[perm]"),
}


def check_mixture(got: np.ndarray, expected: np.ndarray, v: np.ndarray, lam: float, perm: np.ndarray,
                  tol: Tolerance, what: str, name: str, *, reveal: bool = False) -> None:
    """``got`` must equal ``expected`` (= λ v + (1 − λ) v[perm]); if not, name the mistake it looks like."""
    if is_close(got, expected, tol):
        return
    vp = v[perm]
    swapped = (1.0 - lam) * v + lam * vp
    candidates = [
        (swapped, f"the weights are swapped: {name}_mix should be lam {name} + (1 - lam) {name}[perm], with lam "
                  f"on {name} itself, but it is (1 - lam) {name} + lam {name}[perm]"),
        (v, UNMIXED[name]),
    ]
    for alternative, why in candidates:
        if is_close(got, alternative, tol) and not is_close(alternative, expected, tol):
            raise AssertionError(f"{what}: {why}")
    d = (v - vp).ravel()
    if d @ d > 0:
        other = float((got - vp).ravel() @ d / (d @ d))
        if is_close(got, vp + other * (v - vp), tol) and not is_close(other, lam, tol):
            raise AssertionError(f"{what}: {name}_mix is a mixture of {name} and {name}[perm], but with another "
                                 f"lam than the one returned: draw one lam and use it for x and y alike")
    assert_close(got, expected, tol, f"{what}: {name}_mix should be lam {name} + (1 - lam) {name}[perm]",
                 reveal=reveal)

"""Distribution tests in NumPy alone (scipy.stats costs half a second to import in every judge)."""

from __future__ import annotations

import numpy as np


def normality(x) -> tuple[float, float, float]:
    """``(skewness, excess kurtosis, p)`` of the values in ``x`` (all of them, flattened), with p from
    D'Agostino and Pearson's omnibus test that they come from a normal distribution (K² from the
    skewness and kurtosis tests, against chi-squared with 2 degrees of freedom): what
    ``scipy.stats.skew``, ``kurtosis`` and ``normaltest`` give with ``axis=None``, in NumPy alone
    (``tests/test_testing.py`` compares them), without scipy.stats' half-second import. Needs at
    least 20 values."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = float(x.size)
    if n < 20:
        raise ValueError(f"the normality test needs at least 20 values, got {x.size}")
    d = x - x.mean()
    d2 = d * d  # products, not d**3 and d**4: NumPy's pow is 25 times slower on 200,000 values
    m2, m3, m4 = float(np.mean(d2)), float(np.mean(d2 * d)), float(np.mean(d2 * d2))
    if m2 <= (np.finfo(np.float64).eps * x.mean()) ** 2:  # all equal: no shape to speak of, as scipy says
        return float("nan"), float("nan"), float("nan")
    skew, kurt = m3 / m2**1.5, m4 / m2**2
    # the skewness test (D'Agostino 1970)
    y = skew * np.sqrt((n + 1) * (n + 3) / (6.0 * (n - 2)))
    beta2 = 3.0 * (n * n + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2.0) * (n + 5) * (n + 7) * (n + 9))
    w2 = -1 + np.sqrt(2 * (beta2 - 1))
    delta, alpha = 1 / np.sqrt(0.5 * np.log(w2)), np.sqrt(2.0 / (w2 - 1))
    y = y if y != 0 else 1.0
    z_skew = delta * np.log(y / alpha + np.sqrt((y / alpha) ** 2 + 1))
    # the kurtosis test (Anscombe and Glynn 1983)
    mean_b2 = 3.0 * (n - 1) / (n + 1)
    var_b2 = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) * (n + 1.0) * (n + 3) * (n + 5))
    u = (kurt - mean_b2) / np.sqrt(var_b2)
    root_beta1 = 6.0 * (n * n - 5 * n + 2) / ((n + 7) * (n + 9)) * np.sqrt(6.0 * (n + 3) * (n + 5) / (n * (n - 2) * (n - 3)))
    a = 6.0 + 8.0 / root_beta1 * (2.0 / root_beta1 + np.sqrt(1 + 4.0 / root_beta1**2))
    denom = 1 + u * np.sqrt(2 / (a - 4.0))
    term2 = np.sign(denom) * ((1 - 2.0 / a) / abs(denom)) ** (1 / 3.0) if denom != 0 else float("nan")
    z_kurt = (1 - 2 / (9.0 * a) - term2) / np.sqrt(2 / (9.0 * a))
    k2 = z_skew**2 + z_kurt**2
    return float(skew), float(kurt - 3.0), float(np.exp(-k2 / 2))  # chi-squared(2)'s survival function


def binomial_test(k: int, n: int, p: float) -> float:
    """The two-sided p-value of ``k`` successes in ``n`` trials of probability ``p``: the probability of every
    outcome no likelier than ``k`` (the exact test, as ``scipy.stats.binomtest(k, n, p).pvalue``, tested
    against it), in NumPy alone."""
    if not (0 <= k <= n and 0.0 <= p <= 1.0):
        raise ValueError(f"binomial_test needs 0 <= k <= n and 0 <= p <= 1, got k={k}, n={n}, p={p}")
    if p in (0.0, 1.0):
        return 1.0 if k == round(p * n) else 0.0
    i = np.arange(n)
    steps = np.log((n - i) / (i + 1.0)) + (np.log(p) - np.log1p(-p))  # log pmf(i + 1) - log pmf(i)
    logpmf = np.concatenate([[n * np.log1p(-p)], n * np.log1p(-p) + np.cumsum(steps)])
    top = logpmf.max()
    pmf = np.exp(logpmf - top)
    return float(min(1.0, pmf[pmf <= pmf[k] * (1 + 1e-7)].sum() / pmf.sum()))

"""Comparisons within a tolerance of the assignment's spec, whose messages name the first element (and
the first step) out of it, never a hidden number unless the check passes ``reveal=True``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from grader.errors import BadResult, StudentFault
from grader.spec import Tolerance
from grader.testing.values import as_array, relative_error


def assert_close(actual, expected, tol: Tolerance, what: str, *, reveal: bool = False) -> None:
    """Elementwise |a - e| <= atol + rtol * max(|a|, |e|), with NaN and inf never close to a number.

    The message names the first element out of tolerance and its relative error; with ``reveal``,
    also the two values.
    """
    expected = np.asarray(expected, dtype=np.float64)
    actual = as_array(actual, what, expected.shape)
    if not np.all(np.isfinite(actual)) and np.all(np.isfinite(expected)):
        index = _first(~np.isfinite(actual))
        where = f"element {index}" if actual.ndim else "the value"
        raise AssertionError(f"{what}: {where} is {float(actual[index])} (expected a finite number)")
    bad = _off(actual, expected, tol)
    if bad.any():
        index = _first(bad)
        err = float(relative_error(actual[index], expected[index]))
        detail = f": got {float(actual[index]):.12g}, expected {float(expected[index]):.12g}" if reveal else ""
        where = f"element {index}" if actual.ndim else "the value"
        raise AssertionError(f"{what}: {where} is off by a relative error of {err:.2g} "
                             f"(tolerance {tol.rtol:g}){detail}; {int(bad.sum())} of {bad.size} elements are off")


def is_close(actual, expected, tol: Tolerance) -> bool:
    """Whether ``assert_close(actual, expected, tol, ...)`` would pass (the same shape; every element within
    ``tol``; NaN, or an infinity where a number is expected, never close), without building a message: for a
    check that tries alternatives, such as which known mistake a student's values match."""
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return False
    with np.errstate(invalid="ignore"):
        return not bool((_off(a, e, tol) | (~np.isfinite(a) & np.isfinite(e))).any())


_CHUNK = 1 << 16  # elements: a chunk's temporaries stay in the cache (conv's million outputs: 10 ms to 3 ms)


def _off(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Elementwise: out of tolerance (NaN is never close, nor a number to an infinity; equal infinities are)."""
    actual, expected = np.broadcast_arrays(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64))
    if actual.ndim == 0:
        actual, expected = actual.reshape(1), expected.reshape(1)
        return _off(actual, expected, tol).reshape(())
    if actual.size > 2 * _CHUNK:
        flat_a, flat_e = actual.reshape(-1), expected.reshape(-1)
        off = np.empty(flat_a.size, dtype=bool)
        for i in range(0, flat_a.size, _CHUNK):
            off[i:i + _CHUNK] = _off(flat_a[i:i + _CHUNK], flat_e[i:i + _CHUNK], tol)
        return off.reshape(actual.shape)
    with np.errstate(invalid="ignore", over="ignore"):  # in place: a batch of outputs is megabytes
        bound = np.abs(actual)
        np.maximum(bound, np.abs(expected), out=bound)
        bound *= tol.rtol
        bound += tol.atol
        diff = np.subtract(actual, expected)
        np.abs(diff, out=diff)
        close = np.less_equal(diff, bound, out=np.empty(diff.shape, dtype=bool))
        close &= np.isfinite(diff)  # a number is never close to an infinity (whose bound is infinite)
        close |= actual == expected
        return ~close


def assert_each_close(actuals: Sequence[np.ndarray], expecteds: Sequence, tol: Tolerance, what: Callable[[int], str],
                      *, reveal: bool = False) -> None:
    """``assert_close(actuals[k], expecteds[k], tol, what(k + 1))`` for every k, in one vectorized pass:
    the first k that fails raises, with the message ``assert_close`` gives it. ``actuals`` are arrays
    of one shape (``as_array`` or ``as_step`` checked them); ``expecteds`` may be longer."""
    if not len(actuals):
        return
    n = len(actuals)
    a = np.stack(actuals).reshape(n, -1)
    e = np.stack([np.asarray(x, dtype=np.float64) for x in expecteds[:n]]).reshape(n, -1)
    with np.errstate(invalid="ignore"):
        off = _off(a, e, tol).any(axis=1) | (~np.isfinite(a).all(axis=1) & np.isfinite(e).all(axis=1))
    if off.any():
        k = int(np.argmax(off))
        assert_close(actuals[k], expecteds[k], tol, what(k + 1), reveal=reveal)


def assert_results_close(results: Iterable, expecteds: Sequence, tol: Tolerance, what: Callable[[int], str],
                         convert: Callable[[object, str], object], *, reveal: bool = False) -> None:
    """A stream of student results against ``expecteds``, as if each were converted with
    ``convert(result, what(k))`` and checked with ``assert_close`` the moment it came, in one
    vectorized pass. What the k-th result does wrong (a fault in the worker, a result ``convert``
    refuses) is raised only after results 1 .. k - 1 are compared: the first wrong one is still the
    one reported."""
    got, failure = [], None
    try:
        for k, result in enumerate(results, 1):
            got.append(convert(result, what(k)))
    except (StudentFault, BadResult) as exc:
        failure = exc
    assert_each_close(got, expecteds, tol, what, reveal=reveal)
    if failure is not None:
        raise failure


def _first(mask: np.ndarray):
    """The index of the first True of ``mask`` in C order (argmax stops there; argwhere lists them all)."""
    if mask.ndim == 0:
        return ()
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))
    return index if len(index) != 1 else index[0]


def all_close(actuals: Sequence[np.ndarray], expecteds: Sequence[np.ndarray], tol: Tolerance) -> bool:
    """Whether ``assert_each_close`` would pass, and the two are as long, without writing its message."""
    if len(actuals) != len(expecteds):
        return False
    if not len(actuals):
        return True
    try:
        a = np.stack(actuals).reshape(len(actuals), -1)
        e = np.stack([np.asarray(x, dtype=np.float64) for x in expecteds]).reshape(len(actuals), -1)
    except ValueError:
        return False
    if a.shape != e.shape:
        return False
    with np.errstate(invalid="ignore"):
        off = _off(a, e, tol).any(axis=1) | (~np.isfinite(a).all(axis=1) & np.isfinite(e).all(axis=1))
    return not off.any()

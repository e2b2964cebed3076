"""Helpers for writing checks. Everything here runs in the judge, on plain data.

Messages name what went wrong and where (which step, which element, which property). Values are
shown only when ``reveal=True``, which visible checks may pass; hidden checks never show the
inputs or the expected numbers.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from types import FunctionType, MethodType, ModuleType, SimpleNamespace

import numpy as np

from grader.errors import BadResult, StudentError, StudentFault
from grader.sandbox.objectives import GRADIENTS
from grader.spec import Tolerance

TINY = 1e-300


def lazy_torch():
    """``torch`` for a check module whose oracles may all be remembered: ``torch = lazy_torch()`` at the
    top instead of ``import torch``, and torch is imported only when a check first uses it (a fresh
    judge whose oracles are in the cache never does: a second of start-up)."""
    from grader.eager_torch import lazy

    return lazy()


def load_sibling(check_file: str, name: str):
    """A helper module kept beside the checks (``checks/<name>.py``), loaded by path: the checks
    folder is not a package and pytest's importlib mode puts nothing on ``sys.path``.
    Use as ``common = load_sibling(__file__, "common")``."""
    path = Path(check_file).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_grader_checks_{path.parent.parent.name}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_mistakes(check_file: str):
    """The assignment's catalogue of known mistakes (``checks/mistakes.py``: ``CATALOGUE`` maps a
    function to ``{description: wrong version}``), or an empty one where the file is absent. A
    student's copy of the checks (``student_template/assignments/``) does not carry it: its wrong
    versions are the right formulas with one thing changed, as good as the reference."""
    if Path(check_file).with_name("mistakes.py").is_file():
        return load_sibling(check_file, "mistakes")
    return SimpleNamespace(CATALOGUE=defaultdict(dict))


def relative_error(a, b) -> np.ndarray:
    """|a - b| / max(|a| + |b|, tiny), elementwise."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), TINY)


def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences in float64: (f(x + h e_i) - f(x - h e_i)) / 2h for every element i."""
    x = np.array(x, dtype=np.float64)
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def as_array(value, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The student's value as a float64 array, or ``BadResult`` saying what it was instead."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
        raise BadResult(f"{what} should be a NumPy array of numbers, got {_kind(value)}")
    array = np.asarray(value, dtype=np.float64)
    if shape is not None and array.shape != tuple(shape):
        raise BadResult(f"{what} has shape {array.shape}, expected {tuple(shape)}")
    return array


def as_float(value, what: str) -> float:
    """The student's value as a Python float (a 0-d or size-1 array is accepted)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadResult(f"{what} should be a number, got {_kind(value)}")
    return float(value)


def as_step(value, what: str, shape: tuple[int, ...]) -> tuple[np.ndarray, dict]:
    """An optimizer step's result: ``(theta_new, state_new)`` with theta of the given shape."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise BadResult(f"{what} should return a pair (theta_new, state_new), got {_kind(value)}")
    theta, state = value
    if not isinstance(state, dict):
        raise BadResult(f"{what} should return its state as a dict, got {_kind(state)}")
    return as_array(theta, f"theta_new from {what}", shape), state


def _kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"a {type(value).__name__}"


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


def _off(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Elementwise: out of tolerance (NaN is never close; equal infinities are)."""
    with np.errstate(invalid="ignore", over="ignore"):
        bound = tol.atol + tol.rtol * np.maximum(np.abs(actual), np.abs(expected))
        return ~(np.abs(actual - expected) <= bound) & ~(actual == expected)


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


def expect_raises(exception: type[BaseException], call: Callable[[], object], what: str) -> str:
    """The student's function must raise ``exception`` (or a subclass); returns its message.

    ``call`` is a zero-argument function that makes the student call, e.g.
    ``lambda: student.fan_in((3,))``. Another exception, or none, fails the check with a message;
    ``NotImplementedError`` (an unfinished stub) propagates, so the check's status is ``error``.
    """
    try:
        value = call()
    except StudentError as exc:
        if exception.__name__ in exc.types:
            return str(exc)
        if "NotImplementedError" in exc.types or not exc.types:  # the stub, or a file that did not load
            raise
        raise AssertionError(f"{what} should raise {exception.__name__}, but it raised {exc.types[0]}") from None
    raise AssertionError(f"{what} should raise {exception.__name__}, but it returned {_kind(value)}")


def trajectory_check(step: Callable[..., tuple], reference_step: Callable[..., tuple],
                     grad: Callable[[np.ndarray], np.ndarray], theta0: np.ndarray, steps: int,
                     tol: Tolerance, what: str, *, reveal: bool = False, mistakes: Mapping[str, Callable] | None = None,
                     **hyper) -> list[np.ndarray]:
    """Compare a student's optimizer with the reference over ``steps`` steps, step by step.

    The reference walks its own trajectory θ₀, θ₁, …; at each step the student gets the reference's
    θₜ, the gradient there (computed here, in the judge) and its own state from its previous call,
    and its θₜ₊₁ must match the reference's. Errors cannot compound, so a long run on a chaotic
    surface stays comparable, and a mistake is reported at the first step where it shows.
    Returns the reference trajectory.

    ``mistakes``: known wrong versions of the step, ``{"Adam with the bias correction counting steps
    from 0": step_function, ...}``. When the student's steps are off, each is run on the same inputs,
    and the first that matches every step up to the first one off is named in the message.
    """
    return start_trajectory(step, reference_step, grad, theta0, steps, tol, what, reveal=reveal, mistakes=mistakes,
                            **hyper)()


def start_trajectory(step: Callable[..., tuple], reference_step: Callable[..., tuple],
                     grad: Callable[[np.ndarray], np.ndarray], theta0: np.ndarray, steps: int,
                     tol: Tolerance, what: str, *, reveal: bool = False, mistakes: Mapping[str, Callable] | None = None,
                     **hyper) -> Callable[[], list[np.ndarray]]:
    """``trajectory_check`` in two halves: the reference's path is computed and the student's steps
    are sent to the worker now; the function returned reads them and compares. Start several, then
    finish them in turn, and the judge computes the next path while the worker runs the last one."""
    theta = np.array(theta0, dtype=np.float64)
    if getattr(reference_step, "oracle", False):  # torch's path (oracle_step): the same for every student
        path, grads = _remembered_path(reference_step, grad, theta, steps, hyper)
    else:
        path, grads = _reference_path(reference_step, grad, theta, steps, hyper)
    values = _steps(step, path[:-1], grads, hyper)

    def finish() -> list[np.ndarray]:
        got, error = [], None
        with closing(values):  # read to the end, then compared at once
            try:
                for t, value in enumerate(values, 1):
                    got.append(as_step(value, f"{what}, step {t}", path[0].shape)[0])
            except (BadResult, StudentFault) as exc:  # reported after the steps before it, as if called one by one
                error = exc
        try:
            assert_each_close(got, path[1:], tol, lambda t: f"{what}: step {t} of {steps}", reveal=reveal)
        except AssertionError as exc:
            hint = forced_hint(mistakes or {}, got, path, grads, tol, **hyper)
            if hint is None:
                raise
            raise AssertionError(f"{exc}; {hint}") from None
        if error is not None:
            raise error
        return path

    return finish


def _reference_path(reference_step, grad, theta: np.ndarray, steps: int, hyper: dict) -> tuple[list, list]:
    """The reference's own walk θ₀ … θ_steps, and the gradient the student gets at each point."""
    path, grads, state_ref = [theta], [], {}
    for _ in range(steps):
        g = grad(theta)
        expected, state_ref = reference_step(theta, g, state_ref, **hyper)
        grads.append(g)
        theta = np.asarray(expected, dtype=np.float64)
        path.append(theta)
    return path, grads


def oracle_step(step: Callable[..., tuple]) -> Callable[..., tuple]:
    """Mark a reference step backed by an oracle (a ``torch.optim`` optimizer) whose walk depends only on
    what it is given: ``trajectory_check`` then remembers its path and gradients like ``oracle`` does
    (by a digest of the step's code and closure, the gradient's, θ₀, the steps and the hyper-parameters),
    so a class's judges and a student's later runs do not import torch to walk it again."""
    step.oracle = True
    return step


def _remembered_path(reference_step, grad, theta: np.ndarray, steps: int, hyper: dict) -> tuple[list, list]:
    try:
        digest = hashlib.sha256(f"oracle path 1\0torch {_torch_version()}\0".encode())
        _digest_value(digest, (reference_step, grad, theta, steps, hyper), set())
        key = digest.hexdigest()
    except _NotDigestible:
        return _reference_path(reference_step, grad, theta, steps, hyper)
    path, grads = _remembered(key, lambda: list(_reference_path(reference_step, grad, theta, steps, hyper)),
                              lambda v: isinstance(v, list) and len(v) == 2 and len(v[0]) == steps + 1
                              and len(v[1]) == steps)
    return [np.array(x, dtype=np.float64) for x in path], [np.array(g, dtype=np.float64) for g in grads]


def _digest_value(digest, value, seen: set) -> None:
    """Any value a pure computation may depend on: plain data, arrays, modules, functions (their code,
    defaults, closures and the globals they name), bound methods of plain objects; else ``_NotDigestible``."""
    kind = type(value)
    if kind in (int, float, str, bool, bytes, type(None)):
        digest.update(b"\0" + _plain_repr(value))
    elif kind in (tuple, list):
        digest.update(f"\0{kind.__name__} {len(value)}".encode())
        for v in value:
            _digest_value(digest, v, seen)
    elif kind is dict:
        digest.update(f"\0dict {len(value)}".encode())
        for k in sorted(value, key=repr):
            _digest_value(digest, k, seen)
            _digest_value(digest, value[k], seen)
    elif kind is np.ndarray:
        digest.update(f"\0array {value.dtype.str} {value.shape}".encode() + np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic) and value.dtype.kind in "biufc":  # a NumPy number: np.float64(0.1), say
        digest.update(f"\0scalar {value.dtype.str}".encode() + value.tobytes())
    elif isinstance(value, ModuleType):
        digest.update(f"\0module {value.__name__}".encode())
    elif kind is FunctionType:
        digest.update(f"\0function {value.__module__}.{value.__qualname__}".encode())
        if id(value) in seen:  # a helper named again, or a function that reaches itself
            return
        seen.add(id(value))
        _digest_code(digest, value.__code__, value.__globals__, seen)
        for v in value.__defaults__ or ():
            _digest_value(digest, v, seen)
        for cell in value.__closure__ or ():
            _digest_value(digest, cell.cell_contents, seen)
    elif kind is MethodType and hasattr(value.__self__, "__dict__"):
        digest.update(f"\0method of {type(value.__self__).__qualname__}".encode())
        _digest_value(digest, value.__func__, seen)
        _digest_value(digest, dict(vars(value.__self__)), seen)
    else:
        raise _NotDigestible


def _all_close(actuals: Sequence[np.ndarray], expecteds: Sequence[np.ndarray], tol: Tolerance) -> bool:
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


def matching_mistake(actual, candidates: Mapping[str, object], tol: Tolerance) -> str | None:
    """For a check that computes known wrong answers itself: the description of the first candidate
    value (``{"the sum over the batch instead of the mean": wrong_value, ...}``) that ``actual``
    matches within ``tol``, as "your values match <description>", or ``None``. Append it to the
    check's message: it names a kind of mistake, never a number."""
    try:
        actual = as_array(actual, "value")
    except BadResult:
        return None
    for description, value in candidates.items():
        expected = np.asarray(value, dtype=np.float64)
        if expected.shape == actual.shape and _all_close([actual], [expected], tol):
            return f"your values match {description}"
    return None


@contextmanager
def hint_on_failure(hint: Callable[..., str | None], /, *args, **kwargs) -> Iterator[None]:
    """A failed comparison inside the block gets ``hint(*args, **kwargs)`` ("your values match ...")
    appended to its message; ``hint`` runs only then, so a passing check never computes the known mistakes."""
    try:
        yield
    except AssertionError as exc:
        found = hint(*args, **kwargs)
        if found is None:
            raise
        raise AssertionError(f"{exc}; {found}") from None


def value_hint(mistakes: Mapping[str, Callable], got, args: tuple, tol: Tolerance) -> str | None:
    """The first known mistake (``{description: wrong function}``) whose value on the student's arguments
    ``args`` is the student's ``got``, as "your values match <its description>"."""
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = wrong(*args)
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(got, candidates, tol)


def forced_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], thetas: Sequence[np.ndarray],
                grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake (a wrong optimizer step) that, given θ from ``thetas`` and the gradient from
    ``grads`` at each call (teacher-forced, as the student's calls were) and its own state, returns every θ
    in ``got``."""
    def forced(wrong):
        state, out = {}, []
        for theta, g in zip(thetas[:len(got)], grads[:len(got)], strict=True):
            value, state = wrong(theta, g, state, *args, **hyper)
            out.append(value)
        return out

    return _first_match(mistakes, got, forced, tol)


def own_path_hint(mistakes: Mapping[str, Callable], got: Sequence[np.ndarray], theta0: np.ndarray,
                  grads: Sequence[np.ndarray], tol: Tolerance, *args, **hyper) -> str | None:
    """The first known mistake that, walking from ``theta0`` on its own θ and state and fed ``grads`` (as
    the student's steps were), returns every θ in ``got``."""
    def walk(wrong):
        theta, state, out = theta0, {}, []
        for g in grads[:len(got)]:
            theta, state = wrong(theta, g, state, *args, **hyper)
            out.append(theta)
        return out

    return _first_match(mistakes, got, walk, tol)


def _first_match(mistakes: Mapping[str, Callable], got: Sequence, steps_of: Callable, tol: Tolerance) -> str | None:
    if not len(got):
        return None
    candidates = {}
    for description, wrong in mistakes.items():
        try:
            candidates[description] = np.stack([np.asarray(x, dtype=np.float64) for x in steps_of(wrong)])
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(np.stack([np.asarray(x, dtype=np.float64) for x in got]), candidates, tol)


def _steps(step, thetas, grads, hyper) -> Iterator:
    """What ``step`` returns at each point, its state carried from its own previous call: streamed in
    one request for a student's function (``student.adam``; the request goes now), called in turn for a
    plain one. Closing the iterator reads a stream to the end: a crash after a wrong step is this check's."""
    if hasattr(step, "stream"):
        return step.stream([((theta, g, {}), hyper) for theta, g in zip(thetas, grads, strict=True)], carry=(2, 1),
                           theta_only=True)
    return _called(step, thetas, grads, hyper)


def _called(step, thetas, grads, hyper) -> Iterator:
    state: dict = {}
    for theta, g in zip(thetas, grads, strict=True):
        value = step(theta, g, state, **hyper)
        yield value
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return
        state = value[1]


def torch_trajectory(make_optimizer: Callable[[list], object], theta0: np.ndarray,
                     grads: Sequence[np.ndarray]) -> list[np.ndarray]:
    """θ after each step when the given gradients are fed to a ``torch.optim`` optimizer, in float64:
    ``torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=0.1), theta0, grads)``. The oracle of
    visible optimizer checks (judge side only: a worker never gets to call torch.optim).

    Every visible check of a class asks for the same trajectories, and the first ``torch.optim``
    optimizer of a process imports ``torch._dynamo``, a second of start-up in every process (a
    student's every ``grader check``, every judge). So a trajectory is remembered by a digest of
    what it depends on, in memory and in a file under ``oracle_cache_dir()``."""
    key = _oracle_digest(make_optimizer, theta0, grads)
    if key is None:  # what it depends on cannot be told: computed each time
        return _torch_trajectory(make_optimizer, theta0, grads)
    if key in _ORACLE:
        return [x.copy() for x in _ORACLE[key]]
    stored = oracle_cache_dir() / f"{key}.npy"
    out = _load_oracle(stored, len(grads), np.shape(theta0))
    if out is None:
        out = _torch_trajectory(make_optimizer, theta0, grads)
        _store_oracle(stored, out)
    _remember(_ORACLE, key, [x.copy() for x in out], 256)
    return out


_ORACLE: dict = {}  # the oracle's trajectories by their digest


def oracle(fn: Callable) -> Callable:
    """A pure function of plain inputs that computes what a visible check compares with (PyTorch's
    answer on the visible inputs, say), remembered by a digest of what it depends on: the installed
    torch's version, its code and that of the module-level functions it calls, the values of the
    globals it names, and its arguments (numbers, strings, tuples of them, NumPy arrays). Every
    student of a class asks for the same values: each judge computes them once, and the next process
    reads them from ``oracle_cache_dir()`` (a student's second ``grader check``, a platform's image
    whose set-up graded the reference). Its value must be plain data: a number, an array, a tuple or
    list of them. A call that cannot be digested (an argument of another kind) is computed each time."""

    def remembered(*args):
        key = _call_digest(fn, args)
        return fn(*args) if key is None else _fresh(_remembered(key, lambda: fn(*args)))

    remembered.__wrapped__ = fn
    remembered.__name__, remembered.__doc__ = fn.__name__, fn.__doc__
    return remembered


def _remembered(key: str, compute: Callable[[], object], valid: Callable[[object], bool] = lambda v: True):
    """The value stored under ``key``: in this process's memory, else in the oracle cache's file (when
    ``valid`` takes it), else ``compute()``, stored in both."""
    if key not in _ORACLE:
        stored = oracle_cache_dir() / f"{key}.value"
        value = _load_value(stored)
        if value is None or not valid(value):
            value = compute()
            _store_value(stored, value)
        _remember(_ORACLE, key, value, 256)
    return _ORACLE[key]


def _fresh(value):
    """A copy a caller may change without changing what is remembered."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(_fresh(v) for v in value)
    return value


@functools.cache
def _torch_version() -> str:
    """The installed torch's version, read from its metadata once (a few ms each time): a judge whose
    oracles are remembered need not import torch to know they are still right."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "none"


def _call_digest(fn, args: tuple) -> str | None:
    digest = hashlib.sha256(f"oracle call 1\0torch {_torch_version()}\0{fn.__module__}.{fn.__qualname__}\0".encode())
    try:
        _digest_value(digest, fn, set())
        for value in args:  # numbers, strings, tuples of them, arrays
            _digest_value(digest, value if isinstance(value, np.ndarray) else _plain(value), set())
    except _NotDigestible:
        return None
    return digest.hexdigest()


def _load_value(path: Path):
    from grader.sandbox import codec

    try:
        return codec.loads(path.read_bytes(), 1 << 28)  # plain data: a file here cannot run code
    except (OSError, codec.CodecError, ValueError, EOFError):
        return None


def _store_value(path: Path, value) -> None:
    from grader.sandbox import codec

    try:
        data = codec.encode(value, 1 << 28)
    except (codec.CodecError, TypeError, ValueError):
        return
    _write_atomically(path, data)


def _remember(cache: dict, key, value, limit: int) -> None:
    """``cache[key] = value``, forgetting the oldest entry when ``cache`` holds ``limit``."""
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


def oracle_cache_dir() -> Path:
    """Where torch's trajectories are kept between runs (``grader.cache``): ``oracle/``."""
    from grader.cache import cache_dir

    return cache_dir("oracle")


def _oracle_digest(make_optimizer, theta0, grads) -> str | None:
    """A digest of everything a trajectory depends on: torch's version, the factory's code (its
    bytecode, constants and names), the values of the globals it names, its defaults and closure,
    and the inputs' bytes. ``None`` when the factory names a global or captures a value that is
    neither a module nor a number, string or tuple of them (its identity cannot be digested)."""
    digest = hashlib.sha256(f"oracle 3\0torch {_torch_version()}\0".encode())
    try:
        _digest_value(digest, make_optimizer, set())
    except _NotDigestible:
        return None
    theta0 = np.asarray(theta0, dtype=np.float64)
    digest.update(repr(theta0.shape).encode() + theta0.tobytes())
    for g in grads:
        digest.update(b"\0" + np.asarray(g, dtype=np.float64).tobytes())
    return digest.hexdigest()


class _NotDigestible(Exception):
    pass


def _plain(value):
    """``value`` if ``_plain_repr`` takes it (a number, string or tuple of them), else ``_NotDigestible``."""
    _plain_repr(value)
    return value


def _plain_repr(value) -> bytes:
    """The typed repr of a number, string or tuple of them; anything else cannot be digested."""
    if type(value) is tuple:
        return b"(" + b",".join(_plain_repr(x) for x in value) + b")"
    if type(value) in (int, float, str, bool, bytes, type(None)):
        return f"{type(value).__name__}:{value!r}".encode()
    raise _NotDigestible


def _digest_code(digest, code, namespace: dict, seen: set) -> None:
    digest.update(code.co_code + repr(code.co_names).encode() + repr(code.co_varnames).encode())
    for const in code.co_consts:
        digest.update(b"\0")
        if hasattr(const, "co_code"):  # a nested function's code
            _digest_code(digest, const, namespace, seen)
        else:
            digest.update(_plain_repr(const))
    for name in code.co_names:
        if name not in namespace:  # an attribute's name, or a builtin: the name is what counts
            continue
        value = namespace[name]
        digest.update(f"\0{name}=".encode())
        if isinstance(value, (ModuleType, FunctionType)):  # a helper, of this module or a sibling's: its code counts
            _digest_value(digest, value, seen)
        else:  # data a global names must be plain: a list or an object could change between two calls
            digest.update(_plain_repr(value))


def _load_oracle(path: Path, steps: int, shape: tuple) -> list[np.ndarray] | None:
    try:
        stored = np.load(path, allow_pickle=False)  # plain numbers: a file here cannot run code
    except (OSError, ValueError, EOFError):
        return None
    if stored.dtype != np.float64 or stored.shape != (steps, *shape):
        return None
    return list(stored)


def _store_oracle(path: Path, trajectory: list[np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array(trajectory, dtype=np.float64), allow_pickle=False)
    _write_atomically(path, buffer.getvalue())


def _write_atomically(path: Path, data: bytes) -> None:
    """Written through a temporary file and a rename, so that a reader never sees half of one; a
    cache that cannot be written is no cache, not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _torch_trajectory(make_optimizer, theta0, grads) -> list[np.ndarray]:
    import torch

    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([p])
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        out.append(p.detach().numpy().copy())
    return out


def start_optimizer(step: Callable[..., tuple], grad: Callable[[np.ndarray], np.ndarray], theta0: Sequence[float],
                    steps: int, what: str, *, path: list | None = None, every: int = 10,
                    **hyper) -> Callable[[], np.ndarray]:
    """``run_optimizer`` in two halves: a student's walk is sent to the worker now, and the function
    returned waits for its final θ. Compute the reference's run in between, and the two run at once::

        finish = start_optimizer(student.adam, rosenbrock_grad, start, 1000, "adam", lr=0.01)
        f_ref = rosenbrock(run_optimizer(reference.adam, rosenbrock_grad, start, 1000, "reference", lr=0.01))
        f_adam = rosenbrock(finish())

    ``path``: a list to fill with θ₀, θ every ``every`` steps, and the last θ (for a picture, e.g.
    ``grader.figures``; never for a grade).
    """
    theta = np.array(theta0, dtype=np.float64)
    if path is not None:
        path.append(theta)
    surface = next((name for name, g in GRADIENTS.items() if g is grad), None)
    if hasattr(step, "walk") and surface is not None:
        walk = step.walk(surface, theta, grad(theta), steps, hyper, trace=every if path is not None else 0)
        return lambda: _finish_walk(walk, theta, steps, what, path)
    key = _run_key(step, grad, theta, steps, hyper, path is not None, every)
    if key is None:
        return lambda: _run_in_judge(step, grad, theta, steps, what, hyper, path, every)
    return lambda: _remembered_run(key, step, grad, theta, steps, what, hyper, path, every)


def run_optimizer(step: Callable[..., tuple], grad: Callable[[np.ndarray], np.ndarray], theta0: Sequence[float],
                  steps: int, what: str, *, path: list | None = None, every: int = 10, **hyper) -> np.ndarray:
    """Run an optimizer freely for ``steps`` steps; the final θ. A student's function on a surface of
    ``grader.sandbox.objectives`` runs in one request (gradients computed in the worker, the final loss
    in the judge by whoever calls this); anything else runs a call per step, gradients in the judge.
    ``path``: see ``start_optimizer``."""
    return start_optimizer(step, grad, theta0, steps, what, path=path, every=every, **hyper)()


def _finish_walk(walk: Iterator, theta: np.ndarray, steps: int, what: str, path: list | None) -> np.ndarray:
    last = 0
    with closing(walk):
        for t, value, trace, _ in walk:
            if path is not None and trace is not None and trace.ndim == 2 and trace.shape[1:] == theta.shape:
                path.extend(trace)  # drawn, never graded: only its shape is checked
            theta, _ = as_step(value, f"{what}, step {t}", theta.shape)
            last = t
            if not np.all(np.isfinite(theta)):
                break
    if path is not None:
        path.append(theta)
    if last != steps and np.all(np.isfinite(theta)):  # the worker ended the walk on a step that should have gone on
        raise BadResult(f"{what} stopped after step {last} of {steps}")
    return theta


_RUNS: dict = {}  # the judge's own runs by their inputs: the lecture's demonstrations are the same for everyone


def _run_key(step, grad, theta: np.ndarray, steps: int, hyper: dict, drawn: bool, every: int) -> tuple | None:
    """What determines a run in the judge, when it may be remembered: a plain function without a
    closure (the reference's optimizers; a student's function is never one here) on a surface of
    ``grader.sandbox.objectives`` with plain hyper-parameters. ``None`` otherwise."""
    plain = (int, float, str, bool, type(None))
    if (type(step) is not FunctionType or step.__closure__ or not any(grad is g for g in GRADIENTS.values())
            or not all(type(v) in plain for v in hyper.values())):
        return None
    return (step.__code__, step.__defaults__, grad, theta.shape, theta.tobytes(), steps,
            tuple(sorted(hyper.items())), drawn, every)


def _remembered_run(key: tuple, step, grad, theta: np.ndarray, steps: int, what: str, hyper: dict,
                    path: list | None, every: int) -> np.ndarray:
    """``_run_in_judge`` once per judge for the same inputs: a class's every submission asks for the
    reference's runs of the lecture's demonstrations, a fifth of a judge's work on optimizers."""
    if key not in _RUNS:
        walked: list | None = [] if path is not None else None
        _remember(_RUNS, key, (_run_in_judge(step, grad, theta, steps, what, hyper, walked, every), walked), 64)
    final, walked = _RUNS[key]
    if path is not None:
        path.extend(x.copy() for x in walked)  # θ₀ is there already: start_optimizer put it
    return final.copy()


def _run_in_judge(step, grad, theta: np.ndarray, steps: int, what: str, hyper: dict, path: list | None,
                  every: int) -> np.ndarray:
    state: dict = {}
    for t in range(1, steps + 1):
        theta, state = as_step(step(theta, grad(theta), state, **hyper), f"{what}, step {t}", theta.shape)
        if path is not None and t % every == 0 and t < steps:
            path.append(theta)
        if not np.all(np.isfinite(theta)):
            break
    if path is not None:
        path.append(theta)
    return theta


def start_steps(step: Callable, grad, theta0, steps: int, what: str, *, state: bool = False, args: Sequence = (),
                kwargs: Mapping | None = None) -> Callable[[], np.ndarray]:
    """θ after ``steps`` steps ``θ ← step(θ, grad(θ), *args, **kwargs)`` from ``θ₀`` (with ``state``: an
    optimizer's ``θ, s ← step(θ, grad(θ), s, *args, **kwargs)``, s starting ``{}``), stopping early at
    a θ that is not finite; in two halves like ``start_optimizer``: the function returned waits for θ.

    A student's function on a surface of ``grader.sandbox.objectives`` or a ``grader.surfaces.LeastSquares``
    runs in one request, the gradients computed in the worker; anything else (the reference) makes a
    call per step here. Either way a step whose value is not a θ of θ₀'s shape (with ``state``, not a
    pair ``(θ, dict)``) raises ``BadResult`` naming ``what``, as ``as_array`` and ``as_step`` do.

    Finish the student's runs in the order they were started, before the check sends that student
    anything else: a request skips what is left unread of the ones before it."""
    theta = np.array(theta0, dtype=np.float64)
    kwargs = dict(kwargs or {})
    how = _walk_of(grad, "step" if state else "theta")
    if hasattr(step, "walk_from") and how is not None:
        first = (theta, grad(theta), {}) if state else (theta, grad(theta))
        walk = step.walk_from(how, (*first, *args), steps, kwargs)
        return lambda: _finish_steps(walk, theta, steps, what, state)

    def run() -> np.ndarray:
        now, memory = theta, {}
        for _ in range(steps):
            if state:
                now, memory = as_step(step(now, grad(now), memory, *args, **kwargs), what, theta.shape)
            else:
                now = as_array(step(now, grad(now), *args, **kwargs), what, theta.shape)
            if not np.all(np.isfinite(now)):
                break
        return now

    return run


def _walk_of(grad, kind: str) -> dict | None:
    """How a worker computes ``grad`` (``objectives.walker``), or ``None`` if it cannot."""
    surface = next((name for name, g in GRADIENTS.items() if g is grad), None)
    if surface is not None:
        return {"kind": kind, "surface": surface}
    walk = getattr(getattr(grad, "__self__", None), "walk", None)  # a bound method of an objective with data
    return walk(kind) if callable(walk) and getattr(grad, "__name__", "") == "grad" else None


def _finish_steps(walk: Iterator, theta: np.ndarray, steps: int, what: str, state: bool) -> np.ndarray:
    last, now = 0, theta
    with closing(walk):
        for t, value, _, _ in walk:
            now = as_step(value, what, theta.shape)[0] if state else as_array(value, what, theta.shape)
            last = t
            if not np.all(np.isfinite(now)):
                break
    if last != steps and np.all(np.isfinite(now)):  # the worker ended the walk on a step that should have gone on
        raise BadResult(f"{what} stopped after step {last} of {steps}")
    return now


def start_output_descent(gradient: Callable, a, theta0, lr: float, steps: int, what: str, *,
                         args: Sequence = ()) -> Callable[[], np.ndarray]:
    """θ after ``steps`` steps of gradient descent on the linear model ``A θ`` from ``θ₀``, with the loss's
    gradient at the outputs from ``gradient``: ``g = gradient(A θ, *args)``, then ``θ ← θ - lr Aᵀ g``
    (computed by the grader), stopping early at a θ that is not finite. In two halves like
    ``start_optimizer``. A student's function runs in one request, the updates computed in the worker;
    a plain function makes a call per step here. A ``g`` that is not an array of the outputs' shape
    raises ``BadResult`` with ``what.format(t=step)``. Finish it as ``start_steps`` says."""
    a, theta = np.asarray(a, dtype=np.float64), np.array(theta0, dtype=np.float64)
    shape = (a.shape[0], *theta.shape[1:])
    if hasattr(gradient, "walk_from"):
        walk = gradient.walk_from({"kind": "outputs", "theta": theta, "a": a, "lr": float(lr)},
                                  (a @ theta, *args), steps)
        return lambda: _finish_output_descent(walk, theta, shape, steps, what)

    def run() -> np.ndarray:
        w = theta
        for t in range(1, steps + 1):
            g = as_array(gradient(a @ w, *args), what.format(t=t), shape)
            w = w - lr * a.T @ g
            if not np.all(np.isfinite(w)):
                break
        return w

    return run


def _finish_output_descent(walk: Iterator, theta: np.ndarray, shape: tuple, steps: int, what: str) -> np.ndarray:
    last, now = 0, theta
    with closing(walk):
        for t, value, _, after in walk:
            as_array(value, what.format(t=t), shape)
            last = t
            if not (isinstance(after, np.ndarray) and after.shape == theta.shape and after.dtype == np.float64):
                raise BadResult(f"{what.format(t=t)}: the worker sent no weights after this step")
            now = after
            if not np.all(np.isfinite(now)):
                break
    if last != steps and np.all(np.isfinite(now)):
        raise BadResult(f"{what.format(t=last)}: the descent stopped after step {last} of {steps}")
    return now


def one_by_one(results: Iterable) -> Iterator:
    """The results of a batch of student calls (``student.fn.stream(calls)``, ``student.stream(...)``),
    to be checked one by one as if each call had been made alone, in one round trip.

    The whole batch is read before the first result is handed out. A fault of call i (it raised,
    timed out, crashed, used a forbidden routine) is raised only when the check asks for result i,
    after it has checked results 0 .. i - 1: the first wrong result is still the one reported, as
    when the check called and checked one at a time. Reading to the end also means a later call
    that hangs or kills the worker costs this check's time, not the next check's result."""
    done, fault = [], None
    try:
        for result in results:
            done.append(result)
    except StudentFault as exc:
        fault = exc
    yield from done
    if fault is not None:
        raise fault


__all__ = ["load_sibling", "load_mistakes", "relative_error", "numerical_grad", "as_array", "as_float", "as_step", "assert_close",
           "assert_each_close",
           "expect_raises", "one_by_one", "trajectory_check", "start_trajectory", "matching_mistake", "hint_on_failure", "value_hint", "forced_hint", "own_path_hint", "torch_trajectory", "run_optimizer", "start_optimizer",
           "start_steps", "start_output_descent", "oracle", "oracle_step", "normality", "lazy_torch",
           "BadResult"]

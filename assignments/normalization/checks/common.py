"""Shared by the visible and the hidden checks of normalization (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np

from grader.testing import BadResult, as_array, hint_on_failure, one_by_one, value_hint

BN_PARTS = ("out", "state")  # what batchnorm_forward returns
GRAD_PARTS = ("dx", "dgamma", "dbeta")  # what both backward functions return


def values(function, calls: Iterable[tuple]) -> Iterator:
    """``function(*args, **kwargs)`` for each ``(args, kwargs)`` of ``calls`` (``function`` is a student's,
    such as ``student.layernorm_forward``), in one request, handed out one by one as ``one_by_one`` does."""
    return one_by_one(function.stream(list(calls)))


def part(mistakes: Mapping[str, Callable], pick: Callable) -> dict[str, Callable]:
    """The catalogue's wrong versions of one function, each followed by ``pick`` (one output of the tuple
    they return, say): for hints on one output at a time."""
    def projected(wrong):
        return lambda *args, **kwargs: pick(wrong(*args, **kwargs))

    return {description: projected(wrong) for description, wrong in mistakes.items()}


def hinted(mistakes: Mapping[str, Callable], got, args: tuple, tol):
    """``hint_on_failure`` with ``value_hint`` on ``mistakes`` (already projected with ``part``)."""
    return hint_on_failure(value_hint, mistakes, got, args, tol)


def as_bn_result(value, what: str, shape: tuple[int, int], *, allow_empty: bool = False) -> tuple[np.ndarray, dict]:
    """batchnorm_forward's ``(out, state_new)``: out of x's shape, state a dict holding ``running_mean`` and
    ``running_var`` of shape (D,) (or ``{}`` when ``allow_empty``: evaluation from the default state)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise BadResult(f"{what} should return a pair (out, state_new), got {describe(value)}")
    out, state = value
    out = as_array(out, f"out from {what}", shape)
    if not isinstance(state, dict):
        raise BadResult(f"{what} should return its state as a dict, got {describe(state)}")
    if allow_empty and not state:
        return out, {}
    missing = [key for key in ("running_mean", "running_var") if key not in state]
    if missing:
        raise BadResult(f"the state returned by {what} has no {' and no '.join(repr(k) for k in missing)}: it "
                        "holds the running statistics under the keys 'running_mean' and 'running_var'")
    return out, {key: as_array(state[key], f"state[{key!r}] from {what}", (shape[1],))
                 for key in ("running_mean", "running_var")}


def as_grads(value, what: str, shapes: tuple[tuple, tuple, tuple], mistakes: Mapping[str, Callable] | None = None,
             args: tuple = (), tol=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A backward function's ``(dx, dgamma, dbeta)`` of the given shapes. A part of the wrong shape that a
    known mistake explains (dgamma left unsummed, say) fails with that hint."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise BadResult(f"{what} should return a tuple (dx, dgamma, dbeta), got {describe(value)}")
    out = []
    for i, (name, item, shape) in enumerate(zip(GRAD_PARTS, value, shapes, strict=True)):
        try:
            out.append(as_array(item, f"{name} from {what}", shape))
        except BadResult as exc:
            found = value_hint(part(mistakes, lambda r, i=i: r[i]), item, args, tol) if mistakes else None
            if found is None:
                raise
            raise AssertionError(f"{exc}; {found}") from None
    return tuple(out)


def describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def features(rng, n: int, d: int, small: int = 2) -> np.ndarray:
    """A batch (n, d) whose features have scales from 0.003 to 10 and means up to 2; the first ``small``
    features (placed at random) have scale 0.01 or 0.003, so their variance is near eps."""
    scales = 10.0 ** rng.uniform(-0.5, 1.0, size=d)
    chosen = rng.permutation(d)[:small]
    scales[chosen] = rng.choice([0.01, 0.003], size=len(chosen))
    return rng.normal(size=(n, d)) * scales + rng.uniform(-2, 2, size=d)


def examples(rng, shape: tuple[int, ...], small: int = 2) -> np.ndarray:
    """An array (..., D) whose examples (rows along the last axis) have scales from 0.003 to 10 and
    offsets up to 2; ``small`` of them have scale 0.01 or 0.003."""
    lead = shape[:-1]
    count = int(np.prod(lead))
    scales = 10.0 ** rng.uniform(-0.5, 1.0, size=count)
    chosen = rng.permutation(count)[:small]
    scales[chosen] = rng.choice([0.01, 0.003], size=len(chosen))
    offsets = rng.uniform(-2, 2, size=count)
    return rng.normal(size=shape) * scales.reshape(*lead, 1) + offsets.reshape(*lead, 1)

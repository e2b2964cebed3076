"""Optimizer trajectories: a student's steps against the reference's, teacher-forced (``trajectory_check``),
and free runs on the lecture's surfaces (``run_optimizer``), walked in the worker in one request."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing

import numpy as np

import grader.testing._memo as _memo
from grader.errors import BadResult, StudentFault
from grader.sandbox.objectives import GRADIENTS
from grader.spec import Tolerance
from grader.testing.compare import assert_each_close
from grader.testing.hints import forced_candidates, forced_hint, matching_mistake
from grader.testing.values import as_step


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
    key = None
    if getattr(reference_step, "oracle", False):  # torch's path (oracle_step): the same for every student
        path, grads, key = _remembered_path(reference_step, grad, theta, steps, hyper)
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
            hint = (forced_hint(mistakes or {}, got, path, grads, tol, **hyper) if key is None or not got
                    else matching_mistake(np.stack(got), _kept_candidates(key, mistakes or {}, len(got), path, grads,
                                                                          hyper), tol))
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


def _remembered_path(reference_step, grad, theta: np.ndarray, steps: int, hyper: dict) -> tuple[list, list]:
    try:
        digest = hashlib.sha256(f"oracle path 1\0torch {_memo.torch_version()}\0".encode())
        _memo.digest_value(digest, (reference_step, grad, theta, steps, hyper), set())
        key = digest.hexdigest()
    except _memo.NotDigestible:
        return (*_reference_path(reference_step, grad, theta, steps, hyper), None)
    path, grads = _memo.remembered(key, lambda: list(_reference_path(reference_step, grad, theta, steps, hyper)),
                              lambda v: isinstance(v, list) and len(v) == 2 and len(v[0]) == steps + 1
                              and len(v[1]) == steps)
    return [np.array(x, dtype=np.float64) for x in path], [np.array(g, dtype=np.float64) for g in grads], key


def _kept_candidates(key: str, mistakes: Mapping[str, Callable], steps: int, path, grads, hyper) -> dict:
    """``forced_candidates`` on an oracle's path, the same for every student: kept by the judge, for the very
    function objects it was computed with (held here, so that no other function can take their ids)."""
    functions = tuple(mistakes.values())
    entry = _memo.CANDIDATES.get((key, tuple(mistakes), steps))
    if entry is not None and len(entry[0]) == len(functions) and all(a is b for a, b in zip(entry[0], functions, strict=True)):
        return entry[1]
    candidates = forced_candidates(mistakes, steps, path, grads, **hyper)
    _memo.remember(_memo.CANDIDATES, (key, tuple(mistakes), steps), (functions, candidates), 64)
    return candidates


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
    key = _memo.run_key(step, grad, theta, steps, hyper, path is not None, every)
    if key is None:
        return lambda: _memo.run_in_judge(step, grad, theta, steps, what, hyper, path, every)
    return lambda: _memo.remembered_run(key, step, grad, theta, steps, what, hyper, path, every)


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

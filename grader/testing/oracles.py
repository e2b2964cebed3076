"""What visible checks compare with: PyTorch's answers on public inputs, the same for every student, so
remembered (``oracle``, ``oracle_step``, ``torch_trajectory``), and torch imported only when one must be
computed (``lazy_torch``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import grader.testing._memo as _memo


def lazy_torch():
    """``torch`` for a check module whose oracles may all be remembered: ``torch = lazy_torch()`` at the
    top instead of ``import torch``, and torch is imported only when a check first uses it (a fresh
    judge whose oracles are in the cache never does: a second of start-up)."""
    from grader.eager_torch import lazy

    return lazy()


def oracle(fn: Callable) -> Callable:
    """A pure function of plain inputs that computes what a visible check compares with (PyTorch's
    answer on the visible inputs, say), remembered by a digest of what it depends on: the installed
    torch's version, its code and that of the module-level functions it calls, the values of the
    globals it names, and its arguments (numbers, strings, tuples of them, NumPy arrays). Every
    student of a class asks for the same values: each judge computes them once, and the next process
    reads them from ``_memo.oracle_cache_dir()`` (a student's second ``grader check``, a platform's image
    whose set-up graded the reference). Its value must be plain data: a number, an array, a tuple or
    list of them. A call that cannot be digested (an argument of another kind) is computed each time."""

    def remembered(*args):
        key = _memo.call_digest(fn, args)
        return fn(*args) if key is None else _memo.fresh(_memo.remembered(key, lambda: fn(*args)))

    remembered.__wrapped__ = fn
    remembered.__name__, remembered.__doc__ = fn.__name__, fn.__doc__
    return remembered


def oracle_step(step: Callable[..., tuple]) -> Callable[..., tuple]:
    """Mark a reference step backed by an oracle (a ``torch.optim`` optimizer) whose walk depends only on
    what it is given: ``trajectory_check`` then remembers its path and gradients like ``oracle`` does
    (by a digest of the step's code and closure, the gradient's, θ₀, the steps and the hyper-parameters),
    so a class's judges and a student's later runs do not import torch to walk it again."""
    step.oracle = True
    return step


def torch_trajectory(make_optimizer: Callable[[list], object], theta0: np.ndarray,
                     grads: Sequence[np.ndarray]) -> list[np.ndarray]:
    """θ after each step when the given gradients are fed to a ``torch.optim`` optimizer, in float64:
    ``torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=0.1), theta0, grads)``. The oracle of
    visible optimizer checks (judge side only: a worker never gets to call torch.optim).

    Every visible check of a class asks for the same trajectories, and the first ``torch.optim``
    optimizer of a process imports ``torch._dynamo``, a second of start-up in every process (a
    student's every ``grader check``, every judge). So a trajectory is remembered by a digest of
    what it depends on, in memory and in a file under ``_memo.oracle_cache_dir()``."""
    key = _memo.oracle_digest(make_optimizer, theta0, grads)
    if key is None:  # what it depends on cannot be told: computed each time
        return _memo.torch_trajectory_now(make_optimizer, theta0, grads)
    if key in _memo.ORACLE:
        return [x.copy() for x in _memo.ORACLE[key]]
    stored = _memo.oracle_cache_dir() / f"{key}.npy"
    out = _memo.load_oracle(stored, len(grads), np.shape(theta0))
    if out is None:
        out = _memo.torch_trajectory_now(make_optimizer, theta0, grads)
        _memo.store_oracle(stored, out)
    _memo.remember(_memo.ORACLE, key, [x.copy() for x in out], 256)
    return out

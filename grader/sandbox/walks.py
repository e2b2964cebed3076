"""The worker's walks: an optimizer run freely in one request (``walk``), and what a carried stream
passes from one call to the next (``carry``); see ``worker.serve``.

Loaded by path, like the worker's other helpers (the zygote's ``_load``): it imports only the standard
library and NumPy, and is given the codec, the guard and the replies it works with.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # never at run time: the worker cannot import the grader package
    from grader.sandbox.replies import Replies


def timed(func, args, kwargs: dict, used: set, clock):
    """``func(*args, **kwargs)`` and the seconds it took, the record of forbidden routines ``used`` cleared
    first (it then holds what this call used); raises what ``func`` raises."""
    used.clear()
    start = clock()
    value = func(*args, **kwargs)
    return value, clock() - start


def _walk(func, raised, call_id: int, args: list, kwargs: dict, steps: int, walker, progress: float, guard,
          replies: Replies, trace: int = 0) -> None:
    """A walk (see ``worker.serve``): ``func`` run freely for ``steps`` steps from ``args``, each step's
    leading arguments made by ``walker`` (``objectives.walker``) from the one before; a frame only for the
    last step, the step where it stopped (``"last": true`` on either), and progress. With ``trace`` k, each
    frame also holds ``"trace"``: θ every k steps since the previous frame, for a picture of the path
    (not graded). A walk whose θ is not what the function returns (``OutputsWalk``) sends θ after each
    answered step as ``"after"``."""
    clock, seconds, last_frame = time.perf_counter, 0.0, time.perf_counter()
    path = []
    for i in range(steps):
        try:
            value, took = timed(func, args, kwargs, guard.used, clock)
        except BaseException as exc:
            raised(exc, i)
            return
        now = clock()
        seconds += took
        used = sorted(guard.used) if guard.used else []
        # the walk's own arithmetic (the update, the next gradient) is the check's, done here: timed with the call
        start = clock()
        going = not used and walker.take(value) and i + 1 < steps
        if going:
            args[0:walker.width] = walker.args()
            if trace and (i + 1) % trace == 0:
                path.append(walker.theta)
        seconds += clock() - start
        if going and now - last_frame < progress:
            continue  # no frame for this step
        message = {"ok": True, "id": call_id, "i": i, "value": value, "seconds": seconds, "forbidden": used}
        if not going:
            message["last"] = True
        if walker.after is not None:
            message["after"] = walker.after
        if path:
            message["trace"] = _stack(path)
        if not replies.send(message) or not going or used:
            return
        seconds, last_frame, path = 0.0, clock(), []


def _stack(path: list):
    import numpy as np  # loaded by the fork server before any submission

    return np.stack(path)


def _carry(codec, value, pairs, max_bytes: int) -> list | None:
    """Element ``o`` of ``value`` for each ``(a, o)`` in ``pairs``, as plain data, or ``None`` when
    ``value`` has no such elements or they cannot cross."""
    if not isinstance(value, (tuple, list)):
        return None
    try:
        return [codec.copy(value[o], max_bytes) for _, o in pairs]
    except Exception:
        return None

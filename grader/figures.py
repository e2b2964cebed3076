"""Pictures for the reports: plain data a check records while it runs, drawn later.

A check calls ``figures.add(...)`` with what a picture needs; the judge keeps the figures of the
running check (``collecting``) and the report carries them, as data, to whatever draws them. A
figure of a hidden check is kept only when the check says it is ``public`` (its inputs are the
lecture's, already named in its messages): hidden inputs and expected numbers never reach a student.

Kinds:

* ``"path"``: an optimizer's path on a surface of ``grader.sandbox.objectives``:
  ``surface="rosenbrock"``, ``student=[[x, y], ...]``, ``reference=[[x, y], ...]``;
* ``"curve"``: values against steps: ``x=[...]``, ``student=[...]``, ``reference=[...]``, optionally
  ``labels={"student": ..., "reference": ...}`` (the lines' names), ``xlabel=`` and ``ylabel=``;
* ``"histogram"``: ``samples=[...]`` against a density: ``density="normal"``, ``params={"std": ...}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

MAX_FIGURES = 8         # per check
MAX_POINTS = 2_000      # per series (rows of a path)
MAX_VALUES = 8_000      # per array, whatever its shape
DIGITS = 7              # significant digits kept: a picture needs no more, and the gradebook stays small

_current: list[dict] | None = None


def add(kind: str, title: str, *, public: bool = False, **data) -> None:
    """Record a figure for the check that is running (nothing happens outside a check)."""
    if _current is None or len(_current) >= MAX_FIGURES:
        return
    try:
        plain = {key: _plain(value) for key, value in data.items()}
    except (TypeError, ValueError, OverflowError):  # a ragged or non-numeric series: no picture, never a lost point
        return
    _current.append({"kind": kind, "title": str(title), "public": bool(public), **plain})


@contextmanager
def collecting() -> Iterator[list[dict]]:
    """The figures the code inside records, in order."""
    global _current
    outer, _current = _current, []
    try:
        yield _current
    finally:
        _current = outer


def _plain(value):
    """Lists of floats, strings and dicts of them, at most ``MAX_POINTS`` rows and ``MAX_VALUES``
    values per series. A value that is not finite (a path that diverged) becomes ``None``, as JSON
    would make it anyway, so a report reads the same before and after the gradebook."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (str, bool)) or value is None:
        return value
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return _rounded(array[None])[0]
    row = max(1, int(np.prod(array.shape[1:])))
    return _rounded(array[:min(MAX_POINTS, max(1, MAX_VALUES // row))])


def _rounded(array: np.ndarray) -> list:
    """``array.tolist()`` with ``DIGITS`` significant digits and ``None`` for inf and NaN."""
    out = array.astype(object)
    finite = np.isfinite(array)
    out[~finite] = None
    out[finite] = [float(f"{v:.{DIGITS}g}") for v in array[finite].tolist()]
    return out.tolist()


def shown(recorded: list[dict], hidden: bool) -> list[dict]:
    """The figures a report may carry: all of a visible check's; of a hidden check's, only those it
    marked ``public`` (drawn from the lecture's inputs), so hidden inputs and expected numbers never
    reach a student through a picture."""
    return [f for f in recorded if not hidden or f.get("public") is True]

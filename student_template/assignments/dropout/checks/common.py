"""Shared by the visible and the hidden checks of dropout (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check).

* ``clone``: a generator in the same state as the one a student's function was handed (the copy that
  crossed to the worker starts in that state, so a correct solution draws exactly these numbers).
* ``forward_result``: ``dropout_forward``'s ``(out, keep)``, checked for form.
* ``forward_hint``: "your values match <a known mistake>" for a wrong ``out``, each known mistake run on
  the same arguments with its own copy of the generator.
"""

from __future__ import annotations

import numpy as np

from grader.testing import BadResult, as_array, clone_generator, matching_mistake, one_by_one  # noqa: F401 - one_by_one is shared

clone = clone_generator  # the checks call common.clone


def after_one_draw(gen: np.random.Generator, shape: tuple[int, ...]) -> dict:
    """The state ``gen`` is in after exactly one ``rng.random(shape)``, the contract's only draw."""
    copy = clone(gen)
    copy.random(shape)
    return copy.bit_generator.state


def forward_result(value, shape: tuple[int, ...], train: bool, what: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``(out, keep)`` of the right form: out a float array of x's shape; keep a bool array of x's shape in
    training, ``None`` in evaluation. Otherwise ``BadResult`` saying what is wrong."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise BadResult(f"{what} should return a pair (out, keep)")
    out, keep = value
    out = as_array(out, f"out from {what}", shape)
    if not train:
        if keep is not None:
            raise BadResult(f"keep from {what} should be None in evaluation (train=False): no unit is dropped")
        return out, None
    if not (isinstance(keep, np.ndarray) and keep.dtype == np.bool_ and keep.shape == tuple(shape)):
        raise BadResult(f"keep from {what} should be a bool array of x's shape {tuple(shape)} "
                        "(keep = rng.random(x.shape) >= p)")
    return out, keep


def forward_hint(wrongs: dict, out: np.ndarray, x: np.ndarray, p: float, train: bool, gen: np.random.Generator,
                 tol) -> str | None:
    """The first known mistake of ``dropout_forward`` whose out, on the same x, p and train and a copy of the
    generator the student was handed, is the student's ``out``."""
    candidates = {}
    for description, wrong in wrongs.items():
        try:
            with np.errstate(all="ignore"):
                candidates[description] = np.asarray(wrong(x, p, train, clone(gen))[0], dtype=np.float64)
        except Exception:  # noqa: BLE001 - a mistake that cannot run on these inputs matches nothing
            continue
    return matching_mistake(out, candidates, tol)

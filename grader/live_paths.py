"""``show_paths``: in a student's notebook, their optimizer's path beside PyTorch's on a lecture's surface.

Both start at the same point and take the same gradients of the surface (``grader.sandbox.objectives``),
the student's function from what the kernel holds now, PyTorch's ``torch.optim`` optimizer with the same
learning rate and its defaults (the assignment's defaults are the same). The picture is the graded
report's (``grader.drawing.draw_path``); under it, a sentence says where the two paths part, if they do.
Visible inputs only: the lecture's surfaces and starting points.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

import numpy as np

from grader.sandbox.objectives import GRADIENTS

AGREE = 1e-8  # relative distance under which two points of the paths are the same point


@dataclass
class Paths:
    """A ``show_paths`` cell's output: what it shows, in words, over the picture (HTML in Jupyter, which
    shows one form of an output: a PNG alone would hide the words)."""
    text: str
    png: bytes | None = None

    def _repr_html_(self) -> str:
        picture = (f'<img src="data:image/png;base64,{base64.b64encode(self.png).decode("ascii")}" '
                   f'alt="{html.escape(self.text)}"/>' if self.png else "")
        return f"<p>{html.escape(self.text)}</p>{picture}"

    def __repr__(self) -> str:
        return self.text


def show_paths(function: str, torch_optimizer: str, *, lr: float, steps: int = 200,
               start: tuple[float, float] = (-1.5, 2.0), surface: str = "rosenbrock") -> Paths:
    """``function`` (a name the notebook defined, e.g. ``"adam"``) and ``torch.optim.<torch_optimizer>`` run
    ``steps`` steps at ``lr`` from ``start`` on ``surface``; both paths drawn on its contours."""
    from IPython import get_ipython

    grad = GRADIENTS[surface]
    shell = get_ipython()
    step = shell.user_ns.get(function) if shell is not None else None
    theirs = _torch_path(torch_optimizer, grad, np.array(start, dtype=np.float64), lr, steps)
    yours, problem = _student_path(step, function, grad, np.array(start, dtype=np.float64), lr, steps)
    figure = {"kind": "path", "title": f"{function} and torch.optim.{torch_optimizer} on {surface}, lr = {lr:g}, "
                                       f"{steps} steps", "surface": surface, "student": yours.tolist(),
              "reference": theirs.tolist(), "names": {"reference": f"torch.optim.{torch_optimizer}",
                                                      "student": f"your {function}"}}
    text = problem or _agreement(yours, theirs, function, torch_optimizer)
    try:
        from grader.drawing import figure_png

        png = figure_png(figure)
    except ImportError:  # no matplotlib: the words alone
        png = None
    return Paths(text, png)


def _torch_path(name: str, grad, theta: np.ndarray, lr: float, steps: int) -> np.ndarray:
    import torch

    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, name)([p], lr=lr)
    path = [theta.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        optimizer.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def _student_path(step, function: str, grad, theta: np.ndarray, lr: float, steps: int):
    """The student's path, and why it stops short (a sentence), if it does."""
    if not callable(step):
        return theta[None], f"{function} is not defined yet: run its cell first. PyTorch's path alone is drawn."
    path, state = [theta.copy()], {}
    for t in range(1, steps + 1):
        try:
            theta, state = step(theta, grad(theta), state, lr)
            theta = np.asarray(theta, dtype=np.float64)
        except NotImplementedError as exc:
            return np.array(path), f"{exc}. PyTorch's path alone is drawn."
        except Exception as exc:  # noqa: BLE001 - the student's code: say what it raised, draw what there is
            return np.array(path), f"step {t}: {function} raised {type(exc).__name__}: {exc}"
        if theta.shape != path[0].shape or not np.all(np.isfinite(theta)):
            return np.array(path), f"step {t}: {function} returned θ = {theta!r}, not a finite point like θ₀"
        path.append(theta.copy())
    return np.array(path), None


def _agreement(yours: np.ndarray, theirs: np.ndarray, function: str, torch_optimizer: str) -> str:
    gap = np.linalg.norm(yours - theirs, axis=1) / np.maximum(1.0, np.linalg.norm(theirs, axis=1))
    apart = np.flatnonzero(gap > AGREE)
    if not len(apart):
        return (f"your {function} follows torch.optim.{torch_optimizer} step for step: the two paths are one "
                f"(at most {gap.max():.1g} apart, relative) over {len(theirs) - 1} steps")
    t = int(apart[0])
    return (f"your {function} leaves torch.optim.{torch_optimizer}'s path at step {t}: θ = {yours[t].tolist()} "
            f"where PyTorch has {theirs[t].tolist()}; the check above names the first step and element that differ")

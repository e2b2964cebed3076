"""The pictures of reports: a check's figures (``grader.figures``) drawn as PNG, with matplotlib on a
bare Agg canvas (headless, no pyplot state):

* ``"path"``: the student's optimizer path and the reference's on the contours of the surface;
* ``"curve"``: two lines, the student's and the reference's, against steps;
* ``"histogram"``: a density histogram of the student's samples under the target density.

For the student's page (``grader.html``) and the platforms that show pictures inline (Gradescope,
PrairieLearn). The numbers of a figure came from a submission: a figure that cannot be drawn raises
here (``figure_png``) or gives ``None`` (``figure_data_url``), and its caller says so in a sentence,
never a failed report. A passed check's pictures, which recur, are kept on disk (``grader.cache``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import math
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np

from grader.cache import cache_dir
from grader.report import CheckResult, write_atomic
from grader.sandbox import objectives

GRID = 240               # contour grid points per axis
STUDENT, REFERENCE, START, MINIMUM = "#d62728", "#1f77b4", "#222222", "#2ca02c"


def figure_png(figure: dict) -> bytes:
    """One figure of a report (``grader.figures``) as PNG bytes; ``KeyError`` for a kind with no drawer,
    and whatever drawing raises (for platforms that show pictures of their own: PrairieLearn)."""
    draw = DRAWERS[str(figure.get("kind"))]
    return _png(lambda axes: draw(axes, figure), str(figure.get("title", "")))


def _kept_png(key: str, figure: dict) -> bytes:
    """``figure_png(figure)``, read from the picture cache when a process drew it before, else drawn and
    stored there. Every correct submission gets the same pictures (the lecture's demonstrations walk
    the same paths to the digits a figure keeps), so a fresh process, such as Gradescope's for each
    submission, need not import matplotlib to draw them: a fifth to a third of its time. Only passed
    checks' pictures are kept, those that recur; the key digests the figure and this module's source,
    so a change to the drawing is never hidden by an old picture."""
    digest = hashlib.sha256(b"figure 1\0" + _drawing_version() + b"\0" + key.encode("utf-8")).hexdigest()
    path = cache_dir("figures") / f"{digest}.png"
    try:
        data = path.read_bytes()
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            os.utime(path)  # recently used: the last to go
            return data
    except OSError:
        pass
    data = figure_png(figure)
    try:
        write_atomic(path, data)
        _forget_old(path.parent)
    except OSError:  # a read-only or full cache: the picture is drawn each time
        pass
    return data



def picture_png(figure: dict, kept: bool = False, key: str | None = None) -> bytes:
    """``figure_png(figure)``; with ``kept`` (a passed check's picture) through the picture cache, as
    ``_kept_png`` says. ``key``: the figure as JSON with sorted keys, when the caller has it already."""
    if not kept:
        return figure_png(figure)
    return _kept_png(json.dumps(figure, sort_keys=True) if key is None else key, figure)


KEPT_PICTURES = 256  # about 15 MB; pictures that recur are used again and again, and stay


def _forget_old(folder: Path) -> None:
    """Keep the picture cache to ``KEPT_PICTURES``, the least recently used removed first (a passed check
    whose pictures show a student's own random samples adds a new one for every student)."""
    entries = [(e.stat().st_mtime, e.path) for e in os.scandir(folder) if e.name.endswith(".png")]
    for _, path in sorted(entries)[:max(0, len(entries) - KEPT_PICTURES)]:
        try:
            os.unlink(path)
        except OSError:
            pass


@functools.cache
def _drawing_version() -> bytes:
    return hashlib.sha256(Path(__file__).read_bytes()).digest()


def figure_data_url(figure: dict, kept: bool = False) -> str | None:
    """One figure as a ``data:image/png;base64,`` URL, or ``None`` if it cannot be drawn: a picture must
    never cost a student the results (for platforms that show pictures inline: Gradescope,
    PrairieLearn). ``kept``: a passed check's, kept on disk as ``_kept_png`` says."""
    try:
        png = picture_png(figure, kept)
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    except Exception:  # noqa: BLE001 - a figure with no drawer, or one that fails to draw
        return None


def pictures_within(checks: list[CheckResult], budget: int) -> tuple[dict[str, list[tuple[dict, str]]], int]:
    """Each check's figures as data URLs (``figure_data_url``; a passed check's kept), first checks
    first, at most ``budget`` bytes of them in all: ``({check name: [(figure, url), ...]}, how many
    were left out for want of room)``. A figure that cannot be drawn is skipped, not counted. For
    platforms whose results have a size limit (Gradescope, PrairieLearn)."""
    shown: dict[str, list[tuple[dict, str]]] = {}
    left_out = 0
    for check in checks:
        for figure in check.figures:
            url = figure_data_url(figure, kept=check.status == "passed")
            if url is None:
                continue
            if len(url) > budget:
                left_out += 1
                continue
            budget -= len(url)
            shown.setdefault(check.name, []).append((figure, url))
    return shown, left_out


def _png(draw: Callable, title: str) -> bytes:
    """A picture drawn on a bare Agg canvas, as PNG bytes without metadata.

    No pyplot (it keeps global state a library has no business changing) and fixed margins, not a
    constrained layout, which draws everything twice: a picture costs about 0.09 s. matplotlib is
    imported here, so importing this module is cheap.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 5.6), dpi=100)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.1)
    axes = figure.add_subplot()
    draw(axes)
    # Wrapped, or a long title runs off the picture; a $ would start mathtext and could fail to parse.
    axes.set_title(textwrap.fill(title, 80, break_on_hyphens=False).replace("$", r"\$"), fontsize="medium")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _series(value, columns: int | None = None) -> np.ndarray:
    """A figure's series as floats (``None``, the JSON of a NaN or an infinity, becomes NaN)."""
    array = np.array(value if value is not None else [], dtype=np.float64)
    if columns is not None:
        array = array.reshape(-1, columns) if array.size else np.empty((0, columns))
    return array


def _label(text: str) -> str:
    return text.replace("$", r"\$")


# A surface: its function on a grid, the view it is usually seen in, the farthest view drawn, its
# global minimum and contour levels for a (low, high) range of its values.
class _Surface:
    def __init__(self, name: str, grid: Callable, value: Callable, view: tuple, limit: tuple, minimum: tuple,
                 levels: Callable):
        self.name, self.grid, self.value, self.view, self.limit = name, grid, value, view, limit
        self.minimum, self.levels = minimum, levels


def _rosenbrock_grid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``objectives.rosenbrock`` on a grid (that function takes one point)."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _rastrigin_grid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``objectives.rastrigin`` in two dimensions on a grid."""
    return 20 + x**2 - 10 * np.cos(2 * np.pi * x) + y**2 - 10 * np.cos(2 * np.pi * y)


SURFACES = {
    "rosenbrock": _Surface("Rosenbrock", _rosenbrock_grid, objectives.rosenbrock, ((-2.0, 2.0), (-1.0, 3.0)),
                           ((-5.0, 5.0), (-4.0, 8.0)), (1.0, 1.0), lambda z: np.logspace(-1, np.log10(z.max()), 18)),
    "rastrigin": _Surface("Rastrigin", _rastrigin_grid, objectives.rastrigin, ((-5.12, 5.12), (-5.12, 5.12)),
                          ((-12.0, 12.0), (-12.0, 12.0)), (0.0, 0.0), lambda z: np.linspace(0, z.max(), 12)),
}


def _view(surface: _Surface, reference: np.ndarray, student: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """The surface's usual view, widened to hold the reference's path and where the student's starts
    and ends, never past the surface's limit. The student's excursions between may leave the picture:
    a path that flies off to 1e30 (or overshoots to 50) must not shrink the contours to a dot."""
    ends = student[[0, -1]] if len(student) else student
    points = np.concatenate([p[np.all(np.isfinite(p), axis=1)] for p in (reference, ends)] + [np.empty((0, 2))])
    view = []
    for axis, ((lo, hi), (min_lo, max_hi)) in enumerate(zip(surface.view, surface.limit, strict=True)):
        if len(points):
            lo, hi = min(lo, points[:, axis].min()), max(hi, points[:, axis].max())
        pad = 0.04 * (hi - lo)
        view.append((max(min_lo, lo - pad), min(max_hi, hi + pad)))
    return view[0], view[1]


def _where_it_ends(surface: _Surface, path: np.ndarray, view) -> str:
    """'ends at (x, y), f = ...' and whether it left the picture on the way, or where it stopped
    being finite, or that it is empty."""
    if not len(path):
        return "no path"
    finite = np.all(np.isfinite(path), axis=1)
    if not finite.all():
        return f"diverges (inf or NaN) after {int(np.argmin(finite))} of {len(path)} points"
    (x0, x1), (y0, y1) = view
    outside = (path[:, 0] < x0) | (path[:, 0] > x1) | (path[:, 1] < y0) | (path[:, 1] > y1)
    x, y = path[-1]
    where = f"ends at ({x:.3g}, {y:.3g}), f = {surface.value(path[-1]):.3g}"
    if outside[-1]:
        return where + ", outside the picture"
    if outside.any():
        far = np.abs(path).max(axis=0)
        return where + f"; on the way it leaves the picture (|x| up to {far[0]:.3g}, |y| up to {far[1]:.3g})"
    return where


def draw_path(axes, figure: dict) -> None:
    """The two paths on the surface's contours: the reference's as a wide band, the student's as a thin
    line over it (where they agree the line runs inside the band), the start, both ends and the minimum."""
    surface = SURFACES[str(figure.get("surface"))]
    student, reference = _series(figure.get("student"), 2), _series(figure.get("reference"), 2)
    xs, ys = _view(surface, reference, student)
    x, y = np.meshgrid(np.linspace(*xs, GRID), np.linspace(*ys, GRID))
    z = surface.grid(x, y)
    # Filled bands, no contour lines: as readable, and a third of the PNG (Rastrigin's lines are many).
    axes.contourf(x, y, z, levels=surface.levels(z), cmap="Greys", alpha=0.3, norm=_log_norm(surface, z))
    names = {"reference": "reference", "student": "yours", **dict(figure.get("names") or {})}  # a notebook's: "PyTorch's"
    styles = ((reference, REFERENCE, names["reference"], {"linewidth": 5, "alpha": 0.55, "zorder": 3}, "*"),
              (student, STUDENT, names["student"], {"linewidth": 1.3, "marker": ".", "markersize": 4, "zorder": 4}, "s"))
    for path, colour, who, style, end in styles:
        finite = path[np.all(np.isfinite(path), axis=1)] if len(path) else np.empty((0, 2))
        label = _label(textwrap.fill(f"{who}: {_where_it_ends(surface, path, (xs, ys))}", 80))
        axes.plot(finite[:, 0], finite[:, 1], color=colour, label=label, solid_capstyle="round", **style)
        if len(finite):
            axes.plot(*finite[-1], marker=end, color=colour, markersize=17 if end == "*" else 9,
                      markeredgecolor="white", linestyle="none", zorder=5)
    starts = [p[0] for p in (student, reference) if len(p) and np.all(np.isfinite(p[0]))]
    if starts:
        axes.plot(*starts[0], marker="o", color=START, markersize=8, linestyle="none", label="start", zorder=6)
    axes.plot(*surface.minimum, marker="P", color=MINIMUM, markersize=7, markeredgecolor="white", linestyle="none",
              label="global minimum", zorder=5.5)
    axes.set_xlim(*xs)
    axes.set_ylim(*ys)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    axes.figure.subplots_adjust(bottom=0.27)  # the legend goes below: over the picture it would hide a path
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize="small", ncol=1, frameon=False)


def _log_norm(surface: _Surface, z: np.ndarray):
    """Rosenbrock's valley is orders of magnitude below its walls: shades on a log scale show it."""
    if surface.name != "Rosenbrock":
        return None
    from matplotlib.colors import LogNorm

    return LogNorm(vmin=0.1, vmax=float(z.max()))


def draw_curve(axes, figure: dict) -> None:
    """The student's values and the reference's against steps (a log scale when they span decades);
    ``labels={"student": ..., "reference": ...}`` names the two lines (default "yours" and "reference"),
    ``xlabel`` and ``ylabel`` the axes."""
    student, reference = _series(figure.get("student")), _series(figure.get("reference"))
    x = _series(figure.get("x")) if figure.get("x") is not None else np.arange(max(len(student), len(reference)))
    labels = figure.get("labels") if isinstance(figure.get("labels"), dict) else {}
    axes.plot(x[:len(reference)], reference[:len(x)], color=REFERENCE, linewidth=2.2,
              label=_label(str(labels.get("reference", "reference"))))
    axes.plot(x[:len(student)], student[:len(x)], color=STUDENT, linestyle="--", linewidth=1.6,
              label=_label(str(labels.get("student", "yours"))))
    values = np.concatenate([student, reference])
    values = values[np.isfinite(values)]
    if len(values) and values.min() > 0 and values.max() / values.min() > 100:
        axes.set_yscale("log")
    axes.set_xlabel(_label(str(figure.get("xlabel", "step"))))
    axes.set_ylabel(_label(str(figure.get("ylabel", ""))))
    axes.legend(fontsize="small")


def density(name: str, params: dict) -> tuple[Callable[[np.ndarray], np.ndarray], tuple[float, float], str]:
    """The target density by name: (pdf, the range it lives on, its name as the lecture writes it)."""
    if name == "normal":
        mean, std = float(params.get("mean", 0.0)), float(params["std"])
        return (lambda t: np.exp(-0.5 * ((t - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi)),
                (mean - 4 * std, mean + 4 * std), f"N({mean:.3g}, {std:.3g}²)")
    if name == "uniform":
        low, high = float(params["low"]), float(params["high"])
        return (lambda t: np.where((t >= low) & (t <= high), 1.0 / (high - low), 0.0),
                (low, high), f"Uniform({low:.3g}, {high:.3g})")
    if name == "beta":
        a, b = float(params["a"]), float(params["b"])
        log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)  # 1 / B(a, b), in logs: Γ overflows

        def pdf(t: np.ndarray) -> np.ndarray:
            inside = (t > 0) & (t < 1)
            u = np.where(inside, t, 0.5)
            return np.where(inside, np.exp(log_norm + (a - 1) * np.log(u) + (b - 1) * np.log1p(-u)), 0.0)

        return pdf, (0.0, 1.0), f"Beta({a:.3g}, {b:.3g})"
    raise ValueError(f"unknown density {name!r}")


def draw_histogram(axes, figure: dict) -> None:
    """A density histogram of the samples with the target density drawn over it."""
    samples = _series(figure.get("samples")).ravel()
    samples = samples[np.isfinite(samples)]
    pdf, (lo, hi), name = density(str(figure.get("density")), dict(figure.get("params") or {}))
    if len(samples):
        lo, hi = min(lo, float(samples.min())), max(hi, float(samples.max()))
        bins = int(np.clip(np.sqrt(len(samples)), 10, 60))
        # One filled outline, not a rectangle per bin: the same pixels (adjacent bars of one colour), 16 ms sooner
        heights, _, _ = axes.hist(samples, bins=bins, range=(lo, hi) if hi > lo else None, density=True,
                                  histtype="stepfilled", color=STUDENT, alpha=0.5,
                                  label=f"yours ({len(samples)} values)")
    else:
        heights = np.zeros(1)
        axes.text(0.5, 0.9, "no finite values", transform=axes.transAxes, ha="center", color=STUDENT)
    grid = np.linspace(lo, hi, 600)
    curve = pdf(grid)
    axes.plot(grid, curve, color=REFERENCE, linewidth=2.2, label=_label(f"target: {name}"))
    shown = curve[np.isfinite(curve)]
    top = max(float(np.max(heights)), float(np.percentile(shown, 98)) if len(shown) else 0.0)
    if top > 0:
        axes.set_ylim(0, 1.15 * top)  # a Beta(0.1, 0.1) is infinite at 0 and 1: its tails would flatten the rest
    axes.set_xlabel(_label(str(figure.get("xlabel", "value"))))
    axes.set_ylabel("density")
    axes.legend(fontsize="small")


DRAWERS: dict[str, Callable] = {"path": draw_path, "curve": draw_curve, "histogram": draw_histogram}

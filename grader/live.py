"""Checks in the notebook, on the live definitions: ``check("adam")`` in a student's Jupyter kernel.

The generated notebooks (``grader assign``) start with::

    from grader.live import checker
    check = checker("optimizers")

and have a ``check("adam")`` cell after each function, and ``check()`` at the end. A check runs the
function's visible checks on what the kernel has run: the cells of this kernel session, in the order they
ran (IPython's input history, edits that were not run left out, a cell run twice counted at its last run),
made into a notebook and graded as a handed-in notebook is (the same keeping rule: definitions, imports and
constants; demo loops and plots are not run). Nothing needs saving. As ``grader check`` does, it runs the
student's code in a process of its own on the student's machine, and the judge with the course's visible
checks in the kernel; a hidden check never runs here.

A check belongs to the cell of the last function it calls in the notebook's order (the purity check of
the four optimizers runs at ``adam``, when all four are written). The result is a table: HTML in Jupyter,
plain text elsewhere.

The statements that use ``grader.live`` are the notebook's own: graded, they are dropped without a note
(``grader.notebook.keep``).
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import course_root, load_assignment
from grader.errors import UsageError

__all__ = ["Results", "checker", "show_paths"]


def checker(assignment: str, course: str | os.PathLike | None = None) -> Checker:
    """The ``check`` function of an assignment's notebook. ``course``: the folder with ``assignments/``
    (default ``$GRADER_COURSE``, else the notebook's folder, else the course the grader belongs to)."""
    return Checker(assignment, course)


@dataclass
class Checker:
    assignment: str
    course: str | os.PathLike | None = None

    def __call__(self, function: str | None = None) -> Results:
        """The visible checks of ``function`` (all of them without one) on what this kernel has run."""
        task = load_assignment(self.assignment, _course(self.course))
        spec = task.spec
        order = [f for f in spec.functions if f not in spec.given]
        if function is not None and function not in spec.functions:
            raise UsageError(f"{self.assignment} has no function {function!r}; its functions are {', '.join(order)}")
        visible = {name: check for name, check in spec.checks.items() if check.visibility == "visible"}
        wanted = frozenset(name for name, check in visible.items()
                           if function is None or owner(check.functions, order) == function)
        title = f"{function}: its visible checks" if function else f"{spec.title}: every visible check"
        hidden = sum(1 for c in spec.checks.values() if c.visibility == "hidden"
                     and (function is None or function in c.functions))
        if not wanted:
            return Results(title, [], note=f"{function} has no visible checks of its own; "
                                           f"{hidden} hidden checks look at it when your work is graded.")
        # the judge (pytest, and what the checks import: torch) is imported on a kernel's first check
        from grader.grade import grade_submission
        from grader.sandbox.isolation import Isolation

        with tempfile.TemporaryDirectory(prefix="grader-live-") as tmp:
            path = Path(tmp) / f"{spec.module}.ipynb"
            path.write_text(history_notebook(_inputs()), encoding="utf-8")
            report = grade_submission(task, path, "this notebook", visible_only=True, secret=b"visible-checks-only",
                                      isolation=Isolation(False, None, "your own code, on your own machine"),
                                      only=wanted)
        rows = [(c.name, c.status, c.points, c.max_points, c.message) for c in report.checks]
        notes = [_as_inputs(n) for n in report.notes]
        if report.load_error:
            notes.insert(0, f"your code could not be loaded: {_as_inputs(report.load_error)}")
        return Results(title, rows, notes=notes, output=report.output.strip(),
                       hidden=f"{hidden} hidden checks" + (f" of {function}" if function else "")
                              + " run when your work is graded")


def owner(functions: list[str], order: list[str]) -> str | None:
    """The function at whose cell a check runs: the last it calls in the notebook's order."""
    placed = [f for f in functions if f in order]
    return max(placed, key=order.index) if placed else None


def _course(course) -> Path:
    if course is None and not os.environ.get("GRADER_COURSE") and (Path.cwd() / "assignments").is_dir():
        return Path.cwd()  # the student's copy of the template, where the notebook is
    return course_root(course)


def _inputs() -> list[str]:
    """The cells this kernel ran, in order, as typed (magics included): In[1], In[2], ..."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None  # noqa: N806 - IPython's own name
    shell = get_ipython() if get_ipython else None
    if shell is None:
        raise UsageError("check() runs in a Jupyter notebook, on what its kernel has run; in a terminal, "
                         "run `grader check <assignment>` on your file")
    return list(shell.history_manager.input_hist_raw[1:])


def history_notebook(inputs: list[str]) -> str:
    """A notebook with one code cell per input, in order: cell n is In[n]."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell(source) for source in inputs]
    for n, cell in enumerate(cells, 1):
        cell["id"] = f"in-{n}"
    return nbformat.writes(new_notebook(cells=cells), version=4)


def _as_inputs(text: str) -> str:
    """The grader's "cell 7" (of the history notebook) is the kernel's In [7]."""
    def inputs(match: re.Match) -> str:
        return ", ".join(f"In [{n}]" for n in match.group(1).split(", "))

    return re.sub(r"\bcells? (\d+(?:, \d+)*)", inputs, text)


# ----------------------------------------------------------------------------------------- the table


@dataclass
class Results:
    """What a ``check`` cell shows: one row per check, its points and message; HTML in Jupyter."""
    title: str
    rows: list[tuple[str, str, float, float, str]]
    notes: list[str] = field(default_factory=list)
    output: str = ""
    hidden: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return all(status == "passed" for _, status, *_ in self.rows)

    def summary(self) -> str:
        if not self.rows:
            return self.note
        done = sum(status == "passed" for _, status, *_ in self.rows)
        points = sum(r[2] for r in self.rows)
        total = sum(r[3] for r in self.rows)
        verdict = "all passed" if self.passed else f"{done} of {len(self.rows)} passed"
        return f"{verdict}: {points:g}/{total:g} points. {self.hidden.capitalize()}." if self.hidden else verdict

    def __str__(self) -> str:
        lines = [self.title]
        if self.rows:
            width = max(len(r[0]) for r in self.rows)
            for name, status, points, total, message in self.rows:
                first, *more = message.splitlines() or [""]
                lines.append(f"  {name:<{width}}  {status:<9} {points:g}/{total:g}" + (f"  {first}" if first else ""))
                lines += [f"      {line}" for line in more]  # a traceback's lines, under their row
        lines.append(self.summary())
        lines += [f"note: {n}" for n in self.notes]
        if self.output:
            lines += ["your code printed:", self.output]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from grader.formatting import STATUS_COLOURS

        esc = html.escape
        parts = [f'<div class="grader-check"><p><b>{esc(self.title)}</b></p>']
        if self.rows:
            parts.append('<table style="border-collapse:collapse">'
                         "<tr><th style='text-align:left'>check</th><th style='text-align:left'>status</th>"
                         "<th style='text-align:right'>points</th><th style='text-align:left'>message</th></tr>")
            for name, status, points, total, message in self.rows:
                colour = STATUS_COLOURS.get(status, "#000")
                parts.append(f"<tr><td style='text-align:left'><code>{esc(name)}</code></td>"
                             f"<td style='text-align:left;color:{colour};font-weight:bold'>{esc(status)}</td>"
                             f"<td style='text-align:right'>{points:g}/{total:g}</td>"
                             f"<td style='text-align:left;white-space:pre-wrap'>{esc(message)}</td></tr>")
            parts.append("</table>")
        parts.append(f"<p>{esc(self.summary())}</p>")
        parts += [f"<p><i>note:</i> {esc(n)}</p>" for n in self.notes]
        if self.output:
            parts.append(f"<details><summary>your code printed</summary><pre>{esc(self.output)}</pre></details>")
        return "".join(parts) + "</div>"


def show_paths(*args, **kwargs):
    """The optimizer's path beside PyTorch's on a surface of the lecture (``grader.live_paths``)."""
    from grader.live_paths import show_paths as show

    return show(*args, **kwargs)

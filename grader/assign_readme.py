"""The student template's ``README.md``: set-up, which file to fill in, how to check, what to hand in where.

``grader assign`` writes it with the stubs and notebooks, from the course's assignments and from the
``[students]`` table of ``course.toml`` at the course's root (every key optional)::

    [students]
    course = "Deep learning: tricks of training"        # the README's title
    package = "git+https://github.com/your-course/grader"  # what `pip install` gets the grader from
    hand_in = ["gradescope", "github"]                   # where: gradescope, prairielearn, github

so it cannot drift from the assignments it describes. ``tests/test_student_readme.py`` runs its commands
in a fresh virtual environment.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from grader.errors import SpecError

COURSE_FILE = "course.toml"
TORCH = "torch==2.13.0"  # the version the grader is tested with; its CPU build
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
HAND_IN = ("gradescope", "prairielearn", "github")
DEFAULTS = {"course": "Your assignments", "package": "grader", "hand_in": list(HAND_IN)}


def student_settings(course: Path) -> dict:
    """The ``[students]`` table of ``course.toml``, with the defaults for what it leaves out."""
    path = course / COURSE_FILE
    table = {}
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("students", {})
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path}: {exc}") from None
    unknown = sorted(set(table) - set(DEFAULTS))
    if unknown:
        raise SpecError(f"{path}: [students] has no key {unknown[0]!r} (known: {', '.join(DEFAULTS)})")
    settings = {**DEFAULTS, **table}
    if not isinstance(settings["package"], str) or not settings["package"].strip():
        raise SpecError(f"{path}: [students] package must be what `pip install` takes, e.g. a git+https URL")
    wrong = [w for w in settings["hand_in"] if w not in HAND_IN] if isinstance(settings["hand_in"], list) else ["?"]
    if wrong:
        raise SpecError(f"{path}: [students] hand_in must list some of {', '.join(HAND_IN)}")
    return settings


def student_readme(course: Path, assignments: list) -> str:
    """The README's Markdown for ``assignments`` (``grader.course.Assignment``), in course order."""
    settings = student_settings(course)
    first = assignments[0].name if assignments else "optimizers"
    module = {a.name: a.spec.module for a in assignments}.get(first, first)
    out = [f"# {settings['course']}", "",
           "This folder is your copy of the course's assignments. For each one there is a stub to fill in, as a "
           "Python file and as a Jupyter notebook (work in either; hand in one), and the visible checks you can "
           "run yourself, on your machine.", "",
           "## Set up, once", "",
           "In a terminal, in this folder (Python 3.11 or newer):", "",
           "```sh",
           "python3 -m venv .venv",
           ". .venv/bin/activate",
           f"pip install {TORCH} --index-url {CPU_INDEX}",
           f'pip install "{settings["package"]}"',
           "```", "",
           "PyTorch's CPU build comes first: a plain `pip install torch` downloads several GB of GPU libraries the "
           "assignments do not need. On Windows, activate with `.venv\\Scripts\\activate`. To work in the "
           "notebooks, also `pip install jupyterlab` and start it with `jupyter lab` (or open the notebook in VS "
           "Code, which asks for `ipykernel`). Each new terminal needs `. .venv/bin/activate` again.", "",
           "## The assignments", "",
           "| assignment | you write | fill in | check it |", "|---|---|---|---|"]
    for a in assignments:
        spec = a.spec
        written = ", ".join(f"`{f}`" for f in spec.functions if f not in spec.given)
        out.append(f"| {spec.title} | {written} | `{spec.module}.py` or `{spec.module}.ipynb` | "
                   f"`grader check {a.name}` |")
    out += ["", "The README of each assignment, with its math, is in `assignments/<assignment>/README.md`; the "
            "notebooks carry the same math, formula by formula.", "",
            "## Check your work", "",
            "In a terminal, in this folder:", "",
            "```sh",
            f"grader check {first}",
            "```", "",
            f"checks `{module}.py`, or `{module}.ipynb` when there is no `{module}.py` (name the file to choose: "
            f"`grader check {first} {module}.ipynb`). `grader check --all` checks every assignment whose file is "
            "here.", "",
            "In a notebook, run a function's cell, then the `check(\"...\")` cell under it: it runs that function's "
            "visible checks on what the notebook has run, so there is nothing to save first. `check()` at the end "
            "runs them all. Either way, a table shows each check, its points and what is wrong: which call, which "
            "step, which element.", "",
            "What the visible checks promise, and what they do not:", "",
            "- They compare your functions with PyTorch and test properties (purity, shapes, errors, statistics) on "
            "inputs anyone can see. The same checks run when your work is graded, so a visible check that fails "
            "here costs its points there too.",
            "- Passing them all does not promise full marks. Hidden checks, worth most of the points, compare your "
            "functions with the course's reference on inputs you do not see, and reproduce the lecture's "
            "demonstrations. Their messages say what went wrong, never the inputs.", "",
            "| assignment | visible checks | hidden checks |", "|---|---|---|"]
    for a in assignments:
        checks = a.spec.checks.values()
        shown = [c for c in checks if c.visibility == "visible"]
        hidden = [c for c in checks if c.visibility == "hidden"]
        out.append(f"| `{a.name}` | {len(shown)}, {sum(c.points for c in shown):g} points | "
                   f"{len(hidden)}, {sum(c.points for c in hidden):g} points |")
    out += ["", "## Hand in", ""]
    files = ", ".join(f"`{a.spec.module}.py` or `{a.spec.module}.ipynb`" for a in assignments[:2])
    where = {
        "gradescope": "**Gradescope**: upload one file per assignment, under its name (" + files + ", ...). "
                      "The autograder runs every check, the hidden ones included, and shows your score with a "
                      "message per check.",
        "prairielearn": "**PrairieLearn**: upload the file the question names (the same names). Your score and "
                        "the checks' messages appear on the question's page.",
        "github": "**A push** to your repository (GitHub Classroom): commit your files under these names. The "
                  "workflow in `.github/workflows/visible-checks.yml` runs the visible checks on every push and "
                  "writes the table on the run's summary page; the course grades what is pushed by the deadline.",
    }
    out += [f"- {where[w]}" for w in settings["hand_in"]]
    out += ["", "Hand in only your file: the checks and the `assignments/` folder are the course's. A notebook is "
            "graded as *Run All* would leave it, without running what is not a definition: loops, plots and "
            "prints are skipped (the report lists what was), so keep each function's code in its function."]
    return "\n".join(out) + "\n"

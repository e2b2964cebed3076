"""The student's notebook of an assignment: the stub's code in cells, the lecture's words around them.

``grader assign`` builds it from the stub (``grader.assign``) and from ``assignments/<name>/notebook.md``,
Markdown in the instructor's words with formulas in LaTeX, cut by marker lines:

- the text before the first marker opens the notebook, under the title the generator writes from the
  spec (``# <title>``): the notebook has one title, so no ``# `` heading may appear in the file;
- ``<!-- before NAME -->``: a Markdown cell right above function NAME's code cell (required for every
  function students write: its formula goes there);
- ``<!-- after NAME -->``: cells after NAME's check cell: Markdown, and each fenced ```` ```python ````
  block a code cell of its own (the optimizers' paths beside PyTorch's on the Rosenbrock surface).

The notebook, cell by cell: the title and opening; the stub's imports; the in-notebook checks
(``from grader.live import checker``, ``check = checker("<assignment>")``); for each function its
Markdown, its code and, for a function students write, a ``check("<function>")`` cell that runs its
visible checks on what the kernel has run (``grader.live``), then its ``after`` cells; at the end
``check()``, every visible check. Graded, the check cells and anything else that uses ``grader.live``
are not run (``grader.notebook.keep``). Deterministic byte for byte: fixed cell ids, no timestamps.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SpecError

NOTEBOOK_FILE = "notebook.md"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
NOTEBOOK_MINOR = 5  # nbformat 4.5: cells have ids; pinned so a newer nbformat cannot change the files
MARKER = re.compile(r"^<!-- (before|after) ([A-Za-z_][A-Za-z0-9_]*) -->[ \t]*$", re.M)
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass
class Lesson:
    """A parsed ``notebook.md``: the opening, and per function the Markdown above it and the cells after it
    (``("markdown" | "code", source)``)."""
    opening: str
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def read_lesson(path: Path, functions: list[str], given: list[str]) -> Lesson:
    """``notebook.md`` of an assignment, checked against its functions: every function students write has its
    ``before`` section, each marker names a function of the stub once, and nothing else is a title."""
    if not path.is_file():
        raise SpecError(f"{path} is missing: the notebook's Markdown (the lecture's words and each function's "
                        "formula), cut by <!-- before NAME --> lines; see docs/authoring.md")
    text = path.read_text(encoding="utf-8")
    if re.search(r"^# ", text, re.M):
        raise SpecError(f"{path}: a `# ` heading; the notebook has one title, which grader assign writes from the spec")
    parts = MARKER.split(text)
    lesson = Lesson(parts[0].strip())
    for kind, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        if name not in functions:
            raise SpecError(f"{path}: <!-- {kind} {name} --> names no function of the stub ({', '.join(functions)})")
        if name in (lesson.before if kind == "before" else lesson.after):
            raise SpecError(f"{path}: <!-- {kind} {name} --> twice")
        if kind == "before":
            lesson.before[name] = body.strip()
        else:
            lesson.after[name] = _cells(body)
    missing = [f for f in functions if f not in given and f not in lesson.before]
    if missing:
        raise SpecError(f"{path}: no <!-- before NAME --> section for {', '.join(missing)}: each function students "
                        "write has its formula above its cell")
    return lesson


def _cells(body: str) -> list[tuple[str, str]]:
    cells, start = [], 0
    for match in FENCE.finditer(body):
        cells.append(("markdown", body[start:match.start()].strip()))
        cells.append(("code", match.group(1).strip("\n")))
        start = match.end()
    cells.append(("markdown", body[start:].strip()))
    return [(kind, source) for kind, source in cells if source]


def make_notebook(stub: str, lesson: Lesson, *, title: str, assignment: str, given: list[str]) -> str:
    """The notebook of a stub, as the text of an nbformat 4.5 file (validated, ending in a newline)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    _, code = split_stub(stub)
    cells = [new_markdown_cell(f"# {title}\n\n{lesson.opening}".rstrip())]
    if code and _defines(code[0]) is None:  # the imports
        cells.append(new_code_cell(code.pop(0)))
    cells.append(new_code_cell(
        "from grader.live import checker\n\n"
        f'check = checker("{assignment}")  # check("name"): the visible checks of one function, on what you have run'))
    for source in code:
        name = _defines(source)
        if name in lesson.before:
            cells.append(new_markdown_cell(lesson.before[name]))
        cells.append(new_code_cell(source))
        if name is not None and name not in given:
            cells.append(new_code_cell(f'check("{name}")'))
        for kind, text in lesson.after.get(name, []):
            cells.append(new_markdown_cell(text) if kind == "markdown" else new_code_cell(text))
    cells.append(new_markdown_cell(
        "## Check everything\n\n"
        "Every visible check, on what this notebook has run (run the cells above first, or *Run All*). The hidden "
        "checks run when your work is graded; hand in this notebook or a `.py` file with the same functions "
        "(see the README)."))
    cells.append(new_code_cell("check()"))
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"  # nbformat would draw random ids: the file must not change on each run
    notebook = new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC),
                                                   "language_info": {"name": "python"}})
    notebook["nbformat_minor"] = NOTEBOOK_MINOR
    nbformat.validate(notebook)
    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"


def _defines(source: str) -> str | None:
    """The function (or class) a code cell of the stub defines."""
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return node.name
    return None


def split_stub(stub: str) -> tuple[str, list[str]]:
    """The stub's module docstring, and its code in cells: the statements before the first function
    (imports) in one, then one per function or class, each with the comments just above it."""
    tree = ast.parse(stub)
    lines = stub.splitlines()
    body = list(tree.body)
    docstring = ast.get_docstring(tree) or ""
    start = 0  # lines[start:] are not in a cell yet
    if docstring:
        start = body.pop(0).end_lineno
    chunks: list[tuple[bool, int]] = []  # (a definition?, the last line of the chunk)
    for node in body:
        definition = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if chunks and not definition and not chunks[-1][0]:
            chunks[-1] = (False, node.end_lineno)  # consecutive imports and constants share a cell
        else:
            chunks.append((definition, node.end_lineno))
    cells = []
    for index, (_, end) in enumerate(chunks):
        end = len(lines) if index == len(chunks) - 1 else end  # trailing comments stay with the last cell
        cells.append("\n".join(lines[start:end]).strip("\n"))
        start = end
    return docstring, [cell for cell in cells if cell.strip()]

"""The generated notebooks, run as Jupyter runs them: a real kernel (ipykernel), cell by cell (nbclient).

Each notebook runs in a copy of student_template/ (the student's folder: its assignments/ holds the visible
checks only), with its check cells (``grader.live``) checking what the kernel has run:

(a) as shipped, every check cell says what is not implemented yet, and no cell raises;
(b) with the reference's functions in the function cells, every check cell passes;
(c) with one mistake in adam, adam's check cell fails saying which step and which element, every other
    function's passes.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

from grader.course import load_assignment

ASSIGNMENTS = ["optimizers", "init", "conv", "cross_entropy", "mixup", "weight_decay", "dropout", "normalization"]
ROW = re.compile(r"^  (\S+)\s+(passed|failed|error|timeout|forbidden)\s+(\S+)(?:  (.*))?$")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The student's copy of the template (no .venv of its own: the kernel is this interpreter's)."""
    target = tmp_path_factory.mktemp("student") / "homework"
    shutil.copytree(ROOT / "student_template", target)
    return target


def run(notebook: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Every cell in a fresh kernel whose working folder is ``folder``, as Run All does; a raising cell
    does not stop the run (its error is in its outputs)."""
    env = {k: v for k, v in os.environ.items() if k != "GRADER_COURSE"}  # the notebook's folder is the course
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    return notebook


def shipped(assignment: str) -> nbformat.NotebookNode:
    module = load_assignment(assignment, ROOT).spec.module
    return nbformat.read(ROOT / "student_template" / f"{module}.ipynb", as_version=4)


def filled(assignment: str, mistake: tuple[str, str, str] | None = None) -> nbformat.NotebookNode:
    """The shipped notebook with each function cell replaced by the reference's function, and the reference's
    helpers (module-level code but its functions) added to the imports cell. ``mistake``: (function, text,
    replacement) edits that function's code first."""
    task = load_assignment(assignment, ROOT)
    source = task.reference_path.read_text()
    tree = ast.parse(source)
    functions = {node.name: _unmarked(ast.get_source_segment(source, node)) for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name in task.spec.functions}
    helpers = "\n\n".join(ast.get_source_segment(source, node) for node in tree.body
                          if not (isinstance(node, ast.FunctionDef) and node.name in functions)
                          and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)))
    if mistake is not None:
        name, old, new = mistake
        assert old in functions[name], f"the mistake's text is not in the reference's {name}"
        functions[name] = functions[name].replace(old, new)
    notebook = shipped(assignment)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    code[0].source = code[0].source + "\n\n" + helpers  # the imports cell
    for cell in code:
        defined = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
        if len(defined) == 1 and defined[0] in functions and cell is not code[0]:
            cell.source = functions[defined[0]]
    return notebook


def _unmarked(function: str) -> str:
    """A reference function as a student would write it: without the stub's text (``STUDENT`` regions) and
    the marker lines of ``grader assign``."""
    lines, student = [], False
    for line in function.splitlines():
        marker = re.fullmatch(r"\s*# (BEGIN|END) (STUDENT|SOLUTION|REFERENCE)\s*", line)
        if marker:
            student = marker.groups() == ("BEGIN", "STUDENT")
        elif not student:
            lines.append(line)
    return "\n".join(lines)


def text(cell) -> str:
    return "\n".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
                     for o in cell.outputs)


def errors(notebook) -> list[str]:
    return [f"{c.source[:40]!r}: {o.ename}: {o.evalue}" for c in notebook.cells if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


def check_cells(notebook) -> dict[str, list[tuple[str, str, str]]]:
    """``check("adam")`` -> its rows (check, status, message); ``check()`` under the key "" (all)."""
    out = {}
    for cell in notebook.cells:
        found = re.fullmatch(r'check\((?:"(\w+)")?\)', cell.source.strip()) if cell.cell_type == "code" else None
        if found:
            rows = []
            for line in text(cell).splitlines():
                row = ROW.match(line)
                if row:
                    name, status, _, message = row.groups()
                    rows.append([name, status, message or ""])
                elif line.startswith("      ") and rows:  # a message's further lines
                    rows[-1][2] += "\n" + line.strip()
            out[found.group(1) or ""] = [tuple(row) for row in rows]
    return out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_as_shipped_every_check_cell_says_not_implemented_and_no_cell_raises(assignment, folder):
    notebook = run(shipped(assignment), folder)
    assert errors(notebook) == []
    cells = check_cells(notebook)
    spec = load_assignment(assignment, ROOT).spec
    assert set(cells) == {""} | {f for f in spec.functions if f not in spec.given}
    assert cells[""], "check() shows every visible check"
    for function, rows in cells.items():
        for name, status, message in rows:
            assert status != "passed" and "not implemented yet" in message, (function, name, status, message)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_with_the_reference_filled_in_every_check_cell_passes(assignment, folder):
    notebook = run(filled(assignment), folder)
    assert errors(notebook) == []
    cells = check_cells(notebook)
    failing = {f: rows for f, rows in cells.items() if any(status != "passed" for _, status, _ in rows)}
    assert not failing
    visible = [n for n, c in load_assignment(assignment, ROOT).spec.checks.items() if c.visibility == "visible"]
    assert sorted(name for name, _, _ in cells[""]) == sorted(visible)


def test_one_mistake_in_adam_fails_adams_checks_saying_where_and_no_others(folder):
    """Bias correction counted from 0 (1 − β₁^(t+1)): adam's cell names the step and the element."""
    notebook = run(filled("optimizers", ("adam", "m_hat = m / (1.0 - beta1**t)", "m_hat = m / (1.0 - beta1**(t + 1))")),
                   folder)
    assert errors(notebook) == []
    cells = check_cells(notebook)
    adam = cells.pop("adam")
    assert adam and all(status == "failed" for _, status, _ in adam)
    matches = dict((name, message) for name, _, message in adam)["adam_matches_torch"]
    assert re.search(r"step 1 of \d+: element 0 is off", matches), matches
    everything = cells.pop("")
    assert {name for name, status, _ in everything if status != "passed"} == {name for name, _, _ in adam}
    assert cells and all(status == "passed" for rows in cells.values() for _, status, _ in rows), cells
    paths = next(c for c in notebook.cells if "show_paths" in c.source)
    assert "leaves torch.optim.Adam's path at step 1" in text(paths)

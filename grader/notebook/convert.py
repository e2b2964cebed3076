"""Converting the kept statements of a notebook's cells into the module a worker imports.

The generated module runs each kept statement on its own, in order: ``compile`` of the statement's own
text, its line numbers moved to be the cell's (``ast.increment_lineno``: no padding, whose cost would
grow with the square of a long cell's length), under the file name ``cell N`` (registered in
``linecache``), then ``exec`` in the module's namespace. It differs from pasting each statement into the
module inside a ``try`` (the plainer design) for the students' sake: a traceback of a graded function reads
``File "cell 4", line 3, in adam`` with that line's code, not a line of a generated file they never saw
(each run is still marked ``# cell N`` for the TA reading the module). It also needs no re-indentation
of the student's code, which would change the value of a multi-line string. A statement that raises
(``import jax`` where the grader lacks jax, a default argument naming a later cell's constant) is
recorded as a plain string in the module-level list ``__grader_notes__`` and the rest goes on; the
worker sends that list with its hello (``worker.serve``, validated and capped on both sides), and the
judge adds it to the report's notes. Only ``Exception`` is caught: ``SystemExit`` at import stays a
load failure, as for a ``.py`` file. ``from __future__`` imports apply to the statements after them, as
in IPython.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader.notebook.ipython import strip_ipython
from grader.notebook.keep import (
    _check_statement,
    _keep,
    _Kept,
    _redefinitions,
    _Scope,
    _silent,
    _Unsafe,
)
from grader.notebook.reading import MAX_NOTEBOOK_BYTES, Cell, _first_line, _too_large, read_cells_from
from grader.notebook.source import _bound_names, _segment, _snippet

MAX_STATIC_NOTES = 40
NOTES_NAME = "__grader_notes__"  # the list the generated module fills and ``worker.serve`` reads
MAX_IMPORT_NOTES = 20            # the worker keeps at most as many (see ``worker.MAX_NOTES``)
_ONLY_DEFINITIONS = "only definitions are graded"


@dataclass(frozen=True)
class Converted:
    """The module to stage as ``<module>.py`` and what the student should know about the cells left out."""
    source: str
    notes: list[str]


def convert_file(path: Path, module: str) -> Converted:
    """Read the notebook at ``path`` and convert it (``NotebookError`` if it cannot be read as one)."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise _too_large(path.name)
    return convert_bytes(path.read_bytes(), path.name, module)


def convert_bytes(data: bytes, name: str, module: str) -> Converted:
    """``convert_file`` for a notebook already read (from a zip, say); ``name`` is its file name."""
    cells, notes = read_cells_from(data, name)
    converted = convert(cells, origin=name, module=module)
    return Converted(converted.source, notes + converted.notes)


def convert(cells: list[Cell], *, origin: str = "notebook.ipynb", module: str = "submission") -> Converted:
    """The module for ``cells`` and the notes on what was left out (see the module docstring)."""
    by_cell: dict[int, list[tuple[int, str]]] = {}  # (line, note): notes in cell and line order
    parsed: list[tuple[Cell, str, ast.Module]] = []
    for cell in cells:
        stripped = strip_ipython(cell)
        by_cell[cell.number] = list(stripped.notes)
        if stripped.source is None:
            continue
        tree = _parse_cell(cell, stripped.source, by_cell[cell.number])
        if tree is not None:
            parsed.append((cell, stripped.source, tree))
    scope = _Scope()
    for cell, _, tree in parsed:
        for stmt in tree.body:
            for name in _bound_names(stmt):
                scope.bindings.setdefault(name, []).append((cell.number, stmt.lineno))
    kept: list[tuple[Cell, str, list[_Kept]]] = []
    for cell, source, tree in parsed:
        kept.append((cell, source, _convert_cell(cell, source, tree, scope, by_cell[cell.number])))
    notes = [note for cell in cells for _, note in sorted(by_cell.pop(cell.number, []), key=lambda n: n[0])]
    notes += _redefinitions(scope)
    if len(notes) > MAX_STATIC_NOTES:
        notes = notes[:MAX_STATIC_NOTES - 1] + [f"... and {len(notes) - MAX_STATIC_NOTES + 1} more notes like these"]
    return Converted(_module_source(kept, origin, module), notes)


def _parse_cell(cell: Cell, source: str, notes: list[tuple[int, str]]) -> ast.Module | None:
    try:
        return compile(source, f"cell {cell.number}", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                       dont_inherit=True)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        notes.append((0, f"cell {cell.number} not run: a syntax error{where} ({exc.msg}), so none of its "
                      "definitions are graded"))
    except (ValueError, RecursionError, MemoryError) as exc:
        notes.append((0, f"cell {cell.number} not run: it cannot be parsed ({_first_line(exc)})"))
    return None


def _convert_cell(cell: Cell, source: str, tree: ast.Module, scope: _Scope,
                  notes: list[tuple[int, str]]) -> list[_Kept]:
    """Keep what the rule keeps, in order; note the rest (one note for a cell left out whole)."""
    lines = source.splitlines()
    kept: list[_Kept] = []
    skipped: list[tuple[ast.stmt, _Unsafe]] = []
    for stmt in tree.body:
        if _silent(stmt, scope):
            continue
        try:
            _check_statement(stmt, cell, scope)
            text = _segment(lines, stmt)
            # What the AST cannot tell (`return` outside a function...); compiling runs nothing.
            compile(ast.Module([stmt], []), f"cell {cell.number}", "exec", scope.flags, dont_inherit=True)
        except _Unsafe as why:
            skipped.append((stmt, why))
            for name in _bound_names(stmt):
                scope.skipped.setdefault(name, cell.number)
            continue
        except SyntaxError as exc:
            skipped.append((stmt, _Unsafe(f"a syntax error: {exc.msg}", definitions=False)))
            for name in _bound_names(stmt):
                scope.skipped.setdefault(name, cell.number)
            continue
        except (RecursionError, MemoryError):
            skipped.append((stmt, _Unsafe("a statement too deeply nested to examine", definitions=False)))
            continue
        kept.append(_keep(stmt, cell, text, scope))
    if skipped and not kept:
        reasons = list(dict.fromkeys(str(why) for _, why in skipped))
        shown = "; ".join(reasons[:3]) + ("; ..." if len(reasons) > 3 else "")
        suffix = f" ({_ONLY_DEFINITIONS})" if any(why.definitions for _, why in skipped) else ""
        notes.append((0, f"cell {cell.number} not run: {shown}{suffix}"))
    else:
        for stmt, why in skipped:
            suffix = f" ({_ONLY_DEFINITIONS})" if why.definitions else ""
            notes.append((stmt.lineno, f"cell {cell.number}, line {stmt.lineno}: `{_snippet(lines[stmt.lineno - 1])}` "
                          f"not run: {why}{suffix}"))
    return kept


# ----------------------------------------------------------------------------------- the module


_PRELUDE = '''"""{module}.py, generated by the grader from {origin} (grader/notebook.py): its definitions, in cell order.

Each statement runs on its own, compiled with the cell's line numbers under the file name "cell N", so a
traceback names the notebook's cell and line. One that raises is recorded in {notes_name} for the
report, and the rest goes on. The other statements of the notebook (loops, plots, prints...) are not here.
"""

{notes_name} = []


def __grader_notebook__(namespace, notes):
    import ast
    import linecache
    import os

    folder = os.path.dirname(os.path.abspath(__file__))

    def cell(number, source):
        filename = os.path.join(folder, f"cell {{number}}")
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)

    def run(number, line, source, flags, what, then):
        try:
            tree = ast.parse(source)
            ast.increment_lineno(tree, line - 1)
            exec(compile(tree, os.path.join(folder, f"cell {{number}}"), "exec", flags, True), namespace)
        except Exception as exc:
            try:
                why = " ".join(f"{{type(exc).__name__}}: {{exc}}".split())[:200]
            except Exception:
                why = type(exc).__name__
            if len(notes) < {max_notes}:
                notes.append(f"cell {{number}}, line {{line}}: {{what}} failed at import ({{why}}){{then}}")
'''

_POSTLUDE = '''

__grader_notebook__(globals(), {notes_name})
del __grader_notebook__
'''


def _module_source(kept: list[tuple[Cell, str, list[_Kept]]], origin: str, module: str) -> str:
    """The generated module: a prelude, then for each cell with kept statements its source (for tracebacks)
    and one ``run`` per statement, marked ``# cell N``."""
    parts = [_PRELUDE.format(module=module, origin=re.sub(r"[^\w.() -]", "_", origin), notes_name=NOTES_NAME,
                             max_notes=MAX_IMPORT_NOTES)]
    for cell, source, statements in kept:
        if not statements:
            continue
        parts.append(f"\n    # cell {cell.number}\n    cell({cell.number}, {source!r})\n")
        for k in statements:
            parts.append(f"    # cell {k.cell}, line {k.line}\n"
                         f"    run({k.cell}, {k.line}, {k.text!r}, {k.flags}, {k.what!r}, {k.then!r})\n")
    if not any(statements for _, _, statements in kept):
        parts.append("    pass  # nothing in the notebook is a definition\n")
    parts.append(_POSTLUDE.format(notes_name=NOTES_NAME))
    return "".join(parts)

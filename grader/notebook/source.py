"""Source handling the other steps share: the names a statement binds, its own text (decorators
included) and a short quote of it for a note."""

from __future__ import annotations

import ast

SNIPPET = 60


def _bound_names(stmt: ast.stmt) -> set[str]:
    """Top-level names a statement binds (not those of a function's or class's own scope)."""
    names: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return names


def _decorators(stmt: ast.stmt) -> list[ast.expr]:
    return getattr(stmt, "decorator_list", [])


def _start_line(stmt: ast.stmt) -> int:
    return min([stmt.lineno, *(d.lineno for d in _decorators(stmt))])


def _segment(lines: list[str], stmt: ast.stmt) -> str:
    """The statement's own text (decorators included; another statement on its lines, after ``;``, left out).
    AST columns count UTF-8 bytes."""
    first, last = _start_line(stmt), stmt.end_lineno
    start_col = 0 if _decorators(stmt) else stmt.col_offset
    chunk = [line.encode() for line in lines[first - 1:last]]
    if first == last:
        chunk[0] = chunk[0][start_col:stmt.end_col_offset]
    else:
        chunk[0], chunk[-1] = chunk[0][start_col:], chunk[-1][:stmt.end_col_offset]
    return b"\n".join(chunk).decode("utf-8", "replace")


def _snippet(text: str, width: int = SNIPPET) -> str:
    """The first line of ``text``, shortened, to quote in a note."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    line = line.replace("`", "'")
    return line if len(line) <= width else line[:width - 1] + "…"

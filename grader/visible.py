"""What of an assignment's checks a student may see: exactly the visible checks, decided by the spec.

Visibility is declared once, in ``assignment.toml`` (``visibility = "visible"`` or ``"hidden"``), never by
a file's name. ``grader assign`` ships, for each file of ``checks/``:

* a file of checks (it defines ``test_*`` functions): its visible checks and what they reach (helpers,
  fixtures, constants, imports), with every hidden check and whatever only hidden checks use left out;
  a file with no visible check is not shipped;
* a helper module (no ``test_*``): only if a shipped file loads it (``load_sibling(__file__, "name")``),
  and only the names the shipped code reaches (``common.name``);
* ``mistakes.py``, the catalogue of known mistakes (right formulas with one thing changed): never.

A file nothing is taken from is shipped byte for byte; otherwise the kept statements keep their text
(comments inside them too), and an import keeps only the names still used.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

CATALOGUE = "mistakes.py"


def visible_checks(checks_dir: Path, visible: set[str]) -> dict[str, str]:
    """``{file name: text}`` of ``checks_dir`` that a student gets, ``visible`` being the spec's visible checks."""
    trees = {p.name: (p.read_text(encoding="utf-8"), ast.parse(p.read_text(encoding="utf-8"), str(p)))
             for p in sorted(checks_dir.glob("*.py")) if p.name != CATALOGUE}
    roots: dict[str, set[str]] = {}  # file -> top-level names its shipped part must keep
    for name, (_, tree) in trees.items():
        tests = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name.startswith("test_")]
        if tests and any(t.removeprefix("test_") in visible for t in tests):
            roots[name] = {t for t in tests if t.removeprefix("test_") in visible}
    kept: dict[str, set[str]] = {}
    changed = True
    while changed:  # helpers reached by kept code may reach further helpers
        changed = False
        for name, wanted in list(roots.items()):
            if name not in trees:
                continue
            names, siblings = _closure(trees[name][1], wanted)
            if kept.get(name) != names:
                kept[name], changed = names, True
            for sibling, used in siblings.items():
                file = f"{sibling}.py"
                if file in trees and not used <= roots.get(file, set()):
                    roots[file] = roots.get(file, set()) | used
                    changed = True
    return {name: _text(*trees[name], kept[name]) for name in sorted(kept)}


def _defined(node: ast.stmt) -> set[str]:
    """The top-level names a statement binds."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used(node: ast.AST) -> set[str]:
    """Names a statement reads, fixtures its functions ask for included (pytest passes them by name)."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    for fn in ast.walk(node):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names |= {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    return names


def _siblings(tree: ast.Module) -> dict[str, str]:
    """``{variable: module}`` for ``variable = load_sibling(__file__, "module")`` at the top level."""
    out = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "load_sibling"
                and len(node.value.args) == 2 and isinstance(node.value.args[1], ast.Constant)):
            out[node.targets[0].id] = node.value.args[1].value
    return out


def _closure(tree: ast.Module, roots: set[str]) -> tuple[set[str], dict[str, set[str]]]:
    """The top-level names kept from ``roots`` on (every statement that binds no name is kept, and what it
    reads), and ``{sibling module: names the kept code reads from it}``."""
    siblings = _siblings(tree)
    keep, todo = set(), set(roots)
    for node in tree.body:
        if not _defined(node):
            todo |= _used(node)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        for node in tree.body:
            if name in _defined(node) and not isinstance(node, (ast.Import, ast.ImportFrom)):
                todo |= _used(node) - keep
    reached: dict[str, set[str]] = {}
    for node in tree.body:
        if _is_kept(node, keep):
            for n in ast.walk(node):
                if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in siblings:
                    reached.setdefault(siblings[n.value.id], set()).add(n.attr)
    return keep, reached


def _is_kept(node: ast.stmt, keep: set[str]) -> bool:
    defined = _defined(node)
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return True
    return not defined or bool(defined & keep)


def _text(source: str, tree: ast.Module, keep: set[str]) -> str:
    """``source`` with the statements not kept cut out (with the comments right above them), and each
    import reduced to the names kept; byte for byte when nothing is cut."""
    lines = source.splitlines(keepends=True)
    cuts: list[tuple[int, int, str]] = []  # (first line, last line, replacement), 0-based, inclusive
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        last = node.end_lineno - 1
        if not _is_kept(node, keep):
            while first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            if 0 < first and last + 1 < len(lines) and not lines[first - 1].strip() and not lines[last + 1].strip():
                last += 1  # one blank line where the statement was between two
            cuts.append((first, last, ""))
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom)
                                                                     and node.module == "__future__"):
            names = [a for a in node.names if (a.asname or a.name).split(".")[0] in keep]
            if len(names) != len(node.names):
                reduced = type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": names})
                noqa = "  # noqa: F401 - the checks use them as <module>.<name>" if "noqa" in "".join(
                    lines[first:last + 1]) else ""
                cuts.append((first, last, ast.unparse(reduced) + noqa + "\n"))
    if not cuts:
        return source
    out, at = [], 0
    for first, last, replacement in sorted(cuts):
        out += lines[at:first]
        out.append(replacement)
        at = last + 1
    out += lines[at:]
    text = re.sub(r"\n{3,}(?=\S)", "\n\n\n", "".join(out))
    return text.rstrip("\n") + "\n"

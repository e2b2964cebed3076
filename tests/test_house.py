"""The house rules of grader/: one room per job (no module much over 400 lines) and data flowing one way (no
two modules import each other, directly or round a longer loop)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "grader"
MAX_LINES = 430  # "about 400": a module past this has two jobs; split it


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The grader modules ``path`` imports, anywhere in it (a function-level import is an import too);
    ``from grader import figures`` is an import of ``grader.figures``, not of the package."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("grader"):
            subs = {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
            out |= subs or {node.module}
            if subs and len(subs) < len(node.names):
                out.add(node.module)
    return out


def test_no_module_is_much_over_400_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_two_modules_import_each_other():
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    for name in list(graph):  # a package's own submodules importing it back is how packages are built
        graph[name] = {d for d in graph[name] if not (d != "grader" and name.startswith(d + "."))}
        if name == "grader":
            graph[name] = set()  # its public names are imported lazily (PEP 562)
    cycles = []

    def visit(node: str, path: list[str], seen: set[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            if dep == path[0]:
                cycles.append(" -> ".join([*path, dep]))
            elif dep not in seen and dep > path[0]:  # each cycle once, from its smallest module
                seen.add(dep)
                visit(dep, [*path, dep], seen)

    for start in sorted(graph):
        visit(start, [start], {start})
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    """The test above would see two modules that import each other inside functions."""
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("def f():\n    from grader.html import render\n")
    b.write_text("from grader import exports\n")
    known = {"grader.html": b, "grader.exports": a}
    assert imports(a, known) == {"grader.html"} and imports(b, known) == {"grader.exports"}

"""Which of a submission's functions use a forbidden routine, found by reading its source.

The judge parses the student's file with ``ast`` (parsing runs no code) and follows names through
imports, aliases (``import torch.optim as o``, ``from torch import optim``, ``Adam = torch.optim.Adam``),
strings given to ``importlib.import_module``/``__import__``, and calls between the module's own
functions. A check that exercises a tainted function scores zero with status ``forbidden``.
"""

from __future__ import annotations

import ast


def _matches(dotted: str, forbidden: list[str]) -> str | None:
    for name in forbidden:
        if dotted == name or dotted.startswith(name + "."):
            return name
    return None


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    base = aliases.get(node.id, node.id)
    return ".".join([base, *reversed(parts)])


def _collect_aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    # Second pass: plain assignments of a dotted name (``Adam = torch.optim.Adam``).
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            dotted = _dotted(node.value, aliases)
            if dotted and "." in dotted:
                aliases[node.targets[0].id] = dotted
    return aliases


def _uses(body: ast.AST, aliases: dict[str, str], forbidden: list[str]) -> str | None:
    """The first forbidden use inside ``body``, described with its line, or None."""
    for node in ast.walk(body):
        found = None
        if isinstance(node, ast.Import):
            found = next((a.name for a in node.names if _matches(a.name, forbidden)), None)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found = next((f"{node.module}.{a.name}" for a in node.names
                          if _matches(f"{node.module}.{a.name}", forbidden)), None)
        elif isinstance(node, (ast.Name, ast.Attribute)):
            dotted = _dotted(node, aliases)
            if dotted and _matches(dotted, forbidden):
                found = dotted
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value  # importlib.import_module("torch.optim"), __import__(...)
            if isinstance(name, str) and _matches(name, forbidden):
                found = name
        if found:
            return f"{found} (line {node.lineno})"
    return None


def forbidden_uses(source: str, forbidden: list[str], functions: list[str]) -> dict[str, str]:
    """Map each of ``functions`` that uses a forbidden name, directly or through a helper of the
    module, to a message for the student. ``SyntaxError`` propagates."""
    if not forbidden:
        return {}
    tree = ast.parse(source)
    aliases = _collect_aliases(tree)
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    direct = {name: _uses(node, aliases, forbidden) for name, node in defs.items()}
    calls = {name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in defs and n.id != name}
             for name, node in defs.items()}

    def reason(name: str, seen: frozenset[str]) -> str | None:
        if direct.get(name):
            return direct[name]
        for callee in sorted(calls.get(name, ())):
            if callee not in seen and (why := reason(callee, seen | {callee})):
                return f"{why}, through {callee}()"
        return None

    out = {}
    for fn in functions:
        why = reason(fn, frozenset({fn}))
        if why:
            out[fn] = f"{fn} uses {why}, which this assignment forbids; the checks of {fn} score 0"
    return out

"""IPython syntax: a notebook's code cell as plain Python, with the cell's line numbers.

``strip_ipython`` turns each code cell into plain Python with the same line numbers: line magics
(``%matplotlib inline``), shell escapes (``!pip install``), ``x = !ls`` and ``x = %sx ls`` forms and
``obj?`` / ``??obj`` help lines become ``pass`` (and the continuation lines of a magic ending in ``\\``
become blank), so the line numbers of the notes and of tracebacks are the cell's own. Only lines that
start a logical line count: a ``%`` that continues an expression inside brackets is Python's modulo.
A cell magic makes the whole cell something else, except ``%%time``, ``%%capture`` and ``%%prun``,
which run their body as ordinary Python in the notebook's namespace: their body is graded. The rest
are skipped whole: ``%%bash``, ``%%writefile``, ``%%html``..., and also ``%%timeit`` (IPython runs the
body in a scope of its own, so what it defines never reaches the notebook) and ``%%python``/``%%script``
(another process).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.notebook.reading import Cell
from grader.notebook.source import _snippet

# Cell magics whose body is ordinary Python run in the notebook's namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun"})
_HELP = re.compile(r"^(\?{1,2})?[A-Za-z_][\w.]*(\?{1,2})?$")
_SHELL_ASSIGN = re.compile(r"^[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*=\s*([!%])")


@dataclass
class Stripped:
    """A cell as plain Python with its line numbers unchanged; ``source`` None when the cell is not Python.
    ``notes``: (line in the cell, 0 for the whole cell; the note)."""
    source: str | None
    notes: list[tuple[int, str]] = field(default_factory=list)


def strip_ipython(cell: Cell) -> Stripped:
    """Replace IPython-only lines (magics, shell escapes, help) by ``pass``; see the module docstring."""
    lines = cell.source.splitlines()
    notes: list[tuple[int, str]] = []
    magic_line = next((i for i, line in enumerate(lines) if line.strip()), None)
    if magic_line is not None and lines[magic_line].lstrip().startswith("%%"):
        words = lines[magic_line].strip()[2:].split()
        magic = words[0] if words else ""
        if magic not in PYTHON_CELL_MAGICS:
            why = {"timeit": "IPython times it in a scope of its own, so what it defines is not kept",
                   "python": "it runs in another process", "python3": "it runs in another process",
                   "script": "it runs in another process"}.get(magic, "not Python")
            return Stripped(None, [(0, f"cell {cell.number} not run: a %%{magic} cell ({why})")])
        notes.append((magic_line + 1, f"cell {cell.number}, line {magic_line + 1}: `%%{magic}` skipped (cell magic; "
                      "the cell's code is graded as usual)"))
        lines[magic_line] = "pass"
    else:
        magic_line = None
    scanner = _LineScanner()
    continued = False
    for i, line in enumerate(lines):
        if continued:  # the rest of a magic continued with a backslash
            continued, lines[i] = line.rstrip().endswith("\\"), ""
            continue
        kind = _ipython_kind(line) if scanner.at_start() and i != magic_line else None
        if kind is None:
            scanner.feed(line)
            continue
        notes.append((i + 1, f"cell {cell.number}, line {i + 1}: `{_snippet(line)}` skipped ({kind})"))
        continued = line.rstrip().endswith("\\")
        lines[i] = line[:len(line) - len(line.lstrip())] + "pass"
    return Stripped("\n".join(lines) + "\n", notes)


def _ipython_kind(line: str) -> str | None:
    """What IPython-only line this is, if it is one (``line`` starts a logical line)."""
    body = line.strip()
    if body.startswith("!"):
        return "shell command"
    if body.startswith("%"):
        return "IPython magic"
    assigned = _SHELL_ASSIGN.match(body)
    if assigned:
        return "shell command" if assigned[2] == "!" else "IPython magic"
    help_line = _HELP.match(body)
    if help_line and (help_line[1] or help_line[2]):
        return "help"
    return None


class _LineScanner:
    """Just enough of Python's tokenizer to tell whether the next line starts a logical line: open brackets,
    open strings (triple-quoted ones across lines) and backslash continuations are tracked."""

    def __init__(self):
        self.depth = 0
        self.quote: str | None = None  # the open string's delimiter: ', ", ''' or \"\"\"
        self.backslash = False

    def at_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.backslash

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        comment = False
        while i < n:
            c = line[i]
            if self.quote is not None:
                if c == "\\":
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                    continue
                i += 1
                continue
            if c == "#":
                comment = True
                break
            if c in "'\"":
                self.quote = c * 3 if line.startswith(c * 3, i) else c
                i += len(self.quote)
                continue
            if c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        ends_in_backslash = line.endswith("\\") and (len(line) - len(line.rstrip("\\"))) % 2 == 1
        if self.quote is not None and len(self.quote) == 1 and not ends_in_backslash:
            self.quote = None  # an unterminated string: a syntax error the parser will report
        self.backslash = ends_in_backslash and not comment and self.quote is None

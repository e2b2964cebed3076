"""Jupyter notebooks as submissions: the definitions a notebook makes, as a module a worker can import.

A notebook is graded as "Run All" would leave its namespace, without running what is not a definition:
its imports, functions, classes and constants, in cell order, a later definition of a name replacing an
earlier one. Demo loops, training runs, plots and prints are not run at all (one ``while True: pass``
would otherwise cost the student every check), and each statement that is left out is named in the
report's ``notes``, with its cell and why.

How (all of it in the judge, at staging time; nothing of the notebook runs here):

1. ``read_cells`` reads the file with ``nbformat`` (after a plain ``json`` parse, whose errors say
   where the file is broken) and checks it: a corrupt file, JSON that is not a notebook, a notebook of
   another language, one without code or with more than 1 MiB of it (conversion is linear, but a judge
   must not spend minutes on one file) is a ``NotebookError``. A notebook that Jupyter would still open
   but that breaks nbformat's schema in some detail (a stray key, a missing cell id) is graded, with a
   note; refusing it would zero a student for their editor's quirk.
2. ``strip_ipython`` turns each code cell into plain Python with the same line numbers: line magics
   (``%matplotlib inline``), shell escapes (``!pip install``), ``x = !ls`` and ``x = %sx ls`` forms and
   ``obj?`` / ``??obj`` help lines become ``pass`` (and the continuation lines of a magic ending in ``\\``
   become blank), so the line numbers of the notes and of tracebacks are the cell's own. Only lines that
   start a logical line count: a ``%`` that continues an expression inside brackets is Python's modulo.
   A cell magic makes the whole cell something else, except ``%%time``, ``%%capture`` and ``%%prun``,
   which run their body as ordinary Python in the notebook's namespace: their body is graded. The rest
   are skipped whole: ``%%bash``, ``%%writefile``, ``%%html``..., and also ``%%timeit`` (IPython runs the
   body in a scope of its own, so what it defines never reaches the notebook) and ``%%python``/``%%script``
   (another process).
3. ``convert`` parses each cell with ``ast`` (a cell that does not parse is skipped whole, with its
   error's line within the cell) and keeps top-level statements by this rule:

   - imports (all of them: an import runs a library's code, as a ``.py`` submission's imports do);
   - ``def``, ``async def`` and ``class`` (their decorators, defaults and bases run when defined, and a
     class body runs whole, as Run All would run them: notebooks put methods and class attributes there);
   - assignments (``=``, annotated, augmented) to names, or to an item of a name already defined, whose
     value is a *safe expression*: literals; names an earlier kept statement defined, builtins; arithmetic,
     comparisons, ``and``/``or``, ``x if c else y``; tuples, lists, sets, dicts, f-strings; attribute access
     and subscripts; lambdas (their body runs only when called); and calls of a short list of cheap, pure
     functions (``SAFE_CALLS``: ``math.sqrt``, ``np.float64``, ``np.array``, ``torch.tensor``,
     ``functools.partial``...), looked up through the notebook's own imports (``np`` is ``numpy`` only if
     the notebook imported it so). Never a call of anything else (``train(...)``, ``np.load``, ``open``,
     ``input``, a method), no comprehension (a loop), and a power or shift only with a literal exponent up
     to 1024 (``2 ** 10 ** 10`` would not finish);
   - ``if`` and ``try`` blocks whose test is safe and every statement of which is kept by this rule
     (``try: import jax / except ImportError: jax = None``), but never ``if __name__ == "__main__":``.

   Everything else is skipped and noted: loops (a "training loop" when it looks like one), ``with``
   blocks, calls (prints, plots, ``display``), bare expressions, ``del``, ``assert``. Docstrings and ``pass``
   are dropped silently. An assignment that uses a name no earlier kept statement defines is skipped with
   the reason found statically ("defined only later, in cell 8": Run All would fail there too; "set by a
   statement that is not run"), which says more than the ``NameError`` it would raise.
4. The generated module runs each kept statement on its own, in order: ``compile`` of the statement's own
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

Out-of-order notebooks are graded in cell order, as Run All would run them; statements that failed are not
retried after the rest. A retry could let a stale definition, fixed in a later cell, replace the fix.
Cells are numbered from 1 among all the notebook's cells, markdown included: "cell 7" is the seventh
cell from the top.
"""

from __future__ import annotations
import __future__

import ast
import bisect
import builtins
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 64 << 20  # plots are stored in the file as base64 images: notebooks get large
MAX_CODE_BYTES = 1 << 20       # the code of all cells: a homework is far smaller; converting costs ~60 µs a line
MAX_STATIC_NOTES = 40
NOTES_NAME = "__grader_notes__"  # the list the generated module fills and ``worker.serve`` reads
MAX_IMPORT_NOTES = 20            # the worker keeps at most as many (see ``worker.MAX_NOTES``)
MAX_POWER = 1024                 # the largest literal exponent (or shift) of a kept constant
SNIPPET = 60

# Cell magics whose body is ordinary Python run in the notebook's namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun"})

# Calls a kept constant may make: cheap, without side effects, by qualified name. Container builders take
# what is already built (no range: ``list(range(10**9))``); array builders fail fast past the memory limit.
SAFE_CALLS = frozenset(
    [f"builtins.{n}" for n in ("abs bool complex dict divmod float frozenset int len list max min round "
                               "set slice sorted str tuple").split()]
    + [f"math.{n}" for n in ("acos asin atan atan2 ceil copysign cos cosh degrees exp expm1 fabs floor fmod "
                             "hypot isclose isfinite isinf isnan log log10 log1p log2 pow radians sin sinh "
                             "sqrt tan tanh trunc").split()]
    + [f"numpy.{n}" for n in ("array asarray float16 float32 float64 int8 int16 int32 int64 uint8 bool_ "
                              "complex64 complex128 dtype finfo iinfo sqrt exp log log2 log10 sin cos tan tanh "
                              "abs deg2rad rad2deg zeros ones full eye arange linspace zeros_like ones_like "
                              "full_like isclose random.default_rng").split()]
    + [f"torch.{n}" for n in ("tensor as_tensor zeros ones full eye arange linspace zeros_like ones_like "
                              "device cuda.is_available backends.mps.is_available").split()]
    + ["functools.partial", "collections.namedtuple", "collections.OrderedDict", "collections.defaultdict",
       "typing.NamedTuple", "typing.TypeVar", "typing.NewType", "dataclasses.field", "fractions.Fraction"]
)
_BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__"}
_TRAINING_WORDS = ("backward", "train", "epoch", ".step(", "zero_grad", "optimizer")
_PLOT_MODULES = ("matplotlib", "seaborn", "plotly")
_PLOT_CALLS = frozenset({"plot", "show", "imshow", "scatter", "hist", "savefig", "figure", "subplots", "bar",
                         "legend", "xlabel", "ylabel", "title"})
_HELP = re.compile(r"^(\?{1,2})?[A-Za-z_][\w.]*(\?{1,2})?$")
_SHELL_ASSIGN = re.compile(r"^[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*\s*=\s*([!%])")
_ONLY_DEFINITIONS = "only definitions are graded"


class NotebookError(ValueError):
    """The file cannot be graded as a notebook; the message says why, for the student's report."""


@dataclass(frozen=True)
class Cell:
    """A code cell: its place among all the notebook's cells (from 1) and its source."""
    number: int
    source: str


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


def _too_large(name: str) -> NotebookError:
    return NotebookError(f"{name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB: clear its outputs "
                         "(Edit > Clear All Outputs) and hand it in again")


# --------------------------------------------------------------------------------------------- reading


def read_cells(path: Path) -> tuple[list[Cell], list[str]]:
    """The notebook's code cells, and notes on how it was read. Runs nothing of it."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise _too_large(path.name)
    return read_cells_from(path.read_bytes(), path.name)


def read_cells_from(data: bytes, name: str) -> tuple[list[Cell], list[str]]:
    """``read_cells`` of a notebook's bytes; ``name`` is its file name, for messages."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise _too_large(name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{name} is not a readable notebook: it is not UTF-8 text (byte {exc.start})") from None
    raw = _parse_json(text, name)
    if not isinstance(raw, dict) or "nbformat" not in raw or not ("cells" in raw or "worksheets" in raw):
        raise NotebookError(f'{name} is not a Jupyter notebook: it is JSON, but without a notebook\'s '
                            f'"nbformat" and "cells" fields')
    notebook, invalid = _read_with_nbformat(text, name)
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(_usable(c) for c in cells):
        raise NotebookError(f"{name} is not a valid notebook: {invalid or 'its cells cannot be read'}")
    _check_language(notebook, name)
    code = [Cell(number, _clean(c["source"])) for number, c in enumerate(cells, start=1)
            if c["cell_type"] == "code" and c["source"].strip()]
    if not code:
        raise NotebookError(f"{name} has no code: none of its cells holds code to grade")
    if sum(len(c.source.encode()) for c in code) > MAX_CODE_BYTES:
        raise NotebookError(f"the code of {name} is larger than {MAX_CODE_BYTES >> 20} MiB")
    notes = [f"{name} does not quite follow the notebook format ({invalid}); it was graded anyway"] if invalid else []
    return code, notes


def _parse_json(text: str, name: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not a readable notebook: its JSON is broken at line {exc.lineno}, column "
                            f"{exc.colno} ({exc.msg}); was it saved completely?") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a readable notebook: its JSON is nested too deeply") from None


def _read_with_nbformat(text: str, name: str) -> tuple[dict, str]:
    """The notebook upgraded to nbformat 4, and what nbformat's schema validation found wrong ('' if nothing)."""
    import nbformat  # here, not at the top: only staging a notebook needs it

    captured: dict = {}
    try:
        with warnings.catch_warnings():  # e.g. cells without ids: the note says what matters
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error=captured)
    except Exception as exc:  # nbformat raises many kinds on malformed input
        raise NotebookError(f"{name} is not a valid notebook: {_first_line(exc)}") from None
    error = captured.get("ValidationError")
    return notebook, _first_line(error) if error is not None else ""


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0][:200]


def _usable(cell: object) -> bool:
    return (isinstance(cell, dict) and isinstance(cell.get("cell_type"), str)
            and isinstance(cell.get("source"), str))


def _check_language(notebook: dict, name: str) -> None:
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    kernel, info = metadata.get("kernelspec"), metadata.get("language_info")
    language = (kernel.get("language") if isinstance(kernel, dict) else None) or \
               (info.get("name") if isinstance(info, dict) else None)
    if isinstance(language, str) and language.strip() and not language.lower().startswith(("python", "ipython")):
        raise NotebookError(f"{name} runs {language.strip()[:40]}, not Python (its kernel's language): this "
                            "assignment is graded in Python")


def _clean(source: str) -> str:
    """Lone surrogates (JSON allows them) made replaceable, so the module can be written as UTF-8."""
    return source.encode("utf-8", "replace").decode("utf-8")


# ------------------------------------------------------------------------------------ IPython syntax


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


# -------------------------------------------------------------------------------------- converting


@dataclass
class _Scope:
    """What the statements kept so far define, as the converter walks the notebook in order."""
    bound: dict[str, int] = field(default_factory=dict)       # name -> cell of the kept statement binding it
    aliases: dict[str, str] = field(default_factory=dict)     # local name -> qualified name, from kept imports
    star: bool = False                                        # a kept ``from x import *``: any name may exist
    flags: int = 0                                            # ``from __future__`` compiler flags so far
    bindings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # every binding: (cell, line)
    skipped: dict[str, int] = field(default_factory=dict)     # name -> cell of a skipped statement binding it
    definitions: dict[str, list[int]] = field(default_factory=dict)  # def/class name -> cells, kept


@dataclass
class _Kept:
    cell: int
    line: int
    text: str
    flags: int
    what: str
    then: str


class _Unsafe(Exception):
    """Why a statement is not kept: a noun phrase, e.g. "a training loop". ``definitions``: because it is not a
    definition (the note says that only definitions are graded), rather than a constant the rule refused."""

    def __init__(self, why: str, *, definitions: bool = True):
        super().__init__(why)
        self.definitions = definitions


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
        if _silent(stmt):
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


def _silent(stmt: ast.stmt) -> bool:
    """Dropped without a note: ``pass`` (a stripped magic, too) and docstrings or other bare literals."""
    return isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))


def _keep(stmt: ast.stmt, cell: Cell, text: str, scope: _Scope) -> _Kept:
    """Record what a kept statement defines, and how a failure of it at import will read."""
    names = sorted(_bound_names(stmt))
    earlier = [n for n in names if n in scope.bound]
    flags = scope.flags
    if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
        for alias in stmt.names:
            feature = getattr(__future__, alias.name, None)
            scope.flags |= getattr(feature, "compiler_flag", 0)
    _update_aliases(stmt, scope)
    for name in names:
        scope.bound[name] = cell.number
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        scope.definitions.setdefault(stmt.name, []).append(cell.number)
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        then = f"; functions that use {_names(names)} will fail" if names else ""
    elif not names:
        then = ""
    elif earlier:
        then = f", so {_names(earlier)} keep{'s' if len(earlier) == 1 else ''} the earlier definition"
    else:
        then = f", so {_names(names)} {'is' if len(names) == 1 else 'are'} not defined"
    return _Kept(cell.number, _start_line(stmt), text, flags, f"`{_snippet(text)}`", then)


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _update_aliases(stmt: ast.stmt, scope: _Scope) -> None:
    """``import numpy as np`` makes ``np`` mean ``numpy``; any other binding of ``np`` ends that."""
    for name in _bound_names(stmt):
        scope.aliases.pop(name, None)
    for inner in _statements(stmt):
        if isinstance(inner, ast.Import):
            for alias in inner.names:
                top = alias.name.split(".")[0]
                scope.aliases[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
            for alias in inner.names:
                if alias.name == "*":
                    scope.star = True
                else:
                    scope.aliases[alias.asname or alias.name] = f"{inner.module}.{alias.name}"


def _statements(stmt: ast.stmt):
    """``stmt`` and the statements of its ``if`` and ``try`` blocks, not those of functions or classes."""
    yield stmt
    if isinstance(stmt, (ast.If, ast.Try)):
        blocks = [stmt.body, stmt.orelse, *([stmt.finalbody] + [h.body for h in stmt.handlers]
                                            if isinstance(stmt, ast.Try) else [])]
        for block in blocks:
            for inner in block:
                yield from _statements(inner)


def _redefinitions(scope: _Scope) -> list[str]:
    """A function or class defined in several cells: which one is graded (the last, as Run All leaves it)."""
    notes = []
    for name, cells in scope.definitions.items():
        if len(set(cells)) > 1:
            listed = ", ".join(str(c) for c in dict.fromkeys(cells))
            notes.append(f"`{name}` is defined in cells {listed}: the one in cell {cells[-1]} is graded, "
                         "as Run All would leave it")
    return notes


# ------------------------------------------------------------------------------- the keeping rule


def _check_statement(stmt: ast.stmt, cell: Cell, scope: _Scope) -> None:
    """Return if ``stmt`` is kept by the rule of the module docstring; raise ``_Unsafe`` with why not."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        _check_assignment(stmt, cell, scope)
        return
    if isinstance(stmt, ast.If):
        if _is_main_guard(stmt.test):
            raise _Unsafe('the `if __name__ == "__main__":` block')
        try:
            _check_expr(stmt.test, cell, stmt.lineno, scope)
            _check_block(stmt.body + stmt.orelse, cell, scope)
        except _Unsafe:
            raise _Unsafe("an `if` block that runs more than definitions") from None
        return
    if isinstance(stmt, ast.Try):
        try:
            _check_block(stmt.body + stmt.orelse + stmt.finalbody, cell, scope)
            for handler in stmt.handlers:
                if handler.type is not None:
                    _check_expr(handler.type, cell, handler.lineno, scope)
                _check_block(handler.body, cell, scope)
        except _Unsafe:
            raise _Unsafe("a `try` block that runs more than definitions") from None
        return
    raise _Unsafe(_what_it_is(stmt, scope))


def _check_block(body: list[ast.stmt], cell: Cell, scope: _Scope) -> None:
    for inner in body:
        if not _silent(inner):
            _check_statement(inner, cell, scope)


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and any(isinstance(side, ast.Name) and side.id == "__name__"
                                                  for side in [test.left, *test.comparators]))


def _what_it_is(stmt: ast.stmt, scope: _Scope) -> str:
    """A statement the rule never keeps, as the student would call it."""
    if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
        text = ast.unparse(stmt).lower()
        return "a training loop" if any(word in text for word in _TRAINING_WORDS) else "a loop"
    if isinstance(stmt, ast.Expr):
        value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
        return _what_call(value, scope) if isinstance(value, ast.Call) else "an expression (only displayed)"
    return {ast.With: "a `with` block", ast.AsyncWith: "a `with` block", ast.Delete: "a `del`",
            ast.Assert: "an `assert` (the grader runs its own checks)", ast.Raise: "a `raise`",
            ast.Global: "a `global` statement", ast.Nonlocal: "a `nonlocal` statement",
            ast.Match: "a `match` statement", ast.Return: "a `return` outside a function",
            ast.Break: "a `break` outside a loop", ast.Continue: "a `continue` outside a loop",
            }.get(type(stmt), "not a definition")


def _what_call(call: ast.Call, scope: _Scope) -> str:
    name = _qualified(call.func, scope) or ""
    short = _callee(call.func)
    last = short.rsplit(".", 1)[-1]
    if name in ("builtins.print", "pprint.pprint") or short in ("print", "pprint"):
        return "a print"
    if last == "display" or name.startswith("IPython.display"):
        return "a display"
    if name.startswith(_PLOT_MODULES) or last in _PLOT_CALLS or short.startswith(("plt.", "sns.")):
        return "a plot"
    if "train" in last.lower() or last in ("fit",):
        return f"a training run (a call of `{short}`)"
    return f"a call of `{short}`"


def _check_assignment(stmt: ast.Assign | ast.AnnAssign | ast.AugAssign, cell: Cell, scope: _Scope) -> None:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    for target in targets:
        _check_target(target, cell, stmt.lineno, scope)
    try:
        if isinstance(stmt, ast.AnnAssign) and not scope.flags & __future__.annotations.compiler_flag:
            _check_expr(stmt.annotation, cell, stmt.lineno, scope)
        if isinstance(stmt, ast.AugAssign):
            _check_expr(ast.BinOp(ast.Name(stmt.target.id, ast.Load()) if isinstance(stmt.target, ast.Name)
                                  else stmt.target, stmt.op, stmt.value), cell, stmt.lineno, scope)
        elif stmt.value is not None:
            _check_expr(stmt.value, cell, stmt.lineno, scope)
    except _Unsafe as why:
        raise _Unsafe(f"an assignment that {why}", definitions=False) from None


def _check_target(target: ast.expr, cell: Cell, line: int, scope: _Scope) -> None:
    """Names (in tuples, starred), or an item of a name already defined (``CONFIG["lr"] = 0.1``)."""
    if isinstance(target, ast.Name):
        return
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _check_target(element, cell, line, scope)
        return
    if isinstance(target, ast.Starred):
        _check_target(target.value, cell, line, scope)
        return
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
        try:
            _check_expr(target.value, cell, line, scope)
            _check_expr(target.slice, cell, line, scope)
            return
        except _Unsafe:
            pass
    raise _Unsafe(f"an assignment to `{_snippet(ast.unparse(target))}`, not to a name")


def _check_expr(node: ast.expr, cell: Cell, line: int, scope: _Scope) -> None:
    """Raise ``_Unsafe`` (a verb phrase: "calls `train`") unless ``node`` is a safe expression."""
    if isinstance(node, ast.Constant):
        return
    if isinstance(node, ast.Name):
        _check_name(node.id, cell, line, scope)
        return
    if isinstance(node, ast.Call):
        _check_call(node, cell, line, scope)
        return
    if isinstance(node, ast.Lambda):  # the body runs only when called; the defaults run now
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            _check_expr(default, cell, line, scope)
        return
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        raise _Unsafe("has a comprehension (a loop)")
    if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
        raise _Unsafe(f"has {'an `await`' if isinstance(node, ast.Await) else 'a `yield` or `:=`'}")
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.LShift)) and not _small_literal(node.right):
        raise _Unsafe(f"has the exponent (or shift) `{_snippet(ast.unparse(node.right))}`: only literal ones up to "
                      f"{MAX_POWER} are run, so that a constant cannot take forever")
    if not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Tuple, ast.List,
                             ast.Set, ast.Dict, ast.Starred, ast.Attribute, ast.Subscript, ast.Slice,
                             ast.JoinedStr, ast.FormattedValue)):
        raise _Unsafe(f"uses `{_snippet(ast.unparse(node))}`")
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            _check_expr(child, cell, line, scope)


def _small_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return (isinstance(node, ast.Constant) and type(node.value) in (int, float, bool)
            and abs(node.value) <= MAX_POWER)


def _check_name(name: str, cell: Cell, line: int, scope: _Scope) -> None:
    if name in scope.bound or scope.star or name in _BUILTINS:
        return
    bindings = scope.bindings.get(name, [])  # in notebook order: the first later one by bisection
    later = bisect.bisect_right(bindings, (cell.number, line))
    if later < len(bindings):
        raise _Unsafe(f"uses `{name}` before cell {bindings[later][0]} defines it (Run All would fail here too)")
    if name in scope.skipped:
        raise _Unsafe(f"uses `{name}`, which only a statement that is not run sets (in cell {scope.skipped[name]})")
    raise _Unsafe(f"uses `{name}`, which no cell that is run defines")


def _check_call(call: ast.Call, cell: Cell, line: int, scope: _Scope) -> None:
    name = _qualified(call.func, scope)
    if name not in SAFE_CALLS:
        raise _Unsafe(f"calls `{_callee(call.func)}`")
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        _check_expr(arg, cell, line, scope)


def _qualified(func: ast.expr, scope: _Scope) -> str | None:
    """``np.float64`` -> ``numpy.float64`` through the kept imports; a builtin not redefined -> ``builtins.x``."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    base = scope.aliases.get(func.id)
    if base is None:
        if func.id in scope.bound or func.id not in _BUILTINS:
            return None
        base = f"builtins.{func.id}"
    return ".".join([base, *reversed(parts)])


def _callee(func: ast.expr) -> str:
    return _snippet(ast.unparse(func), 40)


# --------------------------------------------------------------------------------- source handling


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


__all__ = ["Cell", "Converted", "NotebookError", "convert", "convert_file", "read_cells", "strip_ipython"]

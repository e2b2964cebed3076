"""The keeping rule: which top-level statements of a notebook are run, and why the others are not.

``convert`` parses each cell with ``ast`` (a cell that does not parse is skipped whole, with its
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
"""

from __future__ import annotations
import __future__

import ast
import bisect
import builtins
from dataclasses import dataclass, field

from grader.notebook.reading import Cell
from grader.notebook.source import _bound_names, _snippet, _start_line

MAX_POWER = 1024                 # the largest literal exponent (or shift) of a kept constant

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
    grader_names: set[str] = field(default_factory=set)       # bound by the notebook's own grader cells


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


def _silent(stmt: ast.stmt, scope: _Scope | None = None) -> bool:
    """Dropped without a note: ``pass`` (a stripped magic, too), docstrings or other bare literals, and with
    ``scope`` the notebook's own grader cells (``_grader_cell``)."""
    return (isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
            or scope is not None and _grader_cell(stmt, scope))


def _grader_cell(stmt: ast.stmt, scope: _Scope) -> bool:
    """The in-notebook checks' statements, which the generated notebooks carry (``from grader.live import
    checker``, ``check = checker("optimizers")``, ``check("adam")``, ``show_paths(...)``): an import from the
    grader, or a statement, not a definition, that uses a name one of them bound. They check the student's
    work in the student's kernel; graded, they would only run the checks again or fail to import."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    if isinstance(stmt, ast.ImportFrom) and not stmt.level:
        ours = (stmt.module or "").split(".")[0] == "grader"
    elif isinstance(stmt, ast.Import):
        ours = all(alias.name.split(".")[0] == "grader" for alias in stmt.names)
    else:
        ours = bool(scope.grader_names) and any(isinstance(node, ast.Name) and node.id in scope.grader_names
                                                for node in ast.walk(stmt))
    if ours:
        scope.grader_names.update(_bound_names(stmt))
    return ours


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

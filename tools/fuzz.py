"""Seeded fuzz inputs for ``grader grade``: a folder of hostile, broken and odd submissions, and a check
of what a batch grading of them left behind.

As a module (``tests/test_fuzz.py`` loads it with importlib: ``tools/`` is not a package)::

    inputs = generate(dest, count=300, seed=7)          # writes count entries directly under dest
    problems = check_outputs(dest, out, inputs)         # after `grader grade optimizers dest --out out`

As a script::

    python tools/fuzz.py --count 3000 --seed 7 [--out DIR] [--assignment optimizers] [--keep]
                         [--as-class | --as-paths] [--slow] [--timeout SECONDS] [--skip KIND]

generates the inputs, grades them in one ``python -m grader grade`` run (``TMPDIR`` pointed at a fresh
empty folder), and prints the inputs per kind, the exit status, the problems, the time, and a table of
outcomes per kind. It exits 1 when there is any problem.

Every entry of ``dest`` is one student's work; its name starts with a token ``fNNNN`` (its index; an
odd name may put a ``-`` before it), which survives the grader's id rules, so a report maps back to
its input. Kinds are ``group/variant``; the groups (``GROUPS``) take turns, and each group deals its
variants from a shuffled deck, so every variant appears once before any appears twice and 300 inputs
hold 27 of each group. Nothing generated hangs, sleeps or allocates much, unless ``slow=True``
(``--slow``), which replaces the last few inputs with ``while True: pass`` at import and in a function.

What the grader should see (``Input.graded``), when ``dest`` is graded as one class: every entry whose
name does not start with ``.`` (hidden files are skipped, as LMS exports' ``.DS_Store`` are: the
``name/dot-zip`` kind) and that is a folder or a ``.py``, ``.ipynb`` or ``.zip`` file (any case); other
files (``essay.pdf``, ``notes.txt``, ``noext``) are skipped by the grader with a warning. A class-shaped
zip (``zip/class-canvas``) counts as one entry, though the grader may expand it into several reports.
As one path, ``dest`` is a class only if two of its folders hold a ``<module>.py`` (rule 4 of
``grader.intake.discover``; with fewer, the whole folder would be one student's work): 300 inputs
hold a dozen. The script checks, and passes the inputs one by one (``--as-paths``) when they do not.
``--as-paths`` passes every input as a path of its own; each must then get a report, whatever it is
(a PDF, a hidden ``.zip``: only a path that does not exist is the caller's mistake).

``--skip KIND`` removes the inputs of kinds starting with KIND after generating them (the others stay
the same), to see past an input that hangs or stops the grader.
"""

from __future__ import annotations

import argparse
import ast
import collections
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tokenize
import tomllib
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from random import Random

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parent.parent
GRADEABLE = (".py", ".ipynb", ".zip")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
TOKEN = re.compile(r"f\d{4,}")
ESCAPE_PREFIX = "fuzz-escape"
HUGE_STDOUT = 5 << 20  # the most a submission prints


@dataclass
class Input:
    """One entry of ``dest``: its name there, its kind (``group/variant``) and what the grader should do.

    ``graded``: the grader should write a report for it (see the module's docstring). ``expect``:
    ``"full"`` (a correct solution in a shape the grader must read), ``"zero"`` (only a file outside
    the submission, such as the reference, could earn points: a point means the grader read it), or
    ``None``. ``token``: the ``fNNNN`` its report ids contain (two inputs share one when their names
    differ only in Unicode normalization)."""

    name: str
    kind: str
    token: str
    graded: bool
    expect: str | None = None
    detail: str = ""

    @property
    def group(self) -> str:
        return self.kind.split("/")[0]


@dataclass
class _Ctx:
    """What a variant needs: the randomness, where to write, the correct solution, and its functions."""

    rng: Random
    dest: Path
    token: str
    module: str
    alice: str
    functions: list[str]
    last_nfc: str | None = None  # the name of the last name/unicode-nfc input, for its NFD twin

    def alice_with(self, prelude: str) -> str:
        """alice's source with ``prelude`` inserted after its imports (so it runs at import)."""
        lines = self.alice.splitlines(keepends=True)
        tree = ast.parse(self.alice)
        last_import = max(n.end_lineno for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom))
        return "".join(lines[:last_import]) + "\n" + prelude.rstrip("\n") + "\n" + "".join(lines[last_import:])


# A variant writes one entry (its name starts with ctx.token) and returns (name, expect, detail).
Variant = Callable[[_Ctx], tuple[str, str | None, str]]


# --------------------------------------------------------------------------- small writers


def _zip_bytes(members: list[tuple[str | zipfile.ZipInfo, bytes | str]]) -> bytes:
    """A zip in memory, with fixed dates (deterministic bytes). A member is (name, data) or (ZipInfo, data)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            info, data = member
            if isinstance(info, str):
                info = zipfile.ZipInfo(info, ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _link_info(name: str) -> zipfile.ZipInfo:
    """A zip member that unzip(1) and tar would make a symbolic link (its data is the link's target)."""
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.create_system = 3  # Unix: external_attr holds st_mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _write(path: Path, data: bytes | str) -> None:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _function_nodes(source: str) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def _replace_body(source: str, function: str, body: str) -> str:
    """``source`` with ``function``'s body (docstring included) replaced by ``body`` (unindented code)."""
    node = _function_nodes(source)[function]
    lines = source.splitlines(keepends=True)
    first, last = node.body[0].lineno, node.end_lineno
    indent = " " * (node.col_offset + 4)
    new = "".join(indent + line + "\n" if line.strip() else "\n" for line in body.strip("\n").splitlines())
    return "".join(lines[: first - 1]) + new + "".join(lines[last:])


def _notebook(ctx: _Ctx, extra: list[dict] | None = None) -> nbformat.NotebookNode:
    """alice as a notebook: its header in one cell, each function in a cell of its own, ``extra`` cells
    inserted at random places among them. Cell ids are fixed (nbformat would draw random ones)."""
    tree = ast.parse(ctx.alice)
    lines = ctx.alice.splitlines()
    starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])])
              for n in tree.body if isinstance(n, ast.FunctionDef)]
    bounds = [0, *[s - 1 for s in starts], len(lines)]
    chunks = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:], strict=False)]
    cells: list[dict] = [v4.new_markdown_cell(f"# Homework ({ctx.module})")]
    cells += [v4.new_code_cell(chunk) for chunk in chunks if chunk]
    for cell in extra or []:
        cells.insert(ctx.rng.randint(2, len(cells)), cell)
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}
    return notebook


# --------------------------------------------------------------------------- bytes and token soup


def _bytes(suffix: str) -> Variant:
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        name = f"{ctx.token}-bytes{suffix}"
        size = ctx.rng.choice([0, 1, 7, 100, 4096, ctx.rng.randint(1, 200_000)])
        _write(ctx.dest / name, ctx.rng.randbytes(size))
        return name, "zero", f"{size} random bytes"
    return make


_SOUP = (
    # no while/for (no loops), no ** or << (no huge numbers), no input/open/exec (nothing that waits or reads)
    "def class return lambda if else elif try except finally with as import from pass yield async await "
    "global nonlocal del assert raise not and or in is None True False "
    "theta grad state lr np numpy math adam gd self x y z eps beta1 "
    "+ - * / // % @ < > <= >= == != = += -= ( ) [ ] { } : , . ; -> ... "
    "0 1 2 3 0.5 1e-8 'a' \"b\" f'{x}' b'c'"
).split()


def _soup(ctx: _Ctx) -> tuple[str, str | None, str]:
    name = f"{ctx.token}-soup.py"
    out = []
    for _ in range(ctx.rng.randint(5, 400)):
        out.append(ctx.rng.choice(_SOUP))
        roll = ctx.rng.random()
        if roll < 0.08:
            out.append("\n" + " " * ctx.rng.choice([0, 0, 4, 8, 3]))
        elif roll < 0.12:
            out.append(":\n    ")
    _write(ctx.dest / name, " ".join(out) + "\n")
    return name, None, "random tokens"


# --------------------------------------------------------------------------- odd return values

_RAISABLE = ["ValueError('odd')", "KeyError('theta')", "ZeroDivisionError()", "RecursionError()",
             "MemoryError()", "KeyboardInterrupt()", "SystemExit(4)", "GeneratorExit()", "StopIteration()",
             "BaseException('base')", "NotImplementedError()", "OSError(5, 'io')", "UnicodeError('\\udcff')",
             "type('Weird', (Exception,), {'__str__': lambda self: 1 / 0})()"]

_ODD_RETURNS: dict[str, str] = {
    "none": "return None",
    "string": "return 'theta, state'",
    "list": "return [1.0, 2.0, 3.0]",
    "dict": "return {'theta': 1.0, 'state': {}}",
    "tuple-short": "return (np.zeros(3),)",
    "tuple-long": "return np.zeros(3), {}, 1.0",
    "wrong-shape": "return np.zeros((3, 7)), {}",
    "int8": "return np.ones(4, dtype=np.int8), {}",
    "complex128": "return np.ones(4, dtype=np.complex128) * 1j, {}",
    "float16": "return np.ones(4, dtype=np.float16), {}",
    "bool": "return np.ones(4, dtype=bool), {}",
    "object": "return np.array([object(), None, 'x'], dtype=object), {}",
    "0d": "return np.array(1.5), {}",
    "big-shape": "return np.zeros((1000, 1000)), {}",
    "nan": "return np.full(4, np.nan), {'m': np.full(4, np.nan)}",
    "inf": "return np.full(4, np.inf), {'v': -np.inf}",
    "torch": "import torch\nreturn torch.ones(4, dtype=torch.float64), {}",
    "generator": "return (i for i in range(3)), {}",
    "lambda": "return lambda: 0.0, {}",
    "array-raises": ("class Evil:\n    def __array__(self, *args, **kwargs):\n        raise RuntimeError('no array')\n"
                     "    def __float__(self):\n        raise RuntimeError('no float')\n"
                     "    def __len__(self):\n        raise RuntimeError('no len')\nreturn Evil(), {}"),
    "float-raises": ("class Evil(float):\n    def __float__(self):\n        raise RuntimeError('no float')\n"
                     "    def __repr__(self):\n        raise RuntimeError('no repr')\nreturn Evil(1.0)"),
    "recursive-list": "x = []\nx.append(x)\nreturn x, {'x': x}",
    "deep-list": "x = 0.0\nfor _ in range(1000):\n    x = [x]\nreturn x, {}",
    "big-int": "return 10 ** 10000",
    "sys-exit": "import sys\nsys.exit()",
    "os-exit": "import os\nos._exit(3)",
}


def _odd_return(variant: str) -> Variant:
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        function = ctx.rng.choice([f for f in ctx.functions if f != "gd"] or ctx.functions)
        body = f"raise {ctx.rng.choice(_RAISABLE)}" if variant == "raises" else _ODD_RETURNS[variant]
        source = _replace_body(ctx.alice, function, "import numpy as np\n" + body)
        name = f"{ctx.token}-odd-{variant}.py"
        _write(ctx.dest / name, source)
        return name, None, f"{function}: {body.splitlines()[-1]}"
    return make


# --------------------------------------------------------------------------- single-line mutants

_OPERATORS = ["+", "-", "*", "/", "**", "<", ">"]


def _body_lines(source: str, node: ast.FunctionDef) -> list[int]:
    """The indices of a function's non-blank, non-comment body lines (not its def, nor a docstring's first line)."""
    lines = source.splitlines()
    return [i for i in range(node.body[0].lineno - 1, node.end_lineno)
            if lines[i].strip() and not lines[i].strip().startswith(("#", '"""', "'''"))]


def _line_tokens(line: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def _spots(variant: str, code: str, known: list[str]) -> list[tuple[int, int, str]]:
    """Where ``variant`` can change the line ``code``: (start, end, text) of operators, numbers or names."""
    tokens = _line_tokens(code)
    if variant == "operator":
        return [(t.start[1], t.end[1], t.string) for t in tokens if t.type == tokenize.OP and t.string in _OPERATORS]
    if variant == "literal":
        return [(t.start[1], t.end[1], t.string) for t in tokens if t.type == tokenize.NUMBER]
    if variant == "names":
        return [(t.start[1], t.end[1], t.string) for t in tokens if t.type == tokenize.NAME and t.string in known]
    return []


def _mutant(variant: str) -> Variant:
    """alice with one line of a function changed: deleted (``pass``), an operator, a number or names swapped.
    The line is drawn among those the change applies to (any body line for ``delete``)."""
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        lines = ctx.alice.splitlines()
        candidates = []  # (function, line index, names it knows), the given gd left out
        nodes = _function_nodes(ctx.alice)
        for function, node in sorted(nodes.items()):
            known = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {a.arg for a in node.args.args})
            candidates += [(function, i, known) for i in _body_lines(ctx.alice, node) if function != "gd" or len(nodes) == 1]
        usable = [c for c in candidates if _spots(variant, lines[c[1]].strip(), c[2])] or candidates
        function, index, known = ctx.rng.choice(usable)
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip())]
        code = line.strip()
        spots = _spots(variant, code, known)
        how = "deleted"
        if variant == "operator" and spots:
            start, end, old = ctx.rng.choice(spots)
            new = ctx.rng.choice([o for o in _OPERATORS if o != old])
            code, how = code[:start] + new + code[end:], f"operator {old} -> {new}"
        elif variant == "literal" and spots:
            start, end, old = ctx.rng.choice(spots)
            new = ctx.rng.choice([n for n in ["0", "1", "2", "0.5", "-1", "1e-3", "10", "0.0"] if n != old])
            code, how = code[:start] + new + code[end:], f"literal {old} -> {new}"
        elif variant == "names" and spots:
            distinct = sorted({text for _, _, text in spots})
            if len(distinct) >= 2:
                a, b = ctx.rng.sample(distinct, 2)
                code = re.sub(rf"\b({re.escape(a)}|{re.escape(b)})\b", lambda m: b if m[1] == a else a, code)
                how = f"names {a} <-> {b}"
            else:
                start, end, old = ctx.rng.choice(spots)
                new = ctx.rng.choice([k for k in known if k != old] or ["theta"])
                code, how = code[:start] + new + code[end:], f"name {old} -> {new}"
        if code == line.strip():  # delete, or nothing to change on this line
            code, how = "pass", "deleted"
        lines[index] = indent + code
        name = f"{ctx.token}-mutant-{variant}.py"
        _write(ctx.dest / name, "\n".join(lines) + "\n")
        return name, None, f"{function} line {index + 1}: {how}"
    return make


# --------------------------------------------------------------------------- notebooks


def _odd_cells(ctx: _Ctx) -> tuple[list[dict], str]:
    choices = {
        "timeit": lambda: v4.new_code_cell("%timeit np.zeros(3)\n%matplotlib inline"),
        "pip": lambda: v4.new_code_cell("!pip install x\nfiles = !ls"),
        "raises": lambda: v4.new_code_cell("raise RuntimeError('a demo cell that fails')"),
        "markdown": lambda: v4.new_markdown_cell("## Notes\n\n$\\theta \\leftarrow \\theta - \\eta g$"),
        "bash": lambda: v4.new_code_cell("%%bash\necho hello\nexit 1"),
        "huge-output": lambda: v4.new_code_cell("print('x' * 3_000_000)", outputs=[
            v4.new_output("stream", name="stdout", text="x" * ctx.rng.randint(1 << 20, 3 << 20))]),
        "demo-loop": lambda: v4.new_code_cell("theta = np.ones(3)\nfor _ in range(10):\n    theta = theta - 0.1"),
    }
    picked = ctx.rng.sample(sorted(choices), ctx.rng.randint(1, 3))
    return [choices[p]() for p in picked], "+".join(picked)


def _notebook_valid(ctx: _Ctx) -> tuple[str, str | None, str]:
    cells, what = _odd_cells(ctx)
    name = f"{ctx.token}-notebook.ipynb"
    _write(ctx.dest / name, nbformat.writes(_notebook(ctx, cells)))
    return name, "full", what


def _broken_notebook(variant: str) -> Variant:
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        name = f"{ctx.token}-broken-{variant}.ipynb"
        good = nbformat.writes(_notebook(ctx))
        if variant == "truncated":
            cut = ctx.rng.randint(1, len(good) - 2)
            data: bytes | str = good[:cut]
            detail = f"cut at {cut} of {len(good)}"
        elif variant == "json-list":
            data, detail = json.dumps([{"cells": []}, 1, "x"]), "a JSON list"
        elif variant == "json-empty":
            data, detail = "{}", "{}"
        elif variant in ("nbformat3", "nbformat99"):
            version = 3 if variant == "nbformat3" else 99
            notebook = {"nbformat": version, "nbformat_minor": 0, "metadata": {},
                        "worksheets": [{"cells": [{"cell_type": "code", "input": ctx.alice, "language": "python",
                                                   "outputs": [], "metadata": {}}], "metadata": {}}]}
            if version == 99:
                notebook["cells"] = [{"cell_type": "code", "source": ctx.alice, "metadata": {}, "outputs": []}]
            data, detail = json.dumps(notebook), f"nbformat {version}"
        elif variant == "source-type":
            notebook = json.loads(good)
            wrong = ctx.rng.choice([42, {"a": 1}, [1, 2, 3], None, True])
            for cell in notebook["cells"]:
                if cell["cell_type"] == "code" and ctx.rng.random() < 0.5:
                    cell["source"] = wrong
            notebook["cells"][-1]["source"] = wrong
            data, detail = json.dumps(notebook), f"source = {wrong!r}"
        elif variant == "python-file":
            data, detail = ctx.alice, "alice.py's text"
        else:  # non-utf8
            data = good.encode("utf-8").replace(b"homework", b"homew\xf6rk\xff", 1)
            detail = "latin-1 bytes in a string"
        _write(ctx.dest / name, data)
        return name, None, detail
    return make


# --------------------------------------------------------------------------- zips


def _zip(variant: str) -> Variant:
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        m = f"{ctx.module}.py"
        name = f"{ctx.token}-zip-{variant}.zip"
        expect: str | None = None
        detail = ""
        if variant == "empty":
            data = _zip_bytes([])
        elif variant == "hidden-only":
            data = _zip_bytes([(".DS_Store", b"\0\0\0\1Bud1"), (f"__MACOSX/._{m}", b"\0\5\26\7"), ("__MACOSX/._x", b"")])
        elif variant == "300-txt":
            data = _zip_bytes([(f"notes/n{i:03d}.txt", f"note {i}\n") for i in range(300)])
        elif variant == "truncated":
            good = _zip_bytes([(m, ctx.alice), ("helper.py", "X = 1\n")])
            cut = ctx.rng.randint(1, len(good) - 1)
            data, detail = good[:cut], f"cut at {cut} of {len(good)}"
        elif variant == "pk-junk":
            data = b"PK\x03\x04" + ctx.rng.randbytes(ctx.rng.randint(0, 2000))
        elif variant == "renamed":
            data, detail = _zip_bytes([("hw3.py", ctx.alice)]), "alice as hw3.py"
        elif variant == "nested-folder":
            data, detail, expect = _zip_bytes([("hw3/", b""), (f"hw3/src/{m}", ctx.alice)]), f"hw3/src/{m}", "full"
        elif variant == "zip-in-zip":
            inner = _zip_bytes([(m, ctx.alice)])
            data, detail = _zip_bytes([("outer/middle.zip", _zip_bytes([("inner.zip", inner)]))]), "two levels"
        elif variant == "dotdot-member":
            data = _zip_bytes([(f"../../{ESCAPE_PREFIX}.py", "print('escaped')\n"), (m, ctx.alice)])
            detail, expect = f"../../{ESCAPE_PREFIX}.py beside {m}", "full"
        elif variant == "absolute-member":
            data = _zip_bytes([(f"/tmp/{ESCAPE_PREFIX}.py", "print('escaped')\n"), (m, ctx.alice)])
            detail, expect = f"/tmp/{ESCAPE_PREFIX}.py beside {m}", "full"
        elif variant == "class-canvas":
            students = ["smith", "jones", "nguyen", "garcia"][: ctx.rng.randint(2, 4)]
            bad = ctx.rng.randrange(len(students))
            members = []
            for i, who in enumerate(students):
                body = (b"" if ctx.rng.random() < 0.5 else ctx.rng.randbytes(300)) if i == bad else ctx.alice
                members.append((f"{ctx.token}{who}_{1000 + i}_{5000 + i}_{m}", body))
            data, detail = _zip_bytes(members), f"{len(students)} Canvas files, {students[bad]}'s broken"
        else:
            raise ValueError(variant)
        _write(ctx.dest / name, data)
        return name, expect, detail
    return make


def _zip_link(variant: str) -> Variant:
    """Zips whose members are symbolic links (as unzip(1) would make them) or try to leave the folder."""
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        m = f"{ctx.module}.py"
        name = f"{ctx.token}-ziplink-{variant}.zip"
        expect: str | None = None
        targets = {"shadow": "/etc/shadow", "reference": f"../../reference/{m}", "sibling": "real.py",
                   "self": m, "dangling": "missing.py"}
        if variant in targets:
            members: list = [(_link_info(m), targets[variant])]
            if variant == "sibling":
                members.insert(0, ("real.py", ctx.alice))
            expect = "zero" if variant in ("shadow", "reference") else None
            detail = f"{m} -> {targets[variant]}"
        elif variant == "dir-then-file":
            members = [(_link_info("d"), "/tmp"), (f"d/{ESCAPE_PREFIX}.py", "print('escaped')\n"), (m, ctx.alice)]
            detail, expect = f"d -> /tmp, then d/{ESCAPE_PREFIX}.py, beside {m}", "full"
        else:
            raise ValueError(variant)
        _write(ctx.dest / name, _zip_bytes(members))
        return name, expect, detail
    return make


# --------------------------------------------------------------------------- folders


def _folder(variant: str) -> Variant:
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        m = f"{ctx.module}.py"
        name = f"{ctx.token}-folder-{variant}"
        folder = ctx.dest / name
        folder.mkdir()
        link = folder / m
        expect: str | None = None
        detail = ""
        reference = ROOT / "reference" / m
        if variant == "empty":
            pass
        elif variant == "only-pdf":
            _write(folder / "homework.pdf", b"%PDF-1.4\n" + ctx.rng.randbytes(500))
        elif variant == "link-absolute":
            target = ctx.rng.choice(["/etc/passwd", "/etc/shadow", str(reference)])
            link.symlink_to(target)
            detail, expect = f"{m} -> {target}", "zero"
        elif variant == "link-relative-escape":
            target = os.path.relpath(reference, folder)
            link.symlink_to(target)
            detail, expect = f"{m} -> {target}", "zero"
        elif variant == "link-sibling":
            _write(folder / "real.py", ctx.alice)
            link.symlink_to("real.py")
            detail, expect = f"{m} -> real.py", "full"
        elif variant == "link-read":  # a helper module that is a link out, printed by the module at import
            target = ctx.rng.choice(["/etc/passwd", "/etc/shadow"])
            (folder / "data.py").symlink_to(target)
            _write(link, ctx.alice_with("import os as _os\ntry:\n    with open(_os.path.join(_os.path.dirname("
                                        "_os.path.abspath(__file__)), 'data.py')) as _f:\n        print(_f.read())\n"
                                        "except OSError:\n    pass\n"))
            detail, expect = f"data.py -> {target}, printed by {m} at import", "full"
        elif variant == "link-dangling":
            link.symlink_to("no-such-file.py")
            detail = f"{m} -> no-such-file.py"
        elif variant == "link-loop":
            link.symlink_to("other.py")
            (folder / "other.py").symlink_to(m)
            detail = f"{m} -> other.py -> {m}"
        elif variant == "link-dir-outside":
            (folder / "src").symlink_to(reference.parent, target_is_directory=True)
            detail, expect = f"src -> {reference.parent} (which holds {m})", "zero"
        elif variant == "subdir-named-module":
            link.mkdir()
            _write(link / "__init__.py", ctx.alice)
            detail = f"{m}/__init__.py"
        elif variant == "fifo":
            os.mkfifo(link)
            detail = f"{m} is a FIFO"
        else:
            raise ValueError(variant)
        return name, expect, detail
    return make


# --------------------------------------------------------------------------- odd names


def _name(variant: str) -> Variant:
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        t = ctx.token
        content: bytes | str = ctx.alice
        expect: str | None = "full"
        if variant == "spaces":
            name = f"{t} my homework (final).py"
        elif variant == "unicode-nfc":
            name = unicodedata.normalize("NFC", f"{t}-zoë.py")
            ctx.last_nfc = name
        elif variant == "unicode-nfd":  # the last NFC name's twin (once), else one of its own
            name = unicodedata.normalize("NFD", ctx.last_nfc or f"{t}-zoë.py")
            ctx.last_nfc = None
        elif variant == "fullwidth":
            name = f"{t}-ｏｐｔｉｍｉｚｅｒｓ.py"
        elif variant == "dash":
            name = f"-{t}-n.py"
        elif variant == "long":
            name = f"{t}-" + "x" * (200 - len(t) - 4) + ".py"
        elif variant == "upper-suffix":
            name = f"{t}-ALICE.PY"
        elif variant == "pdf":
            name, content, expect = f"{t}-essay.pdf", b"%PDF-1.4\n" + ctx.rng.randbytes(200), None
        elif variant == "txt":
            name, expect = f"{t}-notes.txt", None
        elif variant == "noext":
            name, expect = f"{t}-noext", None
        elif variant == "dot-zip":
            name = ".zip" if not (ctx.dest / ".zip").exists() else f".{t}.zip"
            content, expect = ctx.alice, None
        else:
            raise ValueError(variant)
        path = ctx.dest / name
        if os.path.lexists(path):  # an NFD twin on a file system that normalizes names
            name = unicodedata.normalize("NFD", f"{t}-zoë.py")
            path = ctx.dest / name
        _write(path, content)
        return name, expect, ""
    return make


# --------------------------------------------------------------------------- escapes at import, output

def _escape(variant: str) -> Variant:
    def make(ctx: _Ctx) -> tuple[str, str | None, str]:
        n = ctx.token
        expect: str | None = "full"
        if variant == "open-tmp":
            prelude = (f"try:\n    with open('/tmp/{ESCAPE_PREFIX}-{n}', 'w') as _f:\n        _f.write('escaped')\n"
                       "except OSError:\n    pass\n")
        elif variant == "relative-write":
            prelude = ("import os as _os\n"
                       f"for _p in ('../../{ESCAPE_PREFIX}-{n}', '../{ESCAPE_PREFIX}-{n}',\n"
                       f"           _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), '..', '..', '{ESCAPE_PREFIX}-{n}')):\n"
                       "    try:\n        with open(_p, 'w') as _f:\n            _f.write('escaped')\n"
                       "    except OSError:\n        pass\n")
        elif variant == "environ":
            prelude = ("import os as _os\nprint(dict(_os.environ))\ntry:\n"
                       "    print(open('/proc/self/environ', 'rb').read()[:4000])\nexcept OSError:\n    pass\n")
        elif variant == "huge-stdout":
            size = ctx.rng.randint(1 << 20, HUGE_STDOUT)
            prelude = f"import sys as _sys\n_sys.stdout.write('y' * {size})\n_sys.stderr.write('z' * 1000)\n"
            expect = None
        elif variant == "while-import":
            prelude = "while True:\n    pass\n"
            expect = "zero"
        elif variant == "while-function":
            prelude = ""
        else:
            raise ValueError(variant)
        source = ctx.alice_with(prelude)
        if variant == "while-function":
            function = ctx.rng.choice([f for f in ctx.functions if f != "gd"] or ctx.functions)
            source, expect = _replace_body(ctx.alice, function, "while True:\n    pass"), None
        name = f"{ctx.token}-{variant}.py"
        _write(ctx.dest / name, source)
        return name, expect, ""
    return make


# --------------------------------------------------------------------------- the generator

GROUPS: dict[str, dict[str, Variant]] = {
    "bytes": {"py": _bytes(".py"), "ipynb": _bytes(".ipynb"), "zip": _bytes(".zip")},
    "soup": {"tokens": _soup},
    "odd-return": {v: _odd_return(v) for v in [*_ODD_RETURNS, "raises"]},
    "mutant": {v: _mutant(v) for v in ["delete", "operator", "literal", "names"]},
    "notebook": {"valid": _notebook_valid},
    "broken-notebook": {v: _broken_notebook(v) for v in ["truncated", "json-list", "json-empty", "nbformat3",
                                                         "nbformat99", "source-type", "python-file", "non-utf8"]},
    "zip": {v: _zip(v) for v in ["empty", "hidden-only", "300-txt", "truncated", "pk-junk", "renamed",
                                 "nested-folder", "zip-in-zip", "dotdot-member", "absolute-member", "class-canvas"]},
    "zip-link": {v: _zip_link(v) for v in ["shadow", "reference", "sibling", "self", "dangling", "dir-then-file"]},
    "folder": {v: _folder(v) for v in ["empty", "only-pdf", "link-absolute", "link-relative-escape", "link-sibling",
                                       "link-read", "link-dangling", "link-loop", "link-dir-outside", "subdir-named-module", "fifo"]},
    "name": {v: _name(v) for v in ["spaces", "unicode-nfc", "unicode-nfd", "fullwidth", "dash", "long",
                                   "upper-suffix", "pdf", "txt", "noext", "dot-zip"]},
    "escape": {v: _escape(v) for v in ["open-tmp", "relative-write", "environ", "huge-stdout"]},
}
SLOW: dict[str, Variant] = {v: _escape(v) for v in ["while-import", "while-function"]}


def _assignment(assignment: str) -> tuple[str, list[str], str]:
    spec = tomllib.loads((ROOT / "assignments" / assignment / "assignment.toml").read_text())
    alice = (ROOT / "examples" / assignment / "alice.py").read_text()
    return spec["module"], list(spec["functions"]), alice


def grader_sees(path: Path) -> bool:
    """Whether ``grader grade`` on the folder holding ``path`` should grade it (the module's docstring)."""
    if path.name.startswith("."):
        return False
    return path.is_dir() and not path.is_symlink() or path.suffix.lower() in GRADEABLE


def generate(dest: Path, count: int, seed: int, assignment: str = "optimizers", *,
             slow: bool = False) -> list[Input]:
    """Write ``count`` submissions directly under ``dest`` (created if missing; it must be empty) and
    return what each is. The same ``seed`` writes the same names and bytes (not the same mtimes)."""
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty")
    module, functions, alice = _assignment(assignment)
    rng = Random(seed)
    width = max(4, len(str(count - 1)))
    decks: dict[str, list[str]] = {g: [] for g in GROUPS}
    groups = sorted(GROUPS)
    slow_variants = sorted(SLOW) * 2 if slow else []
    ctx = _Ctx(rng, dest, "", module, functions=functions, alice=alice)
    inputs = []
    for index in range(count):
        ctx.token = f"f{index:0{width}d}"
        if index >= count - len(slow_variants):
            variant = slow_variants[index - (count - len(slow_variants))]
            group, make = "slow", SLOW[variant]
        else:
            group = groups[index % len(groups)]
            if not decks[group]:
                decks[group] = sorted(GROUPS[group])
                rng.shuffle(decks[group])
            variant = decks[group].pop()
            make = GROUPS[group][variant]
        name, expect, detail = make(ctx)
        match = TOKEN.search(name)  # an NFD twin has its NFC twin's token; ".zip" has none
        token = match[0] if match else ctx.token
        inputs.append(Input(name, f"{group}/{variant}", token, grader_sees(dest / name), expect, detail))
    return inputs


# --------------------------------------------------------------------------- after grading


def fingerprint(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder`` by relative path: its type, mode, and content's digest (a link's
    target). Symbolic links are not followed and FIFOs not opened."""
    found: dict[str, tuple] = {}
    for top, dirs, files in os.walk(folder, followlinks=False):
        for entry in sorted(dirs + files):
            path = Path(top) / entry
            info = path.lstat()
            kind = stat.S_IFMT(info.st_mode)
            if stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                content = os.readlink(path)
            else:
                content = ""
            found[str(path.relative_to(folder))] = (kind, stat.S_IMODE(info.st_mode), info.st_size, content)
    return found


def escape_files(*roots: Path) -> dict[str, int]:
    """Files named ``fuzz-escape*``: under ``/tmp`` and each root (recursively), and directly in the two
    parents of each root and in the course folder and its parent (where the grader runs, so where a
    relative path would land): path -> mtime in ns. Compare a call before grading with one after."""
    found: dict[str, int] = {}

    def look(path: Path) -> None:
        try:
            found[str(path)] = path.lstat().st_mtime_ns
        except OSError:
            pass

    for root in (Path("/tmp"), *roots):
        for top, dirs, files in os.walk(root, followlinks=False):
            for entry in dirs + files:
                if entry.startswith(ESCAPE_PREFIX):
                    look(Path(top) / entry)
    shallow = {ROOT, ROOT.parent, *(p for root in roots for p in list(root.resolve().parents)[:2])}
    for folder in sorted(shallow):
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for path in entries:
            if path.name.startswith(ESCAPE_PREFIX):
                look(path)
    return found


def _leak_texts() -> list[tuple[str, str]]:
    """(what, text) that no report may hold: the first line of each file outside a submission that one links to."""
    texts = []
    for secret_file in ("/etc/shadow", "/etc/passwd"):
        try:
            line = Path(secret_file).read_text(errors="replace").splitlines()[0]
        except (OSError, IndexError):
            continue
        if len(line) >= 8:
            texts.append((f"the first line of {secret_file}", line))
    return texts


def reports(out: Path) -> dict[str, dict | None]:
    """``out/<id>/report.json`` by id, parsed (None if it is not JSON)."""
    found: dict[str, dict | None] = {}
    for path in sorted(out.glob("*/report.json")):
        try:
            found[path.parent.name] = json.loads(path.read_text())
        except (OSError, ValueError):
            found[path.parent.name] = None
    return found


def check_outputs(dest: Path, out: Path, inputs: list[Input], *, secrets: Iterable[str] = ()) -> list[str]:
    """The problems a batch grading of ``dest`` into ``out`` shows (empty when fine):

    * each ``out/*/report.json`` parses as a JSON object with ``0 <= score <= max_score``, its
      ``submission`` is its folder's name (unique), and ``report.html`` is beside it;
    * no ``report.json`` deeper than ``out/<id>/``;
    * at least one report per input the grader should see (``Input.graded``: hidden names and files of
      other types are excluded) and a report whose id holds each such input's token;
    * an input expected to score 0 (``expect == "zero"``: it only links to the reference or a system
      file) scores 0, one expected to score full (a correct solution in an odd shape) scores full;
    * no file of a report holds a secret (``secrets``) or the first line of ``/etc/shadow`` or
      ``/etc/passwd``;
    * every input is still in ``dest`` (``fingerprint`` compares the bytes);
    * no report says the grader itself failed ("please tell the course staff").
    """
    problems = [f"{i.kind} {i.name!r}: gone from {dest}" for i in inputs if not os.path.lexists(dest / i.name)]
    found = reports(out)
    for path in sorted(out.rglob("report.json")):
        if path.parent.parent != out:
            problems.append(f"{path.relative_to(out)}: a report not directly under out/")
    ids = []
    for sid, report in found.items():
        if not isinstance(report, dict):
            problems.append(f"{sid}/report.json: not a JSON object")
            continue
        score, most = report.get("score"), report.get("max_score")
        if not (isinstance(score, int | float) and isinstance(most, int | float) and 0 <= score <= most):
            problems.append(f"{sid}: score {score!r} of {most!r} is not within [0, max_score]")
        if report.get("submission") != sid:
            problems.append(f"{sid}: report.json names submission {report.get('submission')!r}")
        ids.append(report.get("submission"))
        texts_of = [report.get("load_error") or ""] + [c.get("message") or "" for c in report.get("checks") or []]
        if any("please tell the course staff" in text for text in texts_of):  # the grader's own failure
            problems.append(f"{sid}: the grader failed on it: {_first_line(report.get('load_error'))}")
        if not (out / sid / "report.html").is_file():
            problems.append(f"{sid}: no report.html")
    duplicated = [sid for sid, n in collections.Counter(ids).items() if n > 1]
    if duplicated:
        problems.append(f"ids reported twice: {duplicated[:10]}")
    expected = [i for i in inputs if i.graded]
    if len(found) < len(expected):
        problems.append(f"{len(found)} reports for {len(expected)} inputs the grader should see")
    by_token = _by_token(inputs, found)
    for item in expected:
        mine = by_token.get(item.name, [])
        if not mine:
            problems.append(f"{item.kind} {item.name!r}: no report")
            continue
        for report in [found[sid] for sid in mine]:
            if not isinstance(report, dict):
                continue
            score, most = report.get("score"), report.get("max_score")
            if item.expect == "zero" and score != 0:
                problems.append(f"{item.kind} {item.name!r} ({item.detail}): scored {score}/{most}, "
                                "points it can only have from a file outside the submission")
            if item.expect == "full" and score != most:
                problems.append(f"{item.kind} {item.name!r}: scored {score}/{most}, a correct solution "
                                f"({_first_line(report.get('load_error')) or _first_failure(report)})")
    texts = [("a secret", t) for t in secrets if t] + _leak_texts()
    for report_dir in sorted(p.parent for p in out.glob("*/report.json")):
        for file in sorted(report_dir.iterdir()):
            if file.is_file() and not file.is_symlink():
                data = file.read_bytes()
                for what, text in texts:
                    if text.encode() in data:
                        problems.append(f"{report_dir.name}/{file.name}: holds {what}")
    return problems


def _by_token(inputs: list[Input], found: dict[str, dict | None]) -> dict[str, list[str]]:
    """input name -> the report ids that are its. Ids are matched by token; when two inputs share a
    token (Unicode twins), their reports are dealt out in name order."""
    reports_of: dict[str, list[str]] = collections.defaultdict(list)
    for sid in sorted(found):
        match = TOKEN.search(sid)
        if match:
            reports_of[match[0]].append(sid)
    inputs_of: dict[str, list[Input]] = collections.defaultdict(list)
    for item in inputs:
        if item.graded:
            inputs_of[item.token].append(item)
    result: dict[str, list[str]] = {}
    for token, items in inputs_of.items():
        sids = reports_of.get(token, [])
        if not sids and len(items) == 1 and not TOKEN.search(items[0].name):  # ".zip": its id is "zip"
            bare = items[0].name.lstrip("._-")
            sids = [sid for sid in [bare.rsplit(".", 1)[0] if "." in bare else bare] if sid in found]
        if len(items) == 1:
            result[items[0].name] = sids
        else:
            for item, sid in zip(sorted(items, key=lambda i: i.name), sids, strict=False):
                result[item.name] = [sid]
    return result


def _first_line(text: object) -> str:
    return str(text).strip().splitlines()[0][:100] if text and str(text).strip() else ""


def _first_failure(report: dict) -> str:
    for check in report.get("checks") or []:
        if check.get("status") != "passed":
            return f"{check.get('name')}: {_first_line(check.get('message'))}"
    return "no check failed"


def outcomes(inputs: list[Input], out: Path) -> list[tuple[str, int, int, int, int, str]]:
    """Per kind: (kind, inputs, reports, scored 0, scored > 0, the most common first line of load_error)."""
    found = reports(out)
    by_name = _by_token(inputs, found)
    rows = []
    kinds: dict[str, list[Input]] = collections.defaultdict(list)
    for item in inputs:
        kinds[item.kind].append(item)
    for kind in sorted(kinds):
        zero = positive = n_reports = 0
        errors: collections.Counter[str] = collections.Counter()
        for item in kinds[kind]:
            for sid in by_name.get(item.name, []):
                report = found[sid]
                n_reports += 1
                if not isinstance(report, dict):
                    continue
                if report.get("score") == 0:
                    zero += 1
                else:
                    positive += 1
                if report.get("load_error"):
                    errors[_first_line(report["load_error"])] += 1
        common = errors.most_common(1)[0][0] if errors else ""
        rows.append((kind, len(kinds[kind]), n_reports, zero, positive, common))
    return rows


# --------------------------------------------------------------------------- the script


def _holds(folder: Path, module: str) -> bool:
    """Whether ``folder`` has an entry named ``<module>.py`` or ``.ipynb`` anywhere (of any type)."""
    return any(name in (f"{module}.py", f"{module}.ipynb") for _, dirs, files in os.walk(folder) for name in dirs + files)


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))[:20]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--assignment", default="optimizers")
    parser.add_argument("--out", type=Path, help="a new or empty folder for inputs/, grades/ and tmp/ (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--slow", action="store_true", help="also a few submissions that loop forever")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before the grader is stopped")
    parser.add_argument("--skip", action="append", default=[], metavar="KIND",
                        help="remove the inputs whose kind starts with KIND after generating (to see past a hang)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--as-class", dest="as_class", action="store_true", default=True,
                     help="pass the inputs' folder as one path, a class (the default)")
    how.add_argument("--as-paths", dest="as_class", action="store_false",
                     help="pass each input as a path of its own (each must get a report)")
    args = parser.parse_args(argv)

    work = args.out or Path(tempfile.mkdtemp(prefix="fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        parser.error(f"{work} is not empty")
    dest, grades, tmp = work / "inputs", work / "grades", work / "tmp"
    tmp.mkdir()
    inputs = generate(dest, args.count, args.seed, args.assignment, slow=args.slow)
    for item in [i for i in inputs if i.kind.startswith(tuple(args.skip))] if args.skip else []:
        path = dest / item.name
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        inputs.remove(item)
    print(f"{len(inputs)} inputs in {dest}, seed {args.seed}" + (f", without {args.skip}" if args.skip else ""))
    for group, n in sorted(collections.Counter(i.group for i in inputs).items()):
        print(f"  {group:16} {n}")

    module = _assignment(args.assignment)[0]
    holders = [i.name for i in inputs if (dest / i.name).is_dir() and _holds(dest / i.name, module)]
    if args.as_class and len(holders) < 2:
        print(f"only {len(holders)} folder(s) hold a {module}.py: grader grade would read {dest} as one student's "
              "work (rule 4 of discover), so each input is passed as its own path (--as-paths)")
        args.as_class = False
    if args.as_class:
        paths = [str(dest)]
    else:  # every path named gets a report, whatever it holds (hidden names and PDFs included)
        inputs = [dataclasses.replace(i, graded=True) for i in inputs]
        paths = [str(dest / i.name) for i in inputs]
    before = escape_files(work, dest)
    env = {**os.environ, "TMPDIR": str(tmp), "COLUMNS": "160"}
    command = [sys.executable, "-m", "grader", "grade", args.assignment, *paths, "--out", str(grades)]
    started = time.monotonic()
    with open(work / "grader.stdout", "wb") as stdout, open(work / "grader.stderr", "wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True)
        try:
            status = process.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # the session this script started, and only it
            status = process.wait()
            print(f"the grader did not finish in {args.timeout} s: stopped")
    seconds = time.monotonic() - started

    problems = []
    if status != 0:
        problems.append(f"grader exited with status {status}")
        tail = (work / "grader.stderr").read_text(errors="replace").strip().splitlines()[-5:]
        print("stderr (end):\n  " + "\n  ".join(tail))
    if "Traceback" in (work / "grader.stderr").read_text(errors="replace"):
        problems.append(f"the grader printed a traceback: see {work / 'grader.stderr'}")
    problems += check_outputs(dest, grades, inputs, secrets=[os.environ.get("GRADER_SECRET", "")])
    after = escape_files(work, dest)
    escaped = sorted(p for p, mtime in after.items() if before.get(p) != mtime and not p.startswith(str(grades)))
    problems += [f"a file escaped: {p}" for p in escaped]
    left = _leftovers(tmp)
    if left:
        problems.append(f"TMPDIR not empty afterwards: {left}")

    found = reports(grades)
    print(f"\nexit status {status}; {len(found)} reports for {sum(i.graded for i in inputs)} inputs the grader "
          f"should see; {seconds:.1f} s, {len(inputs) / seconds:.1f} inputs/s")
    print(f"\n{'kind':34} {'n':>4} {'rep':>4} {'0':>4} {'>0':>4}  most common first line of load_error")
    for kind, n, n_reports, zero, positive, common in outcomes(inputs, grades):
        print(f"{kind:34} {n:4} {n_reports:4} {zero:4} {positive:4}  {common}")
    print(f"\n{len(problems)} problems" + (":" if problems else ""))
    for problem in problems:
        print(f"  {problem}")
    if args.out is None and not args.keep and not problems:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept: {work}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""``grader assign``: the student templates, generated from the reference solutions.

The reference solution (``reference/<module>.py``) is the one source of each assignment's stub
(``student_template/<module>.py``) and notebook (``student_template/<module>.ipynb``), so the three can
never drift apart: the instructor edits the reference and runs ``grader assign``; a test fails when the
committed templates differ from what it generates.

The reference marks what students get and what they do not with comment lines, in the manner of
nbgrader's ``### BEGIN SOLUTION``. Each marker is a comment line of its own, indented like the code it
wraps; the pair of a region has the same indentation and regions do not nest. Markers are comments, so
the reference's code (and its AST, which ``tests/test_mutants.py`` compares with the mutants') does not
change::

    def adagrad(theta, grad, state, lr, eps=1e-10):
        # BEGIN STUDENT
        # \"\"\"Adagrad: a per-parameter learning rate ... (the docstring students read)
        # \"\"\"
        # # TODO: implement Adagrad.
        # END STUDENT
        # BEGIN SOLUTION
        \"\"\"s <- s + g**2 ... (the reference's own docstring)\"\"\"
        s = state.get("s", 0.0) + grad * grad
        return theta - lr * grad / (np.sqrt(s) + eps), {"s": s}
        # END SOLUTION

- ``# BEGIN SOLUTION`` / ``# END SOLUTION``: the solution. In the stub the region becomes
  ``raise NotImplementedError("<function> is not implemented yet")`` at the markers' indentation, where
  ``<function>`` is the function the region is in. A region must be inside a function: at module level a
  ``raise`` would make the stub fail to import.
- ``# BEGIN REFERENCE`` / ``# END REFERENCE``: lines only the reference has, left out of the stub with
  nothing in their place: its module docstring, the docstring of a function given to students whose
  stub explains it differently, a private helper students do not get. At module level the blank lines
  after the region go with it when the stub has a blank line (or nothing) before it, so the stub keeps
  the usual two blank lines between definitions.
- ``# BEGIN STUDENT`` / ``# END STUDENT``: lines only the stub has, written in the reference as
  comments: each line is the markers' indentation, then ``#``, then a space and the stub's text (a line
  that is ``#`` alone is a blank line of the stub). The students' module docstring (which tells them how
  to check their work), their function docstrings (with the lecture's formulas and hints) and ``# TODO``
  comments live there.

Everything outside the markers is in both: imports, signatures, a function given to students (the
spec's ``given``, e.g. the worked example ``gd``). An unused import of the stub carries its ``# noqa: F401``
comment in the reference already.

The notebook is the stub cut into cells, with the lecture's words and formulas of the assignment's
``notebook.md`` around them and a check cell after each function (``grader.assign_notebook``); the
template's ``README.md`` tells students how to set up, check and hand in (``grader.assign_readme``).
Every file is deterministic byte for byte (fixed cell ids, no timestamps), so regenerating an unchanged
course changes nothing.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from grader.assign_notebook import NOTEBOOK_FILE, make_notebook, read_lesson
from grader.assign_readme import student_readme
from grader.course import list_assignments, load_assignment
from grader.errors import SpecError
from grader.visible import visible_checks

TEMPLATE_DIR = "student_template"
KINDS = ("SOLUTION", "REFERENCE", "STUDENT")
MARKER = re.compile(r"^(?P<indent>[ \t]*)# (?P<edge>BEGIN|END) (?P<kind>[A-Z]+)[ \t]*$")


@dataclass(frozen=True)
class Region:
    """A marked region: its kind, its markers' indentation and line numbers (from 1, markers included)."""
    kind: str
    indent: str
    begin: int
    end: int


# ------------------------------------------------------------------------------------ reading markers


def find_regions(source: str, origin: str) -> list[Region]:
    """The marked regions of a reference, in order; ``SpecError`` naming the file and line of a mistake.

    Only comment lines count as markers: a docstring that shows the syntax is not a region.
    """
    comment_lines = _comment_lines(source, origin)
    regions: list[Region] = []
    open_: tuple[str, str, int] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        match = MARKER.match(line)
        if not match or number not in comment_lines:
            continue
        indent, edge, kind = match["indent"], match["edge"], match["kind"]
        if kind not in KINDS:
            raise SpecError(f"{origin}:{number}: unknown marker {line.strip()!r} (use BEGIN/END with "
                            f"{', '.join(KINDS)})")
        if edge == "BEGIN":
            if open_ is not None:
                raise SpecError(f"{origin}:{number}: {line.strip()!r} inside the {open_[0]} region begun on line "
                                f"{open_[2]}: regions do not nest; close it first with '# END {open_[0]}'")
            open_ = (kind, indent, number)
            continue
        if open_ is None or open_[0] != kind:
            what = f"the open region is {open_[0]} (line {open_[2]})" if open_ else "no region is open"
            raise SpecError(f"{origin}:{number}: {line.strip()!r} but {what}")
        if indent != open_[1]:
            raise SpecError(f"{origin}:{number}: '# END {kind}' is indented differently from its "
                            f"'# BEGIN {kind}' on line {open_[2]}")
        regions.append(Region(kind, indent, open_[2], number))
        open_ = None
    if open_ is not None:
        raise SpecError(f"{origin}:{open_[2]}: '# BEGIN {open_[0]}' is never closed with '# END {open_[0]}'")
    return regions


def _comment_lines(source: str, origin: str) -> set[int]:
    """The numbers of the lines that hold nothing but a comment (what ``tokenize`` sees, not a string)."""
    lines = source.splitlines()
    found = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            row, col = token.start
            if token.type == tokenize.COMMENT and not lines[row - 1][:col].strip():
                found.add(row)
    except (tokenize.TokenError, SyntaxError) as exc:
        raise SpecError(f"{origin}: cannot be read as Python: {exc}") from None
    return found


# ------------------------------------------------------------------------------------ the stub


def make_stub(source: str, origin: str) -> str:
    """The stub of a marked reference: solutions replaced by ``raise``, reference-only lines left out,
    student-only lines uncommented (see the module docstring)."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise SpecError(f"{origin}:{exc.lineno}: the reference does not parse: {exc.msg}") from None
    out: list[str] = []
    skip_blanks = False
    regions = {r.begin: r for r in find_regions(source, origin)}
    number = 1
    while number <= len(lines):
        region = regions.get(number)
        if region is None:
            if not (skip_blanks and not lines[number - 1].strip()):
                out.append(lines[number - 1])
                skip_blanks = False
            number += 1
            continue
        skip_blanks = False
        if region.kind == "SOLUTION":
            out.append(f'{region.indent}raise NotImplementedError("{_function_at(tree, region, origin)} '
                       'is not implemented yet")')
        elif region.kind == "STUDENT":
            out.extend(_uncomment(lines, region, origin))
        else:  # REFERENCE
            skip_blanks = not region.indent and (not out or not out[-1].strip())
        number = region.end + 1
    return "\n".join(out) + "\n"


def _function_at(tree: ast.Module, region: Region, origin: str) -> str:
    """The innermost function whose body holds the region (its name goes into the stub's message)."""
    holders = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
               and node.lineno < region.begin <= node.end_lineno]
    if not region.indent or not holders:
        raise SpecError(f"{origin}:{region.begin}: a SOLUTION region must be inside a function (it becomes a "
                        "raise there); mark module-level code students do not get with REFERENCE")
    return max(holders, key=lambda node: node.lineno).name


def _uncomment(lines: list[str], region: Region, origin: str) -> list[str]:
    """The stub's lines of a STUDENT block: '<indent># text' -> '<indent>text', '<indent>#' -> ''."""
    out = []
    for number in range(region.begin + 1, region.end):
        line = lines[number - 1]
        prefix = region.indent + "#"
        if line == prefix:
            out.append("")
        elif line.startswith(prefix + " "):
            out.append(region.indent + line[len(prefix) + 1:])
        else:
            raise SpecError(f"{origin}:{number}: a line of the STUDENT block begun on line {region.begin} must be "
                            f"{prefix!r}, then a space and the stub's text (or {prefix!r} alone), got {line!r}")
    return out


def check_stub(stub: str, origin: str, functions: list[str], given: list[str]) -> None:
    """The stub parses, defines every function of the spec, and each function students write raises
    ``NotImplementedError`` (a forgotten SOLUTION marker would hand out the solution instead)."""
    try:
        tree = ast.parse(stub)
    except SyntaxError as exc:
        raise SpecError(f"the stub generated from {origin} does not parse (its line {exc.lineno}: {exc.msg}); "
                        "check the markers around that place") from None
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    missing = [name for name in functions if name not in defined]
    if missing:
        raise SpecError(f"the stub generated from {origin} does not define {missing}: is a REFERENCE region "
                        "around them?")
    for name in functions:
        if name not in given and not _raises_not_implemented(defined[name]):
            raise SpecError(f"{origin}:{defined[name].lineno}: the stub of {name} does not raise "
                            "NotImplementedError: mark its solution with # BEGIN SOLUTION / # END SOLUTION "
                            "(or list it under given in assignment.toml)")


def _raises_not_implemented(function: ast.FunctionDef) -> bool:
    for statement in function.body:
        if isinstance(statement, ast.Raise) and statement.exc is not None:
            exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


# ------------------------------------------------------------------------------------ the course


def generate(course_root: Path, out: Path | None = None) -> list[Path]:
    """Write ``<module>.py`` and ``<module>.ipynb`` of every assignment of the course into ``out``
    (default: ``<course>/student_template``), and the student-visible part of the assignment (spec,
    README, visible checks) into ``out/assignments/<name>/``; the paths written, in order."""
    out = Path(out) if out is not None else Path(course_root) / TEMPLATE_DIR
    written, assignments = [], []
    for name in list_assignments(Path(course_root)):
        assignment = load_assignment(name, Path(course_root))
        spec = assignment.spec
        path = assignment.reference_path
        if not path.is_file():
            raise SpecError(f"assignment {name!r}: no reference solution at {path} to make the stub from")
        stub = make_stub(path.read_text(), str(path))
        check_stub(stub, str(path), spec.functions, spec.given)
        lesson = read_lesson(assignment.folder / NOTEBOOK_FILE, spec.functions, spec.given)
        notebook = make_notebook(stub, lesson, title=spec.title, assignment=name, given=spec.given)
        out.mkdir(parents=True, exist_ok=True)
        for target, text in ((out / f"{spec.module}.py", stub), (out / f"{spec.module}.ipynb", notebook)):
            target.write_text(text, encoding="utf-8")
            written.append(target)
        written += _visible_part(assignment, out / "assignments" / name)
        assignments.append(assignment)
    readme = out / "README.md"
    readme.write_text(student_readme(Path(course_root), assignments), encoding="utf-8")
    return [*written, readme]


def _visible_part(assignment, target: Path) -> list[Path]:
    """What a student's own ``grader --course . check`` needs of an assignment: its spec and README byte
    for byte, and of its checks exactly the visible ones, as the spec declares them, with what they use
    (``grader.visible``: never a hidden check, a helper only hidden checks use, or the catalogue of known
    mistakes). A stale file of an earlier generation is removed, so the folder is exactly this."""
    visible = {name for name, check in assignment.spec.checks.items() if check.visibility == "visible"}
    texts = {target / name: (assignment.folder / name).read_bytes()
             for name in ("assignment.toml", "README.md") if (assignment.folder / name).is_file()}
    for name, text in visible_checks(assignment.checks_dir, visible).items():
        texts[target / "checks" / name] = text.encode("utf-8")
    if target.exists():
        for old in target.rglob("*"):
            if old.is_file() and old not in texts:
                old.unlink()
    for path, data in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return list(texts)

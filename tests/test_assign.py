"""``grader assign``: the committed student templates are exactly what the marked references generate, the
stubs and notebooks work as templates (import, raise NotImplementedError, grade to 0 without crashing), no
solution code leaks into them, and an author's marker mistake is named with its file and line."""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import ROOT, load_module, load_reference

from grader import cli
from grader.assign import check_stub, find_regions, generate, make_stub
from grader.assign_notebook import read_lesson, split_stub
from grader.course import course_root, list_assignments, load_assignment
from grader.errors import SpecError

ASSIGNMENTS = list_assignments(ROOT)
TEMPLATES = ROOT / "student_template"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The templates ``grader assign`` writes now, in a folder of their own."""
    out = tmp_path_factory.mktemp("assign")
    generate(ROOT, out)
    return out


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def assignment(request):
    return load_assignment(request.param, course_root(ROOT))


def student_functions(assignment) -> list[str]:
    return [f for f in assignment.spec.functions if f not in assignment.spec.given]


# --------------------------------------------------------------------------- (a) no drift


def test_the_committed_templates_are_what_grader_assign_generates(generated):
    """Is every committed student_template/*.py and *.ipynb byte for byte what `grader assign` writes, with no
    file missing or left over?"""
    def files(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                      if p.is_file() and ".github" not in p.parts and "__pycache__" not in p.parts)

    made, committed = files(generated), files(TEMPLATES)
    assert made == committed, (f"student_template/ holds {committed}, grader assign writes {made}: run "
                               "`grader assign` and commit student_template/ (remove the files of a removed assignment)")
    stale = [name for name in made if (generated / name).read_bytes() != (TEMPLATES / name).read_bytes()]
    assert not stale, (f"these files of student_template/ differ from what `grader assign` generates from reference/: "
                       f"{stale}; edit the reference (never the template), run `grader assign` and commit both")


def test_generating_twice_gives_the_same_bytes(generated, tmp_path):
    """Is the output deterministic (fixed cell ids, no timestamps), so regenerating changes nothing?"""
    written = generate(ROOT, tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == sorted(
        str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    assert all(p.read_bytes() == (generated / p.relative_to(tmp_path)).read_bytes() for p in written)


# --------------------------------------------------------------------------- (b) the stubs


def test_the_stub_imports_and_every_student_function_raises(generated, assignment):
    """Does the generated stub import, with every function the student writes raising NotImplementedError
    that names it, and the reference's signatures?"""
    stub = load_module(generated / f"{assignment.spec.module}.py")
    reference = load_reference(assignment.spec.module)
    for name in student_functions(assignment):
        function = getattr(stub, name)
        signature = inspect.signature(function)
        assert signature == inspect.signature(getattr(reference, name)), name
        required = [p for p in signature.parameters.values() if p.default is inspect.Parameter.empty]
        with pytest.raises(NotImplementedError, match=f"{name} is not implemented yet"):
            function(*[None] * len(required))


def test_given_functions_are_the_references_and_work(generated, assignment):
    """Is each function given to students the reference's code (docstring aside), and does gd step?"""
    stub_source = (generated / f"{assignment.spec.module}.py").read_text()
    stub = {n.name: n for n in ast.parse(stub_source).body if isinstance(n, ast.FunctionDef)}
    ref = {n.name: n for n in ast.parse(assignment.reference_path.read_text()).body if isinstance(n, ast.FunctionDef)}
    for name in assignment.spec.given:
        assert ast.get_docstring(stub[name]), f"the given {name} should explain itself to students"
        assert [ast.dump(s) for s in stub[name].body[1:]] == [ast.dump(s) for s in ref[name].body[1:]], name
    if "gd" in assignment.spec.given:
        module = load_module(generated / f"{assignment.spec.module}.py")
        theta, state = module.gd(np.array([1.0, -2.0]), np.array([0.5, 4.0]), {}, 0.1)
        np.testing.assert_array_equal(theta, [0.95, -2.4])
        assert state == {}


# --------------------------------------------------------------------------- (c) the notebooks


def test_the_notebook_is_valid_and_holds_the_stub(generated, assignment):
    """Does the notebook validate as nbformat 4.5 with fixed ids, open with one title and notebook.md's
    opening, hold exactly the stub's code, each function's words above it and a check cell after each
    function students write, and end with check()?"""
    spec = assignment.spec
    path = generated / f"{spec.module}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    assert [c.id for c in notebook.cells] == [f"cell-{i}" for i in range(len(notebook.cells))]
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["language"] == "python"

    lesson = read_lesson(assignment.folder / "notebook.md", spec.functions, spec.given)
    stub = (generated / f"{spec.module}.py").read_text()
    _, code = split_stub(stub)
    first, *_, last = notebook.cells
    assert first.cell_type == "markdown" and first.source == f"# {spec.title}\n\n{lesson.opening}"
    titles = [c for c in notebook.cells if c.cell_type == "markdown" and re.search(r"^# ", c.source, re.M)]
    assert titles == [first], "one title"
    assert not [c for c in notebook.cells if c.cell_type == "markdown" and ("``" in c.source or "::\n" in c.source)]
    assert last.cell_type == "code" and last.source == "check()"
    assert notebook.cells[2].source.startswith("from grader.live import checker")
    ours = {c.source for c in notebook.cells if "grader.live" in c.source or c.source.startswith("check(")
            or "show_paths(" in c.source}
    cells = [c.source for c in notebook.cells if c.cell_type == "code" and c.source not in ours]
    assert cells == code
    sources = [c.source for c in notebook.cells]
    for function in spec.functions:
        at = next(i for i, s in enumerate(sources) if re.match(rf"def {function}\(", s))
        assert function not in lesson.before or sources[at - 1] == lesson.before[function]
        assert (sources[at + 1] == f'check("{function}")') == (function not in spec.given)
    assert "$$" in "".join(lesson.before.values()), "the formulas, in LaTeX"
    module = ast.parse(stub)
    assert ast.dump(ast.parse("\n\n".join(cells))) == ast.dump(ast.Module(body=module.body[1:], type_ignores=[]))


def test_the_notebook_grades_to_zero_on_not_implemented(grade, generated, assignment):
    """Graded as a submission, does the untouched notebook load and score 0 with every check an error on
    NotImplementedError, its check cells dropped without a note?"""
    spec = assignment.spec
    report = grade(assignment, generated / f"{spec.module}.ipynb", "notebook")
    assert report.load_error is None, report.load_error
    assert report.score == 0 and len(report.checks) == len(spec.checks)
    for check in report.checks:
        assert check.status == "error", (check.name, check.status, check.message)
        assert "NotImplementedError" in check.message and "not implemented yet" in check.message, check.message
    assert report.notes == [], "the check cells are the notebook's own: not run, and no note"


# --------------------------------------------------------------------------- (d) nothing of the solution leaks


def test_no_line_of_a_solution_or_reference_region_is_in_the_stub(assignment):
    """Does stripping the reference leave none of the lines it marks SOLUTION or REFERENCE, and is each student
    function of the stub a docstring and a raise, nothing else?"""
    source = assignment.reference_path.read_text()
    stub = make_stub(source, "ref")
    stub_lines = {line.strip() for line in stub.splitlines()}
    lines = source.splitlines()
    regions = find_regions(source, "ref")
    assert {r.kind for r in regions} >= {"SOLUTION", "STUDENT"}
    solved = {r.begin for r in regions if r.kind == "SOLUTION"}
    assert len(solved) == len(student_functions(assignment)), "one SOLUTION region per student function"
    for region in regions:
        if region.kind == "STUDENT":
            continue
        for number in range(region.begin + 1, region.end):
            line = lines[number - 1].strip()
            if any(ch.isalnum() for ch in line):
                assert line not in stub_lines, f"line {number} of the reference ({region.kind}) is in the stub: {line!r}"
    defined = {n.name: n for n in ast.parse(stub).body if isinstance(n, ast.FunctionDef)}
    for name in student_functions(assignment):
        body = defined[name].body
        assert ast.get_docstring(defined[name]) and len(body) == 2 and isinstance(body[1], ast.Raise), (
            f"the stub of {name} holds code besides its docstring and the raise")


# --------------------------------------------------------------------------- the markers


SOURCE = '''# BEGIN REFERENCE
"""The reference's docstring."""
# END REFERENCE
# BEGIN STUDENT
# """The students' docstring.
#
#     x = 1
# """
# END STUDENT

import math


# BEGIN REFERENCE
def _helper():
    return 1
# END REFERENCE


def f(x):
    # BEGIN STUDENT
    # """f's docstring."""
    # # TODO: write f.
    # END STUDENT
    # BEGIN SOLUTION
    """f = sqrt(x) + helper.

    A docstring line that looks like a marker is not one:
    # END SOLUTION
    """
    return math.sqrt(x) + _helper()
    # END SOLUTION
'''

STUB = '''"""The students' docstring.

    x = 1
"""

import math


def f(x):
    """f's docstring."""
    # TODO: write f.
    raise NotImplementedError("f is not implemented yet")
'''


def test_make_stub_follows_the_markers():
    """Does a small marked source give exactly the expected stub (blank lines of a removed helper gone too)?"""
    assert make_stub(SOURCE, "t.py") == STUB
    check_stub(STUB, "t.py", ["f"], [])


@pytest.mark.parametrize("source, words", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "t.py:2: '# BEGIN SOLUTION' is never closed"),
    ("def f():\n    # END SOLUTION\n    return 1\n", "t.py:2: '# END SOLUTION' but no region is open"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN STUDENT\n    return 1\n",
     "t.py:3: '# BEGIN STUDENT' inside the SOLUTION region"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n", "t.py:4: '# END SOLUTION' is indented differently"),
    ("def f():\n    # BEGIN STUDENT\n    # END SOLUTION\n    return 1\n",
     "t.py:3: '# END SOLUTION' but the open region is STUDENT"),
    ("def f():\n    # BEGIN ANSWER\n    return 1\n", "t.py:2: unknown marker"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "t.py:1: a SOLUTION region must be inside a function"),
    ("def f():\n    # BEGIN STUDENT\n    #x = 1\n    # END STUDENT\n    return 1\n", "t.py:3: a line of the STUDENT block"),
    ("def f(:\n    return 1\n", "t.py:1: the reference does not parse"),
])
def test_marker_mistakes_name_the_file_and_line(source, words):
    """Does each kind of marker mistake stop generation with the file, the line and what is wrong?"""
    with pytest.raises(SpecError) as error:
        make_stub(source, "t.py")
    assert words in str(error.value)


def test_a_forgotten_solution_marker_stops_generation(tmp_path, capsys):
    """A reference whose student function is not marked would hand out the solution: does `grader assign` stop
    with exit 2 and a one-line message naming the function, writing nothing?"""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "mixup", course / "assignments" / "mixup")
    source = (ROOT / "reference" / "mixup.py").read_text()
    (course / "reference").mkdir()
    (course / "reference" / "mixup.py").write_text(
        "\n".join(line for line in source.splitlines() if "SOLUTION" not in line) + "\n")
    assert cli.main(["--course", str(course), "assign", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "the stub of mixup does not raise NotImplementedError" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_grader_assign_writes_and_prints_each_file(tmp_path, capsys):
    """Does `grader assign --out DIR` exit 0 and print every file it writes: the two of every
    assignment, and its visible part?"""
    assert cli.main(["assign", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    modules = [load_assignment(a, ROOT).spec.module for a in ASSIGNMENTS]
    top = sorted(line for line in printed if "/assignments/" not in line)
    assert top == sorted([f"wrote {tmp_path / m}{ext}" for m in modules for ext in (".py", ".ipynb")]
                         + [f"wrote {tmp_path / 'README.md'}"])
    written = sorted(f"wrote {p}" for p in (tmp_path / "assignments").rglob("*") if p.is_file())
    assert sorted(line for line in printed if "/assignments/" in line) == written
    assert all((tmp_path / f"{m}.ipynb").is_file() for m in modules)


def test_the_visible_part_of_an_assignment_has_no_hidden_checks(generated):
    """The template carries each assignment's spec and visible checks for the student's own `grader
    check`; is no hidden check file (nor the reference) among them?"""
    names = {p.name for p in (generated / "assignments").rglob("*") if p.is_file()}
    assert "test_visible.py" in names and "assignment.toml" in names
    assert "test_hidden.py" not in names
    assert "mistakes.py" not in names  # wrong versions one change away from the right ones
    assert not any(p.suffix == ".py" and "reference" in p.parts for p in generated.rglob("*"))


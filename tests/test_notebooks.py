"""Jupyter notebooks as submissions: the converter on its own (fast), then real grading of notebooks written
with nbformat: a clean one, a messy one, broken files, a batch, ``grader check``."""

from __future__ import annotations

import ast
import json
import sys
import traceback
import types
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, TEST_SECRET
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import cli
from grader.batch import grade_all
from grader.check import _default_path
from grader.errors import UsageError
from grader.intake import discover
from grader.notebook import Cell, NotebookError, convert, read_cells, strip_ipython
from grader.sandbox import process, worker
from grader.submission import StagingError, check_exists, stage

ALICE = (ROOT / "examples/optimizers/alice.py").read_text()


def alice_cells() -> list[str]:
    """alice.py as a notebook author would split it: one top-level statement (import, function) per cell."""
    lines = ALICE.splitlines()
    tree = ast.parse(ALICE)
    return ["\n".join(lines[node.lineno - 1:node.end_lineno]) for node in tree.body]


def write_notebook(path: Path, cells: list[str], *, markdown: bool = True) -> Path:
    """A real notebook: each string a code cell, a markdown cell before each when ``markdown``."""
    nb_cells = []
    for i, source in enumerate(cells):
        if markdown:
            nb_cells.append(new_markdown_cell(f"## Part {i}"))
        nb_cells.append(new_code_cell(source))
    notebook = new_notebook(cells=nb_cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                     "display_name": "Python 3"}})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def converted(*sources: str):
    """Convert cells numbered 1, 2, ... (no markdown between them)."""
    return convert([Cell(i, s) for i, s in enumerate(sources, start=1)], origin="t.ipynb", module="t")


def run_module(source: str, tmp_path: Path, name: str) -> types.ModuleType:
    """Import a generated module of our own test cells (trusted) in this process."""
    (tmp_path / f"{name}.py").write_text(source)
    sys.path.insert(0, str(tmp_path))
    try:
        __import__(name)
        return sys.modules.pop(name)
    finally:
        sys.path.remove(str(tmp_path))


def one(notes: list[str], *words: str) -> str:
    """The one note that holds all ``words``."""
    found = [n for n in notes if all(w in n for w in words)]
    assert len(found) == 1, (words, notes)
    return found[0]


# --------------------------------------------------------------------------- IPython syntax


@pytest.mark.parametrize("line, kind", [
    ("%matplotlib inline", "IPython magic"),
    ("%load_ext autoreload", "IPython magic"),
    ("!pip install torchviz", "shell command"),
    ("files = !ls", "shell command"),
    ("out, err = %sx ls", "IPython magic"),
    ("np.zeros?", "help"),
    ("??adam", "help"),
])
def test_ipython_lines_become_pass_with_a_note(line, kind):
    """Is each IPython-only line replaced by `pass` (line numbers kept) and noted with its kind?"""
    stripped = strip_ipython(Cell(3, f"x = 1\n{line}\ny = 2"))
    assert stripped.source == "x = 1\npass\ny = 2\n"
    assert stripped.notes == [(2, f"cell 3, line 2: `{line}` skipped ({kind})")]


def test_python_that_looks_like_ipython_is_left_alone():
    """Is a `%` that continues an expression (modulo), a `!=`, a `?` in a string or comment left as Python?"""
    source = 'q = (7\n     % 3)\nok = q != 1\ns = """\n!not a shell\n%not a magic\n"""\nw = "why?"  # really?\n'
    stripped = strip_ipython(Cell(1, source))
    assert stripped.source == source and stripped.notes == []


def test_a_magic_inside_a_function_and_a_continued_magic():
    """Does an indented magic become an indented `pass` (the def stays valid), and a `\\` continued one blank lines?"""
    stripped = strip_ipython(Cell(1, "def f():\n    %time g()\n    return 1\n!pip install a \\\n    b\nz = 3"))
    assert stripped.source == "def f():\n    pass\n    return 1\npass\n\nz = 3\n"
    assert [line for line, _ in stripped.notes] == [2, 4]


@pytest.mark.parametrize("magic, kept", [("%%time", True), ("%%capture out", True), ("%%bash", False),
                                          ("%%timeit", False), ("%%writefile helpers.py", False),
                                          ("%%html", False)])
def test_cell_magics(magic, kept):
    """Is the body of %%time/%%capture graded, and a %%bash, %%timeit, %%writefile or %%html cell skipped whole?"""
    result = converted(f"{magic}\ndef f():\n    return 1")
    assert ("run(1, 2, 'def f():" in result.source) is kept
    if kept:
        one(result.notes, "cell 1, line 1", "cell magic")
    else:
        assert result.notes == [one(result.notes, "cell 1 not run", f"a {magic.split()[0]} cell")]


def test_a_cell_that_does_not_parse_is_skipped_with_its_own_line():
    result = converted("import math", "x = 1\n\ndef broken(:\n    pass", "def fine():\n    return 2")
    assert one(result.notes, "cell 2 not run", "syntax error at line 3")
    assert "def fine" in result.source and "x = 1" not in result.source


# --------------------------------------------------------------------------- the keeping rule


@pytest.mark.parametrize("statement", [
    "import numpy as np",
    "from math import sqrt as root",
    "def f(x):\n    while True:\n        pass",
    "class Model:\n    size = 3\n    def forward(self, x):\n        return x",
    "LR = 0.01",
    "BETAS: tuple = (0.9, 0.999)",
    "EPS = 1e-8 * 2 ** 3 - 1 / 3",
    "SQRT2 = math.sqrt(2)",
    "HALF = np.float64(0.5)",
    "X0 = np.array([-1.5, 2.0])",
    "CONFIG = {'lr': LR, 'steps': int(1e3), 'name': f'adam-{LR}'}",
    "square = lambda x: x ** 2",
    "CONFIG['lr'] = 0.1",
    "LR *= 2",
    "try:\n    import jax\nexcept ImportError:\n    jax = None",
    "if np.__version__ >= '2':\n    INT = np.int64\nelse:\n    INT = int",
])
def test_definitions_and_cheap_constants_are_kept(statement):
    """Are imports, defs, classes and constants built from literals and safe calls kept, and nothing noted?"""
    result = converted("import math\nimport numpy as np\nLR = 0.01\nCONFIG = {}", statement)
    assert repr(statement) in result.source and result.notes == []


@pytest.mark.parametrize("statement, why", [
    ("losses = train(model)", "an assignment that calls `train`"),
    ("data = np.load('x.npy')", "an assignment that calls `np.load`"),
    ("f = open('data.txt')", "calls `open`"),
    ("name = input('who? ')", "calls `input`"),
    ("fig = plt.figure()", "calls `plt.figure`"),
    ("shape = X0.reshape(2, 1)", "calls `X0.reshape`"),
    ("SQUARES = [i * i for i in range(10)]", "a comprehension"),
    ("BIG = 10 ** 10 ** 10", "the exponent (or shift) `10 ** 10`"),
    ("Y = LATER * 2", "uses `LATER` before cell 3 defines it"),
    ("Z = NOWHERE + 1", "uses `NOWHERE`, which no cell that is run defines"),
    ("plt.rcParams['figure.figsize'] = (8, 6)", "an assignment to `plt.rcParams['figure.figsize']`"),
    ("print(X0)", "a print (only definitions are graded)"),
    ("display(X0)", "a display"),
    ("plt.plot(X0)", "a plot"),
    ("X0", "an expression"),
    ("for epoch in range(10):\n    loss.backward()", "a training loop"),
    ("while True:\n    pass", "a loop"),
    ("with open('f') as f:\n    TEXT = f.read()", "a `with` block"),
    ("if __name__ == '__main__':\n    main()", "`if __name__ == \"__main__\":` block"),
    ("if FAST:\n    run_demo()", "an `if` block that runs more than definitions"),
    ("assert X0.shape == (2,)", "an `assert`"),
    ("del X0", "a `del`"),
])
def test_what_is_not_a_definition_is_skipped_and_named(statement, why):
    """Is every statement that could be slow or have effects left out of the module, with the reason noted?"""
    result = converted("import numpy as np\nimport matplotlib.pyplot as plt\nX0 = np.zeros(2)", statement,
                       "LATER = 3")
    assert repr(statement) not in result.source
    note = one(result.notes, "cell 2 not run")
    assert why in note, note


def test_a_name_only_a_skipped_statement_sets():
    result = converted("data = load()", "N = len(data)")
    assert "uses `data`, which only a statement that is not run sets (in cell 1)" in result.notes[1]


def test_a_partly_kept_cell_names_the_lines_left_out():
    result = converted("import numpy as np\n\ndef f(x):\n    return x\n\nprint(f(2))\nY = f(3)")
    assert result.notes == ["cell 1, line 6: `print(f(2))` not run: a print (only definitions are graded)",
                            "cell 1, line 7: `Y = f(3)` not run: an assignment that calls `f`"]


def test_a_name_rebound_is_no_longer_its_import():
    """After `np = 3`, `np.float64(1)` is not numpy's: the call is not run."""
    result = converted("import numpy as np", "np = 3", "X = np.float64(1)")
    one(result.notes, "cell 3 not run", "calls `np.float64`")


def test_docstrings_and_pass_are_dropped_silently():
    result = converted('"""My homework."""', "pass", "def f():\n    return 1")
    assert result.notes == [] and "My homework" not in result.source.split("def __grader_notebook__")[1]


def test_the_notebooks_own_check_cells_are_dropped_silently():
    """The generated notebooks' grader.live cells (the checker, each check, the paths' picture) must not run
    when graded, nor leave a note; a student's own code that merely shares a name with them still runs."""
    result = converted("import numpy as np",
                       'from grader.live import checker\n\ncheck = checker("optimizers")',
                       "def adam(theta, g, state, lr):\n    return theta - lr * g, {}",
                       'check("adam")',
                       'from grader.live import show_paths\nshow_paths("adam", "Adam", lr=0.1)',
                       "import grader.live as live\nresults = live.checker('x')()",
                       "def uses_check():\n    return check",  # a definition is the student's: kept
                       "check()")
    assert result.notes == []
    body = result.source.split("def __grader_notebook__")[1]
    assert "grader.live" not in body and "checker" not in body and "show_paths" not in body
    assert "def adam" in body and "def uses_check" in body


def test_a_statement_of_the_students_own_is_not_dropped_for_a_name_it_binds_itself():
    """Only a name a grader import bound makes a statement the grader's: ``check = 3`` of a notebook that never
    imported from the grader is the student's own constant."""
    result = converted("check = 3", "def f():\n    return check")
    assert "check = 3" in result.source


# --------------------------------------------------------------------------- the generated module


def test_the_module_runs_each_statement_on_its_own_and_records_failures(tmp_path):
    """Does a failing statement (missing module, name of a later cell) get recorded while the rest runs,
    the last definition win, and a traceback name the cell and its line?"""
    result = converted(
        "from __future__ import annotations\nimport math",
        "def adam(x):\n    return 'wrong'",
        "import surely_not_installed_anywhere",
        "def helper(x, lr=BASE_LR):\n    return x",
        "def adam(x: Undefined):\n    '''right'''\n    return 1 / x",
        "BASE_LR = 0.01\nDOC = '''two\n  lines'''",
        "while True:\n    pass",
    )
    module = run_module(result.source, tmp_path, "nb_failures")
    assert module.adam.__doc__ == "right" and module.BASE_LR == 0.01 and module.DOC == "two\n  lines"
    assert module.adam.__annotations__ == {"x": "Undefined"}  # `from __future__` reached cell 5
    assert not hasattr(module, "helper") and not hasattr(module, "__grader_notebook__")
    notes = module.__grader_notes__
    assert notes == [
        "cell 3, line 1: `import surely_not_installed_anywhere` failed at import (ModuleNotFoundError: No module "
        "named 'surely_not_installed_anywhere'); functions that use `surely_not_installed_anywhere` will fail",
        "cell 4, line 1: `def helper(x, lr=BASE_LR):` failed at import (NameError: name 'BASE_LR' is not defined), "
        "so `helper` is not defined",
    ]
    with pytest.raises(ZeroDivisionError) as raised:
        module.adam(0)
    frame = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert (Path(frame.filename).name, frame.lineno, frame.line) == ("cell 5", 3, "return 1 / x")
    one(result.notes, "`adam` is defined in cells 2, 5: the one in cell 5 is graded")


def test_the_worker_and_the_judge_take_only_capped_lists_of_strings():
    """A submission may set __grader_notes__ to anything: only plain strings in a list get through, capped."""
    module = types.ModuleType("m")
    for junk in (None, "a string", {"a": 1}, (1, 2), ["ok", 3, b"x"]):
        module.__grader_notes__ = junk
        assert worker.module_notes(module) == (["ok"] if isinstance(junk, list) else [])
    module.__grader_notes__ = ["x" * 10_000] * 1000
    notes = worker.module_notes(module)
    assert len(notes) == worker.MAX_NOTES and {len(n) for n in notes} == {worker.MAX_NOTE_CHARS}
    assert process._notes(["y" * 10_000] * 1000) == ["y" * process.MAX_NOTE_CHARS] * process.MAX_NOTES
    assert process._notes({"not": "a list"}) == [] and process._notes(["a", 1, None]) == ["a"]


# --------------------------------------------------------------------------- reading and staging


def test_broken_files_are_staging_errors_with_clear_messages(tmp_path):
    good = write_notebook(tmp_path / "good.ipynb", ["x = 1"])
    corrupt = tmp_path / "corrupt.ipynb"
    corrupt.write_text(good.read_text()[:-40])
    not_notebook = tmp_path / "config.ipynb"
    not_notebook.write_text(json.dumps({"name": "x", "cells": "no"}))
    empty = write_notebook(tmp_path / "empty.ipynb", ["", "  \n"])
    huge = write_notebook(tmp_path / "huge.ipynb", ["x = 1\n" * 200_000])
    r_kernel = tmp_path / "r.ipynb"
    r_kernel.write_text(good.read_text().replace('"language": "python"', '"language": "R"'))
    expected = {corrupt: "corrupt.ipynb is not a readable notebook: its JSON is broken at line",
                not_notebook: "config.ipynb is not a Jupyter notebook",
                empty: "empty.ipynb has no code",
                huge: "the code of huge.ipynb is larger than 1 MiB",
                r_kernel: "r.ipynb runs R, not Python"}
    for path, message in expected.items():
        with pytest.raises(NotebookError, match=message):
            read_cells(path)
        with pytest.raises(StagingError, match=message):
            stage(path, "optimizers", tmp_path / "work" / path.stem)


def test_a_notebook_that_breaks_the_schema_in_a_detail_is_graded_with_a_note(tmp_path):
    path = write_notebook(tmp_path / "quirky.ipynb", ["x = 1"], markdown=False)
    raw = json.loads(path.read_text())
    raw["cells"][0]["editor_quirk"] = True
    path.write_text(json.dumps(raw))
    cells, notes = read_cells(path)
    assert cells == [Cell(1, "x = 1")]
    assert one(notes, "quirky.ipynb does not quite follow the notebook format", "graded anyway")


def test_folders_and_zips_holding_the_notebook_are_staged(tmp_path):
    """A folder (or zip) with optimizers.ipynb and a helper: staged as optimizers.py beside the helper, and
    discover sees one student, not two; with both optimizers.py and .ipynb, the .py is graded and noted."""
    folder = tmp_path / "alice"
    write_notebook(folder / "optimizers.ipynb", alice_cells())
    (folder / "helpers.py").write_text("ONE = 1\n")
    assert [(f.submission, f.path) for f in discover([folder], "optimizers", tmp_path / "d")] == [("alice", folder)]
    staged = stage(folder, "optimizers", tmp_path / "w1")
    assert (staged.workdir / "helpers.py").is_file() and "def adam" in staged.module_file.read_text()
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(folder / "optimizers.ipynb", "hw/optimizers.ipynb")
    assert "def adam" in stage(archive, "optimizers", tmp_path / "w2").module_file.read_text()
    (folder / "optimizers.py").write_text("def adam(): pass\n")
    both = stage(folder, "optimizers", tmp_path / "w3")
    assert both.module_file.read_text() == "def adam(): pass\n"
    assert both.notes == ("optimizers.py and optimizers.ipynb are both there: optimizers.py was graded",)


def test_check_finds_the_module_or_the_notebook_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="no optimizers.py or optimizers.ipynb in"):
        _default_path("optimizers")
    notebook = write_notebook(tmp_path / "optimizers.ipynb", ["x = 1"])
    assert _default_path("optimizers") == notebook
    check_exists(notebook)  # a notebook is a kind of file we grade
    (tmp_path / "optimizers.py").write_text("x = 1\n")
    assert _default_path("optimizers") == tmp_path / "optimizers.py"


# --------------------------------------------------------------------------- grading notebooks


def test_a_clean_notebook_scores_100(grade, optimizers, tmp_path):
    path = write_notebook(tmp_path / "alice.ipynb", alice_cells())
    report = grade(optimizers, path, "alice")
    assert report.load_error is None and report.score == report.max_score == 100, report
    assert report.notes == []


MESSY = [
    "%matplotlib inline\n!pip install foo",                                                  # 2
    "import math\nimport numpy as np",                                                       # 4
    "import jax",                                                                            # 6
    "def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"                  # 8: wrong
    "    return theta - lr * grad, state",
    "SCALE = 2 * BASE_LR",                                                                   # 10: name of cell 20
    "def demo_schedule(step, lr=BASE_LR):\n    return lr",                                   # 12: raises at import
    "theta, grad, state = np.ones(2), np.ones(2), {}\n"                                      # 14: runs forever
    "while True:\n    theta, state = adam(theta, grad, state, 0.1)",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",                      # 16
    "x = np.arange(3)\ndisplay(x)",                                                          # 18
    "BASE_LR = 0.01",                                                                        # 20
]


def test_a_messy_notebook_scores_100_and_says_what_was_not_run(grade, optimizers, tmp_path):
    """Magics, a shell escape, a missing import, a name of a later cell, an endless demo loop, a plot, a
    display, and a wrong adam redefined correctly later: 100, with each of them named in the notes. The loop
    is not run at all: if it were, the import would never end and the score would be 0."""
    cells = MESSY + [c for c in alice_cells() if "import" not in c]  # alice's functions, the right adam: 22...
    path = write_notebook(tmp_path / "messy.ipynb", cells)
    report = grade(optimizers, path, "messy")
    assert report.load_error is None and report.score == report.max_score == 100, report
    notes = report.notes
    one(notes, "cell 2, line 1: `%matplotlib inline` skipped (IPython magic)")
    one(notes, "cell 2, line 2: `!pip install foo` skipped (shell command)")
    one(notes, "cell 6, line 1: `import jax` failed at import (ModuleNotFoundError: No module named 'jax')")
    one(notes, "cell 10 not run", "uses `BASE_LR` before cell 20 defines it")
    one(notes, "cell 12, line 1: `def demo_schedule(step, lr=BASE_LR):` failed at import (NameError")
    one(notes, "cell 14, line 2: `while True:` not run: a loop")
    one(notes, "cell 16, line 2: `plt.plot([1, 2, 3])` not run: a plot")
    one(notes, "cell 16, line 3: `plt.show()` not run: a plot")
    one(notes, "cell 18, line 2: `display(x)` not run: a display")
    adam_cell = 2 * (len(MESSY) + next(i for i, c in enumerate(cells[len(MESSY):]) if "def adam" in c)) + 2
    one(notes, f"`adam` is defined in cells 8, {adam_cell}: the one in cell {adam_cell} is graded")
    # The sandbox's private root may lack matplotlib: then its import is one more failure noted, not a zero.
    plots = [n for n in notes if "`import matplotlib.pyplot as plt` failed at import" in n]
    assert len(notes) - len(plots) == 10 and len(plots) <= 1, notes


def test_broken_notebooks_score_zero_and_a_batch_goes_on(tmp_path, monkeypatch):
    """A truncated notebook, a JSON file that is not one and a notebook without code: zero and a clear
    load_error each; in a batch with them, alice's notebook still scores 100."""
    monkeypatch.setenv("GRADER_SECRET", TEST_SECRET.decode())
    alice = write_notebook(tmp_path / "in" / "alice.ipynb", alice_cells())
    corrupt = tmp_path / "in" / "corrupt.ipynb"
    corrupt.write_text(alice.read_text()[: len(alice.read_text()) // 2])
    not_notebook = tmp_path / "in" / "settings.ipynb"
    not_notebook.write_text('{"theme": "dark"}')
    no_code = write_notebook(tmp_path / "in" / "prose.ipynb", [])
    result = grade_all(assignment="optimizers", submissions=[corrupt, not_notebook, no_code, alice],
                       out=tmp_path / "out", course=str(ROOT), workers=1)
    reports = {r.submission: r for r in result.reports}
    assert reports["alice"].score == 100
    expected = {"corrupt": "corrupt.ipynb is not a readable notebook: its JSON is broken at line",
                "settings": "settings.ipynb is not a Jupyter notebook",
                "prose": "prose.ipynb has no code"}
    for sid, message in expected.items():
        assert reports[sid].score == 0 and message in (reports[sid].load_error or ""), reports[sid]
        assert json.loads((tmp_path / "out" / sid / "report.json").read_text())["load_error"].startswith(message)


def test_grader_check_on_a_notebook(tmp_path, capsys, monkeypatch):
    """Does `grader check optimizers alice.ipynb` exit 0 and print the table, and the notes under it?"""
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps at the terminal's width; a note is one line here
    path = write_notebook(tmp_path / "alice.ipynb", alice_cells() + ["print(adam)\nLR = 0.1\n%time adam"])
    assert cli.main(["check", "optimizers", str(path)]) == 0
    out = capsys.readouterr().out
    assert "visible checks" in out and "adam_matches_torch" in out and "the visible checks passed" in out
    assert out.index("adam_matches_torch") < out.index("Notes")
    assert "`print(adam)` not run: a print" in out and "`%time adam` skipped (IPython magic)" in out

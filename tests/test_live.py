"""grader.live's pieces that need no kernel: which cell a check belongs to, the table, the In [n] numbering
and what a misuse says. tests/test_notebook_kernels.py runs the whole thing in real kernels."""

from __future__ import annotations

import pytest
from conftest import ROOT

from grader.errors import UsageError
from grader.live import Results, _as_inputs, checker, history_notebook, owner


def test_a_check_belongs_to_the_last_function_it_calls_in_the_notebooks_order():
    order = ["adagrad", "rmsprop", "momentum", "adam", "warmup_cosine_lr"]
    assert owner(["adagrad", "rmsprop", "momentum", "adam"], order) == "adam"  # the purity check
    assert owner(["adam", "adagrad"], order) == "adam"
    assert owner(["kaiming_normal", "fan_in"], ["fan_in", "kaiming_normal", "init_mlp"]) == "kaiming_normal"
    assert owner(["gd"], order) is None  # a given function has no check cell


def test_the_text_table_keeps_a_messages_lines_under_its_row_and_sums_the_points():
    results = Results("adam: its visible checks",
                      [("adam_matches_torch", "failed", 0.0, 6.0, "step 3 of 100: element 1 is off"),
                       ("purity", "error", 0.0, 6.0, "adam raised an exception:\n  File \"x\", line 2\nValueError: no")],
                      hidden="4 hidden checks of adam run when your work is graded")
    text = str(results).splitlines()
    assert text[1].split() == ["adam_matches_torch", "failed", "0/6", "step", "3", "of", "100:", "element", "1", "is",
                               "off"]
    assert text[3] == '        File "x", line 2' and text[4] == "      ValueError: no"  # indented under the row
    assert text[5] == "0 of 2 passed: 0/12 points. 4 hidden checks of adam run when your work is graded."
    assert not results.passed


def test_the_html_table_escapes_what_it_quotes():
    html = Results("t", [("c", "failed", 0.0, 1.0, "w[f, c] <script>")], notes=["In [3] not run: a `for` loop"],
                   output="<b>printed</b>")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;printed" in html
    assert "#c62828" in html  # failed, in the reports' colour


def test_notes_name_the_kernels_inputs():
    assert _as_inputs("cell 7 not run: a training loop") == "In [7] not run: a training loop"
    assert _as_inputs("`adam` is defined in cells 3, 5: the one in cell 5 is graded") == (
        "`adam` is defined in In [3], In [5]: the one in In [5] is graded")


def test_the_history_notebook_numbers_its_cells_as_the_kernel_did():
    import nbformat

    notebook = nbformat.reads(history_notebook(["import numpy as np", "%time x = 1", "def f():\n    return 1"]), 4)
    assert [c.source for c in notebook.cells] == ["import numpy as np", "%time x = 1", "def f():\n    return 1"]
    assert [c.id for c in notebook.cells] == ["in-1", "in-2", "in-3"]


def test_a_misuse_says_what_to_do():
    check = checker("optimizers", ROOT)
    with pytest.raises(UsageError, match="has no function 'adma'; its functions are adagrad, rmsprop"):
        check("adma")
    with pytest.raises(UsageError, match="grader check <assignment>"):  # outside a Jupyter kernel
        check("adam")
    assert "no visible checks of its own" in str(check("gd"))  # the given worked example

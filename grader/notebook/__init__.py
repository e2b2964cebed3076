"""Jupyter notebooks as submissions: the definitions a notebook makes, as a module a worker can import.

A notebook is graded as "Run All" would leave its namespace, without running what is not a definition:
its imports, functions, classes and constants, in cell order, a later definition of a name replacing an
earlier one. Demo loops, training runs, plots and prints are not run at all (one ``while True: pass``
would otherwise cost the student every check), and each statement that is left out is named in the
report's ``notes``, with its cell and why.

How (all of it in the judge, at staging time; nothing of the notebook runs here), one module a step:

1. ``reading``: ``read_cells`` reads the file and checks it (``NotebookError``: why it cannot be graded).
2. ``ipython``: ``strip_ipython`` turns each code cell into plain Python with the same line numbers.
3. ``keep``: the rule that keeps a notebook's imports, definitions and safe constants, and says why the
   other statements are not run.
4. ``convert``: ``convert`` parses the cells, keeps what the rule keeps and generates the module that runs
   each kept statement on its own; ``convert_file`` and ``convert_bytes`` read a notebook and convert it.

``source`` holds what they share: the names a statement binds, its own text, a quote of it for a note.

Out-of-order notebooks are graded in cell order, as Run All would run them; statements that failed are not
retried after the rest. A retry could let a stale definition, fixed in a later cell, replace the fix.
Cells are numbered from 1 among all the notebook's cells, markdown included: "cell 7" is the seventh
cell from the top.
"""

from grader.notebook.convert import (
    MAX_IMPORT_NOTES,
    MAX_STATIC_NOTES,
    NOTES_NAME,
    Converted,
    convert,
    convert_bytes,
    convert_file,
)
from grader.notebook.ipython import PYTHON_CELL_MAGICS, Stripped, strip_ipython
from grader.notebook.keep import MAX_POWER, SAFE_CALLS
from grader.notebook.reading import (
    MAX_CODE_BYTES,
    MAX_NOTEBOOK_BYTES,
    Cell,
    NotebookError,
    read_cells,
    read_cells_from,
)
from grader.notebook.source import SNIPPET

__all__ = ["Cell", "Converted", "NotebookError", "convert", "convert_file", "read_cells", "strip_ipython",
           # also here for ``from grader.notebook import ...``, as when this was one module
           "convert_bytes", "read_cells_from", "Stripped", "MAX_NOTEBOOK_BYTES", "MAX_CODE_BYTES",
           "MAX_STATIC_NOTES", "NOTES_NAME", "MAX_IMPORT_NOTES", "MAX_POWER", "SNIPPET", "PYTHON_CELL_MAGICS",
           "SAFE_CALLS"]

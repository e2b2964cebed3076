"""Reading a notebook file: its code cells, checked, and nothing of it run.

``read_cells`` reads the file with ``nbformat`` (after a plain ``json`` parse, whose errors say
where the file is broken) and checks it: a corrupt file, JSON that is not a notebook, a notebook of
another language, one without code or with more than 1 MiB of it (conversion is linear, but a judge
must not spend minutes on one file) is a ``NotebookError``. A notebook that Jupyter would still open
but that breaks nbformat's schema in some detail (a stray key, a missing cell id) is graded, with a
note; refusing it would zero a student for their editor's quirk.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

MAX_NOTEBOOK_BYTES = 64 << 20  # plots are stored in the file as base64 images: notebooks get large
MAX_CODE_BYTES = 1 << 20       # the code of all cells: a homework is far smaller; converting costs ~60 µs a line


class NotebookError(ValueError):
    """The file cannot be graded as a notebook; the message says why, for the student's report."""


@dataclass(frozen=True)
class Cell:
    """A code cell: its place among all the notebook's cells (from 1) and its source."""
    number: int
    source: str


def _too_large(name: str) -> NotebookError:
    return NotebookError(f"{name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB: clear its outputs "
                         "(Edit > Clear All Outputs) and hand it in again")


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

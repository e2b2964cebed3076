"""The checks folder is not a package: its helper modules and its mistake catalogue, loaded by path."""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace


def load_sibling(check_file: str, name: str):
    """A helper module kept beside the checks (``checks/<name>.py``), loaded by path: the checks
    folder is not a package and pytest's importlib mode puts nothing on ``sys.path``.
    Use as ``common = load_sibling(__file__, "common")``."""
    path = Path(check_file).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_grader_checks_{path.parent.parent.name}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_mistakes(check_file: str):
    """The assignment's catalogue of known mistakes (``checks/mistakes.py``: ``CATALOGUE`` maps a
    function to ``{description: wrong version}``), or an empty one where the file is absent. A
    student's copy of the checks (``student_template/assignments/``) does not carry it: its wrong
    versions are the right formulas with one thing changed, as good as the reference."""
    if Path(check_file).with_name("mistakes.py").is_file():
        return load_sibling(check_file, "mistakes")
    return SimpleNamespace(CATALOGUE=defaultdict(dict))

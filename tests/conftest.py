"""Shared helpers for the test suite."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


def load_reference(name: str) -> ModuleType:
    """Return the module loaded from ``reference/<name>.py`` (``reference/`` is not a package)."""
    path = REFERENCE_DIR / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"reference_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

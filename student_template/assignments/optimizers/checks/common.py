"""Shared by the visible and the hidden checks of optimizers (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

# The checks call these as common.<name>; they live in grader.testing, shared with the other assignments.
from grader.testing import hint_on_failure, one_by_one, own_path_hint  # noqa: F401 - the checks use them as <module>.<name>

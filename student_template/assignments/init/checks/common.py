"""Shared by the visible and the hidden checks of init (each loads this file by path with
``grader.testing.load_sibling``: ``checks/`` is not a package, and this file is not a check)."""

from __future__ import annotations

from grader.testing import one_by_one  # noqa: F401 - shared with the other assignments' checks

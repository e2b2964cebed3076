"""An autograder for deep-learning homework.

The judge (this package, in the grader's process) runs pytest checks and computes every expected
value with reference code; student code runs only in worker processes and answers with plain data.
"""

__version__ = "0.1.0"

__all__ = [
    "Assignment",
    "AssignmentSpec",
    "CheckResult",
    "Report",
    "course_root",
    "grade_submission",
    "load_assignment",
    "load_spec",
]

_PUBLIC = {"Assignment": "grader.course", "course_root": "grader.course", "load_assignment": "grader.course",
           "grade_submission": "grader.grade", "CheckResult": "grader.report", "Report": "grader.report",
           "AssignmentSpec": "grader.spec", "load_spec": "grader.spec"}


def __getattr__(name: str):
    """The public names, imported when first used: ``import grader.spec`` (or the sandbox's, or a check's
    ``grader.testing``) does not import pytest and the judge with the package."""
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")

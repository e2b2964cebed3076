"""An autograder for deep-learning homework.

The judge (this package, in the grader's process) runs pytest checks and computes every expected
value with reference code; student code runs only in worker processes and answers with plain data.
"""

from grader.course import Assignment, course_root, load_assignment
from grader.grade import grade_submission
from grader.report import CheckResult, Report
from grader.spec import AssignmentSpec, load_spec

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

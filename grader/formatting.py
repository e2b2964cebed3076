"""What every rendering of reports shares: untrusted text made printable, numbers as people write
them, reports in id order and checks in the spec's order.

Imported by the renderings (``grader.exports``, ``grader.summary``, ``grader.html``, the class and
course pages, the platforms' results); it imports only the report and the spec, so data flows one way.
"""

from __future__ import annotations

import re

from grader.report import Report
from grader.spec import AssignmentSpec

# Characters XML 1.0 does not allow, plus DEL and the C1 controls (terminal escapes on some terminals).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` with control characters spelled out as ``\\xNN``: valid in XML, harmless in a terminal."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", text)


def num(x: float) -> str:
    """A score as people write it: 71, 71.5, 71.33 (not 71.0 or 71.33333333)."""
    return f"{round(x, 2):g}"


def by_id(reports: list[Report]) -> list[Report]:
    return sorted(reports, key=lambda r: r.submission)


def check_order(reports: list[Report], spec: AssignmentSpec | None = None) -> list[str]:
    """Check names in the spec's order, then any the spec does not name in the order reports list them.

    A check a report has but the spec lacks (the spec changed after grading) is kept, not dropped:
    an export must never silently lose points.
    """
    names = list(spec.checks) if spec is not None else []
    for report in reports:
        names += [c.name for c in report.checks if c.name not in names]
    return names


#: The colour of each check status, on every page and in the terminal (rich takes "#rrggbb" styles).
STATUS_COLOURS = {"passed": "#1b7f3b", "failed": "#c62828", "error": "#8e24aa", "timeout": "#ef6c00",
                  "forbidden": "#6d4c41"}


def first_problem(report: Report) -> str:
    """One line: why the file did not load (its last line), or the first check that did not pass."""
    if report.load_error:
        lines = [line.strip() for line in report.load_error.splitlines() if line.strip()]
        return f"not loaded: {lines[-1]}" if lines else "not loaded"
    for check in report.checks:
        if check.status != "passed":
            return f"{check.name}: {check.status}"
    return ""

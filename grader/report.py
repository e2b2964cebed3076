"""Reports are data: pydantic models written as JSON; every other format renders from them."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
Status = Literal["passed", "failed", "error", "timeout", "forbidden"]


_PLAIN = frozenset({int, float, bool, type(None)})


def encodable(value: Any) -> Any:
    """``value`` with every string in it made encodable as UTF-8: a lone surrogate (a student's exception
    text with ``"\\udcff"`` in it, a file name decoded with ``surrogateescape``) is spelled out as
    ``\\udcff``. Without it, one such message makes the report impossible to write as JSON, to SQLite or
    to HTML, and the judge that graded it dies."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        if _PLAIN.issuperset(map(type, value)):  # numbers only (a figure's samples): nothing to spell out
            return value
        return [encodable(v) for v in value]
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    return value


Text = Annotated[str, AfterValidator(encodable)]


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    status: Status
    points: float
    max_points: float
    message: Text = Field(default="", description="what went wrong, for the student; empty when passed")
    visibility: Literal["visible", "hidden"] = "hidden"
    seconds: float = 0.0
    figures: Annotated[list[dict], AfterValidator(encodable)] = Field(default_factory=list, description="pictures the check recorded, as plain data "
                                "(grader.figures); a hidden check's only when it marked them public")


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    assignment: str
    submission: Text
    score: float
    max_score: float
    checks: list[CheckResult]
    load_error: Text | None = Field(default=None, description="why the submission could not be loaded, if so")
    protections: list[str] = Field(default_factory=list, description="how the worker was confined")
    output: Text = Field(default="", description="the submission's captured stdout and stderr, truncated")
    notes: list[Text] = Field(default_factory=list, description="what happened to a notebook's cells that were "
                             "not run, for the student")
    graded_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    seconds: float = Field(default=0.0, description="wall time of the whole grade")
    boundary_seconds: float = Field(default=0.0, description="part of the checks' time spent starting the worker "
                                    "(its import included) and crossing to it and back (codec, pipes), not computing")

    @classmethod
    def from_checks(cls, *, assignment: str, submission: str, checks: list[CheckResult], **extra) -> Report:
        return cls(assignment=assignment, submission=submission, checks=checks,
                   score=round(sum(c.points for c in checks), 6),
                   max_score=round(sum(c.max_points for c in checks), 6), **extra)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8, or bytes) through a temporary file in the same folder and rename it: a
    reader never sees half a file. The one writer of every file the grader keeps (reports, pages, exports,
    pictures, the oracle cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def submission_folder(out_dir: Path, submission: str) -> Path:
    """``out_dir/<id>``, refusing an id that is not one plain folder name (it would write elsewhere)."""
    if (submission in ("", ".", "..") or Path(submission).name != submission or "\\" in submission
            or "\0" in submission):
        raise ValueError(f"submission id {submission!r} is not a plain folder name; "
                         f"refusing to write its files outside {out_dir}")
    return out_dir / submission


def write_report(report: Report, out_dir: Path) -> Path:
    """``out_dir/<id>/report.json``: the one writer of that file (``grader.batch`` calls it as each report
    arrives, and for any a crash kept from being written)."""
    path = submission_folder(out_dir, report.submission) / "report.json"
    write_atomic(path, report.model_dump_json(indent=2) + "\n")
    return path


def failed_report(assignment, submission: str, message: str) -> Report:
    """A report for a submission the grader could not grade at all: every check at zero, with why."""
    checks = [CheckResult(name=name, status="error", points=0.0, max_points=c.points, message=message,
                          visibility=c.visibility) for name, c in assignment.spec.checks.items()]
    return Report.from_checks(assignment=assignment.name, submission=submission, checks=checks, load_error=message)

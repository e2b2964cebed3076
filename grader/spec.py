"""The assignment format: ``assignments/<name>/assignment.toml``, validated by pydantic.

Everything that decides a grade and is not code lives here: the points and visibility of each
check, the tolerances, the time and size limits, and the forbidden routines. Unknown keys are
rejected with a message that names the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from grader.errors import SpecError

SPEC_FILE = "assignment.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tolerance(_Strict):
    """Elementwise closeness: |a - b| <= atol + rtol * max(|a|, |b|)."""

    rtol: float = Field(ge=0, description="relative tolerance")
    atol: float = Field(default=0.0, ge=0, description="absolute tolerance, for values near zero")


class Limits(_Strict):
    """Budgets for one submission's worker."""

    call_seconds: float = Field(default=10.0, gt=0, description="wall-clock deadline of one call")
    submission_seconds: float = Field(default=300.0, gt=0, description="wall-clock budget of a whole grade")
    startup_seconds: float = Field(default=30.0, gt=0, description="deadline for importing the submission")
    result_bytes: int = Field(default=64 << 20, gt=0, description="largest message a worker may send back")
    output_bytes: int = Field(default=16 << 10, gt=0, description="captured stdout/stderr kept in a report")
    memory_bytes: int = Field(default=2 << 30, gt=0, description="address-space limit of a worker")
    cpu_seconds: int = Field(default=60, gt=0, description="CPU-time limit of a worker")
    file_bytes: int = Field(default=64 << 20, gt=0,
                            description="largest file a worker may write (its output included), and its disk space")
    processes: int = Field(default=64, gt=0, description="processes and threads a sandboxed worker may run")


class Check(_Strict):
    """One graded check: a pytest test named ``test_<name>`` in ``checks/``."""

    points: float = Field(gt=0, description="points for passing")
    visibility: Literal["visible", "hidden"] = Field(
        description="visible checks run in `grader check` and compare with PyTorch or properties; "
        "hidden checks compare with the reference on secret inputs"
    )
    functions: list[str] = Field(min_length=1, description="student functions the check exercises")
    description: str = Field(default="", description="one line shown to students")


class Gradescope(_Strict):
    """How Gradescope shows this assignment's results (``grader gradescope``)."""

    hidden_visibility: Literal["hidden", "after_due_date", "after_published", "visible"] = Field(
        default="after_published", description="when students see the hidden checks' results (Gradescope's "
        "test visibility); the visible checks are always visible")


class AssignmentSpec(_Strict):
    """The whole ``assignment.toml``."""

    title: str
    module: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="the student's module name")
    functions: list[str] = Field(min_length=1, description="functions the student module defines")
    given: list[str] = Field(default_factory=list, description="functions the stub gives as worked examples")
    forbidden: list[str] = Field(default_factory=list, description="dotted names a submission may not use")
    limits: Limits = Field(default_factory=Limits)
    tolerances: dict[str, Tolerance] = Field(default_factory=dict)
    parameters: dict[str, float | int | str | bool | list[float | int]] = Field(
        default_factory=dict, description="other numbers checks read, e.g. a time budget or a loss threshold")
    checks: dict[str, Check] = Field(min_length=1)
    gradescope: Gradescope = Field(default_factory=Gradescope)
    _source: str = PrivateAttr(default="")  # the file it was read from, for messages

    @model_validator(mode="after")
    def _functions_are_declared(self) -> AssignmentSpec:
        known = set(self.functions)
        for name, check in self.checks.items():
            unknown = [f for f in check.functions if f not in known]
            if unknown:
                raise ValueError(f"check {name!r} exercises undeclared functions {unknown}")
        unknown_given = [f for f in self.given if f not in known]
        if unknown_given:
            raise ValueError(f"given functions {unknown_given} are not in `functions`")
        return self

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks.values())

    def tolerance(self, name: str) -> Tolerance:
        try:
            return self.tolerances[name]
        except KeyError:
            raise SpecError(f"no tolerance {name!r} in [tolerances] of {self._source or repr(self.module)}") from None


    def parameter(self, name: str):
        try:
            return self.parameters[name]
        except KeyError:
            raise SpecError(f"no parameter {name!r} in [parameters] of {self._source or repr(self.module)}") from None


def load_spec(path: Path) -> AssignmentSpec:
    """Read and validate a spec file; any problem raises ``SpecError`` naming the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path}: {exc}") from None
    try:
        spec = AssignmentSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise SpecError(f"{path}: key {where}: {first['msg']}{more}") from None
    spec._source = str(path)
    return spec

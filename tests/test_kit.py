"""The check author's kit, ``grader.testing``: its public names are pinned, documented, and the only part of
the grader the assignments' checks import."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import grader.testing as kit

ROOT = Path(__file__).resolve().parent.parent

PUBLIC = {
    "as_array", "as_float", "as_step", "relative_error",
    "assert_close", "assert_each_close", "assert_results_close", "is_close", "normality", "binomial_test",
    "clone_generator",
    "one_by_one", "expect_raises", "assert_unchanged",
    "numerical_grad", "assert_gradient_close",
    "trajectory_check", "start_trajectory", "run_optimizer", "start_optimizer", "start_steps", "start_output_descent",
    "oracle", "oracle_step", "torch_trajectory", "lazy_torch",
    "hint_on_failure", "value_hint", "forced_hint", "own_path_hint", "matching_mistake",
    "load_sibling", "load_mistakes", "safe_messages",
    "figures", "surfaces",
    "BadResult", "StudentFault", "StudentError", "StudentTimeout", "Tolerance",
}


def test_the_public_api_is_pinned():
    """A name joins or leaves the kit on purpose: this list and docs/authoring.md change with it."""
    assert set(kit.__all__) == PUBLIC
    assert len(kit.__all__) == len(PUBLIC)  # no name twice
    for name in kit.__all__:
        assert hasattr(kit, name), name


def test_every_public_name_is_documented_here_and_in_the_guide():
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    for name in kit.__all__:
        value = getattr(kit, name)
        assert inspect.getdoc(value), f"grader.testing.{name} has no docstring"
        assert f"`{name}" in guide or f"{name}(" in guide or f".{name}" in guide, f"docs/authoring.md never names {name}"


def test_the_judges_own_memory_is_private():
    """The oracle cache and the run memo live in grader.testing._memo, which no check may import."""
    assert not any(name.startswith("_") for name in kit.__all__)
    assert "_memo" not in kit.__all__


def _grader_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "grader":
            names.append(node.module if node.module != "grader" else f"grader.{node.names[0].name}")
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.split(".")[0] == "grader"]
    return names


def test_the_assignments_use_only_the_public_kit():
    """Checks, their helpers, catalogues and references import nothing of the grader but grader.testing (and
    its public submodules): the judge's inside can change without touching an assignment."""
    allowed = {"grader.testing", "grader.testing.surfaces"}
    files = sorted((ROOT / "assignments").glob("*/checks/*.py")) + sorted((ROOT / "reference").glob("*.py"))
    assert files
    offenders = {str(f.relative_to(ROOT)): bad for f in files
                 if (bad := [m for m in _grader_imports(f) if m not in allowed])}
    assert offenders == {}


def test_the_import_check_sees_an_import_of_the_judge(tmp_path):
    """The test above would catch a check that reaches into the judge."""
    check = tmp_path / "test_x.py"
    check.write_text("from grader.testing._memo import ORACLE\nimport grader.sandbox.codec\nfrom grader import pool\n")
    assert _grader_imports(check) == ["grader.testing._memo", "grader.sandbox.codec", "grader.pool"]

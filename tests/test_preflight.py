"""``grader check-assignment`` names an instructor's mistake before any student is graded, and a batch whose
checks fail for the reference stops with that message instead of writing a report of errors per student."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, copy_course

from grader import cli


def course_with(tmp_path: Path, edit) -> Path:
    """A course with init, edited by ``edit(checks_dir, spec_path)``."""
    copy_course(tmp_path, ("init", "optimizers"))  # init's hidden checks train with reference_of("optimizers")
    folder = tmp_path / "assignments" / "init"
    edit(folder / "checks", folder / "assignment.toml")
    return tmp_path


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def bug_in_a_check(checks, spec):
    replace(checks / "test_visible.py", "def test_init_mlp_shapes(student, public_rng):\n",
            "def test_init_mlp_shapes(student, public_rng):\n    undefined_helper()\n")


def unlisted_function(checks, spec):
    replace(spec, 'functions = ["init_mlp", "kaiming_normal"]\ndescription = "init_mlp returns one',
            'functions = ["kaiming_normal"]\ndescription = "init_mlp returns one')


def misspelt_parameter(checks, spec):
    replace(checks / "test_hidden.py", 'spec.parameter("train_steps")', 'spec.parameter("train_step")')


def missing_fixture(checks, spec):
    replace(checks / "test_visible.py", "def test_init_mlp_shapes(student, public_rng):",
            "def test_init_mlp_shapes(student, public_rng, secret_rng):")


def check_file_does_not_import(checks, spec):
    replace(checks / "test_visible.py", "import numpy as np\n", "import numpy as np\nfrom grader.testing import no_such_helper\n")


def points_not_100(checks, spec):
    replace(spec, "[checks.fan_in_matches_torch]\npoints = 7", "[checks.fan_in_matches_torch]\npoints = 8")


def passes_on_the_stub(checks, spec):
    replace(checks / "test_visible.py", "def test_init_mlp_shapes(student, public_rng):\n",
            "def test_init_mlp_shapes(student, public_rng):\n    return\n")


@pytest.mark.parametrize(("edit", "words"), [
    (bug_in_a_check, ["init_mlp_shapes", "the grader failed inside this check at test_visible.py:223: NameError: "
                      "name 'undefined_helper' is not defined"]),
    (unlisted_function, ["init_mlp", "init_mlp_shapes"]),
    (misspelt_parameter, ["train_step"]),
    (missing_fixture, ["secret_rng"]),
    (points_not_100, ["add up to 101"]),
    (check_file_does_not_import, ["no_such_helper"]),
    (passes_on_the_stub, ["check init_mlp_shapes passes on the stub"]),
])
def test_check_assignment_names_the_instructors_mistake(tmp_path, capsys, edit, words):
    course = course_with(tmp_path, edit)
    code = cli.main(["--course", str(course), "check-assignment", "init"])
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert code != 0
    for word in words:
        assert word in said, said


def test_check_assignment_passes_a_ready_assignment(tmp_path, capsys):
    course = course_with(tmp_path, lambda checks, spec: None)
    assert cli.main(["--course", str(course), "check-assignment", "init"]) == 0
    assert "init: ready" in capsys.readouterr().out


def test_a_batch_stops_when_the_reference_fails_its_checks(tmp_path, capsys):
    course = course_with(tmp_path / "course", bug_in_a_check)
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    for name in ("alice", "bob", "carol"):
        shutil.copy(ROOT / "examples" / "init" / f"{name}.py", class_folder / f"{name}.py")
    out = tmp_path / "out"
    code = cli.main(["--course", str(course), "grade", "init", str(class_folder), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "the reference of 'init' does not pass its checks: check init_mlp_shapes error for the reference: " \
           "the grader failed inside this check at test_visible.py:223: NameError" in err
    assert "no submission was graded" in err
    assert not list(out.glob("*/report.json"))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_batch_stops_when_a_check_file_does_not_load(tmp_path, capsys, workers):
    """Before: each judge died at start and the pool started another, forever."""
    course = course_with(tmp_path / "course", check_file_does_not_import)
    out = tmp_path / "out"
    code = cli.main(["--course", str(course), "grade", "init", str(ROOT / "examples" / "init"), "--out", str(out),
                     "--workers", workers])
    err = capsys.readouterr().err
    assert code == 2 and "no_such_helper" in err, err
    assert not list(out.glob("*/report.json"))


def test_a_pool_whose_judges_cannot_load_the_checks_raises_instead_of_restarting_them(tmp_path):
    """The pool itself, without the preflight: a judge that cannot collect the checks reports the instructor's
    mistake, and the batch stops (before, each judge died at start and the pool started another, forever)."""
    from grader.errors import SpecError
    from grader.grade import Job
    from grader.pool import Settings, grade_local

    course = course_with(tmp_path, check_file_does_not_import)
    jobs = [Job(path, path.stem) for path in sorted((ROOT / "examples" / "init").glob("*.py"))]
    settings = Settings("init", str(course), True, b"s", False)
    with pytest.raises(SpecError, match="no_such_helper"):
        grade_local(settings, jobs, lambda report: None, workers=2)

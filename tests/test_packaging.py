"""The grader as pip installs it from its source (a wheel, not an editable install): what Gradescope's
setup.sh and the PrairieLearn image do. A file of the package that is not Python reaches the
installed package only if pyproject.toml's package-data names it."""

from __future__ import annotations

import fnmatch
import tomllib

from conftest import ROOT


def test_every_file_of_the_package_that_is_not_python_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["grader"]
    package = ROOT / "grader"
    data = sorted(p.relative_to(package).as_posix() for p in package.rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts)
    assert data, "the package has files that are not Python (judge.ini, the sandbox's enter.sh)"
    assert [name for name in data if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)] == []

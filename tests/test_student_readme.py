"""student_template/README.md's commands, run as a student runs them: in a copy of the template, in a fresh
virtual environment, the set-up block then the check block.

Two substitutions, and only these: PyTorch's CPU index is left to this machine's package index (it serves
the same CPU build of the pinned version from a local file), and the course's package URL is this checkout
(the course's repository does not exist here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

from grader.assign_readme import CPU_INDEX, student_settings

README = ROOT / "student_template" / "README.md"


def sh_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_readme_has_a_set_up_block_and_a_check_block():
    setup, check = sh_blocks()
    assert "torch==2.13.0" in setup and f"--index-url {CPU_INDEX}" in setup
    assert setup.index("torch==2.13.0") < setup.index(student_settings(ROOT)["package"]), "torch's CPU build first"
    assert check.strip().startswith("grader check ")


def test_the_readmes_commands_set_up_a_fresh_environment_and_check_a_stub(tmp_path):
    folder = tmp_path / "homework"
    shutil.copytree(ROOT / "student_template", folder)
    setup, check = sh_blocks()
    setup = setup.replace(f" --index-url {CPU_INDEX}", "").replace(student_settings(ROOT)["package"], str(ROOT))
    script = "set -e\n" + setup + "\npip --version >/dev/null\n" + check
    done = subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, text=True, timeout=900,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path.home()),
                               "PIP_DISABLE_PIP_VERSION_CHECK": "1", "COLUMNS": "200"})
    # The stub's checks all fail (exit status 1): what matters is that they ran and say so.
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "not implemented yet" in done.stdout and "Visible checks: 0/" in done.stdout, done.stdout[-3000:]
    assert (folder / ".venv" / "bin" / "grader").exists()

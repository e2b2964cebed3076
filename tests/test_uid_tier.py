"""The sandbox as Gradescope's and PrairieLearn's containers allow it: root, but without CAP_SYS_ADMIN
(Docker's default capabilities), so no namespaces. Workers then drop to an unprivileged uid over a
private copy of the submission, with rlimits and a scrubbed environment, and everything of that uid
(processes, files in the shared temporary folders, SysV IPC) is removed between submissions.

The hostile corpus (tests/test_hostile.py) runs again in that tier: `setpriv` takes CAP_SYS_ADMIN out
of the bounding set, as Docker does. As on Gradescope, where `setup.sh` makes the course root's only,
the course is a copy in a folder only root may enter, and this checkout's own course files are hidden
under empty mounts (in a mount namespace of the test's own, made before the capability goes), so the
corpus cannot find a readable reference anywhere. Only what namespaces alone stop is not asserted
there: reaching the network (docs/security.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

COPIED = ("grader", "tests", "assignments", "reference", "examples", "pyproject.toml")


def test_the_hostile_corpus_earns_nothing_without_cap_sys_admin(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"):
        pytest.skip("needs root, setpriv and unshare to reproduce a container without CAP_SYS_ADMIN")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    course = private / "course"
    course.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, course / name, ignore=ignore)
        else:
            shutil.copyfile(source, course / name)
    hide = " && ".join(f"mount -t tmpfs -o size=1m,mode=700 hidden '{ROOT / d}'" for d in ("reference", "assignments"))
    script = (f"mount --make-rprivate / && {hide} && exec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "
              f"-- '{sys.executable}' -m pytest -q -p no:randomly -p no:cacheprovider tests/test_hostile.py")
    env = {**os.environ, "GRADER_TEST_TIER": "uid", "GRADER_WORKER_VENV": str(ROOT / ".venv-worker")}
    result = subprocess.run(["unshare", "--mount", "--", "sh", "-c", script], cwd=course, env=env,
                            capture_output=True, text=True, timeout=1200)
    tail = (result.stdout + result.stderr)[-4000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "skipped" not in result.stdout, tail

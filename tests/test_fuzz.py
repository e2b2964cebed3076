"""Fuzzing the grader: 300 hostile, broken and odd submissions from ``tools/fuzz.py`` graded in one batch,
the inputs' folder passed as one path (a class). The batch must exit 0 with a sound report for each
student, and leave the inputs unchanged, nothing outside its folders and nothing in ``TMPDIR``."""

from __future__ import annotations

import collections
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT

from grader.sandbox.isolation import detect

SEED = 20261207
SECRET = "fuzz-test-secret-7f3a"


def _load_fuzz():
    spec = importlib.util.spec_from_file_location("_tests_tools_fuzz", ROOT / "tools" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


def test_the_generator_is_deterministic_and_covers_every_kind(tmp_path):
    """Does one seed write the same entries twice, every variant of every group, each group 10 times or more?"""
    first = fuzz.generate(tmp_path / "a", 300, SEED)
    second = fuzz.generate(tmp_path / "b", 300, SEED)
    assert first == second
    assert fuzz.fingerprint(tmp_path / "a") == fuzz.fingerprint(tmp_path / "b")
    assert len(os.listdir(tmp_path / "a")) == 300
    groups = collections.Counter(i.group for i in first)
    assert set(groups) == set(fuzz.GROUPS) and min(groups.values()) >= 10, groups
    kinds = {i.kind for i in first}
    assert kinds == {f"{g}/{v}" for g, variants in fuzz.GROUPS.items() for v in variants}


def test_a_batch_of_fuzz_inputs_grades_cleanly(tmp_path):
    """300 fuzz inputs graded as one class: exit 0, one sound report per student (none leaking a secret, none
    scoring from a file outside its submission), the inputs unchanged, no file escaped, TMPDIR left empty."""
    dest, out, tmp = tmp_path / "inputs", tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    inputs = fuzz.generate(dest, 300, SEED)
    before = fuzz.fingerprint(dest)
    escapes_before = fuzz.escape_files(tmp_path)
    env = {**os.environ, "GRADER_SECRET": SECRET, "TMPDIR": str(tmp), "COLUMNS": "200"}

    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "grader", "grade", "optimizers", str(dest), "--out", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    seconds = time.monotonic() - started

    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert fuzz.check_outputs(dest, out, inputs, secrets=[SECRET]) == []
    assert fuzz.fingerprint(dest) == before, "the grader changed the inputs"
    escaped = {p for p, mtime in fuzz.escape_files(tmp_path).items()
               if escapes_before.get(p) != mtime and not Path(p).is_relative_to(out)}
    if not detect().namespaces:
        # Without the sandbox, student code may write where its uid may (docs/security.md): only files the
        # grader itself let out (a zip's members) count. Those the students' code wrote are removed.
        written = {p for p in escaped if Path(p).name.startswith(f"{fuzz.ESCAPE_PREFIX}-f")}
        for path in written:
            Path(path).unlink(missing_ok=True)
        escaped -= written
    assert not escaped, sorted(escaped)
    assert sorted(os.listdir(tmp)) == [], "left in TMPDIR"
    print(f"{len(inputs)} fuzz inputs graded in {seconds:.1f} s")  # tools/fuzz.py measures it at any size

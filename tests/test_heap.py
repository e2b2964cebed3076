"""The judges and fork servers keep freed memory (grader/sandbox/heap.py): a large NumPy temporary made
again and again reuses its pages instead of faulting in fresh ones each time."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")

FAULTS = """
import resource, sys
import numpy as np
sys.path.insert(0, {sandbox!r})
import heap
if {keep}:
    assert heap.keep_freed_memory()
u, v, z = np.ones(256), np.ones(100), np.ones((256, 100))
for _ in range(20):  # warm: the heap has grown to what the loop needs
    np.outer(u, v) * (z > 0)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    np.outer(u, v) * (z > 0)  # three arrays of 200 KB (or 25 KB), made and freed
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(keep: bool) -> int:
    from grader.sandbox import heap

    code = FAULTS.format(sandbox=str(heap.__file__).rsplit("/", 1)[0], keep=keep)
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_a_process_that_keeps_freed_memory_reuses_its_pages():
    """Without the setting each 200 KB array is mapped afresh: about 50 faults each, 10,000s over the loop.
    With it the loop runs in pages the heap already has."""
    assert faults(keep=False) > 5000
    assert faults(keep=True) < 200

"""glibc's malloc told to keep the memory a process frees, for the processes that make many large arrays.

By default glibc maps each allocation over 128 KB afresh and unmaps it when freed, and trims the heap as
it shrinks, so a 200 KB NumPy temporary made again and again costs a page fault per 4 KB each time
(``np.outer(u, v) * (z > 0)`` on 256 x 100: 200 µs, against 30 µs when the pages are reused). After
``keep_freed_memory()`` allocations up to 64 MB come from the heap, which is not trimmed below 256 MB:
freed pages are used again. The judges call it (``grader.grade.grade_stream``: init's training in the
judge, 0.7 times the time) and so do the fork servers (``zygote.py``), whose children inherit it: a
child making hundreds of 128 x 128 weights (init's deep ReLU stack) paid the same faults. A process's
memory limit is the same; it only gives less back to the system while it lives. Elsewhere than glibc
(musl, macOS) nothing changes.

Loaded by path in the fork server, so it imports the standard library only.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt(3)
MMAP_THRESHOLD = 64 << 20  # larger allocations are still mapped apart and given back when freed
TRIM_THRESHOLD = 256 << 20


def keep_freed_memory() -> bool:
    """Set this process's malloc to reuse freed memory (see the module); whether it could (glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))

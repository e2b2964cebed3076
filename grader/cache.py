"""Where the grader keeps what it computed once and may reuse in another process: torch's trajectories
(``grader.testing.torch_trajectory``) and the pictures of passed checks (``grader.html``).

``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/grader``, else ``~/.cache/grader``. Everything in it is
keyed by a digest of what it depends on, so a stale entry is never read, only left behind; the
folder may be deleted at any time.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    base = os.environ.get("GRADER_CACHE_DIR")
    if not base:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader"
    return Path(base) / kind

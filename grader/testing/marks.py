"""Marks a check author puts on checks."""

from __future__ import annotations

import warnings

import pytest

#: A hidden check whose failure messages its author has read for hidden values and vouches for: they are shown
#: as written. Without it, every number in a hidden check's failure message is masked ("…"), since one may be a
#: secret input or an expected value (``assert got == want, f"expected {want}"``). Use it on a check
#: (``@safe_messages``) or on a whole file (``pytestmark = safe_messages``). A student's own exception (a
#: traceback) is shown either way, its decimal numbers masked.
with warnings.catch_warnings():  # registered in the judge's configuration (judge.ini), not in every pytest run's
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    safe_messages = pytest.mark.safe_messages

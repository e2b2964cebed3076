"""``torch.optim`` in the judge without importing ``torch._dynamo``: 1.4 s of every fresh judge.

The judge runs ``torch.optim`` optimizers as the visible checks' oracle, eagerly, and never compiles
anything. Yet the first optimizer of a process imports ``torch._dynamo`` (torch's compiler front end,
sympy with it): ``Optimizer.__init__`` and friends are wrapped by ``torch._disable_dynamo``, which
imports it to mark them "do not trace", and every ``step`` calls ``torch._dynamo.graph_break()``.
Outside a compilation both are no-ops: nothing traces, so nothing needs telling not to, and there is
no graph to break.

``install()`` puts a stand-in in ``sys.modules["torch._dynamo"]`` (and ``torch._dynamo``) whose
``disable`` returns the function unchanged and whose ``graph_break`` does nothing, when the real one
is not imported yet. Anything else asked of it raises, naming this module, so code that really
compiles fails loudly instead of running untraced. ``tests/test_eager_torch.py`` runs every
optimizer the checks use both ways and finds the same numbers, bit for bit. ``GRADER_REAL_DYNAMO=1``
leaves torch alone.

``lazy()`` is ``torch`` for a check module that may not need it: imported on the first use of one of
its attributes (set to one thread, with the stand-in above), so a judge whose oracles are all
remembered (``grader.testing.torch_trajectory``, ``grader.testing.oracle``) never imports torch at all.
"""

from __future__ import annotations

import os
import sys
import types

NAME = "torch._dynamo"


class EagerDynamo(types.ModuleType):
    """``torch._dynamo`` for a process that never compiles (see the module)."""

    def graph_break(self, *args, **kwargs) -> None:
        return None

    def disable(self, fn=None, recursive: bool = True, *, wrapping: bool = True, reason: str | None = None):
        return fn if fn is not None else (lambda f: f)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"torch._dynamo.{name}: the judge stands in for torch._dynamo without compiling "
                             "(grader/eager_torch.py); set GRADER_REAL_DYNAMO=1 to import the real one")


def install() -> bool:
    """Stand in for ``torch._dynamo`` if torch is imported and the real one is not; whether it did."""
    torch = sys.modules.get("torch")
    if torch is None or NAME in sys.modules or os.environ.get("GRADER_REAL_DYNAMO") == "1":
        return False
    stand_in = EagerDynamo(NAME, __doc__)
    sys.modules[NAME] = stand_in
    torch._dynamo = stand_in
    return True


class LazyTorch(types.ModuleType):
    """``torch``, imported on the first use of one of its attributes (see the module)."""

    def __getattr__(self, name: str):
        # Introspection (pytest looking for fixtures in a module's globals asks each for "__wrapped__" and the
        # like) must not import torch: a name that is not public torch's answers only once torch is in.
        if name.startswith("_") and "torch" not in sys.modules:
            raise AttributeError(name)
        return getattr(load(), name)


def load() -> types.ModuleType:
    """torch, imported now if it is not yet: one thread (no pool to break a later fork, and the checks'
    arithmetic is small), and ``torch._dynamo`` stood in for."""
    torch = sys.modules.get("torch")
    if torch is None:
        import torch

        torch.set_num_threads(1)
    install()
    return torch


def lazy() -> types.ModuleType:
    """A stand-in for ``torch`` in a module's globals: ``torch = lazy()``, then ``torch.optim.Adam`` as usual."""
    return LazyTorch("torch", "torch, imported on first use (grader.eager_torch.lazy)")

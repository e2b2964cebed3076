"""torch.optim without torch._dynamo in the judge (grader/eager_torch.py): the same numbers, bit for bit,
for every optimizer the checks run, and no compiler imported."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

PROGRAM = r"""
import sys
import numpy as np
import torch
from grader import eager_torch
installed = eager_torch.install()
makers = [lambda p: torch.optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.3),
          lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.9),
          lambda p: torch.optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-3),
          lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1), lambda p: torch.optim.RMSprop(p, lr=0.01),
          lambda p: torch.optim.Adagrad(p, lr=0.1)]
paths = []
for make in makers:
    p = torch.tensor(np.linspace(-1.5, 2.0, 7), dtype=torch.float64, requires_grad=True)
    optimizer = make([p])
    optimizer.zero_grad()
    for step in range(60):
        p.grad = torch.sin(p.detach() * (step + 1)) + 0.1 * p.detach() ** 3
        optimizer.step()
        paths.append(p.detach().numpy().copy())
    optimizer.state_dict()
np.save(sys.argv[1], np.stack(paths))
print(installed, type(sys.modules["torch._dynamo"]).__name__, "sympy" in sys.modules)
"""


def _run(tmp_path, name: str, real: bool) -> tuple[str, np.ndarray]:
    env = {**os.environ, "GRADER_REAL_DYNAMO": "1" if real else "0"}
    out = tmp_path / f"{name}.npy"
    result = subprocess.run([sys.executable, "-c", PROGRAM, str(out)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip(), np.load(out)


def test_every_optimizer_walks_the_same_path_without_the_compiler(tmp_path):
    eager, eager_paths = _run(tmp_path, "eager", real=False)
    real, real_paths = _run(tmp_path, "real", real=True)
    assert eager == "True EagerDynamo False"  # the stand-in, and no sympy (the compiler's) imported
    assert real == "False module True"
    assert np.array_equal(eager_paths, real_paths)


def test_the_stand_in_refuses_what_it_cannot_do():
    from grader.eager_torch import EagerDynamo

    stand_in = EagerDynamo("torch._dynamo")
    assert stand_in.disable(len) is len and stand_in.graph_break() is None
    with pytest.raises(AttributeError, match="GRADER_REAL_DYNAMO=1"):
        getattr(stand_in, "optimize")  # noqa: B009 - the attribute lookup is what is tested

"""Forbidden routines are found in the source, through aliases and helpers, and cost only their checks."""

from __future__ import annotations

import pytest
from conftest import ROOT, not_passed, statuses

from grader.forbidden import forbidden_uses

FUNCS = ["adam", "adagrad", "helper"]


@pytest.mark.parametrize("source", [
    "import torch\ndef adam(t, g, s, lr):\n    return torch.optim.Adam([t], lr)\n",
    "import torch.optim as o\ndef adam(t, g, s, lr):\n    return o.Adam\n",
    "from torch import optim\ndef adam(t, g, s, lr):\n    return optim.Adam\n",
    "from torch.optim import Adam as A\ndef adam(t, g, s, lr):\n    return A\n",
    "import torch\nAdam = torch.optim.Adam\ndef adam(t, g, s, lr):\n    return Adam\n",
    "def adam(t, g, s, lr):\n    import torch.optim\n    return 1\n",
    "import importlib\ndef adam(t, g, s, lr):\n    return importlib.import_module('torch.optim')\n",
    "import torch\ndef helper():\n    return torch.optim.SGD\ndef adam(t, g, s, lr):\n    return helper()\n",
])
def test_uses_are_found_through_aliases_and_helpers(source):
    """Is a use of torch.optim found whether imported, aliased, assigned, imported by string or called via a helper?"""
    uses = forbidden_uses(source, ["torch.optim"], FUNCS)
    assert "adam" in uses and "adagrad" not in uses
    assert "torch.optim" in uses["adam"]


@pytest.mark.parametrize("source", [
    'import torch\ndef adam(t, g, s, lr):\n    """Do not use torch.optim here."""\n    return torch.tensor(t)\n',
    "import numpy as np\ndef adam(t, g, s, lr):\n    optim = 3\n    return np.sqrt(t)\n",
    "import torch.optimize_me\ndef adam(t, g, s, lr):\n    return 1\n",
])
def test_innocent_code_is_not_flagged(source):
    """Are docstrings, look-alike names and other torch routines left alone?"""
    assert forbidden_uses(source, ["torch.optim"], FUNCS) == {}


def test_a_forbidden_call_costs_only_the_checks_of_that_function(grade, optimizers):
    """Does adam built on torch.optim score 0 on adam's checks, status forbidden, and keep every other point?"""
    source = (ROOT / "reference" / "optimizers.py").read_text() + '''

import torch


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    p = torch.tensor(theta, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    p.grad = torch.tensor(grad)
    opt.step()
    return p.detach().numpy(), {}
'''
    report = grade(optimizers, source, "uses_torch_optim")
    adam_checks = {n for n, c in optimizers.spec.checks.items() if "adam" in c.functions}
    assert not_passed(report) == adam_checks
    assert {statuses(report)[n] for n in adam_checks} == {"forbidden"}
    message = next(c.message for c in report.checks if c.status == "forbidden")
    assert "torch.optim" in message and "line" in message

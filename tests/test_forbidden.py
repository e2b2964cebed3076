"""Forbidden routines are caught when called in the worker, and cost only the checks that called them."""

from __future__ import annotations

import pytest
from conftest import checks_of, not_passed, reference_source, statuses

TORCH_ADAM = '''

def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    p = torch.tensor(theta, requires_grad=True)
    opt = {optimizer}([p], lr=lr, betas=(beta1, beta2), eps=eps)
    p.grad = torch.tensor(grad)
    opt.step()
    return p.detach().numpy(), {{}}
'''


@pytest.mark.parametrize("imports, optimizer", [
    ("import torch", "torch.optim.Adam"),
    ("import torch\nfrom torch.optim import Adam", "Adam"),
    ("import torch\nimport torch.optim as o", "o.Adam"),
    ("import torch\nimport importlib\nAdam = importlib.import_module('torch.optim').Adam", "Adam"),
])
def test_a_forbidden_call_costs_only_the_checks_that_make_it(grade, optimizers, imports, optimizer):
    """Does adam built on torch.optim, however imported, score 0 on adam's checks as forbidden, and keep every other point?"""
    source = reference_source() + f"\n{imports}\n" + TORCH_ADAM.format(optimizer=optimizer)
    report = grade(optimizers, source, "uses_torch_optim")
    adam = checks_of(optimizers, "adam")
    assert not_passed(report) == adam
    assert {statuses(report)[n] for n in adam} == {"forbidden"}
    message = next(c.message for c in report.checks if c.status == "forbidden")
    assert "torch.optim" in message and "Adam" in message


def test_importing_torch_for_something_harmless_is_not_punished(grade, optimizers):
    """Does a submission that imports torch.optim and mentions it, but computes with NumPy, score 100?"""
    source = reference_source() + '''
import torch
import torch.optim  # imported, never called: not a use

def _unused():
    """torch.optim.Adam would be the answer; we do not call it."""
    return torch.optim.Adam
'''
    assert grade(optimizers, source, "imports_only").score == 100


def test_a_list_watched_for_one_assignment_is_quiet_for_another(grade, optimizers):
    """The fork server wraps each forbidden list once and its children inherit the wrappers. After
    an optimizers submission (torch.optim forbidden), is a mixup submission that calls torch.optim,
    which mixup allows, still free to, while optimizers still catches it?"""
    from conftest import ROOT

    from grader.course import course_root, load_assignment

    grade(optimizers, reference_source(), "first")
    mixup = load_assignment("mixup", course_root(ROOT))
    source = reference_source("mixup") + '''

import torch

_reference_mixup = mixup


def mixup(*args, **kwargs):
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # allowed here, and harmless
    return _reference_mixup(*args, **kwargs)
'''
    report = grade(mixup, source, "calls_torch_optim")
    assert report.score == report.max_score, [c.message for c in report.checks if c.status != "passed"]
    again = grade(optimizers, reference_source() + "\nimport torch\n" + TORCH_ADAM.format(optimizer="torch.optim.Adam"),
                  "uses_torch_optim")
    assert {statuses(again)[n] for n in checks_of(optimizers, "adam")} == {"forbidden"}


def test_two_lists_guard_one_process_without_asking_each_other_forever():
    """A fork server that served two assignments has two guards on sys.meta_path: does a module one of
    them watches still import (each guard asked the other: RecursionError), wrapped for both lists?"""
    import subprocess
    import sys

    code = """
from grader.sandbox import guard
guard.install(["colorsys.rgb_to_hsv"])
guard.install(["colorsys.hsv_to_rgb"])
import colorsys
print(getattr(colorsys.rgb_to_hsv, "__grader_forbidden__", None), getattr(colorsys.hsv_to_rgb, "__grader_forbidden__", None))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["colorsys.rgb_to_hsv", "colorsys.hsv_to_rgb"]

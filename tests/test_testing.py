"""The checks' helpers in grader.testing that batch work: they must say what the one-at-a-time forms say."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.spec import Tolerance
from grader.testing import _ORACLE, assert_close, assert_each_close, torch_trajectory

TOL = Tolerance(rtol=1e-9, atol=1e-13)


def one_at_a_time(actuals, expecteds, what):
    for k, (a, e) in enumerate(zip(actuals, expecteds, strict=False), 1):
        assert_close(a, e, TOL, what(k))


@pytest.mark.parametrize("change", [
    lambda a: a,                                         # nothing off
    lambda a: a.__setitem__((7, 1), a[7, 1] * (1 + 1e-6)) or a,   # step 8, element 1, just out
    lambda a: a.__setitem__((3, 0), np.nan) or a,       # NaN is never close
    lambda a: a.__setitem__((5, 2), np.inf) or a,       # not finite where a finite value is expected
    lambda a: a.__setitem__((2, 0), a[2, 0] + 1e-14) or a,  # within atol: fine
])
def test_each_close_says_what_assert_close_says_at_the_first_step_off(change):
    rng = np.random.default_rng(1)
    expected = [rng.normal(size=3) for _ in range(12)]
    actual = list(change(np.array(expected)))
    what = lambda k: f"adam: step {k} of 12"  # noqa: E731
    try:
        one_at_a_time(actual, expected, what)
        wanted = None
    except AssertionError as exc:
        wanted = str(exc)
    if wanted is None:
        assert_each_close(actual, expected, TOL, what)
    else:
        with pytest.raises(AssertionError) as caught:
            assert_each_close(actual, expected, TOL, what)
        assert str(caught.value) == wanted


def test_each_close_compares_only_the_steps_it_has():
    """A trajectory cut short by a fault: are its steps compared with the first expected ones?"""
    expected = [np.full(2, float(k)) for k in range(10)]
    assert_each_close(expected[:4], expected, TOL, lambda k: f"step {k}")
    with pytest.raises(AssertionError, match="step 3"):
        assert_each_close([expected[0], expected[1], expected[3]], expected, TOL, lambda k: f"step {k}")


def test_the_oracle_remembers_a_trajectory_by_its_inputs():
    """Visible checks give every student the same inputs: is torch's trajectory computed once per
    input, recomputed when any input changes, and safe from a caller that edits what it got?"""
    theta0, grads = np.array([1.0, -2.0]), [np.array([0.5, 0.25]), np.array([-1.0, 2.0])]
    _ORACLE.clear()

    def adam(lr):
        return lambda ps: torch.optim.Adam(ps, lr=lr)  # one code object; lr is what differs

    first = torch_trajectory(adam(0.1), theta0, grads)
    assert len(_ORACLE) == 1
    first[0][:] = 99.0
    again = torch_trajectory(adam(0.1), theta0, grads)
    assert len(_ORACLE) == 1 and not np.any(again[0] == 99.0)
    other = torch_trajectory(adam(0.2), theta0, grads)
    torch_trajectory(adam(0.2), theta0, [grads[0], grads[1] * 2])
    assert len(_ORACLE) == 3
    fresh = [p.copy() for p in other]
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([p], lr=0.2)
    for g, want in zip(grads, fresh, strict=True):
        p.grad = torch.tensor(g)
        optimizer.step()
        np.testing.assert_array_equal(p.detach().numpy(), want)

"""The checks' helpers in grader.testing that batch work: they must say what the one-at-a-time forms say."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from grader.spec import Tolerance
from grader.testing import assert_close, assert_each_close, is_close, torch_trajectory
from grader.testing._memo import ORACLE as _ORACLE

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


@pytest.mark.parametrize(("actual", "expected", "close"), [
    (1.0, np.inf, False),         # a number is not close to an infinity, whose relative bound is infinite
    (np.inf, 1.0, False),
    (np.inf, np.inf, True),       # equal infinities are
    (-np.inf, np.inf, False),
    (np.nan, np.nan, False),      # NaN never is
    (1.0, 1.0 + 1e-12, True),
])
def test_is_close_and_assert_close_agree_on_infinities_and_nan(actual, expected, close):
    assert is_close(actual, expected, TOL) is close
    assert is_close(np.full((2, 3), actual), np.full((2, 3), expected), TOL) is close
    if close:
        assert_close(np.array([actual]), np.array([expected]), TOL, "x")
    else:
        with pytest.raises(AssertionError):
            assert_close(np.array([actual]), np.array([expected]), TOL, "x")


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


CALLS = []


def counted_momentum(theta, grad, state, lr, beta):
    """The reference's momentum, counting its calls (a plain function: a run of it may be remembered)."""
    CALLS.append(1)
    m = beta * state.get("m", np.zeros_like(theta)) + (1 - beta) * grad
    return theta - lr * m, {"m": m}


def test_the_judge_remembers_its_own_runs_of_the_demonstrations():
    """The reference's runs of a demonstration are the same for every submission: is one computed
    once, with the same final θ and drawn path each time, recomputed when an input changes, never
    remembered for a function with a closure, and safe from a caller that edits what it got?"""
    from grader.sandbox.objectives import rastrigin_grad, rosenbrock_grad
    from grader.testing import run_optimizer
    from grader.testing._memo import RUNS as _RUNS

    _RUNS.clear()
    CALLS.clear()
    first_path: list = []
    first = run_optimizer(counted_momentum, rastrigin_grad, (-4.5, 4.5), 200, "reference", path=first_path,
                          every=10, lr=0.01, beta=0.98)
    assert len(CALLS) == 200 and len(first_path) == 1 + 19 + 1  # θ₀, every 10th step before the last, the last
    first[:] = 99.0
    first_path[-1][:] = 99.0
    again_path: list = []
    again = run_optimizer(counted_momentum, rastrigin_grad, (-4.5, 4.5), 200, "reference", path=again_path,
                          every=10, lr=0.01, beta=0.98)
    assert len(CALLS) == 200, "the same run was computed twice"
    theta, state = np.array([-4.5, 4.5]), {}
    for _ in range(200):
        theta, state = counted_momentum(theta, rastrigin_grad(theta), state, lr=0.01, beta=0.98)
    np.testing.assert_array_equal(again, theta)
    np.testing.assert_array_equal(again_path[-1], theta)
    assert len(again_path) == 21 and np.array_equal(again_path[0], [-4.5, 4.5])

    for changed in ({"lr": 0.02, "beta": 0.98}, {"lr": 0.01, "beta": 0.9}):
        CALLS.clear()
        run_optimizer(counted_momentum, rastrigin_grad, (-4.5, 4.5), 200, "reference", **changed)
        assert len(CALLS) == 200
    run_optimizer(counted_momentum, rastrigin_grad, (-1.5, 2.0), 200, "reference", lr=0.001, beta=0.98)
    for grad, start, steps in ((rosenbrock_grad, (-1.5, 2.0), 200), (rastrigin_grad, (-1.5, 2.5), 200),
                               (rastrigin_grad, (-1.5, 2.0), 199)):  # one input differs from the run above
        CALLS.clear()
        run_optimizer(counted_momentum, grad, start, steps, "reference", lr=0.001, beta=0.98)
        assert CALLS, (grad.__name__, start, steps)

    shift = [0.0]

    def closed(theta, grad, state, lr, beta):  # its closure could hold anything: never remembered
        return counted_momentum(theta, grad, state, lr, beta + shift[0])

    CALLS.clear()
    for _ in range(2):
        run_optimizer(closed, rastrigin_grad, (-4.5, 4.5), 50, "reference", lr=0.01, beta=0.98)
    assert len(CALLS) == 100


def test_results_are_compared_as_if_one_at_a_time():
    """assert_results_close reads a whole stream before comparing: does it still report the first
    wrong value before a later fault, a fault when everything before it was right, and a refused
    result by its position?"""
    from grader.errors import BadResult, StudentError
    from grader.testing import as_float, assert_results_close

    expected = [0.1 * k for k in range(10)]
    what = lambda k: f"lr at step {k - 1}"  # noqa: E731

    def stream(values, fault_at=None):
        for k, v in enumerate(values):
            if k == fault_at:
                raise StudentError("ZeroDivisionError: division by zero", ["ZeroDivisionError"])
            yield v

    assert_results_close(stream(expected), expected, TOL, what, as_float)  # all right: nothing raised
    wrong = list(expected)
    wrong[3] = 0.31
    with pytest.raises(AssertionError, match=r"^lr at step 3: the value is off by a relative error"):
        assert_results_close(stream(wrong, fault_at=6), expected, TOL, what, as_float)
    with pytest.raises(StudentError, match="division by zero"):
        assert_results_close(stream(expected, fault_at=6), expected, TOL, what, as_float)
    refused = [*expected[:4], "0.4", *expected[5:]]
    with pytest.raises(BadResult, match=r"^lr at step 4 should be a number, got a str"):
        assert_results_close(stream(refused), expected, TOL, what, as_float)
    with pytest.raises(AssertionError, match=r"^lr at step 2: "):
        assert_results_close(stream([*expected[:2], 0.5, *expected[3:4], "x"]), expected, TOL, what, as_float)


LR = 0.1
NOT_PLAIN = [0.1]


def test_torch_trajectories_are_kept_between_runs(tmp_path, monkeypatch):
    """A trajectory of torch's is stored under the cache folder: does a fresh process (an empty
    in-memory cache) read it back without running torch, is a changed input or a changed global a
    new file, is a factory that names a global of unknown identity never stored, and is a damaged
    file recomputed?"""
    from grader.testing import _memo

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    theta0, grads = np.array([1.0, -2.0]), [np.array([0.5, 0.25]), np.array([-1.0, 2.0])]
    _ORACLE.clear()
    first = torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=LR), theta0, grads)
    stored = list((tmp_path / "oracle").glob("*.npy"))
    assert len(stored) == 1

    real = _memo.torch_trajectory_now
    ran = []
    monkeypatch.setattr(_memo, "torch_trajectory_now", lambda *a: ran.append(1) or real(*a))
    _ORACLE.clear()
    again = torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=LR), theta0, grads)
    assert ran == [] and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))

    _ORACLE.clear()
    torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=LR), theta0, [grads[0], 2 * grads[1]])
    monkeypatch.setattr(sys.modules[__name__], "LR", 0.2)
    changed = torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=LR), theta0, grads)
    assert len(ran) == 2 and len(list((tmp_path / "oracle").glob("*.npy"))) == 3
    assert not np.array_equal(changed[0], first[0])  # lr 0.2, not the stored lr 0.1

    torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=NOT_PLAIN[0]), theta0, grads)
    assert len(ran) == 3 and len(list((tmp_path / "oracle").glob("*.npy"))) == 3

    stored[0].write_bytes(b"not an array")
    _ORACLE.clear()
    monkeypatch.setattr(sys.modules[__name__], "LR", 0.1)
    repaired = torch_trajectory(lambda ps: torch.optim.Adam(ps, lr=LR), theta0, grads)
    assert len(ran) == 4 and all(np.array_equal(a, b) for a, b in zip(first, repaired, strict=True))
    assert np.array_equal(np.load(stored[0]), np.array(first))

    def adam(ps):  # one function object, a global changed between two calls: two trajectories
        return torch.optim.Adam(ps, lr=LR)

    before = torch_trajectory(adam, theta0, grads)
    monkeypatch.setattr(sys.modules[__name__], "LR", 0.3)
    after = torch_trajectory(adam, theta0, grads)
    assert not np.array_equal(before[0], after[0])


SCALE = 2.0
CALLS: list = []  # counted by a stand-in for torch.randn: a mutable global named by an oracle makes it undigestible


def _scaled_std(shape: tuple, seed: int) -> float:
    generator = torch.Generator().manual_seed(seed)
    return float(torch.randn(shape, dtype=torch.float64, generator=generator).std()) * SCALE


def _helper_twice(x):
    return _scaled_std(x, 1) + _scaled_std(x, 2)


def test_an_oracle_is_computed_once_and_kept_between_runs(tmp_path, monkeypatch):
    """@oracle: is a value computed once per process, read back by a fresh process (an empty memory)
    without computing it, computed again for other arguments or when a global it names or a helper
    it calls changes, never for arguments it cannot digest, and handed out as copies?"""
    from grader.testing import oracle

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    randn = torch.randn
    monkeypatch.setattr(torch, "randn", lambda *a, **k: CALLS.append(a) or randn(*a, **k))
    CALLS.clear()
    _ORACLE.clear()
    std = oracle(_scaled_std)
    first = std((300, 40), 7)
    assert std((300, 40), 7) == first and len(CALLS) == 1
    assert len(list((tmp_path / "oracle").glob("*.value"))) == 1
    _ORACLE.clear()  # a new process
    assert std((300, 40), 7) == first and len(CALLS) == 1
    std((300, 40), 8)
    assert len(CALLS) == 2
    monkeypatch.setattr(sys.modules[__name__], "SCALE", 3.0)
    assert std((300, 40), 7) == pytest.approx(first * 1.5) and len(CALLS) == 3
    std([300, 40], 7)  # a list cannot be digested: computed every time, never stored
    std([300, 40], 7)
    assert len(CALLS) == 5 and len(list((tmp_path / "oracle").glob("*.value"))) == 3
    assert oracle(lambda: CALLS.append(1) or 1.0)() == 1.0 and len(CALLS) == 6  # names a list: never stored
    assert len(list((tmp_path / "oracle").glob("*.value"))) == 3

    twice = oracle(_helper_twice)
    before = twice((50,))
    monkeypatch.setattr(sys.modules[__name__], "SCALE", 4.0)  # named by the helper it calls, not by itself
    assert twice((50,)) == pytest.approx(before * 4 / 3)

    arrays = oracle(lambda a: (a * 2, [a.sum()]))
    x = np.arange(4.0)
    got = arrays(x)
    got[0][0] = 99.0
    assert arrays(x)[0][0] == 0.0 and arrays(x)[1] == [6.0]


@pytest.mark.parametrize("draw", [
    lambda rng: rng.standard_normal(200_000),
    lambda rng: rng.uniform(-1, 1, 200_000),
    lambda rng: rng.standard_t(5, 50_000),
    lambda rng: rng.exponential(size=1000),
    lambda rng: np.clip(rng.standard_normal(200_000), -2.5, 2.5),
    lambda rng: 3 * rng.standard_normal(25),
])
def test_normality_is_scipys_normaltest(draw):
    """Does grader.testing.normality give scipy.stats' skew, excess kurtosis and normaltest p (the oracle)?"""
    import scipy.stats

    from grader.testing import normality

    x = draw(np.random.default_rng(5))
    expected = (scipy.stats.skew(x, axis=None), scipy.stats.kurtosis(x, axis=None),
                scipy.stats.normaltest(x, axis=None).pvalue)
    np.testing.assert_allclose(normality(x), expected, rtol=1e-12, atol=1e-300)


def test_batched_central_differences_are_the_one_at_a_time_numbers():
    """numerical_grad(batched=True) evaluates stacks of perturbed inputs: the very same numbers, in fewer calls."""
    from grader.testing import numerical_grad

    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    calls = []

    def one(z):
        calls.append(1)
        return float(np.sum(w * np.tanh(z)) + np.sum(z**2) / 3)

    def stack(z):
        calls.append(1)
        return np.sum(w * np.tanh(z), axis=(-2, -1)) + np.sum(z**2, axis=(-2, -1)) / 3

    slow = numerical_grad(one, x)
    assert len(calls) == 2 * x.size
    calls.clear()
    fast = numerical_grad(stack, x, batched=True, chunk=8)
    assert len(calls) == 2 * -(-x.size // 8)
    np.testing.assert_array_equal(fast, slow)
    exact = w * (1 - np.tanh(x) ** 2) + 2 * x / 3
    assert np.max(np.abs(fast - exact)) < 1e-8  # the accuracy grader/testing/gradients.py promises


def test_a_gradient_off_central_differences_is_named_by_element():
    from grader.testing import assert_gradient_close

    tol = Tolerance(rtol=1e-6, atol=1e-8)
    numerical = np.array([[1.0, 2.0], [0.0, -4.0]])
    assert_gradient_close(numerical * (1 + 1e-9), numerical, tol, "g")  # within the tolerance
    assert_gradient_close(numerical + np.array([[0, 0], [5e-9, 0]]), numerical, tol, "g")  # near 0: absolute
    with pytest.raises(AssertionError) as hidden:
        assert_gradient_close(numerical * [[1, 1], [1, 1.5]], numerical, tol, "g")
    assert str(hidden.value) == "g: element (1, 1) is off by a relative error of 0.2 (tolerance 1e-06); 1 of 4 elements are off"
    with pytest.raises(AssertionError) as shown:
        assert_gradient_close(numerical * [[1, 1], [1, 1.5]], numerical, tol, "g", reveal=True, against="the difference")
    assert "element (1, 1) is -6.0, the difference there is -4.0, a relative error of 0.2" in str(shown.value)


def test_a_known_mistake_is_matched_in_every_part_of_a_tuple():
    """A backward pass returns (dx, dgamma, dbeta): value_hint names a mistake only when every part matches."""
    from grader.testing import matching_mistake, value_hint

    tol = Tolerance(rtol=1e-9, atol=1e-12)
    right = (np.arange(6.0).reshape(2, 3), np.ones(3), np.zeros(3))
    unsummed = (right[0], np.ones((2, 3)), right[2])
    assert matching_mistake(unsummed, {"dgamma not summed": unsummed, "right": right}, tol) == \
        "your values match dgamma not summed"
    assert matching_mistake(right, {"dgamma not summed": unsummed}, tol) is None
    assert matching_mistake(np.ones(3), {"a number": 1.0, "ones": np.ones(3)}, tol) == "your values match ones"
    assert value_hint({"twice": lambda a, b: (2 * a, b)}, (np.ones(2) * 2, np.ones(2)), (np.ones(2), np.ones(2)),
                      tol) == "your values match twice"
    assert matching_mistake(("not", "numbers"), {"x": (1.0, 2.0)}, tol) is None


@pytest.mark.parametrize(("k", "n", "p"), [(5, 10, 0.5), (0, 10, 0.3), (10, 10, 0.3), (49_700, 100_000, 0.5),
                                           (30_410, 100_000, 0.3), (70_000, 100_000, 0.7), (3, 7, 0.9)])
def test_the_binomial_test_is_scipys(k, n, p):
    from scipy import stats

    from grader.testing import binomial_test

    assert binomial_test(k, n, p) == pytest.approx(stats.binomtest(k, n, p).pvalue, rel=1e-6, abs=1e-300)


def test_a_cloned_generator_draws_the_same_numbers_and_leaves_the_original_alone():
    from grader.testing import clone_generator

    gen = np.random.default_rng(5)
    gen.random(3)
    copy = clone_generator(gen)
    np.testing.assert_array_equal(copy.random(4), gen.random(4))


def test_a_known_mistake_on_an_oracle_path_runs_once_per_judge(tmp_path, monkeypatch):
    """The mistakes' steps on a visible check's path (an oracle's, the same for every student) are kept by the
    judge: does a second failing student get the same hint without running them again, and do other
    mistake functions (another check module's) get their own?"""
    from grader.testing import oracle_step, trajectory_check

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path))
    _ORACLE.clear()
    runs = []

    def sgd(theta, g, state, lr):
        return theta - lr * g, state

    def doubled(theta, g, state, lr):
        runs.append(1)
        return theta - 2 * lr * g, state

    def students(theta, g, state, lr):  # a student who made that mistake
        return theta - 2 * lr * g, state

    def grad(theta):
        return 2 * theta

    for expected_runs in (5, 5):
        with pytest.raises(AssertionError, match="twice the step"):
            trajectory_check(students, oracle_step(sgd), grad, np.array([1.0, -1.0]), 5, TOL, "sgd",
                             mistakes={"twice the step": doubled}, lr=0.1)
        assert len(runs) == expected_runs

    def doubled_again(theta, g, state, lr):  # the same name, another function: not the kept one's
        runs.append(1)
        return theta - 2 * lr * g, state

    with pytest.raises(AssertionError, match="twice the step"):
        trajectory_check(students, oracle_step(sgd), grad, np.array([1.0, -1.0]), 5, TOL, "sgd",
                         mistakes={"twice the step": doubled_again}, lr=0.1)
    assert len(runs) == 10


def test_a_comparison_of_a_large_array_in_chunks_is_the_whole_comparison():
    """_off takes an array of more than two chunks a chunk at a time (its temporaries stay in the cache): is
    every element's verdict the one of the same comparison made on small pieces, NaN, infinities and values
    just in and just out of tolerance included, across chunk boundaries and with an expected value broadcast?"""
    from grader.testing import compare

    tol = Tolerance(rtol=1e-9, atol=1e-10)
    rng = np.random.default_rng(3)
    n = 5 * (2 * compare._CHUNK // 5 + 12345)
    expected = rng.normal(size=n) * 10.0 ** rng.uniform(-12, 12, size=n)
    scale = np.maximum(np.abs(expected), 0) * tol.rtol + tol.atol
    actual = expected + scale * rng.choice([0.0, 0.5, 0.999, 1.001, 3.0, -0.999, -1.001], size=n)
    for i in range(0, n, 997):  # special values, some on chunk boundaries
        actual[i] = rng.choice([np.nan, np.inf, -np.inf, expected[i]])
    for i in (compare._CHUNK - 1, compare._CHUNK, 2 * compare._CHUNK):
        actual[i], expected[i] = np.inf, np.inf
    pieces = np.concatenate([compare._off(actual[i:i + 1000], expected[i:i + 1000], tol) for i in range(0, n, 1000)])
    whole = compare._off(actual.reshape(-1, 5), expected.reshape(-1, 5), tol)
    assert whole.shape == (n // 5, 5)
    np.testing.assert_array_equal(whole.reshape(-1), pieces)
    assert 0 < pieces.sum() < n
    broadcast = compare._off(actual, np.float64(1.0), tol)
    np.testing.assert_array_equal(broadcast, np.concatenate(
        [compare._off(actual[i:i + 1000], np.full(len(actual[i:i + 1000]), 1.0), tol) for i in range(0, n, 1000)]))

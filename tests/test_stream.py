"""Streamed calls: many calls in one request, with what the worker carries, walks and keeps back.

These talk to a real sandboxed worker through ``Student`` (the checks' ``student`` fixture), on small
modules written for each test: each behaviour of ``worker.answer`` and ``Worker.stream`` has a test
that fails without it.
"""

from __future__ import annotations

import textwrap
import time
from contextlib import closing

import numpy as np
import pytest
from conftest import with_limits

from grader.errors import BadResult, StudentError, StudentTimeout, WorkerCrashed
from grader.sandbox.objectives import rosenbrock_grad
from grader.sandbox.proxy import Student
from grader.testing import run_optimizer, trajectory_check

STEPS = """
import numpy as np
log = []

def sgd(theta, g, state, lr=0.1, **hyper):
    log.append(state.get("n", 0))
    return theta - lr * g, {"n": state.get("n", 0) + 1, "last": np.array(g)}

def grow(x, state):
    state["n"] = state.get("n", 0) + 1   # mutates the dict it was given
    return state["n"] + x

def counter(x, box):
    box["seen"] = box.get("seen", 0) + 1   # mutates its keyword argument
    return box["seen"]

def calls_so_far():
    return list(log)
"""


@pytest.fixture
def student(tmp_path, optimizers):
    """student(source) -> a Student serving ``source`` as optimizers.py, closed after the test."""
    made = []

    def make(source: str, **limits) -> Student:
        work = tmp_path / f"work{len(made)}"
        work.mkdir()
        (work / "optimizers.py").write_text(textwrap.dedent(source))
        spec = with_limits(optimizers, **limits).spec if limits else optimizers.spec
        made.append(Student(work, spec, tmp_path / f"out{len(made)}.log"))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_carry_two_arguments_runs_an_optimizer_on_its_own_path(student):
    """With carry=[(0, 0), (2, 1)], does each call get the θ and the state its previous call returned?"""
    s = student(STEPS)
    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    theta0 = np.array([1.0, 1.0])
    values = list(s.sgd.stream([((theta0, g, {}), {"lr": 0.1}) for g in grads], carry=[(0, 0), (2, 1)]))
    expected = theta0 - 0.1 * np.cumsum(grads, axis=0)
    for (theta, state), want, n in zip(values, expected, (1, 2, 3), strict=True):
        np.testing.assert_allclose(theta, want, rtol=1e-15)
        assert state["n"] == n
    assert s.calls_so_far() == [0, 1, 2]


def test_theta_only_keeps_the_state_in_the_worker_and_sends_the_rest_whole(student):
    """Does theta_only bring a step back as (theta, {}), and a value that is not a step as it is?"""
    s = student(STEPS + "\ndef odd(theta, g, state):\n    return [theta, 3]\n")
    theta0, g = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    (theta, state), = s.sgd.stream([((theta0, g, {}), {})], theta_only=True)
    np.testing.assert_allclose(theta, theta0 - 0.1 * g)
    assert state == {}
    value, = s.odd.stream([((theta0, g, {}), {})], theta_only=True)
    assert isinstance(value, list) and value[1] == 3


def test_shared_keyword_arguments_are_fresh_for_every_call(student):
    """Calls that share one kwargs object have it sent once; does each call still get its own copy?"""
    s = student(STEPS)
    shared = {"box": {}}
    assert list(s.counter.stream([((0,), shared)] * 3)) == [1, 1, 1]


def test_calls_with_the_same_arguments_get_fresh_dicts(student):
    """Calls whose arguments are all one plain value or an empty dict are sent as one list of
    arguments; does each call still get a dict of its own, as when each came in its own request?"""
    s = student(STEPS)
    assert list(s.grow.stream([((0.5, {}), {})] * 12)) == [1.5] * 12
    columns = [((np.full(3, float(k)), {}), {}) for k in range(12)]  # an array column beside the dict
    assert list(s.grow.stream([((float(k), {}), {}) for k in range(12)])) == [k + 1.0 for k in range(12)]
    assert [float(v[0]) for v in s.grow.stream(columns)] == [k + 1.0 for k in range(12)]


def test_a_walk_answers_for_its_last_step_only(student):
    """Does a walk of 50 steps send one answer, for step 50, with the θ a judge-side loop would reach?"""
    s = student(STEPS)
    theta0 = np.array([-1.5, 2.0])
    answers = list(s.sgd.walk("rosenbrock", theta0, rosenbrock_grad(theta0), 50, {"lr": 1e-4}))
    assert [t for t, *_ in answers] == [50]
    theta = theta0
    for _ in range(50):
        theta = theta - 1e-4 * rosenbrock_grad(theta)
    np.testing.assert_allclose(answers[0][1][0], theta, rtol=1e-12)
    assert answers[0][1][1]["n"] == 50


@pytest.mark.parametrize("wrong, words", [
    ("(theta * np.inf, state)", None),
    ("theta", "should return a pair"),
    ("(theta[:1], state)", "has shape \\(1,\\)"),
])
def test_a_walk_stops_where_the_step_goes_wrong_and_says_which(student, wrong, words):
    """Does a walk end at the step that diverged or returned something malformed, and does the
    judge's run_optimizer name that step?"""
    s = student(f"""
        import numpy as np
        def walker(theta, g, state, lr=1e-4):
            state = {{"n": state.get("n", 0) + 1}}
            return (theta - lr * g, state) if state["n"] < 7 else {wrong}
        """)
    theta0 = np.array([-1.5, 2.0])
    answers = list(s.walker.walk("rosenbrock", theta0, rosenbrock_grad(theta0), 100, {}))
    assert [t for t, *_ in answers] == [7]
    if words is None:  # diverged: run_optimizer returns the θ where it stopped, for the judge's loss
        assert not np.all(np.isfinite(run_optimizer(s.walker, rosenbrock_grad, theta0, 100, "walker")))
    else:
        with pytest.raises(BadResult, match=rf"walker, step 7 .*{words}"):
            run_optimizer(s.walker, rosenbrock_grad, theta0, 100, "walker")


def test_a_walk_step_that_raises_is_reported(student):
    s = student("""
        def walker(theta, g, state, lr=1e-4):
            if state.get("n", 0) == 9:
                raise ValueError("step ten is cursed")
            return theta - lr * g, {"n": state.get("n", 0) + 1}
        """)
    theta0 = np.array([-1.5, 2.0])
    with pytest.raises(StudentError, match="step ten is cursed"):
        list(s.walker.walk("rosenbrock", theta0, rosenbrock_grad(theta0), 100, {}))


def test_a_long_walk_shows_progress(student):
    """Does a walk that runs longer than the worker's progress interval send frames on the way, so a
    slow but live optimizer is not taken for a hung one?"""
    s = student("""
        import time
        def walker(theta, g, state, lr=1e-4):
            time.sleep(0.15)
            return theta - lr * g, state
        """, call_seconds=0.4)
    theta0 = np.array([-1.5, 2.0])
    steps = [t for t, *_ in s.walker.walk("rosenbrock", theta0, rosenbrock_grad(theta0), 12, {})]
    assert steps[-1] == 12 and len(steps) > 1  # 12 x 0.15 s is past the call deadline of 0.4 s


def test_a_crash_after_a_wrong_step_is_charged_to_the_check_that_stopped_reading(student):
    """A check that stops at a wrong step closes its stream; does closing read the rest, so the crash
    that follows lands there, and the next call finds a fresh worker instead of a WorkerCrashed?"""
    s = student("""
        import os
        def step(theta, g, state):
            if state.get("n", 0) == 5:
                os._exit(3)
            return theta + 1.0, {"n": state.get("n", 0) + 1}
        def ok():
            return 42
        """)
    calls = [((np.zeros(2), np.zeros(2), {}), {}) for _ in range(10)]
    with closing(s.step.stream(calls, carry=(2, 1))) as values:
        next(values)  # the check saw a wrong first step and stops reading
    assert s.ok() == 42


def test_trajectory_check_names_the_first_wrong_step(student):
    """Does the teacher-forced trajectory check, streamed with theta_only, fail at the first wrong step?"""
    s = student("""
        def step(theta, g, state, lr=0.1):
            n = state.get("n", 0) + 1
            return theta - lr * g * (1.0 if n < 17 else 1.01), {"n": n}
        """)

    def reference(theta, g, state, lr=0.1):
        return theta - lr * g, state

    from grader.spec import Tolerance
    with pytest.raises(AssertionError, match="step 17 of 30"):
        trajectory_check(s.step, reference, rosenbrock_grad, np.array([0.5, 0.5]), 30,
                         Tolerance(rtol=1e-9, atol=1e-13), "step", lr=1e-3)


def test_a_hang_inside_a_stream_times_out(student):
    s = student("""
        def step(theta, g, state):
            if state.get("n", 0) == 3:
                while True:
                    pass
            return theta, {"n": state.get("n", 0) + 1}
        """, call_seconds=0.5)
    calls = [((np.zeros(2), np.zeros(2), {}), {}) for _ in range(6)]
    values = s.step.stream(calls, carry=(2, 1))
    assert len([next(values) for _ in range(3)]) == 3
    with pytest.raises(StudentTimeout):
        next(values)


def test_worker_crashed_is_raised_while_reading(student):
    s = student("""
        import os
        def boom():
            os._exit(4)
        """)
    with pytest.raises(WorkerCrashed, match="status 4"):
        s.boom()



def test_answers_queued_before_a_hang_still_reach_the_judge(student):
    """Answers travel in batches; when a later call hangs, does the worker's flusher still send the
    ones before it, so the check reports the first wrong step (4) rather than the timeout (step 6)?"""
    s = student("""
        def step(theta, g, state, lr=0.1):
            n = state.get("n", 0) + 1
            while n == 6:
                pass
            return theta - lr * g * (1.5 if n == 4 else 1.0), {"n": n}
        """, call_seconds=1.0)

    def reference(theta, g, state, lr=0.1):
        return theta - lr * g, state

    from grader.spec import Tolerance
    with pytest.raises(AssertionError, match="step 4 of 20"):
        trajectory_check(s.step, reference, rosenbrock_grad, np.array([0.5, 0.5]), 20,
                         Tolerance(rtol=1e-9, atol=1e-13), "step", lr=1e-3)


def test_numbers_come_back_in_order_and_exact(student):
    """Do many calls answering numbers (sent in batches) come back one per call, in order, bit for bit?"""
    s = student("""
        import math
        def f(k, big=False):
            return 10**30 + k if big else math.sqrt(k) / 3
        """)
    ks = list(range(300))
    assert list(s.f.stream([((k,), {}) for k in ks])) == [k**0.5 / 3 for k in ks]
    assert list(s.f.stream([((k,), {"big": True}) for k in ks])) == [10**30 + k for k in ks]


def test_numpy_scalars_travel_in_batches_as_the_numbers_they_encode_to(student):
    """A function that answers np.float64 or np.int64 (np.cos, a sum): do its answers come back as the
    float or int the codec makes of them, exact, and many to a frame?"""
    s = student("""
        import numpy as np
        def f(k):
            return np.cos(np.float64(k)) / 3
        def n(k):
            return np.int64(k) * 7
        def f32(k):
            return np.float32(k) / 4
        """)
    ks = list(range(300))
    before = s._worker.frames if s._worker.alive else 0
    got = list(s.f.stream([((k,), {}) for k in ks]))
    assert got == [float(np.cos(np.float64(k)) / 3) for k in ks] and {type(x) for x in got} == {float}
    assert s._worker.frames - before < 20  # 300 answers, in batches of up to 64
    ints = list(s.n.stream([((k,), {}) for k in ks]))
    assert ints == [7 * k for k in ks] and {type(x) for x in ints} == {int}
    assert list(s.f32.stream([((k,), {}) for k in ks[:5]])) == [float(np.float32(k) / 4) for k in ks[:5]]
    one = s.f(5)  # a single call: the same number
    assert one == float(np.cos(5.0) / 3) and type(one) is float


def test_small_tuples_of_arrays_travel_in_batches_as_they_were_returned(student):
    """mixup answers (x_mix, y_mix, lam, perm) on a tiny batch, hundreds of times: do such small tuples come
    back many to a frame, each as a call alone gives it (a tuple, float64 and int64 arrays, a float), and as
    it was when the call returned, though the function writes into the same arrays on its next call?"""
    s = student("""
        import numpy as np
        _out = np.zeros((4, 2))
        def f(k):
            _out[:] = k  # the same array, changed by every call
            return _out, np.arange(4) + k, np.float64(k) / 7, None
        """)
    ks = list(range(300))
    before = s._worker.frames if s._worker.alive else 0
    got = list(s.f.stream([((k,), {}) for k in ks]))
    assert s._worker.frames - before < 20  # 300 answers, in batches of up to 64
    for k, value in zip(ks, got, strict=True):
        assert type(value) is tuple and len(value) == 4
        np.testing.assert_array_equal(value[0], np.full((4, 2), float(k)))
        assert value[0].dtype == np.float64 and value[1].dtype == np.int64
        np.testing.assert_array_equal(value[1], np.arange(4) + k)
        assert type(value[2]) is float and value[2] == k / 7 and value[3] is None
    alone = s.f(5)
    assert type(alone) is tuple and alone[2] == 5 / 7 and alone[1].tolist() == [5, 6, 7, 8]


def test_requests_sent_ahead_never_deadlock_on_full_pipes(student):
    """Two requests in flight, the first answering megabytes the judge has not read yet and the
    second sending megabytes: does writing the second read the first's answers aside instead of
    waiting forever on a worker that waits for the judge?"""
    s = student("""
        import numpy as np
        def big(n, x=None):
            return np.full(n, 1.5) if x is None else float(x.sum())
        """, call_seconds=5.0)
    first = s.big.stream([((200_000,), {})] * 5)           # 8 MB of answers
    second = s.big.stream([((0,), {"x": np.ones(500_000)})])  # a 4 MB request
    assert [float(a[-1]) for a in first] == [1.5] * 5
    assert list(second) == [500_000.0]


def test_a_submission_without_torch_in_its_text_is_served_by_the_light_fork_server(student):
    """Submissions that never mention torch get a child of the NumPy-only fork server (fast to fork
    and reap); does one that imports torch without naming it still get a working torch?"""
    import os

    from grader.sandbox import forkserver

    s = student("""
        t = __import__("to" + "rch")   # torch, unnamed
        def f():
            return float(t.ones(3, dtype=t.float64).sum())
        """, startup_seconds=60.0)
    assert s.f() == 3.0
    light = [k for k, v in forkserver._servers.items() if v.pid == os.getpid() and not v.with_torch]
    assert light, "the submission should have been forked by the server without torch"
    named = student("import torch\ndef f():\n    return float(torch.ones(2).sum())\n")
    assert named.f() == 2.0
    assert any(v.pid == os.getpid() and v.with_torch for v in forkserver._servers.values())


def test_a_walk_can_bring_back_its_path_for_a_picture(student):
    """With a path to fill, does run_optimizer on a student's walk give θ0, every 10th step and the
    last θ, the same points a judge-side loop of the same optimizer visits?"""
    s = student(STEPS)
    start = np.array([-1.5, 2.0])
    drawn, judged = [], []
    final = run_optimizer(s.sgd, rosenbrock_grad, start, 95, "sgd", path=drawn, lr=1e-4)

    def sgd(theta, g, state, lr):
        return theta - lr * g, state

    same = run_optimizer(sgd, rosenbrock_grad, start, 95, "sgd", path=judged, lr=1e-4)
    np.testing.assert_allclose(final, same, rtol=1e-12)
    assert len(drawn) == len(judged) == 1 + 9 + 1
    np.testing.assert_allclose(np.array(drawn), np.array(judged), rtol=1e-12)


def test_trajectory_check_names_a_known_mistake_it_matches(student):
    """A step that scales its update by 1.01 from step 17 on: is the mistake of the catalogue that
    does the same named, and one that does not match left out?"""
    s = student("""
        def step(theta, g, state, lr=0.1):
            n = state.get("n", 0) + 1
            return theta - lr * g * (1.0 if n < 17 else 1.01), {"n": n}
        """)

    def reference(theta, g, state, lr=0.1):
        return theta - lr * g, state

    def late_scaling(theta, g, state, lr=0.1):
        n = state.get("n", 0) + 1
        return theta - lr * g * (1.0 if n < 17 else 1.01), {"n": n}

    def doubled(theta, g, state, lr=0.1):
        return theta - 2 * lr * g, state

    from grader.spec import Tolerance
    tol = Tolerance(rtol=1e-9, atol=1e-13)
    with pytest.raises(AssertionError, match="step 17 of 30.*your values match a step 1 % too long from step 17"):
        trajectory_check(s.step, reference, rosenbrock_grad, np.array([0.5, 0.5]), 30, tol, "step",
                         mistakes={"doubled steps": doubled, "a step 1 % too long from step 17": late_scaling}, lr=1e-3)
    with pytest.raises(AssertionError) as caught:
        trajectory_check(s.step, reference, rosenbrock_grad, np.array([0.5, 0.5]), 30, tol, "step",
                         mistakes={"doubled steps": doubled}, lr=1e-3)
    assert "match" not in str(caught.value)


def test_a_fork_server_that_died_is_replaced_and_the_submission_does_not_pay(student, capfd, monkeypatch):
    """The fork server is the grader's: if it dies between two submissions (after the judge last saw
    it alive), is the next one forked by a fresh server, the incident said on stderr, instead of the
    submission's checks failing?"""
    import os
    import signal

    from grader.sandbox import forkserver

    first = student(STEPS)
    assert first.calls_so_far() == []
    first.close()
    (dead,) = [v for v in forkserver._servers.values() if v.pid == os.getpid() and v.alive and not v.with_torch
               and v.isolation.namespaces == first._worker.isolation.namespaces]
    os.killpg(dead.proc.pid, signal.SIGKILL)
    dead.proc.wait(timeout=10)
    real = forkserver.ForkServer.alive
    seen = []  # the judge looks once before it is told: the server still seems alive then

    def alive(self):
        if self is dead and not seen:
            seen.append(self)
            return True
        return real.fget(self)

    monkeypatch.setattr(forkserver.ForkServer, "alive", property(alive))
    second = student(STEPS)
    assert second.calls_so_far() == []
    assert seen and "starting a new fork server" in capfd.readouterr().err


def test_a_call_given_less_time_than_the_limit_is_stopped_then_and_the_next_call_runs(student):
    """``within`` stops a call sooner than the spec's call limit (conv's speed check stops a call at twice
    its budget, past which nothing can pass); the worker is started again for the next call."""
    s = student("""
        import time
        def slow(seconds):
            time.sleep(seconds)
            return seconds
        """, call_seconds=20)
    started = time.monotonic()
    with pytest.raises(StudentTimeout):
        s.call("slow", 10.0, within=0.5)
    assert time.monotonic() - started < 5
    assert s.call("slow", 0.0, within=5.0).value == 0.0


# ------------------------------------------------------------- training loops run in the worker

TRAINING = """
import numpy as np

def plain_sgd(theta, g, lr, lam):
    return theta - lr * (g + lam * theta)

def momentum(theta, g, state, lr, beta=0.9):
    v = beta * state.get("v", 0.0) + g
    return theta - lr * v, {"v": v}

def softmax_grad(z, labels):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)

def grad_goes_wrong(z, labels):
    softmax_grad.calls = getattr(softmax_grad, "calls", 0) + 1
    return softmax_grad(z, labels) if softmax_grad.calls < 9 else softmax_grad(z, labels)[:, :2]

def grad_blows_up(z, labels):
    return softmax_grad(z, labels) * 1e300
"""


def in_judge(source: str) -> dict:
    """The same functions, run here: what the judge-side loop of the same helper computes."""
    namespace: dict = {}
    exec(textwrap.dedent(source), namespace)  # noqa: S102 - the test's own code
    return namespace


def least_squares(rng, sets=4, n=6, d=3):
    from grader.testing.surfaces import LeastSquares

    return LeastSquares(rng.normal(size=(sets, n, d)), rng.normal(size=(sets, n))), rng.normal(size=(sets, d))


def test_a_step_on_a_least_squares_objective_runs_in_one_request_and_matches_the_judge(student):
    """Do start_steps' worker runs (a stateless step, and an optimizer with state) reach the θ its
    judge-side loop reaches, bit for bit, in one request each?"""
    from grader.testing import start_steps

    s, here = student(TRAINING), in_judge(TRAINING)
    objective, theta0 = least_squares(np.random.default_rng(1))
    s.plain_sgd.stream([])  # starts the worker
    frames = s._worker.frames
    got = start_steps(s.plain_sgd, objective.grad, theta0, 40, "plain_sgd", args=(0.05, 0.1))()
    assert s._worker.frames == frames + 1  # one answer, for step 40
    want = start_steps(here["plain_sgd"], objective.grad, theta0, 40, "plain_sgd", args=(0.05, 0.1))()
    assert np.array_equal(got, want)
    got = start_steps(s.momentum, objective.grad, theta0, 30, "momentum", state=True, args=(0.02,), kwargs={"beta": 0.8})()
    want = start_steps(here["momentum"], objective.grad, theta0, 30, "momentum", state=True, args=(0.02,),
                       kwargs={"beta": 0.8})()
    assert np.array_equal(got, want) and not np.array_equal(got, theta0)


def test_a_descent_with_the_students_output_gradient_matches_the_judge_and_names_a_bad_step(student):
    """Does start_output_descent's worker run reach the judge-side loop's W bit for bit, name the step
    whose gradient has the wrong shape, and hand back the W where it diverged?"""
    from grader.testing import start_output_descent

    s, here = student(TRAINING), in_judge(TRAINING)
    rng = np.random.default_rng(2)
    a, labels, w0 = rng.normal(size=(20, 3)), rng.integers(0, 3, size=20), np.zeros((3, 3))
    got = start_output_descent(s.softmax_grad, a, w0, 0.5, 60, "step {t}", args=(labels,))()
    want = start_output_descent(here["softmax_grad"], a, w0, 0.5, 60, "step {t}", args=(labels,))()
    assert np.array_equal(got, want) and not np.array_equal(got, w0)
    with pytest.raises(BadResult, match=r"step 9 has shape \(20, 2\), expected \(20, 3\)"):
        start_output_descent(s.grad_goes_wrong, a, w0, 0.5, 60, "step {t}", args=(labels,))()
    with np.errstate(all="ignore"):
        diverged = start_output_descent(s.grad_blows_up, a, w0, 1e10, 60, "step {t}", args=(labels,))()
    assert not np.all(np.isfinite(diverged))


def test_torch_named_only_in_a_docstring_or_comment_does_not_call_for_torch():
    """The fork server with torch is for code that names torch; does a docstring or a comment that says
    "like torch does" no longer count, while any import does, and source that does not tokenize does?"""
    from grader.files_code import names_in_code

    assert not names_in_code(b'"""Like torch does."""\n# torch\nx = "torch"\n', "torch")
    assert names_in_code(b"import torch.nn as nn\n", "torch") and names_in_code(b"from torch import optim\n", "torch")
    assert names_in_code(b"def broken(:\n  torch", "torch")


@pytest.mark.parametrize("torch_named", [False, True])
def test_children_of_a_fork_server_do_not_share_the_global_generators(student, torch_named):
    """The fork servers import numpy.random and random before they fork (a child then skips their import):
    do two children, and a child and its fork server's next child, still draw different numbers from
    ``np.random`` and ``random`` without a seed, as two fresh interpreters would?"""
    source = ("import random\nimport numpy as np\n" + ("import torch\n" if torch_named else "")
              + "def draws():\n    return [float(np.random.random()), random.random()]\n")
    seen = [tuple(student(source).draws()) for _ in range(3)]
    numpy_draws, python_draws = {s[0] for s in seen}, {s[1] for s in seen}
    assert len(numpy_draws) == 3 and len(python_draws) == 3, seen

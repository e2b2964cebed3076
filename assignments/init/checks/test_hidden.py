"""Hidden checks of the init assignment: the reference solution on inputs from a secret seed.

A correct solution draws exactly the reference's numbers from a generator in the same state
(``rng.standard_normal(shape) * std`` and ``rng.normal(0, std, shape)`` give identical values), so
values are compared element by element. Messages say which case, which layer and what kind of
difference (a wrong scale, or other draws), never the inputs or the expected numbers.
"""

from __future__ import annotations

import math

import numpy as np

from grader.testing import BadResult, StudentFault, as_array, as_float, is_close, load_sibling, safe_messages

# Read for hidden values: these checks' messages name steps, elements, counts, relative errors and the
# student's own values, never a secret input or an expected number (the kit's helpers with reveal=False).
pytestmark = safe_messages

common = load_sibling(__file__, "common")


def seed_of(rng) -> int:
    return int(rng.integers(2**63))


def same_draws_rescaled(got: np.ndarray, expected: np.ndarray) -> bool:
    """Are the values the expected ones times one constant (the right draws with a wrong scale)?"""
    if got.shape != expected.shape or not np.all(np.isfinite(got)) or np.all(expected == 0):
        return False
    c = float(np.sum(got * expected) / np.sum(expected * expected))
    return c != 0 and bool(np.allclose(got, c * expected, rtol=1e-9, atol=0))


OTHER_DRAWS = ("they are not the numbers rng.standard_normal(shape) draws from the generator you are given: "
               "draw all values at once, in the given shape, from that rng (rng.normal(0, std, shape) gives the "
               "same numbers), with no np.random, no other draws first, and a normal, not a uniform, distribution")


# ---------------------------------------------------------------------------------------- fan_in
def random_shapes(rng):
    """(what, shape): linear and convolution shapes; out and in differ, kernels are larger than 1."""
    inp = int(rng.integers(1, 13))
    yield "a linear weight", (inp + int(rng.integers(1, 9)), inp)
    yield "a linear weight", tuple(int(d) for d in rng.integers(1, 50, size=2))
    for ndim in (3, 4, 4, 5):
        out, inp = (int(d) for d in rng.integers(1, 13, size=2))
        kernel = tuple(int(k) for k in rng.integers(2, 8, size=ndim - 2))
        yield f"a {ndim - 2}-D convolution weight", (out, inp, *kernel)
    yield "a 1x1 convolution weight", (int(rng.integers(1, 30)), int(rng.integers(1, 30)), 1, 1)


def test_fan_in_values(student, reference, rng):
    cases = list(random_shapes(rng))
    values = common.one_by_one(student.fan_in.stream([((shape,), {}) for _, shape in cases]))
    for i, ((what, shape), value) in enumerate(zip(cases, values, strict=True), 1):
        got = as_float(value, "fan_in")
        assert got == reference.fan_in(shape), (
            f"fan_in of {what}, case {i} of {len(cases)}, is wrong: the fan-in is in * k1 * k2 * ..., "
            "the inputs each output sees")


# ---------------------------------------------------------------------------------- kaiming_normal
def kaiming_cases(rng):
    """(what, shape, kwargs): linear and convolution shapes (out != in), default and other gains."""
    for what, shape in random_shapes(rng):
        if what == "a linear weight" and shape[0] == shape[1]:
            shape = (shape[0] + 1, shape[1])
        yield f"{what}, default gain", shape, {}
        gain = float(rng.choice([1.0, rng.uniform(0.3, 4.0)]))
        yield f"{what}, gain passed", shape, {"gain": gain}


def test_kaiming_normal_values(student, reference, rng, spec):
    tol = spec.tolerance("values")
    cases = list(kaiming_cases(rng))
    seeds = [seed_of(rng) for _ in cases]
    calls = [((shape, np.random.default_rng(seed)), kwargs) for (_, shape, kwargs), seed in zip(cases, seeds, strict=True)]
    values = common.one_by_one(student.kaiming_normal.stream(calls))
    for i, ((what, shape, kwargs), seed, value) in enumerate(zip(cases, seeds, values, strict=True), 1):
        expected = reference.kaiming_normal(shape, np.random.default_rng(seed), **kwargs)
        where = f"kaiming_normal, case {i} of {len(cases)} ({what})"
        got = as_array(value, where)
        if got.shape != expected.shape:
            raise AssertionError(f"{where} returned an array of another shape than the one it was given")
        if is_close(got, expected, tol):
            continue
        if same_draws_rescaled(got, expected):
            try:
                fan_ok = as_float(student.fan_in(shape), "fan_in") == reference.fan_in(shape)
            except (StudentFault, BadResult):
                fan_ok = False
            cause = ("your fan_in is wrong for this shape" if not fan_ok else
                     "std should be sqrt(gain / fan_in), with the default gain 2" if not kwargs else
                     "std should be sqrt(gain / fan_in), with the gain passed in")
            raise AssertionError(f"{where}: the values are the right draws times a wrong constant, so the scale is "
                                 f"off: {cause}")
        raise AssertionError(f"{where}: the values differ, and {OTHER_DRAWS}")


# ---------------------------------------------------------------------------------------- init_mlp
def as_layers(value, sizes: list[int], where: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W, b), ...] with W of shape (fan_out, fan_in); b need only hold fan_out zeros (its exact shape
    is init_mlp_shapes' business, so a column-shaped b costs that check alone)."""
    n_layers = len(sizes) - 1
    if not isinstance(value, (list, tuple)) or len(value) != n_layers:
        raise BadResult(f"{where} should return a list of pairs (W, b), one per layer")
    layers = []
    for i, layer in enumerate(value, 1):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise BadResult(f"{where}: layer {i} should be a pair (W, b)")
        w = as_array(layer[0], f"{where}: W of layer {i}")
        if w.shape != (sizes[i], sizes[i - 1]):
            swapped = w.shape == (sizes[i - 1], sizes[i])
            raise AssertionError(f"{where}: W of layer {i} " + ("is transposed" if swapped else "has the wrong shape")
                                 + ": it should have shape (fan_out, fan_in)")
        b = as_array(layer[1], f"{where}: b of layer {i}")
        if b.size != sizes[i] or not np.all(b == 0):
            raise AssertionError(f"{where}: b of layer {i} should be fan_out zeros (b = 0)")
        layers.append((w, b))
    return layers


def mlp_cases(rng):
    """(what, sizes): inputs 5..30, hidden layers 31..64 wide, outputs 1..4, so fan_in != fan_out."""
    d, k = int(rng.integers(5, 31)), int(rng.integers(1, 5))
    hidden = [int(h) for h in rng.integers(31, 65, size=6)]
    yield "a single layer", [d, k]
    yield "one hidden layer", [d, hidden[0], k]
    yield "two hidden layers", [d, hidden[1], hidden[2], k]
    yield "three hidden layers", [d, hidden[3], hidden[4], hidden[5], k]


def test_init_mlp_values(student, reference, rng, spec):
    tol = spec.tolerance("values")
    cases = list(mlp_cases(rng))
    seeds = [seed_of(rng) for _ in cases]
    calls = [((sizes, np.random.default_rng(seed)), {}) for (_, sizes), seed in zip(cases, seeds, strict=True)]
    values = common.one_by_one(student.init_mlp.stream(calls))
    for i, ((what, sizes), seed, value) in enumerate(zip(cases, seeds, values, strict=True), 1):
        where = f"init_mlp, case {i} of {len(cases)} ({what})"
        expected = reference.init_mlp(sizes, np.random.default_rng(seed))
        layers = as_layers(value, sizes, where)
        for j, ((w, _), (w_ref, _)) in enumerate(zip(layers, expected, strict=True), 1):
            if is_close(w, w_ref, tol):
                continue
            role = "the output layer, gain 1" if j == len(layers) else "a hidden layer feeding a ReLU, gain 2"
            if same_draws_rescaled(w, w_ref):
                raise AssertionError(f"{where}: W of layer {j} of {len(layers)} ({role}) holds the right draws times "
                                     "a wrong constant: its std should be sqrt(gain / fan_in)")
            order = (" Layers come first to last, one rng.standard_normal((fan_out, fan_in)) each, and nothing "
                     "else is drawn (b = 0 needs no draw).") if j > 1 else ""
            raise AssertionError(f"{where}: W of layer {j} of {len(layers)} ({role}) differs, and {OTHER_DRAWS}.{order}")


# --------------------------------------------------------------------- the lecture's demonstration
def teacher_data(rng, n: int = 256, d: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Inputs N(0, 1) and targets from a random 30-unit ReLU network, standardized."""
    x = rng.standard_normal((n, d))
    w, v = rng.standard_normal((30, d)) / math.sqrt(d), rng.standard_normal(30)
    y = np.maximum(x @ w.T, 0.0) @ v
    return x, (y - y.mean()) / y.std()


def final_mse(adam, layers, x: np.ndarray, y: np.ndarray, steps: int, lr: float) -> float:
    """Full-batch Adam (the optimizers reference) on the MSE of a one-hidden-layer ReLU network; the last loss."""
    (w1, b1), (w2, b2) = layers
    h, n = w1.shape[0], len(y)
    cut = np.cumsum([w1.size, h, w2.size])
    theta = np.concatenate([w1.ravel(), b1.ravel(), w2.ravel(), b2.ravel()])
    state: dict = {}
    for step in range(steps + 1):
        w1, b1, w2, b2 = np.split(theta, cut)
        w1, w2 = w1.reshape(h, -1), w2.reshape(1, h)
        z = x @ w1.T + b1
        a = np.maximum(z, 0.0)
        r = (a @ w2.T)[:, 0] + b2[0] - y
        if step == steps:
            return float(np.mean(r * r))
        dout = (2.0 / n) * r
        dz = np.outer(dout, w2[0]) * (z > 0)
        grad = np.concatenate([(dz.T @ x).ravel(), dz.sum(0), dout @ a, [dout.sum()]])
        theta, state = adam(theta, grad, state, lr)
    raise AssertionError("unreachable")


def test_kaiming_trains_better(student, reference_of, rng, spec):
    """The lecture's demonstration: one hidden layer of 100 ReLU units trained with Adam ends far lower
    from Kaiming initialization than from the same draws unscaled, N(0, 1). The data, the training and
    every loss are the judge's; only init_mlp runs in the submission."""
    adam = reference_of("optimizers").adam
    steps, lr, threshold = int(spec.parameter("train_steps")), spec.parameter("train_lr"), spec.parameter("max_final_mse")
    x, y = teacher_data(rng)
    sizes = [x.shape[1], 100, 1]
    seed = seed_of(rng)
    layers = as_layers(student.init_mlp(sizes, np.random.default_rng(seed)), sizes, f"init_mlp({sizes}, rng)")
    if not all(np.all(np.isfinite(w)) for w, _ in layers):
        raise AssertionError(f"init_mlp({sizes}, rng) returned weights that are not finite")
    with np.errstate(all="ignore"):
        loss = final_mse(adam, layers, x, y, steps, lr)
    if math.isfinite(loss) and loss <= threshold:
        return
    draws = np.random.default_rng(seed)
    unscaled = [(draws.standard_normal((o, i)), np.zeros(o)) for i, o in zip(sizes[:-1], sizes[1:], strict=False)]
    with np.errstate(all="ignore"):
        loss_unscaled = final_mse(adam, unscaled, x, y, steps, lr)
    raise AssertionError(
        f"trained by Adam (lr {lr:g}, {steps} full-batch steps) from your init_mlp({sizes}, rng), a network with "
        f"one hidden layer of 100 ReLU units ends at a mean squared error of {loss:.3g}; from Kaiming "
        f"initialization it ends below {threshold:g}, far below the same draws unscaled, N(0, 1), which end at "
        f"{loss_unscaled:.2g} here")

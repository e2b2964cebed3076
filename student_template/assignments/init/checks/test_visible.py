"""Visible checks of the init assignment: PyTorch as the oracle, and properties of the distribution.

Students may run these with ``grader check init``; their inputs come from a public seed. Sample
statistics are computed on 1e5 values or more, so that a correct draw passes by a wide margin
whatever generator state it starts from.
"""

from __future__ import annotations

import math

import numpy as np

from grader.testing import (
    BadResult,
    StudentFault,
    as_array,
    as_float,
    expect_raises,
    figures,
    lazy_torch,
    load_sibling,
    normality,
    oracle,
)

common = load_sibling(__file__, "common")
torch = lazy_torch()  # imported only when an oracle's value is not in the cache yet


@oracle
def torch_fan_in(shape: tuple[int, ...]) -> int:
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))[0]


@oracle
def torch_kaiming_std(shape: tuple[int, ...], nonlinearity: str, a: float, seed: int) -> float:
    """The sample std of torch.nn.init.kaiming_normal_(mode='fan_in') on a tensor of this shape (the same
    visible seeds for every student: computed once)."""
    tensor = torch.empty(shape, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(tensor, a=a, mode="fan_in", nonlinearity=nonlinearity,
                                  generator=torch.Generator().manual_seed(seed))
    return float(tensor.std())


def seed_of(rng) -> int:
    return int(rng.integers(2**62))


def fan_in_hint(student, shape: tuple[int, ...]) -> str:
    """Only when a scale is off: if the student's own fan_in is wrong for this shape, say so."""
    try:
        got = student.fan_in(shape)
    except StudentFault:
        return ""
    expected = torch_fan_in(shape)
    if isinstance(got, (int, float)) and not isinstance(got, bool) and got == expected:
        return ""
    return f" Your fan_in{shape} returns {got!r}, but the fan-in of this shape is {expected}: fix fan_in first."


def check_std(student, got: np.ndarray, expected_std: float, gain: float, shape, what: str, oracle: str,
              rtol: float) -> None:
    """std within rtol of PyTorch's, mean 0 within 6 standard errors; the message guesses the cause."""
    n, fan = got.size, torch_fan_in(shape)
    mean, std = float(got.mean()), float(got.std())
    if not math.isfinite(mean) or not math.isfinite(std):
        raise AssertionError(f"{what} contains inf or NaN")
    if abs(std / expected_std - 1) > rtol:
        effective = std * std * fan
        cause = fan_in_hint(student, shape)
        if not cause and abs(std / (gain / fan) - 1) <= rtol:
            cause = " Its std is gain / fan_in, the variance: the std is the square root of it (rng.normal takes the std)."
        elif not cause and abs(std - 1) <= rtol:
            cause = " These are unscaled N(0, 1) draws: multiply them by sqrt(gain / fan_in)."
        elif not cause:
            cause = f" Yours has std² · fan_in = {effective:.3g}, as if the gain were {effective:.3g}, not {gain:.4g}."
        raise AssertionError(f"{what} has std {std:.4g}, but {oracle} on this shape has std {expected_std:.4g}, "
                             f"about sqrt(gain / fan_in) = sqrt({gain:.4g} / {fan}) = {math.sqrt(gain / fan):.4g}.{cause}")
    if abs(mean) > 6 * std / math.sqrt(n):
        raise AssertionError(f"{what} has mean {mean:.3g} over {n} values; N(0, gain / fan_in) has mean 0 "
                             f"(a correct draw of this size has |mean| below {6 * std / math.sqrt(n):.2g})")


# ---------------------------------------------------------------------------------------- fan_in
FAN_IN_SHAPES = [(10, 3), (3, 10), (1, 7), (16, 3, 5), (8, 4, 3, 2), (6, 2, 3, 4, 5), (5, 7, 1, 1), (4, 1, 9)]


def test_fan_in_matches_torch(student):
    values = common.one_by_one(student.fan_in.stream([((shape,), {}) for shape in FAN_IN_SHAPES]))
    for shape, value in zip(FAN_IN_SHAPES, values, strict=True):
        kind = "a linear weight (out, in)" if len(shape) == 2 else "a convolution weight (out, in, k1, ...)"
        got = as_float(value, f"fan_in{shape}")
        expected = torch_fan_in(shape)
        assert got == expected, (
            f"fan_in{shape}, {kind}, returned {got:g}; PyTorch's fan-in of this shape is {expected}: "
            "the number of inputs each output sees, in * k1 * k2 * ... (not the number of outputs)")


def test_fan_in_rejects_short_shapes(student):
    student.fan_in((4, 3))  # a valid shape must not raise (and an unfinished fan_in stops here)
    for shape in [(5,), ()]:
        expect_raises(ValueError, lambda shape=shape: student.fan_in(shape),
                      f"fan_in{shape}, a shape with fewer than 2 dimensions,")


# ---------------------------------------------------------------------------------- kaiming_normal
# shape, gain passed (None: the default, 2), torch's nonlinearity and slope for the same std, what
MOMENT_CASES = [
    ((400, 500), None, "relu", 0.0, "a linear weight with the default gain"),
    ((128, 64, 5, 3), 1.0, "linear", 0.0, "a 5x3 convolution weight with gain 1"),
    ((150, 300, 3), 2 / (1 + 0.2**2), "leaky_relu", 0.2, "a 1-D convolution weight with gain 2 / (1 + 0.2²)"),
]


def test_kaiming_normal_moments(student, public_rng, spec):
    rtol = spec.parameter("moment_rtol")
    seeds = [(seed_of(public_rng), seed_of(public_rng)) for _ in MOMENT_CASES]  # (the student's rng's, torch's)
    calls = [((shape, np.random.default_rng(seed)), {} if gain is None else {"gain": gain})
             for (shape, gain, *_), (seed, _) in zip(MOMENT_CASES, seeds, strict=True)]
    values = common.one_by_one(student.kaiming_normal.stream(calls))
    for (shape, gain, nonlinearity, a, kind), (_, torch_seed), value in zip(MOMENT_CASES, seeds, values, strict=True):
        call = f"kaiming_normal({shape}, rng{'' if gain is None else f', gain={gain:.4g}'})"
        got = as_array(value, call, shape)
        figures.add("histogram", f"{call}, {kind}: your values against N(0, gain / fan_in)",
                    samples=got.ravel()[:figures.MAX_POINTS], density="normal",
                    params={"mean": 0.0, "std": math.sqrt((2.0 if gain is None else gain) / torch_fan_in(shape))})
        oracle = f"torch.nn.init.kaiming_normal_(mode='fan_in', nonlinearity='{nonlinearity}'" + \
                 (f", a={a:g})" if a else ")")
        expected = torch_kaiming_std(shape, nonlinearity, a, torch_seed)
        check_std(student, got, expected, 2.0 if gain is None else gain, shape, f"{call}, {kind},", oracle, rtol)


def test_kaiming_normal_is_normal(student, public_rng, spec):
    shape = (400, 500)
    got = as_array(student.kaiming_normal(shape, np.random.default_rng(seed_of(public_rng))),
                   f"kaiming_normal({shape}, rng)", shape)
    figures.add("histogram", f"kaiming_normal({shape}, rng): your values against N(0, 2 / {torch_fan_in(shape)})",
                samples=got.ravel()[:figures.MAX_POINTS], density="normal",
                params={"mean": 0.0, "std": math.sqrt(2.0 / torch_fan_in(shape))})
    if not np.all(np.isfinite(got)) or got.std() == 0:
        raise AssertionError(f"kaiming_normal({shape}, rng) should return finite values that are not all equal")
    z = (got - got.mean()) / got.std()
    skew, kurtosis, p = normality(z)  # scipy.stats' skew, kurtosis and normaltest, in NumPy
    if p >= spec.parameter("normality_min_p"):
        return
    beyond2, beyond3 = float(np.mean(np.abs(z) > 2)), float(np.mean(np.abs(z) > 3))
    diagnosis = ""
    if kurtosis < -0.9 and beyond2 == 0:
        diagnosis = (" These look uniform: Kaiming *normal* draws rng.standard_normal(shape) (or "
                     "rng.normal(0, std, shape)), not rng.uniform, even with the right variance.")
    elif beyond3 == 0:
        diagnosis = " No value lies beyond 3 std: a truncated or clipped draw is not N(0, gain / fan_in)."
    raise AssertionError(
        f"the {got.size} values of kaiming_normal({shape}, rng) are not normally distributed "
        f"(D'Agostino-Pearson test, as scipy.stats.normaltest: p = {p:.2g}): skewness {skew:.3f} and excess kurtosis {kurtosis:.3f} "
        f"(a normal has 0 and 0, a uniform 0 and -1.2); {beyond2:.2%} of the values lie beyond 2 std and "
        f"{beyond3:.2%} beyond 3 std (a normal has 4.55% and 0.27%).{diagnosis}")


def test_deep_relu_stack(student, public_rng, spec):
    """Networks of ReLU layers of width n, weights kaiming_normal((n, n), rng) with the default gain.

    The mean square of the activations, averaged over several independent networks (one network
    alone fluctuates too much for a fair test), must stay within a factor of ``stack_factor`` of the
    input's after every layer: Kaiming init keeps it at 1 in expectation.
    """
    networks, width, depth = (int(spec.parameter(k)) for k in ("stack_networks", "stack_width", "stack_depth"))
    factor = spec.parameter("stack_factor")
    x = public_rng.standard_normal((networks, 16, width))
    generators = public_rng.spawn(networks * depth)
    base = float(np.mean(x * x))
    a = x
    for layer in range(1, depth + 1):  # a request per layer: the networks' weights of this layer
        calls = [(((width, width), generators[(layer - 1) * networks + k]), {}) for k in range(networks)]
        weights = np.stack([as_array(value, f"kaiming_normal(({width}, {width}), rng)", (width, width))
                            for value in common.one_by_one(student.kaiming_normal.stream(calls))])
        a = np.maximum(a @ weights.transpose(0, 2, 1), 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            ratio = float(np.mean(a * a)) / base
        if not (1 / factor <= ratio <= factor):
            trend = "vanish" if ratio < 1 else "explode"
            raise AssertionError(
                f"through {networks} ReLU networks of width {width} with weights kaiming_normal(({width}, {width}), "
                f"rng) and the default gain, the mean square of the activations after layer {layer} of {depth} is "
                f"{ratio:.3g} times the input's (about {ratio ** (1 / layer):.3g} per layer): they {trend}. "
                f"Kaiming init, N(0, 2 / fan_in), keeps it near 1 (it must stay within a factor of {factor:g}); "
                f"unscaled N(0, 1) weights multiply it by about {width / 2:g} per layer, gain 1 halves it.")


# ---------------------------------------------------------------------------------------- init_mlp
def as_layers(value, sizes: list[int], call: str, *, check_bias: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """init_mlp's result as [(W, b), ...], with W of shape (fan_out, fan_in) and, with ``check_bias``,
    b = 0 of shape (fan_out,) (only init_mlp_shapes looks at b, so a mistake there costs that check alone)."""
    n_layers = len(sizes) - 1
    if not isinstance(value, (list, tuple)) or len(value) != n_layers:
        kind = f"a {type(value).__name__} of length {len(value)}" if isinstance(value, (list, tuple)) else \
            type(value).__name__
        raise BadResult(f"{call} should return a list of {n_layers} pairs (W, b), one per layer; got {kind}")
    layers = []
    for i, layer in enumerate(value, 1):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise BadResult(f"layer {i} of {call} should be a pair (W, b)")
        expected = (sizes[i], sizes[i - 1])
        w = as_array(layer[0], f"W of layer {i} of {call}")
        if w.shape != expected:
            hint = " (it is transposed)" if w.shape == expected[::-1] else ""
            raise AssertionError(f"W of layer {i} of {call} has shape {w.shape}{hint}, expected {expected} = "
                                 f"(fan_out, fan_in): the layer computes W @ x + b from {sizes[i - 1]} inputs")
        b = as_array(layer[1], f"b of layer {i} of {call}")
        if check_bias and b.shape != (sizes[i],):
            raise AssertionError(f"b of layer {i} of {call} has shape {b.shape}, expected ({sizes[i]},): "
                                 "a 1-D array with one zero per output")
        if check_bias and not np.all(b == 0):
            raise AssertionError(f"b of layer {i} of {call} should be all zeros (b = 0)")
        if not np.all(np.isfinite(w)) or np.all(w == 0):
            raise AssertionError(f"W of layer {i} of {call} should be finite random values, not all zero")
        layers.append((w, b))
    return layers


def test_init_mlp_shapes(student, public_rng):
    cases = [(sizes, seed_of(public_rng)) for sizes in ([5, 3], [7, 16, 16, 2], [3, 50, 1], [10, 4, 8, 6, 1])]
    calls = [((sizes, np.random.default_rng(seed)), {}) for sizes, seed in cases]
    values = common.one_by_one(student.init_mlp.stream(calls))
    for (sizes, _), value in zip(cases, values, strict=True):
        as_layers(value, sizes, f"init_mlp({sizes}, rng)")


def test_init_mlp_scales(student, public_rng, spec):
    rtol = spec.parameter("moment_rtol")
    cases = []  # (sizes, the seed of the student's rng, the seed of torch's for each layer), drawn in that order
    for sizes in ([400, 300, 500, 100], [600, 200]):
        seed = seed_of(public_rng)
        cases.append((sizes, seed, [seed_of(public_rng) for _ in sizes[1:]]))
    calls = [((sizes, np.random.default_rng(seed)), {}) for sizes, seed, _ in cases]
    values = common.one_by_one(student.init_mlp.stream(calls))
    for (sizes, _, torch_seeds), value in zip(cases, values, strict=True):
        call = f"init_mlp({sizes}, rng)"
        layers = as_layers(value, sizes, call, check_bias=False)
        for i, ((w, _), torch_seed) in enumerate(zip(layers, torch_seeds, strict=True), 1):
            last = i == len(layers)
            nonlinearity, gain = ("linear", 1.0) if last else ("relu", 2.0)
            role = "the output layer (gain 1)" if last else "a hidden layer, feeding a ReLU (gain 2)"
            expected = torch_kaiming_std(w.shape, nonlinearity, 0.0, torch_seed)
            check_std(student, w, expected, gain, w.shape, f"W of layer {i} of {len(layers)} of {call}, {role},",
                      f"torch.nn.init.kaiming_normal_(mode='fan_in', nonlinearity='{nonlinearity}')", rtol)

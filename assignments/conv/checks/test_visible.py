"""Visible checks of the conv assignment: PyTorch's conv2d as the oracle, and the errors the API promises.

Students may run these with ``grader check conv``; their inputs are fixed or come from a public seed.
When an output is wrong, the check looks for the mistake it matches (a flipped kernel, padding on one
side only, a ceiling in the size formula, ...), computed here with PyTorch, and names it.
"""

from __future__ import annotations

import numpy as np

from grader.testing import expect_raises, lazy_torch, load_sibling, oracle

common = load_sibling(__file__, "common")
pair = common.pair
torch = lazy_torch()  # imported only when an oracle's value is not in the cache yet


@oracle
def torch_conv(x, w, b=None, stride=1, padding=0) -> np.ndarray:
    """The oracle: torch.nn.functional.conv2d in float64 (the same visible inputs for everyone: computed once)."""
    t = lambda a: torch.tensor(np.ascontiguousarray(a), dtype=torch.float64)  # noqa: E731
    return torch.nn.functional.conv2d(t(x), t(w), None if b is None else t(b), stride=pair(stride),
                                      padding=pair(padding)).numpy()


def torch_output_shape(h, w, kernel, stride=1, padding=0) -> tuple[int, int]:
    """(H', W') as torch's conv2d computes it, on a zero image of that size."""
    (kh, kw) = pair(kernel)
    out = torch_conv(np.zeros((1, 1, h, w)), np.zeros((1, 1, kh, kw)), None, stride, padding)
    return out.shape[2], out.shape[3]


# ------------------------------------------------------------------------ conv2d_output_shape

SHAPE_CASES = [  # (h, w, kernel, stride, padding); None: leave the argument to its default
    (32, 32, 3, 1, 1),
    (28, 28, 5, None, None),
    (224, 224, 7, 2, 3),
    (7, 9, (3, 4), (2, 3), (1, 0)),
    (15, 20, 4, 3, 2),
    (10, 6, 1, 3, None),
    (6, 13, (2, 5), (4, 2), (0, 3)),
    (4, 4, 6, 1, 1),
    (1, 1, 1, None, None),
    (9, 13, (2, 6), (5, 4), (2, 1)),
]


def shape_call(h, w, kernel, stride, padding) -> tuple[list, str]:
    """The arguments of a conv2d_output_shape call, leaving out those that are None (their defaults),
    and the call as text."""
    args = [h, w, kernel, stride, padding]
    while args[-1] is None:
        args.pop()
    text = ", ".join(repr(a) for a in args)
    return args, f"conv2d_output_shape({text})"


def int_or_pair(rng, low: int, high: int):
    """An int from low to high, or half of the time an (h, w) pair of them."""
    if rng.random() < 0.5:
        return int(rng.integers(low, high + 1))
    return tuple(int(v) for v in rng.integers(low, high + 1, size=2))


def test_output_shape_matches_torch(student, public_rng):
    """The named cases above and random ones: (H', W') must be what torch's conv2d produces."""
    cases = list(SHAPE_CASES)
    while len(cases) < 30:
        h, w = (int(v) for v in public_rng.integers(1, 41, size=2))
        kernel, stride, padding = (int_or_pair(public_rng, *r) for r in ((1, 7), (1, 4), (0, 3)))
        (kh, kw), (ph, pw) = pair(kernel), pair(padding)
        if h + 2 * ph >= kh and w + 2 * pw >= kw:
            cases.append((h, w, kernel, stride, padding))
    calls = [shape_call(*case) for case in cases]
    values = common.one_by_one(student.conv2d_output_shape.stream([(args, {}) for args, _ in calls]))
    for (h, w, kernel, stride, padding), (_, call), value in zip(cases, calls, values, strict=True):
        got = common.as_sizes(value, call, reveal=True)
        expected = torch_output_shape(h, w, kernel, 1 if stride is None else stride, 0 if padding is None else padding)
        if got != expected:
            mistake = next((what for what, sizes in common.size_mistakes(h, w, kernel, stride or 1, padding or 0)
                            if sizes == got), None)
            raise AssertionError(f"{call} returned {got}, but torch's conv2d gives an output of {expected}"
                                 + (f": yours is {mistake}" if mistake else ""))


TOO_SMALL = [  # (h, w, kernel, stride, padding, why)
    (4, 4, 5, 1, 0, "a 5x5 kernel on a 4x4 input"),
    (3, 8, (6, 2), 1, (1, 0), "a kernel 6 tall on an input 3 tall padded to 5"),
    (10, 2, 3, 1, 0, "a kernel 3 wide on an input 2 wide"),
    (4, 10, 5, 2, 0, "a kernel 5 tall with stride 2 on an input 4 tall (floor((4 - 5) / 2) + 1 = 0; "
                     "rounding -0.5 up or towards zero, as int() does, would give 1)"),
    (6, 6, (3, 9), (1, 3), (0, 1), "a kernel 9 wide on an input 6 wide padded to 8"),
]


def test_output_shape_too_small_raises(student):
    """A kernel larger than the padded input, in either direction, is a ValueError."""
    for h, w, kernel, stride, padding, why in TOO_SMALL:
        call = f"conv2d_output_shape({h}, {w}, {kernel!r}, {stride!r}, {padding!r})"
        expect_raises(ValueError, lambda: student.conv2d_output_shape(h, w, kernel, stride, padding),  # noqa: B023
                               f"{call}, {why}: an output size below 1 means the kernel does not fit, so it")


# ------------------------------------------------------------------------ conv2d_forward

FORWARD_CASES = [  # (what, x shape, w shape, bias?, stride, padding); stride None: the defaults
    ("a square batch, 3x3 filters, stride 1, padding 1", (2, 3, 8, 8), (4, 3, 3, 3), True, 1, 1),
    ("the defaults (stride 1, padding 0, no bias)", (2, 2, 6, 7), (3, 2, 3, 3), False, None, None),
    ("a non-square input and a non-square kernel", (2, 2, 7, 10), (3, 2, 2, 4), True, 1, 0),
    ("stride 2 that does not divide H + 2p - k evenly, padding 2", (2, 3, 9, 10), (2, 3, 4, 4), True, 2, 2),
    ("(h, w) stride (2, 3) and padding (1, 2)", (2, 2, 9, 11), (3, 2, 3, 2), True, (2, 3), (1, 2)),
    ("stride 3, larger than the 2x2 kernel", (2, 3, 10, 11), (2, 3, 2, 2), True, 3, 0),
    ("a 1x1 kernel with stride 2 and padding 1", (2, 4, 6, 7), (3, 4, 1, 1), True, 2, 1),
    ("no bias (b=None) and padding (2, 1)", (2, 3, 6, 5), (2, 3, 3, 2), False, 1, (2, 1)),
    ("a single image, one channel, one filter", (1, 1, 5, 6), (1, 1, 3, 2), True, 1, 0),
    ("a kernel as large as the padded input (a 1x1 output)", (2, 3, 4, 5), (2, 3, 6, 7), True, 1, 1),
    ("padding 3, wider than the 2x3 kernel, stride 2", (1, 2, 4, 4), (2, 2, 2, 3), True, 2, 3),
]


def random_forward_cases(rng, count: int):
    """Random sizes; stride and padding as ints or as (h, w) pairs; a bias most of the time."""
    cases = []
    while len(cases) < count:
        n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
        h, w = (int(v) for v in rng.integers(1, 13, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
        ph, pw = (int(v) for v in rng.integers(0, 3, size=2))
        if rng.random() < 0.5:
            sw, pw = sh, ph
        if h + 2 * ph < kh or w + 2 * pw < kw:
            continue
        stride = sh if sh == sw else (sh, sw)
        padding = ph if ph == pw else (ph, pw)
        cases.append((f"random case {len(cases) + 1}", (n, c, h, w), (f, c, kh, kw), bool(rng.random() < 0.8),
                      stride, padding))
    return cases


def test_forward_matches_torch(student, public_rng, spec):
    """Every named case and 12 random ones against torch's conv2d; the inputs must come back unchanged."""
    cases = []  # (what, x, w, b, stride, padding, the call's arguments, the call as text)
    for what, x_shape, w_shape, with_bias, stride, padding in FORWARD_CASES + random_forward_cases(public_rng, 12):
        x, w = public_rng.normal(size=x_shape), public_rng.normal(size=w_shape)
        b = public_rng.normal(size=w_shape[0]) if with_bias else None
        if stride is None:
            args, call = [x, w], f"conv2d_forward(x {x_shape}, w {w_shape})"
            stride, padding = 1, 0
        else:
            args = [x, w, b, stride, padding]
            call = (f"conv2d_forward(x {x_shape}, w {w_shape}, {'b' if with_bias else 'None'}, "
                    f"stride={stride!r}, padding={padding!r})")
        cases.append((what, x, w, b, stride, padding, args, call))
    results = common.one_by_one(student.stream("conv2d_forward", [(args, {}) for *_, args, _ in cases], echo=True))
    for (what, x, w, b, stride, padding, args, call), result in zip(cases, results, strict=True):
        expected = torch_conv(x, w, b, stride, padding)
        common.check_output(result.value, expected, torch_conv, (x, w, b, stride, padding), spec,
                            f"{what}: {call}", reveal=True)
        args_after = result.args_after[0]
        for name, old, new in zip(("x", "w", "b"), args[:3], args_after, strict=False):  # ours are as they were
            if old is not None and not np.array_equal(old, new):
                raise AssertionError(f"{what}: conv2d_forward changed its argument {name} in place; "
                                     "leave the inputs alone (np.pad and slicing make new arrays)")


BAD_SHAPES = [  # (x shape, w shape, padding, why)
    ((2, 3, 6, 6), (4, 2, 3, 3), 0, "x has 3 channels but the filters expect 2"),
    ((2, 3, 6, 6), (4, 1, 3, 3), 1, "x has 3 channels but the filters expect 1 (broadcasting would hide it)"),
    ((2, 1, 6, 6), (4, 3, 3, 3), 0, "x has 1 channel but the filters expect 3 (broadcasting would hide it)"),
    ((2, 3, 4, 9), (2, 3, 7, 3), 1, "the kernel is 7 tall, the input padded by 1 only 6"),
    ((1, 2, 8, 3), (2, 2, 2, 4), 0, "the kernel is 4 wide, the input only 3"),
]


def test_forward_bad_shapes_raise(student, public_rng):
    """Mismatched channels (also where NumPy would broadcast) and kernels that do not fit are ValueErrors."""
    for x_shape, w_shape, padding, why in BAD_SHAPES:
        x, w, b = public_rng.normal(size=x_shape), public_rng.normal(size=w_shape), public_rng.normal(size=w_shape[0])
        expect_raises(ValueError, lambda: student.conv2d_forward(x, w, b, 1, padding),  # noqa: B023
                               f"conv2d_forward(x {x_shape}, w {w_shape}, b, stride=1, padding={padding}), where {why},")
    x, w = public_rng.normal(size=(2, 3, 4, 5)), public_rng.normal(size=(2, 3, 5, 5))
    expect_raises(ValueError, lambda: student.conv2d_forward(x, w, None, 2, 0),
                           "conv2d_forward(x (2, 3, 4, 5), w (2, 3, 5, 5), None, stride=2, padding=0), where the kernel "
                           "is 5 tall and the input only 4 (floor((4 - 5) / 2) + 1 = 0),")

"""Hidden checks of the conv assignment: the reference solution on inputs from a secret seed.

Every kind of case is built so that the mistake it is about always shows (a stride that does not
divide evenly, padding on every case that tests padding, kernels larger than 1x1 where a flip would
matter), so the same mistake costs every student the same. When an output is wrong, the check names
the known mistake it matches, computed here with the reference. Messages never show the inputs or
the expected numbers.
"""

from __future__ import annotations

import time

import numpy as np

from grader.testing import StudentTimeout, load_sibling, safe_messages

# Read for hidden values: these checks' messages name steps, elements, counts, relative errors and the
# student's own values, never a secret input or an expected number (the kit's helpers with reveal=False).
pytestmark = safe_messages

common = load_sibling(__file__, "common")
pair = common.pair


def ints(rng, low: int, high: int, size: int = 2) -> list[int]:
    """``size`` ints from low to high, both included."""
    return [int(v) for v in rng.integers(low, high + 1, size=size)]


# ------------------------------------------------------------------------ conv2d_output_shape

def shape_cases(rng):
    """(kind, h, w, kernel, stride, padding): three of each kind, sizes always at least 1."""
    for _ in range(3):
        k, s, p = ints(rng, 1, 7, 1)[0], ints(rng, 1, 3, 1)[0], ints(rng, 0, 3, 1)[0]
        h, w = ints(rng, max(1, k - 2 * p), 40)
        yield "int kernel, stride and padding", h, w, k, s, p
    for _ in range(3):
        kh, kw = rng.choice(np.arange(1, 8), size=2, replace=False).tolist()
        sh, sw = rng.choice(np.arange(1, 5), size=2, replace=False).tolist()
        ph, pw = rng.choice(np.arange(0, 4), size=2, replace=False).tolist()
        h, w = ints(rng, max(1, kh - 2 * ph), 40, 1)[0], ints(rng, max(1, kw - 2 * pw), 40, 1)[0]
        yield "(h, w) pairs whose two parts differ", h, w, (kh, kw), (sh, sw), (ph, pw)
    for _ in range(3):
        s, k, p = ints(rng, 2, 4, 1)[0], ints(rng, 1, 5, 1)[0], ints(rng, 1, 2, 1)[0]
        h, w = (k - 2 * p + s * m + r for m, r in zip(ints(rng, 2, 8), ints(rng, 1, s - 1), strict=True))
        yield "a stride that does not divide H + 2p - k", h, w, k, s, p
    for _ in range(3):
        k = ints(rng, 1, 3, 1)[0]
        s = k + ints(rng, 1, 3, 1)[0]
        h, w = ints(rng, k + 1, 30)
        yield "a stride larger than the kernel", h, w, k, s, ints(rng, 0, 2, 1)[0]
    for _ in range(3):
        p = ints(rng, 1, 3, 1)[0]
        h, w = ints(rng, 1, 12)
        yield "a kernel as large as the padded input", h, w, (h + 2 * p, w + 2 * p), ints(rng, 1, 3, 1)[0], p
    for _ in range(3):  # stride 1, so that H' = H + 2p: padding counted once always shows
        yield "padding around a 1x1 kernel, stride 1", *ints(rng, 1, 20), 1, 1, ints(rng, 1, 3, 1)[0]
    for _ in range(3):
        yield "a 224x224 image", 224, 224, int(rng.choice([3, 5, 7, 11])), ints(rng, 1, 4, 1)[0], ints(rng, 0, 3, 1)[0]


def test_output_shape_values(student, reference, rng):
    """Three random settings of each kind against the reference."""
    cases = list(shape_cases(rng))
    values = common.one_by_one(student.conv2d_output_shape.stream([(case[1:], {}) for case in cases]))
    for i, ((kind, h, w, kernel, stride, padding), value) in enumerate(zip(cases, values, strict=True), 1):
        what = f"conv2d_output_shape, case {i} of {len(cases)} ({kind})"
        got = common.as_sizes(value, what)
        expected = reference.conv2d_output_shape(h, w, kernel, stride, padding)
        if got != expected:
            mistake = next((m for m, sizes in common.size_mistakes(h, w, kernel, stride, padding) if sizes == got), None)
            off = ", ".join(f"{axis} is {abs(g - e)} too {'large' if g > e else 'small'}"
                            for axis, g, e in zip(("H'", "W'"), got, expected, strict=True) if g != e)
            raise AssertionError(f"{what}: {off}" + (f"; yours is {mistake}" if mistake else ""))


# ------------------------------------------------------------------------ conv2d_forward

def run_cases(student, reference, rng, spec, cases) -> None:
    """cases: (kind, x shape, w shape, bias?, stride, padding). Values N(0, 1); all inputs secret.
    The student's calls cross in one request."""
    inputs = []  # (x, w, b, stride, padding): the arguments of each case's call
    for _, x_shape, w_shape, with_bias, stride, padding in cases:
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        inputs.append((x, w, rng.normal(size=w_shape[0]) if with_bias else None, stride, padding))
    values = common.one_by_one(student.conv2d_forward.stream([(args, {}) for args in inputs]))
    for i, ((kind, *_), (x, w, b, stride, padding), value) in enumerate(zip(cases, inputs, values, strict=True), 1):
        what = f"conv2d_forward, case {i} of {len(cases)} ({kind})"
        expected = reference.conv2d_forward(x, w, b, stride, padding)
        common.check_output(value, expected, reference.conv2d_forward, (x, w, b, stride, padding), spec, what)


def batch(rng) -> tuple[int, int, int]:
    """(N, C, F) for a small batch; at least 2 filters, so that a bias added along the wrong axis shows."""
    return ints(rng, 1, 3, 1)[0], ints(rng, 1, 4, 1)[0], ints(rng, 2, 3, 1)[0]


def test_forward_values(student, reference, rng, spec):
    """Int stride and padding, a bias on every case; two strides that do not divide evenly."""
    cases = []
    for kind, stride, padding in (("stride 1, padding 1", 1, 1), ("stride 1, padding 2", 1, 2),
                                  ("stride 2, padding 1", 2, 1), ("stride 1, no padding", 1, 0)):
        n, c, f = batch(rng)
        k = ints(rng, 2, 5, 1)[0]
        h, w = ints(rng, k, 14)
        cases.append((f"{kind}, a square kernel", (n, c, h, w), (f, c, k, k), True, stride, padding))
    for _ in range(2):  # a stride that does not divide H + 2p - k: a ceiling would give one more row and column
        n, c, f = batch(rng)
        s, k, p = ints(rng, 2, 3, 1)[0], ints(rng, 2, 4, 1)[0], ints(rng, 1, 2, 1)[0]
        h, w = (k - 2 * p + s * m + r for m, r in zip(ints(rng, 2, 5), ints(rng, 1, s - 1), strict=True))
        cases.append(("a stride that does not divide H + 2p - k", (n, c, h, w), (f, c, k, k), True, s, p))
    for _ in range(2):
        n, c, f = batch(rng)
        kh, kw = ints(rng, 1, 5)
        kh = max(kh, 2)
        h, w = ints(rng, 6, 14)
        cases.append(("random sizes", (n, c, h, w), (f, c, kh, kw), True, ints(rng, 1, 3, 1)[0], ints(rng, 0, 3, 1)[0]))
    run_cases(student, reference, rng, spec, cases)


def test_forward_pair_arguments(student, reference, rng, spec):
    """(h, w) kernel, stride and padding whose two parts always differ, on non-square inputs."""
    cases = []
    for i in range(6):
        n, c, f = batch(rng)
        kh, kw = rng.choice(np.arange(1, 6), size=2, replace=False).tolist()
        sh, sw = rng.choice(np.arange(1, 4), size=2, replace=False).tolist()
        ph, pw = rng.choice(np.arange(0, 3), size=2, replace=False).tolist()
        if i < 2:  # stride 1 on the axis with the larger padding: a slip in the size formula always shows there
            sh, sw = (1, max(sh, sw, 2)) if ph > pw else (max(sh, sw, 2), 1)
        h, w = ints(rng, 10, 13, 1)[0], ints(rng, 14, 18, 1)[0]  # at least two rows and columns of output
        if rng.random() < 0.5:
            h, w = w, h
        cases.append(("(h, w) stride and padding whose parts differ, a non-square input and kernel",
                      (n, c, h, w), (f, c, kh, kw), True, (sh, sw), (ph, pw)))
    run_cases(student, reference, rng, spec, cases)


def test_forward_edge_cases(student, reference, rng, spec):
    """One case of each edge: big strides, 1x1 kernels, no bias, 1x1 outputs, wide padding, N = C = F = 1."""
    cases = []
    n, c, f = batch(rng)
    k = ints(rng, 2, 3, 1)[0]
    s = k + ints(rng, 1, 2, 1)[0]
    cases.append(("a stride larger than the kernel", (n, c, *ints(rng, 8, 14)), (f, c, k, k), True, s, 1))
    n, c, f = batch(rng)
    cases.append(("a 1x1 kernel with stride 2 and padding 1", (n, c, *ints(rng, 3, 9)), (f, c, 1, 1), True, 2, 1))
    n, c, f = batch(rng)
    cases.append(("a 1x1 kernel, stride 1, no padding", (n, c, *ints(rng, 3, 9)), (f, c, 1, 1), True, 1, 0))
    n, c, f = batch(rng)
    cases.append(("no bias (b=None)", (n, c, *ints(rng, 4, 9)), (f, c, 3, 3), False, 1, 1))
    n, c, f = batch(rng)
    h, w = ints(rng, 2, 6)
    cases.append(("a kernel as large as the padded input (a 1x1 output)", (n, c, h, w), (f, c, h + 2, w + 2), True, 1, 1))
    n, c, f = batch(rng)
    k = ints(rng, 1, 3, 1)[0]
    cases.append(("padding wider than the kernel", (n, c, *ints(rng, 2, 6)), (f, c, k, k + 1), True, 1, k + 2))
    cases.append(("a single image, one channel, one filter", (1, 1, *ints(rng, 4, 9)), (1, 1, 3, 2), True, 1, 1))
    run_cases(student, reference, rng, spec, cases)


def test_speed(student, reference, rng, spec):
    """conv2d_forward on a real batch, timed by the judge around the call (the data's round trip included),
    against a budget that grows with the reference's time measured here right before and after."""
    p = spec.parameter
    n, c, size, f, k = (p(name) for name in ("speed_batch", "speed_channels", "speed_size", "speed_filters",
                                              "speed_kernel"))
    floor, factor, transfer = p("speed_floor_seconds"), p("speed_factor"), p("speed_transfer_seconds")
    x, w, b = rng.normal(size=(n, c, size, size)), rng.normal(size=(f, c, k, k)), rng.normal(size=f)
    setting = (f"a batch of {n} {c}x{size}x{size} images with {f} {k}x{k} filters, stride 1, padding {k // 2}")

    def reference_seconds() -> float:
        return timed_reference()[1]

    def timed_reference() -> tuple[np.ndarray, float]:
        start = time.perf_counter()
        out = reference.conv2d_forward(x, w, b, 1, k // 2)
        return out, time.perf_counter() - start

    def budget(reference_time: float) -> float:
        return max(floor, factor * reference_time) + transfer

    def explain(seconds: float | str, reference_time: float) -> str:
        took = f"{seconds:.2f} s" if isinstance(seconds, float) else seconds
        return (f"conv2d_forward took {took} on {setting}; the budget is {budget(reference_time):.2f} s "
                f"(the larger of {floor:g} s and {factor:g} x the reference's {reference_time:.3f} s, plus {transfer:g} s "
                "for moving the data). A Python loop over output positions is too slow: let NumPy do the loops "
                "(for example one matrix product per kernel tap, or sliding_window_view with einsum or tensordot)")

    # The reference timed twice (the faster counts); its first run's output is the expected one. When its first
    # time is under the floor's share, a second could only lower it, and the floor decides the budget either way.
    expected, first_time = timed_reference()
    before = first_time if factor * first_time <= floor else min(first_time, reference_seconds())
    m, one, part, margin = (p(name) for name in ("speed_probe_batch", "speed_one_batch", "speed_part_batch",
                                                 "speed_margin"))
    # One image, then a part of the batch stopped where the whole batch, extrapolated from the two times, would
    # take more than `margin` budgets: a line t(i) = c + r i through both, so a part past its cut means
    #     t(batch) > cut + (batch - part) / (part - one) * (cut - t(one)) = margin * budget.
    # The fixed cost c is measured, not assumed: a submission slow to start but quick per image goes on. A loop
    # over output positions is past the cut there, and fails in about a quarter of the budget's time.
    try:
        first = student.call("conv2d_forward", x[:one], w, b, 1, k // 2, within=budget(before))
    except StudentTimeout:
        first = None
        took = f"more than {budget(before):.2f} s on {one} image alone (stopped there), so more than that"
    if first is not None:
        slope = (n - part) / (part - one)
        cut = (margin * budget(before) + slope * first.seconds) / (1 + slope)
        try:
            probe = student.call("conv2d_forward", x[:part], w, b, 1, k // 2, within=cut)
        except StudentTimeout:
            probe = None
            took = (f"{first.seconds:.3f} s on {one} image and more than {cut:.2f} s on {part} (stopped there): at "
                    f"that rate more than {margin * budget(before):.2f} s ({margin:g} x the budget)")
    if first is None or probe is None:
        reference_time = max(before, reference_seconds())
        if budget(reference_time) <= budget(before):  # not a machine that slowed down meanwhile
            raise AssertionError(explain(took, reference_time))
        # the machine slowed down: the whole batch's timing below decides
    else:
        # Credit goes to a correct output only: the first images' output is checked here (a wrong forward pass is
        # named on m images, whose catalogue is cheap to match), without timing the batch. Each image's output
        # depends on that image alone, so the whole batch's first m images are the expected ones.
        head = probe.value[:m] if isinstance(probe.value, np.ndarray) and probe.value.ndim else probe.value
        common.check_output(head, expected[:m], reference.conv2d_forward,
                            (x[:m], w, b, 1, k // 2), spec,
                            f"the speed check is credited for a correct output only; conv2d_forward on the first {m} "
                            f"images of {setting}")
    reference_time = before
    best, checked = None, False
    for attempt in (1, 2):  # a second try only for a time near the budget: a busy machine is not the student's fault
        # A call past twice the budget fails whatever else happens (no second try for it), so it is stopped
        # there, unless the reference, timed again, shows the machine slowed down meanwhile: then one more try.
        cut = 2 * budget(reference_time)
        try:
            result = student.call("conv2d_forward", x, w, b, 1, k // 2, within=cut)
        except StudentTimeout:
            reference_time = max(reference_time, reference_seconds())
            if attempt == 1 and cut < 2 * budget(reference_time):
                continue
            raise AssertionError(explain(f"more than {cut:.2f} s (stopped there)", reference_time)) from None
        if not checked:
            common.check_output(result.value, expected, reference.conv2d_forward, (x, w, b, 1, k // 2), spec,
                                f"the speed check is credited for a correct output only; conv2d_forward on {setting}")
            checked = True
        best = result.seconds if best is None else min(best, result.seconds)
        if best <= budget(reference_time):  # the reference timed again could only raise the budget
            break
        reference_time = max(reference_time, reference_seconds())
        if best <= budget(reference_time) or best > 2 * budget(reference_time):
            break
    assert best <= budget(reference_time), explain(best, reference_time)

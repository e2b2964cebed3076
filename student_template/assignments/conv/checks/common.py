"""Helpers shared by the conv checks (loaded with grader.testing.load_sibling): the mistakes
students make, computed in the judge, and how to tell which one an output matches."""

from __future__ import annotations

import numpy as np

from grader.testing import BadResult, as_array, assert_close, load_mistakes, matching_mistake, one_by_one  # noqa: F401 - the checks use them as <module>.<name>

mistakes = load_mistakes(__file__)


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


# ------------------------------------------------------------------------ the mistakes students make

def size_mistakes(h, w, kernel, stride, padding):
    """(what the student did, the (H', W') it gives) for the classic slips in the size formula."""
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel), pair(stride), pair(padding)

    def sizes(rule, k=(kh, kw), s=(sh, sw), p=(ph, pw)):
        return rule(h, k[0], s[0], p[0]), rule(w, k[1], s[1], p[1])

    yield ("the ceiling of (H + 2p - k) / s instead of its floor: a window that would run past the padded "
           "input does not count, so use floor division //", sizes(lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1))
    yield ("the padding counted once (H + p - k): zeros are added on both sides, so it is H + 2p - k",
           sizes(lambda n, k, s, p: (n + p - k) // s + 1))
    yield "the + 1 left out: the first window sits at position 0", sizes(lambda n, k, s, p: (n + 2 * p - k) // s)
    yield ("the padding ignored", sizes(lambda n, k, s, p: (n - k) // s + 1))
    right = sizes(lambda n, k, s, p: (n + 2 * p - k) // s + 1)
    yield "(W', H'): the two sizes in the wrong order", (right[1], right[0])
    yield ("the (h, w) pairs read the other way round (the first number of a pair is for the height)",
           sizes(lambda n, k, s, p: (n + 2 * p - k) // s + 1, (kw, kh), (sw, sh), (pw, ph)))


def output_mistakes(conv, x, w, b, stride, padding):
    """(what the student did, a thunk giving what that produces): an array, or a shape for shape-only slips.
    ``conv`` is the reference or PyTorch; every alternative is computed here, never taken from the student.
    The mistakes of ``mistakes.CATALOGUE`` (a flipped kernel, all the padding below and to the right) are
    not here: ``catalogue_hint`` names them first."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    n, f = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    size = tuple(x.shape[2 + i] + 2 * (ph, pw)[i] - (kh, kw)[i] for i in (0, 1))  # H + 2p - k, W + 2p - k
    right = (size[0] // sh + 1, size[1] // sw + 1)
    yield ("an output size from the ceiling of (H + 2p - k) / s; it is the floor, floor((H + 2p - k) / s) + 1",
           (n, f, -(-size[0] // sh) + 1, -(-size[1] // sw) + 1))
    yield ("an output size with the padding counted once, floor((H + p - k) / s) + 1 (zeros go on both sides)",
           (n, f, (size[0] - ph) // sh + 1, (size[1] - pw) // sw + 1))
    yield "the layout (N, H', W', F); the output is (N, F, H', W')", (n, right[0], right[1], f)
    if kh > 1 and kw > 1:
        yield "the kernel flipped upside down (its rows reversed)", lambda: conv(x, w[:, :, ::-1, :], b, stride, padding)
        yield "the kernel flipped left to right (its columns reversed)", lambda: conv(x, w[:, :, :, ::-1], b, stride, padding)
    if ph or pw:
        def padded(top, bottom, left, right):
            return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
        where = "zero padding on the bottom and right only ({} there, none on the top and left); pad p on all four sides"
        yield (where.format("p"), lambda: conv(padded(0, ph, 0, pw), w, b, stride, 0))
        where = "zero padding on the top and left only ({} there, none on the bottom and right); pad p on all four sides"
        yield (where.format("2p"), lambda: conv(padded(2 * ph, 0, 2 * pw, 0), w, b, stride, 0))
        yield (where.format("p"), lambda: conv(padded(ph, 0, pw, 0), w, b, stride, 0))
        yield ("no zero padding at all", lambda: conv(x, w, b, stride, 0))
    if b is not None:
        yield ("a convolution without the bias: add bias f to every output of filter f",
               lambda: conv(x, w, None, stride, padding))
        yield ("the bias added along the last axis (out + b lines b up with the columns): add bias f to filter f's "
               "outputs, for example out + b.reshape(1, F, 1, 1)", lambda: conv(x, w, None, stride, padding) + b)
    if sh != sw:
        yield ("the stride pair read the other way round (its first number is the step down the rows)",
               lambda: conv(x, w, b, (sw, sh), padding))
        yield ("the first number of the stride pair used for both directions", lambda: conv(x, w, b, (sh, sh), padding))
        yield ("the second number of the stride pair used for both directions", lambda: conv(x, w, b, (sw, sw), padding))
    if ph != pw:
        yield ("the padding pair read the other way round (its first number is for the top and bottom)",
               lambda: conv(x, w, b, stride, (pw, ph)))
    if sh > 1 or sw > 1:
        yield ("stride 1: the stride was ignored", lambda: conv(x, w, b, 1, padding))


def catalogue_hint(got: np.ndarray, expected: np.ndarray, inputs: tuple, tol) -> str | None:
    """"your values match <description>" for the first entry of ``mistakes.CATALOGUE`` whose output on the
    student's ``inputs`` (x, w, b, stride, padding) is the student's output (its shape and values), else None.
    A mistake that changes nothing on these inputs (a flip of a 1x1 kernel, padding on one side when there
    is none) is not one the output can show: it is left out."""
    candidates = {}
    for description, wrong in mistakes.CATALOGUE["conv2d_forward"].items():
        try:
            made = wrong(*inputs)
        except ValueError:  # that mistake leaves no room for the kernel on these inputs
            continue
        if matching_mistake(made, {"the right output": expected}, tol) is None:
            candidates[description] = made
    return matching_mistake(got, candidates, tol)


def matching_mistakes(mistakes, got: np.ndarray, expected_shape: tuple, tol) -> list[str]:
    """The known mistakes the student's output matches (at most two): shape-only ones when the shape is
    wrong, then those whose output has the student's shape and values."""
    mistakes = list(mistakes)
    shapes = [what for what, made in mistakes if isinstance(made, tuple) and got.shape != expected_shape
              and got.shape == made]
    values = []
    for what, made in mistakes:
        if isinstance(made, tuple) or len(shapes) + len(values) >= 2:
            continue
        try:
            alternative = made()
        except (ValueError, RuntimeError):  # that mistake leaves no room for the kernel: it is not this one
            continue
        if alternative.shape == got.shape and np.allclose(got, alternative, rtol=tol.rtol, atol=tol.atol):
            values.append(what)
    return (shapes + values)[:2]


# ------------------------------------------------------------------------ calls in one round trip


AXES = ("N (images)", "F (filters)", "H' (rows)", "W' (columns)")


def shape_problem(got: tuple, expected: tuple) -> str:
    """How two output shapes differ, without their sizes."""
    if len(got) != 4:
        return f"the output has {len(got)} dimensions; it should have 4, (N, F, H', W')"
    parts = [f"{AXES[i]} is {abs(g - e)} too {'large' if g > e else 'small'}"
             for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    return "the output has the wrong shape: " + ", ".join(parts)


def explain_mistakes(conv, inputs: tuple, got: np.ndarray, expected: np.ndarray, spec) -> str:
    """The catalogue's mistake the output matches ("; your values match ..."), else the other known ones,
    computed with ``conv`` (torch's in a visible check, the reference's in a hidden one) on ``inputs``."""
    hint = catalogue_hint(got, expected, inputs, spec.tolerance("mistake"))
    if hint:
        return f"; {hint}"
    found = matching_mistakes(output_mistakes(conv, *inputs), got, expected.shape, spec.tolerance("mistake"))
    return "".join(f". {'Your output matches' if i == 0 else 'It also matches'} {what}" for i, what in enumerate(found))


def check_output(value, expected, conv, inputs: tuple, spec, what: str, *, reveal: bool = False) -> None:
    """The output must have the expected shape and values; if not, name the known mistake it matches, computed
    with ``conv`` on ``inputs``, the call's (x, w, b, stride, padding). ``reveal`` (visible checks): the
    shapes and values themselves are shown; else only how they differ."""
    got = as_array(value, f"{what}: the output")
    if got.shape != expected.shape:
        problem = (f"{what}: the output has shape {got.shape}, expected {expected.shape}" if reveal
                   else f"{what}: {shape_problem(got.shape, expected.shape)}")
    else:
        try:
            assert_close(got, expected, spec.tolerance("forward"), what, reveal=reveal)
            return
        except AssertionError as exc:
            problem = str(exc)
    raise AssertionError(problem + explain_mistakes(conv, inputs, got, expected, spec))


def as_sizes(value, what: str, *, reveal: bool = False) -> tuple[int, int]:
    """conv2d_output_shape's result as a pair of ints; ``reveal`` (visible checks): the messages quote it."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise BadResult(f"{what} should return a pair (H', W')" + (f", got {value!r}" if reveal else ""))
    for v in value:
        if isinstance(v, float) and not v.is_integer():
            raise BadResult(f"{what} returned {tuple(value)}: sizes are whole numbers; use floor division //" if reveal
                            else f"{what} returned a size that is not a whole number; use floor division //")
        if isinstance(v, bool) or not isinstance(v, int):
            raise BadResult(f"{what} returned {tuple(value)}: the sizes should be ints (a shape for np.zeros)" if reveal
                            else f"{what} should return the sizes as ints (a shape for np.zeros)")
    return int(value[0]), int(value[1])

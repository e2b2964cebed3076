"""Hidden checks of the dropout assignment: the reference solution on secret inputs and generators, and the
lecture's two claims about dropout on a small over-parameterized network.

Messages say which case and what went wrong (and which known mistake it looks like), never the inputs or
the expected numbers. Every loss that decides a grade is computed here.
"""

from __future__ import annotations

import numpy as np

from grader.testing import (
    as_array,
    assert_close,
    figures,
    hint_on_failure,
    load_mistakes,
    load_sibling,
    safe_messages,
    value_hint,
)

# Read for hidden values: these checks' messages name cases, elements, steps, relative errors and the
# spec's public settings, never a secret input, a loss or an expected number.
pytestmark = safe_messages

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)

# ------------------------------------------------------------------------------------------ values

SHAPES = ("a vector (n,)", "a batch of hidden units (N, H)", "feature maps (N, C, H, W)")


def random_case(rng, i: int):
    """Case i: a shape of each kind, p below and above 0.5 (keeping with probability p would show), 0 and 1,
    and evaluation."""
    kind = i % 3
    shape = [(int(rng.integers(1, 200)),), (int(rng.integers(1, 33)), int(rng.integers(1, 65))),
             tuple(int(d) for d in rng.integers(1, 6, size=4))][kind]
    p = [float(rng.uniform(0.05, 0.45)), float(rng.uniform(0.55, 0.95)), 0.0, 1.0, 0.5][i % 5]
    train = i % 7 != 6
    x = rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 3)
    label = f"case {i + 1} ({SHAPES[kind]}, {'p = 0' if p == 0 else 'p = 1' if p == 1 else 'p in (0, 1)'}, " \
            f"{'training' if train else 'evaluation'})"
    return x, p, train, int(rng.integers(2**63)), label


def test_forward_values(student, reference, rng, spec):
    """out and keep equal the reference's on 30 secret inputs, each call with a secretly seeded generator."""
    cases = [random_case(rng, i) for i in range(30)]
    gens = [np.random.default_rng(seed) for *_, seed, _ in cases]
    values = common.one_by_one(student.dropout_forward.stream(
        [((x, p, train, gen), {}) for (x, p, train, *_), gen in zip(cases, gens, strict=True)]))
    tol = spec.tolerance("values")
    for (x, p, train, _, label), gen, value in zip(cases, gens, values, strict=True):
        what = f"dropout_forward, {label}"
        out, keep = common.forward_result(value, x.shape, train, what)
        out_ref, keep_ref = reference.dropout_forward(x, p, train, common.clone(gen))
        with hint_on_failure(common.forward_hint, mistakes.CATALOGUE["dropout_forward"], out, x, p, train, gen,
                             spec.tolerance("mistake")):
            if train and not np.array_equal(keep, keep_ref):
                raise AssertionError(f"{what}: keep differs from rng.random(x.shape) >= p on {int(np.sum(keep != keep_ref))} "
                                     f"of {keep.size} units")
            assert_close(out, out_ref, tol, what)


def test_backward_values(student, reference, rng, spec):
    """dropout_backward equals the reference's on secret gradients, for the reference's masks, None and p = 1."""
    cases = []
    for i in range(20):
        x, p, train, seed, label = random_case(rng, i)
        _, keep = reference.dropout_forward(x, p, train, np.random.default_rng(seed))
        cases.append((rng.normal(size=x.shape) * 10.0 ** rng.uniform(-3, 3), keep, p, label))
    values = common.one_by_one(student.dropout_backward.stream([((d, k, p), {}) for d, k, p, _ in cases]))
    tol = spec.tolerance("values")
    for (dout, keep, p, label), value in zip(cases, values, strict=True):
        what = f"dropout_backward, {label}"
        got = as_array(value, what, dout.shape)
        with hint_on_failure(value_hint, mistakes.CATALOGUE["dropout_backward"], got, (dout, keep, p),
                             spec.tolerance("mistake")):
            assert_close(got, reference.dropout_backward(dout, keep, p), tol, what)


# ------------------------------------------------------------------ the lecture's demonstration


class Demonstration:
    """The lecture's demonstration, a small over-parameterized network: ``d`` inputs, one hidden layer of
    ``width`` ReLU units with dropout on them, one linear output; trained by full-batch Adam on ``n`` noisy
    points of y = sin(w · x) + noise for ``steps`` steps, from Kaiming initialization. The data and the
    initialization come from ``data_seed`` (the lecture's); ``validation`` more points measure the
    validation loss. Losses are mean squared errors in evaluation mode (every unit used)."""

    def __init__(self, data_seed: int, n: int, d: int, width: int, noise: float, steps: int, lr: float,
                 validation: int = 2000):
        g = np.random.default_rng(data_seed)
        w = g.normal(size=d)
        x, xv = g.normal(size=(n, d)), g.normal(size=(validation, d))
        self.x, self.y = x, np.sin(x @ w) + noise * g.normal(size=n)
        self.xv, self.yv = xv, np.sin(xv @ w) + noise * g.normal(size=validation)
        self.theta0 = [g.normal(size=(d, width)) * np.sqrt(2.0 / d), np.zeros(width),
                       g.normal(size=width) * np.sqrt(1.0 / width), np.zeros(())]
        self.steps, self.lr = steps, lr

    def loss(self, theta, x, y) -> float:
        w1, b1, w2, b2 = theta
        return float(np.mean((np.maximum(x @ w1 + b1, 0.0) @ w2 + b2 - y) ** 2))

    def train(self, dropout=None, every: int = 10):
        """Adam (bias-corrected, lr, betas 0.9 and 0.999) on the training MSE. ``dropout`` is a pair of arrays of
        shape (steps, n, width), the forward and backward multipliers of the hidden units at each step: the
        hidden units are h * forward[t], the gradient reaching h is the upstream one times backward[t]; ``None``
        trains without dropout. Returns the final θ (w1, b1, w2, b2) and the training and validation losses
        every ``every`` steps (evaluation mode)."""
        sizes = [t.size for t in self.theta0]
        flat = np.concatenate([t.ravel() for t in self.theta0])
        m, v, g = np.zeros_like(flat), np.zeros_like(flat), np.empty_like(flat)
        d, width = self.theta0[0].shape
        cut = np.cumsum(sizes)[:-1]
        w1, b1, w2, b2 = (part.reshape(t.shape) for part, t in zip(np.split(flat, cut), self.theta0, strict=True))
        g1, gb1, g2, gb2 = (part.reshape(t.shape) for part, t in zip(np.split(g, cut), self.theta0, strict=True))
        n = len(self.y)
        curve = []
        for t in range(1, self.steps + 1):
            a = self.x @ w1 + b1
            h = np.maximum(a, 0.0)
            forward, backward = (1.0, 1.0) if dropout is None else (dropout[0][t - 1], dropout[1][t - 1])
            hd = h * forward
            r = (hd @ w2 + b2 - self.y) * (2.0 / n)
            da = np.outer(r, w2) * backward * (a > 0)
            g1[...], gb1[...], g2[...], gb2[...] = self.x.T @ da, da.sum(axis=0), hd.T @ r, r.sum()
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            flat -= self.lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
            if t % every == 0 or t == self.steps:
                theta = (w1, b1, w2, b2)
                curve.append((t, self.loss(theta, self.x, self.y), self.loss(theta, self.xv, self.yv)))
        return [w1.copy(), b1.copy(), w2.copy(), b2.copy()], np.array(curve)


def demonstration(spec) -> Demonstration:
    return Demonstration(int(spec.parameter("demo_data_seed")), int(spec.parameter("demo_points")),
                         int(spec.parameter("demo_inputs")), int(spec.parameter("demo_width")),
                         float(spec.parameter("demo_noise")), int(spec.parameter("demo_steps")),
                         float(spec.parameter("demo_lr")))


def claims(curve_plain: np.ndarray, curve_drop: np.ndarray) -> tuple[float, float]:
    """(how much higher the final training loss is with dropout, how much smaller the generalization gap
    (validation minus training loss) is with dropout): the lecture's claims (a) and (b) hold when both > 0."""
    (_, train0, val0), (_, train1, val1) = curve_plain[-1], curve_drop[-1]
    return train1 - train0, (val0 - train0) - (val1 - train1)


_PLAIN: dict[tuple, np.ndarray] = {}


def plain_curve(demo: Demonstration, spec) -> np.ndarray:
    """The curve of the network trained without dropout: the lecture's, the same for every student, so
    computed once per judge process (a class graded in one batch pays for it once)."""
    key = tuple(spec.parameter(k) for k in ("demo_data_seed", "demo_points", "demo_inputs", "demo_width", "demo_noise",
                                            "demo_steps", "demo_lr"))
    if key not in _PLAIN:
        _PLAIN[key] = demo.train()[1]
    return _PLAIN[key]


def mask_seed(spec) -> int:
    """The seed of the generator that draws every step's mask: the lecture's, from ``demo_data_seed``."""
    return int(np.random.default_rng([int(spec.parameter("demo_data_seed")), 1]).integers(2**63))


def reference_masks(reference, shape: tuple[int, int, int], p: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The forward and backward multipliers of every step, shape (steps, n, width), from the reference: its
    dropout_forward on ones with a generator seeded with ``seed`` (one draw for all the steps, the same
    numbers as a draw per step from one generator), and its dropout_backward on ones with that keep. The
    check asks the student's functions the same."""
    ones = np.ones(shape)
    out, keep = reference.dropout_forward(ones, p, True, np.random.default_rng(seed))
    return out, reference.dropout_backward(ones, keep, p)


def test_dropout_generalizes(student, spec):
    """The lecture's two claims with the student's dropout: (a) the training loss is higher with dropout, (b) the
    validation loss comes closer to the training loss. The student's dropout_forward on ones of shape (steps, n,
    width) (its out: every step's multiplier of the hidden units) and dropout_backward on ones with that keep
    (the multiplier of their gradient) give the masks of the whole training in two calls; the training and
    every loss are computed here.

    Everything is the lecture's: the data, the initialization and the generator's seed (``mask_seed``), so a
    mistake costs every student the same, and a correct solution draws the masks on which the reference was
    verified (tools/dropout_demo.py)."""
    demo = demonstration(spec)
    p, steps = float(spec.parameter("demo_p")), demo.steps
    shape = (steps, len(demo.y), demo.theta0[1].size)
    plain = plain_curve(demo, spec)
    ones = np.ones(shape)
    what = f"dropout_forward(x of shape {shape}, p={p:g}, train=True, rng), the hidden units of every training step"
    outs, keeps = common.forward_result(student.dropout_forward(ones, p, True, np.random.default_rng(mask_seed(spec))),
                                        shape, True, what)
    grads = as_array(student.dropout_backward(ones, keeps, p), f"dropout_backward(dout, keep, p={p:g}) with that keep",
                     shape)
    if not (np.all(np.isfinite(outs)) and np.all(np.isfinite(grads))):
        raise AssertionError(f"dropout_forward or dropout_backward returned a value that is not finite (p = {p:g})")
    with np.errstate(all="ignore"):
        _, with_student = demo.train((outs, grads))
    steps_axis = plain[:, 0]
    labels = {"student": f"with your dropout (p = {p:g})", "reference": "without dropout"}
    figures.add("curve", f"training loss (evaluation mode) with your dropout (p = {p:g}) and without dropout: "
                "dropout makes it higher", public=True, x=steps_axis,
                student=with_student[:, 1], reference=plain[:, 1], xlabel="step", ylabel="training MSE", labels=labels)
    figures.add("curve", f"the generalization gap, validation minus training loss, with your dropout (p = {p:g}) "
                "and without dropout: smaller with dropout", public=True, x=steps_axis,
                student=with_student[:, 2] - with_student[:, 1], reference=plain[:, 2] - plain[:, 1], xlabel="step",
                ylabel="validation MSE - training MSE", labels=labels)
    higher, narrower = claims(plain, with_student)
    story = (f"a network with one hidden layer of {shape[2]} ReLU units trained on {shape[1]} noisy points for "
             f"{steps} Adam steps, with your dropout (p = {p:g}) on the hidden units and without dropout")
    assert np.isfinite(higher) and higher > 0, (
        f"{story}: the training loss with dropout should end higher than without (dropout helps generalization, "
        "not optimization), but with yours it does not")
    assert np.isfinite(narrower) and narrower > 0, (
        f"{story}: with dropout the validation loss should come closer to the training loss (a smaller gap) than "
        "without, but with yours the gap is not smaller")

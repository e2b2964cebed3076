"""Hidden checks of the normalization assignment: the reference solution on inputs from a secret seed,
and the lecture's demonstration, a deep network trained with the student's batch normalization.

Messages say which case, which call and which element went wrong, never the inputs or the expected
numbers. Every kind of case is drawn for every student (a batch of 2, small-variance features, another
momentum and eps), so the same mistake costs every student the same.
"""

from __future__ import annotations

import numpy as np

from grader.testing import (
    as_array,
    assert_close,
    figures,
    load_mistakes,
    load_sibling,
    safe_messages,
)

# Read for hidden values: these checks' messages name cases, calls, shapes, elements, relative errors,
# the student's own final loss and the spec's threshold, never a secret input or an expected number
# (the kit's helpers with reveal=False).
pytestmark = safe_messages

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)


def gamma_beta(rng, d: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(0.3, 3.0, size=d) * rng.choice([-1.0, 1.0], size=d), rng.normal(size=d) * 2


def random_state(rng, d: int) -> dict:
    return {"running_mean": rng.normal(size=d), "running_var": rng.uniform(0.2, 3.0, size=d)}


# ---------------------------------------------------------------------------- batch normalization


def bn_cases(rng):
    """(name, args, kwargs): training from {} and from a state, a batch of 2, another momentum and eps,
    evaluation from a state (with running variances near eps) and from {}."""
    def batch(n, d):
        return common.features(rng, n, d, small=min(2, d - 1))

    n, d = int(rng.integers(4, 40)), int(rng.integers(3, 12))
    yield f"training from {{}}, ({n}, {d})", (batch(n, d), *gamma_beta(rng, d), {}, True), {}
    n, d = int(rng.integers(4, 40)), int(rng.integers(3, 12))
    yield f"training from a state, ({n}, {d})", (batch(n, d), *gamma_beta(rng, d), random_state(rng, d), True), {}
    d = int(rng.integers(3, 12))
    yield f"training on a batch of 2, (2, {d})", (batch(2, d), *gamma_beta(rng, d), random_state(rng, d), True), {}
    n, d = int(rng.integers(4, 40)), int(rng.integers(3, 12))
    kwargs = {"momentum": float(rng.uniform(0.02, 0.5)), "eps": float(rng.choice([1e-3, 1e-4]))}
    yield f"training with another momentum and eps, ({n}, {d})", (batch(n, d), *gamma_beta(rng, d), random_state(rng, d), True), kwargs
    n, d = int(rng.integers(1, 20)), int(rng.integers(3, 12))
    state = random_state(rng, d)
    state["running_var"][rng.permutation(d)[:2]] = rng.uniform(1e-5, 1e-4, size=2)
    yield f"evaluation from a state, ({n}, {d})", (batch(max(n, 2), d)[:n], *gamma_beta(rng, d), state, False), {}
    n, d = int(rng.integers(1, 20)), int(rng.integers(3, 12))
    yield f"evaluation from {{}}, ({n}, {d})", (batch(max(n, 2), d)[:n], *gamma_beta(rng, d), {}, False), {}


def test_batchnorm_forward_values(student, reference, rng, spec):
    """out and the state returned, against the reference, on every kind of secret call."""
    tol, running = spec.tolerance("values"), spec.tolerance("running")
    cases = list(bn_cases(rng))
    results = common.values(student.batchnorm_forward, [(args, kwargs) for _, args, kwargs in cases])
    catalogue = mistakes.CATALOGUE["batchnorm_forward"]
    for i, ((name, args, kwargs), result) in enumerate(zip(cases, results, strict=True), 1):
        what = f"batchnorm_forward, case {i} of {len(cases)} ({name})"
        x, state, train = args[0], args[3], args[4]
        out, new = common.as_bn_result(result, what, x.shape, allow_empty=not train and not state)
        out_ref, new_ref = reference.batchnorm_forward(*args, **kwargs)
        full = (*args, kwargs.get("momentum", 0.1), kwargs.get("eps", 1e-5))
        with common.hinted(common.part(catalogue, lambda r: r[0]), out, full, spec.tolerance("mistake")):
            assert_close(out, out_ref, tol, f"out from {what}")
        if not new_ref:
            if new and not (np.array_equal(new["running_mean"], np.zeros(x.shape[1]))
                            and np.array_equal(new["running_var"], np.ones(x.shape[1]))):
                raise AssertionError(f"{what}: the state returned should be {{}} (or the defaults): evaluation "
                                     "does not update the running statistics")
            continue
        for key in ("running_mean", "running_var"):
            with common.hinted(common.part(catalogue, lambda r, k=key: r[1][k]), new[key], full,
                               spec.tolerance("mistake")):
                assert_close(new[key], new_ref[key], running, f"state[{key!r}] from {what}")


def test_running_statistics_values(student, reference, rng, spec):
    """A sequence of training and evaluation calls, each given the state the student's previous call
    returned: out and the running statistics after every call against the reference's own sequence."""
    tol, running = spec.tolerance("values"), spec.tolerance("running")
    catalogue = mistakes.CATALOGUE["batchnorm_forward"]
    for seq in (1, 2):
        n, d = int(rng.integers(3, 24)), int(rng.integers(2, 9))
        g, b = gamma_beta(rng, d)
        kwargs = {} if seq == 1 else {"momentum": float(rng.uniform(0.05, 0.5))}
        trains = [True, True, False, True, True, False, True, False]
        state, state_ref = {}, {}
        shift = rng.normal(size=d) * 3
        for t, train in enumerate(trains, 1):
            x = common.features(rng, n, d, small=1) * float(rng.uniform(0.5, 3)) + shift
            what = (f"batchnorm_forward, call {t} of {len(trains)} of sequence {seq} ("
                    f"{'training' if train else 'evaluation'}, ({n}, {d}))")
            given = dict(state)
            out, state = common.as_bn_result(student.batchnorm_forward(x, g, b, state, train, **kwargs), what,
                                             x.shape, allow_empty=not state)
            out_ref, state_ref = reference.batchnorm_forward(x, g, b, state_ref, train, **kwargs)
            full = (x, g, b, given, train, kwargs.get("momentum", 0.1))
            with common.hinted(common.part(catalogue, lambda r: r[0]), out, full, spec.tolerance("mistake")):
                assert_close(out, out_ref, tol, f"out from {what}")
            if not state_ref:
                continue
            if not state:
                raise AssertionError(f"{what} returned an empty state after a training call")
            for key in ("running_mean", "running_var"):
                with common.hinted(common.part(catalogue, lambda r, k=key: r[1][k]), state[key], full,
                                   spec.tolerance("mistake")):
                    assert_close(state[key], state_ref[key], running, f"state[{key!r}] from {what}")


# ---------------------------------------------------------------------------- layer normalization


def ln_shapes(rng):
    d = lambda: int(rng.integers(2, 17))  # noqa: E731
    yield (int(rng.integers(2, 20)), d())
    yield (int(rng.integers(1, 5)), int(rng.integers(2, 7)), d())
    yield (d(),)
    yield (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 4)), d())


def test_layernorm_forward_values(student, reference, rng, spec):
    """layernorm_forward on secret arrays of 0 to 3 leading axes, with small-variance examples."""
    tol = spec.tolerance("values")
    cases = []
    for i, shape in enumerate(ln_shapes(rng)):
        x = common.examples(rng, shape, small=1 if len(shape) == 1 else 2)
        kwargs = {"eps": float(rng.choice([1e-3, 1e-4]))} if i == 1 else {}
        cases.append((x, *gamma_beta(rng, shape[-1]), kwargs))
    results = common.values(student.layernorm_forward, [((x, g, b), kw) for x, g, b, kw in cases])
    for i, ((x, g, b, kw), result) in enumerate(zip(cases, results, strict=True), 1):
        what = f"layernorm_forward, case {i} of {len(cases)} (shape {x.shape})"
        got = as_array(result, what, x.shape)
        full = (x, g, b, kw.get("eps", 1e-5))
        with common.hinted(mistakes.CATALOGUE["layernorm_forward"], got, full, spec.tolerance("mistake")):
            assert_close(got, reference.layernorm_forward(x, g, b, **kw), tol, what)


# ---------------------------------------------------------------------------------- backward passes


def check_backward(student_fn, reference_fn, name: str, cases, spec, catalogue):
    tol = spec.tolerance("gradients")
    results = common.values(student_fn, [((dout, x, g), kw) for dout, x, g, kw in cases])
    for i, ((dout, x, g, kw), result) in enumerate(zip(cases, results, strict=True), 1):
        what = f"{name}, case {i} of {len(cases)} (shape {x.shape})"
        full = (dout, x, g, kw.get("eps", 1e-5))
        d = x.shape[-1]
        got = common.as_grads(result, what, (x.shape, (d,), (d,)), catalogue, full, spec.tolerance("mistake"))
        for j, (part_name, mine, theirs) in enumerate(zip(common.GRAD_PARTS, got, reference_fn(*full), strict=True)):
            with common.hinted(common.part(catalogue, lambda r, j=j: r[j]), mine, full, spec.tolerance("mistake")):
                assert_close(mine, theirs, tol, f"{part_name} from {what}")


def test_batchnorm_backward_values(student, reference, rng, spec):
    """dx, dgamma and dbeta on secret batches: a batch of 2, small-variance features, another eps."""
    cases = []
    for n, kw in ((int(rng.integers(3, 40)), {}), (2, {}), (int(rng.integers(3, 40)), {"eps": 1e-3})):
        d = int(rng.integers(2, 12))
        cases.append((rng.normal(size=(n, d)) * float(rng.uniform(0.3, 3)), common.features(rng, n, d, min(2, d - 1)),
                      gamma_beta(rng, d)[0], kw))
    check_backward(student.batchnorm_backward, reference.batchnorm_backward, "batchnorm_backward", cases, spec,
                   mistakes.CATALOGUE["batchnorm_backward"])


def test_layernorm_backward_values(student, reference, rng, spec):
    """dx, dgamma and dbeta on secret arrays of 1 to 3 leading axes, small-variance examples included."""
    cases = []
    for i, shape in enumerate(s for s in ln_shapes(rng) if len(s) > 1):
        x = common.examples(rng, shape, small=2)
        cases.append((rng.normal(size=shape), x, gamma_beta(rng, shape[-1])[0], {"eps": 1e-3} if i == 2 else {}))
    check_backward(student.layernorm_backward, reference.layernorm_backward, "layernorm_backward", cases, spec,
                   mistakes.CATALOGUE["layernorm_backward"])


# --------------------------------------------------------------------- the lecture's demonstration

DEMO_PUBLIC_SEED = 20240521  # the lecture's data set, drawn (and its curves shown) the same for everyone


def demo_problem(rng, n: int, d: int, decades: tuple[float, float], width: int, depth: int):
    """Badly scaled inputs (feature scales and means from 10^lo to 10^hi), targets of variance 1 from a
    random tanh network of the standardized inputs, and Kaiming-initialized weights [(W, b), ...]."""
    scales = np.logspace(decades[0], decades[1], d)
    rng.shuffle(scales)
    z = rng.standard_normal((n, d))
    w, v = rng.standard_normal((d, 16)) / np.sqrt(d), rng.standard_normal(16) / 4
    y = np.tanh(z @ w) @ v
    y = (y - y.mean()) / y.std()
    x = z * scales + rng.normal(size=d) * scales
    sizes = [d] + [width] * depth + [1]
    layers = [(rng.standard_normal((o, i)) * np.sqrt((2.0 if k < depth else 1.0) / i), np.zeros(o))
              for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))]
    return x, y, layers


def train(problems, steps: int, lr: float, forward, backward, normalize: bool) -> np.ndarray:
    """Full-batch gradient descent on the MSE of each problem's network, side by side: inputs -> [batch
    normalization] -> (Linear -> [batch normalization] -> ReLU) x depth -> Linear. ``forward(calls)`` and
    ``backward(calls)`` run a batch of batchnorm_forward / batchnorm_backward calls (one per network) and
    return their results; everything else, every loss included, is computed here. The losses, shape
    (networks, steps + 1); a network whose loss stops being finite keeps inf from there."""
    k = len(problems)
    nets = [[(w.copy(), b.copy()) for w, b in layers] for _, _, layers in problems]
    depth = len(nets[0]) - 1
    affine = [[(np.ones(problems[0][0].shape[1]), np.zeros(problems[0][0].shape[1]))]
              + [(np.ones(w.shape[0]), np.zeros(w.shape[0])) for w, _ in net[:-1]] for net in nets]
    states = [[{} for _ in range(depth + 1)] for _ in range(k)]
    losses = np.full((k, steps + 1), np.inf)
    alive = list(range(k))

    def bn(layer, inputs):  # one batch normalization layer of every live network, in one request
        results = forward([((inputs[j], *affine[j][layer], states[j][layer], True), {}) for j in alive])
        out = {}
        for j, result in zip(alive, results, strict=True):
            value, states[j][layer] = common.as_bn_result(result, f"batchnorm_forward at layer {layer} during "
                                                          "training", inputs[j].shape)
            out[j] = value
        return out

    for t in range(steps + 1):
        a = {j: problems[j][0] for j in alive}
        if normalize:
            a = bn(0, a)
        caches = {j: [] for j in alive}
        for layer in range(depth):
            z = {j: a[j] @ nets[j][layer][0].T + nets[j][layer][1] for j in alive}
            zn = bn(layer + 1, z) if normalize else z
            for j in alive:
                caches[j].append((a[j], z[j], zn[j]))
            a = {j: np.maximum(zn[j], 0.0) for j in alive}
        residual = {}
        for j in list(alive):
            w, b = nets[j][-1]
            residual[j] = (a[j] @ w.T)[:, 0] + b[0] - problems[j][1]
            losses[j, t] = float(np.mean(residual[j] ** 2))
            if not np.isfinite(losses[j, t]):
                losses[j, t:] = np.inf
                alive.remove(j)
        if t == steps or not alive:
            break
        grads = {j: [] for j in alive}
        daffine = {j: [] for j in alive}
        da = {}
        for j in alive:
            w = nets[j][-1][0]
            dout = (2.0 / len(residual[j])) * residual[j][:, None]
            grads[j].append((dout.T @ a[j], dout.sum(0)))
            da[j] = dout @ w
        for layer in reversed(range(depth)):
            dzn = {j: da[j] * (caches[j][layer][2] > 0) for j in alive}
            if normalize:
                results = backward([((dzn[j], caches[j][layer][1], affine[j][layer + 1][0]), {}) for j in alive])
                dz = {}
                for j, result in zip(alive, results, strict=True):
                    dz[j], dg, db = common.as_grads(result, f"batchnorm_backward at layer {layer + 1} during training",
                                                    (dzn[j].shape, dg_shape(dzn[j]), dg_shape(dzn[j])))
                    daffine[j].append((dg, db))
            else:
                dz = dzn
            for j in alive:
                a_in = caches[j][layer][0]
                grads[j].append((dz[j].T @ a_in, dz[j].sum(0)))
                da[j] = dz[j] @ nets[j][layer][0]
        if normalize:
            results = backward([((da[j], problems[j][0], affine[j][0][0]), {}) for j in alive])
            for j, result in zip(alive, results, strict=True):
                _, dg, db = common.as_grads(result, "batchnorm_backward at the inputs during training",
                                            (da[j].shape, dg_shape(da[j]), dg_shape(da[j])))
                daffine[j].append((dg, db))
        for j in alive:
            nets[j] = [(w - lr * gw, b - lr * gb) for (w, b), (gw, gb) in zip(nets[j], grads[j][::-1], strict=True)]
            if normalize:
                affine[j] = [(g - lr * dg, b - lr * db)
                             for (g, b), (dg, db) in zip(affine[j], daffine[j][::-1], strict=True)]
    return losses


def dg_shape(a: np.ndarray) -> tuple[int]:
    return (a.shape[1],)


def demo_settings(spec) -> dict:
    p = spec.parameter
    return {"n": int(p("demo_samples")), "d": int(p("demo_features")), "decades": (float(p("demo_scale_low")), float(p("demo_scale_high"))),
            "width": int(p("demo_width")), "depth": int(p("demo_depth"))}


def demo_problems(rng, spec) -> list:
    """The lecture's public data set first, then secret ones: ``demo_networks`` in all."""
    settings = demo_settings(spec)
    public = demo_problem(np.random.default_rng(DEMO_PUBLIC_SEED), **settings)
    return [public] + [demo_problem(rng, **settings) for _ in range(int(spec.parameter("demo_networks")) - 1)]


def plain_lrs(spec) -> list[float]:
    return [float(lr) for lr in spec.parameter("demo_plain_lrs")]


def plain_losses(problems, spec) -> np.ndarray:
    """Each network trained without normalization, at the best learning rate of ``demo_plain_lrs`` (its
    losses at the lr whose final loss is lowest)."""
    steps = int(spec.parameter("demo_steps"))
    runs = [train(problems, steps, lr, None, None, normalize=False) for lr in plain_lrs(spec)]
    stacked = np.stack(runs)  # (lrs, networks, steps + 1)
    best = np.argmin(stacked[:, :, -1], axis=0)
    return stacked[best, np.arange(len(problems))]


def test_normalization_trains_faster(student, rng, spec):
    """The lecture's demonstration: badly scaled inputs, a deep ReLU network, plain gradient descent. With
    the student's batch normalization (of the inputs and after every hidden linear layer) the training loss
    must fall below ``max_final_mse`` in ``demo_steps`` steps; without normalization it stays above 0.8
    at every learning rate tried. The student's functions run only as the normalization layers."""
    steps, lr, threshold = int(spec.parameter("demo_steps")), float(spec.parameter("demo_lr")), spec.parameter("max_final_mse")
    problems = demo_problems(rng, spec)

    def forward(calls):
        return list(common.values(student.batchnorm_forward, calls))

    def backward(calls):
        return list(common.values(student.batchnorm_backward, calls))

    with np.errstate(all="ignore"):
        losses = train(problems, steps, lr, forward, backward, normalize=True)
    final = losses[:, -1]
    with np.errstate(all="ignore"):
        plain = plain_losses(problems[:1], spec)[0]
    figures.add("curve", "The lecture's data set: training loss (MSE) with your batch normalization and "
                "without normalization at its best learning rate", public=True,
                x=np.arange(steps + 1), student=losses[0], reference=plain, xlabel="step of gradient descent",
                ylabel="training loss (MSE)",
                labels={"student": "with your batch normalization", "reference": "without normalization"})
    if np.all(final <= threshold):
        return
    which = "the lecture's data set" if final[0] > threshold else "a secret data set"
    j = 0 if final[0] > threshold else int(np.argmax(final > threshold))
    ended = "diverged (the loss is no longer finite)" if not np.isfinite(final[j]) else f"ended at a loss of {final[j]:.3g}"
    raise AssertionError(
        f"a network with your batch normalization of the inputs and after each of its {demo_settings(spec)['depth']} "
        f"hidden layers, trained by full-batch gradient descent (lr {lr:g}, {steps} steps) on {which} of badly "
        f"scaled inputs, {ended}; with a correct batch normalization it ends below {threshold:g} (the same network "
        "without normalization stays above 0.8 at every learning rate tried). Check the training-mode forward pass and "
        "every output of batchnorm_backward")

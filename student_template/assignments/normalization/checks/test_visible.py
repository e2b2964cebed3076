"""Visible checks of the normalization assignment: PyTorch as the oracle, central differences, properties.

Students may run these with ``grader check normalization``; their inputs are fixed or come from a
public seed. Every expected value is computed here, in the judge, with PyTorch in float64
(``torch.nn.functional.batch_norm`` and ``layer_norm``, autograd), and remembered (``oracle``).

Where eps sits shows only when a variance is near eps, so every batch has features (every array has
examples) of scale 0.01 or 0.003, and the tolerances (assignment.toml) are far below the relative
5e-6 that eps outside the square root makes at unit variance.
"""

from __future__ import annotations

import numpy as np

from grader.testing import (
    as_array,
    assert_close,
    assert_gradient_close,
    assert_unchanged,
    expect_raises,
    lazy_torch,
    load_mistakes,
    load_sibling,
    numerical_grad,
    oracle,
)

torch = lazy_torch()  # imported only when an oracle's value is not in the cache yet

common = load_sibling(__file__, "common")
mistakes = load_mistakes(__file__)

# ------------------------------------------------------------------------------ PyTorch oracles


def _t(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)


@oracle
def torch_batchnorm(x, gamma, beta, running_mean, running_var, train, momentum, eps):
    """F.batch_norm's output and the running statistics it leaves (updated in place in training)."""
    rm, rv = _t(running_mean), _t(running_var)
    out = torch.nn.functional.batch_norm(_t(x), rm, rv, _t(gamma), _t(beta), train, momentum, eps)
    return out.numpy(), rm.numpy(), rv.numpy()


@oracle
def torch_batchnorm_grads(dout, x, gamma, beta, eps):
    """Autograd's dx, dgamma, dbeta of sum(dout * F.batch_norm(x, training=True))."""
    xt, gt, bt = (_t(a).requires_grad_() for a in (x, gamma, beta))
    out = torch.nn.functional.batch_norm(xt, None, None, gt, bt, True, 0.1, eps)
    (out * _t(dout)).sum().backward()
    return xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


@oracle
def torch_layernorm(x, gamma, beta, eps):
    return torch.nn.functional.layer_norm(_t(x), (x.shape[-1],), _t(gamma), _t(beta), eps).numpy()


@oracle
def torch_layernorm_grads(dout, x, gamma, beta, eps):
    """Autograd's dx, dgamma, dbeta of sum(dout * F.layer_norm(x))."""
    xt, gt, bt = (_t(a).requires_grad_() for a in (x, gamma, beta))
    out = torch.nn.functional.layer_norm(xt, (x.shape[-1],), gt, bt, eps)
    (out * _t(dout)).sum().backward()
    return xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


def _bn_stack(xs: np.ndarray, eps: float) -> np.ndarray:
    """x_hat of F.batch_norm (training) for a stack of batches (k, N, D): the k batches side by side as
    k * D features of one batch (N, k D), which batch_norm normalizes one by one."""
    k, n, d = xs.shape
    flat = torch.nn.functional.batch_norm(_t(xs.transpose(1, 0, 2).reshape(n, k * d)), None, None, None, None,
                                          True, 0.1, eps)
    return flat.numpy().reshape(n, k, d).transpose(1, 0, 2)


@oracle
def torch_batchnorm_numerical(dout, x, gamma, beta, eps):
    """Central differences (h = 1e-6) of sum(dout * F.batch_norm(x, gamma, beta, training=True)) with respect
    to x, gamma and beta, each perturbed input run through torch."""
    def by_x(xs):
        return np.sum(dout * (gamma * _bn_stack(xs, eps) + beta), axis=(-2, -1))

    x_hat = _bn_stack(x[None], eps)[0]
    return (numerical_grad(by_x, x, batched=True),
            numerical_grad(lambda gs: np.sum(dout * (gs[:, None, :] * x_hat + beta), axis=(-2, -1)), gamma, batched=True),
            numerical_grad(lambda bs: np.sum(dout * (gamma * x_hat + bs[:, None, :]), axis=(-2, -1)), beta, batched=True))


@oracle
def torch_layernorm_numerical(dout, x, gamma, beta, eps):
    """Central differences (h = 1e-6) of sum(dout * F.layer_norm(x, (D,), gamma, beta)) with respect to x,
    gamma and beta, each perturbed input run through torch."""
    axes = tuple(range(1, x.ndim + 1))
    lead = (slice(None),) + (None,) * (x.ndim - 1)

    def by_x(xs):
        out = torch.nn.functional.layer_norm(_t(xs), (x.shape[-1],), _t(gamma), _t(beta), eps).numpy()
        return np.sum(dout * out, axis=axes)

    x_hat = torch.nn.functional.layer_norm(_t(x), (x.shape[-1],), None, None, eps).numpy()
    return (numerical_grad(by_x, x, batched=True),
            numerical_grad(lambda gs: np.sum(dout * (gs[lead] * x_hat + beta), axis=axes), gamma, batched=True),
            numerical_grad(lambda bs: np.sum(dout * (gamma * x_hat + bs[lead]), axis=axes), beta, batched=True))


# ------------------------------------------------------------------------------------- inputs


def affine(rng, d: int) -> tuple[np.ndarray, np.ndarray]:
    """gamma and beta of shape (D,): gamma away from 1 and from 0, beta away from 0."""
    return rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d), rng.normal(size=d)


# (N, D, momentum, eps): the defaults, a small batch, a wide one, another momentum and eps.
BN_CASES = [(8, 5, None, None), (2, 3, None, None), (16, 12, 0.3, None), (5, 4, None, 1e-3), (32, 6, 0.05, 1e-4)]


def bn_kwargs(momentum, eps) -> dict:
    return {k: v for k, v in (("momentum", momentum), ("eps", eps)) if v is not None}


def bn_call(x, gamma, beta, state: dict, train: bool, momentum, eps) -> str:
    extra = "".join(f", {k}={v:g}" for k, v in bn_kwargs(momentum, eps).items())
    shown = "{}" if not state else "state"
    return f"batchnorm_forward(x of shape {x.shape}, gamma, beta, {shown}, train={train}{extra})"


# --------------------------------------------------------------------- batch normalization


def test_batchnorm_forward_matches_torch(student, public_rng, spec):
    """Training mode from {} on batches with small-variance features: out against F.batch_norm."""
    tol = spec.tolerance("values")
    cases = []
    for n, d, momentum, eps in BN_CASES:
        x = common.features(public_rng, n, d, small=min(2, d - 1))
        cases.append((x, *affine(public_rng, d), momentum, eps))
    results = common.values(student.batchnorm_forward,
                            [((x, g, b, {}, True), bn_kwargs(m, e)) for x, g, b, m, e in cases])
    wrong = common.part(mistakes.CATALOGUE["batchnorm_forward"], lambda r: r[0])
    for (x, g, b, m, e), result in zip(cases, results, strict=True):
        what = bn_call(x, g, b, {}, True, m, e)
        out, _ = common.as_bn_result(result, what, x.shape)
        expected, _, _ = torch_batchnorm(x, g, b, np.zeros(x.shape[1]), np.ones(x.shape[1]), True,
                                         m if m is not None else 0.1, e if e is not None else 1e-5)
        args = (x, g, b, {}, True, m if m is not None else 0.1, e if e is not None else 1e-5)
        with common.hinted(wrong, out, args, spec.tolerance("mistake")):
            assert_close(out, expected, tol, f"{what}, against torch.nn.functional.batch_norm (training)", reveal=True)


def test_running_statistics_match_torch(student, public_rng, spec):
    """Sequences of training calls, each given the state the student's previous call returned: the running
    mean and variance after every call against F.batch_norm's."""
    tol = spec.tolerance("running")
    wrong = common.part(mistakes.CATALOGUE["batchnorm_forward"], lambda r: (r[1]["running_mean"], r[1]["running_var"]))
    for n, d, momentum, calls in ((8, 4, None, 5), (3, 5, 0.3, 4), (20, 3, 0.05, 3)):
        g, b = affine(public_rng, d)
        kwargs = bn_kwargs(momentum, None)
        m = momentum if momentum is not None else 0.1
        state, rm, rv = {}, np.zeros(d), np.ones(d)
        for t in range(1, calls + 1):
            x = common.features(public_rng, n, d, small=1) * (1 + t)
            what = f"call {t} of a sequence of {calls}: " + bn_call(x, g, b, state, True, momentum, None)
            given = dict(state)
            _, state = common.as_bn_result(student.batchnorm_forward(x, g, b, state, True, **kwargs), what, x.shape)
            _, rm, rv = torch_batchnorm(x, g, b, rm, rv, True, m, 1e-5)
            got = np.stack([state["running_mean"], state["running_var"]])
            args = (x, g, b, given, True, m)
            with common.hinted({k: (lambda *a, f=f: np.stack(f(*a))) for k, f in wrong.items()}, got, args,
                               spec.tolerance("mistake")):
                assert_close(state["running_mean"], rm, tol, f"running_mean after {what}, against torch's", reveal=True)
                assert_close(state["running_var"], rv, tol, f"running_var after {what}, against torch's (the "
                             "update uses the unbiased variance, sigma^2 N / (N - 1))", reveal=True)


def test_evaluation_mode(student, public_rng, spec):
    """train=False: out from the running statistics (the defaults for {}), and the state returned as given."""
    tol = spec.tolerance("values")
    d = 5
    g, b = affine(public_rng, d)
    running_mean = public_rng.normal(size=d)
    running_var = np.array([2.0, 0.5, 1e-4, 1e-5, 3.0])  # two running variances near eps
    cases = [(common.features(public_rng, 6, d), {"running_mean": running_mean, "running_var": running_var}),
             (common.features(public_rng, 1, d), {"running_mean": running_mean, "running_var": running_var}),
             (common.features(public_rng, 4, d), {})]
    results = common.values(student.batchnorm_forward, [((x, g, b, state, False), {}) for x, state in cases])
    for (x, state), result in zip(cases, results, strict=True):
        what = bn_call(x, g, b, state, False, None, None) + (" (a single example)" if len(x) == 1 else "")
        out, returned = common.as_bn_result(result, what, x.shape, allow_empty=not state)
        rm, rv = state.get("running_mean", np.zeros(d)), state.get("running_var", np.ones(d))
        expected, _, _ = torch_batchnorm(x, g, b, rm, rv, False, 0.1, 1e-5)
        source = "the running statistics given" if state else "the default running statistics (mean 0, variance 1)"
        with common.hinted(common.part(mistakes.CATALOGUE["batchnorm_forward"], lambda r: r[0]), out,
                           (x, g, b, state, False), spec.tolerance("mistake")):
            assert_close(out, expected, tol, f"{what}, against torch.nn.functional.batch_norm in evaluation, which "
                         f"normalizes with {source}, not the batch's", reveal=True)
        if state:
            for key in ("running_mean", "running_var"):
                if not np.array_equal(returned[key], state[key]):
                    raise AssertionError(f"{what} returned a state whose {key} differs from the one given: evaluation "
                                         "does not update the running statistics")
        elif returned and not (np.array_equal(returned["running_mean"], np.zeros(d))
                               and np.array_equal(returned["running_var"], np.ones(d))):
            raise AssertionError(f"{what} returned a state other than {{}} or the defaults (mean 0, variance 1): "
                                 "evaluation does not update the running statistics")


def test_batchnorm_rejects_one_example(student, public_rng):
    """One example has no variance over the batch: training on N = 1 is a ValueError, with or without a state."""
    d = 4
    g, b = affine(public_rng, d)
    x = public_rng.normal(size=(1, d))
    expect_raises(ValueError, lambda: student.batchnorm_forward(x, g, b, {}, True),
                  "batchnorm_forward(x of shape (1, 4), gamma, beta, {}, train=True)")
    state = {"running_mean": np.zeros(d), "running_var": np.ones(d)}
    expect_raises(ValueError, lambda: student.batchnorm_forward(x, g, b, state, True, 0.2),
                  "batchnorm_forward(x of shape (1, 4), gamma, beta, state, train=True, momentum=0.2)")


# --------------------------------------------------------------------- layer normalization

LN_SHAPES = [(6, 5), (2, 3, 8), (7,), (2, 2, 3, 4), (4, 1, 6)]


def test_layernorm_forward_matches_torch(student, public_rng, spec):
    """(..., D) arrays of 0 to 3 leading axes, small-variance examples included, against F.layer_norm."""
    tol = spec.tolerance("values")
    cases = []
    for i, shape in enumerate(LN_SHAPES):
        x = common.examples(public_rng, shape, small=1 if len(shape) == 1 else 2)
        cases.append((x, *affine(public_rng, shape[-1]), 1e-3 if i == 3 else None))
    results = common.values(student.layernorm_forward,
                            [((x, g, b), {} if e is None else {"eps": e}) for x, g, b, e in cases])
    for (x, g, b, e), result in zip(cases, results, strict=True):
        what = f"layernorm_forward(x of shape {x.shape}, gamma, beta{'' if e is None else f', eps={e:g}'})"
        got = as_array(result, what, x.shape)
        args = (x, g, b) if e is None else (x, g, b, e)
        with common.hinted(mistakes.CATALOGUE["layernorm_forward"], got, args, spec.tolerance("mistake")):
            assert_close(got, torch_layernorm(x, g, b, 1e-5 if e is None else e), tol,
                         f"{what}, against torch.nn.functional.layer_norm(x, (D,), gamma, beta) (each example "
                         "normalized over its last axis)", reveal=True)


# ---------------------------------------------------------------------------- backward passes


def bn_backward_cases(rng):
    """(dout, x, gamma, beta, eps): small-variance features, a batch of 2, another eps."""
    for n, d, eps in ((6, 4, 1e-5), (2, 3, 1e-5), (10, 5, 1e-3)):
        x = common.features(rng, n, d, small=min(2, d - 1))
        yield (rng.normal(size=(n, d)), x, *affine(rng, d), eps)


def ln_backward_cases(rng):
    for shape, eps in (((5, 4), 1e-5), ((2, 3, 6), 1e-5), ((3, 2, 2, 5), 1e-3)):
        x = common.examples(rng, shape, small=2)
        yield (rng.normal(size=shape), x, *affine(rng, shape[-1]), eps)


def check_backward(student_fn, name: str, cases, oracle_fn, tol, against: str, mistakes_of, spec, numerical: bool):
    calls = [((dout, x, g), {} if eps == 1e-5 else {"eps": eps}) for dout, x, g, _, eps in cases]
    for (dout, x, g, b, eps), result in zip(cases, common.values(student_fn, calls), strict=True):
        what = f"{name}(dout, x of shape {x.shape}, gamma{'' if eps == 1e-5 else f', eps={eps:g}'})"
        args = (dout, x, g) if eps == 1e-5 else (dout, x, g, eps)
        d = x.shape[-1]
        got = common.as_grads(result, what, (x.shape, (d,), (d,)), mistakes_of, args, spec.tolerance("mistake"))
        expected = oracle_fn(dout, x, g, b, eps)
        for i, (part_name, mine, theirs) in enumerate(zip(common.GRAD_PARTS, got, expected, strict=True)):
            wrong = common.part(mistakes_of, lambda r, i=i: r[i])
            with common.hinted(wrong, mine, args, spec.tolerance("mistake")):
                if numerical:
                    assert_gradient_close(mine, theirs, tol, f"{part_name} from {what}", reveal=True, against=against)
                else:
                    assert_close(mine, theirs, tol, f"{part_name} from {what}, against {against}", reveal=True)


def test_batchnorm_backward_matches_autograd(student, public_rng, spec):
    """dx, dgamma and dbeta against autograd through F.batch_norm (training)."""
    check_backward(student.batchnorm_backward, "batchnorm_backward", list(bn_backward_cases(public_rng)),
                   torch_batchnorm_grads, spec.tolerance("gradients"), "torch's autograd",
                   mistakes.CATALOGUE["batchnorm_backward"], spec, numerical=False)


def test_batchnorm_backward_matches_numerical(student, public_rng, spec):
    """dx, dgamma and dbeta against central differences of sum(dout * F.batch_norm(x, gamma, beta))."""
    check_backward(student.batchnorm_backward, "batchnorm_backward", list(bn_backward_cases(public_rng)),
                   torch_batchnorm_numerical, spec.tolerance("numerical"),
                   "the central difference (h = 1e-6) of sum(dout * batch_norm(x))",
                   mistakes.CATALOGUE["batchnorm_backward"], spec, numerical=True)


def test_layernorm_backward_matches_autograd(student, public_rng, spec):
    """dx, dgamma and dbeta against autograd through F.layer_norm; dgamma, dbeta summed over all leading axes."""
    check_backward(student.layernorm_backward, "layernorm_backward", list(ln_backward_cases(public_rng)),
                   torch_layernorm_grads, spec.tolerance("gradients"), "torch's autograd",
                   mistakes.CATALOGUE["layernorm_backward"], spec, numerical=False)


def test_layernorm_backward_matches_numerical(student, public_rng, spec):
    """dx, dgamma and dbeta against central differences of sum(dout * F.layer_norm(x, (D,), gamma, beta))."""
    check_backward(student.layernorm_backward, "layernorm_backward", list(ln_backward_cases(public_rng)),
                   torch_layernorm_numerical, spec.tolerance("numerical"),
                   "the central difference (h = 1e-6) of sum(dout * layer_norm(x))",
                   mistakes.CATALOGUE["layernorm_backward"], spec, numerical=True)


# ---------------------------------------------------------------------------------- purity


def test_purity(student, public_rng, spec):
    """Every function leaves its arrays and the state dict as they were, and its values are right (purity
    is credited for correct answers only: a function that returns zeros must not earn it)."""
    n, d = 6, 4
    x = common.features(public_rng, n, d, small=1)
    g, b = affine(public_rng, d)
    dout = public_rng.normal(size=(n, d))
    state = {"running_mean": public_rng.normal(size=d), "running_var": public_rng.uniform(0.5, 2.0, size=d)}
    how = "x_hat = (x - mu) / ..., not x -= mu; a new dict for the state"
    bn = torch_batchnorm(x, g, b, state["running_mean"], state["running_var"], True, 0.1, 1e-5)
    calls = [
        ("batchnorm_forward", ("x", "gamma", "beta", "state"), (x, g, b, state, True), bn[0]),
        ("batchnorm_backward", ("dout", "x", "gamma"), (dout, x, g), torch_batchnorm_grads(dout, x, g, b, 1e-5)[0]),
        ("layernorm_forward", ("x", "gamma", "beta"), (x, g, b), torch_layernorm(x, g, b, 1e-5)),
        ("layernorm_backward", ("dout", "x", "gamma"), (dout, x, g), torch_layernorm_grads(dout, x, g, b, 1e-5)[0]),
    ]
    for fn, names, args, expected in calls:
        before = {name: (dict((k, v.copy()) for k, v in a.items()) if isinstance(a, dict) else a.copy())
                  for name, a in zip(names, args, strict=False)}
        result = student.call(fn, *args, echo=True)
        after_args, _ = result.args_after
        assert_unchanged(fn, before, dict(zip(names, after_args, strict=False)), how=how)
        value = result.value
        if fn == "batchnorm_forward":
            value, _ = common.as_bn_result(value, fn, x.shape)
        elif fn.endswith("backward"):
            value = common.as_grads(value, fn, (x.shape, (d,), (d,)))[0]
        tol = spec.tolerance("gradients" if fn.endswith("backward") else "values")
        assert_close(as_array(value, fn, x.shape), expected, tol,
                     f"{fn} on the purity inputs (purity is credited for correct values only)", reveal=True)

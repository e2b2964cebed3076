"""The judge's own memory, not for checks: oracle values and torch's trajectories remembered by a digest of
everything they depend on (in this process and in files under ``oracle_cache_dir()``), and the reference's
runs of the lecture's demonstrations, remembered once per judge."""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from types import FunctionType, MethodType, ModuleType

import numpy as np

from grader.sandbox.objectives import GRADIENTS
from grader.testing.values import as_step

ORACLE: dict = {}  # the oracle's trajectories by their digest
CANDIDATES: dict = {}  # (oracle path's digest, mistakes' names, steps) -> (the mistakes' functions, their steps)


def digest_value(digest, value, seen: set) -> None:
    """Any value a pure computation may depend on: plain data, arrays, modules, functions (their code,
    defaults, closures and the globals they name), bound methods of plain objects; else ``NotDigestible``."""
    kind = type(value)
    if kind in (int, float, str, bool, bytes, type(None)):
        digest.update(b"\0" + plain_repr(value))
    elif kind in (tuple, list):
        digest.update(f"\0{kind.__name__} {len(value)}".encode())
        for v in value:
            digest_value(digest, v, seen)
    elif kind is dict:
        digest.update(f"\0dict {len(value)}".encode())
        for k in sorted(value, key=repr):
            digest_value(digest, k, seen)
            digest_value(digest, value[k], seen)
    elif kind is np.ndarray:
        digest.update(f"\0array {value.dtype.str} {value.shape}".encode() + np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic) and value.dtype.kind in "biufc":  # a NumPy number: np.float64(0.1), say
        digest.update(f"\0scalar {value.dtype.str}".encode() + value.tobytes())
    elif isinstance(value, ModuleType):
        digest.update(f"\0module {value.__name__}".encode())
    elif kind is FunctionType:
        digest.update(f"\0function {value.__module__}.{value.__qualname__}".encode())
        if id(value) in seen:  # a helper named again, or a function that reaches itself
            return
        seen.add(id(value))
        digest_code(digest, value.__code__, value.__globals__, seen)
        for v in value.__defaults__ or ():
            digest_value(digest, v, seen)
        for cell in value.__closure__ or ():
            digest_value(digest, cell.cell_contents, seen)
    elif kind is MethodType and hasattr(value.__self__, "__dict__"):
        digest.update(f"\0method of {type(value.__self__).__qualname__}".encode())
        digest_value(digest, value.__func__, seen)
        digest_value(digest, dict(vars(value.__self__)), seen)
    else:
        raise NotDigestible


def remembered(key: str, compute: Callable[[], object], valid: Callable[[object], bool] = lambda v: True):
    """The value stored under ``key``: in this process's memory, else in the oracle cache's file (when
    ``valid`` takes it), else ``compute()``, stored in both."""
    if key not in ORACLE:
        stored = oracle_cache_dir() / f"{key}.value"
        value = load_value(stored)
        if value is None or not valid(value):
            value = compute()
            store_value(stored, value)
        remember(ORACLE, key, value, 256)
    return ORACLE[key]


def fresh(value):
    """A copy a caller may change without changing what is remembered."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(fresh(v) for v in value)
    return value


@functools.cache
def torch_version() -> str:
    """The installed torch's version, read from its metadata once (a few ms each time): a judge whose
    oracles are remembered need not import torch to know they are still right."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "none"


def call_digest(fn, args: tuple) -> str | None:
    digest = hashlib.sha256(f"oracle call 1\0torch {torch_version()}\0{fn.__module__}.{fn.__qualname__}\0".encode())
    try:
        digest_value(digest, fn, set())
        for value in args:  # numbers, strings, tuples of them, arrays
            digest_value(digest, value if isinstance(value, np.ndarray) else plain(value), set())
    except NotDigestible:
        return None
    return digest.hexdigest()


def load_value(path: Path):
    from grader.sandbox import codec

    try:
        return codec.loads(path.read_bytes(), 1 << 28)  # plain data: a file here cannot run code
    except (OSError, codec.CodecError, ValueError, EOFError):
        return None


def store_value(path: Path, value) -> None:
    from grader.sandbox import codec

    try:
        data = codec.encode(value, 1 << 28)
    except (codec.CodecError, TypeError, ValueError):
        return
    write_atomically(path, data)


def remember(cache: dict, key, value, limit: int) -> None:
    """``cache[key] = value``, forgetting the oldest entry when ``cache`` holds ``limit``."""
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[key] = value


def oracle_cache_dir() -> Path:
    """Where torch's trajectories are kept between runs (``grader.cache``): ``oracle/``."""
    from grader.cache import cache_dir

    return cache_dir("oracle")


def oracle_digest(make_optimizer, theta0, grads) -> str | None:
    """A digest of everything a trajectory depends on: torch's version, the factory's code (its
    bytecode, constants and names), the values of the globals it names, its defaults and closure,
    and the inputs' bytes. ``None`` when the factory names a global or captures a value that is
    neither a module nor a number, string or tuple of them (its identity cannot be digested)."""
    digest = hashlib.sha256(f"oracle 3\0torch {torch_version()}\0".encode())
    try:
        digest_value(digest, make_optimizer, set())
    except NotDigestible:
        return None
    theta0 = np.asarray(theta0, dtype=np.float64)
    digest.update(repr(theta0.shape).encode() + theta0.tobytes())
    for g in grads:
        digest.update(b"\0" + np.asarray(g, dtype=np.float64).tobytes())
    return digest.hexdigest()


class NotDigestible(Exception):
    pass


def plain(value):
    """``value`` if ``plain_repr`` takes it (a number, string or tuple of them), else ``NotDigestible``."""
    plain_repr(value)
    return value


def plain_repr(value) -> bytes:
    """The typed repr of a number, string or tuple of them; anything else cannot be digested."""
    if type(value) is tuple:
        return b"(" + b",".join(plain_repr(x) for x in value) + b")"
    if type(value) in (int, float, str, bool, bytes, type(None)):
        return f"{type(value).__name__}:{value!r}".encode()
    raise NotDigestible


def digest_code(digest, code, namespace: dict, seen: set) -> None:
    digest.update(code.co_code + repr(code.co_names).encode() + repr(code.co_varnames).encode())
    for const in code.co_consts:
        digest.update(b"\0")
        if hasattr(const, "co_code"):  # a nested function's code
            digest_code(digest, const, namespace, seen)
        else:
            digest.update(plain_repr(const))
    for name in code.co_names:
        if name not in namespace:  # an attribute's name, or a builtin: the name is what counts
            continue
        value = namespace[name]
        digest.update(f"\0{name}=".encode())
        if isinstance(value, (ModuleType, FunctionType)):  # a helper, of this module or a sibling's: its code counts
            digest_value(digest, value, seen)
        else:  # data a global names must be plain: a list or an object could change between two calls
            digest.update(plain_repr(value))


def load_oracle(path: Path, steps: int, shape: tuple) -> list[np.ndarray] | None:
    try:
        stored = np.load(path, allow_pickle=False)  # plain numbers: a file here cannot run code
    except (OSError, ValueError, EOFError):
        return None
    if stored.dtype != np.float64 or stored.shape != (steps, *shape):
        return None
    return list(stored)


def store_oracle(path: Path, trajectory: list[np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array(trajectory, dtype=np.float64), allow_pickle=False)
    write_atomically(path, buffer.getvalue())


def write_atomically(path: Path, data: bytes) -> None:
    """``grader.report.write_atomic``, where a cache that cannot be written is no cache, not an error."""
    from grader.report import write_atomic

    try:
        write_atomic(path, data)
    except OSError:
        pass


def torch_trajectory_now(make_optimizer, theta0, grads) -> list[np.ndarray]:
    import torch

    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([p])
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        out.append(p.detach().numpy().copy())
    return out


RUNS: dict = {}  # the judge's own runs by their inputs: the lecture's demonstrations are the same for everyone


def run_key(step, grad, theta: np.ndarray, steps: int, hyper: dict, drawn: bool, every: int) -> tuple | None:
    """What determines a run in the judge, when it may be remembered: a plain function without a
    closure (the reference's optimizers; a student's function is never one here) on a surface of
    ``grader.sandbox.objectives`` with plain hyper-parameters. ``None`` otherwise."""
    plain = (int, float, str, bool, type(None))
    if (type(step) is not FunctionType or step.__closure__ or not any(grad is g for g in GRADIENTS.values())
            or not all(type(v) in plain for v in hyper.values())):
        return None
    return (step.__code__, step.__defaults__, grad, theta.shape, theta.tobytes(), steps,
            tuple(sorted(hyper.items())), drawn, every)


def remembered_run(key: tuple, step, grad, theta: np.ndarray, steps: int, what: str, hyper: dict,
                    path: list | None, every: int) -> np.ndarray:
    """``run_in_judge`` once per judge for the same inputs: a class's every submission asks for the
    reference's runs of the lecture's demonstrations, a fifth of a judge's work on optimizers."""
    if key not in RUNS:
        walked: list | None = [] if path is not None else None
        remember(RUNS, key, (run_in_judge(step, grad, theta, steps, what, hyper, walked, every), walked), 64)
    final, walked = RUNS[key]
    if path is not None:
        path.extend(x.copy() for x in walked)  # θ₀ is there already: start_optimizer put it
    return final.copy()


def run_in_judge(step, grad, theta: np.ndarray, steps: int, what: str, hyper: dict, path: list | None,
                  every: int) -> np.ndarray:
    state: dict = {}
    for t in range(1, steps + 1):
        theta, state = as_step(step(theta, grad(theta), state, **hyper), f"{what}, step {t}", theta.shape)
        if path is not None and t % every == 0 and t < steps:
            path.append(theta)
        if not np.all(np.isfinite(theta)):
            break
    if path is not None:
        path.append(theta)
    return theta

"""The worker: the untrusted side of the trust boundary.

Run by ``zygote.py`` in a child forked for one submission, in the folder that holds it, after
the child's rlimits are set and its privileges dropped. It imports the submission, says hello (the
functions it defines and the notes it left for its report, or why it could not be loaded), then answers
calls until its request pipe closes. Everything it sends goes
through ``codec`` (plain data only); the judge trusts none of it beyond that.

Only the standard library, NumPy, the codec and the forbidden-call guard are imported here:
nothing of the grader, the reference or the checks is reachable from this process.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import resource
import sys
import time
import traceback
from pathlib import Path


def _load(name: str):
    """A module of this folder, by path: the grader package itself is not importable from here."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_grader_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_PRELOADED: dict = {}


def preload() -> None:
    """Load the modules ``serve`` needs, once, in the fork server before it forks: each child then
    starts with them instead of compiling them again (about 5 ms), and with ``threading``, which
    ``Replies`` needs for its flusher (another 1.5 ms a child, in the fork server without torch)."""
    import threading  # noqa: F401

    for name in ("codec", "guard", "objectives"):
        _PRELOADED[name] = _load(name)


def install_guard(forbidden: list[str]) -> None:
    """Wrap the routines of ``forbidden`` in this process, for the children it forks (fork server)."""
    if "guard" not in _PRELOADED:
        preload()
    _PRELOADED["guard"].install(forbidden)


def describe_exception(exc: BaseException, root: str) -> str:
    """The exception with only the submission's own frames, paths relative to its folder."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(root + os.sep)]
    lines = []
    for f in frames[-5:]:
        lines.append(f'  File "{os.path.relpath(f.filename, root)}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {f.line}")
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(root):
        lines.append(f'  File "{os.path.relpath(exc.filename, root)}", line {exc.lineno}')
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return "\n".join(lines + [text[:2000]])


def limit_resources(cpu_seconds: int, memory_bytes: int, file_bytes: int, processes: int) -> None:
    """Set before any student code runs; an unprivileged worker cannot raise hard limits. CPU time
    gets SIGXCPU at the soft limit (so the report can say why) and SIGKILL a second later.
    ``processes`` 0 leaves RLIMIT_NPROC alone: it counts every process of the uid, and only a
    sandboxed worker has a uid of its own."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


MAX_NOTES = 20          # what the module may add to its report (``notes``)...
MAX_NOTE_CHARS = 400    # ...each at most this long
NOTES_NAME = "__grader_notes__"


def module_notes(module) -> list[str]:
    """The notes a module left for its report: a notebook's statements that failed at import
    (``grader/notebook.py`` generates the module that records them). Any submission can set the name, so
    only a real list of real strings counts, capped in count and length; anything odd gives no notes."""
    try:
        notes = vars(module).get(NOTES_NAME)
        if type(notes) is not list:
            return []
        return [note[:MAX_NOTE_CHARS] for note in notes[:MAX_NOTES] if type(note) is str]
    except Exception:
        return []


def serve(module_name: str, request_fd: int, reply_fd: int, max_bytes: int, forbidden: list[str]) -> None:
    """Import the submission from the current folder, say hello, then answer requests until the
    request pipe closes.

    A request names a function and a list of calls, ``[[args, kwargs], ...]``; the worker answers
    with one frame per call, as each returns, and stops a request at its first failure. With
    ``carry = [[a, o], ...]``, call ``i + 1`` gets as its argument ``a`` element ``o`` of what call ``i``
    returned, as plain data (what an optimizer's θ and state would be after a round trip through the
    judge): that streams a whole trajectory for the price of one message. With ``walk`` (the name of a
    surface in ``objectives``), the request holds one call, repeated ``repeat`` times, and call ``i + 1``
    starts where call ``i`` went: ``(theta, grad(theta), state)`` from its value ``(theta, state)`` (an
    optimizer run freely on the surface). A walk answers only for its last step, for the step where it
    stopped (the step raised, used a forbidden routine, or returned something that is not a finite step
    of θ's shape: ``objectives.continues``), and, to show it is alive, for the step that ends each
    ``progress`` seconds without a frame (the judge asks for a quarter of its deadline). Each frame
    says which step it answers (``i``) and the time since the previous frame spent in the student's
    calls and, in a walk, in the gradients (``seconds``: the checks' arithmetic, not the protocol's).
    """

    codec, guard, objectives = (_PRELOADED.get(name) or _load(name) for name in ("codec", "guard", "objectives"))
    guard.install(forbidden)  # done already when the fork server installed the same list before forking
    guard.activate(forbidden)
    sys.dont_write_bytecode = True
    root = os.getcwd()
    sys.path.insert(0, root)
    # Keep the protocol descriptors away from 0-2 so that student prints cannot reach them by accident.
    request_fd, reply_fd = os.dup(request_fd), os.dup(reply_fd)

    replies = Replies(codec, reply_fd, max_bytes)
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt at import are the submission's too
        replies.send({"ok": False, "kind": "load", "error": describe_exception(exc, root)})
        return
    functions = sorted(name for name, obj in vars(module).items() if callable(obj) and not name.startswith("_"))
    replies.send({"ok": True, "kind": "hello", "functions": functions, "notes": module_notes(module)})

    while True:
        try:
            request = codec.receive(request_fd, 1 << 40)
        except EOFError:
            return
        try:
            answer(request, module, module_name, root, codec, guard, objectives, replies, max_bytes)
        finally:
            replies.flush()


class Replies:
    """The worker's side of the reply pipe. ``send`` writes one frame; ``add`` queues a plain answer
    to go with others in one batch frame, which costs the two sides one encode and one decode instead
    of one per call: numbers as ``{"id", "i": first call, "batch": [...], "seconds": [...]}``, the θs
    of optimizer steps under ``theta_only`` as ``{..., "stack": array whose row k is call i + k's θ}``.

    A batch goes out when it reaches its size (1, 2, 4, ... up to ``MAX_BATCH`` within a request, so the
    judge gets its first answers at once), before any other frame, at the end of each request, and from
    a flusher thread every ``INTERVAL`` seconds: a call that then hangs in Python code still lets the
    judge see every answer before it, as when each answer had its own frame. If the thread cannot start
    (the submission used up its processes), every answer goes out at once."""

    MAX_BATCH = 64
    MAX_BYTES = 1 << 16  # a θ larger than this goes in a frame of its own
    INTERVAL = 0.005

    def __init__(self, codec, fd: int, max_bytes: int):
        import threading

        import numpy

        self.codec, self.fd, self.max_bytes = codec, fd, max_bytes
        self.np, self.allowed = numpy, codec.NATIVE_DTYPES
        self.lock = threading.Lock()
        self.items: list = []
        self.head: tuple | None = None  # (request id, index of the first queued answer, stacked θs?)
        self.size = 1
        try:
            threading.Thread(target=self._flusher, name="grader-replies", daemon=True).start()
            self.batching = True
        except RuntimeError:
            self.batching = False

    def send(self, message: dict) -> bool:
        """Write ``message`` after whatever is queued; ``False`` if it could not be encoded (an error
        frame saying why went instead)."""
        with self.lock:
            self._flush()
            try:
                self.codec.send(self.fd, message, self.max_bytes)
                return True
            except self.codec.CodecError as exc:
                self.codec.send(self.fd, {"ok": False, "kind": "result", "error": str(exc), "id": message.get("id"),
                                          "i": message.get("i")})
                return False

    def add(self, call_id: int, i: int, value, seconds: float, step: bool) -> bool:
        """Queue the answer of call ``i``: a step's θ (``step``: an array of numbers, copied now), or
        else a float or an int (a NumPy scalar becomes one, as the codec would make it). ``False`` if
        it is not such a value; the caller then sends it in a frame of its own."""
        kind = type(value)
        if not step and kind is not float and kind is not int:  # what the codec would send for a NumPy scalar
            if isinstance(value, self.np.floating):
                value, kind = float(value), float
            elif isinstance(value, self.np.integer):
                value, kind = int(value), int
        stacked = step and kind is self.np.ndarray
        if not self.batching or not (stacked and value.nbytes <= self.MAX_BYTES and value.dtype in self.allowed
                                     or not step and (kind is float or kind is int)):
            return False
        with self.lock:
            if self.head is not None and (self.head[0] != call_id or self.head[1] + len(self.items) != i
                                          or self.head[2] != stacked
                                          or stacked and self.items[0][0].shape != value.shape
                                          or stacked and self.items[0][0].dtype != value.dtype):
                self._flush()
            if self.head is None:
                self.head = (call_id, i, stacked)
            self.items.append((value.copy() if stacked else value, seconds))
            if len(self.items) >= self.size:
                self._flush()
                self.size = min(2 * self.size, self.MAX_BATCH)
        return True

    def flush(self) -> None:
        """Send what is queued; the next request's batches start small again."""
        with self.lock:
            self._flush()
            self.size = 1

    def _flush(self) -> None:  # the lock is held
        if not self.items:
            return
        (call_id, first, stacked), items = self.head, self.items
        self.head, self.items = None, []
        message = {"ok": True, "id": call_id, "i": first, "seconds": [s for _, s in items], "forbidden": []}
        if stacked:
            message["stack"] = self.np.stack([v for v, _ in items])
        else:
            message["batch"] = [v for v, _ in items]
        self.codec.send(self.fd, message, self.max_bytes)

    def _flusher(self) -> None:
        while True:
            time.sleep(self.INTERVAL)
            with self.lock:
                self._flush()


def answer(request: dict, module, module_name: str, root: str, codec, guard, objectives, replies: Replies,
           max_bytes: int) -> None:
    """Run one request's calls in turn, replying as ``serve`` describes. ``kwargs`` in the request:
    the keyword arguments of every call whose own are ``None`` (each call gets a fresh copy).
    ``columns``: ``[[a, stack], ...]``, argument ``a`` of call ``i`` is row ``i`` of ``stack`` (a copy).
    Without ``calls``, there are ``count`` calls whose arguments are ``same`` but for the columns.
    ``theta_only``: a value that is an optimizer's step, ``(theta, state)`` with a dict state
    (``objectives.is_step``), is answered with its θ alone (``"theta_only": true``); the state stays here."""
    call_id, name = request["id"], request["fn"]
    func = getattr(module, name, None)
    if not callable(func):
        func = _missing(f"{module_name}.py has no function {name!r}")

    def raised(exc: BaseException, i: int) -> None:
        replies.send({"ok": False, "kind": "raised", "id": call_id, "i": i, "error": describe_exception(exc, root),
                      "types": [cls.__name__ for cls in type(exc).__mro__], "forbidden": sorted(guard.used)})

    if request.get("walk") is not None:
        (args, kwargs), = request["calls"]
        args, kwargs = list(args), dict(request.get("kwargs") or {} if kwargs is None else kwargs)
        walker = objectives.walker(request["walk"], args, codec, max_bytes)
        if walker is None:
            replies.send({"ok": False, "kind": "result", "id": call_id, "i": 0, "error": "an unknown walk"})
            return
        _walk(func, raised, call_id, args, kwargs, int(request.get("repeat") or 1), walker,
              float(request.get("progress") or 1.0), guard, replies, int(request.get("trace") or 0))
        return
    carry, echo, shared = request.get("carry") or [], request.get("echo"), request.get("kwargs") or {}
    theta_only = bool(request.get("theta_only"))
    same = request.get("calls") is None  # every call has the same arguments but its columns:
    if same:                              # plain values, and empty dicts, which each call gets afresh
        calls = [[request["same"], None]] * int(request["count"])
    else:
        calls = request["calls"] * int(request.get("repeat") or 1)
    columns = request.get("columns") or []
    plain = type(shared) is dict and all(type(v) in (int, float, str, bool, type(None)) for v in shared.values())
    carried = []
    used_now, clock, add = guard.used, time.perf_counter, replies.add  # a stream makes thousands of calls
    for i, (args, kwargs) in enumerate(calls):
        if kwargs is None:  # the shared keyword arguments, a fresh copy for each call
            kwargs = shared if plain else codec.copy(shared)
        args, kwargs = [{} if type(x) is dict else x for x in args] if same else list(args), dict(kwargs)
        for a, column in columns:
            args[a] = column[i].copy()
        if carried:
            for (a, _), value in zip(carry, carried, strict=False):
                args[a] = value
        used_now.clear()
        start = clock()
        try:
            value = func(*args, **kwargs)
        except BaseException as exc:
            raised(exc, i)
            return
        seconds = clock() - start
        used = sorted(used_now) if used_now else []
        step = theta_only and objectives.is_step(value)
        if used or echo or not add(call_id, i, value[0] if step else value, seconds, step):
            message = {"ok": True, "id": call_id, "i": i, "value": value, "seconds": seconds, "forbidden": used}
            if step:
                message["value"], message["theta_only"] = value[0], True
            if echo:
                message["args_after"] = [args, kwargs]
            if not replies.send(message) or used:
                return
        if carry:
            carried = _carry(codec, value, carry, max_bytes)
            if carried is None:  # the judge checks the value; a value that cannot carry ends the stream
                return


def _missing(message: str):
    def missing(*args, **kwargs):
        raise AttributeError(message)
    return missing


def _walk(func, raised, call_id: int, args: list, kwargs: dict, steps: int, walker, progress: float, guard,
          replies: Replies, trace: int = 0) -> None:
    """A walk (see ``serve``): ``func`` run freely for ``steps`` steps from ``args``, each step's leading
    arguments made by ``walker`` (``objectives.walker``) from the one before; a frame only for the last
    step, the step where it stopped (``"last": true`` on either), and progress. With ``trace`` k, each
    frame also holds ``"trace"``: θ every k steps since the previous frame, for a picture of the path
    (not graded). A walk whose θ is not what the function returns (``OutputsWalk``) sends θ after each
    answered step as ``"after"``."""
    clock, seconds, last_frame = time.perf_counter, 0.0, time.perf_counter()
    path = []
    for i in range(steps):
        guard.used.clear()
        start = clock()
        try:
            value = func(*args, **kwargs)
        except BaseException as exc:
            raised(exc, i)
            return
        now = clock()
        seconds += now - start
        used = sorted(guard.used) if guard.used else []
        # the walk's own arithmetic (the update, the next gradient) is the check's, done here: timed with the call
        start = clock()
        going = not used and walker.take(value) and i + 1 < steps
        if going:
            args[0:walker.width] = walker.args()
            if trace and (i + 1) % trace == 0:
                path.append(walker.theta)
        seconds += clock() - start
        if going and now - last_frame < progress:
            continue  # no frame for this step
        message = {"ok": True, "id": call_id, "i": i, "value": value, "seconds": seconds, "forbidden": used}
        if not going:
            message["last"] = True
        if walker.after is not None:
            message["after"] = walker.after
        if path:
            message["trace"] = _stack(path)
        if not replies.send(message) or not going or used:
            return
        seconds, last_frame, path = 0.0, clock(), []


def _stack(path: list):
    import numpy as np  # loaded by the fork server before any submission

    return np.stack(path)


def _carry(codec, value, pairs, max_bytes: int) -> list | None:
    """Element ``o`` of ``value`` for each ``(a, o)`` in ``pairs``, as plain data, or ``None`` when
    ``value`` has no such elements or they cannot cross."""
    if not isinstance(value, (tuple, list)):
        return None
    try:
        return [codec.copy(value[o], max_bytes) for _, o in pairs]
    except Exception:
        return None

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
    says which step it answers (``i``) and the student's time since the previous frame (``seconds``).
    """

    codec, guard, objectives = _load("codec"), _load("guard"), _load("objectives")
    guard.Guard(forbidden).install()
    sys.dont_write_bytecode = True
    root = os.getcwd()
    sys.path.insert(0, root)
    # Keep the protocol descriptors away from 0-2 so that student prints cannot reach them by accident.
    request_fd, reply_fd = os.dup(request_fd), os.dup(reply_fd)

    def reply(message: dict) -> bool:
        try:
            codec.send(reply_fd, message, max_bytes)
            return True
        except codec.CodecError as exc:
            codec.send(reply_fd, {"ok": False, "kind": "result", "error": str(exc), "id": message.get("id"),
                                  "i": message.get("i")})
            return False

    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt at import are the submission's too
        reply({"ok": False, "kind": "load", "error": describe_exception(exc, root)})
        return
    functions = sorted(name for name, obj in vars(module).items() if callable(obj) and not name.startswith("_"))
    reply({"ok": True, "kind": "hello", "functions": functions, "notes": module_notes(module)})

    while True:
        try:
            request = codec.receive(request_fd, 1 << 40)
        except EOFError:
            return
        answer(request, module, module_name, root, codec, guard, objectives, reply, max_bytes)


def answer(request: dict, module, module_name: str, root: str, codec, guard, objectives, reply, max_bytes: int) -> None:
    """Run one request's calls in turn, replying as ``serve`` describes. ``kwargs`` in the request:
    the keyword arguments of every call whose own are ``None`` (each call gets a fresh copy).
    ``theta_only``: a value that is an optimizer's step, ``(theta, state)`` with a dict state
    (``objectives.is_step``), is answered with its θ alone (``"theta_only": true``); the state stays here."""
    call_id, name = request["id"], request["fn"]
    func = getattr(module, name, None)
    carry, echo, shared = request.get("carry") or [], request.get("echo"), request.get("kwargs")
    theta_only = bool(request.get("theta_only"))
    walk = objectives.GRADIENTS.get(request.get("walk"))
    progress = float(request.get("progress") or 1.0)
    calls = request["calls"] * int(request.get("repeat") or 1)
    carried, shape, seconds, last_frame = [], None, 0.0, time.perf_counter()
    for i, (args, kwargs) in enumerate(calls):
        args, kwargs = list(args), dict(codec.copy(shared) if kwargs is None else kwargs)
        if walk is not None:
            if i:
                args[0:3] = [carried[0], walk(carried[0]), carried[1]]
            else:
                shape = objectives.shape_of(args[0])
        else:
            for (a, _), value in zip(carry if i else (), carried, strict=False):
                args[a] = value
        guard.used.clear()
        start = time.perf_counter()
        try:
            if not callable(func):
                raise AttributeError(f"{module_name}.py has no function {name!r}")
            value = func(*args, **kwargs)
        except BaseException as exc:
            reply({"ok": False, "kind": "raised", "id": call_id, "i": i, "error": describe_exception(exc, root),
                   "types": [cls.__name__ for cls in type(exc).__mro__], "forbidden": sorted(guard.used)})
            return
        now = time.perf_counter()
        seconds += now - start
        used = sorted(guard.used)
        if walk is not None:
            going = None if used or i + 1 == len(calls) else _walk_on(codec, objectives, value, shape, max_bytes)
            if going is not None and now - last_frame < progress:
                carried = going
                continue  # no frame for this step
        message = {"ok": True, "id": call_id, "i": i, "value": value, "seconds": seconds, "forbidden": used}
        if theta_only and objectives.is_step(value):
            message["value"], message["theta_only"] = value[0], True
        if echo:
            message["args_after"] = [args, kwargs]
        if not reply(message) or used:
            return
        seconds, last_frame = 0.0, time.perf_counter()
        if walk is not None:
            if going is None:
                return  # the last step, or diverged or malformed: the judge stops reading here too
            carried = going
        elif carry:
            carried = _carry(codec, value, carry, max_bytes)
            if carried is None:  # the judge checks the value; a value that cannot carry ends the stream
                return


def _walk_on(codec, objectives, value, shape, max_bytes: int) -> list | None:
    """Where a walk goes after a step returned ``value``: ``[theta, state]`` as the next step gets
    them (θ a fresh float64 array, the state as plain data), or ``None`` when the walk stops there
    (``objectives.continues``) or the state cannot cross."""
    if not objectives.continues(value, shape):
        return None
    theta = value[0]
    try:
        if type(theta) is objectives.np.ndarray and theta.dtype.str in codec.ALLOWED_DTYPES:
            theta = theta.astype(objectives.np.float64)  # a copy, as a round trip would give
        else:
            theta = objectives.as_theta(codec.copy(theta, max_bytes))
        return [theta, codec.copy(value[1], max_bytes)]
    except Exception:
        return None


def _carry(codec, value, pairs, max_bytes: int) -> list | None:
    """Element ``o`` of ``value`` for each ``(a, o)`` in ``pairs``, as plain data, or ``None`` when
    ``value`` has no such elements or they cannot cross."""
    if not isinstance(value, (tuple, list)):
        return None
    try:
        return [codec.copy(value[o], max_bytes) for _, o in pairs]
    except Exception:
        return None

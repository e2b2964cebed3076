"""The worker: the untrusted side of the trust boundary.

Run by ``zygote.py`` in a child forked for one submission, in the folder that holds it, after
the child's rlimits are set and its privileges dropped. It imports the submission, says hello (the
functions it defines and the notes it left for its report, or why it could not be loaded), then answers
calls until its request pipe closes. Everything it sends goes
through ``codec`` (plain data only); the judge trusts none of it beyond that.

Only the standard library, NumPy, the codec and the forbidden-call guard are imported here:
nothing of the grader, the reference or the checks is reachable from this process. The reply batching
(``replies.py``) and the walks (``walks.py``) are helpers of this folder, loaded by path like the codec.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import resource
import sys
import time
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # never at run time: the worker cannot import the grader package
    from grader.sandbox.replies import Replies


_PRELOADED: dict = {}


def preload(load) -> None:
    """Load the modules ``serve`` needs with ``load`` (the zygote's loader by path: the grader package is not
    importable here), once, in the fork server before it forks: each child then
    starts with them instead of compiling them again (about 5 ms), and with ``threading``, which
    ``Replies`` needs for its flusher (another 1.5 ms a child, in the fork server without torch)."""
    import threading  # noqa: F401

    for name in ("codec", "guard", "objectives", "replies", "walks"):
        _PRELOADED[name] = load(name)


def install_guard(forbidden: list[str]) -> None:
    """Wrap the routines of ``forbidden`` in this process, for the children it forks (fork server, which ran
    ``preload`` when it started)."""
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

    codec, guard, objectives, replies_module, walks = (
        _PRELOADED[name] for name in ("codec", "guard", "objectives", "replies", "walks"))
    guard.install(forbidden)  # done already when the fork server installed the same list before forking
    guard.activate(forbidden)
    sys.dont_write_bytecode = True
    root = os.getcwd()
    sys.path.insert(0, root)
    # Keep the protocol descriptors away from 0-2 so that student prints cannot reach them by accident.
    request_fd, reply_fd = os.dup(request_fd), os.dup(reply_fd)

    replies = replies_module.Replies(codec, reply_fd, max_bytes)
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
            answer(request, module, module_name, root, codec, guard, objectives, walks, replies, max_bytes)
        finally:
            replies.flush()


def answer(request: dict, module, module_name: str, root: str, codec, guard, objectives, walks,
           replies: Replies, max_bytes: int) -> None:
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
        walks._walk(func, raised, call_id, args, kwargs, int(request.get("repeat") or 1), walker,
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
        try:
            value, seconds = walks.timed(func, args, kwargs, used_now, clock)
        except BaseException as exc:
            raised(exc, i)
            return
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
            carried = walks._carry(codec, value, carry, max_bytes)
            if carried is None:  # the judge checks the value; a value that cannot carry ends the stream
                return


def _missing(message: str):
    def missing(*args, **kwargs):
        raise AttributeError(message)
    return missing

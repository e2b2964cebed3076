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
    ``carry = [a, o]``, call ``i + 1`` gets as its argument ``a`` element ``o`` of what call ``i``
    returned, as plain data (what an optimizer's state would be after a round trip through the judge):
    that streams a whole teacher-forced trajectory for the price of one message. With ``walk`` (the
    name of a surface in ``objectives``), the request holds one call, repeated ``repeat`` times, and
    call ``i + 1`` starts where call ``i`` went: ``(theta, grad(theta), state)`` from its value
    ``(theta, state)`` (an optimizer run freely on the surface).
    """
    import numpy as np

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
        call_id, name = request["id"], request["fn"]
        func = getattr(module, name, None)
        carry, echo = request.get("carry"), request.get("echo")
        walk = objectives.GRADIENTS.get(request.get("walk"))
        calls = request["calls"] * int(request.get("repeat") or 1)
        carried = None
        for i, (args, kwargs) in enumerate(calls):
            args, kwargs = list(args), dict(kwargs)
            if walk is not None and i:
                args[0:3] = [carried[0], walk(carried[0]), carried[1]]
            elif carry and i:
                args[carry[0]] = carried
            guard.used.clear()
            start = time.perf_counter()
            try:
                if not callable(func):
                    raise AttributeError(f"{module_name}.py has no function {name!r}")
                value = func(*args, **kwargs)
            except BaseException as exc:
                reply({"ok": False, "kind": "raised", "id": call_id, "i": i, "error": describe_exception(exc, root),
                       "types": [cls.__name__ for cls in type(exc).__mro__], "forbidden": sorted(guard.used)})
                break
            seconds = time.perf_counter() - start
            message = {"ok": True, "id": call_id, "i": i, "value": value, "seconds": seconds,
                       "forbidden": sorted(guard.used)}
            if echo:
                message["args_after"] = [args, kwargs]
            if not reply(message) or message["forbidden"]:
                break
            if carry or walk is not None:
                try:  # the judge checks the value's shape; a value that cannot carry ends the stream
                    carried = codec.copy(value if walk is not None else value[carry[1]], max_bytes)
                    if walk is not None:
                        carried = (np.asarray(carried[0], dtype=np.float64), carried[1])
                        if not np.all(np.isfinite(carried[0])):
                            break  # diverged: the judge stops reading here too
                except Exception:
                    break

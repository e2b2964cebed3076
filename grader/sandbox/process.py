"""The judge's handle on one worker process (see ``worker.py`` for the other side).

A ``Worker`` starts ``python -I worker.py`` in a submission's folder with a scrubbed environment
and its own process group (the worker sets its rlimits itself before it imports the submission:
no ``preexec_fn``, which is unsafe in a judge that has threads), talks to it over two pipes through the codec, enforces a
deadline on every call, and kills the whole process group when it is done or misbehaves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from grader.errors import ForbiddenAPI, StudentError, StudentTimeout, WorkerCrashed
from grader.sandbox import codec, isolation
from grader.sandbox.isolation import Isolation, detect
from grader.spec import Limits

WORKER_SCRIPT = Path(__file__).with_name("worker.py")


@dataclass
class CallResult:
    value: object
    seconds: float  # wall time of the call as the judge saw it, round trip included
    args_after: list | None = None


def _scrubbed_env(home: str, tmp: str) -> dict[str, str]:
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",  # what a submission printed before it was killed still reaches its report
        # One thread each: a class is graded in parallel, and torch's pool does not survive fork().
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


class Worker:
    """One worker process serving one submission. Not thread-safe; one call at a time."""

    def __init__(self, workdir: Path, module: str, limits: Limits, output: Path, forbidden: list[str] = (),
                 isolation: Isolation | None = None, slot: int = 0):
        self.workdir, self.module, self.limits, self.output = workdir, module, limits, output
        self.forbidden = list(forbidden)
        self.isolation = isolation or detect()
        self.slot = slot
        self._starts = 0
        self.proc: subprocess.Popen | None = None
        self.functions: list[str] = []
        self._next_id = 0

    # ----------------------------------------------------------------------------- lifecycle

    def start(self, deadline: float) -> None:
        """Start the process and wait for its hello. ``StudentError`` if the submission fails to load."""
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        limits = self.limits
        sandboxed = self.isolation.namespaces
        args = [self.module, str(req_r), str(rep_w), str(limits.result_bytes), str(limits.cpu_seconds),
                str(limits.memory_bytes), str(limits.file_bytes), str(limits.processes if sandboxed else 0),
                ",".join(self.forbidden)]
        if sandboxed:
            newroot = self.output.parent / f"root-{self._starts}"
            newroot.mkdir()
            argv = isolation.command(self.isolation, newroot, self.workdir, self.slot,
                                     max(1, limits.file_bytes >> 20),
                                     [isolation.PYTHON, "-I", isolation.WORKER, *args])
            env, cwd = _scrubbed_env("/work", "/tmp"), None
        else:
            argv = [sys.executable, "-I", str(WORKER_SCRIPT), *args]
            env, cwd = _scrubbed_env(str(self.workdir), str(self.workdir)), self.workdir
        self._starts += 1
        with open(self.output, "ab") as out:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, pass_fds=(req_r, rep_w), start_new_session=True)
        os.close(req_r)
        os.close(rep_w)
        hello = self._receive(min(deadline, time.monotonic() + self.limits.startup_seconds), "importing it")
        if not hello.get("ok"):
            self.stop()
            raise StudentError(f"{self.module}.py could not be loaded:\n{hello.get('error', '')}")
        self.functions = list(hello.get("functions") or [])

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Kill the worker's whole process group (and, sandboxed, its PID namespace), reap it, and
        verify that no process of its uid is left. Safe to call twice."""
        if self.proc is None:
            return
        for fd in (self._req_w, self._rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self.proc = None
        if self.isolation.namespaces:
            isolation.kill_uid(isolation.SANDBOX_UID_BASE + self.slot)

    # ---------------------------------------------------------------------------------- calls

    def call(self, fn: str, args: list, kwargs: dict, deadline: float, echo: bool = False) -> CallResult:
        """Run ``fn(*args, **kwargs)`` in the worker. Raises ``StudentError`` if it raised,
        ``StudentTimeout`` past ``deadline``, ``WorkerCrashed`` if the process died."""
        self._next_id += 1
        request = {"id": self._next_id, "fn": fn, "args": args, "kwargs": kwargs, "echo": echo}
        start = time.monotonic()
        try:
            codec.send(self._req_w, request)
        except (BrokenPipeError, OSError):
            self._crashed(f"calling {fn}")
        reply = self._receive(deadline, f"running {fn}")
        seconds = time.monotonic() - start
        if reply.get("id") != self._next_id:
            self.stop()
            raise StudentError(f"the worker answered out of turn while running {fn}")
        used = reply.get("forbidden")
        if type(used) is list and used:
            names = ", ".join(str(u) for u in used[:5])
            raise ForbiddenAPI(f"{fn} called {names}, which this assignment forbids: the checks that use {fn} score 0")
        if not reply.get("ok"):
            if reply.get("kind") == "result":
                raise StudentError(f"{fn} returned something that cannot be graded: {reply.get('error')}")
            types = reply.get("types")
            types = tuple(t for t in types if type(t) is str) if type(types) is list else ()
            raise StudentError(f"{fn} raised an exception:\n{reply.get('error', '')}", types)
        return CallResult(reply.get("value"), seconds, reply.get("args_after"))

    def _receive(self, deadline: float, doing: str) -> dict:
        try:
            message = codec.receive(self._rep_r, self.limits.result_bytes, deadline)
        except TimeoutError:
            self.stop()
            raise StudentTimeout(f"no answer within the time limit while {doing}") from None
        except EOFError:
            self._crashed(doing)
        except codec.CodecError as exc:
            self.stop()
            raise StudentError(f"unreadable answer while {doing}: {exc}") from None
        if type(message) is not dict:
            self.stop()
            raise StudentError(f"unreadable answer while {doing}")
        return message

    def _crashed(self, doing: str):
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:  # closed its pipe but lives on
                pass
        self.stop()
        if code is not None and code > 128 and self.isolation.namespaces:
            code = 128 - code  # the sandbox's PID 1 (a shell) reports the worker's signal n as 128 + n
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = {"SIGKILL": " (killed: memory or CPU limit, or killed itself)", "SIGXCPU": " (CPU time limit)",
                   "SIGSEGV": " (segmentation fault)", "SIGXFSZ": " (file-size limit: too much output or a file too large)",
                   }.get(name, "")
            raise WorkerCrashed(f"the process running the submission died with {name}{why} while {doing}")
        raise WorkerCrashed(f"the process running the submission exited (status {code}) while {doing}")

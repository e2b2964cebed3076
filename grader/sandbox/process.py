"""The judge's handle on one worker: a child of the fork server serving one submission.

A ``Worker`` asks its process's fork server (``forkserver.py``) for a child that has imported the
submission (the child sets its rlimits and drops its privileges before it does), talks to it over
two pipes through the codec, enforces a deadline on every call, and has the fork server kill the
child and everything it started when it is done or misbehaves.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.errors import ForbiddenAPI, StudentError, StudentFault, StudentTimeout, WorkerCrashed
from grader.files_code import names_in_code
from grader.sandbox import codec, forkserver
from grader.sandbox.isolation import Isolation, detect
from grader.spec import Limits

MAX_BUFFERED = 256 << 20  # answers read ahead while a request is being written (see Worker._send)
MAX_NOTES = 20         # as the worker caps them (``worker.MAX_NOTES``): the judge trusts no count...
MAX_NOTE_CHARS = 400   # ...nor length it is sent


@dataclass
class CallResult:
    value: object
    seconds: float  # wall time of the call as the judge saw it, round trip included
    args_after: list | None = None
    worker_seconds: float = 0.0  # the student function's own time, measured in the worker
    index: int = 0  # which call of its request this answers (a walk skips steps)
    trace: np.ndarray | None = None  # a walk's θ every few steps before this answer, to draw (not graded)
    after: object = None  # a walk's θ after this step, when the step's value is not θ (``objectives.OutputsWalk``)


class Worker:
    """One child process serving one submission. Not thread-safe; one request at a time."""

    def __init__(self, workdir: Path, module: str, limits: Limits, output: Path, forbidden: list[str] = (),
                 isolation: Isolation | None = None):
        self.workdir, self.module, self.limits, self.output = workdir, module, limits, output
        self.forbidden = list(forbidden)
        self.isolation = isolation or detect()
        self.pid: int | None = None
        self.functions: list[str] = []
        self.notes: list[str] = []  # what the module recorded for its report (a notebook's import failures)
        self._next_id = 0
        self._generation = 0  # which process of this Worker's is running: requests belong to one
        self._unread: dict[int, Iterator[CallResult]] = {}  # request id -> its answers, not yet read to the end
        self._server: forkserver.ForkServer | None = None
        self.frames = 0  # frames received: answers travel many to a frame when they can (replies.Replies)

    # ----------------------------------------------------------------------------- lifecycle

    def start(self, deadline: float) -> None:
        """Fork the child and wait for its hello. ``StudentError`` if the submission fails to load."""
        self._generation += 1
        req_r, self._req_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        for fd in (req_r, rep_w):
            _widen(fd)
        limits = self.limits
        sandboxed = self.isolation.confined_uid  # RLIMIT_NPROC counts per uid: only for the slot's own
        output = os.open(self.output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        command = (self.workdir, self.module,
                   [limits.cpu_seconds, limits.memory_bytes, limits.file_bytes, limits.processes if sandboxed else 0],
                   limits.result_bytes, self.forbidden, (req_r, rep_w, output))
        try:
            for attempt in (1, 2):
                self._server = forkserver.server(self.isolation, max(1, limits.file_bytes >> 20),
                                                 _mentions_torch(self.workdir))
                try:
                    self.pid = self._server.spawn(*command)
                    break
                except forkserver.ForkServerError as exc:
                    if attempt == 2 or self._server.alive:
                        raise
                    # The fork server died (seen rarely, while it stopped the previous child): say so, and
                    # let server() start a fresh one; the submission must not pay for the grader's hiccup.
                    print(f"grader: {exc}; starting a new fork server", file=sys.stderr)
        finally:
            for fd in (req_r, rep_w, output):
                os.close(fd)
        self._reader = codec.Reader(self._rep_r)
        os.set_blocking(self._req_w, False)  # see _send
        hello = self._receive(min(deadline, time.monotonic() + self.limits.startup_seconds), "importing it")
        if not hello.get("ok"):
            self.stop()
            raise StudentError(f"{self.module}.py could not be loaded:\n{hello.get('error', '')}")
        self.functions = list(hello.get("functions") or [])
        self.notes = _notes(hello.get("notes"))

    @property
    def alive(self) -> bool:
        return self.pid is not None

    def stop(self, grace: float = 0.0) -> int | None:
        """Kill the child and every process it started, and reap them; the child's exit code
        (negative: the signal that killed it). Safe to call twice."""
        if self.pid is None:
            return None
        for fd in (self._req_w, self._rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        pid, self.pid = self.pid, None
        self._unread.clear()  # their answers died with the process
        # Without a grace, nobody waits for an exit status: the fork server kills and reaps while we go on.
        return self._server.stop(pid, grace, wait=grace > 0)

    # ---------------------------------------------------------------------------------- calls

    def call(self, fn: str, args: list, kwargs: dict, deadline: float, echo: bool = False) -> CallResult:
        """Run ``fn(*args, **kwargs)`` in the worker. Raises ``StudentError`` if it raised,
        ``StudentTimeout`` past ``deadline``, ``WorkerCrashed`` if the process died."""
        return next(self.stream(fn, [(args, kwargs)], lambda: deadline, echo=echo))

    def stream(self, fn: str, calls: list[tuple[list, dict]], deadline, *, carry=None, echo: bool = False,
               walk: str | None = None, repeat: int = 1, theta_only: bool = False,
               trace: int = 0) -> Iterator[CallResult]:
        """Send one request for many calls of ``fn`` now; the iterator returned yields each result as
        it arrives (the worker computes while the judge does something else: compute what the
        results are compared with, say). ``deadline()`` gives the deadline of the next frame. With ``carry=(a, o)`` (or a list of such pairs), call
        ``i + 1`` gets element ``o`` of call ``i``'s value as its argument ``a`` (see ``worker.serve``).
        Raises like ``call`` at the first call that fails. A consumer may stop early: closing the
        generator (``contextlib.closing``) reads the rest of the request's answers, so whatever the
        worker does in the calls left (hang, crash) costs the consumer's time, not the next request's
        result; a fault there is swallowed and the worker replaced at the next call. ``walk`` and
        ``repeat``: the one call run freely ``repeat`` times as ``objectives.walker(walk)`` says, which
        yields only some steps (the last one always; ``CallResult.index`` says which).
        ``theta_only``: a value that is an optimizer's step ``(theta, state)`` arrives as ``(theta, {})``,
        its state kept in the worker (for checks that compare θ alone; anything else arrives whole).
        Calls that share one kwargs object (``is``) have it sent once, and an argument that is an array
        of one shape and dtype in every call is sent as one stacked array (``columns``).
        ``CallResult.seconds`` of the first answer includes the time to encode and send the request."""
        sent_at = time.monotonic()
        self._next_id += 1
        call_id, total = self._next_id, len(calls) * repeat
        pairs = [list(carry)] if carry and type(carry[0]) is int else [list(p) for p in carry or ()]
        shared = calls[0][1] if calls and calls[0][1] and all(k is calls[0][1] for _, k in calls) else None
        columns = _columns([a for a, _ in calls]) if repeat == 1 else {}
        request = {"id": call_id, "fn": fn, "kwargs": shared, "columns": list(columns.items()),
                   "echo": echo, "carry": pairs or None, "walk": walk, "repeat": repeat,
                   "theta_only": theta_only, "progress": self.limits.call_seconds / 4, "trace": trace}
        same = _same_args([a for a, _ in calls], columns) if shared or not any(k for _, k in calls) else None
        if same is not None:  # every call's arguments are a column or one plain value: no list of calls
            request.update(count=len(calls), same=same)
        else:
            request["calls"] = [[[None if i in columns else x for i, x in enumerate(a)], None if shared else dict(k)]
                                for a, k in calls]
        self._send(request, deadline(), fn)
        sending = time.monotonic() - sent_at
        frames = self._frames(call_id, fn, deadline, total, walk is not None, pairs, theta_only, sending, self._generation)
        self._unread[call_id] = frames
        return self._answers(call_id, frames, self._generation)

    def _send(self, request: dict, deadline: float, fn: str) -> None:
        """Write a request without ever blocking on a full pipe: while the worker cannot take more, read
        what it is answering (an earlier request's) into the reader's buffer, so the two never wait on
        each other; past ``deadline`` the worker is stopped (``StudentTimeout``)."""
        view = memoryview(codec.encode(request, 1 << 40))
        try:
            while view:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    self.stop()
                    raise StudentTimeout(f"the worker took no request within the time limit while calling {fn}")
                readable, writable, _ = select.select([self._rep_r], [self._req_w], [], timeout)
                if writable:
                    view = view[os.write(self._req_w, view[:1 << 16]):]
                elif readable and not self._reader.pump(MAX_BUFFERED):
                    self.stop()
                    raise StudentError(f"the worker sent more than it was asked for while {fn} was being called")
        except (BrokenPipeError, OSError, EOFError):
            self._crashed(f"calling {fn}")

    def settle(self) -> None:
        """Read what is left of every request sent so far, oldest first, and swallow its faults: what
        the worker does for a check's requests (hang, crash) costs that check, not the next one."""
        for call_id in sorted(self._unread):
            frames = self._unread.pop(call_id)
            if not self.alive:
                continue
            try:
                for _ in frames:
                    pass
            except StudentFault:
                pass

    def _answers(self, call_id: int, frames: Iterator[CallResult], owner: int) -> Iterator[CallResult]:
        """``frames``, read to the end when the consumer closes this early (see ``stream``)."""
        for result in frames:
            try:
                yield result
            except GeneratorExit:
                # Only the process that got the request, and only if no later one was sent (that one skips
                # what is left); a generator closed late, by the garbage collector, must not read a new process.
                if self.alive and self._generation == owner and call_id == self._next_id:
                    try:
                        for _ in frames:
                            pass
                    except StudentFault:
                        pass
                raise

    def _frames(self, call_id: int, fn: str, deadline, total: int, walk: bool,
                pairs: list, theta_only: bool, sending: float, owner: int) -> Iterator[CallResult]:
        """The answers to request ``call_id``, up to the last one the worker sends (see ``stream``)."""
        try:
            yield from self._read(call_id, fn, deadline, total, walk, pairs, theta_only, sending, owner)
        finally:
            self._unread.pop(call_id, None)

    def _read(self, call_id: int, fn: str, deadline, total: int, walk: bool,
              pairs: list, theta_only: bool, sending: float, owner: int) -> Iterator[CallResult]:
        expected = 0
        while expected < total:
            # the process the request went to, not whichever runs when this is read (a late close, say)
            if not self.alive or self._generation != owner:
                raise WorkerCrashed(f"the process running the submission was stopped before {fn} answered")
            start = time.monotonic()  # the check's own time between results is not the boundary's
            reply = self._receive(deadline(), f"running {fn}", call_id)
            seconds = time.monotonic() - start + (sending if expected == 0 else 0.0)  # the request's encoding too
            i = reply.get("i")
            if type(i) is not int or not (i == expected or walk and expected < i < total):
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
            batch = _batch(reply, theta_only, total - i)
            if batch is None:
                self.stop()
                raise StudentError(f"unreadable answer while running {fn}")
            trace = reply.get("trace")
            if type(trace) is not np.ndarray or trace.ndim != 2 or trace.dtype != np.float64:
                trace = None
            for k, (value, _) in enumerate(batch):
                # a batch's wait goes with its first answer, against all of its answers' time in the worker
                yield CallResult(value, seconds if k == 0 else 0.0, reply.get("args_after"),
                                 sum(s for _, s in batch) if k == 0 else 0.0, i + k, trace, reply.get("after"))
            expected = i + len(batch)
            if walk and reply.get("last") is True:
                return  # where the worker says the walk stopped; the caller checks the value, and the step count
            if pairs and not (isinstance(value, (tuple, list)) and len(value) > max(o for _, o in pairs)):
                return  # the worker ended the stream too; the caller reports what is wrong with this value

    def _receive(self, deadline: float, doing: str, call_id: int | None = None) -> dict:
        while True:
            try:
                message = self._reader.receive(self.limits.result_bytes, deadline)
            except TimeoutError:
                self.stop()
                raise StudentTimeout(f"no answer within the time limit while {doing}") from None
            except EOFError:
                self._crashed(doing)
            except codec.CodecError as exc:
                self.stop()
                raise StudentError(f"unreadable answer while {doing}: {exc}") from None
            self.frames += 1
            if type(message) is not dict:
                self.stop()
                raise StudentError(f"unreadable answer while {doing}")
            if call_id is None or message.get("id") == call_id:
                return message
            if type(message.get("id")) is not int or message["id"] > call_id:
                self.stop()
                raise StudentError(f"the worker answered out of turn while {doing}")
            # else: the rest of a stream the judge stopped reading; skip it

    def _crashed(self, doing: str):
        code = self.stop(grace=1.0)  # it closed its pipe: let it finish dying, to learn how
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = {"SIGKILL": " (killed: memory or CPU limit, or killed itself)", "SIGXCPU": " (CPU time limit)",
                   "SIGSEGV": " (segmentation fault)", "SIGXFSZ": " (file-size limit: too much output or a file too large)",
                   }.get(name, "")
            raise WorkerCrashed(f"the process running the submission died with {name}{why} while {doing}")
        raise WorkerCrashed(f"the process running the submission exited (status {code}) while {doing}")


PIPE_BYTES = 1 << 20


def _widen(fd: int) -> None:
    """A pipe of ``PIPE_BYTES`` (Linux's default is 64 KiB): an answer of a few arrays crosses in one
    write and one read instead of many turns of the two processes. Where the system says no, as is."""
    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass


MIN_COLUMN_CALLS = 8


def _mentions_torch(workdir: Path) -> bool:
    """Whether a submission's Python files name torch in their code (not only in a docstring or a
    comment): it is then served by a fork server that has imported torch, else by a lighter one whose
    children fork and exit ten times faster. A submission that imports torch without naming it still
    works; its child imports torch itself."""
    try:
        return any(names_in_code(path.read_bytes(), "torch") for path in workdir.rglob("*.py"))
    except OSError:
        return True


def _same_args(args: list[list], columns: dict) -> list | None:
    """The arguments of calls that all have the same number of them, each position either a column
    or one plain value in every call (a number, a string, None, or an empty dict such as an optimizer's
    first state): that value per position (``None`` where a column goes). Otherwise ``None``."""
    if len(args) < MIN_COLUMN_CALLS or any(len(a) != len(args[0]) for a in args):
        return None
    same = []
    for i, x in enumerate(args[0]):
        if i in columns:
            same.append(None)
        elif (type(x) in (int, float, str, bool, type(None)) or type(x) is dict and not x) and all(
                type(a[i]) is type(x) and a[i] == x for a in args):
            same.append(x)
        else:
            return None
    return same


def _batch(reply: dict, theta_only: bool, room: int) -> list[tuple[object, float]] | None:
    """The ``(value, seconds in the worker)`` pairs a reply frame answers: one, or a batch of numbers
    (``batch``), or of optimizer steps whose θs come stacked (``stack``, under ``theta_only``: each
    arrives as ``(theta, {})``, on the worker's word that its state was a dict; the state is not
    graded). ``None`` for a frame that does not hold together or answers more calls than are left."""
    seconds = reply.get("seconds")
    if "batch" not in reply and "stack" not in reply:
        value = reply.get("value")
        if theta_only and reply.get("theta_only") is True:
            value = (value, {})
        return [(value, seconds if type(seconds) is float else 0.0)]
    values = reply.get("batch")
    if "stack" in reply:
        stack = reply["stack"]
        if not theta_only or type(stack) is not np.ndarray or stack.ndim < 1:
            return None
        values = [(row, {}) for row in stack]
    if (type(values) is not list or not 0 < len(values) <= room or type(seconds) is not list
            or len(seconds) != len(values) or not all(type(s) is float for s in seconds)):
        return None
    return list(zip(values, seconds, strict=True))


def _columns(args: list[list]) -> dict[int, np.ndarray]:
    """Positional arguments that are an array of the same shape and dtype in every call, stacked
    (argument index -> array whose row i is call i's): two arrays to encode instead of hundreds."""
    if len(args) < MIN_COLUMN_CALLS:
        return {}
    columns = {}
    for i, x in enumerate(args[0]):
        if type(x) is np.ndarray and all(len(a) > i and type(a[i]) is np.ndarray and a[i].shape == x.shape
                                         and a[i].dtype == x.dtype for a in args):
            columns[i] = np.stack([a[i] for a in args])
    return columns


def _notes(value: object) -> list[str]:
    """The hello's notes as a list of strings, capped: the worker is not trusted to have checked them."""
    if type(value) is not list:
        return []
    return [note[:MAX_NOTE_CHARS] for note in value[:MAX_NOTES] if type(note) is str]

"""Grading many submissions at once: a pool of judge processes on this machine.

Each judge is a process forked from this one that keeps one pytest session (the checks collected
once) and one fork server (NumPy and torch imported once) for the whole batch, and asks for work
one submission at a time over its own pipe. The parent hands out jobs, receives each report as plain
JSON the moment it is done and passes it to ``on_report`` (which writes the gradebook), so the
parent always knows which submission each judge holds. A judge that dies (a bug of ours, the
machine's OOM killer) costs only the submission it held: that one is tried once more in a fresh
judge, then recorded as the grader's failure; the batch goes on.

Torch is kept single-threaded in the parent before it forks and in every judge: a process that ran
a multi-threaded torch op cannot safely fork, and N judges on N cores want one thread each anyway.
None of them imports torch unless a check needs it (an oracle not remembered yet: ``grader.testing``).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from grader.course import Assignment, load_assignment
from grader.errors import SpecError
from grader.grade import Job, grade_stream
from grader.pages import draw_page
from grader.report import Report, failed_report
from grader.sandbox import forkserver
from grader.sandbox import isolation as isolation_module
from grader.sandbox.isolation import Isolation

PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Settings:
    """What a judge anywhere (a forked process, a Dask worker) needs besides the job: plain data."""

    assignment: str
    course: str
    sandbox: bool
    secret: bytes
    torch: bool = True  # some submission mentions torch: start the fork server with torch ahead
    explain: bool = False  # internal errors say what they are: for the reference's preflight, never a class

    def load(self) -> tuple[Assignment, Isolation]:
        task = load_assignment(self.assignment, Path(self.course))
        return task, isolation_module.detect() if self.sandbox else isolation_module.unconfined()


def single_threaded_torch() -> None:
    """Before a fork, and in every judge: no torch thread pool (see the module's docstring), if torch is
    imported. It need not be: the checks import it when an oracle is not remembered yet
    (``grader.eager_torch.lazy`` sets it to one thread then), and a judge whose oracles all are never does."""
    torch = sys.modules.get("torch")  # the real one: a lazy stand-in is never in sys.modules
    if torch is None:
        return
    from grader import eager_torch

    torch.set_num_threads(1)
    eager_torch.install()


SUBMISSIONS_PER_JUDGE = 24  # a judge's start-up costs about what grading this many optimizers submissions does


def default_workers(submissions: int | None = None) -> int:
    """One judge per core; for a batch of ``submissions``, at most one per ``SUBMISSIONS_PER_JUDGE``:
    a second judge starts its own fork servers, pytest session and imports (about 2 s of CPU), which
    a small batch does not win back (18 optimizers submissions on 2 cores: 6.0 s with one judge, 7.0 s
    with two; 30: 7.7 s and 7.0 s)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if submissions is None:
        return cores
    return max(1, min(cores, 1 + submissions // SUBMISSIONS_PER_JUDGE))


OnPage = Callable[[str, str], None]  # (submission, its report.html)


def grade_local(settings: Settings, jobs: list[Job], on_report: Callable[[Report], None], *, workers: int = 1,
                on_page: OnPage | None = None) -> None:
    """Grade ``jobs`` with ``workers`` judge processes (in this process when 1), reports to ``on_report``.

    With ``on_page``, the judge that graded a submission also draws its HTML page, right after its
    report, and the page goes to ``on_page`` after the report has gone to ``on_report``: the pictures
    are drawn in parallel with the other judges' grading, where a page costs about what a grade does.
    A page that could not be drawn is not sent (the caller draws what it lacks from the gradebook).
    """
    if not jobs:
        return
    if workers <= 1 or len(jobs) == 1:
        task, iso = settings.load()
        disk_mb = max(1, task.spec.limits.file_bytes >> 20)
        # The fork servers start before our own torch import, so the two imports overlap on two cores; a
        # single submission that mentions torch needs only the server with torch.
        light = not settings.torch or len(jobs) > 1
        if settings.torch:
            forkserver.prestart(iso, disk_mb, with_torch=True)
        if light:
            forkserver.prestart(iso, disk_mb)
        # torch is the checks' to import, when they need it (grader.eager_torch.lazy): no fork follows here

        def report_and_page(report: Report) -> None:
            on_report(report)
            page = draw_page(report) if on_page else None
            if page is not None:
                on_page(report.submission, page)

        grade_stream(task, jobs, report_and_page, secret=settings.secret, isolation=iso,
                     prestart_torch=settings.torch, prestart_light=light)
        return
    single_threaded_torch()
    _Pool(settings, jobs, on_report, min(workers, len(jobs)), on_page).run()


def grade_apart(settings: Settings, jobs: list[Job]) -> list[Report]:
    """The reports of ``jobs``, in order, graded by one judge process of their own (this process imports
    no check, and starts no fork server that a later pool's judges would inherit)."""
    reports: dict[str, Report] = {}
    settings = dataclasses.replace(settings, explain=True)  # the reference's and the stub's errors, for the instructor
    _Pool(settings, jobs, lambda report: reports.__setitem__(report.submission, report), 1).run()
    return [reports[job.submission] for job in jobs]


class _Pool:
    RETRIES = 1

    def __init__(self, settings: Settings, jobs: list[Job], on_report: Callable[[Report], None], workers: int,
                 on_page: OnPage | None = None):
        self.settings, self.on_report, self.workers, self.on_page = settings, on_report, workers, on_page
        self.queue = list(reversed(jobs))  # pop() from the end: jobs go out in the given order
        self.tries: dict[str, int] = {}
        self.startup_failures = 0
        self.judges: dict[Connection, tuple[multiprocessing.Process, Job | None]] = {}
        self.finished: list[multiprocessing.Process] = []
        self.context = multiprocessing.get_context("fork")  # judges inherit the imports; see single_threaded_torch

    def run(self) -> None:
        isolation_module.detect() if self.settings.sandbox else None  # one trial run, before the fork
        try:
            for _ in range(self.workers):
                self._start_judge()
            while self.judges:
                ready = wait([*self.judges, *(p.sentinel for p, _ in self.judges.values())])
                for conn in list(self.judges):
                    process, _ = self.judges[conn]
                    if conn in ready:
                        self._serve(conn)
                    elif process.sentinel in ready and conn in self.judges:
                        self._judge_died(conn)
        finally:
            for conn, (process, _) in list(self.judges.items()):  # interrupted: stop the rest
                process.terminate()
                process.join(5)
                conn.close()
            for process in self.finished:
                process.join(30)

    def _start_judge(self) -> None:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_judge_main, args=(self.settings, theirs, self.on_page is not None),
                                       daemon=True)
        process.start()
        theirs.close()
        self.judges[ours] = (process, None)

    def _serve(self, conn: Connection) -> None:
        process, held = self.judges[conn]
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):
            self._judge_died(conn)
            return
        if kind == "report":
            self.on_report(Report.model_validate_json(payload))
            self.judges[conn] = (process, None)
        elif kind == "spec-error":  # the instructor's mistake (a check file that does not load): the batch stops
            raise SpecError(payload)
        elif kind == "page" and self.on_page is not None:
            self.on_page(*payload)
        elif kind == "next":
            job = self.queue.pop() if self.queue else None
            self.judges[conn] = (process, job)
            conn.send(None if job is None else (str(job.path), job.submission, job.problem))
            if job is None:  # it finishes its session and exits; joined at the end
                self.finished.append(process)
                del self.judges[conn]
                conn.close()

    def _judge_died(self, conn: Connection) -> None:
        process, held = self.judges.pop(conn)
        process.join(1)
        conn.close()
        if held is None:  # died before it asked for a job, or between two: never a submission's doing
            self.startup_failures += 1
            if self.startup_failures > self.RETRIES:
                raise SpecError(f"a judge process died before grading anything (exit code {process.exitcode}), "
                                f"{self.startup_failures} times: see its error above")
        else:
            tries = self.tries[held.submission] = self.tries.get(held.submission, 0) + 1
            if tries <= self.RETRIES:
                self.queue.append(held)
            else:
                task, _ = self.settings.load()
                self.on_report(failed_report(task, held.submission, "the grading process died on this submission "
                                             f"(exit code {process.exitcode}), twice; please tell the course staff"))
        if self.queue:
            self._start_judge()


def _judge_main(settings: Settings, conn: Connection, pages: bool = False) -> None:
    """A judge: one pytest session over the jobs the parent hands out, until it says there are no more."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops us with SIGTERM
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the fork server and temporary folders
    single_threaded_torch()

    def jobs():
        while True:
            conn.send(("next", None))
            job = conn.recv()
            if job is None:
                return
            yield Job(Path(job[0]), job[1], job[2])

    def send(report: Report) -> None:
        conn.send(("report", report.model_dump_json()))  # recorded before its page is drawn
        page = draw_page(report) if pages else None
        if page is not None:
            conn.send(("page", (report.submission, page)))

    try:
        task, iso = settings.load()
        grade_stream(task, jobs(), send, secret=settings.secret, isolation=iso, prestart_torch=settings.torch,
                     explain=settings.explain)
    except SpecError as exc:
        conn.send(("spec-error", str(exc)))
    finally:  # a forked process exits without atexit: its fork servers' folders would stay in $TMPDIR
        forkserver.close_all()


def _die_with_parent() -> None:
    """If the parent is killed (even with SIGKILL), its judges go too, and their sandboxes with them."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(1)

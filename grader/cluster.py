"""Grading on a Dask cluster: ``grader grade ... --scheduler tcp://host:8786`` (extra ``grader[dask]``).

Each submission is one task. The task carries the submission's files (so the workers need no shared
filesystem) and the batch's settings, the course secret among them (so hidden inputs are the same
as on the local pool: run the cluster on a private network or with TLS). Every machine needs the
course folder at the same path, the grader installed, and ``make setup``'s worker interpreter for
the sandbox. On each Dask worker process a judge thread keeps one pytest session and one fork server
for all the tasks it gets, exactly the grading of the local pool; the reports come back as JSON and
the process that submitted the batch writes the gradebook.
"""

from __future__ import annotations

import io
import os
import queue
import stat
import tempfile
import threading
import traceback
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

from grader.errors import SpecError, UsageError
from grader.files import Tree
from grader.files_entries import TreeError, kind_of, read_regular
from grader.files_write import materialize
from grader.grade import Job, grade_stream
from grader.pool import Settings, single_threaded_torch
from grader.report import Report, failed_report
from grader.submission import MAX_ZIP_BYTES, StagingError


def grade_dask(address: str, settings: Settings, jobs: list[Job], on_report: Callable[[Report], None]) -> None:
    """Send ``jobs`` to the Dask scheduler at ``address``; each report to ``on_report`` as it comes back."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'grader[dask]'") from None
    if not jobs:
        return
    with Client(address, timeout="30s") as client:
        futures = {client.submit(grade_remote, settings, job.submission, *_packed(job), pure=False,
                                 key=f"grade-{job.submission}-{uuid.uuid4().hex[:8]}"): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                report = Report.model_validate_json(future.result())
            except SpecError:
                raise
            except Exception as exc:  # a worker lost, or our bug there: this submission only
                task, _ = settings.load()
                report = failed_report(task, job.submission, f"the grading cluster failed on this submission "
                                       f"({type(exc).__name__}: {exc}); please tell the course staff")
            on_report(report)


def pack(path: Path) -> tuple[str, str, bytes]:
    """A submission as data: ``("file", name, bytes)``, or ``("folder", name, zip bytes)`` for a folder,
    its links kept as links (``grader.files``: the worker's staging judges them as a local one would).
    ``StagingError`` for what cannot travel (a named pipe, a file past the size cap)."""
    try:
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode):
            return "file", path.name, read_regular(path, MAX_ZIP_BYTES)
        if not stat.S_ISDIR(info.st_mode):
            raise StagingError(f"{path.name} is {kind_of(info.st_mode)}, not a file or a folder: it was not read")
        buffer = io.BytesIO()
        with Tree.from_folder(path) as tree, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for relative, node in tree.entries():
                if node.kind == "file":
                    archive.writestr(str(relative), tree.read(relative, MAX_ZIP_BYTES))
                elif node.kind == "link":
                    member = zipfile.ZipInfo(str(relative))
                    member.create_system, member.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
                    archive.writestr(member, node.target.encode("utf-8", "surrogateescape"))
                elif node.kind == "dir":
                    archive.writestr(zipfile.ZipInfo(f"{relative}/"), b"")
        return "folder", path.name, buffer.getvalue()
    except (OSError, TreeError) as exc:
        raise StagingError(f"{path.name} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None


def unpack(packed: tuple[str, str, bytes], into: Path) -> Path:
    kind, name, data = packed
    name = Path(name).name or "submission"  # a name, never a path
    target = into / name
    if kind == "file":
        target.write_bytes(data)
        return target
    with Tree.from_zip(data, name) as tree:
        materialize(tree, target, limit=MAX_ZIP_BYTES)
    return target


# ------------------------------------------------------------------------------ on the workers


def _packed(job: Job) -> tuple[tuple[str, str, bytes], str | None]:
    """What a task needs of a job: its files as data, and the problem that keeps it from being staged."""
    if job.problem:
        return ("file", job.path.name, b""), job.problem
    try:
        return pack(job.path), None
    except StagingError as exc:
        return ("file", job.path.name, b""), str(exc)


def grade_remote(settings: Settings, submission: str, packed: tuple[str, str, bytes], problem: str | None = None) -> str:
    """The task: grade one submission with this process's judge; the report as JSON."""
    with tempfile.TemporaryDirectory(prefix="grader-task-") as tmp:
        path = unpack(packed, Path(tmp))
        return _judge(settings).grade(Job(path, submission, problem)).model_dump_json()


_judges: dict[Settings, _Judge] = {}
_judges_lock = threading.Lock()


def _judge(settings: Settings) -> _Judge:
    with _judges_lock:
        judge = _judges.get(settings)
        if judge is None or not judge.thread.is_alive():
            judge = _judges[settings] = _Judge(settings)
        return judge


class _Judge:
    """A thread that runs one pytest session over the jobs the tasks of this process hand it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.jobs: queue.Queue = queue.Queue()
        self.lock = threading.Lock()  # one job at a time (Dask may run tasks in several threads)
        self.thread = threading.Thread(target=self._run, name="grader-judge", daemon=True)
        self.thread.start()

    def grade(self, job: Job) -> Report:
        with self.lock:
            answer: queue.Queue = queue.Queue()
            self.jobs.put((job, answer))
            result = answer.get()
        if isinstance(result, BaseException):
            raise result
        return result

    def _run(self) -> None:
        current: list[queue.Queue] = []

        def jobs():
            while True:
                job, answer = self.jobs.get()
                current[:] = [answer]
                yield job

        try:
            single_threaded_torch()
            task, iso = self.settings.load()
            grade_stream(task, jobs(), lambda report: current[0].put(report), secret=self.settings.secret,
                         isolation=iso)
        except BaseException as exc:  # noqa: BLE001 - handed to the task that waits, and to the next ones
            traceback.print_exc()
            for waiting in current:
                waiting.put(exc)
            while True:  # this judge is dead: answer every later job with the error, a new judge takes over
                try:
                    _, answer = self.jobs.get_nowait()
                except queue.Empty:
                    return
                answer.put(exc)

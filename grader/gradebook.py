"""The gradebook: a SQLite database that every result goes to the moment it exists.

One row per (assignment, submission) in ``grades`` with the whole report as JSON, and one row per
check in ``checks`` for queries (``SELECT name, count(*) FROM checks WHERE status != 'passed' ...``).
Each submission's result is written in one transaction, so a batch stopped by a crash, ``kill -9`` or
Ctrl-C keeps every grade it finished and none half-written; the next run of the same command grades
only what is missing. A row also keeps two fingerprints: of the submission's files, and of the
assignment (spec, checks, reference). When either changes, the submission is graded again.

The CSV gradebook, the reports on disk and every export are rendered from here.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from grader.course import Assignment
from grader.errors import UsageError
from grader.files import Tree
from grader.files_entries import TreeError, kind_of
from grader.intake import Origin
from grader.report import Report

MAX_FINGERPRINT_BYTES = 64 << 20  # a folder's file larger than this counts by its size

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    assignment TEXT NOT NULL,
    submission TEXT NOT NULL,
    source TEXT NOT NULL,                 -- the path it was graded from
    fingerprint TEXT NOT NULL,            -- sha256 of the submission's files
    assignment_fingerprint TEXT NOT NULL, -- sha256 of the spec, the checks and the reference
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    report TEXT NOT NULL,                 -- the Report as JSON
    graded_at TEXT NOT NULL,
    PRIMARY KEY (assignment, submission)
);
CREATE TABLE IF NOT EXISTS checks (
    assignment TEXT NOT NULL,
    submission TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (assignment, submission, name)
);
CREATE TABLE IF NOT EXISTS students (     -- whom an LMS export named (intake.Origin), for grader.lms
    assignment TEXT NOT NULL,
    submission TEXT NOT NULL,
    lms TEXT NOT NULL,                    -- canvas or moodle
    user TEXT NOT NULL,                   -- Canvas's user id, Moodle's participant id
    name TEXT NOT NULL,                   -- as the file name gave it: lastfirst, or the full name
    PRIMARY KEY (assignment, submission)
);
"""


def fingerprint(path: Path) -> str:
    """sha256 over a submission's files: the file itself, or every entry under a folder with its relative
    path (a link by its target, never followed; ``grader.files``). Never raises and never blocks: a path
    that cannot be read, or a named pipe, is fingerprinted by what it is."""
    digest = hashlib.sha256()
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            with Tree.from_folder(path) as tree:
                return tree.digest(MAX_FINGERPRINT_BYTES)
        if not stat.S_ISREG(info.st_mode):
            digest.update(f"{kind_of(info.st_mode)}\0".encode())
            return digest.hexdigest()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except (OSError, TreeError) as exc:
        digest.update(f"unreadable\0{exc}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def problem_fingerprint(problem: str) -> str:
    """The fingerprint of a submission that is never read (``Job.problem``): its problem's text."""
    return hashlib.sha256(b"problem\0" + problem.encode("utf-8", "surrogateescape")).hexdigest()


def assignment_fingerprint(assignment: Assignment) -> str:
    """sha256 over what decides a grade besides the submission: the spec, the check files, every reference of
    the course (a check may call another assignment's: ``reference_of``), the kit the checks import
    (``grader.testing`` and what it builds on: the surfaces, figures, spec and errors), and the versions of
    NumPy and torch. Editing any of them regrades the class on the next run."""
    digest = hashlib.sha256()
    grader_dir = Path(__file__).resolve().parent
    files = [assignment.folder / "assignment.toml", *sorted(assignment.checks_dir.glob("*.py")),
             *sorted((assignment.course / "reference").glob("*.py")),
             *sorted((grader_dir / "testing").glob("*.py")),
             *(grader_dir / name for name in ("figures.py", "spec.py", "errors.py", "sandbox/objectives.py"))]
    if assignment.reference_path not in files:
        files.insert(1, assignment.reference_path)
    for file in files:
        digest.update(str(file.relative_to(file.parent.parent)).encode() + b"\0" + file.read_bytes() + b"\0")
    for package in ("numpy", "torch"):
        digest.update(f"{package} {_version(package)}\0".encode())
    return digest.hexdigest()


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "none"


LOCK_NAME = ".grader.lock"


@contextmanager
def exclusive(out: Path) -> Iterator[None]:
    """Hold ``out`` for one ``grader grade`` at a time: an advisory lock (``flock``) on ``out/.grader.lock``,
    which names its holder. A second run on the same folder (two TAs, a scheduled job that overlaps the
    last) stops at once with ``UsageError`` naming the folder and the holder, before it reads or writes
    anything there. The lock goes with the process, however it ends (``kill -9`` included): a stale file
    never blocks the next run. ``UsageError`` too when ``out`` cannot be created or written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise UsageError(f"cannot write to the output folder {out}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise UsageError(f"{out} is in use by another grader ({holder}): wait for it to finish, "
                         "or grade into another --out") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since "
                      f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


class Gradebook:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)  # explicit transactions below
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed grade survives a power cut, not only a kill
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, report: Report, *, source: str, fingerprint: str, assignment_fingerprint: str) -> None:
        """Store one submission's report and its checks, in one transaction."""
        key = (report.assignment, report.submission)
        with self._transaction():
            self.db.execute("DELETE FROM checks WHERE assignment = ? AND submission = ?", key)
            self.db.execute(
                "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, source, fingerprint, assignment_fingerprint, report.score, report.max_score,
                 report.model_dump_json(), datetime.now(UTC).isoformat()))
            self.db.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(*key, c.name, c.status, c.points, c.max_points, c.message) for c in report.checks])

    def record_origins(self, assignment: str, origins: dict[str, Origin]) -> None:
        """Whom the LMS named for each submission id of this run (an id graded from a plain file keeps
        what an earlier run recorded for it, if anything)."""
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO students VALUES (?, ?, ?, ?, ?)",
                                [(assignment, sid, *origin) for sid, origin in origins.items()])

    def origins(self, assignment: str) -> dict[str, Origin]:
        """submission id -> whom the LMS named, for the submissions an LMS export named."""
        rows = self.db.execute("SELECT submission, lms, user, name FROM students WHERE assignment = ?", (assignment,))
        return {sid: Origin(lms, user, name) for sid, lms, user, name in rows}

    def assignments(self) -> list[str]:
        """The assignments this gradebook holds grades of."""
        return [name for (name,) in self.db.execute("SELECT DISTINCT assignment FROM grades ORDER BY assignment")]

    def fingerprints(self, assignment: str) -> dict[str, tuple[str, str]]:
        """submission id -> (its fingerprint, the assignment's fingerprint) when it was graded."""
        rows = self.db.execute("SELECT submission, fingerprint, assignment_fingerprint FROM grades WHERE assignment = ?",
                               (assignment,))
        return {sid: (fp, afp) for sid, fp, afp in rows}

    def reports(self, assignment: str, submissions: list[str] | None = None) -> list[Report]:
        """The stored reports of an assignment (all of them, or those of ``submissions``), by submission id."""
        rows = self.db.execute("SELECT submission, report FROM grades WHERE assignment = ? ORDER BY submission",
                               (assignment,))
        wanted = None if submissions is None else set(submissions)
        return [Report.model_validate_json(text) for sid, text in rows if wanted is None or sid in wanted]

    def _transaction(self):
        db = self.db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *rest):
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

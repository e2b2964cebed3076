"""The judge's handle on its fork server (``zygote.py`` is the other side).

One fork server per judge process (per slot), started on first use and kept for the life of the
process: confined, it runs in the sandbox's namespaces and private root; unconfined (``--no-sandbox``,
``grader check``), as a plain ``python -I``. ``spawn`` hands it a submission folder and three
descriptors and gets a child that serves calls; ``stop`` ends the child and everything it started.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader.sandbox import isolation
from grader.sandbox.isolation import Isolation

ZYGOTE_SCRIPT = Path(__file__).with_name("zygote.py")
START_SECONDS = 120.0  # the interpreter start and the torch import, once per judge process
SCRATCH_PREFIX = "grader-zygote-"
OWNER_FILE = "owner"
STALE_SECONDS = 7 * 24 * 3600  # a scratch folder without an owner file, from an older grader


class ForkServerError(RuntimeError):
    """The fork server could not start or stopped answering: the grader's problem, not the student's."""


def scrubbed_env(home: str, tmp: str) -> dict[str, str]:
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


class ForkServer:
    """A zygote: a process that has imported NumPy (and torch, ``with_torch``) once and forks one
    confined child per submission. A child of a zygote with torch costs about 10 ms to fork and to
    reap (torch's 200 MB of mappings); one of a NumPy-only zygote, under 1 ms."""

    def __init__(self, iso: Isolation, slot: int, disk_mb: int, with_torch: bool = True):
        self.isolation, self.slot, self.disk_mb, self.with_torch = iso, slot, disk_mb, with_torch
        self.uid = isolation.SANDBOX_UID_BASE + slot
        self._scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        (self._scratch / OWNER_FILE).write_text(f"{os.getpid()}\n")  # for sweep_stale, after a kill -9
        self.inbox = self._scratch / "inbox"
        self.inbox.mkdir(mode=0o700)
        self._jobs = 0
        self._stopping = False  # a stop was sent and its answer is still to be read
        self._lock = threading.Lock()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        confined, preload = iso.namespaces, "torch" if with_torch else "numpy"
        if confined:
            newroot = self._scratch / "root"
            newroot.mkdir()
            argv = isolation.command(iso, newroot, self.inbox, slot, disk_mb,
                                     [isolation.PYTHON, "-I", isolation.ZYGOTE, str(theirs.fileno()), "confined",
                                      str(self.uid), preload], mode="zygote")
            env = scrubbed_env("/work", "/tmp")
        elif iso.uid_drop:
            # Root without namespaces: the fork server runs the worker interpreter as root and drops each
            # child to the slot's uid, in a folder of the uid's own that only it (and root) can enter.
            self._scratch.chmod(0o711)
            self.work = self._scratch / "work"
            self.work.mkdir(mode=0o700)
            os.chown(self.work, self.uid, self.uid)
            # The fork server's code is copied here, as confined ones see it at /sandbox: a worker's command
            # line (its fork server's, readable in /proc) then names no folder of the course.
            shutil.copytree(isolation.SANDBOX_DIR, self._scratch / "sandbox",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            argv = [str(iso.venv / "bin" / "python"), "-I", str(self._scratch / "sandbox" / ZYGOTE_SCRIPT.name),
                    str(theirs.fileno()), "uid", str(self.uid), preload, str(self.work)]
            env = scrubbed_env(str(self.work), str(self.work))
        else:
            argv = [sys.executable, "-I", str(ZYGOTE_SCRIPT), str(theirs.fileno()), "plain", str(os.getuid()), preload]
            env = scrubbed_env(str(self._scratch), str(self._scratch))
        self._log = open(self._scratch / "zygote.log", "wb")  # noqa: SIM115 - open for the server's life
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        self.pid = os.getpid()
        _starting[id(self)] = self  # close_all ends it even while it starts (a prestart nobody waited for)
        try:
            ready = self._receive(START_SECONDS, "starting")
        finally:
            _starting.pop(id(self), None)
        if not ready.get("ready"):
            self.close()
            raise ForkServerError(f"the fork server did not start: {ready}")

    # ----------------------------------------------------------------------------------- jobs

    def spawn(self, workdir: Path, module: str, limits: list[int], max_bytes: int, forbidden: list[str],
              fds: tuple[int, int, int]) -> int:
        """A child serving ``module`` from a copy of ``workdir``; its pid (in the sandbox's namespace)."""
        with self._lock:
            self._settle()
            self._jobs += 1
            command = {"op": "spawn", "module": module, "limits": limits, "max_bytes": max_bytes,
                       "forbidden": forbidden}
            if self.isolation.namespaces:
                job = f"job-{self._jobs}"
                shutil.copytree(workdir, self.inbox / job)
                command |= {"job": job, "env": scrubbed_env("/work", "/tmp")}
            elif self.isolation.uid_drop:  # the fork server copies it into the uid's folder
                command |= {"dir": str(workdir), "env": scrubbed_env(str(self.work), str(self.work))}
            else:
                command |= {"dir": str(workdir), "env": scrubbed_env(str(workdir), str(workdir))}
            try:
                self._send(command, list(fds), "forking")
                pid = self._receive(30.0, "forking")["pid"]
            finally:
                if self.isolation.namespaces:
                    shutil.rmtree(self.inbox / job, ignore_errors=True)
            return pid

    def stop(self, pid: int, grace: float = 0.0, wait: bool = True) -> int | None:
        """End child ``pid`` (after ``grace`` seconds to exit by itself) and all it started; its exit
        code as ``os.waitstatus_to_exitcode`` gives it (negative: killed by that signal). With
        ``wait=False``, return at once: the fork server kills and reaps while the judge goes on, and
        its answer (that no process survived) is read before the next command or by ``settle``."""
        with self._lock:
            self._settle()
            self._send({"op": "stop", "pid": pid, "grace": grace}, [], "stopping a child")
            if not wait:
                self._stopping = True
                return None
            answer = self._receive(grace + 10.0, "stopping a child")
        self._check_stopped(answer)
        status = answer.get("status")
        return None if status is None else os.waitstatus_to_exitcode(status)

    def settle(self) -> None:
        """Wait for a stop sent with ``wait=False``: afterwards no process of the child is left."""
        with self._lock:
            self._settle()

    def _settle(self) -> None:  # the lock is held
        if self._stopping:
            self._stopping = False
            self._check_stopped(self._receive(10.0, "stopping a child"))

    def _check_stopped(self, answer: dict) -> None:
        if answer.get("survivors"):
            raise ForkServerError(f"{answer['survivors']} processes of sandbox uid {self.uid} survived a kill")

    def _send(self, command: dict, fds: list[int], doing: str) -> None:
        try:
            socket.send_fds(self._sock, [json.dumps(command).encode()], fds)
        except OSError as exc:  # it died (a broken pipe): the grader's problem, reported as such
            log = self.log_tail()
            self.close()
            raise ForkServerError(f"the fork server is gone (status {self.proc.returncode}) while {doing}: {exc}; "
                                  f"{log}") from None

    def _receive(self, timeout: float, doing: str) -> dict:
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(1 << 16)
        except (TimeoutError, OSError) as exc:
            self.close()
            raise ForkServerError(f"the fork server did not answer while {doing}: {exc}") from None
        if not data:
            log = self.log_tail()  # before close(), which removes the log with the scratch folder
            self.close()
            raise ForkServerError(f"the fork server exited (status {self.proc.returncode}) while {doing}: {log}")
        return json.loads(data)

    def log_tail(self) -> str:
        try:
            return (self._scratch / "zygote.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, *, kill: bool = False) -> None:
        """Stop the server (it exits when its socket closes; ``kill``: at once, as one still importing
        would only notice when it says it is ready) and remove its folder."""
        try:
            self._sock.close()
        except OSError:
            pass
        if kill and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)  # it exits when its socket closes
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self._scratch, ignore_errors=True)
        if self.isolation.confined_uid:
            isolation.kill_uid(self.uid)


_servers: dict[tuple, ForkServer] = {}
_starting: dict[int, ForkServer] = {}  # servers whose constructor waits for them to be ready
_servers_lock = threading.Lock()
_key_locks: dict[tuple, threading.Lock] = {}


def server(iso: Isolation, disk_mb: int, with_torch: bool = True) -> ForkServer:
    """This process's fork server for ``iso`` (a forked process starts its own: a socket is not shared),
    with torch imported or not."""
    key = (iso.namespaces, iso.uid_drop, iso.venv, disk_mb, with_torch)
    with _servers_lock:  # one lock per kind of server: a light one need not wait for one importing torch
        lock = _key_locks.setdefault((os.getpid(), key), threading.Lock())
    with lock:
        found = _servers.get(key)
        if found is not None and found.pid == os.getpid() and found.alive:
            return found
        if found is not None and found.pid == os.getpid():
            found.close()
        created = ForkServer(iso, isolation.slot(), disk_mb, with_torch)
        _servers[key] = created
        return created


def prestart(iso: Isolation, disk_mb: int, with_torch: bool = False) -> None:
    """Start this process's fork server in the background (its imports overlap the judge's own and
    pytest's collection); the first ``server`` call waits for it. Errors surface there. The one with
    torch starts when a submission that mentions torch first needs it, unless asked for here."""
    def start() -> None:
        try:
            server(iso, disk_mb, with_torch)
        except Exception:  # noqa: BLE001 - the first real use reports it, with the submission that needed it
            pass

    threading.Thread(target=start, name="grader-forkserver-start", daemon=True).start()


def settle_all() -> None:
    """Wait for every stop this process's fork servers are still doing (see ``ForkServer.stop``)."""
    for found in list(_servers.values()):
        if found.pid == os.getpid() and found.alive:
            found.settle()


@atexit.register
def close_all() -> None:
    """End this process's fork servers, those still starting too, and remove their folders. Run at exit,
    and by a pool's judge when its stream ends (a forked process leaves without running ``atexit``)."""
    for key, found in list(_servers.items()):
        if found.pid == os.getpid():
            found.close()
        del _servers[key]
    for found in list(_starting.values()):
        if found.pid == os.getpid():
            found.close(kill=True)


def sweep_stale(folder: Path | None = None) -> int:
    """Remove the scratch folders of fork servers whose judge is gone (a batch stopped by ``kill -9``
    cannot clean up after itself): those whose owner process no longer exists, and those without an
    owner file older than a week. A live judge's folder is never touched. The number removed."""
    removed = 0
    for scratch in Path(folder or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            if not scratch.is_dir() or scratch.is_symlink() or scratch.stat().st_uid != os.getuid():
                continue
            owner = scratch / OWNER_FILE
            if owner.is_file():
                stale = not _alive(int(owner.read_text().strip() or "0"))
            else:
                stale = time.time() - scratch.stat().st_mtime > STALE_SECONDS
        except (OSError, ValueError):
            continue
        if stale:
            shutil.rmtree(scratch, ignore_errors=True)
            removed += not scratch.exists()
    return removed


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

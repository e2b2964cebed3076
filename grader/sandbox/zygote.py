"""The fork server: one warm process per worker slot that forks a fresh child per submission.

Started once by the judge (``forkserver.py`` is the other side), confined or not. It imports NumPy
and torch once, keeps torch single-threaded (a process that ran a multi-threaded torch op cannot
safely ``fork()``: the child hangs on its next op), and then waits for commands on a Unix socket:

* ``spawn``: fork a child for one submission. The message brings three descriptors (the request
  and reply pipes and the output file). The child copies the submission into ``/work``, sets its
  rlimits, drops to the slot's uid with no capabilities, no groups and ``no_new_privs``, closes
  every other descriptor (the command socket first of all), and serves calls (``worker.serve``).
  A submission pays a ``fork()`` and its own import, not an interpreter start and a torch import.
* ``stop``: give the child a grace period to exit, then kill every process of the slot's uid (or the
  child's process group, unconfined), reap them, and answer the child's wait status.

Confined, this process is PID 1 of the sandbox's PID namespace and runs as root inside it (never
any student code: children drop privileges before they import the submission). It exits when the
judge closes the socket, and the namespace dies with it. It imports only the standard library,
NumPy and torch, and loads ``worker.py`` by path like the worker does its helpers.

    python -I zygote.py CONTROL_FD confined|plain UID
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWIPC = 0x08000000
WORK, TMP, INBOX = Path("/work"), Path("/tmp"), Path("/inbox")


def _load(name: str):
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_grader_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def warm_up(with_torch: bool = True) -> None:
    """Import what nearly every submission imports (torch only when asked), without starting a thread pool.

    ``numpy.random`` too: NumPy loads it lazily, on a submission's first ``np.random`` or the first generator a
    call hands it, and its import (``hashlib``, ``secrets`` and eight extension modules) cost each child 15 ms.
    Its global generators are seeded when it is imported; each child seeds them afresh (``_fresh_entropy``)."""
    import random  # noqa: F401

    import numpy.random  # noqa: F401

    if not with_torch:
        _freeze_heap()
        return
    try:
        import torch
    except ImportError:
        _freeze_heap()
        return
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    (torch.ones(4, dtype=torch.float64) @ torch.ones(4, dtype=torch.float64)).item()  # single-threaded
    _freeze_heap()


def _fresh_entropy() -> None:
    """What a fresh interpreter's imports would do: the legacy global generators of ``random`` and
    ``numpy.random``, imported before the fork, seeded from the OS in each child, so that no two children
    draw the same numbers from them."""
    import random

    import numpy.random

    random.seed()
    numpy.random.seed()


def _freeze_heap() -> None:
    """Move everything imported so far out of the garbage collector's reach: otherwise each child's
    first full collection walks torch's whole inherited heap (about 80 ms per submission)."""
    import gc

    _load("heap").keep_freed_memory()  # the children inherit it: see heap.py
    gc.collect()
    gc.freeze()


class Zygote:
    def __init__(self, control: socket.socket, confined: bool, uid: int, work: Path | None = None):
        self.control, self.confined, self.uid = control, confined, uid
        # The uid tier (root without namespaces): each child drops to ``uid`` in ``work``, and everything
        # of the uid is killed and its files removed between children, as in a confined zygote.
        self.work = work
        self.drops = confined or work is not None
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.worker = _load("worker")
        self.worker.preload(_load)
        self._reaped: dict[int, int] = {}  # pid -> wait status, of children _reap collected during a stop

    def run(self) -> None:
        if not self.confined:  # unconfined, orphans of a child come back to us to be reaped
            self.libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.send({"ready": True})
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 4)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            command = json.loads(data)
            if command["op"] == "spawn":
                try:
                    pid = self.spawn(command, fds)
                finally:
                    for fd in fds:
                        os.close(fd)
                self.send({"pid": pid})
            elif command["op"] == "stop":
                self.send(self.stop(command["pid"], command["grace"]))

    def send(self, message: dict) -> None:
        self.control.send(json.dumps(message).encode())

    # --------------------------------------------------------------------------------- spawn

    def spawn(self, command: dict, fds: list[int]) -> int:
        if self.confined:  # before the fork: the judge removes the inbox copy when we answer
            self._wipe()
            shutil.copytree(INBOX / command["job"], WORK, dirs_exist_ok=True)
            for path in [WORK, *WORK.rglob("*")]:
                os.chown(path, self.uid, self.uid)
        elif self.work is not None:
            self._wipe_uid()
            shutil.copytree(command["dir"], self.work, dirs_exist_ok=True, symlinks=True)
            for path in [self.work, *self.work.rglob("*")]:
                os.chown(path, self.uid, self.uid, follow_symlinks=False)
        self.worker.install_guard(command["forbidden"])  # the children inherit its wrappers
        pid = os.fork()
        if pid:
            return pid
        code = 70
        try:
            self._child(command, *fds)
            code = 0
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            try:
                import traceback

                traceback.print_exc()
            except BaseException:  # noqa: BLE001
                pass
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
            os._exit(code)

    def _child(self, command: dict, request_fd: int, reply_fd: int, output_fd: int) -> None:
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        keep = {0, 1, 2, request_fd, reply_fd}
        for fd in _open_fds():
            if fd not in keep:
                try:
                    os.close(fd)  # the command socket among them: a child never talks to the zygote
                except OSError:
                    pass
        if self.confined:
            # SysV shared memory, semaphores and message queues outlive their process: a namespace
            # of the child's own keeps one submission's from the next (files and processes are
            # wiped and killed between children; the network namespace has nothing to leave).
            if self.libc.unshare(CLONE_NEWIPC) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWIPC)")
            os.chdir(WORK)
        else:
            os.chdir(self.work or command["dir"])
        os.environ.clear()
        os.environ.update(command["env"])
        cpu, memory, file_bytes, processes = command["limits"]
        self.worker.limit_resources(cpu, memory, file_bytes, processes)
        if self.drops:
            self._drop_privileges()
        sys.stdout.reconfigure(line_buffering=True, write_through=True)
        sys.stderr.reconfigure(line_buffering=True, write_through=True)
        _fresh_entropy()
        self.worker.serve(command["module"], request_fd, reply_fd, command["max_bytes"], command["forbidden"])

    def _drop_privileges(self) -> None:
        """What ``setpriv --reuid --regid --clear-groups --no-new-privs --bounding-set=-all`` does."""
        if self.libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        cap = 0
        while self.libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
            cap += 1
        os.setgroups([])
        os.setresgid(self.uid, self.uid, self.uid)
        os.setresuid(self.uid, self.uid, self.uid)
        status = Path("/proc/self/status").read_text()
        effective = next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:"))
        if os.getuid() != self.uid or os.geteuid() != self.uid or int(effective, 16) != 0:
            raise OSError("the privilege drop did not take")

    def _wipe_uid(self) -> None:
        """The uid tier's ``_wipe``: the uid's folder emptied, and whatever the uid left in the shared
        scratch places (``/tmp``, ``/var/tmp``, ``/dev/shm``) removed, so nothing is left for the next."""
        _empty(self.work)
        self._remove_sysv_ipc()
        for shared in ("/tmp", "/var/tmp", "/dev/shm"):
            try:
                entries = list(os.scandir(shared))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid != self.uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
                except OSError:
                    pass

    def _remove_sysv_ipc(self) -> None:
        """SysV shared memory, semaphores and message queues of the uid (they outlive their process; a
        confined zygote's children have an IPC namespace of their own instead). Removing another uid's
        object takes CAP_SYS_ADMIN, which this tier lacks: a short-lived child, as the uid, removes them."""
        found: list[tuple[str, int]] = []
        for kind in ("shm", "sem", "msg"):
            try:
                lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
            except OSError:
                continue
            header = lines[0].split() if lines else []
            if "uid" not in header:
                continue
            for line in lines[1:]:
                fields = line.split()
                if len(fields) == len(header) and int(fields[header.index("uid")]) == self.uid:
                    found.append((kind, int(fields[1])))  # the id column: shmid, semid, msqid
        if not found:
            return
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setresgid(self.uid, self.uid, self.uid)
                os.setresuid(self.uid, self.uid, self.uid)
                for kind, ident in found:  # 0: IPC_RMID
                    {"shm": lambda i: self.libc.shmctl(i, 0, None), "sem": lambda i: self.libc.semctl(i, 0, 0),
                     "msg": lambda i: self.libc.msgctl(i, 0, None)}[kind](ident)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

    def _wipe(self) -> None:
        """Nothing of the previous submission (its files, its /tmp) is left for the next one."""
        for folder in (WORK, TMP):
            _empty(folder)

    # ---------------------------------------------------------------------------------- stop

    def stop(self, pid: int, grace: float) -> dict:
        status, gone = None, False
        deadline = time.monotonic() + grace
        while True:
            status, gone = self._wait(pid)
            if gone or time.monotonic() >= deadline:
                break
            time.sleep(0.002)
        for _ in range(500):  # ~2 s at most
            alive = self._kill_all(pid)
            if not gone:
                status, gone = self._wait(pid)
            self._reap()
            if not alive and gone:
                break
            time.sleep(0.0005 if _ < 8 else 0.004)  # a killed process is usually gone within a millisecond
        self._reaped.clear()
        return {"status": status, "survivors": len(self._processes()) if self.drops else 0}

    def _wait(self, pid: int) -> tuple[int | None, bool]:
        """``(its wait status, whether it is gone)``. ``_reap`` may have collected it first: between a
        ``waitpid(pid)`` that found it running and the next, it can die and be reaped with the rest."""
        if pid in self._reaped:
            return self._reaped[pid], True
        try:
            done, raw = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child any more, and its status is lost
            return None, True
        return (raw, True) if done else (None, False)

    def _kill_all(self, pid: int) -> int:
        if not self.drops:
            try:
                os.killpg(pid, signal.SIGKILL)
                return 1
            except (ProcessLookupError, PermissionError):
                return 0
        alive = self._processes()
        for p in alive:
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return len(alive)

    def _processes(self) -> list[int]:
        """Live (not zombie) processes of the slot's uid in this namespace."""
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if entry.stat().st_uid != self.uid:
                    continue
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except OSError:
                continue
            if state not in (b"Z", b"X"):
                found.append(int(entry.name))
        return found

    def _reap(self) -> None:
        """Collect every child that ended (the stopped child's own processes, orphans), keeping statuses."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._reaped[pid] = status


def _empty(folder: Path) -> None:
    """Remove everything in ``folder`` (links as links), keeping the folder."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 1024))


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[1]))
    confined, uid = argv[2] == "confined", int(argv[3])
    with_torch = len(argv) <= 4 or argv[4] == "torch"
    work = Path(argv[5]) if argv[2] == "uid" else None
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the judge's to handle; it closes our socket
    warm_up(with_torch)
    Zygote(control, confined, uid, work).run()


if __name__ == "__main__":
    main(sys.argv)

"""How a worker is confined, decided once per process.

With root, ``unshare`` and ``setpriv`` available and the worker interpreter in place, each worker
starts in new PID, network, mount, IPC and UTS namespaces, in a minimal read-only root (``/usr``,
``/lib``, ``/bin``, ``/etc``, the worker interpreter and ``grader/sandbox`` only) with its submission
copied onto a size-limited tmpfs, and runs as an unprivileged uid with no capabilities. As root
without namespaces (a Docker container's default capabilities lack CAP_SYS_ADMIN: Gradescope,
PrairieLearn), each worker still drops to the unprivileged uid, in a private folder (the uid tier).
Anywhere else it falls back to a plain subprocess with rlimits and says so: ``grader grade`` prints
the active protections once, and every report lists them.

The worker interpreter is a venv made from the system's Python (``/usr/bin/python3.11``), whose
files are readable by any uid: the default Python here lives under ``/root``, which an unprivileged
uid cannot enter (``make setup`` builds it as ``.venv-worker``; ``$GRADER_WORKER_VENV`` overrides).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ENTER_SCRIPT = Path(__file__).with_name("enter.sh")
SANDBOX_DIR = Path(__file__).parent
SANDBOX_UID_BASE = 61000  # uid of worker slot k is SANDBOX_UID_BASE + k: RLIMIT_NPROC counts per uid
_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
ALL_PROTECTIONS = ("rlimits", "scrubbed-environment", "pid-namespace", "network-namespace", "mount-namespace",
                   "private-root", "unprivileged-uid")


UID_PROTECTIONS = ("rlimits", "scrubbed-environment", "unprivileged-uid")


@dataclass(frozen=True)
class Isolation:
    namespaces: bool
    venv: Path | None
    why_not: str = ""
    uid_drop: bool = False  # no namespaces, but root may still drop each worker to the slot's uid

    @property
    def confined_uid(self) -> bool:
        """Workers run as the slot's unprivileged uid (with namespaces, or in the uid tier)."""
        return self.namespaces or self.uid_drop

    @property
    def protections(self) -> list[str]:
        if self.namespaces:
            return list(ALL_PROTECTIONS)
        return list(UID_PROTECTIONS if self.uid_drop else ALL_PROTECTIONS[:2])

    def summary(self) -> str:
        active = ", ".join(self.protections)
        if self.namespaces:
            return f"sandbox: {active}"
        return f"sandbox: {active} only ({self.why_not})"


def worker_venv() -> Path:
    explicit = os.environ.get("GRADER_WORKER_VENV")
    return Path(explicit) if explicit else SANDBOX_DIR.parent.parent / ".venv-worker"


@cache
def detect() -> Isolation:
    """Can workers be confined here? Checked once, with a real trial run."""
    venv = worker_venv()
    missing = [tool for tool in ("unshare", "setpriv", "chroot", "mount") if shutil.which(tool, path=_PATH) is None]
    if sys.platform != "linux":
        why = "namespaces need Linux"
    elif os.geteuid() != 0:
        why = "namespaces and a uid drop need root"
    elif missing:
        why = f"missing {', '.join(missing)}"
    elif not (venv / "bin" / "python").exists():
        why = f"no worker interpreter at {venv} (run `make setup`)"
    else:
        why = _trial(venv)
    if why and os.geteuid() == 0 and sys.platform == "linux" and (venv / "bin" / "python").exists() \
            and not _uid_trial(venv):
        # Root without CAP_SYS_ADMIN (Docker's default capabilities: Gradescope, PrairieLearn): no
        # namespaces, but each worker still drops to an unprivileged uid over a private copy.
        warnings.warn(f"workers run without namespaces, as an unprivileged uid: {why}", stacklevel=2)
        return Isolation(False, venv, why, uid_drop=True)
    if why:
        warnings.warn(f"workers run without namespaces or a uid drop: {why}", stacklevel=2)
        return Isolation(False, None, why)
    return Isolation(True, venv)


def _uid_trial(venv: Path) -> str:
    """What the uid tier's fork server does for each worker, once: start the worker interpreter as the
    slot's uid (here with ``setpriv``) in a folder of that uid's own, which it writes to; then clear
    that folder as root. An empty string when all of it works (root may lack the capabilities that
    bypass file permissions, and then cannot clear a uid's folder: no uid tier)."""
    import tempfile

    uid = SANDBOX_UID_BASE + slot()
    code = "import os, numpy; open('trial', 'w').write('x'); os.mkdir('made', 0o700); print(os.getuid())"
    tmp = tempfile.mkdtemp(prefix="grader-trial-")
    work = Path(tmp) / "work"
    try:
        try:
            Path(tmp).chmod(0o711)
            work.mkdir(mode=0o700)
            os.chown(work, uid, uid)
            done = subprocess.run([shutil.which("setpriv", path=_PATH) or "setpriv", f"--reuid={uid}", f"--regid={uid}",
                                   "--clear-groups", "--no-new-privs", str(venv / "bin" / "python"), "-I", "-c", code],
                                  capture_output=True, text=True, timeout=60, env={"PATH": _PATH}, cwd=work)
            if done.returncode != 0 or done.stdout.strip() != str(uid):
                return f"uid trial failed: {done.stderr.strip()[-300:]}"
            for entry in work.iterdir():
                entry.rmdir() if entry.is_dir() else entry.unlink()
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"uid trial failed: {exc}"
    finally:
        try:
            os.chown(work, os.getuid(), os.getgid())  # ours again, so that we may remove it whatever happened
        except OSError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
    return ""


PYTHON = "/venv/bin/python"  # the worker interpreter, as the confined process sees it


ZYGOTE = "/sandbox/zygote.py"


def command(isolation: Isolation, newroot: Path, source: Path, slot: int, disk_mb: int,
            argv: list[str], mode: str = "drop") -> list[str]:
    """The command line that runs ``argv`` confined (paths in ``argv`` as seen inside: ``PYTHON``,
    ``ZYGOTE``). ``mode="drop"`` runs it as the slot's uid with ``source`` copied into ``/work``;
    ``mode="zygote"`` runs it as root in the sandbox with ``source`` at ``/inbox`` (the fork server)."""
    return ["unshare", "--pid", "--fork", "--kill-child", "--net", "--mount", "--ipc", "--uts", "--",
            "/bin/sh", str(ENTER_SCRIPT), str(newroot), str(isolation.venv), str(SANDBOX_DIR), str(source),
            str(SANDBOX_UID_BASE + slot), str(disk_mb), mode, "--", *argv]


SLOT_LOCKS = Path(os.environ.get("GRADER_SLOT_DIR", "/tmp/grader-slots"))
MAX_SLOTS = 1024
_slot: tuple[int, int, int] | None = None  # (pid, slot, lock fd)


def slot() -> int:
    """This process's worker slot, held with a lock file for the life of the process.

    Every process that grades (a judge of the local pool, a Dask worker, a test run beside another)
    gets a slot no other live process holds, hence a sandbox uid of its own: RLIMIT_NPROC counts
    per uid, and the clean-up after a submission kills every process of its uid."""
    global _slot
    import fcntl

    if _slot is not None and _slot[0] == os.getpid():
        return _slot[1]
    SLOT_LOCKS.mkdir(mode=0o755, parents=True, exist_ok=True)
    for k in range(MAX_SLOTS):
        fd = os.open(SLOT_LOCKS / f"slot-{k}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _slot = (os.getpid(), k, fd)
        return k
    raise RuntimeError(f"all {MAX_SLOTS} worker slots in {SLOT_LOCKS} are taken")


def _trial(venv: Path) -> str:
    """Start one confined interpreter that reports its uid; an empty string when that works."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="grader-trial-") as tmp:
        root, work = Path(tmp) / "root", Path(tmp) / "work"
        root.mkdir()
        work.mkdir()
        iso = Isolation(True, venv)
        cmd = command(iso, root, work, slot(), 1, [PYTHON, "-I", "-c", "import os; print(os.getuid())"])
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env={"PATH": _PATH})
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"trial run failed: {exc}"
        if done.returncode != 0 or done.stdout.strip() != str(SANDBOX_UID_BASE + slot()):
            return f"trial run failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return ""


def kill_uid(uid: int, timeout: float = 2.0) -> None:
    """Verify that no process runs as ``uid`` (a worker slot's own uid), killing any that does.

    The PID namespace dies with its init, which the judge kills; this is the check behind it."""
    import signal
    import time

    deadline = time.monotonic() + timeout
    while True:
        alive = _pids_of(uid)
        if not alive:
            return
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > deadline:
            warnings.warn(f"processes of sandbox uid {uid} survive: {alive}", stacklevel=2)
            return
        time.sleep(0.01)


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def unconfined() -> Isolation:
    """For trusted code only (``--no-sandbox``): a plain subprocess with rlimits."""
    return Isolation(False, None, "--no-sandbox")

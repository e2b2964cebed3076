"""A stand-in for a Docker container, for the platform tests on a machine with no Docker daemon.

``run_in_container(script, ...)`` runs a bash script as root in a throwaway root file system: in a
mount namespace of its own, this machine's ``/`` is the lower layer of an overlay whose upper layer
is a tmpfs, so the script may write anywhere (``/autograder``, ``/grade``, ``/opt``) and nothing of it
reaches the machine; ``/tmp`` is a fresh tmpfs and the checkout the tests run from is hidden, as in a
container built from a zip or an image. One folder of the machine, ``exchange``, is mounted at
``/exchange`` inside: files go in and results come out there. The script runs with a clean environment
(``PATH``, ``HOME``, and pip's settings, so it installs from this machine's package index), and
whatever it starts with ``drop_cap_sys_admin`` runs as a container with Docker's default
capabilities does: without ``CAP_SYS_ADMIN``, so with no namespaces of its own.

``dockerfile_script(text, context)`` turns a Dockerfile's steps into bash, for images that cannot be
built here: ``FROM`` is this machine's system (a ``python`` command is provided, as in the Python
images), ``ARG`` and ``ENV`` are exported, ``COPY`` copies from the build context, ``RUN`` runs with
``sh -c``. Anything else is refused, so a Dockerfile that grows is noticed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

EXCHANGE = "/exchange"  # where the exchange folder is, inside
DROP_CAP_SYS_ADMIN = "setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin --"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_WRAPPER = r"""
set -euo pipefail
base="$1"; exchange="$2"; hide="$3"; script="$4"
mount --make-rprivate /
mount -t tmpfs -o mode=700 container "$base"
mkdir "$base/upper" "$base/work" "$base/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
new="$base/root"
for m in proc sys dev; do mount --rbind "/$m" "$new/$m"; done
mount -t tmpfs -o mode=1777 tmp "$new/tmp"
if [ -d "$new$hide" ]; then mount -t tmpfs -o size=1m,mode=700 hidden "$new$hide"; fi
mkdir "$new/exchange"
mount --bind "$exchange" "$new/exchange"
[ -e "$new/usr/local/bin/python" ] || ln -s "$(command -v python3.11 || command -v python3)" "$new/usr/local/bin/python"
exec chroot "$new" /bin/bash -c "$script"
"""


def available() -> str | None:
    """Why containers cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("unshare", "setpriv", "chroot", "unzip"):
        if not shutil.which(tool):
            return f"needs {tool}"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "needs overlayfs"
    return None


def run_in_container(script: str, *, base: Path, exchange: Path, env: dict[str, str] | None = None,
                     timeout: float = 1200) -> subprocess.CompletedProcess:
    """Run ``script`` (bash, ``set -euo pipefail`` added) in a throwaway container; see the module."""
    base.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o700)  # it holds course secrets: no uid but root may look in
    clean = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8"}
    clean |= {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    clean |= env or {}
    body = f"set -euo pipefail\nexport DROP_CAP_SYS_ADMIN={shlex.quote(DROP_CAP_SYS_ADMIN)}\n{script}"
    return subprocess.run(["unshare", "--mount", "--", "bash", "-c", _WRAPPER, "wrapper", str(base), str(exchange),
                           str(ROOT), body], env=clean, capture_output=True, text=True, timeout=timeout)


def dockerfile_script(text: str, context: str, build_args: dict[str, str] | None = None) -> str:
    """The steps of a Dockerfile as a bash script (see the module); ``context`` is the build context's path
    in the container."""
    build_args = build_args or {}
    lines, logical = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        lines.append(logical + stripped)
        logical = ""
    out = []
    for line in lines:
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            out.append(f"# FROM {rest}: this machine's system stands for it")
        elif instruction == "ARG":
            name, _, default = rest.partition("=")
            value = build_args.get(name, default)
            out.append(f"export {name}={shlex.quote(value)}")
        elif instruction == "ENV":
            out.append(f"export {rest}")
        elif instruction == "COPY":
            source, destination = (shlex.quote(part) for part in shlex.split(rest))
            source = f"{shlex.quote(context)}/{source}"
            out.append(f"if [ -d {source} ]; then mkdir -p {destination} && cp -a {source}/. {destination}; "
                       f"else cp -a {source} {destination}; fi")  # a folder's contents, as docker copies
        elif instruction == "RUN":
            out.append(f"sh -ec {shlex.quote(rest)}")
        else:
            raise ValueError(f"the stand-in for docker build does not know {instruction}: {line}")
    return "\n".join(out) + "\n"

"""What a student waits for, and what a TA's evening costs: every assignment, each way in a fresh process.

    python benchmarks/course.py [--runs 5] [--class-size 60] [--assignments optimizers,conv]

For each assignment it prints:

* **fresh**: ``grader grade A examples/A/alice.py`` in a new process (sandbox on, a new output
  folder each time): the latency a student sees on Gradescope, PrairieLearn or CI, where each
  submission is a fresh process. Median and range of ``--runs`` runs, and the median's ratio to a
  bare ``python -c "import torch"`` (measured the same way, between them);
* **check**: ``grader check A alice.py`` in a new process, from its second run (the first fills the
  oracle cache a student's machine keeps);
* **class**: ``grader grade A`` on ``--class-size`` submissions that mix the correct example with the
  one-mistake ones (``alice``, ``bob``, ``carol``, ``dave``, copied round), default settings (sandbox
  on, default workers), one fresh process: submissions per second, start-up and exports included,
  and how many of the machine's cores were busy on average (from /proc/stat: run it on a quiet machine).

Then the course: the ratios' worst, and 500 students x every assignment: the class batches' own
seconds, summed, with ``--class-size 500`` (what a TA waits for); else extrapolated from the class
rates (500 / rate, summed), which charges each batch's start-up and exports 500 / class-size times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("optimizers", "init", "conv", "cross_entropy", "mixup", "weight_decay", "dropout", "normalization")
MIXED = ("alice", "bob", "carol", "dave")  # the correct example, then one-mistake ones
STUDENTS = 500


def timed(command: list[str], cwd: Path = ROOT, ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def graded(out: Path, count: int) -> None:
    """Stop unless ``out``'s gradebook holds ``count`` reports: a batch that graded nothing is no figure."""
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM grades").fetchone()
    if rows != count:
        raise SystemExit(f"{out}: {rows} reports in the gradebook, expected {count}")


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):5.2f} s [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--class-size", type=int, default=60)
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS))
    args = parser.parse_args()
    grader = [str(Path(sys.executable)), "-m", "grader"]
    cores = len(os.sched_getaffinity(0))
    scratch = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    torch_times: list[float] = []
    rows = []
    try:
        for assignment in args.assignments.split(","):
            alice = ROOT / "examples" / assignment / "alice.py"
            fresh, check = [], []
            timed([*grader, "check", assignment, str(alice)])  # the first run fills the oracle cache (exit 0: alice passes)
            for n in range(args.runs):
                torch_times.append(timed([sys.executable, "-c", "import torch"]))
                out = scratch / f"{assignment}-fresh-{n}"
                fresh.append(timed([*grader, "grade", assignment, str(alice), "--out", str(out)]))
                graded(out, 1)
                check.append(timed([*grader, "check", assignment, str(alice)]))
            folder = scratch / f"{assignment}-class"
            folder.mkdir()
            for k in range(args.class_size):
                name = MIXED[k % len(MIXED)]
                shutil.copyfile(ROOT / "examples" / assignment / f"{name}.py", folder / f"{name}{k:04d}.py")
            busy0, total0 = cpu_ticks()
            seconds = timed([*grader, "grade", assignment, str(folder), "--out", str(scratch / f"{assignment}-out")])
            busy1, total1 = cpu_ticks()
            graded(scratch / f"{assignment}-out", args.class_size)
            rows.append((assignment, fresh, check, args.class_size / seconds, cores * (busy1 - busy0) / (total1 - total0),
                         seconds))
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    bare = statistics.median(torch_times)
    print(f"python -c 'import torch': {summary(torch_times)} ({len(torch_times)} runs, between the others)")
    print(f"{'assignment':<14} {'fresh grade':<24} {'x torch':>7}  {'check (2nd run on)':<24} {'x torch':>7}"
          f"  {'class /s':>8}  {'class s':>8}  {'cores busy':>10}")
    course = 0.0
    for assignment, fresh, check, rate, busy, seconds in rows:
        course += STUDENTS / rate
        print(f"{assignment:<14} {summary(fresh):<24} {statistics.median(fresh) / bare:6.2f}x  {summary(check):<24} "
              f"{statistics.median(check) / bare:6.2f}x  {rate:8.1f}  {seconds:8.1f}  {busy:7.2f}/{cores}")
    worst = max(statistics.median(r[1]) / bare for r in rows)
    how = ("measured: the batches' own seconds" if args.class_size == STUDENTS
           else f"extrapolated from classes of {args.class_size}")
    print(f"worst fresh grade: {worst:.2f}x import torch; {STUDENTS} students x {len(rows)} assignments: "
          f"{course / 60:.1f} min ({how})")


if __name__ == "__main__":
    main()

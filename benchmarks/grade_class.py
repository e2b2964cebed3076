"""How fast a class grades, and what the grader itself costs per submission.

    python benchmarks/grade_class.py [--assignment optimizers] [--copies 20] [--fresh 3]

Grades ``copies`` copies of each bundled example of an assignment (examples/<assignment>/*.py) as
one batch, through the same path as ``grader grade`` (``grader.batch.grade_all``: SQLite gradebook,
reports, HTML pages and exports included), four ways: sandboxed and ``--no-sandbox``, with 1 and
with 2 judge processes; then sandboxed with 1 judge held to 1 core (the process tree's CPU
affinity), to compare core for core. Each way runs in a fresh Python process, as a TA's
``grader grade`` does: every one pays the same start-up (imports, fork servers, pytest collection,
torch's first optimizer), and none inherits a warm process from another. The oracle's trajectories
are stored (``$GRADER_CACHE_DIR``) by one submission graded first, as any earlier run on the machine
would have. For each way it prints:

* submissions per second over the whole batch, start-up and exports included;
* the steady rate: submissions per second between the first report and the last (by the reports'
  ``graded_at``), what a class of hundreds sees once the judges are up;
* the time to the first report (the start-up);
* the median per-submission overhead: a submission's wall time in its judge (fork of a sandboxed
  child, its imports, staging, pytest running the checks, the report) minus the checks' own
  arithmetic; the arithmetic is the checks' time less what their calls spent crossing the boundary
  (codec and pipes, measured per call as round trip minus the student function's own time in the
  worker), so the crossing counts as overhead;
* the batch's amortized overhead per submission: (wall time x judges - total arithmetic) / n, which
  also charges the judges' start-up;
* how many cores were busy on average during the batch (the whole machine's, from /proc/stat:
  run it on a quiet machine).

For comparison it then times a fresh process per submission, as tools that start an interpreter for
each student do: ``python -m pytest`` on a test file that imports torch and the submission (the
floor of that approach), and ``python -m grader grade`` on one submission.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch import grade_all  # noqa: E402
from grader.gradebook import Gradebook  # noqa: E402
from grader.sandbox import forkserver  # noqa: E402


def make_class(assignment: str, copies: int, folder: Path) -> list[Path]:
    examples = sorted((ROOT / "examples" / assignment).glob("*.py"))
    paths = []
    for k in range(copies):
        for example in examples:
            target = folder / f"{example.stem}{k:03d}.py"
            shutil.copyfile(example, target)
            paths.append(target)
    return paths


def run(assignment: str, paths: list[Path], out: Path, *, sandbox: bool, workers: int, cores: int | None = None) -> dict:
    """Grade ``paths`` as one batch in a fresh process (see ``one_way``); its figures."""
    command = [sys.executable, __file__, "--assignment", assignment, "--one-way",
               json.dumps({"paths": [str(p) for p in paths], "out": str(out), "sandbox": sandbox,
                           "workers": workers, "cores": cores})]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_way(assignment: str, settings: dict) -> dict:
    """In this (fresh) process: grade the batch ``settings`` names, and measure it."""
    paths, out = [Path(p) for p in settings["paths"]], Path(settings["out"])
    shutil.rmtree(out, ignore_errors=True)
    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115
    if settings["cores"]:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:settings["cores"]])
    busy = _busy_jiffies()
    start = time.perf_counter()
    grade_all(assignment=assignment, submissions=paths, out=out, course=str(ROOT), sandbox=settings["sandbox"],
              workers=settings["workers"], console=quiet)
    forkserver.close_all()
    wall = time.perf_counter() - start
    busy = [b - a for a, b in zip(busy, _busy_jiffies(), strict=True)]
    with Gradebook(out / "gradebook.sqlite") as book:
        reports = book.reports(assignment)
    arithmetic = [sum(c.seconds for c in r.checks) - r.boundary_seconds for r in reports]
    overhead = [r.seconds - a for r, a in zip(reports, arithmetic, strict=True)]
    finished = sorted(r.graded_at.timestamp() for r in reports)
    first_report = finished[0] - (time.time() - (time.perf_counter() - start))
    return {
        "n": len(reports), "wall": wall, "rate": len(reports) / wall,
        "steady": (len(finished) - 1) / (finished[-1] - finished[0]) if len(finished) > 1 else float("nan"),
        "first": first_report, "cores_busy": busy[0] / busy[1] * os.cpu_count() if busy[1] else float("nan"),
        "overhead": statistics.median(overhead), "boundary": statistics.median(r.boundary_seconds for r in reports),
        "arithmetic": statistics.median(arithmetic),
        "amortized": (wall * settings["workers"] - sum(arithmetic)) / len(reports),
    }


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks; (0, 0) where there is no /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle, iowait
    return sum(fields) - idle, sum(fields)


def fresh_processes(assignment: str, paths: list[Path], tmp: Path) -> tuple[float, float]:
    """Median seconds of a fresh ``python -m pytest`` (importing torch and the submission) and of a
    fresh ``python -m grader grade`` (one submission, sandboxed, one judge) per submission."""
    from grader.course import load_assignment

    module = load_assignment(assignment, ROOT).spec.module
    pytest_times, grader_times = [], []
    for path in paths:
        work = tmp / f"fresh-{path.stem}"
        work.mkdir()
        shutil.copyfile(path, work / f"{module}.py")
        (work / "test_import.py").write_text(f"import torch\nimport {module}\n\ndef test_loads():\n"
                                             f"    assert torch.ones(2).sum() == 2 and {module}\n")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(work)], cwd=work,
                       capture_output=True)
        pytest_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", "--course", str(ROOT), "grade", assignment, str(path),
                        "--out", str(work / "grades"), "--workers", "1"], capture_output=True)
        grader_times.append(time.perf_counter() - start)
    return statistics.median(pytest_times), statistics.median(grader_times)


ROW = "{:27}{:>8}{:>8}{:>8}{:>9}{:>10}{:>11}{:>10}{:>11}{:>7}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="optimizers")
    parser.add_argument("--copies", type=int, default=20, help="copies of each bundled example (default 20)")
    parser.add_argument("--fresh", type=int, default=3, help="submissions timed with a fresh process each (default 3)")
    parser.add_argument("--one-way", help=argparse.SUPPRESS)  # internal: one batch in this process, as JSON
    args = parser.parse_args()
    if args.one_way:
        print(json.dumps(one_way(args.assignment, json.loads(args.one_way))))
        return
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        paths = make_class(args.assignment, args.copies, tmp / "class")
        print(f"{args.assignment}: {len(paths)} submissions ({args.copies} copies of each bundled example), "
              f"{os.cpu_count()} cores, each way in a fresh process")
        print(ROW.format("", "subs/s", "steady", "wall s", "start s", "overhead", "amortized", "boundary",
                         "checks", "cores"))
        print(ROW.format("", "", "subs/s", "", "", "ms", "ms", "ms", "ms", "busy"))
        ways = {(True, 1, None): "sandbox, 1 worker", (True, 2, None): "sandbox, 2 workers",
                (False, 1, None): "no sandbox, 1 worker", (False, 2, None): "no sandbox, 2 workers",
                (True, 1, 1): "sandbox, 1 worker, 1 core"}
        os.environ["GRADER_CACHE_DIR"] = str(tmp / "cache")  # torch's trajectories, stored by a first run:
        run(args.assignment, paths[:1], tmp / "out", sandbox=True, workers=1)  # every way finds them
        results = {}
        for (sandbox, workers, cores), label in ways.items():
            r = results[sandbox, workers, cores] = run(args.assignment, paths, tmp / "out", sandbox=sandbox,
                                                       workers=workers, cores=cores)
            print(ROW.format(label, f"{r['rate']:.2f}", f"{r['steady']:.2f}", f"{r['wall']:.1f}", f"{r['first']:.1f}",
                             f"{1000 * r['overhead']:.1f}", f"{1000 * r['amortized']:.1f}",
                             f"{1000 * r['boundary']:.1f}", f"{1000 * r['arithmetic']:.1f}", f"{r['cores_busy']:.2f}"))

        def ratio(a: tuple, b: tuple, label: str) -> None:
            print(f"{label}: {results[a]['rate'] / results[b]['rate']:.2f}x the batch, "
                  f"{results[a]['steady'] / results[b]['steady']:.2f}x steady")

        ratio((True, 2, None), (True, 1, None), "2 workers vs 1 (sandbox)")
        ratio((False, 2, None), (False, 1, None), "2 workers vs 1 (no sandbox)")
        ratio((True, 2, None), (True, 1, 1), "2 workers on 2 cores vs 1 worker on 1 core (sandbox)")
        print("(one worker alone keeps more than one core busy: its sandboxed child runs the student's calls "
              "while the judge computes the references)")
        if args.fresh:
            fresh_pytest, fresh_grader = fresh_processes(args.assignment, paths[:args.fresh], tmp)
            print(f"a fresh `python -m pytest` per submission (imports torch and the submission): "
                  f"{fresh_pytest:.2f} s each, {1 / fresh_pytest:.2f} subs/s")
            print(f"a fresh `python -m grader grade` per submission (sandboxed, start-up included): "
                  f"{fresh_grader:.2f} s each, {1 / fresh_grader:.2f} subs/s")


if __name__ == "__main__":
    main()

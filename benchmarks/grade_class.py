"""How fast a class grades, and what the grader itself costs per submission.

    python benchmarks/grade_class.py [--assignment optimizers] [--copies 6] [--fresh 3]

Grades ``copies`` copies of each bundled example of an assignment (examples/<assignment>/*.py) as
one batch, through the same path as ``grader grade`` (``grader.batch.grade_all``, SQLite gradebook
and reports included), four ways: sandboxed and ``--no-sandbox``, with 1 and with 2 judge processes.
For each it prints:

* submissions per second (whole batch, start-up included);
* the median per-submission overhead: a submission's wall time in its judge (fork of a sandboxed
  child, its imports, staging, pytest running the checks, the report, the gradebook write) minus
  the checks' own arithmetic; the arithmetic is the checks' time less what their calls spent
  crossing the boundary (codec and pipes, measured per call as round trip minus the student
  function's own time in the worker), so the crossing counts as overhead;
* the batch's amortized overhead per submission: (wall time x judges - total arithmetic) / n, which
  also charges the judges' start-up (interpreter, torch import, fork server, pytest collection).

Then once more sandboxed with 1 worker held to 1 core (the process tree's CPU affinity), to compare
with 2 workers on 2 cores. For comparison it then times a fresh process per submission, as tools
that start an interpreter for each student do: ``python -m pytest`` on a test file that imports
torch and the submission (the floor of that approach), and ``python -m grader grade`` on one
submission.
"""

from __future__ import annotations

import argparse
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
    """Grade ``paths`` as one batch; with ``cores``, the whole process tree (judges, fork servers,
    sandboxed children) may use only that many cores."""
    shutil.rmtree(out, ignore_errors=True)
    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115
    everything = os.sched_getaffinity(0)
    forkserver.close_all()  # fork servers of an earlier run keep the cores they started with
    if cores:
        os.sched_setaffinity(0, sorted(everything)[:cores])
    try:
        start = time.perf_counter()
        grade_all(assignment=assignment, submissions=paths, out=out, course=str(ROOT), sandbox=sandbox,
                  workers=workers, console=quiet)
        wall = time.perf_counter() - start
    finally:
        forkserver.close_all()
        os.sched_setaffinity(0, everything)
    with Gradebook(out / "gradebook.sqlite") as book:
        reports = book.reports(assignment)
    arithmetic = [sum(c.seconds for c in r.checks) - r.boundary_seconds for r in reports]
    overhead = [r.seconds - a for r, a in zip(reports, arithmetic, strict=True)]
    return {
        "n": len(reports), "wall": wall, "rate": len(reports) / wall,
        "overhead": statistics.median(overhead), "boundary": statistics.median(r.boundary_seconds for r in reports),
        "arithmetic": statistics.median(arithmetic),
        "amortized": (wall * workers - sum(arithmetic)) / len(reports),
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="optimizers")
    parser.add_argument("--copies", type=int, default=6, help="copies of each bundled example (default 6)")
    parser.add_argument("--fresh", type=int, default=3, help="submissions timed with a fresh process each (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        paths = make_class(args.assignment, args.copies, tmp / "class")
        print(f"{args.assignment}: {len(paths)} submissions ({args.copies} copies of each bundled example), "
              f"{os.cpu_count()} cores")
        print(f"{'':24}{'subs/s':>8}{'wall s':>8}{'overhead ms':>13}{'amortized ms':>14}{'boundary ms':>13}"
              f"{'checks ms':>11}")
        results = {}
        for sandbox in (True, False):
            for workers in (1, 2):
                r = results[sandbox, workers] = run(args.assignment, paths, tmp / "out", sandbox=sandbox, workers=workers)
                label = f"{'sandbox' if sandbox else 'no sandbox'}, {workers} worker{'s' * (workers > 1)}"
                print(f"{label:24}{r['rate']:8.2f}{r['wall']:8.1f}{1000 * r['overhead']:13.1f}"
                      f"{1000 * r['amortized']:14.1f}{1000 * r['boundary']:13.1f}{1000 * r['arithmetic']:11.1f}")
        r = results["pinned"] = run(args.assignment, paths, tmp / "out", sandbox=True, workers=1, cores=1)
        print(f"{'sandbox, 1 worker, 1 core':24}{r['rate']:8.2f}{r['wall']:8.1f}{1000 * r['overhead']:13.1f}"
              f"{1000 * r['amortized']:14.1f}{1000 * r['boundary']:13.1f}{1000 * r['arithmetic']:11.1f}")
        for sandbox in (True, False):
            speedup = results[sandbox, 2]["rate"] / results[sandbox, 1]["rate"]
            print(f"2 workers vs 1 ({'sandbox' if sandbox else 'no sandbox'}): {speedup:.2f}x")
        print(f"2 workers on 2 cores vs 1 worker on 1 core (sandbox): "
              f"{results[True, 2]['rate'] / results['pinned']['rate']:.2f}x  (one worker alone already uses both "
              "cores part of the time: its sandboxed child runs the student's calls while it computes references)")
        if args.fresh:
            fresh_pytest, fresh_grader = fresh_processes(args.assignment, paths[:args.fresh], tmp)
            print(f"a fresh `python -m pytest` per submission (imports torch and the submission): "
                  f"{fresh_pytest:.2f} s each, {1 / fresh_pytest:.2f} subs/s")
            print(f"a fresh `python -m grader grade` per submission (sandboxed, start-up included): "
                  f"{fresh_grader:.2f} s each, {1 / fresh_grader:.2f} subs/s")


if __name__ == "__main__":
    main()

"""The ``grader`` command. Each subcommand only parses its arguments and forwards to a function
of the package, so the command line and the Python API cannot drift apart."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.errors import SpecError, UsageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.split(".")[0])
    parser.add_argument("--course", help="the course folder (holds assignments/ and reference/)")
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade submissions and write reports and a gradebook")
    grade.add_argument("assignment")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                       help="a .py file, a folder that contains the module, a .zip of either, or a whole class: "
                            "a folder or .zip of such (Canvas, Moodle and Gradescope exports included)")
    grade.add_argument("--out", type=Path, default=Path("grades"), help="output folder (default: ./grades)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="instructors only, for trusted code such as the reference: no namespaces or uid drop")
    grade.add_argument("--workers", type=_positive, metavar="N",
                       help="judge processes grading in parallel (default: one per core)")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every submission again, even those the gradebook has and that did not change")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="send the jobs to a Dask cluster (tcp://host:8786); needs the grader[dask] extra")

    check = sub.add_parser("check", help="run the visible checks on your own file")
    check.add_argument("assignment")
    check.add_argument("path", nargs="?", type=Path, help="your file or folder (default: the module here)")

    assign = sub.add_parser("assign", help="generate student_template/ (stubs and notebooks) from the references")
    assign.add_argument("--out", type=Path, help="output folder (default: <course>/student_template)")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "grade":
            from grader.batch import grade_all

            grade_all(assignment=args.assignment, submissions=args.submissions, out=args.out, course=args.course,
                      sandbox=not args.no_sandbox, workers=args.workers, regrade=args.regrade,
                      scheduler=args.scheduler)
            return 0
        if args.command == "assign":
            from grader.assign import generate
            from grader.course import course_root

            for path in generate(course_root(args.course), args.out):
                print(f"wrote {path}")
            return 0
        from grader.check import check

        return check(assignment=args.assignment, path=args.path, course=args.course)
    except (UsageError, SpecError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130

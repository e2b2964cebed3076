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
                       help="judge processes grading in parallel (default: one per core, and one per 24 submissions at most)")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every submission again, even those the gradebook has and that did not change")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="send the jobs to a Dask cluster (tcp://host:8786); needs the grader[dask] extra")
    grade.add_argument("--fail-under", type=_percent, metavar="PERCENT",
                       help="exit with status 1 when a submission scores below PERCENT %% of the points (for CI)")

    check = sub.add_parser("check", help="run the visible checks on your own file")
    check.add_argument("assignment", nargs="?", help="the assignment (omit with --all)")
    check.add_argument("path", nargs="?", type=Path, help="your file or folder (default: the module here)")
    check.add_argument("--all", action="store_true",
                       help="every assignment of the course whose file is in this folder (a CI job over a repository)")
    check.add_argument("--summary", type=Path, metavar="FILE",
                       help="also append the results as Markdown to FILE (in GitHub Actions: $GITHUB_STEP_SUMMARY)")

    gradescope = sub.add_parser("gradescope", help="build the Gradescope autograder zip of an assignment")
    gradescope.add_argument("assignment")
    gradescope.add_argument("--out", type=Path, default=Path("autograder.zip"),
                            help="the zip to write (default: ./autograder.zip)")
    run = sub.add_parser("gradescope-run", help="in Gradescope's container: grade /autograder/submission")
    run.add_argument("assignment")

    prairielearn = sub.add_parser("prairielearn", help="write a PrairieLearn question's grading files for an assignment")
    prairielearn.add_argument("assignment")
    prairielearn.add_argument("--out", type=Path, required=True, help="the folder to write them to")
    prairielearn.add_argument("--image", default="YOUR-DOCKERHUB-USER/grader:0.1",
                              help="the grading image's name, for info.json (build it from OUT/Dockerfile)")
    pl_run = sub.add_parser("prairielearn-run", help="in PrairieLearn's container: grade /grade/student")
    pl_run.add_argument("assignment")

    export = sub.add_parser("export", help="grades for an LMS's gradebook (Canvas, Moodle), or a course's")
    kinds = export.add_subparsers(dest="kind", required=True)
    for lms, roster in (("canvas", "the gradebook Canvas exports (Grades > Export)"),
                        ("moodle", "the assignment's grading worksheet Moodle gives (Download grading worksheet)")):
        one = kinds.add_parser(lms, help=f"{lms.title()}'s import file for the grades in DIR")
        one.add_argument("dir", type=Path, metavar="DIR", help="a folder `grader grade --out` wrote")
        one.add_argument("--roster", type=Path, required=True, metavar="CSV", help=roster)
        one.add_argument("--out", type=Path, metavar="FILE", help=f"the file to write (default: DIR/{lms}.csv)")
        one.add_argument("--assignment", help="which assignment, when DIR holds grades of several")
    whole = kinds.add_parser("course", help="join several assignments' grades: course.csv and a course page")
    whole.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="folders `grader grade --out` wrote")
    whole.add_argument("--out", type=Path, default=Path("course"), help="where to write (default: ./course)")

    ready = sub.add_parser("check-assignment", help="grade the reference and the stub of an assignment and name "
                           "every instructor's mistake, before a student is graded")
    ready.add_argument("assignment")
    ready.add_argument("--no-sandbox", action="store_true", help="run them unconfined (a machine without namespaces)")
    assign = sub.add_parser("assign", help="generate student_template/ (stubs and notebooks) from the references")
    assign.add_argument("--out", type=Path, help="output folder (default: <course>/student_template)")
    return parser


def _export(args) -> int:
    from grader import lms

    if args.kind == "course":
        from grader.coursepage import export

        for path in export(args.dirs, args.out, args.course):
            print(f"wrote {path}")
        return 0

    target, matching = lms.export(args.kind, args.dir, args.roster, out=args.out, assignment=args.assignment,
                                  course=args.course)
    print(f"wrote {target}: {len(matching.scores)} students graded")
    if matching.unmatched:
        print(f"{len(matching.unmatched)} submissions match no one on the roster (listed in "
              f"{target.with_name(target.stem + '-unmatched.csv')}); their grades are not in {target.name}:",
              file=sys.stderr)
        for report, why in matching.unmatched:
            print(f"  {report.submission}: {why}", file=sys.stderr)
    return 0


def _percent(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be a percentage from 0 to 100, got {text}")
    return value


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

            result = grade_all(assignment=args.assignment, submissions=args.submissions, out=args.out,
                               course=args.course, sandbox=not args.no_sandbox, workers=args.workers,
                               regrade=args.regrade, scheduler=args.scheduler)
            return _below(result.reports, args.fail_under)
        if args.command in ("gradescope", "gradescope-run"):
            from grader import gradescope
            from grader.course import course_root

            if args.command == "gradescope-run":
                return gradescope.run(args.assignment, course_root(args.course))
            print(f"wrote {gradescope.build(course_root(args.course), args.assignment, args.out)}")
            return 0
        if args.command in ("prairielearn", "prairielearn-run"):
            from grader import prairielearn
            from grader.course import course_root

            if args.command == "prairielearn-run":
                return prairielearn.run(args.assignment, course_root(args.course))
            for path in prairielearn.build(course_root(args.course), args.assignment, args.out, image=args.image):
                print(f"wrote {path}")
            return 0
        if args.command == "export":
            return _export(args)
        if args.command == "check-assignment":
            return _check_assignment(args)
        if args.command == "assign":
            from grader.assign import generate
            from grader.course import course_root

            for path in generate(course_root(args.course), args.out):
                print(f"wrote {path}")
            return 0
        from grader.check import check, check_all

        if args.all:
            if args.assignment or args.path:
                raise UsageError("--all checks every assignment whose file is here: give no assignment or path")
            return check_all(course=args.course, summary=args.summary)
        if not args.assignment:
            raise UsageError("name the assignment to check, or pass --all")
        return check(assignment=args.assignment, path=args.path, course=args.course, summary=args.summary)
    except (UsageError, SpecError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130


def _check_assignment(args) -> int:
    """``grader check-assignment NAME``: 0 when the assignment is ready to grade a class, else 1 and each problem."""
    from grader.course import course_root, course_secret, load_assignment
    from grader.pool import Settings, grade_apart
    from grader.preflight import problems

    root = course_root(args.course)
    task = load_assignment(args.assignment, root)
    settings = Settings(task.name, str(root), not args.no_sandbox, course_secret(root), True)
    found = problems(task, lambda jobs: grade_apart(settings, jobs))
    for problem in found:
        print(f"{task.name}: {problem}")
    if found:
        return 1
    print(f"{task.name}: ready: the spec loads, {len(task.spec.checks)} checks add up to 100 points, the reference "
          "passes every check and the stub none")
    return 0


def _below(reports, percent: float | None) -> int:
    """``--fail-under``: 1 when a submission scored below ``percent`` % of its points, and say which."""
    if percent is None:
        return 0
    low = [r for r in reports if r.score < percent / 100 * r.max_score - 1e-9]
    for r in low:
        print(f"grader: {r.submission} scored {r.score:g}/{r.max_score:g}, under {percent:g} %", file=sys.stderr)
    return 1 if low else 0


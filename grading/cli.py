"""The grader's command line.

Run::

    python -m grading grade assignment_06 SUBMISSION... --out DIR [--jobs N] [--timeout SECONDS]
    python -m grading grade assignment_06 SUBMISSION... --out DIR --shard K/N   # one slice of N
    python -m grading report DIR
    python -m grading export-gradescope assignment_06 --out FILE.zip
    python -m grading list

An assignment is named after its master in ``solutions/`` (``--masters`` names another folder):
``assignment_06`` for ``assignment_06_classification.py``, ``exercises_02`` for
``02_pytorch_classification_solutions.py``; ``list`` shows them.

``grade`` takes ``.ipynb`` files, ``py:percent`` ``.py`` files and folders of them, and
writes into DIR, as each submission is graded: ``results/`` (each outcome, for resuming),
``feedback/`` (a JSON and a Markdown file per submission), ``grades.csv`` and
``results.json`` (Gradescope's format); at the end ``summary.json`` and ``report.html``.
Running the same command again grades only what is missing or changed (``--force``: all).
``--shard K/N`` grades the K-th of N disjoint slices of the class (by a stable hash of each
submission's name), writing only its submissions' files into a folder the N shards share;
``report DIR`` then writes ``grades.csv``, ``results.json`` and ``report.html`` from them all.
``--sandbox`` (default ``auto``, or the ``GRADING_SANDBOX`` variable) picks bubblewrap when
it works here and falls back to resource limits only, with a warning; control groups cap
each submission's processes and memory together where the grader may create them.

Exit status: 0 when every submission was graded, whatever the students scored; 1 when
the grader itself failed; 2 for a usage error (unknown assignment, missing path); 128 + the
signal's number when SIGINT or SIGTERM stopped it (what was graded is kept).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import sys
import time
from pathlib import Path

from tqdm import tqdm

from grading import cgroups, sandbox, store
from grading.batch import ClassResult, ClassRun, Settings, grade_submissions
from grading.checks import MASTERS_DIR, Checks, assignments, load_checks
from grading.class_report import summarise, write_class_report
from grading.reports import points_text, write_class_files, write_feedback
from grading.results import Outcome
from grading.submissions import find_submissions

SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)i?B?$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"6G"`` -> 6 * 2**30 bytes; plain numbers are bytes."""
    match = SIZE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a size such as 4G or 512M, got {text!r}")
    number, unit = match.groups()
    return int(float(number) * 1024 ** "BKMGT".index(unit.upper() or "B"))


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> (2, 5): the second of five slices."""
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, such as 2/5, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def in_shard(slug: str, shard: tuple[int, int]) -> bool:
    """Whether the submission named ``slug`` falls in ``shard``: a hash of the name, the same on every machine."""
    number, count = shard
    return int.from_bytes(hashlib.sha256(slug.encode()).digest()[:8], "big") % count == number - 1


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grading", description="Grade course assignments.")
    commands = parser.add_subparsers(dest="command", required=True)

    masters = argparse.ArgumentParser(add_help=False)
    masters.add_argument(
        "--masters", type=Path, default=MASTERS_DIR, help="the folder of assignment masters (default: solutions/)"
    )
    hidden = argparse.ArgumentParser(add_help=False)
    hidden.add_argument(
        "--show-hidden",
        action="store_true",
        help="show the results of hidden checks in the students' feedback/ too (default: withheld; "
        "grades.csv, results.json and instructor/ always show them)",
    )
    grade = commands.add_parser(
        "grade", parents=[masters, hidden], help="grade submissions and write grades.csv, results.json and feedback/"
    )
    grade.add_argument("assignment", help="the assignment's name, as `list` shows it (e.g. assignment_06)")
    grade.add_argument("submissions", nargs="+", help=".ipynb or .py notebooks, or folders of them")
    grade.add_argument("--out", type=Path, required=True, help="folder for the results")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    defaults, limits = Settings(), sandbox.Limits()
    grade.add_argument(
        "--timeout", type=_seconds, default=defaults.timeout, help="wall clock per submission, s (default %(default)g)"
    )
    grade.add_argument(
        "--cell-timeout", type=_seconds, default=defaults.cell_timeout, help="per cell, s (default %(default)g)"
    )
    grade.add_argument(
        "--check-timeout", type=_seconds, default=defaults.check_timeout, help="per check, s (default %(default)g)"
    )
    grade.add_argument(
        "--memory", type=parse_size, default=limits.memory_bytes, help="address space per process (default 8G)"
    )
    caps = cgroups.Caps()
    grade.add_argument(
        "--memory-total",
        type=parse_size,
        default=caps.memory_bytes,
        help="memory of all a submission's processes together, where cgroups work (default 4G)",
    )
    grade.add_argument(
        "--processes",
        type=int,
        default=caps.processes,
        help=f"processes a submission may run at once, where cgroups work (default {caps.processes})",
    )
    grade.add_argument("--force", action="store_true", help="grade every submission again, reusing nothing")
    grade.add_argument(
        "--shard",
        type=parse_shard,
        default=None,
        help="grade the K-th of N slices of the class into a folder all N share (then: report DIR)",
    )
    grade.add_argument(
        "--sandbox",
        choices=sandbox.SANDBOX_MODES,
        default=os.environ.get("GRADING_SANDBOX", defaults.sandbox),
        help="bwrap, none, or auto: bwrap when it works here (default; env GRADING_SANDBOX)",
    )

    export = commands.add_parser("export-gradescope", parents=[masters], help="build a Gradescope autograder zip")
    export.add_argument("assignment", help="the assignment's name, as `list` shows it (e.g. assignment_06)")
    export.add_argument("--out", type=Path, required=True, help="the .zip to write")

    commands.add_parser("list", parents=[masters], help="list the assignments the grader knows")

    report = commands.add_parser(
        "report",
        parents=[masters, hidden],
        help="write grades.csv, results.json, feedback/ and report.html from a folder's results",
    )
    report.add_argument("out", type=Path, help="the folder the shards graded into")
    return parser


def write_report(out: Path, masters: Path, show_hidden: bool = False) -> int:
    """``report OUT``: the class's files from every result stored in ``out``."""
    try:
        assignment, outcomes = store.load_all(out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if assignment is None:
        print(f"error: {out} holds no graded results", file=sys.stderr)
        return 2
    checks = load_checks(assignment, masters)
    for outcome in outcomes:  # the feedback pages the report links, whichever shard or version graded them
        write_feedback(outcome, checks, out, show_hidden)
    write_class_files(outcomes, checks, out)
    write_class_report(summarise(outcomes, checks, len(outcomes), reused=len(outcomes), graded_now=0), out)
    print(
        f"{len(outcomes)} results of {assignment}; wrote {out / 'grades.csv'}, "
        f"{out / 'results.json'} and {out / 'report.html'}"
    )
    return 0


def _progress_line(outcome: Outcome, checks: Checks) -> str:
    score = f"{points_text(outcome.total(checks))}/{points_text(checks.max_points)}"
    return f"{outcome.status[:40]:<40} {score} {outcome.seconds:6.1f} s  {outcome.submission.label}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "report":
        return write_report(args.out, args.masters, args.show_hidden)
    known = assignments(args.masters)
    if args.command == "list":
        for name, master in sorted(known.items()):
            print(f"{name}\t{master}")
        return 0
    if args.assignment not in known:
        print(
            f"error: unknown assignment {args.assignment!r}; known in {args.masters}: {', '.join(sorted(known))}",
            file=sys.stderr,
        )
        return 2
    if args.command == "export-gradescope":
        from grading.gradescope import export

        print(f"wrote {export(args.assignment, args.out, masters_dir=args.masters)}")
        return 0

    if args.jobs < 1:
        print(f"error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    try:
        submissions = find_submissions(args.submissions)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    in_class = len(submissions)
    if args.shard is not None:
        submissions = [submission for submission in submissions if in_shard(submission.slug, args.shard)]
    checks = load_checks(args.assignment, args.masters)
    settings = Settings(
        timeout=args.timeout,
        cell_timeout=args.cell_timeout,
        check_timeout=args.check_timeout,
        sandbox=args.sandbox,
        limits=sandbox.Limits(memory_bytes=args.memory),
        caps=cgroups.Caps(processes=args.processes, memory_bytes=args.memory_total),
        threads=max(1, (os.cpu_count() or 1) // args.jobs),
        show_hidden=args.show_hidden,
    )
    run, stopped_by = ClassRun(), []

    def stop(signum: int, frame: object) -> None:
        stopped_by.append(signum)
        print(f"\n{signal.Signals(signum).name}: stopping; what is graded is kept", file=sys.stderr, flush=True)
        run.stop()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    start = time.monotonic()
    # on a terminal, a bar with the time left above which each submission's line is written; elsewhere
    # (a log, a scheduler's output file) the lines alone
    bar = tqdm(total=len(submissions), unit="submission", disable=None, file=sys.stderr, dynamic_ncols=True)

    def progress(outcome: Outcome) -> None:
        if bar.disable:
            print(_progress_line(outcome, checks), flush=True)
        else:
            bar.write(_progress_line(outcome, checks), file=sys.stdout)
            bar.update(1)

    try:
        graded = grade_submissions(
            checks,
            submissions,
            settings,
            args.out,
            jobs=args.jobs,
            force=args.force,
            progress=progress,
            run=run,
            shared=args.shard is not None,
        )
    except RuntimeError as error:  # --sandbox bwrap where bubblewrap cannot work
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if args.shard is not None:
        number, count = args.shard
        print(
            f"shard {number}/{count}: {len(graded.outcomes)} of its {len(submissions)} submissions graded "
            f"({graded.reused} reused, {graded.graded} graded now; {in_class} in the class). When every shard "
            f"is done: python -m grading report {args.out}"
        )
        return _exit_status(graded, stopped_by)
    summary = summarise(
        graded.outcomes,
        checks,
        len(submissions),
        reused=graded.reused,
        graded_now=graded.graded,
        stopped=graded.stopped,
        wall_seconds=round(time.monotonic() - start, 1),
        jobs=args.jobs,
    )
    write_class_report(summary, args.out)
    print(
        f"{len(graded.outcomes)} of {len(submissions)} graded ({graded.reused} reused, {graded.graded} graded now); "
        f"wrote {args.out / 'grades.csv'}, {args.out / 'report.html'} and {args.out / 'feedback'}/"
    )
    return _exit_status(graded, stopped_by)


def _exit_status(graded: ClassResult, stopped_by: list[int]) -> int:
    if stopped_by:
        print("stopped before the end: run the same command again to grade the rest", file=sys.stderr)
        return 128 + stopped_by[0]
    failures = [outcome for outcome in graded.outcomes if outcome.grader_error]
    for outcome in failures:
        print(f"grader failure on {outcome.submission.label}:\n{outcome.grader_error}", file=sys.stderr)
    return 1 if failures else 0

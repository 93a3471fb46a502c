"""Measure the grader on a whole class: a full run, then a run stopped halfway with SIGTERM and resumed.

Run: ``python -m tools.measure_class [--size 44] [--jobs 2]`` (about a quarter of an hour on two
cores). It builds a class in ``build/measure_class/class/`` (solutions, untouched exercises,
partial answers, one student's real-shaped work and slips, a few hostile notebooks and files
that are not notebooks), grades it three times with ``python -m grading grade``, and writes
``build/measure_class/measurement.json``: the time per submission, the grader's peak memory,
how long the resume took against the full run, and a projection for 500 submissions. The test
suite runs a reduced version (``tests/test_grading_class.py``); this is the full measurement.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from grading.checks import in_students_notebook, load_checks
from grading.store import RESULTS

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT = REPO_ROOT / "build" / "measure_class"
SOLUTION = REPO_ROOT / "solutions" / "assignment_06_classification.ipynb"
EXERCISE = REPO_ROOT / "exercises" / "assignment_06_classification.ipynb"


def _test_builders():
    """The notebooks the test suite builds: one student's work and slips, and the hostile ones."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    import student_work  # type: ignore[import-not-found]  # tests/ is not a package
    import test_grading_hostile as hostile  # type: ignore[import-not-found]

    return student_work, hostile


def partial(solved: set[str]) -> nbformat.NotebookNode:
    """The exercise notebook with the solution's cells of the exercises in ``solved`` filled in."""
    exercise, solution = nbformat.read(EXERCISE, as_version=4), nbformat.read(SOLUTION, as_version=4)
    # the students' notebook numbers its cells' ids by position among the master's cells it keeps
    by_id = {f"cell-{position}": cell for position, cell in enumerate(filter(in_students_notebook, solution.cells))}
    for item in load_checks("assignment_06").exercises:
        if item.name in solved:
            for cell in exercise.cells:
                if cell.get("id") in item.cell_ids and "check" not in cell.metadata.get("tags", []):
                    cell.source = by_id[cell["id"]].source
    return exercise


def build_class(folder: Path, size: int, seed: int = 0) -> dict[str, int]:
    """Write a class of ``size`` submissions into ``folder``; return how many of each kind."""
    student_work, hostile = _test_builders()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    generator = random.Random(seed)
    names = [exercise.name for exercise in load_checks("assignment_06").exercises]
    fixed = {
        "student_reuse": student_work.student_notebook(),
        **{f"student_{mistake}": student_work.student_notebook(mistake) for mistake in student_work.MISTAKES},
        "hostile_loop_forever": hostile.loop_forever(),
        "hostile_kill_kernel": hostile.kill_kernel(),
        "hostile_fork_until_refused": hostile.fork_until_refused(),
        "hostile_twenty_hogs": hostile.twenty_hogs(),
    }
    for name, notebook in fixed.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    for number in range(3):
        (folder / f"not_a_notebook_{number}.ipynb").write_bytes(bytes(range(256)) * (number + 1))
    rest = size - len(fixed) - 3
    kinds = {"solution": rest * 3 // 10, "untouched": rest // 5}
    kinds["partial"] = rest - kinds["solution"] - kinds["untouched"]
    for number in range(kinds["solution"]):
        shutil.copy(SOLUTION, folder / f"solution_{number}.ipynb")
    for number in range(kinds["untouched"]):
        shutil.copy(EXERCISE, folder / f"untouched_{number}.ipynb")
    for number in range(kinds["partial"]):
        solved = set(generator.sample(names, k=generator.randint(1, len(names) - 1)))
        nbformat.write(partial(solved), folder / f"partial_{number}.ipynb")
    return {**kinds, "student": 5, "hostile": 4, "not_a_notebook": 3}


def grade_command(folder: Path, out: Path, *extra: str) -> list[str]:
    """``python -m grading grade assignment_06 FOLDER --out OUT``, then ``extra``."""
    return [sys.executable, "-m", "grading", "grade", "assignment_06", str(folder), "--out", str(out), *extra]


def stored_results(out: Path) -> list[Path]:
    """The outcomes the grader has stored in ``out`` so far: one file per finished submission."""
    results = out / RESULTS
    return sorted(results.glob("*.json")) if results.is_dir() else []


def signal_after(
    command: list[str],
    out: Path,
    results: int,
    signum: int = signal.SIGTERM,
    env: dict[str, str] | None = None,
    deadline_s: float | None = None,
) -> subprocess.CompletedProcess:
    """Run the grader ``command`` until ``results`` outcomes are stored in ``out``, then send it ``signum``.

    Stops waiting after ``deadline_s`` seconds (None: for as long as the grader runs).
    """
    grader = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = math.inf if deadline_s is None else time.monotonic() + deadline_s
    while len(stored_results(out)) < results and grader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    grader.send_signal(signum)
    stdout, stderr = grader.communicate(timeout=60)
    return subprocess.CompletedProcess(command, grader.returncode, stdout, stderr)


def grade(folder: Path, out: Path, jobs: int, stop_after: int | None = None) -> dict:
    """Run the grader on ``folder`` into ``out``; with ``stop_after``, SIGTERM it once that many are done."""
    command = grade_command(folder, out, "--jobs", str(jobs))
    start = time.monotonic()
    if stop_after is None:
        grader = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    else:
        grader = signal_after(command, out, stop_after)
    stdout, stderr = grader.stdout, grader.stderr
    seconds = time.monotonic() - start
    summary = json.loads((out / "summary.json").read_text())
    return {
        "exit_status": grader.returncode,
        "wall_seconds": round(seconds, 1),
        "graded": summary["graded"],
        "reused": summary["reused"],
        "graded_now": summary["graded_now"],
        "grader_peak_memory_mb": round(summary["grader_peak_memory_mb"], 1),
        "seconds_per_submission_median": summary["seconds"]["median"],
        "last_line": stdout.strip().splitlines()[-1] if stdout.strip() else stderr.strip()[-300:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=44, help="submissions in the class (at least 20; default 44)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    args = parser.parse_args(argv)
    if args.size < 20:
        parser.error("--size must be at least 20")
    kinds = build_class(OUT / "class", args.size)
    print(f"class of {args.size}: {kinds}", flush=True)
    # A result left by an earlier measurement would be reused, and the full run would time nothing.
    shutil.rmtree(OUT / "full", ignore_errors=True)
    full = grade(OUT / "class", OUT / "full", args.jobs)
    print(f"full run: {full}", flush=True)
    shutil.rmtree(OUT / "resumed", ignore_errors=True)
    stopped = grade(OUT / "class", OUT / "resumed", args.jobs, stop_after=args.size // 2)
    print(f"stopped: {stopped}", flush=True)
    resumed = grade(OUT / "class", OUT / "resumed", args.jobs)
    print(f"resumed: {resumed}", flush=True)
    per_submission = full["wall_seconds"] / args.size
    measurement = {
        "size": args.size,
        "kinds": kinds,
        "jobs": args.jobs,
        "full": full,
        "stopped": stopped,
        "resumed": resumed,
        "wall_seconds_per_submission": round(per_submission, 2),
        "resume_share_of_full_run": round(resumed["wall_seconds"] / full["wall_seconds"], 2),
        "projected_minutes_for_500": round(per_submission * 500 / 60, 1),
    }
    (OUT / "measurement.json").write_text(json.dumps(measurement, indent=2) + "\n")
    print(json.dumps(measurement, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

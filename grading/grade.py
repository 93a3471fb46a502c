"""Grade many submissions in parallel and write the grade sheet, feedback and Gradescope results.

Used by ``python -m grading grade`` (see ``grading.cli``). Each submission gets its own
temporary folder (``work/`` is its working directory, with a copy of the notebook and
of ``helper_functions.py``; ``home/`` and ``tmp/`` hold what its kernel writes), its own
sandboxed worker process (``grading.run_one``) and a wall-clock limit. Nothing a
submission prints is read: only the worker's result line, which carries the results of
the checks taken from the course's master.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jupytext
import nbformat

from grading import sandbox
from grading.checks import REPO_ROOT, Checks
from grading.run_one import RESULT_MARK
from grading.sandbox import Limits

NOTEBOOK_SUFFIXES = (".ipynb", ".py")


@dataclass(frozen=True)
class Settings:
    timeout: float = 600.0  # wall clock for one submission, seconds
    cell_timeout: float = 120.0  # one cell
    check_timeout: float = 30.0  # one check
    interrupt_grace: float = 5.0  # how long an interrupted cell may take to stop
    max_restarts: int = 3  # reruns after a cell kills or hangs the kernel
    sandbox: str = "auto"  # auto, bwrap or none
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Submission:
    path: Path
    label: str  # as shown in grades.csv
    slug: str  # unique, safe as a file name


@dataclass
class Outcome:
    submission: Submission
    status: str
    passed: dict[str, bool]
    messages: dict[str, str]
    notes: list[str]
    seconds: float
    grader_error: str | None = None


class NotANotebook(ValueError):
    """The file cannot be read as a notebook; the message says why, for the feedback."""


# ---------------------------------------------------------------- submissions
def find_submissions(paths: Iterable[str | Path]) -> list[Submission]:
    """Expand files and folders (recursively: ``.ipynb`` and ``.py``) into submissions, in order.

    A path that does not exist raises ``FileNotFoundError``: that is the instructor's
    typo, not a student's failure.
    """
    files: list[tuple[Path, Path]] = []  # (path, short name: relative to the folder given, or the file's name)
    for given in map(Path, paths):
        if given.is_dir():
            found = sorted(
                path
                for path in given.rglob("*")
                if path.is_file()
                and path.suffix in NOTEBOOK_SUFFIXES
                and not any(part.startswith(".") for part in path.relative_to(given).parts)
            )
            files.extend((path, path.relative_to(given.parent)) for path in found)
        elif given.exists():
            files.append((given, Path(given.name)))
        else:
            raise FileNotFoundError(f"no such submission file or folder: {given}")
    submissions, seen, slugs = [], set(), set()
    for path, short in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        base = "".join(c if c.isalnum() or c in "._-" else "_" for c in "__".join(short.parts)).lstrip(".")
        slug, n = base, 1
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
        submissions.append(Submission(path, str(path), slug))
    return submissions


def load_notebook(path: Path) -> nbformat.NotebookNode:
    """Read an ``.ipynb`` or ``py:percent`` file as a notebook without outputs, or raise ``NotANotebook``."""
    if path.suffix not in NOTEBOOK_SUFFIXES:
        raise NotANotebook(f"expected an .ipynb or a .py notebook, got a {path.suffix or 'file without extension'}")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise NotANotebook(f"the file cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise NotANotebook("the file is not text (is it a notebook at all?)") from None
    if not text.strip():
        raise NotANotebook("the file is empty")
    if path.suffix == ".py":
        if not any(line.startswith("# %%") for line in text.splitlines()):
            raise NotANotebook("a .py submission must be a percent notebook, with `# %%` cell markers")
        notebook = jupytext.reads(text, fmt="py:percent")
    else:
        try:
            notebook = nbformat.reads(text, as_version=4)
        except Exception:  # nbformat raises many kinds for JSON that is not a notebook
            raise NotANotebook("the file is not a Jupyter notebook (.ipynb JSON)") from None
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown", "raw") for cell in cells
    ):
        raise NotANotebook("the notebook's cells cannot be read")
    for cell in cells:
        cell.source = "".join(cell.source) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


# ---------------------------------------------------------------- one submission
def _worker_command() -> list[str]:
    # -I: ignore PYTHON* variables and the working directory (the submission's folder) on sys.path
    bootstrap = f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); import grading.run_one as w; sys.exit(w.main())"
    return [sys.executable, "-I", "-c", bootstrap]


def _notes(result: dict, settings: Settings) -> list[str]:
    notes = []
    if result.get("timeouts"):
        notes.append(
            f"Ran past the time limit ({settings.cell_timeout:g} s per cell) and was interrupted: "
            + "; ".join(result["timeouts"])
        )
    if result.get("kernel_deaths"):
        notes.append(
            "Stopped the kernel (os._exit, a crash, or too much memory): " + "; ".join(result["kernel_deaths"])
        )
    if result.get("skipped"):
        notes.append("Left out when the notebook was run again: " + "; ".join(result["skipped"]))
    if result.get("budget_exhausted"):
        notes.append(f"The notebook used up its total time ({settings.timeout:g} s) before its last cells ran.")
    return notes


def _status(result: dict) -> str:
    if result.get("error"):
        return f"error: {result['error']}"
    if result.get("kernel_deaths"):
        return "kernel_died"
    if result.get("timeouts") or result.get("budget_exhausted"):
        return "timeout"
    return "ok"


def grade_one(
    submission: Submission, checks: Checks, settings: Settings, mode: str, hide: Sequence[Path] = ()
) -> Outcome:
    """Grade one submission in its own temporary folder and sandbox; never raises for a student's fault."""
    start = time.monotonic()
    names = [exercise.name for exercise in checks.exercises]

    def outcome(status: str, results: dict | None = None, notes: list[str] | None = None, **extra) -> Outcome:
        results = results or {}
        return Outcome(
            submission,
            status,
            {name: bool(results.get(name, {}).get("passed")) for name in names},
            {name: results.get(name, {}).get("message", "the check did not run") for name in names},
            notes or [],
            time.monotonic() - start,
            **extra,
        )

    try:
        notebook = load_notebook(submission.path)
    except NotANotebook as reason:
        return outcome("not_a_notebook", notes=[str(reason)])

    folder = Path(tempfile.mkdtemp(prefix="grading-"))
    try:
        work, home, tmp = folder / "work", folder / "home", folder / "tmp"
        for directory in (work, home, tmp):
            directory.mkdir()
        shutil.copy2(REPO_ROOT / "helper_functions.py", work / "helper_functions.py")
        nbformat.write(notebook, work / f"{submission.path.stem}.ipynb")
        reserve = min(settings.timeout / 4, settings.check_timeout * len(names) + 15)
        job = {
            "notebook": notebook,
            "checks_code": checks.code,
            "exercises": names,
            "cwd": str(work),
            "cell_timeout": settings.cell_timeout,
            "check_timeout": settings.check_timeout,
            "interrupt_grace": settings.interrupt_grace,
            "max_restarts": settings.max_restarts,
            "cell_budget": settings.timeout - reserve,  # for the submission's cells, from the worker's start
            "check_budget": reserve,  # for the cell that runs the checks, after them
            "limits": asdict(settings.limits),
        }
        command = sandbox.command(_worker_command(), folder, work, mode, settings.limits, hide)
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=work,
            env=sandbox.worker_environment(home, tmp),
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(json.dumps(job).encode(), timeout=settings.timeout + 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return outcome("timeout", notes=[f"The whole run took longer than {settings.timeout:g} s and was stopped."])
        lines = [line for line in stdout.decode(errors="replace").splitlines() if line.startswith(RESULT_MARK)]
        try:
            result = json.loads(lines[-1][len(RESULT_MARK) :])  # the worker's own line is the last one
        except (IndexError, ValueError):
            tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
            return outcome("error: grading stopped without a result", notes=[f"worker: {tail[0][:300]}"])
        if "grader_error" in result:
            return outcome("error: the grader failed", grader_error=result["grader_error"])
        return outcome(_status(result), result["results"], _notes(result, settings))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------- many submissions
def grade_all(
    checks: Checks,
    submissions: list[Submission],
    settings: Settings,
    jobs: int = 1,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Grade ``submissions`` with ``jobs`` at a time; return their outcomes in the same order."""
    mode = sandbox.resolve_mode(settings.sandbox)
    if mode == "none" and settings.sandbox == "auto":
        print(
            "warning: bubblewrap (bwrap) is not available, so submissions run without a sandbox: in a "
            "temporary folder, with memory, CPU and file-size limits, but able to read and write what this "
            "user can and to reach the network. Install it with `apt-get install bubblewrap`.",
            file=sys.stderr,
        )

    # what a submission must not read: the masters (they hold the solutions) and the other submissions
    hide = sandbox.folders_to_hide(
        [checks.master.parent, *(submission.path.parent for submission in submissions)],
        keep=[REPO_ROOT / "grading", REPO_ROOT / "helper_functions.py", Path(sys.prefix), Path(sys.base_prefix)],
    )

    def run(submission: Submission) -> Outcome:
        result = grade_one(submission, checks, settings, mode, hide)
        if progress is not None:
            progress(result)
        return result

    # without bubblewrap's PID namespace, processes a submission leaves behind are reaped here
    with sandbox.reaping_strays(), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(run, submissions))


# ---------------------------------------------------------------- reports
def _points(outcome: Outcome, checks: Checks) -> dict[str, int]:
    return {e.name: e.points if outcome.passed[e.name] else 0 for e in checks.exercises}


def gradescope_result(outcome: Outcome, checks: Checks) -> dict:
    """The submission's results in Gradescope's ``results.json`` format."""
    points = _points(outcome, checks)
    tests = []
    for exercise in checks.exercises:
        passed = outcome.passed[exercise.name]
        text = "passed" if passed else f"{outcome.messages[exercise.name]}\nHint: {exercise.hint}"
        tests.append(
            {
                "name": exercise.name,
                "score": points[exercise.name],
                "max_score": exercise.points,
                "status": "passed" if passed else "failed",
                "output": text,
            }
        )
    return {
        "score": sum(points.values()),
        "output": "\n".join([f"Status: {outcome.status}", *outcome.notes]),
        "tests": tests,
        "extra_data": {
            "submission": outcome.submission.label,
            "status": outcome.status,
            "max_score": checks.max_points,
            "seconds": round(outcome.seconds, 1),
        },
    }


def feedback_markdown(outcome: Outcome, checks: Checks) -> str:
    """A student-facing summary: the score, what passed, what failed and a hint for each failure."""
    points = _points(outcome, checks)
    lines = [
        f"# {checks.assignment}: {outcome.submission.path.name}",
        "",
        f"**Score: {sum(points.values())}/{checks.max_points}** (status: `{outcome.status}`)",
        "",
        *[f"- {note}" for note in outcome.notes],
        *([""] if outcome.notes else []),
        "| exercise | points | result |",
        "|---|---|---|",
    ]
    for exercise in checks.exercises:
        result = "passed" if outcome.passed[exercise.name] else "failed"
        lines.append(f"| {exercise.name} | {points[exercise.name]}/{exercise.points} | {result} |")
    failures = [e for e in checks.exercises if not outcome.passed[e.name]]
    if failures:
        lines += ["", "## What to fix", ""]
        for exercise in failures:
            lines.append(f"- **{exercise.name}**: {outcome.messages[exercise.name]}")
            lines.append(f"  Hint: {exercise.hint}")
    return "\n".join(lines) + "\n"


def write_reports(outcomes: list[Outcome], checks: Checks, out: Path) -> None:
    """Write ``grades.csv``, ``feedback/<slug>.json`` and ``.md``, and ``results.json`` into ``out``."""
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    names = [exercise.name for exercise in checks.exercises]
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as sheet:
        writer = csv.writer(sheet)
        writer.writerow(["submission", *names, "total", "max", "status"])
        for outcome in outcomes:
            points = _points(outcome, checks)
            writer.writerow(
                [outcome.submission.label, *points.values(), sum(points.values()), checks.max_points, outcome.status]
            )
    results = []
    for outcome in outcomes:
        result = gradescope_result(outcome, checks)
        results.append(result)
        (out / "feedback" / f"{outcome.submission.slug}.json").write_text(json.dumps(result, indent=2) + "\n")
        (out / "feedback" / f"{outcome.submission.slug}.md").write_text(feedback_markdown(outcome, checks))
    # Gradescope grades one submission per run: then results.json is that submission's result.
    (out / "results.json").write_text(json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")

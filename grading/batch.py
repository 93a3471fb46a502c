"""Grade submissions in parallel, each in its own temporary folder, sandbox and kernel.

Used by ``python -m grading grade`` (see ``grading.cli``). Each submission gets its own
temporary folder (``work/`` is its working directory, with a copy of the notebook and
of ``helper_functions.py``; ``home/`` and ``tmp/`` hold what its kernel writes), its own
sandboxed process (``grading.submission_run``) and a wall-clock limit. Nothing a
submission prints is read: only that process's result line, which carries the results of
the checks taken from the course's master.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from grading import sandbox
from grading.checks import REPO_ROOT, Checks
from grading.places import Place, exercise_places
from grading.results import CheckResult, Outcome, cell_errors, graded_results, run_notes, status_of
from grading.sandbox import Limits
from grading.submission_run import CHECK_CELL_SLACK, RESULT_MARK
from grading.submissions import NotANotebook, Submission, load_notebook

FINAL_CHECKS_SHARE = 0.25  # at most this share of --timeout is kept for the checks after the last cell
KILL_GRACE = 30.0  # seconds past --timeout before a run that has not answered is killed


@dataclass(frozen=True)
class Settings:
    timeout: float = 600.0  # wall clock for one submission, seconds
    cell_timeout: float = 120.0  # one cell
    check_timeout: float = 30.0  # one check
    interrupt_grace: float = 5.0  # how long an interrupted cell may take to stop
    max_restarts: int = 3  # reruns after a cell kills or hangs the kernel
    sandbox: str = "auto"  # auto, bwrap or none
    limits: Limits = field(default_factory=Limits)


def _command() -> list[str]:
    """The command that runs one submission (``grading.submission_run``), before the sandbox wraps it."""
    # -I: ignore PYTHON* variables and the working directory (the submission's folder) on sys.path
    bootstrap = (
        f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); "
        "import grading.submission_run as run; sys.exit(run.main())"
    )
    return [sys.executable, "-I", "-c", bootstrap]


def _job(notebook: nbformat.NotebookNode, checks: Checks, places: dict[str, Place], work: Path, settings: Settings):
    """What the submission's run needs: the notebook, the trusted checks and where each runs, the limits."""
    names = [exercise.name for exercise in checks.exercises]
    check_after: dict[str, list[str]] = {}
    for name in names:
        if places[name].index is not None:
            check_after.setdefault(str(places[name].index), []).append(name)
    final_budget = min(settings.timeout * FINAL_CHECKS_SHARE, settings.check_timeout * len(names) + CHECK_CELL_SLACK)
    return {
        "notebook": notebook,
        "checks_code": checks.code,
        "exercises": names,
        "check_after": check_after,
        "cwd": str(work),
        "cell_timeout": settings.cell_timeout,
        "check_timeout": settings.check_timeout,
        "interrupt_grace": settings.interrupt_grace,
        "max_restarts": settings.max_restarts,
        "cell_budget": settings.timeout - final_budget,  # the submission's cells and its checks where they stand
        "final_budget": final_budget,  # the checks after the last cell
        "limits": asdict(settings.limits),
    }


class _RunFailed(Exception):
    """The submission's run gave no result: ``status`` and ``note`` say why, for the feedback."""

    def __init__(self, status: str, note: str, grader_error: str | None = None):
        super().__init__(note)
        self.status, self.note, self.grader_error = status, note, grader_error


def _run_sandboxed(job: dict, folder: Path, mode: str, settings: Settings, hide: Sequence[Path]) -> dict:
    """Run the job in the sandbox; return the run's result dict, or raise ``_RunFailed``."""
    work, home, tmp = folder / "work", folder / "home", folder / "tmp"
    process = subprocess.Popen(
        sandbox.command(_command(), folder, work, mode, settings.limits, hide),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=work,
        env=sandbox.worker_environment(home, tmp),
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(json.dumps(job).encode(), timeout=settings.timeout + KILL_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise _RunFailed("timeout", f"The whole run took longer than {settings.timeout:g} s and was stopped.") from None
    lines = [line for line in stdout.decode(errors="replace").splitlines() if line.startswith(RESULT_MARK)]
    try:
        result = json.loads(lines[-1][len(RESULT_MARK) :])  # the run's own line is the last one
    except (IndexError, ValueError):
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
        raise _RunFailed("error: grading stopped without a result", f"run: {tail[0][:300]}") from None
    if "grader_error" in result:
        raise _RunFailed("error: the grader failed", "", grader_error=result["grader_error"])
    return result


def grade_submission(
    submission: Submission, checks: Checks, settings: Settings, mode: str, hide: Sequence[Path] = ()
) -> Outcome:
    """Grade one submission in its own temporary folder and sandbox; never raises for a student's fault."""
    start = time.monotonic()

    def outcome(status: str, results: dict | None = None, notes=(), errors=(), grader_error=None) -> Outcome:
        by_name = {e.name: (results or {}).get(e.name, CheckResult(False)) for e in checks.exercises}
        return Outcome(submission, status, by_name, list(notes), list(errors), time.monotonic() - start, grader_error)

    try:
        notebook = load_notebook(submission.path)
    except NotANotebook as reason:
        return outcome("not_a_notebook", notes=[str(reason)])
    places = exercise_places(notebook, checks.exercises)
    folder = Path(tempfile.mkdtemp(prefix="grading-"))
    try:
        for part in ("work", "home", "tmp"):
            (folder / part).mkdir()
        shutil.copy2(REPO_ROOT / "helper_functions.py", folder / "work" / "helper_functions.py")
        nbformat.write(notebook, folder / "work" / f"{submission.path.stem}.ipynb")
        result = _run_sandboxed(_job(notebook, checks, places, folder / "work", settings), folder, mode, settings, hide)
    except _RunFailed as failed:
        return outcome(failed.status, notes=[failed.note] if failed.note else [], grader_error=failed.grader_error)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results, place_notes = graded_results(notebook, checks, places, result)
    notes = run_notes(result, settings.cell_timeout, settings.timeout) + place_notes
    return outcome(status_of(result), results, notes, cell_errors(notebook, checks, result.get("errors", [])))


def grade_submissions(
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

    def grade(submission: Submission) -> Outcome:
        outcome = grade_submission(submission, checks, settings, mode, hide)
        if progress is not None:
            progress(outcome)
        return outcome

    # without bubblewrap's PID namespace, processes a submission leaves behind are reaped here
    with sandbox.reaping_strays(), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade, submissions))

"""Grade submissions in parallel, each in its own temporary folder, sandbox and kernel.

Used by ``python -m grading grade`` (see ``grading.cli``). Each submission gets its own temporary
folder (``work/`` is its working directory, with a copy of the notebook, of ``helper_functions.py``
and the ``self_check`` package, and the students' copy of the checks; ``home/`` and ``tmp/`` hold what its
kernel writes), its own sandboxed process (``grading.submission_run``, the driver) and a wall-clock
limit. Nothing a submission prints is read: only the driver's result line, which carries what the
kernel handed over for each exercise, as data. Once the kernel is gone, the checker
(``grading.checker.judge``) judges that data in a process of its own, with the checks taken from the
course's master.

A class is graded so that nothing finished is lost (``grade_submissions``): each outcome is
stored in ``--out`` as soon as it is known (``store``), a stored outcome whose fingerprint still
holds is reused, and ``ClassRun.stop`` (a signal handler calls it) kills what runs and starts
nothing new. Where it may, each submission runs in a control group of its own (``cgroups``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from grading import cgroups, sandbox, store
from grading.checker import judge
from grading.checks import COURSE_FILES, REPO_ROOT, Checks
from grading.places import Place, exercise_places
from grading.reports import write_class_files, write_feedback
from grading.results import CheckResult, Outcome, cell_errors, graded_results, run_notes, status_of
from grading.sandbox import Limits
from grading.submission_run import CHECK_CELL_SLACK, RESULT_MARK
from grading.submissions import NotANotebook, Submission, load_notebook
from self_check import HANDOVER_LIMIT_BYTES

FINAL_CHECKS_SHARE = 0.25  # at most this share of --timeout is kept for the checks after the last cell
KILL_GRACE = 30.0  # seconds past --timeout before a run that has not answered is killed


@dataclass(frozen=True)
class Settings:
    timeout: float = 600.0  # wall clock for one submission, seconds
    cell_timeout: float = 120.0  # one cell
    check_timeout: float = 30.0  # one check
    interrupt_grace: float = 5.0  # how long an interrupted cell may take to stop
    max_restarts: int = 3  # reruns after a cell kills or hangs the kernel
    handover_limit: int = HANDOVER_LIMIT_BYTES  # one exercise's answers, handed over as data
    sandbox: str = "auto"  # auto, bwrap or none
    limits: Limits = field(default_factory=Limits)
    caps: cgroups.Caps = field(default_factory=cgroups.Caps)  # all of a submission's processes together
    use_cgroups: bool = True  # where the grader may create control groups
    threads: int = 1  # torch's threads in each kernel: the cores shared among the submissions graded at once
    show_hidden: bool = False  # the students' feedback shows the results of hidden checks too

    def affecting_points(self) -> dict:
        """The settings a submission's points can depend on (the fingerprint of a stored result has them).

        Not the threads: they change only the rounding of sums, and a class resumed with another
        ``--jobs`` should reuse what it graded. Nor whether the feedback shows hidden results.
        """
        return {
            key: value for key, value in asdict(self).items() if key not in ("use_cgroups", "threads", "show_hidden")
        }


class ClassRun:
    """One grading of a class: the submissions' processes now running, and a way to stop them all."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._running: set[subprocess.Popen] = set()
        self._stopped: set[int] = set()
        self._lock = threading.Lock()

    def started(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._running.add(process)
            if self.stopping.is_set():
                self._kill(process)

    def finished(self, process: subprocess.Popen) -> bool:
        """Forget ``process``; True when it was stopped by ``stop`` rather than finishing."""
        with self._lock:
            self._running.discard(process)
            return process.pid in self._stopped

    def stop(self) -> None:
        """Start no more submissions and kill those running now (their results are not kept)."""
        self.stopping.set()
        with self._lock:
            for process in self._running:
                self._kill(process)

    def reap(self) -> None:
        """Reap the zombies a finished sandbox left to the grader (not the processes ``Popen`` waits for)."""
        with self._lock:
            running = {process.pid for process in self._running}
        sandbox.reap_zombie_children(spare=running)

    def _kill(self, process: subprocess.Popen) -> None:
        self._stopped.add(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class ClassResult:
    """What a grading of a class did: the outcomes known now (in submission order) and how they came."""

    outcomes: list[Outcome]
    reused: int
    graded: int
    stopped: bool


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
        "checks_code": checks.visible_code,  # the kernel learns what each exercise reads, and no hidden check
        "exercises": names,
        "check_after": check_after,
        "cwd": str(work),
        "cell_timeout": settings.cell_timeout,
        "check_timeout": settings.check_timeout,
        "interrupt_grace": settings.interrupt_grace,
        "max_restarts": settings.max_restarts,
        "handover_limit": settings.handover_limit,
        "cell_budget": settings.timeout - final_budget,  # the submission's cells and its checks where they stand
        "final_budget": final_budget,  # the checks after the last cell
        "limits": asdict(settings.limits),
    }


class _Stopped(Exception):
    """The class run was stopped while this submission ran: it has no result to keep."""


class _RunFailed(Exception):
    """The submission's run gave no result: ``status`` and ``note`` say why, for the feedback."""

    def __init__(self, status: str, note: str, grader_error: str | None = None):
        super().__init__(note)
        self.status, self.note, self.grader_error = status, note, grader_error


def _run_sandboxed(
    job: dict, folder: Path, command: list[str], settings: Settings, run: ClassRun | None = None
) -> dict:
    """Run the job (``command`` is the sandboxed run); return the run's result dict, or raise ``_RunFailed``."""
    work, home, tmp = folder / "work", folder / "home", folder / "tmp"
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=work,
        env=sandbox.worker_environment(home, tmp, settings.threads),
        start_new_session=True,
    )
    if run is not None:
        run.started(process)
    try:
        stdout, stderr = process.communicate(json.dumps(job).encode(), timeout=settings.timeout + KILL_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise _RunFailed("timeout", f"The whole run took longer than {settings.timeout:g} s and was stopped.") from None
    finally:
        stopped = run is not None and run.finished(process)
    if stopped:
        raise _Stopped
    lines = [line for line in stdout.decode(errors="replace").splitlines() if line.startswith(RESULT_MARK)]
    try:
        result = json.loads(lines[-1][len(RESULT_MARK) :])  # the run's own line is the last one
    except (IndexError, ValueError):
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
        raise _RunFailed("error: grading stopped without a result", f"run: {tail[0][:300]}") from None
    if "grader_error" in result:
        raise _RunFailed("error: the grader failed", "", grader_error=result["grader_error"])
    return result


def _cap_notes(events: dict[str, int], caps: cgroups.Caps) -> list[str]:
    notes = []
    if events.get("processes_refused"):
        notes.append(
            f"Reached the cap of {caps.processes} processes at once: {events['processes_refused']} attempts "
            "to start another were refused."
        )
    if events.get("killed_for_memory"):
        notes.append(
            f"Reached the cap of {caps.memory_bytes / 2**30:g} GiB of memory for all its processes together: "
            f"{events['killed_for_memory']} of them were killed."
        )
    return notes


def grade_submission(
    submission: Submission,
    checks: Checks,
    settings: Settings,
    mode: str,
    hide: Sequence[Path] = (),
    run: ClassRun | None = None,
    layout: cgroups.Layout | None = None,
) -> Outcome | None:
    """Grade one submission in its own folder, sandbox and control group; never raises for a student's fault.

    Returns None when ``run`` was stopped while the submission ran: there is no result to keep.
    """
    start = time.monotonic()

    def outcome(status: str, results=None, notes=(), errors=(), grader_error=None, tampering=()) -> Outcome:
        by_name = {e.name: (results or {}).get(e.name, CheckResult(False)) for e in checks.exercises}
        seconds = time.monotonic() - start
        return Outcome(submission, status, by_name, list(notes), list(errors), seconds, grader_error, list(tampering))

    try:
        notebook = load_notebook(submission.path)
    except NotANotebook as reason:
        return outcome("not_a_notebook", notes=[str(reason)])
    places = exercise_places(notebook, checks.exercises)
    folder = Path(tempfile.mkdtemp(prefix="grading-"))
    group = cgroups.Group.create(layout, f"{os.getpid()}-{submission.slug}", settings.caps) if layout else None
    events: dict[str, int] = {}
    # the checker starts now, in a sandbox of its own, so that its imports run while the kernel does
    checker = judge.Checker(mode, settings.limits, folder / "checker.log")
    try:
        for part in ("work", "home", "tmp"):
            (folder / part).mkdir()
        for course_file in COURSE_FILES:  # what the notebook's setup cell looks for
            (folder / "work" / course_file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / course_file, folder / "work" / course_file)
        students_checks = folder / "work" / checks.students_path  # what the notebook's self-check cell loads
        students_checks.parent.mkdir(parents=True)
        students_checks.write_text(checks.students_code, encoding="utf-8")
        nbformat.write(notebook, folder / "work" / f"{submission.path.stem}.ipynb")
        command = sandbox.command(_command(), folder, folder / "work", mode, settings.limits, hide)
        job = _job(notebook, checks, places, folder / "work", settings)
        job["pids_events"] = str(group.pids_folder / "pids.events") if group else None
        result = _run_sandboxed(job, folder, group.command(command) if group else command, settings, run)
        result |= verdicts(checker, result.get("handovers", {}), checks, settings)
    except _Stopped:
        return None
    except _RunFailed as failed:
        return outcome(failed.status, notes=[failed.note] if failed.note else [], grader_error=failed.grader_error)
    finally:
        checker.close()
        if group is not None:
            events = group.events()
            group.release()
        shutil.rmtree(folder, ignore_errors=True)
    results, place_notes = graded_results(notebook, checks, places, result)
    notes = run_notes(result, settings.cell_timeout, settings.timeout) + _cap_notes(events, settings.caps) + place_notes
    errors = cell_errors(notebook, checks, result.get("errors", []))
    return outcome(status_of(result, results), results, notes, errors, tampering=result.get("tampering", []))


def verdicts(checker: judge.Checker, handovers: dict, checks: Checks, settings: Settings) -> dict[str, dict[str, dict]]:
    """The checker's results on what the kernel handed over, with the names a later cell assigned again."""
    judged = checker.judge(checks.code, handovers, settings.check_timeout, settings.handover_limit)
    for name, handed in handovers.get("at_end", {}).items():
        if name in judged["at_end"]:
            judged["at_end"][name]["reassigned"] = handed.get("reassigned", [])
    return judged


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _isolation(settings: Settings) -> tuple[str, cgroups.Layout | None]:
    """The sandbox mode and the cgroup layout to use, warning once about each that is missing."""
    mode = sandbox.resolve_mode(settings.sandbox)
    if mode == "none" and settings.sandbox == "auto":
        _warn(
            "bubblewrap (bwrap) is not available, so submissions run without a sandbox: in a temporary "
            "folder, with memory, CPU and file-size limits, but able to read and write what this user can "
            "and to reach the network. Install it with `apt-get install bubblewrap`."
        )
    layout = None
    if settings.use_cgroups:
        layout, why = cgroups.available()
        if layout is None:
            _warn(
                f"control groups cannot be used ({why}), so a submission's processes and memory are not "
                "capped together: each process keeps its own limits."
            )
        else:
            cgroups.remove_orphans(layout)
    return mode, layout


def _fingerprint(submission: Submission, checks: Checks, settings: dict) -> str:
    try:
        return store.fingerprint(submission, checks, settings)
    except OSError as error:  # an unreadable file: grade it again every time, and say why then
        return f"unreadable: {error}"


def grade_submissions(
    checks: Checks,
    submissions: list[Submission],
    settings: Settings,
    out: Path,
    jobs: int = 1,
    force: bool = False,
    progress: Callable[[Outcome], None] | None = None,
    run: ClassRun | None = None,
    shared: bool = False,
) -> ClassResult:
    """Grade ``submissions`` with ``jobs`` at a time, reusing the outcomes stored in ``out`` that still hold.

    Each outcome is stored, with its feedback, as soon as it is known, and ``grades.csv`` and
    ``results.json`` are rewritten; ``force`` grades everything again. ``run.stop()`` (from a
    signal handler, say) starts no more submissions and kills those running. ``shared``: other
    graders (shards of the class) write into ``out`` too, so only each submission's own files are
    written; ``python -m grading report`` writes the class's files once they are all done.
    """
    run = run or ClassRun()
    mode, layout = _isolation(settings)
    key_settings = settings.affecting_points() | {"sandbox": mode, "cgroups": layout is not None}
    keys = {submission.slug: _fingerprint(submission, checks, key_settings) for submission in submissions}
    known: dict[str, Outcome] = {}
    for submission in submissions:
        stored = None if force else store.load(out, submission, keys[submission.slug])
        if stored is not None:
            known[submission.slug] = stored
    reused = len(known)
    lock = threading.Lock()

    def in_order() -> list[Outcome]:
        return [known[submission.slug] for submission in submissions if submission.slug in known]

    if not shared:
        write_class_files(in_order(), checks, out)
    # what a submission must not read: the masters (they hold the solutions) and the other submissions
    hide = sandbox.folders_to_hide(
        [checks.master.parent, *(submission.path.parent for submission in submissions)],
        keep=[
            *(REPO_ROOT / name for name in ("grading", "helper_functions.py", "self_check")),
            Path(sys.prefix),
            Path(sys.base_prefix),
        ],
    )

    def grade(submission: Submission) -> None:
        if run.stopping.is_set():
            return
        outcome = grade_submission(submission, checks, settings, mode, hide, run, layout)
        run.reap()
        if outcome is None:
            return
        with lock:
            store.save(out, outcome, keys[submission.slug], checks.assignment)
            write_feedback(outcome, checks, out, settings.show_hidden)
            known[submission.slug] = outcome
            if not shared:
                write_class_files(in_order(), checks, out)
        if progress is not None:
            progress(outcome)

    pending = [submission for submission in submissions if submission.slug not in known]
    # without bubblewrap's PID namespace, processes a submission leaves behind are reaped here
    with sandbox.reaping_strays(), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(grade, pending))
    return ClassResult(in_order(), reused, len(known) - reused, run.stopping.is_set())

"""Grade many submissions in parallel and write the grade sheet, feedback and Gradescope results.

Used by ``python -m grading grade`` (see ``grading.cli``). Each submission gets its own
temporary folder (``work/`` is its working directory, with a copy of the notebook and
of ``helper_functions.py``; ``home/`` and ``tmp/`` hold what its kernel writes), its own
sandboxed worker process (``grading.run_one``) and a wall-clock limit. Nothing a
submission prints is read: only the worker's result line, which carries the results of
the checks taken from the course's master.

Each exercise is graded where it stands in the submission (``exercise_places``): right
after the last cell that calls its ``check("exN")``, else after the last code cell under
its heading, else after the last of its cells the generated notebook's ids still name,
else at the end of the notebook, and the feedback says which.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
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
from grading.checks import EXERCISE_HEADING, REPO_ROOT, Checks, Exercise
from grading.run_one import CHECK_CELL_SLACK, RESULT_MARK, describe
from grading.sandbox import Limits

NOTEBOOK_SUFFIXES = (".ipynb", ".py")
FINAL_CHECKS_SHARE = 0.25  # at most this share of --timeout is kept for the checks after the last cell
KILL_GRACE = 30.0  # seconds past --timeout before a worker that has not answered is killed
HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)


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


@dataclass(frozen=True)
class CheckResult:
    """One exercise's result: which part of its check failed, what it found, and a hint for that part."""

    passed: bool
    part: str = ""
    message: str = "the check did not run"
    hint: str = ""


@dataclass
class Outcome:
    submission: Submission
    status: str
    results: dict[str, CheckResult]
    notes: list[str]  # about the run and where exercises were checked
    errors: list[str]  # the cells of the student's that raised, one line each
    seconds: float
    grader_error: str | None = None

    @property
    def passed(self) -> dict[str, bool]:
        return {name: result.passed for name, result in self.results.items()}


@dataclass(frozen=True)
class Place:
    """Where an exercise is checked in a submission: after cell ``index`` (None: at the end), found by ``how``."""

    index: int | None
    how: str


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


# ---------------------------------------------------------------- where each exercise stands
def _normal(heading: str) -> str:
    return " ".join(heading.lower().split())


def exercise_places(notebook: nbformat.NotebookNode, exercises: Sequence[Exercise]) -> dict[str, Place]:
    """Find, from the submission's own structure, the cell after which each exercise is checked."""
    cells = notebook.cells
    headings = {}
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown" and (found := EXERCISE_HEADING.search(cell.source)):
            headings.setdefault(_normal(found.group(1)), index)
    places = {}
    for exercise in exercises:
        call = re.compile(rf"^\s*check\(\s*['\"]{re.escape(exercise.name)}['\"]\s*\)", re.MULTILINE)
        calls = [i for i, cell in enumerate(cells) if cell.cell_type == "code" and call.search(cell.source)]
        ids = [i for i, cell in enumerate(cells) if cell.get("id") in exercise.cell_ids]
        if calls:
            places[exercise.name] = Place(calls[-1], f'its check cell, `check("{exercise.name}")`')
        elif exercise.heading and (start := headings.get(_normal(exercise.heading))) is not None:
            end = next((i for i in range(start + 1, len(cells)) if _is_heading(cells[i])), len(cells))
            code = [i for i in range(start + 1, end) if cells[i].cell_type == "code"]
            places[exercise.name] = Place(code[-1] if code else start, f"its heading, {exercise.heading}")
        elif ids:
            places[exercise.name] = Place(ids[-1], "the ids of its cells")
        else:
            places[exercise.name] = Place(None, "its check cell, heading and cells were not found")
    return places


def _is_heading(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "markdown" and bool(HEADING.search(cell.source))


def _section_of(notebook: nbformat.NotebookNode, index: int, exercises: Sequence[Exercise]) -> str:
    """The exercise (or else the heading) under which cell ``index`` sits, as a student reads it."""
    for cell in reversed(notebook.cells[:index]):
        if _is_heading(cell):
            found = EXERCISE_HEADING.search(cell.source)
            named = [e.name for e in exercises if found and _normal(e.heading) == _normal(found.group(1))]
            if named:
                return named[0]
            title = next(line for line in cell.source.splitlines() if HEADING.match(line))
            return f"under '{title.lstrip('#').strip()[:50]}'"
    return "at the top"


def _bound_names(source: str) -> dict[str, int]:
    """The names a cell assigns at its top level (not inside functions or classes), with the line of the last."""
    kept = [line if not line.lstrip().startswith(("%", "!")) else "" for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(kept))  # IPython's magics blanked, so the line numbers still match
    except SyntaxError:
        return {}
    bound, pending = {}, list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names = [node.id]
        elif isinstance(node, ast.alias):
            names = [(node.asname or node.name).split(".")[0]]
        else:
            names = []
            pending.extend(ast.iter_child_nodes(node))
        for name in names:
            bound[name] = max(bound.get(name, 0), getattr(node, "lineno", 0))
    return bound


def _where_reassigned(notebook: nbformat.NotebookNode, after: int, name: str) -> str:
    """``name`` and the last code cell after cell ``after`` that assigns it, with the line that does."""
    for index in reversed(range(after + 1, len(notebook.cells))):
        cell = notebook.cells[index]
        if cell.cell_type == "code" and (line := _bound_names(cell.source).get(name)):
            return f"`{name}` in {describe(notebook, index, line)}"
    return f"`{name}`"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------- one submission
def _worker_command() -> list[str]:
    # -I: ignore PYTHON* variables and the working directory (the submission's folder) on sys.path
    bootstrap = f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); import grading.run_one as w; sys.exit(w.main())"
    return [sys.executable, "-I", "-c", bootstrap]


def _run_notes(result: dict, settings: Settings) -> list[str]:
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


def _result(record: dict | None) -> CheckResult:
    if not record:
        return CheckResult(False)
    return CheckResult(record["passed"], record.get("part", ""), record.get("message", ""), record.get("hint", ""))


def graded_results(
    notebook: nbformat.NotebookNode, checks: Checks, places: dict[str, Place], result: dict
) -> tuple[dict[str, CheckResult], list[str]]:
    """Each exercise's result where it stands (else at the end), and notes on where and what changed later."""
    results, notes = {}, []
    for exercise in checks.exercises:
        name, place = exercise.name, places[exercise.name]
        here, at_end = result.get("where_it_stands", {}).get(name), result.get("at_end", {}).get(name)
        if place.index is None or here is None:
            results[name] = _result(at_end)
            reason = place.how if place.index is None else "the run ran out of time before reaching it"
            notes.append(f"{name} was checked at the end of the notebook: {reason}.")
            continue
        results[name] = _result(here)
        if not place.how.startswith("its check cell"):
            notes.append(f"{name} was checked after {describe(notebook, place.index)}, found by {place.how}.")
        if here["passed"] and at_end is not None and not at_end["passed"]:
            changed = [_where_reassigned(notebook, place.index, variable) for variable in at_end.get("reassigned", [])]
            what = f"later cells assign {_and(changed)} again" if changed else "later cells change its objects"
            notes.append(
                f"{name} passed where it stands; {what}, so a check at the end of the notebook would fail "
                f"({at_end['part']}: {at_end['message']}). It keeps its point."
            )
    return results, notes


def cell_errors(notebook: nbformat.NotebookNode, checks: Checks, errors: list[dict]) -> list[str]:
    """One line per cell of the student's that raised: its exercise, the cell, and the error."""
    lines = []
    for error in errors:
        index = error["cell"]
        if not 0 <= index < len(notebook.cells) or notebook.cells[index].source.strip() in checks.deliberate_errors:
            continue  # the master's own cells that raise on purpose
        text = f"{error['ename']}: {error['evalue']}".strip(": ")
        lines.append(f"{_section_of(notebook, index, checks.exercises)}, {describe(notebook, index)}: {text[:300]}")
    return lines


def grade_one(
    submission: Submission, checks: Checks, settings: Settings, mode: str, hide: Sequence[Path] = ()
) -> Outcome:
    """Grade one submission in its own temporary folder and sandbox; never raises for a student's fault."""
    start = time.monotonic()

    def outcome(status: str, results=None, notes=None, errors=None, **extra) -> Outcome:
        results = results or {}
        by_name = {exercise.name: results.get(exercise.name, CheckResult(False)) for exercise in checks.exercises}
        return Outcome(submission, status, by_name, notes or [], errors or [], time.monotonic() - start, **extra)

    try:
        notebook = load_notebook(submission.path)
    except NotANotebook as reason:
        return outcome("not_a_notebook", notes=[str(reason)])

    places = exercise_places(notebook, checks.exercises)
    folder = Path(tempfile.mkdtemp(prefix="grading-"))
    try:
        work, home, tmp = folder / "work", folder / "home", folder / "tmp"
        for directory in (work, home, tmp):
            directory.mkdir()
        shutil.copy2(REPO_ROOT / "helper_functions.py", work / "helper_functions.py")
        nbformat.write(notebook, work / f"{submission.path.stem}.ipynb")
        names = [exercise.name for exercise in checks.exercises]
        check_after: dict[str, list[str]] = {}
        for name in names:
            if places[name].index is not None:
                check_after.setdefault(str(places[name].index), []).append(name)
        final_budget = min(
            settings.timeout * FINAL_CHECKS_SHARE, settings.check_timeout * len(names) + CHECK_CELL_SLACK
        )
        job = {
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
            stdout, stderr = process.communicate(json.dumps(job).encode(), timeout=settings.timeout + KILL_GRACE)
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
        results, place_notes = graded_results(notebook, checks, places, result)
        errors = cell_errors(notebook, checks, result.get("errors", []))
        return outcome(_status(result), results, _run_notes(result, settings) + place_notes, errors)
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


def _failure_text(result: CheckResult) -> str:
    return f"{result.part}: {result.message}" if result.part else result.message


def gradescope_result(outcome: Outcome, checks: Checks) -> dict:
    """The submission's results in Gradescope's ``results.json`` format."""
    points = _points(outcome, checks)
    tests = []
    for exercise in checks.exercises:
        result = outcome.results[exercise.name]
        text = "passed" if result.passed else f"{_failure_text(result)}\nHint: {result.hint or exercise.hint}"
        tests.append(
            {
                "name": exercise.name,
                "score": points[exercise.name],
                "max_score": exercise.points,
                "status": "passed" if result.passed else "failed",
                "output": text,
            }
        )
    errors = [f"Error in {line}" for line in outcome.errors]
    return {
        "score": sum(points.values()),
        "output": "\n".join([f"Status: {outcome.status}", *outcome.notes, *errors]),
        "tests": tests,
        "extra_data": {
            "submission": outcome.submission.label,
            "status": outcome.status,
            "max_score": checks.max_points,
            "seconds": round(outcome.seconds, 1),
        },
    }


def feedback_markdown(outcome: Outcome, checks: Checks) -> str:
    """A student-facing summary: the score, what failed and a hint for it, notes, and the cells that raised."""
    points = _points(outcome, checks)
    lines = [
        f"# {checks.assignment}: {outcome.submission.path.name}",
        "",
        f"**Score: {sum(points.values())}/{checks.max_points}** (status: `{outcome.status}`)",
        "",
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
            result = outcome.results[exercise.name]
            lines.append(f"- **{exercise.name}**: {_failure_text(result)}")
            lines.append(f"  Hint: {result.hint or exercise.hint}")
    if outcome.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in outcome.notes]]
    if outcome.errors:
        lines += ["", "## Cells that raised an error", "", *[f"- {line}" for line in outcome.errors]]
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

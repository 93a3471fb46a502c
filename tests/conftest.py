"""Shared fixtures: executed notebooks and the headline numbers they recorded.

``make test`` copies every notebook into ``build/nbtest`` and runs
``pytest --nbmake --overwrite build/nbtest tests``: nbmake executes the copies
first and keeps their outputs, then the tests here read those outputs, as do
``make test-long`` and ``make test-colab`` after it while those copies are fresh
(``fresh_copy``). When a test runs without them, the notebook is executed here.

Wall time is reported, never asserted: at the end of the session every notebook executed in it,
and every time a test handed to ``time_report``, is printed beside its budget and written to
``build/nbtest/times.json`` (``times-long.json`` for ``make test-long``; ``tools/time_report.py``).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import jupytext
import nbformat
import pytest

from helper_functions import RESULTS_MIME
from tools import time_report as timing

REPO_ROOT = Path(__file__).resolve().parent.parent
NBTEST_DIR = REPO_ROOT / "build" / "nbtest"
# the guide's example assignment is graded by tests/test_grading_guide.py, never executed in place by nbmake
collect_ignore_glob = ["assignments/*"]
SESSION_START = time.time()
TIMED: dict[str, float] = {}  # what tests handed to the ``time_report`` fixture: name -> seconds
CALIBRATION: dict[str, float] = {}  # the calibration step's milliseconds, timed once per session
# set by `pytest --cov` (pyproject: patch = ["subprocess"]) so that every Python process a test starts is measured
COVERAGE_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


@contextlib.contextmanager
def unmeasured_subprocesses():
    """Python processes started inside the block run without coverage's tracer.

    Notebook kernels run the course's training loops, and the tracer slows a loop over a
    DataLoader by more than half (lesson 03 ran 134 s instead of 113 s). What a kernel runs is
    not counted towards the coverage floors anyway, so kernels are left untraced.
    """
    saved = {name: os.environ.pop(name) for name in COVERAGE_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Run nbmake's notebooks, and tests marked ``unmeasured``, with untraced subprocesses."""
    if type(item).__name__ == "NotebookItem" or item.get_closest_marker("unmeasured"):
        with unmeasured_subprocesses():
            return (yield)
    return (yield)


MADE_BY_THE_CODE = {".git", ".venv", "build", "data", "models", "node_modules", "__pycache__", ".pytest_cache"}


def copy_of_the_course(target: Path, root: Path = REPO_ROOT) -> Path:
    """The course's files copied to ``target``: what git tracks or would (not what it ignores), or, in a copy that is
    no git checkout, every file but what the code makes."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, capture_output=True
    )
    if listed.returncode == 0:
        names = [entry.decode() for entry in listed.stdout.split(b"\0") if entry]
    else:
        names = [
            str(path.relative_to(root))
            for path in root.rglob("*")
            if path.is_file() and not MADE_BY_THE_CODE & set(path.relative_to(root).parts)
        ]
    for name in names:
        if (root / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target / name)
    return target


def _is_executed(notebook: nbformat.NotebookNode) -> bool:
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return bool(code) and all(cell.get("execution_count") for cell in code)


def _sources_of(relative_path: str) -> list[Path]:
    """What a run of ``relative_path`` depends on: the notebook and the course code it imports."""
    return [REPO_ROOT / relative_path, REPO_ROOT / "helper_functions.py", *(REPO_ROOT / "self_check").rglob("*.py")]


def fresh_copy(relative_path: str) -> nbformat.NotebookNode | None:
    """The executed copy of ``relative_path`` in ``build/nbtest`` when it is newer than all it depends on, else None.

    ``make test`` executes every notebook there, and CI runs ``make test-long`` and
    ``make test-colab`` after it: they read those runs instead of repeating them (lesson 03
    alone trains for two minutes). A copy older than the notebook, ``helper_functions.py`` or
    ``self_check`` is stale, and so is one that stopped before its last cell.
    """
    copy = NBTEST_DIR / relative_path
    if not copy.exists():
        return None
    newest_source = max(path.stat().st_mtime for path in _sources_of(relative_path) if path.exists())
    if copy.stat().st_mtime <= newest_source:
        return None
    notebook = nbformat.read(copy, as_version=4)
    return notebook if _is_executed(notebook) else None


def executed_notebook(relative_path: str) -> nbformat.NotebookNode:
    """Return the executed copy of ``relative_path`` (e.g. ``notebooks/02_...ipynb``).

    Uses the copy nbmake executed (``fresh_copy``); otherwise executes the committed
    notebook now, in a fresh kernel, into ``build/nbtest``.
    """
    notebook = fresh_copy(relative_path)
    if notebook is not None:
        return notebook
    from tools.run_notebooks import execute

    target, _ = execute(REPO_ROOT / relative_path, NBTEST_DIR)
    return nbformat.read(target, as_version=4)


def notebook_results(notebook: nbformat.NotebookNode) -> dict[str, float]:
    """Merge every ``record_results`` output of an executed notebook."""
    results: dict[str, float] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULTS_MIME in data:
                results.update(data[RESULTS_MIME])
    return results


def in_worker_processes(
    work: Callable[[int], tuple[collections.Counter, list[str]]], examples: int, workers: int
) -> tuple[collections.Counter, list[str]]:
    """``work(share)`` in ``workers`` processes at once, ``examples`` shared out: the counts summed, the notes joined.

    ``work`` must be a module's top-level function. The processes are spawned: a fork would copy
    this process's torch threads, and any audit hook a test installed here.
    """
    shares = [examples // workers + (index < examples % workers) for index in range(workers)]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        done = list(pool.map(work, shares))
    return sum((counted for counted, _ in done), collections.Counter()), [note for _, notes in done for note in notes]


def write_fuzz_report(name: str, summary: dict) -> Path:
    """``summary`` as ``build/fuzz/NAME.json``, where the fuzzing tests keep what they ran."""
    report = REPO_ROOT / "build" / "fuzz" / f"{name}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=1) + "\n")
    return report


def code_cells(path: Path) -> list[str]:
    """The code cells' sources of a notebook, read from its ``.py`` master."""
    notebook = jupytext.read(path.with_suffix(".py"))
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def is_whole_split_accuracy(acc: float, test_samples: int) -> bool:
    """An exact accuracy over ``test_samples`` samples is ``k / test_samples * 100`` for a whole k."""
    correct = acc / 100 * test_samples
    return abs(correct - round(correct)) < 1e-6


@pytest.fixture(scope="session")
def results_of():
    """``results_of("notebooks/NAME.ipynb")`` -> the numbers that notebook recorded when executed."""
    cache: dict[str, dict[str, float]] = {}

    def read(relative_path: str) -> dict[str, float]:
        if relative_path not in cache:
            cache[relative_path] = notebook_results(executed_notebook(relative_path))
        return cache[relative_path]

    return read


def calibration_step_ms() -> float:
    """Milliseconds of the calibration step on this machine, timed the first time it is asked for."""
    if "step_ms" not in CALIBRATION:
        CALIBRATION["step_ms"] = timing.calibrate()
    return CALIBRATION["step_ms"]


@pytest.fixture(scope="session")
def slowness() -> float:
    """How many times slower than the reference machine this one runs the calibration step (at least 1).

    A limit that only guards against a hang is multiplied by it, so that it holds on a slow machine.
    """
    return max(1.0, calibration_step_ms() / timing.REFERENCE_STEP_MS)


@pytest.fixture(scope="session")
def time_report():
    """``time_report(name, seconds)``: report a wall time at the end of the session, beside its budget."""

    def report(name: str, seconds: float) -> None:
        TIMED[name] = seconds

    return report


def executed_this_session() -> list[Path]:
    """The copies in ``build/nbtest`` that a notebook run of this session wrote."""
    copies = NBTEST_DIR.rglob("*.ipynb") if NBTEST_DIR.is_dir() else []
    return [path for path in copies if path.stat().st_mtime >= SESSION_START]


def pytest_terminal_summary(terminalreporter):
    notebooks = executed_this_session()
    if not notebooks and not TIMED:
        return
    step_ms = calibration_step_ms()  # timed now, after the tests, unless a test asked for it earlier
    factor = timing.speed_factor(step_ms)
    measurements = timing.notebook_measurements(notebooks, NBTEST_DIR, factor)
    measurements += [timing.measure(name, seconds, factor) for name, seconds in sorted(TIMED.items())]
    terminalreporter.section("wall times beside their budgets (a report, not a test)")
    # make test-long (pytest -m long) reports beside make test's file, without replacing it
    long_run = terminalreporter.config.option.markexpr.startswith("long")  # "long and not colab"
    report = NBTEST_DIR / (timing.REPORT_NAME.replace(".json", "-long.json") if long_run else timing.REPORT_NAME)
    command = "pytest -m long (make test-long)" if long_run else "pytest (make test)"
    for line in timing.write(measurements, step_ms, report, command):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"written to {report.relative_to(REPO_ROOT)}")

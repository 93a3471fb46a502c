"""Shared fixtures: executed notebooks and the headline numbers they recorded.

``make test`` copies every notebook into ``build/nbtest`` and runs
``pytest --nbmake --overwrite build/nbtest tests``: nbmake executes the copies
first and keeps their outputs, then the tests here read those outputs. When a
test runs without that (``pytest tests/...``), the notebook is executed here.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from helper_functions import RESULTS_MIME

REPO_ROOT = Path(__file__).resolve().parent.parent
NBTEST_DIR = REPO_ROOT / "build" / "nbtest"
SESSION_START = time.time()
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


def _is_executed(notebook: nbformat.NotebookNode) -> bool:
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return bool(code) and all(cell.get("execution_count") for cell in code)


def executed_notebook(relative_path: str) -> nbformat.NotebookNode:
    """Return the executed copy of ``relative_path`` (e.g. ``notebooks/02_...ipynb``).

    Uses the copy nbmake executed in this test session; otherwise executes the
    committed notebook now, in a fresh kernel, into ``build/nbtest``.
    """
    copy = NBTEST_DIR / relative_path
    if copy.exists() and copy.stat().st_mtime >= SESSION_START:
        notebook = nbformat.read(copy, as_version=4)
        if _is_executed(notebook):
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

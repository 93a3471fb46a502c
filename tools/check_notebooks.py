"""Check that every jupytext ``.py`` notebook and its paired ``.ipynb`` hold the same cells.

Run: ``python -m tools.check_notebooks`` (exit 1 on drift) or
``python -m tools.check_notebooks --sync`` to write the generated cells into each ``.py``
master and rewrite each ``.ipynb`` from its master (``make sync`` does this, then
regenerates the exercises).

The generated cells of a notebook come from ``tools/colab_setup.py``: its first code cell, the
setup cell, and in a notebook with checks its cell tagged ``self-check``. Each is folded
(``FOLDED``: a form with a ``# @title`` line in Colab, a hidden source in JupyterLab). A master
whose generated cell differs from its source, or is not folded, has drifted too.

File times and ``jupytext --diff``'s exit status cannot tell drift (``--diff``
exits 0 even when it prints differences), so we parse both files and compare
cell types, sources and tags. Outputs are ignored: committed notebooks carry none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

from grading.checks import SELF_CHECK_TAG, STUDENTS_CHECKS_DIR
from tools.colab_setup import FOLDED, MASTER_SELF_CHECK, course_files, setup_cell, students_self_check

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("notebooks", "exercises", "solutions")  # the course's notebooks: the book, the prose checks
TEST_NOTEBOOK_DIRS = ("tests/assignments",)  # kept in sync too, but not the course's: the grading guide's example


def notebook_masters(root: Path = REPO_ROOT, with_tests: bool = False) -> list[Path]:
    """Return every ``.py`` percent notebook of the course (and, ``with_tests``, of the test suite)."""
    folders = NOTEBOOK_DIRS + (TEST_NOTEBOOK_DIRS if with_tests else ())
    return sorted(path for folder in folders for path in (root / folder).glob("*.py"))


def cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a student sees of each cell: its type, its source and its tags (outputs and ids aside)."""
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", []))) for c in notebook.cells]


def students_checks(path: Path) -> str | None:
    """The module of checks a students' notebook at ``path`` loads (``exercises/checks/NAME.py``), or None."""
    return f"{STUDENTS_CHECKS_DIR}/{path.stem}.py" if path.parent.name == "exercises" else None


def generated_cells(notebook: nbformat.NotebookNode, path: Path) -> dict[int, str]:
    """Cell index -> the source its one home generates: the first code cell, and the self-check cell."""
    checks = students_checks(path)
    tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
    self_checking = [index for index, cell_tags in enumerate(tags) if SELF_CHECK_TAG in cell_tags]
    generated = {index: students_self_check(checks) if checks else MASTER_SELF_CHECK for index in self_checking}
    first_code = next((index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"), None)
    if first_code is not None:
        generated[first_code] = setup_cell(course_files(checks, self_check=bool(self_checking)))
    return generated


def with_generated_cells(master: Path) -> str:
    """The text of ``master`` with its generated cells written from their sources, and folded."""
    notebook = jupytext.read(master)
    for index, source in generated_cells(notebook, master).items():
        notebook.cells[index].source = source
        notebook.cells[index].metadata.update(FOLDED)
    return jupytext.writes(notebook, fmt="py:percent")


def drift(master: Path) -> str | None:
    """Return a one-line description of how ``master``, its generated cells and its ``.ipynb`` differ, or None."""
    master_notebook = jupytext.read(master)
    for index, source in generated_cells(master_notebook, master).items():
        cell = master_notebook.cells[index]
        if cell.source != source or any(cell.metadata.get(key) != value for key, value in FOLDED.items()):
            return f"{master} cell {index} differs from its source, tools/colab_setup.py: run `make sync`"
    paired = master.with_suffix(".ipynb")
    if not paired.exists():
        return f"{paired} is missing"
    expected = cells(master_notebook)
    actual = cells(nbformat.read(paired, as_version=4))
    if len(expected) != len(actual):
        return f"{paired} has {len(actual)} cells, {master.name} has {len(expected)}"
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        if want != got:
            return f"{paired} cell {index} differs from {master.name}: {got[1][:60]!r} vs {want[1][:60]!r}"
    return None


def orphans(root: Path = REPO_ROOT) -> list[Path]:
    """Return ``.ipynb`` files that have no ``.py`` master."""
    return sorted(
        path
        for folder in NOTEBOOK_DIRS + TEST_NOTEBOOK_DIRS
        for path in (root / folder).glob("*.ipynb")
        if not path.with_suffix(".py").exists()
    )


def with_stable_ids(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Number the cells' ids by position, so regenerating a notebook does not churn its JSON."""
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
    return notebook


def sync(master: Path) -> None:
    """Write ``master``'s generated cells, then rewrite its ``.ipynb`` from it (no outputs)."""
    text = with_generated_cells(master)
    if text != master.read_text(encoding="utf-8"):
        master.write_text(text, encoding="utf-8")
    jupytext.write(with_stable_ids(jupytext.read(master)), master.with_suffix(".ipynb"), fmt="ipynb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check .py/.ipynb notebook pairs for drift.")
    parser.add_argument("--sync", action="store_true", help="rewrite every .ipynb from its .py master")
    args = parser.parse_args(argv)
    problems = [f"{path} has no .py master" for path in orphans()]
    for master in notebook_masters(with_tests=True):
        if args.sync:
            sync(master)
        elif (problem := drift(master)) is not None:
            problems.append(problem)
    for problem in problems:
        print(f"drift: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

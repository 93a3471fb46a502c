"""Generate the students' exercise notebooks from their solution masters.

Run: ``python -m tools.make_exercises`` to (re)write every exercise notebook, or
``python -m tools.make_exercises --check`` to fail when a committed exercise
file differs from what would be generated (CI does this).

Every ``solutions/*.py`` jupytext master has a generated twin in ``exercises/``:
``NAME_solutions.py`` becomes ``NAME_exercises.py``; any other name is kept.
Both the ``.py`` and its paired ``.ipynb`` are written, and, for a master with checks, the
students' module of its checks, ``exercises/checks/NAME_exercises.py``, which the notebook's
self-check cell loads (``grading.checks.Checks.students_code``).

Markers in the master:

* in a code cell, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION``
  become ``# YOUR CODE HERE`` and ``raise NotImplementedError``, indented like
  the ``BEGIN`` marker;
* in a markdown cell, the lines between ``<!-- BEGIN SOLUTION -->`` and
  ``<!-- END SOLUTION -->`` become ``*Your answer here.*``;
* a cell tagged ``solution-only``, or ``hidden`` (a check no student receives), is dropped;
* a cell tagged ``check`` keeps only its ``check("exN")`` calls, folded under a title (its code
  is in the students' module of checks), and a check cell that calls none is dropped;
* the setup and self-check cells are the students' own (``tools/colab_setup.py``).

Everything else (prompts, exercise cells) is kept. In the exercise version every
code cell from the first exercise on is tagged ``raises-exception``: until the
student fills it in, it or a cell that uses its result may raise, and the
notebook must still run headless in CI.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import jupytext
import nbformat

from grading.checks import CHECK_TAG, check_calls, in_students_notebook, read_checks, students_notebook_name
from tools.check_notebooks import cells, generated_cells, with_stable_ids
from tools.colab_setup import FOLDED, check_line

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"

CODE_MARKERS = (re.compile(r"^(\s*)# BEGIN SOLUTION\s*$"), re.compile(r"^\s*# END SOLUTION\s*$"))
MARKDOWN_MARKERS = (re.compile(r"^(\s*)<!-- BEGIN SOLUTION -->\s*$"), re.compile(r"^\s*<!-- END SOLUTION -->\s*$"))
CODE_PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError")
MARKDOWN_PLACEHOLDER = ("*Your answer here.*",)
MAY_RAISE = "raises-exception"


class MarkerError(ValueError):
    """A solution marker is unclosed, nested or stray; the message names the file and line."""


def _cell_start_lines(text: str) -> list[int]:
    """Return the 1-based line number in the .py master where each cell starts."""
    return [number for number, line in enumerate(text.splitlines(), start=1) if line.startswith("# %%")]


def strip_solutions(source: str, markdown: bool, where: str, first_line: int) -> tuple[str, bool]:
    """Replace marked solution regions in one cell's source; return (new source, had a region)."""
    begin, end = MARKDOWN_MARKERS if markdown else CODE_MARKERS
    placeholder = MARKDOWN_PLACEHOLDER if markdown else CODE_PLACEHOLDER
    output: list[str] = []
    open_at: int | None = None
    found = False
    for offset, line in enumerate(source.splitlines()):
        line_number = first_line + offset
        opening = begin.match(line)
        if opening:
            if open_at is not None:
                raise MarkerError(
                    f"{where}:{line_number}: nested BEGIN SOLUTION (the one at line {open_at} is still open)"
                )
            open_at, found = line_number, True
            output.extend(opening.group(1) + text for text in placeholder)
        elif end.match(line):
            if open_at is None:
                raise MarkerError(f"{where}:{line_number}: END SOLUTION without a BEGIN SOLUTION")
            open_at = None
        elif open_at is None:
            output.append(line)
    if open_at is not None:
        raise MarkerError(f"{where}:{open_at}: BEGIN SOLUTION is never closed in its cell")
    return "\n".join(output), found


def exercise_notebook(master: Path, with_answers: bool = False) -> nbformat.NotebookNode:
    """Return the exercise version of the jupytext master ``master``; ``with_answers``: as a student who answered
    every exercise as the master does would hand it in (the tests' notebook of a student with full marks)."""
    text = master.read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="py:percent")
    starts = _cell_start_lines(text)
    # jupytext may give the header its own cell only when there is one; align from the end
    offset = len(starts) - len(notebook.cells)
    exercise = copy.deepcopy(notebook)
    exercise.cells = []
    exercises_started = False
    for index, cell in enumerate(notebook.cells):
        if not in_students_notebook(cell):
            continue
        tags = list(cell.metadata.get("tags", []))
        start_index = index + offset
        first_line = starts[start_index] + 1 if 0 <= start_index < len(starts) else 1
        new_source, found = strip_solutions(
            cell.source, markdown=cell.cell_type == "markdown", where=str(master), first_line=first_line
        )
        new_cell = copy.deepcopy(cell)
        new_cell.source = cell.source if with_answers and cell.cell_type == "code" else new_source
        if CHECK_TAG in tags:  # the check's code is in the students' module of checks; the notebook runs it
            new_cell.source = check_line(check_calls(cell.source))
            new_cell.metadata.update(copy.deepcopy(FOLDED))
        if found and cell.cell_type == "code":
            exercises_started = True
        if exercises_started and cell.cell_type == "code" and MAY_RAISE not in tags:
            new_cell.metadata["tags"] = [*tags, MAY_RAISE]
        exercise.cells.append(new_cell)
    target = exercise_path(master)
    for index, source in generated_cells(exercise, target).items():
        if exercise.cells[index].metadata.get("cellView") == FOLDED["cellView"]:  # generated in the master too
            exercise.cells[index].source = source  # the setup and self-check cells, as students need them
    return exercise


def exercise_path(master: Path) -> Path:
    """Map ``solutions/NAME_solutions.py`` to ``exercises/NAME_exercises.py`` (other names unchanged)."""
    return EXERCISES_DIR / f"{students_notebook_name(master)}.py"


def masters() -> list[Path]:
    return sorted(SOLUTIONS_DIR.glob("*.py"))


def render(master: Path) -> dict[Path, str]:
    """Return the generated text of the exercise ``.py`` and ``.ipynb`` for ``master``, and of its module of checks."""
    target = exercise_path(master)
    py_text = jupytext.writes(exercise_notebook(master), fmt="py:percent")
    # the .ipynb is made from the .py exactly as `check_notebooks --sync` makes it, so the two tools agree
    paired = with_stable_ids(jupytext.reads(py_text, fmt="py:percent"))
    rendered = {target: py_text, target.with_suffix(".ipynb"): jupytext.writes(paired, fmt="ipynb") + "\n"}
    if any(CHECK_TAG in cell.metadata.get("tags", []) for cell in paired.cells):
        checks = read_checks(master)
        rendered[REPO_ROOT / checks.students_path] = checks.students_code
    return rendered


def _same_notebook(generated: str, committed: str, suffix: str) -> bool:
    if suffix == ".py":
        return generated == committed
    # .ipynb: compare what a student sees (cell types, sources, tags), not JSON formatting
    return cells(nbformat.reads(generated, as_version=4)) == cells(nbformat.reads(committed, as_version=4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate exercise notebooks from solution masters.")
    parser.add_argument("--check", action="store_true", help="only report files that differ; exit 1 if any")
    parser.add_argument("masters", nargs="*", type=Path, help="masters to process (default: solutions/*.py)")
    args = parser.parse_args(argv)
    stale: list[Path] = []
    try:
        for master in args.masters or masters():
            for target, text in render(master.resolve()).items():
                if args.check:
                    if not target.exists() or not _same_notebook(
                        text, target.read_text(encoding="utf-8"), target.suffix
                    ):
                        stale.append(target)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                    print(f"wrote {target.relative_to(REPO_ROOT)}")
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if stale:
        for target in stale:
            print(f"stale: {target.relative_to(REPO_ROOT)} (run `python -m tools.make_exercises`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Generate the students' exercise notebooks from their solution masters.

Run: ``python -m tools.make_exercises`` to (re)write every exercise notebook, or
``python -m tools.make_exercises --check`` to fail when a committed exercise
file differs from what would be generated (CI does this).

Every ``solutions/*.py`` jupytext master has a generated twin in ``exercises/``:
``NAME_solutions.py`` becomes ``NAME_exercises.py``; any other name is kept.
Both the ``.py`` and its paired ``.ipynb`` are written.

Markers in the master:

* in a code cell, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION``
  become ``# YOUR CODE HERE`` and ``raise NotImplementedError``, indented like
  the ``BEGIN`` marker;
* in a markdown cell, the lines between ``<!-- BEGIN SOLUTION -->`` and
  ``<!-- END SOLUTION -->`` become ``*Your answer here.*``;
* a cell tagged ``solution-only`` is dropped from the exercise version.

Everything else (prompts, checks, setup) is kept. In the exercise version every
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

from tools.check_notebooks import cells, with_stable_ids

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"

CODE_MARKERS = (re.compile(r"^(\s*)# BEGIN SOLUTION\s*$"), re.compile(r"^\s*# END SOLUTION\s*$"))
MARKDOWN_MARKERS = (re.compile(r"^(\s*)<!-- BEGIN SOLUTION -->\s*$"), re.compile(r"^\s*<!-- END SOLUTION -->\s*$"))
CODE_PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError")
MARKDOWN_PLACEHOLDER = ("*Your answer here.*",)
MAY_RAISE = "raises-exception"
SOLUTION_ONLY = "solution-only"


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


def exercise_notebook(master: Path) -> nbformat.NotebookNode:
    """Return the exercise version of the jupytext master ``master``."""
    text = master.read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="py:percent")
    starts = _cell_start_lines(text)
    # jupytext may give the header its own cell only when there is one; align from the end
    offset = len(starts) - len(notebook.cells)
    exercise = copy.deepcopy(notebook)
    exercise.cells = []
    exercises_started = False
    for index, cell in enumerate(notebook.cells):
        tags = list(cell.metadata.get("tags", []))
        if SOLUTION_ONLY in tags:
            continue
        start_index = index + offset
        first_line = starts[start_index] + 1 if 0 <= start_index < len(starts) else 1
        new_source, found = strip_solutions(
            cell.source, markdown=cell.cell_type == "markdown", where=str(master), first_line=first_line
        )
        new_cell = copy.deepcopy(cell)
        new_cell.source = new_source
        if found and cell.cell_type == "code":
            exercises_started = True
        if exercises_started and cell.cell_type == "code" and MAY_RAISE not in tags:
            new_cell.metadata["tags"] = [*tags, MAY_RAISE]
        exercise.cells.append(new_cell)
    return exercise


def exercise_path(master: Path) -> Path:
    """Map ``solutions/NAME_solutions.py`` to ``exercises/NAME_exercises.py`` (other names unchanged)."""
    name = master.name.replace("_solutions.py", "_exercises.py")
    return EXERCISES_DIR / name


def masters() -> list[Path]:
    return sorted(SOLUTIONS_DIR.glob("*.py"))


def render(master: Path) -> dict[Path, str]:
    """Return the generated text of the exercise ``.py`` and ``.ipynb`` for ``master``."""
    target = exercise_path(master)
    py_text = jupytext.writes(exercise_notebook(master), fmt="py:percent")
    # the .ipynb is made from the .py exactly as `check_notebooks --sync` makes it, so the two tools agree
    paired = with_stable_ids(jupytext.reads(py_text, fmt="py:percent"))
    return {target: py_text, target.with_suffix(".ipynb"): jupytext.writes(paired, fmt="ipynb") + "\n"}


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

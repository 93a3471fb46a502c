"""Where each exercise stands in a submission, found from the submission's own structure.

An exercise is checked right after the last cell that calls its ``check("exN")``, else after
the last code cell under its heading, else after the last of its cells whose generated id
survives, else at the end of the notebook. The helpers here also name a cell as a student
finds it, and the later cell that assigned a name again.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

import nbformat

from grading.checks import EXERCISE_HEADING, Exercise
from grading.submission_run import describe

HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)


@dataclass(frozen=True)
class Place:
    """Where an exercise is checked in a submission: after cell ``index`` (None: at the end), found by ``how``."""

    index: int | None
    how: str


def _normal(heading: str) -> str:
    return " ".join(heading.lower().split())


def exercise_places(notebook: nbformat.NotebookNode, exercises: Sequence[Exercise]) -> dict[str, Place]:
    """Find, from the submission's own structure, the cell after which each exercise is checked."""
    cells = notebook.cells
    headings: dict[str, int] = {}
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


def section_of(notebook: nbformat.NotebookNode, index: int, exercises: Sequence[Exercise]) -> str:
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


def bound_names(source: str) -> dict[str, int]:
    """The names a cell assigns at its top level (not inside functions or classes), with the line of the last."""
    kept = [line if not line.lstrip().startswith(("%", "!")) else "" for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(kept))  # IPython's magics blanked, so the line numbers still match
    except SyntaxError:
        return {}
    bound: dict[str, int] = {}
    pending: list[ast.AST] = list(tree.body)
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


def where_reassigned(notebook: nbformat.NotebookNode, after: int, name: str) -> str:
    """``name`` and the last code cell after cell ``after`` that assigns it, with the line that does."""
    for index in reversed(range(after + 1, len(notebook.cells))):
        cell = notebook.cells[index]
        if cell.cell_type == "code" and (line := bound_names(cell.source).get(name)):
            return f"`{name}` in {describe(notebook, index, line)}"
    return f"`{name}`"


def and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

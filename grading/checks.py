"""The trusted checks of an assignment, read from its master notebook, and the assignments there are.

Every master in ``solutions/`` (or another folder of masters) that has a cell tagged
``harness`` is an assignment the grader knows, named after its file: ``assignment_06_...py``
is ``assignment_06``, ``02_..._solutions.py`` is ``exercises_02``. Its harness cell defines
the hand-over, the rebuild and the check library (``tools/self_check.py``), and after each
exercise a cell tagged ``check`` registers ``check_exN`` with
``@exercise("exN", points=..., hint=..., reads=(...))``, ``reads`` naming the variables the
check reads. The grader reads those cells from the master, never from a submission, and drops
their top-level ``check(...)`` calls, which are only the student's self-check.

The master also tells the grader where each exercise stands in a student's notebook:
its heading (``### Exercise 3 ...``), the ids the generated exercise notebook gives its
cells, and which of its cells raise on purpose (tagged ``raises-exception``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTERS_DIR = REPO_ROOT / "solutions"
HARNESS_TAG = "harness"
CHECK_TAG = "check"
RAISES_TAG = "raises-exception"
SOLUTION_ONLY_TAG = "solution-only"  # such cells are left out of the students' notebook
EXERCISE_HEADING = re.compile(r"^#+\s*(Exercise\s+\d+)\b", re.MULTILINE | re.IGNORECASE)
ASSIGNMENT_MASTER = re.compile(r"^assignment_(\d+)(?:_\w+)?$")  # assignment_06_classification -> assignment_06
EXERCISES_MASTER = re.compile(r"^(\d+)_\w+_solutions$")  # 02_pytorch_classification_solutions -> exercises_02


@dataclass(frozen=True)
class Exercise:
    name: str
    points: int
    hint: str
    reads: tuple[str, ...] = ()  # the variables its check reads, handed over from the kernel
    heading: str = ""  # e.g. "Exercise 3", as its markdown heading names it
    cell_ids: tuple[str, ...] = ()  # ids of its cells in the students' notebook, heading to check cell


@dataclass(frozen=True)
class Checks:
    """What the grader needs from a master: the check code, the exercises it declares, its deliberate errors."""

    assignment: str
    master: Path
    code: str
    exercises: tuple[Exercise, ...]
    deliberate_errors: frozenset[str] = frozenset()  # sources of the master's cells that raise on purpose

    @property
    def max_points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)


def assignment_name(master: Path) -> str | None:
    """The name a master is graded by (``assignment_06``, ``exercises_02``), or None for another file name."""
    if found := ASSIGNMENT_MASTER.match(master.stem):
        return f"assignment_{found.group(1)}"
    if found := EXERCISES_MASTER.match(master.stem):
        return f"exercises_{found.group(1)}"
    return None


def assignments(masters_dir: Path = MASTERS_DIR) -> dict[str, Path]:
    """Every gradable master in ``masters_dir``: name -> path. A master is gradable when it has a harness cell."""
    found = {}
    for master in sorted(masters_dir.glob("*.py")):
        name = assignment_name(master)
        if name is not None and f'tags=["{HARNESS_TAG}"]' in master.read_text(encoding="utf-8"):
            found[name] = master
    return found


def master_path(assignment: str, masters_dir: Path = MASTERS_DIR) -> Path:
    """Return the master notebook of ``assignment``; ``KeyError`` names the known ones."""
    known = assignments(masters_dir)
    if assignment not in known:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(sorted(known)) or 'none'}")
    return known[assignment]


def _without_check_calls(source: str) -> str:
    """Remove top-level ``check(...)`` statements (the student's self-check) from a cell."""
    drop: set[int] = set()
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "check"
        ):
            drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return "\n".join(line for number, line in enumerate(source.splitlines(), start=1) if number not in drop)


def _declared_exercises(source: str, where: str) -> list[Exercise]:
    """Read the literal arguments of every ``@exercise(name, points=..., hint=...)`` in a cell."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Name)
                and decorator.func.id == "exercise"
            ):
                continue
            try:
                arguments = dict(zip(("name", "points", "hint"), map(ast.literal_eval, decorator.args), strict=False))
                # probes are computed when the check cell runs; the rest must be written out
                arguments.update(
                    {str(k.arg): ast.literal_eval(k.value) for k in decorator.keywords if k.arg != "probes"}
                )
                reads = tuple(str(variable) for variable in arguments.get("reads", ()))
                found.append(Exercise(str(arguments["name"]), int(arguments["points"]), str(arguments["hint"]), reads))
            except (ValueError, KeyError) as error:
                raise ValueError(f"{where}: @exercise needs literal name, points, hint and reads ({error})") from None
    return found


def load_checks(assignment: str, masters_dir: Path = MASTERS_DIR) -> Checks:
    """Read the harness, the check cells and the exercises' places from ``assignment``'s master notebook."""
    master = master_path(assignment, masters_dir)
    cells = [cell for cell in jupytext.read(master).cells if SOLUTION_ONLY_TAG not in cell.metadata.get("tags", [])]
    tags = [cell.metadata.get("tags", []) for cell in cells]
    harness = [cell.source for cell, cell_tags in zip(cells, tags, strict=True) if HARNESS_TAG in cell_tags]
    if len(harness) != 1:
        raise ValueError(f"{master}: expected one cell tagged {HARNESS_TAG!r}, found {len(harness)}")
    exercises, check_sources, heading, heading_at = [], [], "", 0
    for index, (cell, cell_tags) in enumerate(zip(cells, tags, strict=True)):
        if cell.cell_type == "markdown" and (found := EXERCISE_HEADING.search(cell.source)):
            heading, heading_at = found.group(1), index
        if CHECK_TAG in cell_tags:
            check_sources.append(cell.source)
            # the generated notebook numbers its cells' ids by position (tools/check_notebooks.with_stable_ids)
            ids = tuple(f"cell-{position}" for position in range(heading_at, index + 1))
            for declared in _declared_exercises(cell.source, str(master)):
                exercises.append(Exercise(declared.name, declared.points, declared.hint, declared.reads, heading, ids))
    names = [exercise.name for exercise in exercises]
    if not exercises or len(set(names)) != len(names):
        raise ValueError(f"{master}: check cells must declare distinct exercises, found {names}")
    code = "\n\n".join([harness[0], *map(_without_check_calls, check_sources)])
    deliberate = [cell.source.strip() for cell, cell_tags in zip(cells, tags, strict=True) if RAISES_TAG in cell_tags]
    return Checks(assignment, master, code, tuple(exercises), frozenset(deliberate))

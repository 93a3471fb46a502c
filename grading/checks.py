"""The trusted checks of an assignment, read from its master notebook, and the assignments there are.

Every master in ``solutions/`` (or another folder of masters) that has cells tagged ``check`` is
an assignment the grader knows, named after its file: ``assignment_06_...py`` is
``assignment_06``, ``02_..._solutions.py`` is ``exercises_02``. After each exercise a cell tagged
``check`` registers ``check_exN`` with ``@exercise("exN", points=..., hint=..., reads=(...))``,
``reads`` naming the variables the check reads, written with the library of ``self_check.py``
(``CHECKS_HEADER``). The grader reads those cells from the master, never from a submission, and
drops their top-level ``check(...)`` calls, which are only the student's self-check.

The students' notebook has no check code (``make exercises``): each check cell becomes one line
that calls ``check("exN")`` (``in_students_notebook`` says which cells stay), and the checks go to
one module beside it (``students_checks_path``), which its self-check cell loads.

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
import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTERS_DIR = REPO_ROOT / "solutions"
SELF_CHECK_TAG = "self-check"  # the generated cell that makes check() available
CHECK_TAG = "check"
RAISES_TAG = "raises-exception"
SOLUTION_ONLY_TAG = "solution-only"  # such cells are left out of the students' notebook
EXERCISE_HEADING = re.compile(r"^#+\s*(Exercise\s+\d+)\b", re.MULTILINE | re.IGNORECASE)
ASSIGNMENT_MASTER = re.compile(r"^assignment_(\d+)(?:_\w+)?$")  # assignment_06_classification -> assignment_06
EXERCISES_MASTER = re.compile(r"^(\d+)_\w+_solutions$")  # 02_pytorch_classification_solutions -> exercises_02
CHECK_CELL = re.compile(r'^# %%.*tags=\[[^\]]*"check"', re.MULTILINE)
STUDENTS_CHECKS_DIR = "exercises/checks"  # the students' copy of each master's checks, one module a notebook
# what every assignment's checks start with, in the grader, in the checker and in the students' module
CHECKS_HEADER = "from self_check import *  # noqa: F403  (the check library: exercise, expect, _need, ...)\n"


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
    code: str  # what the checker runs: CHECKS_HEADER, then the master's check cells without their check() calls
    exercises: tuple[Exercise, ...]
    deliberate_errors: frozenset[str] = frozenset()  # sources of the master's cells that raise on purpose

    @property
    def max_points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)

    @property
    def students_path(self) -> str:
        """Where the students' notebook finds its checks, relative to the course's folder."""
        return students_checks_path(self.master)

    @property
    def students_code(self) -> str:
        """The module of checks the students' notebook loads: what the checker runs, and where it comes from."""
        notebook = Path(self.students_path).parent.parent / Path(self.students_path).with_suffix(".ipynb").name
        return (
            f'''"""The checks of {notebook.as_posix()}, which its self-check cell loads.

Generated from solutions/{self.master.name} by ``make exercises``: edit the master, never
this file. The grader runs the same checks, taken from the master.
"""

'''
            + self.code
        )


def assignment_name(master: Path) -> str | None:
    """The name a master is graded by (``assignment_06``, ``exercises_02``), or None for another file name."""
    if found := ASSIGNMENT_MASTER.match(master.stem):
        return f"assignment_{found.group(1)}"
    if found := EXERCISES_MASTER.match(master.stem):
        return f"exercises_{found.group(1)}"
    return None


def assignments(masters_dir: Path = MASTERS_DIR) -> dict[str, Path]:
    """Every gradable master in ``masters_dir``: name -> path. A master is gradable when it has check cells."""
    found = {}
    for master in sorted(masters_dir.glob("*.py")):
        name = assignment_name(master)
        if name is not None and CHECK_CELL.search(master.read_text(encoding="utf-8")):
            found[name] = master
    return found


def students_notebook_name(master: Path) -> str:
    """The name of ``master``'s students' notebook, without suffix: ``NAME_solutions`` becomes ``NAME_exercises``."""
    return master.stem.replace("_solutions", "_exercises")


def students_checks_path(master: Path) -> str:
    """Where the students' copy of ``master``'s checks lives, relative to the course's folder."""
    return f"{STUDENTS_CHECKS_DIR}/{students_notebook_name(master)}.py"


def master_path(assignment: str, masters_dir: Path = MASTERS_DIR) -> Path:
    """Return the master notebook of ``assignment``; ``KeyError`` names the known ones."""
    known = assignments(masters_dir)
    if assignment not in known:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(sorted(known)) or 'none'}")
    return known[assignment]


def _check_calls(source: str) -> list[ast.Expr]:
    """The top-level ``check(...)`` statements of a cell: the student's self-check."""
    return [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "check"
    ]


def check_calls(source: str) -> str:
    """The cell's top-level ``check(...)`` statements alone, as the students' notebook keeps them."""
    lines = source.splitlines()
    return "\n".join(
        "\n".join(lines[node.lineno - 1 : node.end_lineno or node.lineno]) for node in _check_calls(source)
    )


def without_check_calls(source: str) -> str:
    """Remove top-level ``check(...)`` statements (the student's self-check) from a cell."""
    drop: set[int] = set()
    for node in _check_calls(source):
        drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return "\n".join(line for number, line in enumerate(source.splitlines(), start=1) if number not in drop).strip()


def in_students_notebook(cell: nbformat.NotebookNode) -> bool:
    """Whether a master's cell is in the students' notebook: not solution-only, and a check cell only as its calls."""
    tags = cell.metadata.get("tags", [])
    if SOLUTION_ONLY_TAG in tags:
        return False
    return CHECK_TAG not in tags or bool(_check_calls(cell.source))


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
    """Read the check cells and the exercises' places from ``assignment``'s master notebook."""
    return read_checks(master_path(assignment, masters_dir), assignment)


def read_checks(master: Path, assignment: str = "") -> Checks:
    """Read the check cells and the exercises' places from the master notebook at ``master``."""
    # the cells of the students' notebook, by position: its cells' ids are "cell-<position>"
    cells = [cell for cell in jupytext.read(master).cells if in_students_notebook(cell)]
    all_cells = jupytext.read(master).cells
    exercises, heading, heading_at = [], "", 0
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown" and (found := EXERCISE_HEADING.search(cell.source)):
            heading, heading_at = found.group(1), index
        if CHECK_TAG in cell.metadata.get("tags", []):
            ids = tuple(f"cell-{position}" for position in range(heading_at, index + 1))
            for declared in _declared_exercises(cell.source, str(master)):
                exercises.append(Exercise(declared.name, declared.points, declared.hint, declared.reads, heading, ids))
    check_sources = [cell.source for cell in all_cells if CHECK_TAG in cell.metadata.get("tags", [])]
    declared_anywhere = [e.name for source in check_sources for e in _declared_exercises(source, str(master))]
    names = [exercise.name for exercise in exercises]
    if not exercises or len(set(declared_anywhere)) != len(declared_anywhere) or set(names) != set(declared_anywhere):
        raise ValueError(
            f"{master}: check cells must declare distinct exercises, each in a cell that calls check(), "
            f"found {declared_anywhere}"
        )
    code = CHECKS_HEADER + "\n\n" + "\n\n\n".join(map(without_check_calls, check_sources)) + "\n"
    deliberate = [cell.source.strip() for cell in cells if RAISES_TAG in cell.metadata.get("tags", [])]
    return Checks(assignment, master, code, tuple(exercises), frozenset(deliberate))

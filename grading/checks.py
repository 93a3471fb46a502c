"""The trusted checks of an assignment, read from its master notebook, and the assignments there are.

Every master in ``solutions/`` (or another folder of masters) that has cells tagged ``check`` is
an assignment the grader knows, named after its file: ``assignment_06_...py`` is
``assignment_06``, ``02_..._solutions.py`` is ``exercises_02``. After each exercise a cell tagged
``check`` registers ``check_exN`` with ``@exercise("exN", points=..., hint=..., reads=(...))``,
``reads`` naming the variables the check reads, written with the library of the ``self_check`` package
(``CHECKS_HEADER``). The grader reads those cells from the master, never from a submission, and
drops their top-level ``check(...)`` calls, which are only the student's self-check.

An exercise is worth the sum of its parts' points: each ``@exercise(..., part="...")`` is one
part, judged on its own. A check cell tagged ``hidden`` too holds hidden parts: the grader runs
them, and no student receives their code.

The students' notebook has no check code (``make exercises``): each check cell becomes one line
that calls ``check("exN")`` (``in_students_notebook`` says which cells stay), and the visible
checks go to one module beside it (``students_checks_path``), which its self-check cell loads and
which declares each hidden part (``hidden_part``) without its code.

The master also tells the grader where each exercise stands in a student's notebook:
its heading (``### Exercise 3 ...``), the ids the generated exercise notebook gives its
cells, and which of its cells raise on purpose (tagged ``raises-exception``).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTERS_DIR = REPO_ROOT / "solutions"
# the course's files a notebook imports (its setup cell looks for them): the helpers, and the self-check's package
COURSE_FILES = ("helper_functions.py", *sorted(f"self_check/{p.name}" for p in (REPO_ROOT / "self_check").glob("*.py")))
SELF_CHECK_TAG = "self-check"  # the generated cell that makes check() available
CHECK_TAG = "check"
HIDDEN_TAG = "hidden"  # a check cell whose parts no student receives: the grader alone runs them
RAISES_TAG = "raises-exception"
SOLUTION_ONLY_TAG = "solution-only"  # such cells are left out of the students' notebook
EXERCISE_HEADING = re.compile(r"^#+\s*(Exercise\s+\d+)\b", re.MULTILINE | re.IGNORECASE)
ASSIGNMENT_MASTER = re.compile(r"^assignment_(\d+)(?:_\w+)?$")  # assignment_06_classification -> assignment_06
EXERCISES_MASTER = re.compile(r"^(\d+)_\w+_solutions$")  # 02_pytorch_classification_solutions -> exercises_02
CHECK_CELL = re.compile(r'^# %%.*tags=\[[^\]]*"check"', re.MULTILINE)
STUDENTS_CHECKS_DIR = "exercises/checks"  # the students' copy of each master's checks, one module a notebook
# what every assignment's checks start with, in the grader, in the checker and in the students' module
CHECKS_HEADER = "from self_check import *  # noqa: F403  (the check library: exercise, expect, need, ...)\n"


@dataclass(frozen=True)
class Part:
    """One part of an exercise's check: its name ("" for an exercise of one part), its points, whether hidden."""

    name: str
    points: float
    hint: str
    reads: tuple[str, ...] = ()
    hidden: bool = False  # in a cell tagged `hidden`: in no file a student receives, judged by the grader alone


@dataclass(frozen=True)
class Exercise:
    name: str
    points: float  # the sum of its parts' points
    hint: str
    reads: tuple[str, ...] = ()  # the variables its checks read, handed over from the kernel
    heading: str = ""  # e.g. "Exercise 3", as its markdown heading names it
    cell_ids: tuple[str, ...] = ()  # ids of its cells in the students' notebook, heading to check cell
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Checks:
    """What the grader needs from a master: the check code, the exercises it declares, its deliberate errors."""

    assignment: str
    master: Path
    code: str  # what the checker runs: CHECKS_HEADER, then the master's check cells without their check() calls
    exercises: tuple[Exercise, ...]
    deliberate_errors: frozenset[str] = frozenset()  # sources of the master's cells that raise on purpose
    visible_code: str = ""  # what a student receives: ``code`` without its hidden cells, which it only declares

    @property
    def max_points(self) -> float:
        return sum(exercise.points for exercise in self.exercises)

    @property
    def students_path(self) -> str:
        """Where the students' notebook finds its checks, relative to the course's folder."""
        return students_checks_path(self.master)

    @property
    def students_code(self) -> str:
        """The module of checks the students' notebook loads: its visible checks, and where they come from."""
        notebook = Path(self.students_path).parent.parent / Path(self.students_path).with_suffix(".ipynb").name
        return (
            f'''"""The checks of {notebook.as_posix()}, which its self-check cell loads.

Generated from solutions/{self.master.name} by ``make exercises``: edit the master, never
this file. The grader runs the same checks, taken from the master, and its hidden parts too.
"""

'''
            + self.visible_code
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
    """Whether a master's cell is in the students' notebook: not solution-only or hidden, a check cell as its calls."""
    tags = cell.metadata.get("tags", [])
    if SOLUTION_ONLY_TAG in tags or HIDDEN_TAG in tags:
        return False
    return CHECK_TAG not in tags or bool(_check_calls(cell.source))


def _declared_parts(source: str, where: str, hidden: bool) -> list[tuple[str, Part]]:
    """(exercise, part) for every ``@exercise(name, points=..., hint=..., reads=..., part=...)`` in a cell."""
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
            keywords = {str(k.arg): k.value for k in decorator.keywords}
            if hidden and "probes" in keywords:
                raise ValueError(f"{where}: a hidden part cannot have probes: the kernel would see their inputs")
            try:
                arguments = dict(zip(("name", "points", "hint"), map(ast.literal_eval, decorator.args), strict=False))
                # probes are computed when the check cell runs; the rest must be written out
                arguments.update({k: ast.literal_eval(v) for k, v in keywords.items() if k != "probes"})
                reads = tuple(str(variable) for variable in arguments.get("reads", ()))
                part = Part(str(arguments.get("part", "")), arguments["points"], str(arguments["hint"]), reads, hidden)
            except (ValueError, KeyError) as error:
                raise ValueError(f"{where}: @exercise needs literal name, points, hint and reads ({error})") from None
            if not isinstance(part.points, int | float) or part.points < 0:
                raise ValueError(f"{where}: the points of {arguments['name']} must be a number, not {part.points!r}")
            found.append((str(arguments["name"]), part))
    return found


def _tuple(texts: tuple[str, ...]) -> str:
    """A tuple of strings as ruff formats it: double quotes, and a trailing comma when it holds one."""
    return "(" + ", ".join(map(json.dumps, texts)) + ("," if len(texts) == 1 else "") + ")"


def _hidden_declarations(parts: list[tuple[str, Part]]) -> str:
    """What the students' module says of the hidden parts: each one's exercise, name, points and reads, no code."""
    lines = [
        f"hidden_part({json.dumps(name)}, {json.dumps(part.name)}, points={part.points!r}, reads={_tuple(part.reads)})"
        for name, part in parts
        if part.hidden
    ]
    heading = "# Judged only when the notebook is graded: declared here so that the self-check counts them."
    return "\n".join([heading, *lines]) + "\n" if lines else ""


def load_checks(assignment: str, masters_dir: Path = MASTERS_DIR) -> Checks:
    """Read the check cells and the exercises' places from ``assignment``'s master notebook."""
    return read_checks(master_path(assignment, masters_dir), assignment)


def read_checks(master: Path, assignment: str = "") -> Checks:
    """Read the check cells and the exercises' places from the master notebook at ``master``."""
    every_cell = jupytext.read(master).cells
    check_cells = [cell for cell in every_cell if CHECK_TAG in cell.metadata.get("tags", [])]
    declared = [
        (name, part)
        for cell in check_cells
        for name, part in _declared_parts(cell.source, str(master), HIDDEN_TAG in cell.metadata.get("tags", []))
    ]
    parts: dict[str, list[Part]] = {}
    for name, part in declared:
        parts.setdefault(name, []).append(part)
    for name, listed in parts.items():
        names = [part.name for part in listed]
        if len(set(names)) != len(names) or (len(listed) > 1 and "" in names):
            raise ValueError(
                f"{master}: the parts of {name} need distinct names, found {names}: an exercise of several parts, "
                'hidden ones included, names each one with @exercise(..., part="...")'
            )
    # the cells of the students' notebook, by position: its cells' ids are "cell-<position>"
    cells = [cell for cell in every_cell if in_students_notebook(cell)]
    exercises, heading, heading_at = [], "", 0
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown" and (found := EXERCISE_HEADING.search(cell.source)):
            heading, heading_at = found.group(1), index
        if CHECK_TAG in cell.metadata.get("tags", []):
            ids = tuple(f"cell-{position}" for position in range(heading_at, index + 1))
            for name in dict.fromkeys(name for name, _ in _declared_parts(cell.source, str(master), False)):
                its = tuple(parts[name])
                reads = tuple(dict.fromkeys(variable for part in its for variable in part.reads))
                exercises.append(
                    Exercise(name, sum(part.points for part in its), its[0].hint, reads, heading, ids, its)
                )
    names = [exercise.name for exercise in exercises]
    if not exercises or len(set(names)) != len(names) or set(names) != set(parts):
        raise ValueError(
            f"{master}: each exercise needs a check cell of its own that calls check() in the students' notebook, "
            f"and at least one visible part; found {names} there, and {sorted(parts)} declared"
        )

    def code(sources: list[str]) -> str:
        return CHECKS_HEADER + "\n\n" + "\n\n\n".join(map(without_check_calls, sources)) + "\n"

    visible = [cell.source for cell in check_cells if HIDDEN_TAG not in cell.metadata.get("tags", [])]
    hidden = _hidden_declarations(declared)
    deliberate = [cell.source.strip() for cell in cells if RAISES_TAG in cell.metadata.get("tags", [])]
    return Checks(
        assignment,
        master,
        code([cell.source for cell in check_cells]),
        tuple(exercises),
        frozenset(deliberate),
        code(visible) + ("\n\n" + hidden if hidden else ""),
    )

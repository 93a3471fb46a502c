"""The trusted checks of an assignment, read from its master notebook, and the cell that runs them.

Each assignment's master (``solutions/<name>.py``) holds one cell tagged ``harness``
(defining ``EXERCISES``, ``exercise``, ``run_check`` and ``reassigned``) and, after each
exercise, a cell tagged ``check`` that registers ``check_exN`` with
``@exercise("exN", points=..., hint=...)``. The grader reads those cells from the
master, never from a submission, and drops their top-level ``check(...)`` calls,
which are only the student's self-check.

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

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = {"assignment_06": "solutions/assignment_06_classification.py"}
HARNESS_TAG = "harness"
CHECK_TAG = "check"
RAISES_TAG = "raises-exception"
SOLUTION_ONLY_TAG = "solution-only"  # such cells are left out of the students' notebook
EXERCISE_HEADING = re.compile(r"^#+\s*(Exercise\s+\d+)\b", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Exercise:
    name: str
    points: int
    hint: str
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


def master_path(assignment: str, root: Path = REPO_ROOT) -> Path:
    """Return the master notebook of ``assignment``; ``KeyError`` names the known ones."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(sorted(ASSIGNMENTS))}")
    return root / ASSIGNMENTS[assignment]


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
                arguments.update({str(k.arg): ast.literal_eval(k.value) for k in decorator.keywords})
                found.append(Exercise(str(arguments["name"]), int(arguments["points"]), str(arguments["hint"])))
            except (ValueError, KeyError) as error:
                raise ValueError(f"{where}: @exercise needs literal name, points and hint ({error})") from None
    return found


def load_checks(assignment: str, root: Path = REPO_ROOT) -> Checks:
    """Read the harness, the check cells and the exercises' places from ``assignment``'s master notebook."""
    master = master_path(assignment, root)
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
                exercises.append(Exercise(declared.name, declared.points, declared.hint, heading, ids))
    names = [exercise.name for exercise in exercises]
    if not exercises or len(set(names)) != len(names):
        raise ValueError(f"{master}: check cells must declare distinct exercises, found {names}")
    code = "\n\n".join([harness[0], *map(_without_check_calls, check_sources)])
    deliberate = [cell.source.strip() for cell, cell_tags in zip(cells, tags, strict=True) if RAISES_TAG in cell_tags]
    return Checks(assignment, master, code, tuple(exercises), frozenset(deliberate))


# Runs in the submission's kernel, right after the cells of the exercises in `names` (where
# they stand), and once more after the last cell (`final`). It reads nothing the submission
# defined except through `user_ns` (a snapshot of its variables): the checks are executed
# from the master's source into a fresh namespace, each one alone on its own copy of the
# snapshot, under its own time limit, and each result is printed on its own line behind a
# nonce drawn just before this cell, after the submission's cells before it had run. Lines
# without the nonce are never read. Where it stands, a check's run also keeps the objects it
# read; the final run says which of them a later cell replaced (`reassigned`).
_GRADER_CELL = """\
def __grade_submission(checks_code, nonce, time_limit, names, final, user_ns):
    import json
    import signal

    class CheckTimeout(BaseException):  # not an Exception: run_check must not swallow it
        pass

    def on_alarm(signum, frame):
        raise CheckTimeout

    snapshot = dict(user_ns)
    where_it_stands = snapshot.pop("__grading_where_it_stands__", None) or {}
    checks = {"__name__": "__course_checks__"}
    exec(compile(checks_code, "<course checks>", "exec"), checks)
    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        for name in names:
            signal.setitimer(signal.ITIMER_REAL, time_limit)
            try:
                result = checks["run_check"](name, snapshot)
            except CheckTimeout:
                message = f"the check ran longer than {time_limit:g} s and was stopped"
                hint = checks["EXERCISES"][name]["hint"]
                result = {"passed": False, "part": "time limit", "message": message, "hint": hint, "read": []}
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            record = {key: str(result.get(key, ""))[:2000] for key in ("part", "message", "hint")}
            record.update(name=name, passed=result.get("passed") is True)
            if final:
                record["reassigned"] = checks["reassigned"](where_it_stands.get(name, {}), snapshot)
            else:
                where_it_stands[name] = {variable: snapshot[variable] for variable in result.get("read", [])}
            print(nonce + json.dumps(record), flush=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    user_ns["__grading_where_it_stands__"] = where_it_stands


__grade_submission(@CODE@, @NONCE@, @LIMIT@, @NAMES@, @FINAL@, globals())
"""


def grader_cell(checks_code: str, nonce: str, check_timeout: float, names: list[str], final: bool = False) -> str:
    """Return the source of the cell that runs the checks of ``names`` and prints ``nonce`` + JSON for each."""
    return (
        _GRADER_CELL.replace("@CODE@", json.dumps(checks_code))
        .replace("@NONCE@", json.dumps(nonce))
        .replace("@LIMIT@", repr(float(check_timeout)))
        .replace("@NAMES@", json.dumps(list(names)))
        .replace("@FINAL@", repr(bool(final)))
    )


class TamperedResults(ValueError):
    """A nonce-tagged result line is malformed or repeated: only the grader cell knows the nonce."""


def read_results(lines: list[str], nonce: str, names: list[str]) -> dict[str, dict]:
    """Parse the grader cell's nonce-tagged lines into ``{name: {"passed", "part", "message", "hint", ...}}``.

    Raises ``TamperedResults`` when a line is malformed or an exercise is reported twice or
    was not asked for: only the grader cell knows the nonce, so either means tampering.
    """
    results: dict[str, dict] = {}
    for line in lines:
        if not line.startswith(nonce):
            continue
        try:
            record = json.loads(line[len(nonce) :])
            name, passed = record["name"], record["passed"]
            record = {key: str(record[key]) for key in ("part", "message", "hint")} | {
                "passed": passed,
                "reassigned": [str(variable) for variable in record.get("reassigned", [])],
            }
        except (ValueError, KeyError, TypeError):
            raise TamperedResults("a check result line is malformed") from None
        if name not in names or name in results or not isinstance(passed, bool):
            raise TamperedResults(f"check result for {name!r} is unexpected or repeated")
        results[name] = record
    return results

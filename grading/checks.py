"""The trusted checks of an assignment, read from its master notebook, and the cell that runs them.

Each assignment's master (``solutions/<name>.py``) holds one cell tagged ``harness``
(defining ``EXERCISES``, ``exercise`` and ``run_check``) and, after each exercise, a
cell tagged ``check`` that registers ``check_exN`` with
``@exercise("exN", points=..., hint=...)``. The grader reads those cells from the
master, never from a submission, and drops their top-level ``check(...)`` calls,
which are only the student's self-check.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import jupytext

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = {"assignment_06": "solutions/assignment_06_classification.py"}
HARNESS_TAG = "harness"
CHECK_TAG = "check"


@dataclass(frozen=True)
class Exercise:
    name: str
    points: int
    hint: str


@dataclass(frozen=True)
class Checks:
    """What the grader needs from a master: the check code and the exercises it declares."""

    assignment: str
    master: Path
    code: str
    exercises: tuple[Exercise, ...]

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
            drop.update(range(node.lineno, node.end_lineno + 1))
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
                arguments.update({k.arg: ast.literal_eval(k.value) for k in decorator.keywords})
                found.append(Exercise(str(arguments["name"]), int(arguments["points"]), str(arguments["hint"])))
            except (ValueError, KeyError) as error:
                raise ValueError(f"{where}: @exercise needs literal name, points and hint ({error})") from None
    return found


def load_checks(assignment: str, root: Path = REPO_ROOT) -> Checks:
    """Read the harness and the check cells of ``assignment``'s master notebook."""
    master = master_path(assignment, root)
    cells = jupytext.read(master).cells
    harness = [cell.source for cell in cells if HARNESS_TAG in cell.metadata.get("tags", [])]
    if len(harness) != 1:
        raise ValueError(f"{master}: expected one cell tagged {HARNESS_TAG!r}, found {len(harness)}")
    check_sources = [cell.source for cell in cells if CHECK_TAG in cell.metadata.get("tags", [])]
    exercises = [exercise for source in check_sources for exercise in _declared_exercises(source, str(master))]
    names = [exercise.name for exercise in exercises]
    if not exercises or len(set(names)) != len(names):
        raise ValueError(f"{master}: check cells must declare distinct exercises, found {names}")
    code = "\n\n".join([harness[0], *map(_without_check_calls, check_sources)])
    return Checks(assignment, master, code, tuple(exercises))


# Runs in the submission's kernel after its last cell. It reads nothing the submission
# defined except through `user_ns` (a snapshot of its variables): the checks are
# executed from the master's source into a fresh namespace, each one alone, under its
# own time limit, and each result is printed on its own line behind a nonce that was
# drawn after the submission's code ran. Lines without the nonce are never read.
_GRADER_CELL = """\
def __grade_submission(checks_code, nonce, time_limit, user_ns):
    import json
    import signal

    class CheckTimeout(BaseException):  # not an Exception: run_check must not swallow it
        pass

    def on_alarm(signum, frame):
        raise CheckTimeout

    snapshot = dict(user_ns)
    checks = {"__name__": "__course_checks__"}
    exec(compile(checks_code, "<course checks>", "exec"), checks)
    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        for name in list(checks["EXERCISES"]):
            signal.setitimer(signal.ITIMER_REAL, time_limit)
            try:
                passed, message = checks["run_check"](name, dict(snapshot))
            except CheckTimeout:
                passed, message = False, f"the check ran longer than {time_limit:g} s and was stopped"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            result = {"name": name, "passed": passed is True, "message": str(message)[:2000]}
            print(nonce + json.dumps(result), flush=True)
    finally:
        signal.signal(signal.SIGALRM, previous)


__grade_submission(@CODE@, @NONCE@, @LIMIT@, globals())
"""


def grader_cell(checks_code: str, nonce: str, check_timeout: float) -> str:
    """Return the source of the cell that runs every check and prints ``nonce`` + JSON per exercise."""
    return (
        _GRADER_CELL.replace("@CODE@", json.dumps(checks_code))
        .replace("@NONCE@", json.dumps(nonce))
        .replace("@LIMIT@", repr(float(check_timeout)))
    )


class TamperedResults(ValueError):
    """A nonce-tagged result line is malformed or repeated: only the grader cell knows the nonce."""


def read_results(lines: list[str], nonce: str, exercises: tuple[Exercise, ...]) -> dict[str, dict]:
    """Parse the grader cell's nonce-tagged lines into ``{name: {"passed", "message"}}``.

    Raises ``TamperedResults`` when a line is malformed or an exercise is reported twice:
    only the grader cell knows the nonce, so either means the output was tampered with.
    """
    known = {exercise.name for exercise in exercises}
    results: dict[str, dict] = {}
    for line in lines:
        if not line.startswith(nonce):
            continue
        try:
            record = json.loads(line[len(nonce) :])
            name, passed, message = record["name"], record["passed"], record["message"]
        except (ValueError, KeyError, TypeError):
            raise TamperedResults("a check result line is malformed") from None
        if name not in known or name in results or not isinstance(passed, bool):
            raise TamperedResults(f"check result for {name!r} is unexpected or repeated")
        results[name] = {"passed": passed, "message": str(message)}
    return results

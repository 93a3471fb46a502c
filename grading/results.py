"""From what a submission's run reported to its outcome: points where each exercise stands,
notes on where it was checked and what later cells changed, the cells that raised, a status."""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from grading.checks import Checks
from grading.places import Place, and_list, section_of, where_reassigned
from grading.submission_run import describe
from grading.submissions import Submission


@dataclass(frozen=True)
class PartResult:
    """One part of an exercise's check: passed, or where it failed, what it found, and a hint."""

    name: str
    passed: bool
    part: str = ""
    message: str = ""
    hint: str = ""
    unjudgeable: bool = False  # the checker could not run the student's model: not a verdict on the work


@dataclass(frozen=True)
class CheckResult:
    """One exercise's result: whether every part passed, each part's verdict, and why the first failure failed."""

    passed: bool
    part: str = ""
    message: str = "the check did not run"
    hint: str = ""
    parts: tuple[PartResult, ...] = ()
    unjudgeable: bool = False  # a part could not be judged outside the notebook: a person should look

    def part_passed(self, name: str) -> bool:
        """Whether the part ``name`` passed; a part the checker gave no verdict on did not."""
        return any(part.passed for part in self.parts if part.name == name) or (not self.parts and self.passed)


@dataclass
class Outcome:
    submission: Submission
    status: str
    results: dict[str, CheckResult]
    notes: list[str]  # about the run and where exercises were checked
    errors: list[str]  # the cells of the student's that raised, one line each
    seconds: float
    grader_error: str | None = None
    tampering: list[str] = field(default_factory=list)  # what its cells replaced that graders rely on: information

    @property
    def passed(self) -> dict[str, bool]:
        return {name: result.passed for name, result in self.results.items()}

    @property
    def unjudged(self) -> dict[str, str]:
        """Each exercise that could not be judged outside the notebook, and why: for a person to look at."""
        return {name: result.message for name, result in self.results.items() if result.unjudgeable}

    def points(self, checks: Checks, hidden: bool = True) -> dict[str, float]:
        """Each exercise's points: those of its parts that passed (``hidden``: its hidden parts' too)."""
        return {
            e.name: sum(
                part.points
                for part in e.parts
                if (hidden or not part.hidden) and self.results[e.name].part_passed(part.name)
            )
            for e in checks.exercises
        }

    def total(self, checks: Checks, hidden: bool = True) -> float:
        return sum(self.points(checks, hidden).values())


def run_notes(result: dict, cell_timeout: float, timeout: float) -> list[str]:
    """What went wrong while the notebook ran, for the feedback: timeouts, kernel deaths, skipped cells."""
    notes = []
    if result.get("timeouts"):
        notes.append(
            f"Ran past the time limit ({cell_timeout:g} s per cell) and was interrupted: "
            + "; ".join(result["timeouts"])
        )
    if result.get("kernel_deaths"):
        notes.append(
            "Stopped the kernel (os._exit, a crash, or too much memory): " + "; ".join(result["kernel_deaths"])
        )
    if result.get("skipped"):
        notes.append("Left out when the notebook was run again: " + "; ".join(result["skipped"]))
    if result.get("budget_exhausted"):
        notes.append(f"The notebook used up its total time ({timeout:g} s) before its last cells ran.")
    return notes


def status_of(result: dict, results: dict[str, CheckResult] | None = None) -> str:
    """The worst thing that happened: an error, a kernel death, a timeout, an exercise not judged, or ``ok``."""
    if result.get("error"):
        return f"error: {result['error']}"
    if result.get("kernel_deaths"):
        return "kernel_died"
    if result.get("timeouts") or result.get("budget_exhausted"):
        return "timeout"
    unjudged = [name for name, each in (results or {}).items() if each.unjudgeable]
    if unjudged:
        return f"{NOT_JUDGED}: {', '.join(unjudged)}"
    return "ok"


NOT_JUDGED = "could not be judged"  # a status, and a verdict apart from "failed": the model ran only in the notebook


def check_result(record: dict | None) -> CheckResult:
    """An exercise's result as the checker reported it (``judge.result_of``), or as it was stored."""
    if not record:
        return CheckResult(False)
    parts = tuple(
        PartResult(
            part["name"],
            part["passed"],
            part.get("part", ""),
            part.get("message", ""),
            part.get("hint", ""),
            part.get("unjudgeable", False) is True,
        )
        for part in record.get("parts", [])
        if part.get("judged", True)
    )
    return CheckResult(
        record["passed"],
        record.get("part", ""),
        record.get("message", ""),
        record.get("hint", ""),
        parts,
        record.get("unjudgeable", False) is True,
    )


def graded_results(
    notebook: nbformat.NotebookNode, checks: Checks, places: dict[str, Place], result: dict
) -> tuple[dict[str, CheckResult], list[str]]:
    """Each exercise's result where it stands (else at the end), and notes on where and what changed later."""
    results, notes = {}, []
    for exercise in checks.exercises:
        name, place = exercise.name, places[exercise.name]
        here, at_end = result.get("where_it_stands", {}).get(name), result.get("at_end", {}).get(name)
        if place.index is None or here is None:
            results[name] = check_result(at_end)
            reason = place.how if place.index is None else "the run ran out of time before reaching it"
            notes.append(f"{name} was checked at the end of the notebook: {reason}.")
            continue
        results[name] = check_result(here)
        if not place.how.startswith("its check cell"):
            notes.append(f"{name} was checked after {describe(notebook, place.index)}, found by {place.how}.")
        if here["passed"] and at_end is not None and not at_end["passed"]:
            changed = [where_reassigned(notebook, place.index, variable) for variable in at_end.get("reassigned", [])]
            what = f"later cells assign {and_list(changed)} again" if changed else "later cells change its objects"
            notes.append(
                f"{name} passed where it stands; {what}, so a check at the end of the notebook would fail "
                f"({at_end['part']}: {at_end['message']}). It keeps its point{'s' * (exercise.points != 1)}."
            )
    return results, notes


def cell_errors(notebook: nbformat.NotebookNode, checks: Checks, errors: list[dict]) -> list[str]:
    """One line per cell of the student's that raised: its exercise, the cell, and the error."""
    lines = []
    for error in errors:
        index = error["cell"]
        if not 0 <= index < len(notebook.cells) or notebook.cells[index].source.strip() in checks.deliberate_errors:
            continue  # the master's own cells that raise on purpose
        text = f"{error['ename']}: {error['evalue']}".strip(": ")
        lines.append(f"{section_of(notebook, index, checks.exercises)}, {describe(notebook, index)}: {text[:300]}")
    return lines

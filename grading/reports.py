"""Write a class's results: ``grades.csv``, per-submission feedback (JSON and Markdown), ``results.json``.

Every file is written atomically, so a grader stopped at any moment leaves whole files.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from grading.checks import Checks
from grading.results import CheckResult, Outcome
from grading.store import write_atomically


def _failure_text(result: CheckResult) -> str:
    return f"{result.part}: {result.message}" if result.part else result.message


def gradescope_result(outcome: Outcome, checks: Checks) -> dict:
    """The submission's results in Gradescope's ``results.json`` format."""
    points = outcome.points(checks)
    tests = []
    for exercise in checks.exercises:
        result = outcome.results[exercise.name]
        text = "passed" if result.passed else f"{_failure_text(result)}\nHint: {result.hint or exercise.hint}"
        tests.append(
            {
                "name": exercise.name,
                "score": points[exercise.name],
                "max_score": exercise.points,
                "status": "passed" if result.passed else "failed",
                "output": text,
                "visibility": "visible",
            }
        )
    errors = [f"Error in {line}" for line in outcome.errors]
    tampering = [f"Tampering seen (no effect on points): {line}" for line in outcome.tampering]
    return {
        "score": sum(points.values()),
        "output": "\n".join([f"Status: {outcome.status}", *outcome.notes, *errors, *tampering]),
        "tests": tests,
        "extra_data": {
            "submission": outcome.submission.label,
            "status": outcome.status,
            "max_score": checks.max_points,
            "seconds": round(outcome.seconds, 1),
            "tampering": outcome.tampering,
        },
    }


def feedback_markdown(outcome: Outcome, checks: Checks) -> str:
    """A student-facing summary: the score, what failed and a hint for it, notes, and the cells that raised."""
    points = outcome.points(checks)
    lines = [
        f"# {checks.assignment}: {outcome.submission.path.name}",
        "",
        f"**Score: {sum(points.values())}/{checks.max_points}** (status: `{outcome.status}`)",
        "",
        "| exercise | points | result |",
        "|---|---|---|",
    ]
    for exercise in checks.exercises:
        verdict = "passed" if outcome.passed[exercise.name] else "failed"
        lines.append(f"| {exercise.name} | {points[exercise.name]}/{exercise.points} | {verdict} |")
    failures = [e for e in checks.exercises if not outcome.passed[e.name]]
    if failures:
        lines += ["", "## What to fix", ""]
        for exercise in failures:
            result = outcome.results[exercise.name]
            lines.append(f"- **{exercise.name}**: {_failure_text(result)}")
            lines.append(f"  Hint: {result.hint or exercise.hint}")
    if outcome.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in outcome.notes]]
    if outcome.errors:
        lines += ["", "## Cells that raised an error", "", *[f"- {line}" for line in outcome.errors]]
    if outcome.tampering:
        lines += [
            "",
            "## Tampering seen",
            "",
            "These cells replaced something that graders rely on. Your points come only from the checks, which "
            "run outside your notebook on the answers it handed over, so this changed nothing.",
            "",
            *[f"- {line}" for line in outcome.tampering],
        ]
    return "\n".join(lines) + "\n"


def write_feedback(outcome: Outcome, checks: Checks, out: Path) -> None:
    """Write ``feedback/<slug>.json`` (Gradescope's format) and ``feedback/<slug>.md`` for one submission."""
    slug = outcome.submission.slug
    write_atomically(out / "feedback" / f"{slug}.json", json.dumps(gradescope_result(outcome, checks), indent=2) + "\n")
    write_atomically(out / "feedback" / f"{slug}.md", feedback_markdown(outcome, checks))


def write_class_files(outcomes: list[Outcome], checks: Checks, out: Path) -> None:
    """Write ``grades.csv`` and ``results.json`` for the outcomes known so far, each atomically.

    Rows go in the order of the submissions' paths, so a class graded in shards
    (``python -m grading report``) gives the same sheet as one graded at once.
    """
    outcomes = sorted(outcomes, key=lambda outcome: outcome.submission.label)
    names = [exercise.name for exercise in checks.exercises]
    sheet = io.StringIO()
    writer = csv.writer(sheet)
    writer.writerow(["submission", *names, "total", "max", "status"])
    for outcome in outcomes:
        points = outcome.points(checks)
        writer.writerow(
            [outcome.submission.label, *points.values(), sum(points.values()), checks.max_points, outcome.status]
        )
    write_atomically(out / "grades.csv", sheet.getvalue())
    results = [gradescope_result(outcome, checks) for outcome in outcomes]
    # Gradescope grades one submission per run: then results.json is that submission's result.
    write_atomically(out / "results.json", json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")

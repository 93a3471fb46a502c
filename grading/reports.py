"""Write a class's results: ``grades.csv``, per-submission feedback (JSON, Markdown, HTML), ``results.json``.

Every file is written atomically, so a grader stopped at any moment leaves whole files.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass, field
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


TAMPERING_NOTE = (
    "These cells replaced something that graders rely on. Your points come only from the checks, which "
    "run outside your notebook on the answers it handed over, so this changed nothing."
)


@dataclass
class Feedback:
    """What a student is told, once, for the Markdown and the HTML page alike."""

    title: str
    score: str  # "7/9"
    status: str
    rows: list[tuple[str, str, str]]  # exercise, points, passed or failed
    fixes: list[tuple[str, str, str]]  # exercise, what failed, hint
    lists: list[tuple[str, str, list[str]]] = field(default_factory=list)  # heading, a sentence, items


def feedback(outcome: Outcome, checks: Checks) -> Feedback:
    """The feedback of one submission: the score, what failed with a hint, notes, raised cells, tampering."""
    points = outcome.points(checks)
    failed = [e for e in checks.exercises if not outcome.passed[e.name]]
    lists = [
        ("Notes", "", outcome.notes),
        ("Cells that raised an error", "", outcome.errors),
        ("Tampering seen", TAMPERING_NOTE, outcome.tampering),
    ]
    return Feedback(
        title=f"{checks.assignment}: {outcome.submission.path.name}",
        score=f"{sum(points.values())}/{checks.max_points}",
        status=outcome.status,
        rows=[
            (e.name, f"{points[e.name]}/{e.points}", "passed" if outcome.passed[e.name] else "failed")
            for e in checks.exercises
        ],
        fixes=[
            (e.name, _failure_text(outcome.results[e.name]), outcome.results[e.name].hint or e.hint) for e in failed
        ],
        lists=[(heading, sentence, items) for heading, sentence, items in lists if items],
    )


def feedback_markdown(outcome: Outcome, checks: Checks) -> str:
    """A student-facing summary: the score, what failed and a hint for it, notes, and the cells that raised."""
    told = feedback(outcome, checks)
    lines = [
        f"# {told.title}",
        "",
        f"**Score: {told.score}** (status: `{told.status}`)",
        "",
        "| exercise | points | result |",
        "|---|---|---|",
        *[f"| {name} | {points} | {verdict} |" for name, points, verdict in told.rows],
    ]
    if told.fixes:
        lines += ["", "## What to fix", ""]
        for name, failure, hint in told.fixes:
            lines += [f"- **{name}**: {failure}", f"  Hint: {hint}"]
    for heading, sentence, items in told.lists:
        lines += ["", f"## {heading}", "", *([sentence, ""] if sentence else []), *[f"- {item}" for item in items]]
    return "\n".join(lines) + "\n"


FEEDBACK_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;line-height:1.5;color:#1a1a1a}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #c8c8c8;padding:.3em .8em;"
    "text-align:left}.failed{color:#a8221a;font-weight:bold}.passed{color:#006100}code{background:#f0f0f0}"
    "a{color:#0b57a4}"
)


def feedback_html(outcome: Outcome, checks: Checks) -> str:
    """The same feedback as ``feedback_markdown``, as a page of its own (the class report links to it)."""
    told = feedback(outcome, checks)
    e = html.escape
    rows = "".join(
        f'<tr><td>{e(name)}</td><td>{e(points)}</td><td class="{verdict}">{verdict}</td></tr>'
        for name, points, verdict in told.rows
    )
    parts = [
        '<p><a href="../report.html">&larr; the class report</a></p>',
        f"<h1>{e(told.title)}</h1>",
        f"<p><strong>Score: {e(told.score)}</strong> (status: <code>{e(told.status)}</code>)</p>",
        f'<table><thead><tr><th scope="col">exercise</th><th scope="col">points</th><th scope="col">result</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>",
    ]
    if told.fixes:
        fixes = "".join(
            f"<li><strong>{e(name)}</strong>: {e(failure)}<br>Hint: {e(hint)}</li>"
            for name, failure, hint in told.fixes
        )
        parts.append(f"<h2>What to fix</h2><ul>{fixes}</ul>")
    for heading, sentence, items in told.lists:
        listed = "".join(f"<li>{e(item)}</li>" for item in items)
        parts.append(f"<h2>{e(heading)}</h2>" + (f"<p>{e(sentence)}</p>" if sentence else "") + f"<ul>{listed}</ul>")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(told.title)}</title>'
        f"<style>{FEEDBACK_STYLE}</style></head><body><main>\n" + "\n".join(parts) + "\n</main></body></html>\n"
    )


def write_feedback(outcome: Outcome, checks: Checks, out: Path) -> None:
    """Write ``feedback/<slug>.json`` (Gradescope's format), ``.md`` and ``.html`` for one submission."""
    slug = outcome.submission.slug
    write_atomically(out / "feedback" / f"{slug}.json", json.dumps(gradescope_result(outcome, checks), indent=2) + "\n")
    write_atomically(out / "feedback" / f"{slug}.md", feedback_markdown(outcome, checks))
    write_atomically(out / "feedback" / f"{slug}.html", feedback_html(outcome, checks))


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

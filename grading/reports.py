"""Write a class's results: ``grades.csv``, per-submission feedback (JSON, Markdown, HTML), ``results.json``.

Points are counted per part of an exercise: a part that fails costs its own points only. The
instructor's files (``grades.csv``, ``results.json``, ``instructor/``) hold every part's result;
a student's (``feedback/``) withhold the hidden parts' unless they are shown. Every file is
written atomically, so a grader stopped at any moment leaves whole files.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from grading.checks import Checks, Exercise, Part
from grading.results import CheckResult, Outcome, PartResult
from grading.store import write_atomically
from self_check.judging import hint_for


def _failure_text(result: CheckResult | PartResult) -> str:
    return f"{result.part}: {result.message}" if result.part else result.message


def points_text(points: float) -> str:
    """Points as a grade sheet writes them: 1, 0.5, 2.25."""
    return f"{points:g}"


def _part_result(result: CheckResult, part: Part) -> CheckResult | PartResult:
    """What the checker said of ``part`` (the exercise's result itself when it gave no verdict per part)."""
    return next((each for each in result.parts if each.name == part.name), result)


def _test_name(exercise: Exercise, part: Part) -> str:
    named = f"{exercise.name}: {part.name}" if part.name else exercise.name
    return f"{named} (hidden)" if part.hidden else named


def gradescope_result(outcome: Outcome, checks: Checks, hidden: bool = True) -> dict:
    """The submission's results in Gradescope's ``results.json`` format, one test per part of an exercise.

    A hidden part's test has Gradescope's ``after_published`` visibility: a student sees it once
    the instructor publishes the grades. ``hidden=False`` leaves hidden parts out altogether, as a
    student's own feedback file does unless hidden results are shown.
    """
    tests = []
    for exercise in checks.exercises:
        result = outcome.results[exercise.name]
        for part in exercise.parts:
            if part.hidden and not hidden:
                continue
            passed = result.part_passed(part.name)
            said = _part_result(result, part)
            text = (
                "passed" if passed else f"{_failure_text(said)}\nHint: {hint_for(said.hint, part.hint, exercise.hint)}"
            )
            if not passed and said.unjudgeable:
                text = f"Could not be judged (your instructor will look at it): {text}"
            tests.append(
                {
                    "name": _test_name(exercise, part),
                    "score": part.points if passed else 0,
                    "max_score": part.points,
                    "status": "passed" if passed else "failed",
                    "output": text,
                    "visibility": "after_published" if part.hidden else "visible",
                }
            )
    errors = [f"Error in {line}" for line in outcome.errors]
    tampering = [f"Tampering seen (no effect on points): {line}" for line in outcome.tampering]
    return {
        "score": outcome.total(checks, hidden),
        "output": "\n".join([f"Status: {outcome.status}", *outcome.notes, *errors, *tampering]),
        "tests": tests,
        "extra_data": {
            "submission": outcome.submission.label,
            "status": outcome.status,
            "max_score": _max_points(checks, hidden),
            "seconds": round(outcome.seconds, 1),
            "tampering": outcome.tampering,
        },
    }


def _max_points(checks: Checks, hidden: bool) -> float:
    return sum(part.points for exercise in checks.exercises for part in exercise.parts if hidden or not part.hidden)


TAMPERING_NOTE = (
    "These cells replaced something that graders rely on. Your points come only from the checks, which "
    "run outside your notebook on the answers it handed over, so this changed nothing."
)


HIDDEN_NOTE = (
    "These parts of the checks are not in your notebook: the grader ran them on your answers too. "
    "Their results are shown when your instructor publishes them."
)


@dataclass
class Feedback:
    """What a student is told, once, for the Markdown and the HTML page alike."""

    title: str
    score: str  # "7/9", or "6.5/7.5 on the visible parts"
    status: str
    rows: list[tuple[str, str, str]]  # exercise, points, passed or failed
    fixes: list[tuple[str, str, str]]  # exercise (and part), what failed, hint
    lists: list[tuple[str, str, list[str]]] = field(default_factory=list)  # heading, a sentence, items


def feedback(outcome: Outcome, checks: Checks, hidden: bool = True) -> Feedback:
    """The feedback of one submission: the score, what failed with a hint, notes, raised cells, tampering.

    ``hidden=False`` withholds the results of hidden parts: the score and the rows count the
    visible parts alone, and a list says which hidden parts there are and what they are worth.
    """
    points = outcome.points(checks, hidden)
    shown = [part for exercise in checks.exercises for part in exercise.parts if hidden or not part.hidden]
    withheld = [
        f"{_test_name(exercise, part)}: {points_text(part.points)} point{'s' * (part.points != 1)}"
        for exercise in checks.exercises
        for part in exercise.parts
        if part.hidden and not hidden
    ]
    fixes = []
    for exercise in checks.exercises:
        result = outcome.results[exercise.name]
        for part in exercise.parts:
            if (hidden or not part.hidden) and not result.part_passed(part.name):
                said = _part_result(result, part)
                fixes.append(
                    (_test_name(exercise, part), _failure_text(said), hint_for(said.hint, part.hint, exercise.hint))
                )
    lists = [
        ("Hidden parts", HIDDEN_NOTE, withheld),
        ("Notes", "", outcome.notes),
        ("Cells that raised an error", "", outcome.errors),
        ("Tampering seen", TAMPERING_NOTE, outcome.tampering),
    ]
    visible_only = " on the visible parts" if withheld else ""
    score = f"{points_text(sum(points.values()))}/{points_text(sum(part.points for part in shown))}{visible_only}"
    rows = []
    for exercise in checks.exercises:
        worth = sum(part.points for part in exercise.parts if hidden or not part.hidden)
        earned = points[exercise.name]
        verdict = "not judged" if outcome.results[exercise.name].unjudgeable else _verdict(earned, worth)
        rows.append((exercise.name, f"{points_text(earned)}/{points_text(worth)}", verdict))
    return Feedback(
        title=f"{checks.assignment}: {outcome.submission.path.name}",
        score=score,
        status=outcome.status,
        rows=rows,
        fixes=fixes,
        lists=[(heading, sentence, items) for heading, sentence, items in lists if items],
    )


def _css_class(verdict: str) -> str:
    return verdict.replace(" ", "-")


def _verdict(earned: float, worth: float) -> str:
    return "passed" if earned == worth else "failed" if earned == 0 else "partly"


def feedback_markdown(outcome: Outcome, checks: Checks, hidden: bool = True) -> str:
    """A student-facing summary: the score, what failed and a hint for it, notes, and the cells that raised."""
    told = feedback(outcome, checks, hidden)
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
    "text-align:left}.failed{color:#a8221a;font-weight:bold}.partly{color:#8a4b00;font-weight:bold}"
    ".not-judged{color:#5a3d8a;font-weight:bold}"
    ".passed{color:#006100}code{background:#f0f0f0}"
    "a{color:#0b57a4}"
)


def feedback_html(outcome: Outcome, checks: Checks, hidden: bool = True) -> str:
    """The same feedback as ``feedback_markdown``, as a page of its own (the class report links to it)."""
    told = feedback(outcome, checks, hidden)
    e = html.escape
    rows = "".join(
        f'<tr><td>{e(name)}</td><td>{e(points)}</td><td class="{_css_class(verdict)}">{verdict}</td></tr>'
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


def write_feedback(outcome: Outcome, checks: Checks, out: Path, show_hidden: bool = False) -> None:
    """Write one submission's feedback: ``feedback/<slug>.{json,md,html}`` for the student, ``instructor/`` in full.

    The student's files withhold the results of hidden parts unless ``show_hidden``; the
    instructor's always show them (``.json`` in Gradescope's format, ``.md``, ``.html``).
    """
    slug = outcome.submission.slug
    for folder, hidden in (("feedback", show_hidden), ("instructor", True)):
        result = gradescope_result(outcome, checks, hidden)
        write_atomically(out / folder / f"{slug}.json", json.dumps(result, indent=2) + "\n")
        write_atomically(out / folder / f"{slug}.md", feedback_markdown(outcome, checks, hidden))
        write_atomically(out / folder / f"{slug}.html", feedback_html(outcome, checks, hidden))


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
        row = [*map(points_text, points.values()), points_text(sum(points.values())), points_text(checks.max_points)]
        writer.writerow([outcome.submission.label, *row, outcome.status])
    write_atomically(out / "grades.csv", sheet.getvalue())
    results = [gradescope_result(outcome, checks) for outcome in outcomes]
    # Gradescope grades one submission per run: then results.json is that submission's result.
    write_atomically(out / "results.json", json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")

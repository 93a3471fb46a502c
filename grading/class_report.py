"""The class at a glance: ``summary.json`` and ``report.html`` (one file, plots embedded, no server needed).

Both hold the same numbers: every student's points per exercise, total and status (in the page,
a table that sorts by any column and links each student's feedback page), the distribution of
totals, each exercise's pass rate, the most common failures of each exercise (numbers in
messages masked, so one mistake counts as one), the statuses, and the slowest submissions.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import resource
import statistics
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

from grading.checks import Checks
from grading.reports import points_text
from grading.results import Outcome
from grading.store import write_atomically

MOST_COMMON = 5  # failures listed per exercise
SLOWEST = 10  # submissions listed by time
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _possible_totals(checks: Checks) -> list[float]:
    """Every total from 0 to the maximum, in steps of the smallest share of a point a part is worth."""
    shares = [Fraction(part.points).limit_denominator(100) for e in checks.exercises for part in e.parts]
    step = Fraction(math.gcd(*(s.numerator for s in shares)), math.lcm(*(s.denominator for s in shares)))
    return [float(step * n) for n in range(int(Fraction(checks.max_points).limit_denominator(100) / step) + 1)]


def summarise(outcomes: list[Outcome], checks: Checks, submissions: int, **run: Any) -> dict[str, Any]:
    """The class's numbers: ``outcomes`` are those known, of ``submissions`` found; ``run`` adds how it ran."""
    totals = [outcome.total(checks) for outcome in outcomes]
    failures: dict[str, list[dict[str, Any]]] = {}
    for exercise in checks.exercises:
        counted = Counter(
            (result.part, NUMBER.sub("#", result.message))
            for outcome in outcomes
            if not (result := outcome.results[exercise.name]).passed
        )
        failures[exercise.name] = [
            {"part": part, "message": message, "count": count}
            for (part, message), count in counted.most_common(MOST_COMMON)
        ]
    seconds = [outcome.seconds for outcome in outcomes]
    slowest = sorted(outcomes, key=lambda outcome: outcome.seconds, reverse=True)[:SLOWEST]
    students = [
        {
            "submission": outcome.submission.label,
            "points": outcome.points(checks),
            "total": outcome.total(checks),
            "status": outcome.status,
            "feedback": f"instructor/{outcome.submission.slug}.html",  # every part's result, hidden ones too
        }
        for outcome in sorted(outcomes, key=lambda outcome: outcome.submission.label)
    ]
    return {
        "assignment": checks.assignment,
        "submissions": submissions,
        "students": students,
        "graded": len(outcomes),
        "complete": len(outcomes) == submissions,
        "max_points": checks.max_points,
        "totals": {
            "histogram": {points_text(score): totals.count(score) for score in _possible_totals(checks)},
            "mean": statistics.mean(totals) if totals else None,
            "median": statistics.median(totals) if totals else None,
        },
        "pass_rate": {
            exercise.name: sum(outcome.passed[exercise.name] for outcome in outcomes) / len(outcomes)
            if outcomes
            else None
            for exercise in checks.exercises
        },
        "failures": failures,
        "statuses": dict(Counter(outcome.status for outcome in outcomes).most_common()),
        "seconds": {
            "mean": statistics.mean(seconds) if seconds else None,
            "median": statistics.median(seconds) if seconds else None,
            "max": max(seconds, default=None),
        },
        "slowest": [
            {"submission": outcome.submission.label, "seconds": round(outcome.seconds, 1), "status": outcome.status}
            for outcome in slowest
        ],
        "tampering": [
            {"submission": outcome.submission.label, "cell": line} for outcome in outcomes for line in outcome.tampering
        ],
        "not_judged": [
            {"submission": outcome.submission.label, "exercise": name, "why": why}
            for outcome in sorted(outcomes, key=lambda outcome: outcome.submission.label)
            for name, why in outcome.unjudged.items()
        ],
        "grader_peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **run,
    }


def _figure_png(draw) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 3.2))
    draw(ax)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _histogram(summary: dict[str, Any]):
    def draw(ax) -> None:
        scores = list(summary["totals"]["histogram"])
        from matplotlib.ticker import MaxNLocator

        ax.bar(scores, list(summary["totals"]["histogram"].values()), color="#0072B2")  # the course's blue
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # submissions are counted whole
        ax.set_xlabel(f"total points (of {points_text(summary['max_points'])})")
        ax.set_ylabel("submissions")
        ax.set_title("Distribution of totals")

    return draw


def _pass_rates(summary: dict[str, Any]):
    def draw(ax) -> None:
        names = list(summary["pass_rate"])
        ax.bar(names, [100 * (rate or 0) for rate in summary["pass_rate"].values()], color="#009E73")
        ax.set_ylim(0, 100)
        ax.set_ylabel("passed (%)")
        ax.set_title("Pass rate per exercise")

    return draw


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


# Sorts the students' table by the clicked column (numbers as numbers), in the page: no server, no library.
SORT_SCRIPT = """
for (const table of document.querySelectorAll("table.sortable")) {
  const body = table.tBodies[0];
  table.querySelectorAll("th button").forEach((button, column) => button.addEventListener("click", () => {
    const header = button.parentElement;
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach((th) => th.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const key = (row) => row.cells[column].dataset.value ?? row.cells[column].textContent.trim();
    const rows = [...body.rows].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const order = x !== "" && y !== "" && !isNaN(x) && !isNaN(y) ? x - y : x.localeCompare(y);
      return ascending ? order : -order;
    });
    body.append(...rows);
  }));
}
"""


def _students_table(summary: dict[str, Any]) -> str:
    """Every student: submission (linking the feedback page), points per exercise, total and status."""
    exercises = list(summary["pass_rate"])
    columns = ["submission", *exercises, "total", "status"]
    header = "".join(f'<th scope="col"><button type="button">{html.escape(name)}</button></th>' for name in columns)
    rows = []
    for student in summary["students"]:
        link = f'<a href="{html.escape(student["feedback"])}">{html.escape(student["submission"])}</a>'
        cells = [f'<td data-value="{html.escape(student["submission"])}">{link}</td>']
        cells += [f"<td>{points_text(student['points'][name])}</td>" for name in exercises]
        cells += [f"<td>{points_text(student['total'])}</td>", f"<td>{html.escape(student['status'])}</td>"]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table class="sortable" id="students"><caption>Every submission; a column\'s button sorts by it</caption>'
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_html(summary: dict[str, Any]) -> str:
    """The report as one HTML page, its plots embedded as PNG data."""
    not_judged = summary["not_judged"]
    state = "all submissions graded" if summary["complete"] else "not finished: run the same command again to resume"
    failure_rows = [
        [name, failure["part"], failure["message"], failure["count"]]
        for name, failures in summary["failures"].items()
        for failure in failures
    ]
    parts = [
        f"<h1>{html.escape(summary['assignment'])}: the class at a glance</h1>",
        f"<p>{summary['graded']} of {summary['submissions']} submissions ({html.escape(state)}). Mean total "
        f"{summary['totals']['mean'] if summary['totals']['mean'] is None else round(summary['totals']['mean'], 2)}"
        f" of {points_text(summary['max_points'])}.</p>",
        "<h2>Students</h2>",
        _students_table(summary),
        f'<img alt="distribution of totals: submissions per total" '
        f'src="data:image/png;base64,{_figure_png(_histogram(summary))}">',
        f'<img alt="pass rate per exercise, in percent" '
        f'src="data:image/png;base64,{_figure_png(_pass_rates(summary))}">',
        "<h2>Could not be judged: for a person to look at</h2>",
        "<p>The checker replays a model from the forward pass its notebook traced. These could not be traced "
        "(Python that decides on a tensor's values), so they are neither passed nor failed on their merits: "
        "each feedback names the line, and what to write instead.</p>",
        _table(["submission", "exercise", "why"], [[n["submission"], n["exercise"], n["why"]] for n in not_judged])
        if summary["not_judged"]
        else "<p>None.</p>",
        "<h2>Most common failures</h2>",
        _table(["exercise", "part", "message (numbers masked)", "submissions"], failure_rows),
        "<h2>Statuses</h2>",
        _table(["status", "submissions"], [[status, count] for status, count in summary["statuses"].items()]),
        "<h2>Tampering seen</h2>",
        "<p>What a submission's cells replaced that graders rely on. The checks run in a process of their own, "
        "on the answers the notebook handed over as data, so none of this can change a verdict: it is shown "
        "for you to judge.</p>",
        _table(
            ["submission", "cell, and what it replaced"], [[t["submission"], t["cell"]] for t in summary["tampering"]]
        )
        if summary["tampering"]
        else "<p>None.</p>",
        "<h2>Slowest submissions</h2>",
        _table(
            ["submission", "seconds", "status"],
            [[s["submission"], s["seconds"], s["status"]] for s in summary["slowest"]],
        ),
    ]
    style = (
        "body{font-family:sans-serif;max-width:64em;margin:2em auto;padding:0 1em;color:#1a1a1a}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border-bottom:1px solid #c8c8c8;padding:.3em .7em;"
        "text-align:left}img{max-width:100%;display:block;margin:1em 0}a{color:#0b57a4}"
        "caption{text-align:left;color:#4a4a4a;padding:.3em 0}th button{font:inherit;font-weight:bold;border:none;"
        "background:none;padding:0;cursor:pointer;color:inherit}"
        "th[aria-sort=ascending] button::after{content:' \\25B2'}"
        "th[aria-sort=descending] button::after{content:' \\25BC'}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(summary["assignment"])}'
        f" class report</title><style>{style}</style></head><body><main>\n"
        + "\n".join(parts)
        + f"\n</main><script>{SORT_SCRIPT}</script></body></html>\n"
    )


def write_class_report(summary: dict[str, Any], out: Path) -> None:
    """Write ``summary.json`` and ``report.html`` into ``out``, each atomically."""
    write_atomically(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomically(out / "report.html", render_html(summary))

"""The class at a glance: ``summary.json`` and ``report.html`` (one file, plots embedded, no server needed).

Both hold the same numbers: the distribution of totals, each exercise's pass rate, the most
common failures of each exercise (numbers in messages masked, so one mistake counts as one),
the statuses, and the slowest submissions.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import resource
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from grading.checks import Checks
from grading.results import Outcome
from grading.store import write_atomically

MOST_COMMON = 5  # failures listed per exercise
SLOWEST = 10  # submissions listed by time
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]?\d+)?")


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
    return {
        "assignment": checks.assignment,
        "submissions": submissions,
        "graded": len(outcomes),
        "complete": len(outcomes) == submissions,
        "max_points": checks.max_points,
        "totals": {
            "histogram": {str(score): totals.count(score) for score in range(checks.max_points + 1)},
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
        ax.bar(scores, list(summary["totals"]["histogram"].values()), color="#4c72b0")
        ax.set_xlabel(f"total points (of {summary['max_points']})")
        ax.set_ylabel("submissions")
        ax.set_title("Distribution of totals")

    return draw


def _pass_rates(summary: dict[str, Any]):
    def draw(ax) -> None:
        names = list(summary["pass_rate"])
        ax.bar(names, [100 * (rate or 0) for rate in summary["pass_rate"].values()], color="#55a868")
        ax.set_ylim(0, 100)
        ax.set_ylabel("passed (%)")
        ax.set_title("Pass rate per exercise")

    return draw


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def render_html(summary: dict[str, Any]) -> str:
    """The report as one HTML page, its plots embedded as PNG data."""
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
        f" of {summary['max_points']}.</p>",
        f'<img alt="distribution of totals" src="data:image/png;base64,{_figure_png(_histogram(summary))}">',
        f'<img alt="pass rate per exercise" src="data:image/png;base64,{_figure_png(_pass_rates(summary))}">',
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
        "body{font-family:sans-serif;max-width:64em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border-bottom:1px solid #ddd;padding:.3em .7em;"
        "text-align:left}img{max-width:100%;display:block;margin:1em 0}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(summary["assignment"])}'
        f" class report</title><style>{style}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def write_class_report(summary: dict[str, Any], out: Path) -> None:
    """Write ``summary.json`` and ``report.html`` into ``out``, each atomically."""
    write_atomically(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomically(out / "report.html", render_html(summary))

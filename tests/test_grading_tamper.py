"""No student code can forge a grade: the tamper corpus scores only what it answered, and is named.

Every case of ``tamper_corpus.py`` is graded (grouped into four notebooks, each case a cell of
its own): a case scores the exercises it answered and none other, and the feedback and the class
report name each cell that replaced something a grader relies on.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tamper_corpus
from tamper_corpus import CASES, EXERCISES, GROUPS, SABOTAGE, UNNAMED

pytestmark = [pytest.mark.slow, pytest.mark.long]  # make test-long

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("tamper")
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    answered = {}
    for name, (notebook, solved) in tamper_corpus.grouped().items():
        tamper_corpus.nbformat.write(notebook, submissions / f"{name}.ipynb")
        answered[name] = solved
    command = [sys.executable, "-m", "grading", "grade", "assignment_06", str(submissions), "--out", str(out)]
    run = subprocess.run([*command, "--jobs", "2"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    with open(out / "grades.csv", newline="") as sheet:
        rows = {Path(row["submission"]).stem: row for row in csv.DictReader(sheet)}
    feedback = {path.name: path.read_text() for path in (out / "feedback").glob("*.md")}
    return {"rows": rows, "answered": answered, "out": out, "feedback": feedback}


@pytest.mark.parametrize("name", [*GROUPS, "allclose"])
def test_tampering_wins_no_point(graded, name):
    row, answered = graded["rows"][name], graded["answered"][name]
    passed = {exercise for exercise in EXERCISES if row[exercise] == "1"}
    if name in SABOTAGE:
        assert passed <= answered, row
    else:
        assert passed == answered, row


@pytest.mark.parametrize("group", list(GROUPS))
def test_the_feedback_names_each_tampering_cell(graded, group):
    (text,) = [text for file, text in graded["feedback"].items() if f"__{group}." in file]
    seen = text.split("## Tampering seen", 1)[1]
    for case in set(GROUPS[group]) - UNNAMED:
        first_line = CASES[case].splitlines()[0]
        assert f"(`{first_line[:60]}`) replaced" in seen, (case, seen)


def test_the_class_report_lists_what_was_seen(graded):
    summary = json.loads((graded["out"] / "summary.json").read_text())
    assert {Path(entry["submission"]).stem for entry in summary["tampering"]} >= {*GROUPS, "allclose"}
    report = (graded["out"] / "report.html").read_text()
    assert "Tampering seen" in report and "json.dumps" in report and "torch.allclose" in report

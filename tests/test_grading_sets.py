"""Every exercise set is gradable: each solution earns full marks and each untouched notebook none.

Assignment 6's solution and untouched notebook are graded in the hostile class
(``test_grading_hostile.py``); here the two lesson exercise sets, by the names the grader
finds from their masters. The 03 set trains two networks, so it runs with longer cell limits.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.long]  # each set trains its networks: make test-long

REPO_ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "exercises_02": ("02_pytorch_classification", [], 7),
    "exercises_03": ("03_pytorch_computer_vision", ["--cell-timeout", "900", "--timeout", "1800"], 7),
}


@pytest.mark.parametrize("name", list(SETS))
def test_the_solution_earns_every_point_and_the_untouched_notebook_none(tmp_path, name, time_report):
    stem, limits, points = SETS[name]
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    submissions.mkdir()
    shutil.copy(REPO_ROOT / "solutions" / f"{stem}_solutions.ipynb", submissions / "solution.ipynb")
    shutil.copy(REPO_ROOT / "exercises" / f"{stem}_exercises.ipynb", submissions / "untouched.ipynb")
    command = [sys.executable, "-m", "grading", "grade", name, str(submissions), "--out", str(out), *limits]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    with open(out / "grades.csv", newline="") as sheet:
        rows = {Path(row["submission"]).stem: row for row in csv.DictReader(sheet)}
    assert (rows["solution"]["total"], rows["solution"]["max"]) == (str(points), str(points)), rows["solution"]
    assert rows["untouched"]["total"] == "0" and rows["untouched"]["status"] == "ok", rows["untouched"]
    seconds = {
        Path(r["extra_data"]["submission"]).stem: r["extra_data"]["seconds"]
        for r in json.loads((out / "results.json").read_text())
    }
    time_report(f"grading: one {name} solution (--jobs 1)", seconds["solution"])

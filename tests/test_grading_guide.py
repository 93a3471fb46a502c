"""An instructor adds an assignment by following grading/README.md, and grades it by name.

``tests/assignments/assignment_90_guide.py`` is the guide's example, written as the guide says:
answers between the markers, one check per exercise with its hint and the variables it reads,
the setup and self-check cells written by ``make sync``. Graded by name with ``--masters``, its
solution earns every point and the notebook students get earns none.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grading.checks import assignments, load_checks
from grading.gradescope import bundle_files
from tools.check_notebooks import with_stable_ids
from tools.make_exercises import exercise_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTERS = REPO_ROOT / "tests" / "assignments"
MASTER = MASTERS / "assignment_90_guide.py"


def test_every_master_with_checks_is_gradable_by_name():
    assert set(assignments()) == {"assignment_06", "exercises_02", "exercises_03"}
    assert assignments(MASTERS) == {"assignment_90": MASTER}
    listed = subprocess.run(
        [sys.executable, "-m", "grading", "list", "--masters", str(MASTERS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert listed.stdout.split() == ["assignment_90", str(MASTER)]


@pytest.mark.parametrize("name", ["assignment_06", "exercises_02", "exercises_03"])
def test_the_gradescope_bundle_of_each_set_holds_its_master_and_the_whole_grader(name):
    files = bundle_files(name)
    assert f"solutions/{assignments()[name].name}" in files
    assert {"grading/checker/judge.py", "self_check.py", "helper_functions.py"} <= set(files)


def test_each_exercise_declares_what_its_check_reads():
    for name, master in {**assignments(), **assignments(MASTERS)}.items():
        for exercise in load_checks(name, master.parent).exercises:
            assert exercise.reads, f"{name} {exercise.name} declares no reads"


@pytest.mark.slow
def test_the_guides_assignment_is_graded_by_name(tmp_path):
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    submissions.mkdir()
    nbformat.write(nbformat.read(MASTER.with_suffix(".ipynb"), as_version=4), submissions / "solution.ipynb")
    nbformat.write(with_stable_ids(exercise_notebook(MASTER)), submissions / "untouched.ipynb")
    command = [sys.executable, "-m", "grading", "grade", "assignment_90", str(submissions), "--out", str(out)]
    run = subprocess.run([*command, "--masters", str(MASTERS)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    with open(out / "grades.csv", newline="") as sheet:
        totals = {Path(row["submission"]).stem: (row["total"], row["max"]) for row in csv.DictReader(sheet)}
    assert totals == {"solution": ("2", "2"), "untouched": ("0", "2")}

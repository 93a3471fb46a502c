"""Real-shaped work through the grader: a student who reuses names, and four of that student's slips.

The student's answers (``student_work.py``) are right where each exercise stands, but later
exercises assign ``loss_fn``, ``optimizer``, ``loss_curve`` and ``acc_curve`` again. Graded
at the end of the notebook, exercises 4 and 5 lost their points to those later cells; graded
where they stand, they keep them, and each slip costs exactly its own exercise's point, with
feedback that names it. One grader run (``--jobs 2``) serves every test here.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from student_work import MISTAKES, student_notebook

pytestmark = [pytest.mark.slow, pytest.mark.long]  # make test-long

REPO_ROOT = Path(__file__).resolve().parent.parent
EXERCISES = [f"ex{n}" for n in range(1, 10)]
# the points each slip costs: its exercise's, or, where a hidden part still passes, the visible part's half
LOST = {"reuse": {}} | {mistake: {exercise: 1.0} for mistake, (exercise, _, _) in MISTAKES.items()}
LOST["boundary_in_own_figure"] = {"ex9": 0.5}  # the figure is empty, yet the model does classify fresh points
UTILS_ERROR = (
    "- ex4, code cell 20 (`from utils import plot_decision_boundary`): ModuleNotFoundError: No module named 'utils'"
)
REUSE_NOTES = [
    "- ex4 passed where it stands; later cells assign `loss_fn` in code cell 36 (`loss_fn = nn.CrossEntropyLoss()`) "
    "and `optimizer` in code cell 36 (`optimizer = torch.optim.SGD(model_2.parameters(), lr=0.1)`) again, so a "
    "check at the end of the notebook would fail (`loss_fn`: `loss_fn` should be nn.BCEWithLogitsLoss, got "
    "CrossEntropyLoss). It keeps its point.",
    "- ex5 passed where it stands; later cells assign `acc_curve` in code cell 31 (`acc_curve = []`) and "
    "`loss_curve` in code cell 31 (`loss_curve = []`) again, so a check at the end of the notebook would fail "
    "(loss averaging: the last value of `loss_curve` is {number}, but model_0's mean loss on the training data "
    "is {number}: is the epoch's loss averaged over the right number?). It keeps its point.",
]
# The mistake's line under "What to fix", with {number} where the run computes a number.
FIX_LINES = {
    "last_five_slice": "- **ex1**: `last_five_X`: `last_five_X` should have shape (5, 2), got (1995, 2) "
    "(X[5:] is every row from the sixth on)",
    "loss_over_last_index": "- **ex5**: loss averaging: the last value of `loss_curve` is {number}, but model_0's "
    "mean loss on the training data is {number}: is the epoch's loss averaged over the right number?",
    "no_zero_grad": "- **ex5**: training: model_0's mean loss on the training data is {number}, worse than a coin "
    "toss (ln 2 = 0.693): training diverged. Gradients piling up from batch to batch, a missing "
    "optimizer.zero_grad(), is the usual cause",
    "boundary_in_own_figure": "- **ex9: the model, its losses and figures**: decision regions: `blob_boundary_fig` "
    "is empty: the decision boundary "
    "was drawn somewhere else. A plotting function that calls plt.figure() opens a figure of its own and leaves "
    "this one blank",
}


def pattern(line: str) -> re.Pattern:
    """``line`` as a regular expression, with ``{number}`` matching whatever number the run printed."""
    return re.compile("^" + re.escape(line).replace(re.escape("{number}"), r"[-+0-9.e]+") + "$", re.MULTILINE)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real-work")
    submissions, out = folder / "class", folder / "out"
    submissions.mkdir()
    for name in LOST:
        nbformat.write(student_notebook(None if name == "reuse" else name), submissions / f"{name}.ipynb")
    command = [sys.executable, "-m", "grading", "grade", "assignment_06", str(submissions), "--out", str(out)]
    start = time.monotonic()
    run = subprocess.run([*command, "--jobs", "2"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    print(f"\n{run.stdout}{len(LOST)} submissions with --jobs 2: {time.monotonic() - start:.0f} s")
    with open(out / "grades.csv", newline="") as sheet:
        rows = {Path(row["submission"]).stem: row for row in csv.DictReader(sheet)}
    feedback = {name: (out / "feedback" / f"class__{name}.ipynb.md").read_text() for name in LOST}
    return rows, feedback


@pytest.mark.parametrize("name", sorted(LOST))
def test_each_exercise_keeps_the_point_it_earned_where_it_stands(graded, name):
    rows, _ = graded
    row = rows[name]
    assert {exercise: float(row[exercise]) for exercise in EXERCISES} == {
        exercise: 1 - LOST[name].get(exercise, 0) for exercise in EXERCISES
    }
    assert row["status"] == "ok" and float(row["total"]) == 9 - sum(LOST[name].values())


@pytest.mark.parametrize("name", sorted(LOST))
def test_feedback_says_which_names_later_cells_changed_and_lists_the_cells_that_raised(graded, name):
    _, feedback = graded
    markdown = feedback[name]
    notes = [line for line in markdown.splitlines() if line.startswith("- ex") and "passed where it stands" in line]
    failed_here = LOST[name]  # an exercise that fails where it stands gets no note about later cells
    reused = [note for note in REUSE_NOTES if note.split()[1] not in failed_here]
    assert len(notes) == len(reused)
    for note, expected in zip(notes, reused, strict=True):
        assert pattern(expected).match(note), note
    errors = markdown.split("## Cells that raised an error")[1].strip().splitlines()
    assert errors == [UTILS_ERROR]


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_slip_is_named_with_a_hint_of_its_own(graded, mistake):
    _, feedback = graded
    fixes = feedback[mistake].split("## What to fix")[1].split("##")[0].strip().splitlines()
    assert len(fixes) == 2 and fixes[1].startswith("  Hint: ")
    assert pattern(FIX_LINES[mistake]).match(fixes[0]), fixes[0]
    hints = {feedback[other].split("  Hint: ")[1].splitlines()[0] for other in MISTAKES}
    assert len(hints) == len(MISTAKES)

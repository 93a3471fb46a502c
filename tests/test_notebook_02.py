"""Lesson 02 (classification), its solutions and its generated exercises.

The slow tests read what the executed notebooks computed (``results_of``), never re-typed
numbers; the fast ones check facts about the masters that keep those numbers honest: seeds
before every model, one optimizer per model, a table of contents that matches the sections.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
from conftest import code_cells, executed_notebook, is_whole_split_accuracy

REPO_ROOT = Path(__file__).resolve().parent.parent
LESSON = "notebooks/02_pytorch_classification.ipynb"
SOLUTIONS = "solutions/02_pytorch_classification_solutions.ipynb"
EXERCISES = "exercises/02_pytorch_classification_exercises.ipynb"
MASTERS = [REPO_ROOT / LESSON, REPO_ROOT / SOLUTIONS]
CIRCLE_TEST_SAMPLES = 200  # 20% of make_circles' 1000 samples (and of make_blobs' and make_moons')
SPIRAL_TEST_SAMPLES = 60  # 20% of 3 arms x 100 points


# ---------------------------------------------------------------- the numbers the notebooks computed
@pytest.mark.slow
def test_linear_circle_models_do_no_better_than_a_coin_toss(results_of):
    results = results_of(LESSON)
    for name in ("model_0_test_acc", "model_1_test_acc"):
        assert results[name] <= 60, f"{name} = {results[name]}: a linear model cannot separate two circles"
        assert is_whole_split_accuracy(results[name], CIRCLE_TEST_SAMPLES)


@pytest.mark.slow
def test_relu_circle_model_and_blob_model_reach_99_percent(results_of):
    results = results_of(LESSON)
    assert results["model_2_test_acc"] >= 99, results
    assert results["blob_test_acc"] >= 99, results
    for name in ("model_2_test_acc", "blob_test_acc"):
        assert is_whole_split_accuracy(results[name], CIRCLE_TEST_SAMPLES)


@pytest.mark.slow
def test_solutions_reach_the_bounds_the_exercises_ask_for(results_of):
    results = results_of(SOLUTIONS)
    assert results["moons_test_acc"] >= 96, results
    assert results["spirals_test_acc"] >= 95, results
    assert is_whole_split_accuracy(results["moons_test_acc"], CIRCLE_TEST_SAMPLES)
    assert is_whole_split_accuracy(results["spirals_test_acc"], SPIRAL_TEST_SAMPLES)


@pytest.mark.slow
def test_exercise_notebook_runs_headless_and_asks_for_every_answer():
    notebook = executed_notebook(EXERCISES)
    errors = [
        output.ename
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    # the first exercise raises NotImplementedError until the student writes it
    assert errors and errors[0] == "NotImplementedError"
    assert errors.count("NotImplementedError") >= 7
    # nothing was computed, so nothing was recorded
    from conftest import notebook_results

    assert notebook_results(notebook) == {}


# ---------------------------------------------------------------- facts about the masters
def test_every_lesson_model_has_its_own_optimizer():
    """Source defect shared-optimizer: model_1 was trained with model_0's optimizer, so it never trained."""
    pairs = re.findall(
        r"^(optimizer_\w+) = torch\.optim\.\w+\(params=(\w+)\.parameters\(\)",
        "\n".join(code_cells(REPO_ROOT / LESSON)),
        re.MULTILINE,
    )
    assert len(pairs) >= 4, pairs
    for optimizer, model in pairs:
        suffix = optimizer.removeprefix("optimizer_")
        assert model in {f"model_{suffix}", f"{suffix}_model"}, f"{optimizer} optimizes {model}"
    assert len({model for _, model in pairs}) == len(pairs), f"two optimizers share a model: {pairs}"


def test_table_of_contents_matches_the_section_headings():
    notebook = jupytext.read((REPO_ROOT / LESSON).with_suffix(".py"))
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    headings = re.findall(r"^## (\d+)\. (.+)$", markdown, re.MULTILINE)
    contents = re.findall(r"^(\d+)\. \[(.+?)\]\(#(.+?)\)$", markdown, re.MULTILINE)
    assert [int(number) for number, _ in headings] == list(range(len(headings)))
    assert [(number, title) for number, title, _ in contents] == headings
    for number, title, anchor in contents:
        assert anchor == f"{number}.-{title}".replace(" ", "-"), f"anchor {anchor!r} does not reach section {number}"


def test_exercises_do_not_leak_the_solutions():
    exercise = (REPO_ROOT / EXERCISES).with_suffix(".py").read_text(encoding="utf-8")
    master = (REPO_ROOT / SOLUTIONS).with_suffix(".py").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in exercise and "This is the solutions notebook" not in exercise
    for region in re.findall(r"# BEGIN SOLUTION\n(.*?)\n\s*# END SOLUTION", master, re.DOTALL):
        assert region not in exercise
    assert exercise.count("raise NotImplementedError") >= 7
    assert "*Your answer here.*" in exercise

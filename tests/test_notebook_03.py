"""Lesson 03 (computer vision on FashionMNIST), its solutions and its generated exercises.

The slow tests read what the executed notebooks computed (``results_of``), never re-typed
numbers; the fast ones check facts about the masters that keep those numbers honest: seeds
before every model, one optimizer per model, a table of contents that matches the sections,
exercises that do not leak their solutions.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import code_cells, executed_notebook, is_whole_split_accuracy, notebook_results

REPO_ROOT = Path(__file__).resolve().parent.parent
LESSON = "notebooks/03_pytorch_computer_vision.ipynb"
SOLUTIONS = "solutions/03_pytorch_computer_vision_solutions.ipynb"
EXERCISES = "exercises/03_pytorch_computer_vision_exercises.ipynb"
MASTERS = [REPO_ROOT / LESSON, REPO_ROOT / SOLUTIONS]
FASHION_TRAIN_IMAGES = 60_000
FASHION_TEST_IMAGES = 10_000


def errors_of(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        output.ename
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


# ---------------------------------------------------------------- the numbers the lesson computed
@pytest.mark.slow
def test_every_model_trains_three_full_epochs_on_the_real_data(results_of):
    results = results_of(LESSON)
    assert results["train_images"] == FASHION_TRAIN_IMAGES
    assert results["test_images"] == FASHION_TEST_IMAGES
    assert results["epochs"] == 3
    assert results["train_batches_per_epoch"] == FASHION_TRAIN_IMAGES / 32


@pytest.mark.slow
def test_baseline_reaches_82_and_tinyvgg_88_percent(results_of):
    results = results_of(LESSON)
    assert results["model_0_test_acc"] >= 82, results
    assert results["model_2_test_acc"] >= 88, results
    for name in ("model_0_test_acc", "model_1_test_acc", "model_1_fixed_test_acc", "model_2_test_acc"):
        assert is_whole_split_accuracy(results[name], FASHION_TEST_IMAGES), f"{name} is not exact: {results[name]}"


@pytest.mark.slow
def test_relu_on_the_logits_is_what_sinks_model_1(results_of):
    """Source defect relu-on-logits: model 1 trails the baseline because of its last ReLU, as the lesson shows."""
    results = results_of(LESSON)
    assert results["model_1_test_acc"] < results["model_0_test_acc"] - 2, results
    assert results["model_1_fixed_test_acc"] > results["model_1_test_acc"] + 2, results
    assert results["model_1_fixed_test_acc"] >= results["model_0_test_acc"] - 1, "the fix should reach the baseline"


@pytest.mark.slow
def test_reloaded_model_matches_the_saved_one(results_of):
    results = results_of(LESSON)
    assert results["reloaded_matches"] == 1.0
    assert results["reloaded_test_acc"] == results["model_2_test_acc"]


@pytest.mark.slow
def test_mixed_precision_section_measures_only_where_there_is_a_fast_lower_precision(results_of):
    """Section 7.5 measures and trains under autocast on a device with bf16 (or a GPU), and nowhere else.

    This machine runs one branch here; ``test_mixed_precision_section.py`` runs both on any machine.
    """
    results = results_of(LESSON)
    measured = {"float32_step_ms", "autocast_step_ms", "model_2_autocast_test_acc", "model_2_autocast_train_seconds"}
    if results["has_lower_precision"]:
        assert measured <= set(results), results
        assert results["float32_step_ms"] > 0 and results["autocast_step_ms"] > 0
        assert is_whole_split_accuracy(results["model_2_autocast_test_acc"], FASHION_TEST_IMAGES), results
        assert abs(results["model_2_autocast_test_acc"] - results["model_2_test_acc"]) <= 1.0, results
    else:
        assert not measured & set(results), results


@pytest.mark.slow
def test_the_deliberate_device_error_is_shown_and_the_lesson_goes_on():
    """Section 5's evaluation that ignores the device fails, is shown as Python prints it, and stops nothing."""
    notebook = executed_notebook(LESSON)
    assert errors_of(notebook) == []
    shown = [
        output.text
        for cell in notebook.cells
        if "shows_error(RuntimeError)" in cell.get("source", "")
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
    ]
    assert len(shown) == 1 and shown[0].startswith("RuntimeError: ") and "device" in shown[0], shown


# ---------------------------------------------------------------- solutions and exercises
@pytest.mark.slow
def test_solutions_reach_the_bounds_the_exercises_ask_for(results_of):
    results = results_of(SOLUTIONS)
    assert results["mnist_test_acc"] >= 90, results
    assert results["fashion_test_acc"] >= 85, results
    assert results["fashion_mistakes"] == round((100 - results["fashion_test_acc"]) / 100 * FASHION_TEST_IMAGES)
    assert 0.5 < results["worst_mistake_confidence"] <= 1, "the worst mistakes are confident ones"
    assert results["mnist_cpu_seconds"] > 0


@pytest.mark.slow
def test_exercise_notebook_runs_headless_and_asks_for_every_answer():
    notebook = executed_notebook(EXERCISES)
    errors = errors_of(notebook)
    # every code exercise raises NotImplementedError until the student writes it
    assert errors and errors[0] == "NotImplementedError"
    assert errors.count("NotImplementedError") == 7
    assert notebook_results(notebook) == {}  # nothing was computed, so nothing was recorded


# ---------------------------------------------------------------- facts about the masters
def test_every_lesson_model_has_its_own_optimizer():
    pairs = re.findall(
        r"^\s*(optimizer_\w+) = torch\.optim\.\w+\(params=(\w+)\.parameters\(\)",
        "\n".join(code_cells(REPO_ROOT / LESSON)),
        re.MULTILINE,
    )
    models = ["model_0", "model_1", "model_1_fixed", "model_2", "model_2_autocast"]
    assert [model for _, model in pairs] == models, pairs
    for optimizer, model in pairs:
        assert model == "model_" + optimizer.removeprefix("optimizer_"), f"{optimizer} optimizes {model}"


def test_table_of_contents_matches_the_section_headings():
    notebook = jupytext.read((REPO_ROOT / LESSON).with_suffix(".py"))
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    headings = re.findall(r"^## (\d+)\. (.+)$", markdown, re.MULTILINE)
    contents = re.findall(r"^(\d+)\. \[(.+?)\]\(#(.+?)\)$", markdown, re.MULTILINE)
    assert [int(number) for number, _ in headings] == list(range(12))
    assert [(number, title) for number, title, _ in contents] == headings
    for number, title, anchor in contents:
        assert anchor == f"{number}.-{title}".replace(" ", "-"), f"anchor {anchor!r} does not reach section {number}"


def test_lesson_fixes_the_known_defects_it_could_copy():
    source = "\n".join(code_cells(REPO_ROOT / LESSON))
    assert "squeeze(), dim=0" not in source and "softmax(y_logits, dim=1)" in source  # source defect softmax-wrong-dim
    assert (
        "random.sample(range(len(test_data))" in source and "list(test_data)" not in source
    )  # source defect random-sample-decodes-test-set
    assert (
        "!pip" not in source and "except:" not in source and "mlxtend.__version__" not in source
    )  # source defect broken-version-check
    assert (
        "torch.load(" not in source and "load_model(" in source
    )  # source defect load-without-map-location: the helper maps and is safe


def test_exercises_do_not_leak_the_solutions():
    exercise = (REPO_ROOT / EXERCISES).with_suffix(".py").read_text(encoding="utf-8")
    master = (REPO_ROOT / SOLUTIONS).with_suffix(".py").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in exercise and "record_results(" not in exercise
    for region in re.findall(r"# BEGIN SOLUTION\n(.*?)\n\s*# END SOLUTION", master, re.DOTALL):
        assert region not in exercise
    assert len(re.findall(r"^\s*raise NotImplementedError$", exercise, re.MULTILINE)) == 7
    assert len(re.findall(r"^# \*Your answer here\.\*$", exercise, re.MULTILINE)) == 4

"""The grader's parts, without kernels: the checks of assignment 6, reading submissions, results and the CLI.

The checks are the master's own (``load_checks``), executed here in-process on hand-made
namespaces that go through the hand-over and the rebuild first, as in the grader and in the
self-check, so each expectation below is a fact a student relies on ("the last five rows are
X[-5:], and X[5:] fails with a message saying so"). The hand-over format and the checker's
process are tested in ``test_handover.py``; the end-to-end runs in ``test_grading_hostile.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import subprocess
import time
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest
import torch
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from torch import nn

import self_check
from grading import cli, gradescope, sandbox
from grading.checker.judge import judge_submission
from grading.checks import load_checks
from grading.kernel.handover_cell import HANDOVER_MIME, handover_cell
from grading.places import Place, bound_names, exercise_places
from grading.results import cell_errors, status_of
from grading.submission_run import handed_over
from grading.submissions import NotANotebook, find_submissions, load_notebook
from helper_functions import plot_decision_boundary
from self_check import judging

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def checks():
    return load_checks("assignment_06")


@pytest.fixture(scope="module")
def harness(checks):
    """The self-check's library with the master's checks loaded into it, as the checker loads them."""
    self_check.EXERCISES.clear()
    exec(compile(checks.code, "<course checks>", "exec"), {"__name__": "__course_checks__"})
    return {**vars(judging), **vars(self_check), "hand_over_exercise": self_check.hand_over_exercise}


def in_notebook(notebook: dict, expression: str):
    """``expression`` evaluated as a notebook's cell would, with ``notebook`` as its variables."""
    return eval(compile(expression, "<cell>", "eval"), notebook)


def run(harness, name, **variables):
    """(passed, message) of exercise ``name``'s check on ``variables``, handed over and rebuilt as the grader does."""
    result = harness["judge"](name, harness["hand_over_exercise"](name, variables))
    return result["passed"], result["message"]


@pytest.fixture(scope="module")
def circles():
    X, y = make_circles(2000, noise=0.05, random_state=42)
    X_train, X_test, y_train, y_test = train_test_split(
        torch.from_numpy(X).float(), torch.from_numpy(y).float(), test_size=0.2, random_state=42
    )
    return {"X": X, "y": y, "X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


def two_linear_layers(hidden=8, activation=None):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, hidden), *([activation] if activation else []), nn.Linear(hidden, 1))


# ---------------------------------------------------------------- what the master declares
def test_master_declares_nine_exercises_of_one_point_each(checks):
    assert [exercise.name for exercise in checks.exercises] == [f"ex{n}" for n in range(1, 10)]
    assert {exercise.points for exercise in checks.exercises} == {1} and checks.max_points == 9
    assert all(exercise.hint for exercise in checks.exercises)


def test_the_graders_copy_of_the_checks_drops_the_self_check_calls(checks, harness):
    assert not re.search(r"^check\(", checks.code, re.MULTILINE)
    assert list(harness["EXERCISES"]) == [exercise.name for exercise in checks.exercises]


# ---------------------------------------------------------------- the checks, exercise by exercise
def test_ex1_wants_the_circles_and_the_right_slices(harness, circles):
    X, y = circles["X"], circles["y"]
    good = {"X": X, "y": y, "n_features": 2, "first_five_X": X[:5], "first_five_y": y[:5], "last_five_X": X[-5:]}
    assert run(harness, "ex1", **good) == (True, "passed")
    passed, message = run(harness, "ex1", **{**good, "last_five_X": X[5:]})  # source defect last-five-slice
    assert not passed and "`last_five_X` should have shape (5, 2), got (1995, 2)" in message
    noisier, _ = make_circles(2000, noise=0.1, random_state=42)
    passed, message = run(harness, "ex1", **{**good, "X": noisier})
    assert not passed and "not the circles asked for" in message
    assert not run(harness, "ex1", **{**good, "n_features": 2.0})[0]
    passed, message = run(harness, "ex1", **{k: v for k, v in good.items() if k != "X"})
    assert not passed and "`X` is not defined" in message


def test_ex2_wants_float_tensors_split_80_20_with_seed_42(harness, circles):
    split = {name: circles[name] for name in ("X_train", "X_test", "y_train", "y_test")}
    assert run(harness, "ex2", **split)[0]
    passed, message = run(harness, "ex2", **{**split, "y_train": split["y_train"].long()})
    assert not passed and "`y_train` should be float32" in message
    other = train_test_split(torch.from_numpy(circles["X"]).float(), test_size=0.2, random_state=0)
    passed, message = run(harness, "ex2", **{**split, "X_train": other[0]})
    assert not passed and "not the split asked for" in message


def test_ex3_wants_exactly_two_linear_layers_and_no_activation(harness):
    assert run(harness, "ex3", model_0=two_linear_layers())[0]
    passed, message = run(harness, "ex3", model_0=two_linear_layers(activation=nn.ReLU()))
    assert not passed and "not linear" in message
    three = nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 4), nn.Linear(4, 1))
    assert "exactly two nn.Linear layers, it has 3" in run(harness, "ex3", model_0=three)[1]
    wide = nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 2))
    assert "expected (5, 1)" in run(harness, "ex3", model_0=wide)[1]


def test_ex4_wants_bce_with_logits_and_sgd_at_0_1_over_model_0(harness):
    model_0 = two_linear_layers()
    good = {
        "model_0": model_0,
        "loss_fn": nn.BCEWithLogitsLoss(),
        "optimizer": torch.optim.SGD(model_0.parameters(), 0.1),
    }
    assert run(harness, "ex4", **good)[0]
    assert "nn.BCEWithLogitsLoss" in run(harness, "ex4", **{**good, "loss_fn": nn.BCELoss()})[1]
    slow = torch.optim.SGD(model_0.parameters(), lr=0.01)
    assert "learning rate should be 0.1, got 0.01" in run(harness, "ex4", **{**good, "optimizer": slow})[1]
    adam = torch.optim.Adam(model_0.parameters(), lr=0.1)
    assert "torch.optim.SGD, got Adam" in run(harness, "ex4", **{**good, "optimizer": adam})[1]
    # source defect shared-optimizer: an optimizer built for another model
    other = torch.optim.SGD(two_linear_layers().parameters(), lr=0.1)
    assert "does not hold the parameters of `model_0`" in run(harness, "ex4", **{**good, "optimizer": other})[1]


def test_ex5_refuses_a_loss_averaged_over_the_wrong_count(harness, circles):
    model_0 = two_linear_layers()
    train_loss = nn.functional.binary_cross_entropy_with_logits(
        model_0(circles["X_train"]).detach()[:, 0], circles["y_train"]
    ).item()
    test_acc = harness["model_accuracy"](model_0, circles["X_test"], circles["y_test"])
    loss_curve, acc_curve = [train_loss] * 10, [50.0] * 9 + [test_acc]
    figure = plt.figure()
    plt.subplot(1, 2, 1)
    plt.plot(loss_curve)
    plt.subplot(1, 2, 2)
    plt.plot(acc_curve)
    good = {"model_0": model_0, "loss_curve": loss_curve, "acc_curve": acc_curve, "curves_fig": figure}
    assert run(harness, "ex5", **good) == (True, "passed")
    # source defect loss-over-last-index: the sum of 50 batch means divided by 1569, the last batch's start index + 1
    too_small = [value * 50 / 1569 for value in loss_curve]
    passed, message = run(harness, "ex5", **{**good, "loss_curve": too_small})
    assert not passed and "averaged over the right number" in message
    fractions = [value / 100 for value in acc_curve]
    assert "percentages" in run(harness, "ex5", **{**good, "acc_curve": fractions})[1]
    assert "should hold 10 values" in run(harness, "ex5", **{**good, "loss_curve": loss_curve * 10})[1]
    assert "no line showing `loss_curve`" in run(harness, "ex5", **{**good, "curves_fig": plt.figure()})[1]
    plt.close("all")


def test_ex6_and_ex7_judge_model_1_by_its_behaviour(harness, circles):
    linear = two_linear_layers()
    assert "still a linear function" in run(harness, "ex6", model_1=linear)[1]
    relu = two_linear_layers(activation=nn.ReLU())
    assert run(harness, "ex6", model_1=relu)[0]
    assert "should be a new model" in run(harness, "ex6", model_1=relu, model_0=relu)[1]
    untrained = run(harness, "ex7", model_1=relu, optimizer_1=torch.optim.Adam(relu.parameters()))
    assert not untrained[0] and "at least 95% is needed" in untrained[1]


def test_ex8_wants_train_and_test_boundaries_side_by_side(harness, circles):
    model_1 = two_linear_layers(activation=nn.ReLU())

    def boundaries(*splits):
        figure = plt.figure()
        for position, split in enumerate(splits, start=1):
            plt.subplot(1, len(splits), position)
            plot_decision_boundary(model_1, circles[f"X_{split}"], circles[f"y_{split}"])
        return figure

    splits = {
        "X_train": circles["X_train"],
        "X_test": circles["X_test"],
    }  # the hidden part compares the plots with them
    assert run(harness, "ex8", boundary_fig=boundaries("train", "test"), **splits)[0]
    assert "two plots side by side, it holds 1" in run(harness, "ex8", boundary_fig=boundaries("train"), **splits)[1]
    swapped = run(harness, "ex8", boundary_fig=boundaries("test", "train"), **splits)[1]
    assert "the left plot shows 400 points; the training data has 1600" in swapped
    # as many points as the split, but not the split: the visible part passes, the hidden one does not
    moved = {"X_train": circles["X_train"] + 0.5, "X_test": circles["X_test"]}
    result = harness["judge"](
        "ex8", harness["hand_over_exercise"]("ex8", {"boundary_fig": boundaries("train", "test"), **moved})
    )
    assert {part["name"]: part["passed"] for part in result["parts"]} == {
        "decision regions": True,
        "the data shown": False,
    }
    plt.close("all")


# ---------------------------------------------------------------- the hand-over cell and the checker
def run_handover_cell(checks, names, namespace, final=False, limit=2**20):
    """Execute the grader's hand-over cell on ``namespace``; return the records it published."""
    published = []
    import IPython.display

    original = IPython.display.publish_display_data
    IPython.display.publish_display_data = lambda data: published.append(data)
    try:
        exec(handover_cell(checks.code, names, final, limit), namespace)
    finally:
        IPython.display.publish_display_data = original
    return [data[HANDOVER_MIME] for data in published]


def as_cell(records):
    return nbformat.from_dict(
        {"outputs": [{"output_type": "display_data", "data": {HANDOVER_MIME: record}} for record in records]}
    )


def test_the_handover_cell_publishes_data_and_no_verdict(checks):
    names = [exercise.name for exercise in checks.exercises]
    records = run_handover_cell(checks, names, {"X": "not an array"})
    assert [record["exercise"] for record in records] == names
    assert all(set(record) == {"exercise", "data"} for record in records)  # data, never "passed"
    handed = handed_over(as_cell(records), names, 2**20)
    judged = judge_submission(checks.code, {"where_it_stands": handed}, 5.0, 8 * 2**30, 2**20)["where_it_stands"]
    assert list(judged) == names and not any(result["passed"] for result in judged.values())
    assert "`X` should be a Tensor or ndarray or list or tuple, got str" in judged["ex1"]["message"]


def test_at_the_end_the_handover_names_what_a_later_cell_assigned_again(checks):
    namespace = {"X": torch.zeros(3, 2), "y": torch.zeros(3)}
    run_handover_cell(checks, ["ex1"], namespace)
    namespace["X"] = torch.ones(3, 2)
    (record,) = run_handover_cell(checks, ["ex1"], namespace, final=True)
    assert record["reassigned"] == ["X"]


def test_the_driver_keeps_only_the_exercises_asked_for_once_each_within_the_limit(checks):
    good = run_handover_cell(checks, ["ex1", "ex2"], {"X": torch.zeros(3, 2)})
    forged = {"exercise": "ex9", "data": good[0]["data"]}
    kept = handed_over(as_cell([*good, forged]), ["ex1", "ex2"], 2**20)
    assert set(kept) == {"ex1", "ex2"} and "data" in kept["ex1"]
    twice = handed_over(as_cell([good[0], good[0]]), ["ex1"], 2**20)
    assert twice["ex1"]["error"] == "it was handed over more than once"
    assert "more than the limit" in handed_over(as_cell(good[:1]), ["ex1"], 100)["ex1"]["error"]
    assert "not base64" in handed_over(as_cell([{"exercise": "ex1", "data": "%%%"}]), ["ex1"], 2**20)["ex1"]["error"]
    assert "nothing was handed over" in handed_over(as_cell([]), ["ex1"], 2**20)["ex1"]["error"]


def test_a_check_that_runs_too_long_is_stopped_by_the_checker(checks):
    slow = checks.code + (
        "\n\n@exercise('slow', points=1, hint='-', reads=('x',))\n"
        "def check_slow(ns):\n    import time\n    time.sleep(60)\n"
    )
    data = self_check.hand_over_exercise("slow", {"x": 1}, exercises=self_check.checks_from(slow))
    handovers = {"where_it_stands": {"slow": {"data": __import__("base64").b64encode(data).decode()}}}
    start = time.monotonic()
    result = judge_submission(slow, handovers, 1.0, 8 * 2**30, 2**20)["where_it_stands"]["slow"]
    assert time.monotonic() - start < 30  # a guard against a hang: the check alone would sleep 60 s
    stopped = {"passed": False, "part": "time limit", "message": "the check ran longer than 1 s and was stopped"}
    assert {key: result[key] for key in stopped} == stopped and result["hint"] == "-"
    assert [part["part"] for part in result["parts"]] == ["time limit"]


def test_a_part_that_runs_too_long_costs_its_own_points_only(checks):
    code = checks.code + (
        "\n\n@exercise('two', points=1, hint='-', reads=('x',), part='slow')\n"
        "def check_slow(ns):\n    import time\n    time.sleep(60)\n"
        "\n\n@exercise('two', points=1, hint='-', reads=('x',), part='quick')\n"
        "def check_quick(ns):\n    expect(ns['x'] == 1, 'x', 'x is not 1', '-')\n"
    )
    data = self_check.hand_over_exercise("two", {"x": 1}, exercises=self_check.checks_from(code))
    handovers = {"where_it_stands": {"two": {"data": __import__("base64").b64encode(data).decode()}}}
    result = judge_submission(code, handovers, 1.0, 8 * 2**30, 2**20)["where_it_stands"]["two"]
    assert {part["name"]: part["passed"] for part in result["parts"]} == {"slow": False, "quick": True}


def test_status_is_the_worst_thing_that_happened():
    assert status_of({}) == "ok"
    assert status_of({"timeouts": ["code cell 3"]}) == "timeout"
    assert status_of({"budget_exhausted": True}) == "timeout"
    assert status_of({"timeouts": ["code cell 3"], "kernel_deaths": ["code cell 5"]}) == "kernel_died"
    assert status_of({"error": "the check results were tampered with", "kernel_deaths": ["x"]}).startswith("error: ")


# ---------------------------------------------------------------- reading submissions
@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.ipynb", b"", "the file is empty"),
        ("blank.ipynb", b"  \n", "the file is empty"),
        ("binary.ipynb", b"\x89PNG\r\n\x1a\n\xff\xfe", "not text"),
        ("json.ipynb", b'{"cells": 3}', "not a Jupyter notebook"),
        ("script.py", b"print('hi')\n", "`# %%` cell markers"),
        ("notes.txt", b"# %%\nx = 1\n", "expected an .ipynb or a .py notebook"),
    ],
)
def test_files_that_are_not_notebooks_are_refused_with_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NotANotebook, match=reason):
        load_notebook(path)


def test_notebooks_are_read_without_their_outputs(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", text="a printed 9/9")]
    nbformat.write(notebook, tmp_path / "a.ipynb")
    (tmp_path / "b.py").write_text("# %% [markdown]\n# Hi\n\n# %%\nx = 1\n")
    assert load_notebook(tmp_path / "a.ipynb").cells[0].outputs == []
    assert [cell.cell_type for cell in load_notebook(tmp_path / "b.py").cells] == ["markdown", "code"]


def test_folders_expand_to_their_notebooks_once_each(tmp_path):
    for name in ("class/alice.ipynb", "class/bob/work.py", "class/.ipynb_checkpoints/alice.ipynb", "class/notes.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = find_submissions([tmp_path / "class", tmp_path / "class" / "alice.ipynb"])
    assert [s.path.relative_to(tmp_path).as_posix() for s in found] == ["class/alice.ipynb", "class/bob/work.py"]
    assert [s.slug for s in found] == ["class__alice.ipynb", "class__bob__work.py"]
    with pytest.raises(FileNotFoundError, match="no such submission"):
        find_submissions([tmp_path / "missing.ipynb"])


# ---------------------------------------------------------------- command line, sandbox, bundle
def test_usage_errors_exit_2_and_name_the_problem(tmp_path, capsys):
    assert cli.main(["grade", "assignment_99", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "unknown assignment 'assignment_99'" in capsys.readouterr().err
    assert cli.main(["grade", "assignment_06", str(tmp_path / "nope.ipynb"), "--out", str(tmp_path / "o")]) == 2
    assert "no such submission" in capsys.readouterr().err


def test_not_a_notebook_is_graded_without_starting_a_kernel(tmp_path, capsys):
    (tmp_path / "empty.ipynb").write_bytes(b"")
    assert cli.main(["grade", "assignment_06", str(tmp_path / "empty.ipynb"), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "grades.csv").read_text().splitlines()[1].endswith(",0,0,0,0,0,0,0,0,0,0,9,not_a_notebook")
    result = json.loads((tmp_path / "o" / "results.json").read_text())
    assert result["score"] == 0 and "the file is empty" in result["output"]


def test_sizes_parse_in_binary_units():
    assert cli.parse_size("6G") == 6 * 2**30
    assert cli.parse_size("512M") == 512 * 2**20
    assert cli.parse_size("1.5GiB") == 3 * 2**29
    assert cli.parse_size("1000") == 1000


def test_bubblewrap_command_exposes_only_the_submissions_folder(tmp_path):
    argv = ["python", "-c", "pass"]
    wrapped = sandbox.command(argv, tmp_path, tmp_path / "work", "bwrap", sandbox.Limits())
    joined = " ".join(wrapped)
    assert wrapped[0] == "bwrap" and wrapped[-3:] == argv
    for flag in (
        "--ro-bind / /",
        f"--bind {tmp_path} {tmp_path}",
        "--unshare-all",
        "--die-with-parent",
        "--tmpfs /tmp",
    ):
        assert flag in joined
    assert sandbox.command(argv, tmp_path, tmp_path, "none", sandbox.Limits()) == argv
    with pytest.raises(ValueError, match="sandbox mode"):
        sandbox.resolve_mode("docker")


def test_gradescope_bundle_holds_the_grader_master_and_executable_scripts(tmp_path):
    bundle = gradescope.export("assignment_06", tmp_path / "autograder.zip")
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        run_autograder = archive.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "helper_functions.py", "requirements.txt"} <= names
    assert {"grading/__main__.py", "grading/submission_run.py", "solutions/assignment_06_classification.py"} <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "grade assignment_06" in run_autograder and "GRADING_SUBMISSION_DIR" in run_autograder


def test_the_linearity_probe_is_deterministic_and_sees_smooth_activations(harness):
    torch.manual_seed(123)
    model = two_linear_layers(activation=nn.Tanh())
    state = torch.get_rng_state()
    assert harness["is_affine"](model) is False
    assert torch.equal(torch.get_rng_state(), state)  # it draws from its own generator
    assert harness["is_affine"](two_linear_layers()) is True


def test_the_sandbox_hides_the_masters_and_the_submissions_folders_but_not_the_grader(tmp_path):
    for name in ("solutions", "class"):
        (tmp_path / name).mkdir()
    candidates = [tmp_path / "solutions", tmp_path / "class", tmp_path / "missing", Path("/"), REPO_ROOT]
    hidden = sandbox.folders_to_hide(candidates, keep=[REPO_ROOT / "grading"])
    assert hidden == [(tmp_path / "class").resolve(), (tmp_path / "solutions").resolve()]


def test_processes_a_submission_leaves_behind_are_killed_and_others_spared():
    spared = subprocess.Popen(["sleep", "60"])
    try:
        with sandbox.reaping_strays():
            started = subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True)
            orphan = int(started.stdout)
            assert orphan in sandbox.descendants()  # adopted when its parent shell exited
        with pytest.raises(ProcessLookupError):
            os.kill(orphan, 0)  # killed and reaped
        assert spared.poll() is None
    finally:
        spared.kill()
        spared.wait()


def test_sandbox_shows_a_checkout_under_tmp_again_after_making_tmp_private(monkeypatch, tmp_path):
    # CI may clone the course under /tmp: the private /tmp must not hide the grader and its venv
    from grading import sandbox

    checkout = Path("/tmp/some-clone")
    monkeypatch.setattr(sandbox, "needed_under_tmp", lambda: [checkout])
    args = sandbox._bwrap_args(tmp_path, tmp_path, sandbox.Limits(), hide=[checkout / "solutions"])
    private_tmp = args.index("/tmp", args.index("--tmpfs"))
    shown = args.index("--ro-bind", private_tmp)
    hidden = args.index(str(checkout / "solutions"))
    assert args[shown + 1 : shown + 3] == [str(checkout), str(checkout)]
    assert private_tmp < shown < hidden


def test_needed_under_tmp_lists_only_paths_below_tmp():
    from grading import sandbox

    assert all(Path("/tmp") in path.parents for path in sandbox.needed_under_tmp())


# ---------------------------------------------------------------- a failure names its part and its own hint
def test_each_failure_names_the_part_that_failed_with_a_hint_of_its_own(harness, circles):
    model_0 = two_linear_layers()
    train_loss = nn.functional.binary_cross_entropy_with_logits(
        model_0(circles["X_train"]).detach()[:, 0], circles["y_train"]
    ).item()
    test_acc = harness["model_accuracy"](model_0, circles["X_test"], circles["y_test"])
    figure = plt.figure()
    plt.plot([train_loss] * 10)
    plt.plot([test_acc] * 10)
    good = {"model_0": model_0, "loss_curve": [train_loss] * 10, "acc_curve": [test_acc] * 10, "curves_fig": figure}
    too_small = harness["run_check"]("ex5", {**good, "loss_curve": [train_loss * 50 / 1569] * 10})
    fractions = harness["run_check"]("ex5", {**good, "acc_curve": [test_acc / 100] * 10})
    with torch.no_grad():  # what 5,000 steps without optimizer.zero_grad() do to the parameters
        for parameter in model_0.parameters():
            parameter.mul_(1e12)
    diverged = harness["run_check"]("ex5", good)
    plt.close("all")
    assert (too_small["part"], fractions["part"], diverged["part"]) == ("loss averaging", "`acc_curve`", "training")
    assert "len(X_train)" in too_small["hint"] and "percentage" in fractions["hint"]
    assert "optimizer.zero_grad()" in diverged["hint"] and "worse than a coin toss" in diverged["message"]
    assert len({too_small["hint"], fractions["hint"], diverged["hint"]}) == 3


def test_the_self_check_says_when_a_later_cell_replaced_a_name_and_keeps_the_point(checks):
    notebook = {"__name__": "__main__"}  # check() reads the variables of the notebook that calls it
    exec(compile(checks.code, "<checks>", "exec"), notebook)
    model_0 = two_linear_layers()
    notebook.update(
        model_0=model_0, loss_fn=nn.BCEWithLogitsLoss(), optimizer=torch.optim.SGD(model_0.parameters(), 0.1)
    )
    assert repr(in_notebook(notebook, 'check("ex4")')) == "ex4: PASS (1 point)"
    notebook["loss_fn"] = nn.CrossEntropyLoss()  # exercise 9 of a student who reuses the name
    report = in_notebook(notebook, "check()")
    line = next(line for line in repr(report).splitlines() if line.startswith("ex4"))
    assert line.startswith("ex4: PASS where it stands (1 point). Since then `loss_fn` changed, so it would fail now")
    assert "got CrossEntropyLoss" in line and "keeps its point" in line
    assert report.score == 2  # ex3 (model_0) passes now, ex4 where it stands


def test_the_self_check_tells_a_fix_made_in_a_later_cell_from_one_made_where_it_stands(checks):
    notebook = {"__name__": "__main__"}
    exec(compile(checks.code, "<checks>", "exec"), notebook)
    model_0 = two_linear_layers()
    notebook.update(model_0=model_0, loss_fn=nn.BCELoss(), optimizer=torch.optim.SGD(model_0.parameters(), 0.1))
    failed = repr(in_notebook(notebook, 'check("ex4")'))
    assert failed.startswith("ex4: FAIL at `loss_fn`: `loss_fn` should be nn.BCEWithLogitsLoss")
    notebook["loss_fn"] = nn.BCEWithLogitsLoss()
    report = repr(in_notebook(notebook, "check()"))
    assert "ex4: FAIL at `loss_fn`" in report and "a later cell fixed it" in report


# ---------------------------------------------------------------- where each exercise stands
@pytest.fixture
def exercise_notebook():
    return nbformat.read(REPO_ROOT / "exercises" / "assignment_06_classification.ipynb", as_version=4)


def index_of(notebook, text, cell_type="code"):
    return next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == cell_type and text in cell.source)


def test_each_exercise_is_checked_after_its_check_cell(checks, exercise_notebook):
    places = exercise_places(exercise_notebook, checks.exercises)
    for exercise in checks.exercises:
        assert places[exercise.name].index == index_of(exercise_notebook, f'check("{exercise.name}")')
        assert places[exercise.name].how == f'its check cell, `check("{exercise.name}")`'


def test_without_its_check_cell_an_exercise_is_found_by_its_heading_then_its_cell_ids(checks, exercise_notebook):
    del exercise_notebook.cells[index_of(exercise_notebook, 'check("ex4")')]
    places = exercise_places(exercise_notebook, checks.exercises)
    fix = index_of(exercise_notebook, "untrained_labels = untrained_labels.squeeze(dim=1)")
    assert places["ex4"] == Place(fix, "its heading, Exercise 4")  # the last code cell under the heading

    del exercise_notebook.cells[index_of(exercise_notebook, "### Exercise 4", "markdown")]
    places = exercise_places(exercise_notebook, checks.exercises)
    assert places["ex4"] == Place(index_of(exercise_notebook, "loss_fn, optimizer"), "the ids of its cells")

    for cell in exercise_notebook.cells:  # a .py submission has no cell ids
        cell.pop("id", None)
    places = exercise_places(exercise_notebook, checks.exercises)
    assert places["ex4"].index is None and "were not found" in places["ex4"].how
    assert places["ex5"].how == 'its check cell, `check("ex5")`'


def test_a_later_check_call_moves_the_place_there(checks, exercise_notebook):
    exercise_notebook.cells.append(nbformat.v4.new_code_cell('check("ex2")'))
    places = exercise_places(exercise_notebook, checks.exercises)
    assert places["ex2"].index == len(exercise_notebook.cells) - 1


def test_names_a_cell_assigns_at_its_top_level_with_the_line():
    source = "import os\nx = 1\nfor i in range(3):\n    y = i\ndef f():\n    z = 2\n%matplotlib inline\nx += 1"
    assert bound_names(source) == {"os": 1, "x": 8, "i": 3, "y": 4, "f": 5}
    assert bound_names("this is not python") == {}


def test_errors_are_listed_with_their_exercise_except_the_masters_deliberate_ones(checks, exercise_notebook):
    # a master's cell tagged raises-exception, as a students' notebook of an older master still holds it
    deliberate = index_of(exercise_notebook, "with shows_error(ValueError)")
    checks = dataclasses.replace(
        checks, deliberate_errors=frozenset({exercise_notebook.cells[deliberate].source.strip()})
    )
    utils = index_of(exercise_notebook, 'check("ex4")') + 1
    exercise_notebook.cells.insert(utils, nbformat.v4.new_code_cell("from utils import plot_decision_boundary"))
    errors = [
        {"cell": utils, "ename": "ModuleNotFoundError", "evalue": "No module named 'utils'"},
        {"cell": deliberate + 1, "ename": "ValueError", "evalue": "shapes differ"},
        {"cell": 4, "ename": "NameError", "evalue": "name 'torch' is not defined"},
    ]
    lines = cell_errors(exercise_notebook, checks, errors)
    assert lines == [
        "ex4, code cell 20 (`from utils import plot_decision_boundary`): ModuleNotFoundError: No module named 'utils'",
        "under '0. Setup and the self-check', code cell 2 (`import matplotlib.pyplot as plt`): "
        "NameError: name 'torch' is not defined",
    ]


def test_zombies_left_to_the_grader_are_reaped_but_not_those_a_popen_waits_for():
    spared, orphan = subprocess.Popen(["true"]), subprocess.Popen(["true"])

    def state(pid):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]

    deadline = time.monotonic() + 10
    while {state(spared.pid), state(orphan.pid)} != {"Z"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.reap_zombie_children(spare={spared.pid}) >= 1
    assert not Path(f"/proc/{orphan.pid}").exists()
    assert state(spared.pid) == "Z" and spared.wait() == 0


def test_the_students_self_check_counts_the_hidden_parts_it_cannot_run(checks, circles):
    """Assignment 6's students' module declares exercise 7's hidden part: check() says it is there and its worth."""
    exercises = self_check.checks_from(checks.students_code)
    assert [part["name"] for part in exercises["ex7"]["parts"]] == ["test accuracy", "accuracy on fresh points"]
    assert exercises["ex7"]["parts"][1]["check"] is None  # declared, with no code
    before = dict(self_check.EXERCISES)
    self_check.EXERCISES.clear()
    self_check.EXERCISES.update(exercises)
    try:
        model_1 = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
        notebook = {"model_1": model_1, "optimizer_1": torch.optim.Adam(model_1.parameters())}
        report = repr(in_notebook({**notebook, "check": self_check.check}, 'check("ex7")'))
    finally:
        self_check.EXERCISES.clear()
        self_check.EXERCISES.update(before)
    assert report.startswith("ex7: FAIL at test accuracy")  # an untrained model: the visible part fails
    assert report.endswith("and 1 hidden part worth 0.5 points, judged only when your notebook is graded")

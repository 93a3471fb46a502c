"""The repository's machinery: pins, notebook pairs, the exercise generator and the Colab setup cell."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from grading.checks import COURSE_FILES
from tools import check_notebooks, colab_runtime, colab_setup, make_exercises, run_master
from tools.make_exercises import MarkerError

REPO_ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n"
    "#     language: python\n#     name: python3\n# ---\n"
)


def pins_from_requirements(name: str = "requirements.txt") -> dict[str, str]:
    lines = (REPO_ROOT / name).read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith(("#", "-r ")))


# ---------------------------------------------------------------- environment
@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_requirements_pin_every_package_exactly(name):
    for line in (REPO_ROOT / name).read_text().splitlines():
        if line and not line.startswith(("#", "-r ")):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+]*", line), f"not an exact pin: {line}"
    assert pins_from_requirements()["torch"] == "2.14.1"
    assert pins_from_requirements()["torchvision"] == "0.29.1"


def test_the_development_set_adds_to_the_runtime_set_and_pins_nothing_twice():
    development = (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in development
    assert not set(pins_from_requirements("requirements-dev.txt")) & set(pins_from_requirements())
    # the tools a student never needs stay out of the runtime set
    assert {"pytest", "nbmake", "playwright", "ruff", "mypy"} <= set(pins_from_requirements("requirements-dev.txt"))


def test_environment_yml_holds_the_same_pins_as_requirements():
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    conda_pins = dict(line.split("==") for line in pip_section)
    assert conda_pins == pins_from_requirements()


# ---------------------------------------------------------------- notebooks as a set
def all_masters() -> list[Path]:
    return check_notebooks.notebook_masters(with_tests=True)


def test_there_are_notebooks_to_check():
    assert all_masters(), "no notebooks found in notebooks/, exercises/ or solutions/"


@pytest.mark.parametrize("master", all_masters(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_py_master_and_ipynb_hold_the_same_cells(master):
    assert check_notebooks.drift(master) is None


def test_every_ipynb_has_a_py_master():
    assert check_notebooks.orphans() == []


@pytest.mark.parametrize("master", all_masters(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_first_code_cell_is_the_colab_setup_cell(master):
    notebook = jupytext.read(master)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.source == check_notebooks.generated_cells(notebook, master)[notebook.cells.index(first_code)]
    assert first_code.source.startswith(colab_setup.SETUP_CELL.split("\n", 1)[0])


@pytest.mark.parametrize(
    "master", [m for m in all_masters() if m.parent.name != "exercises"], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_lessons_and_masters_tag_no_cell_to_raise_so_run_all_reaches_their_end(master):
    """Colab reads no tags: a cell that raises stops its Run all there. A deliberate mistake runs in shows_error."""
    notebook = jupytext.read(master)
    tagged = [cell.source[:60] for cell in notebook.cells if "raises-exception" in cell.metadata.get("tags", [])]
    assert not tagged, f"cells tagged raises-exception stop Colab's Run all: {tagged}"


@pytest.mark.parametrize("master", all_masters(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_notebooks_carry_no_outputs(master):
    notebook = nbformat.read(master.with_suffix(".ipynb"), as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_setup_cell_is_python_and_pins_match_requirements():
    cell = colab_setup.setup_cell(colab_setup.course_files("exercises/checks/x.py"))
    ast.parse(cell)
    pinned = ast.literal_eval(re.search(r"^PINNED = (\{.*?\})", cell, re.MULTILINE).group(1))
    assert pinned, "setup cell pins nothing"
    requirements = pins_from_requirements()
    assert pinned == {name: requirements[name] for name in pinned}
    assert colab_setup.COURSE_REPO in cell and '"exercises/checks/x.py": "from self_check import *"' in cell


def test_the_readme_keeps_to_150_lines_and_names_the_colab_runtime_the_course_is_tested_against():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    tested = " ".join(readme.split("**Tested against**", 1)[1].split("`make test-colab`", 1)[0].split())
    versions = colab_runtime.frozen()
    assert f"Python {colab_runtime.python_minor()}" in tested and colab_runtime.source()["date"] in tested
    for name in ("torch", "torchvision", "numpy", "pandas", "matplotlib", "scikit-learn", "mlxtend"):
        assert f"{name} {versions[name]}".lower() in tested.lower(), name


def test_the_setup_cell_fetches_every_file_a_notebook_imports_each_with_a_line_it_has():
    """A module added to the self-check's package that Colab's setup cell did not fetch would fail on import there."""
    fetched = colab_setup.course_files("exercises/checks/x.py")
    assert set(COURSE_FILES) <= set(fetched)
    for name in COURSE_FILES:
        assert colab_setup.MARKERS[name] in (REPO_ROOT / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("document", [REPO_ROOT / "README.md", *all_masters()], ids=lambda p: p.name)
def test_colab_badges_point_at_notebooks_that_exist(document):
    badges = re.findall(r"colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/main/([^)\s]+)", document.read_text())
    if document.name == "README.md":
        assert len(badges) >= 5, "README lists no notebooks"
    for repo, path in badges:
        assert repo == colab_setup.COURSE_REPO
        assert (REPO_ROOT / path).is_file(), f"{document.name} badge points at missing {path}"


# ---------------------------------------------------------------- drift detection itself
def write_pair(folder: Path, py_text: str) -> Path:
    master = folder / "lesson.py"
    master.write_text(py_text)
    check_notebooks.sync(master)
    return master


def test_drift_is_detected_in_source_type_and_count(tmp_path):
    master = write_pair(tmp_path, HEADER + "# %% [markdown]\n# Hello\n\n# %%\nx = 1\n")
    assert check_notebooks.drift(master) is None
    master.write_text(HEADER + "# %% [markdown]\n# Hello\n\n# %%\nx = 2\n")
    assert "cell 1 differs" in check_notebooks.drift(master)
    master.write_text(HEADER + "# %% [markdown]\n# Hello\n")
    assert "has 2 cells" in check_notebooks.drift(master)
    master.with_suffix(".ipynb").unlink()
    assert "missing" in check_notebooks.drift(master)


def test_drift_sees_tags(tmp_path):
    master = write_pair(tmp_path, HEADER + "# %%\nx = 1\n")
    master.write_text(HEADER + '# %% tags=["raises-exception"]\nx = 1\n')
    assert check_notebooks.drift(master) is not None


# ---------------------------------------------------------------- exercise generator
def master_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "demo_solutions.py"
    path.write_text(HEADER + body)
    return path


def test_committed_exercises_match_the_generator():
    assert make_exercises.main(["--check"]) == 0


def test_every_master_has_a_generated_exercise():
    for master in make_exercises.masters():
        assert make_exercises.exercise_path(master).is_file(), f"{master.name} has no generated exercise"


def test_exercise_path_naming():
    assert make_exercises.exercise_path(Path("solutions/02_x_solutions.py")).name == "02_x_exercises.py"
    assert make_exercises.exercise_path(Path("solutions/assignment_06.py")).name == "assignment_06.py"


def test_solution_regions_become_placeholders_with_indentation(tmp_path):
    master = master_file(
        tmp_path,
        "# %% [markdown]\n# Exercise 1\n\n"
        "# %%\nimport torch\n\n"
        "# %%\ndef f(x):\n    # BEGIN SOLUTION\n    return x * 2\n    # END SOLUTION\n\n"
        "# %%\nprint(f(2))\n\n"
        "# %% [markdown]\n# Why?\n# <!-- BEGIN SOLUTION -->\n# Because.\n# <!-- END SOLUTION -->\n",
    )
    cells = make_exercises.exercise_notebook(master).cells
    assert cells[2].source == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError"
    assert "Because" not in cells[4].source and "*Your answer here.*" in cells[4].source
    # cells before the first exercise stay untagged; from it on, code cells may raise
    assert "tags" not in cells[1].metadata
    assert cells[2].metadata["tags"] == ["raises-exception"]
    assert cells[3].metadata["tags"] == ["raises-exception"]
    assert cells[0].source == "Exercise 1"


def test_solution_only_cells_are_dropped(tmp_path):
    master = master_file(tmp_path, '# %%\nx = 1\n\n# %% tags=["solution-only"]\nsecret = 42\n')
    sources = [cell.source for cell in make_exercises.exercise_notebook(master).cells]
    assert sources == ["x = 1"]


def test_generated_exercise_runs_headless(tmp_path):
    from nbclient import NotebookClient

    master = master_file(
        tmp_path, "# %%\nx = 1\n\n# %%\n# BEGIN SOLUTION\ny = x + 1\n# END SOLUTION\n\n# %%\nprint(y)\n"
    )
    notebook = make_exercises.exercise_notebook(master)
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    errors = [o.ename for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == ["NotImplementedError", "NameError"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("# %%\nx = 1\n\n# %%\n# BEGIN SOLUTION\ny = 2\n", r"demo_solutions\.py:12: BEGIN SOLUTION is never closed"),
        (
            "# %%\n# BEGIN SOLUTION\n# BEGIN SOLUTION\ny = 2\n# END SOLUTION\n",
            r"demo_solutions\.py:10: nested BEGIN SOLUTION \(the one at line 9",
        ),
        ("# %%\ny = 2\n# END SOLUTION\n", r"demo_solutions\.py:10: END SOLUTION without a BEGIN"),
        (
            "# %% [markdown]\n# <!-- BEGIN SOLUTION -->\n# text\n",
            r"demo_solutions\.py:9: BEGIN SOLUTION is never closed",
        ),
    ],
)
def test_malformed_markers_name_file_and_line(tmp_path, body, message):
    master = master_file(tmp_path, body)
    with pytest.raises(MarkerError, match=message):
        make_exercises.exercise_notebook(master)


def test_cli_reports_malformed_markers_with_exit_2(tmp_path, capsys):
    master = master_file(tmp_path, "# %%\n# BEGIN SOLUTION\n")
    assert make_exercises.main(["--check", str(master)]) == 2
    assert "demo_solutions.py:9" in capsys.readouterr().err


# ---------------------------------------------------------------- seeds before models, in every master
MODEL_BUILD = re.compile(r"^\s*(\w+) = (?:[A-Z]\w*Model\w*|nn\.Sequential)\(", re.MULTILINE)
MODEL_MASTERS = [m for m in all_masters() if m.parent.name in ("notebooks", "solutions")]


@pytest.mark.parametrize("master", MODEL_MASTERS, ids=lambda p: p.name)
def test_seeds_are_set_right_before_every_model_is_built(master):
    from conftest import code_cells

    built = []
    for source in code_cells(master):
        for match in MODEL_BUILD.finditer(source):
            built.append(match.group(1))
            before = source[: match.start()]
            assert "set_seeds(" in before, f"{match.group(1)} is built without set_seeds() before it in its cell"
    assert built, f"no model construction found in {master.name}"


# ---------------------------------------------------------------- one home for each fact
def test_every_source_defect_cited_is_listed_once_in_the_defects_document():
    document = (REPO_ROOT / "docs" / "source-defects.md").read_text()
    listed = re.findall(r'<a id="([a-z0-9-]+)"></a>`\1`', document)
    assert len(listed) == len(set(listed)) == 17
    sources = [
        path
        for folder in ("helper_functions.py", "tests", "bench", "grading", "tools")
        for path in ([REPO_ROOT / folder] if folder.endswith(".py") else (REPO_ROOT / folder).rglob("*.py"))
    ]
    cited = {name for path in sources for name in re.findall(r"source defect ([a-z0-9-]+)", path.read_text())}
    assert cited and cited <= set(listed), f"cited but not listed: {sorted(cited - set(listed))}"


# ---------------------------------------------------------------- the notebook runner and the coverage floors
def test_run_notebooks_executes_a_notebook_and_reports_a_failing_one(tmp_path, capsys):
    from tools import run_notebooks

    good, bad = tmp_path / "good.ipynb", tmp_path / "bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]), good)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), bad)
    assert run_notebooks.main([str(good), str(bad), "--out", str(tmp_path / "out")]) == 1
    executed = nbformat.read(tmp_path / "out" / tmp_path.name / "good.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    shown = capsys.readouterr()
    assert "ok " in shown.out and "FAILED" in shown.err and "ZeroDivisionError" in shown.err


def test_coverage_floors_fail_a_part_below_its_floor(tmp_path, monkeypatch, capsys):
    from tools import coverage_floors

    monkeypatch.setattr(coverage_floors, "measured", lambda: {part: 100.0 for part in coverage_floors.FLOORS})
    assert coverage_floors.main() == 0
    low = dict.fromkeys(coverage_floors.FLOORS, 100.0) | {"grading/": 1.0}
    monkeypatch.setattr(coverage_floors, "measured", lambda: low)
    assert coverage_floors.main() == 1
    assert "grading/                 1.0% (floor" in capsys.readouterr().out


def test_the_colab_runtime_is_read_and_refreshed_from_googles_two_files(tmp_path, capsys):
    """tools.colab_runtime: Colab's versions as pip constraints, and a newer copy taken when Colab updates."""
    folder = tmp_path / "colab"
    shutil.copytree(REPO_ROOT / "tools" / "colab", folder)
    assert "torch==2.11.0\n" in colab_runtime.constraints(folder)  # the +cpu wheel, named by its version
    assert not any(line.startswith(colab_runtime.CUDA_STACK) for line in colab_runtime.constraints(folder).split())
    newer = tmp_path / "backend-info"
    newer.mkdir()
    freeze = (folder / "pip-freeze.txt").read_text().replace("mlxtend==0.23.4", "mlxtend==0.25.0")
    (newer / "pip-freeze.txt").write_text(freeze + "torchmetrics==1.9.0\n")
    (newer / "os-info.txt").write_text("Ubuntu 24.04\nPython 3.14.1\n")
    changed = colab_runtime.refresh(str(newer), "abc123", "2027-01-15", folder)
    assert changed == ["mlxtend: 0.23.4 -> 0.25.0", "torchmetrics: absent -> 1.9.0"]
    assert colab_runtime.python_minor(folder) == "3.14" and colab_runtime.source(folder)["commit"] == "abc123"
    (newer / "pip-freeze.txt").write_text("<!DOCTYPE html><html>sign in</html>")
    with pytest.raises(ValueError, match="sent no pip freeze"):
        colab_runtime.refresh(str(newer), "def456", "2027-02-01", folder)
    assert colab_runtime.main([]) == 0 and "Colab's runtime as tested: Python 3.13" in capsys.readouterr().out


def test_one_masters_final_score_is_read_from_what_its_last_check_printed():
    cell = nbformat.v4.new_code_cell("check()")
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "ex1: PASS (1 point)\nscore: 4/4"})]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("check('ex1')"), cell])
    printed = run_master.final_check(notebook)
    assert printed.endswith("score: 4/4") and run_master.full_marks(printed)
    assert not run_master.full_marks("score: 3/4") and not run_master.full_marks("no score")


def test_the_colab_comparison_leaves_out_timings_and_figure_placeholders_and_nothing_else():
    """make test-colab's comparison of printed numbers: a table's time column and where a figure's text shows
    may differ from the course's run; a result that differs is still found, naming its cell."""
    from test_colab_runtime import differences

    def run_of(*outputs: str) -> nbformat.NotebookNode:
        cell = nbformat.v4.new_code_cell("results")
        cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": text}) for text in outputs]
        return nbformat.v4.new_notebook(cells=[cell])

    table = (
        "                model_name      loss    acc  training_time\n"
        "0      FashionMNISTModelV0  0.485497  82.82      {seconds}\n"
        "1      FashionMNISTModelV1  0.676682  {acc}       3.554011"
    )
    figure = "<Figure size 1000x1000 with 9 Axes>"
    course = run_of(table.format(seconds="36.209199", acc="75.03"), figure)
    assert differences("lesson", run_of(figure, table.format(seconds="28.396350", acc="75.03")), course) == []
    found = differences("lesson", run_of(table.format(seconds="28.396350", acc="75.13"), figure), course)
    assert found == [
        "lesson cell 0 (`results`): printed ['0', '0.485497', '82.82', '1', '0.676682', '75.13'], "
        "the course printed ['0', '0.485497', '82.82', '1', '0.676682', '75.03']"
    ]
    # the headline record where the CPU has bf16: its step times in ms differ, its accuracies may not
    record = "train_items: 60000\nfloat32_step_ms: {float32}\nautocast_step_ms: 4.415\nmodel_2_autocast_test_acc: {acc}"
    course = run_of(record.format(float32="5.682", acc="88.52"))
    assert differences("lesson", run_of(record.format(float32="4.472", acc="88.52")), course) == []
    found = differences("lesson", run_of(record.format(float32="4.472", acc="88.62")), course)
    assert found == ["lesson cell 0 (`results`): printed ['60000', '88.62'], the course printed ['60000', '88.52']"]


def test_a_later_target_reads_make_tests_run_only_while_it_is_newer_than_what_the_notebook_depends_on(
    tmp_path, monkeypatch
):
    import os

    import conftest

    relative = "notebooks/lesson.ipynb"
    repo, runs = tmp_path / "repo", tmp_path / "repo" / "build" / "nbtest"
    for path in (repo / relative, repo / "helper_functions.py", repo / "self_check" / "handover.py"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), repo / relative)
    executed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=1)])
    (runs / relative).parent.mkdir(parents=True)
    nbformat.write(executed, runs / relative)
    monkeypatch.setattr(conftest, "REPO_ROOT", repo)
    monkeypatch.setattr(conftest, "NBTEST_DIR", runs)

    def age(path: Path, seconds_ago: float) -> None:
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - seconds_ago))

    for source in (repo / relative, repo / "helper_functions.py", repo / "self_check" / "handover.py"):
        age(source, 100)
    assert conftest.fresh_copy(relative) is not None  # run after every source changed: read it
    for source in (repo / relative, repo / "helper_functions.py", repo / "self_check" / "handover.py"):
        source.touch()
        (runs / relative).touch()
        age(runs / relative, 50)  # the run is older than this source: stale
        assert conftest.fresh_copy(relative) is None, source
        age(source, 100)
        assert conftest.fresh_copy(relative) is not None, source
    (runs / relative).touch()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), runs / relative)
    assert conftest.fresh_copy(relative) is None  # a copy that never ran is no run

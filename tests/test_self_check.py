"""The self-check of the exercise notebooks: the ``self_check`` package and each master's checks, as a notebook
imports them.

A student's notebook holds the student's work: the self-check's code lives in one package
(the ``self_check`` package), each master's checks in one module beside its students' notebook, and the
notebook carries only a folded setup cell, a folded self-check cell and one folded line per check,
within a budget of machinery. A student must be able to finish an exercise from its instructions
alone: every name a check reads is named in the instructions (or made by code the notebook gives),
an untouched exercise notebook fails every check with a hint, and the solutions pass every check.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import REPO_ROOT, executed_notebook

import self_check
from grading.checks import CHECK_CELL, CHECK_TAG, assignment_name, in_students_notebook, load_checks
from self_check import exercise, expect
from tools import run_master
from tools.check_notebooks import notebook_masters
from tools.colab_setup import FOLDED
from tools.make_exercises import exercise_notebook, exercise_path, masters, strip_solutions
from tools.run_notebooks import execute

CHECKED = [master for master in masters() if CHECK_CELL.search(master.read_text(encoding="utf-8"))]
GUIDE = REPO_ROOT / "tests" / "assignments" / "assignment_90_guide.py"
MACHINERY_BUDGET = 100  # lines of code in a students' notebook that its student did not write
GENERATED = ("self-check", "check")  # the tags of generated cells, besides the first code cell, the setup
READS = {"need", "as_array", "_curve", "_expect_tensor"}  # helpers that read ns[name]


def check_outputs(notebook) -> dict[str, str]:
    """``exN`` -> what its ``check("exN")`` cell showed."""
    shown = {}
    for cell in notebook.cells:
        call = re.search(r'^check\("(ex\d+)"\)$', cell.source, re.MULTILINE) if cell.cell_type == "code" else None
        if call:
            shown[call.group(1)] = "".join(
                output.get("data", {}).get("text/plain", "") + output.get("text", "") for output in cell.outputs
            )
    return shown


def _reads_from_ns(node: ast.AST) -> ast.expr | None:
    """The name argument of ``need(ns, name, ...)``-like calls and ``ns.get(name)``, else None."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    if isinstance(node.func, ast.Name) and node.func.id in READS and len(node.args) > 1:
        if isinstance(node.args[0], ast.Name) and node.args[0].id == "ns":
            return node.args[1]
    if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and isinstance(node.func.value, ast.Name):
        return node.args[0] if node.func.value.id == "ns" else None
    return None


def names_read(check_source: str) -> set[str]:
    """The variable names a check function reads from its namespace ``ns``, literally or in a loop."""
    names = set()
    for node in ast.walk(ast.parse(check_source)):
        argument = _reads_from_ns(node)
        if isinstance(argument, ast.Constant):
            names.add(argument.value)
        if isinstance(node, ast.For):  # for name in ("X_train", ...): need(ns, name)
            loop_names = {target.id for target in ast.walk(node.target) if isinstance(target, ast.Name)}
            read_by_name = any(
                isinstance(argument, ast.Name) and argument.id in loop_names
                for argument in map(_reads_from_ns, ast.walk(node))
            )
            if read_by_name:
                names.update(
                    constant.value
                    for constant in ast.walk(node.iter)
                    if isinstance(constant, ast.Constant)
                    and isinstance(constant.value, str)
                    and constant.value.isidentifier()
                )
    return names


def generated_cells(notebook, students: bool = True) -> list:
    """The cells the course wrote into a notebook: the setup cell, the self-check cell, and a students' check line."""
    generated = set(GENERATED if students else GENERATED[:1])
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [cell for cell in code if cell is code[0] or set(cell.metadata.get("tags", [])) & generated]


def test_the_self_checks_code_lives_in_one_package_that_no_notebook_copies():
    copies = [
        path.relative_to(REPO_ROOT)
        for folder in ("notebooks", "exercises", "solutions", "tests")
        for path in (REPO_ROOT / folder).rglob("*")
        if path.suffix in (".py", ".ipynb")
        and path != Path(__file__)
        and "class _Rebuilder:" in path.read_text(encoding="utf-8")
    ]
    assert not copies, f"the self-check's code is copied into {copies}"
    assert "class _Rebuilder:" in (REPO_ROOT / "self_check" / "rebuilder.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("master", CHECKED, ids=lambda path: path.name)
def test_a_students_notebook_carries_at_most_its_budget_of_machinery(master):
    notebook = jupytext.read(exercise_path(master))
    machinery = sum(len(cell.source.splitlines()) for cell in generated_cells(notebook))
    assert machinery <= MACHINERY_BUDGET, f"{machinery} lines of machinery, over the budget of {MACHINERY_BUDGET}"
    assert not any("@exercise" in cell.source or "def check_" in cell.source for cell in notebook.cells)


@pytest.mark.parametrize("path", notebook_masters(with_tests=True), ids=lambda path: path.name)
def test_every_generated_code_cell_is_folded_for_colab_and_jupyterlab(path):
    notebook = nbformat.read(path.with_suffix(".ipynb"), as_version=4)
    for cell in generated_cells(notebook, students=path.parent.name == "exercises"):
        where = f"{path.name}: {cell.source.splitlines()[0][:50]!r}"
        assert cell.source.startswith("# @title "), where  # Colab folds a form under this line
        assert all(cell.metadata.get(key) == value for key, value in FOLDED.items()), where


def what_the_student_reads(cell) -> str:
    """What a master's cell tells its student: the backticked names of its prose, or the code it gives."""
    if not in_students_notebook(cell) or CHECK_TAG in cell.metadata.get("tags", []):
        return ""
    shown, _ = strip_solutions(cell.source, cell.cell_type == "markdown", "master", 1)
    if cell.cell_type == "markdown":
        return " ".join(re.findall(r"`([^`]*)`", shown)) + "\n"
    tags = cell.metadata.get("tags", [])
    return shown + "\n" if not tags or "raises-exception" in tags else ""


@pytest.mark.parametrize("master", CHECKED, ids=lambda path: path.name)
def test_every_name_a_check_reads_is_named_for_the_student_before_it(master):
    told = ""
    for cell in jupytext.read(master).cells:
        if CHECK_TAG in cell.metadata.get("tags", []) and "@exercise" in cell.source:
            unnamed = {name for name in names_read(cell.source) if not re.search(rf"\b{re.escape(name)}\b", told)}
            assert not unnamed, (
                f"{master.name}: {cell.source.splitlines()[1][:40]} reads {sorted(unnamed)}, never named"
            )
        told += what_the_student_reads(cell)


@pytest.mark.slow
@pytest.mark.parametrize("master", CHECKED, ids=lambda path: path.name)
def test_an_untouched_exercise_fails_every_check_with_a_hint_and_the_solution_passes_them(master):
    exercise = exercise_path(master).with_suffix(".ipynb").relative_to(REPO_ROOT)
    solution = master.with_suffix(".ipynb").relative_to(REPO_ROOT)
    failed = check_outputs(executed_notebook(str(exercise)))
    passed = check_outputs(executed_notebook(str(solution)))
    assert failed and failed.keys() == passed.keys()
    for name, shown in failed.items():
        assert shown.startswith(f"{name}: FAIL at ") and "\n     hint: " in shown, shown
    for name, shown in passed.items():
        assert shown.startswith(f"{name}: PASS"), shown


# ---------------------------------------------------------------- one score, one truth
@pytest.mark.slow
@pytest.mark.parametrize("master", [*CHECKED, GUIDE], ids=lambda path: path.name)
def test_a_master_run_top_to_bottom_ends_with_full_marks(master):
    """What make notebooks executed: the master's last check() gives every point, its hidden parts' included."""
    printed = run_master.final_check(executed_notebook(str(master.with_suffix(".ipynb").relative_to(REPO_ROOT))))
    assert run_master.full_marks(printed), printed
    assert "hidden" not in printed.splitlines()[-1]  # a master judges its hidden parts: nothing is left to the grader


@pytest.mark.slow
@pytest.mark.long  # a notebook run per master: make test-long
@pytest.mark.parametrize("master", CHECKED, ids=lambda path: path.name)
def test_a_students_notebook_with_every_answer_right_ends_with_full_visible_marks(master, tmp_path):
    """The students' notebook, answered as the master answers: full marks on the visible parts, the hidden counted."""
    answered = exercise_notebook(master, with_answers=True)
    folder = REPO_ROOT / "build" / "answered" / "exercises"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / exercise_path(master).with_suffix(".ipynb").name
    nbformat.write(answered, path)
    executed, _ = execute(path, tmp_path)
    printed = run_master.final_check(nbformat.read(executed, as_version=4))
    assert run_master.full_marks(printed), printed
    checks = load_checks(assignment_name(master), master.parent)
    hidden = sum(part.points for exercise in checks.exercises for part in exercise.parts if part.hidden)
    if hidden:
        assert f"(and {hidden:g} points of hidden parts, judged when graded)" in printed.splitlines()[-1], printed


def test_a_part_registered_after_its_exercise_was_checked_counts_in_the_score_and_its_maximum():
    """A master's hidden cell comes after check("ex1"): the final check() judges that part now, the rest where it
    stood, and the score and its maximum count the same parts."""
    registry = dict(self_check.EXERCISES)
    self_check.EXERCISES.clear()
    try:
        exercise("ex1", points=0.5, hint="h", reads=("x",), part="visible")(lambda ns: None)
        namespace = {"check": self_check.check, "x": 1}
        exec("first = check('ex1')", namespace)
        exercise("ex1", points=0.5, hint="h", reads=("x",), part="hidden")(lambda ns: None)
        exec("final = check()", namespace)
        assert (namespace["final"].score, namespace["final"].max_score) == (1.0, 1.0)
        exercise("ex1", points=0.5, hint="h", reads=("x",), part="hidden")(lambda ns: expect(False, "x", "no"))
        exec("final = check()", namespace)
        assert (namespace["final"].score, namespace["final"].max_score) == (0.5, 1.0)
    finally:
        self_check.EXERCISES.clear()
        self_check.EXERCISES.update(registry)


def test_a_failed_part_shows_the_same_hint_in_the_notebook_as_in_the_feedback():
    """expect() without a hint: the part's @exercise hint, in check() as in the grader's feedback (hint_for)."""
    registry = dict(self_check.EXERCISES)
    self_check.EXERCISES.clear()
    try:
        exercise("ex1", points=1, hint="the exercise's hint", reads=("x",))(lambda ns: expect(False, "`x`", "wrong"))
        namespace = {"check": self_check.check, "x": 1}
        exec("report = repr(check('ex1'))", namespace)
        assert "hint: the exercise's hint" in namespace["report"], namespace["report"]
        assert self_check.hint_for("", "the part's hint", "the exercise's") == "the part's hint"
    finally:
        self_check.EXERCISES.clear()
        self_check.EXERCISES.update(registry)

"""The self-check that every exercise notebook carries (``tools/self_check.py``, written by ``make sync``).

A student must be able to finish an exercise from its instructions alone: every name a check
reads is named in the instructions (or made by code the notebook gives), an untouched
exercise notebook fails every check with a hint, and the solutions pass every check.
"""

from __future__ import annotations

import ast
import re

import jupytext
import pytest
from conftest import REPO_ROOT, executed_notebook

from tools import self_check
from tools.make_exercises import exercise_notebook, exercise_path, masters

CHECKED = [master for master in masters() if "harness" in master.read_text(encoding="utf-8")]
READS = {"_need", "_array", "_curve", "_expect_tensor"}  # helpers that read ns[name]


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
    """The name argument of ``_need(ns, name, ...)``-like calls and ``ns.get(name)``, else None."""
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
        if isinstance(node, ast.For):  # for name in ("X_train", ...): _need(ns, name)
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


def test_the_harness_cell_is_the_self_check_module_verbatim():
    source = self_check.cell_source()
    ast.parse(source)
    assert source.startswith("# The self-check") and "def check(name=None)" in source
    for master in CHECKED:
        harness = [cell for cell in jupytext.read(master).cells if "harness" in cell.metadata.get("tags", [])]
        assert [cell.source for cell in harness] == [source], master.name


@pytest.mark.parametrize("master", CHECKED, ids=lambda path: path.name)
def test_every_name_a_check_reads_is_named_for_the_student_before_it(master):
    notebook = exercise_notebook(master)  # what the student gets: solutions stripped out
    told = ""
    for cell in notebook.cells:
        if "check" in cell.metadata.get("tags", []) and "@exercise" in cell.source:
            unnamed = {name for name in names_read(cell.source) if not re.search(rf"\b{re.escape(name)}\b", told)}
            assert not unnamed, (
                f"{master.name}: {cell.source.splitlines()[1][:40]} reads {sorted(unnamed)}, never named"
            )
        elif cell.cell_type == "markdown":
            told += " ".join(re.findall(r"`([^`]*)`", cell.source)) + "\n"
        elif not cell.metadata.get("tags") or "raises-exception" in cell.metadata.get("tags", []):
            told += cell.source + "\n"  # code the notebook gives the student


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

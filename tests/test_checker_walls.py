"""The escape that worked before the walls: a forward pass that wrote the student's bytes anywhere now writes nothing.

Exercise 3's cell replaces the hand-over's tracer, so that its model's forward pass writes the
student's bytes through ``numpy.tofile`` and ``handle_torch_function`` to an absolute path, a path
relative to the grader and a ``.pth`` in ``site-packages``. Before the walls it scored 9/9 and wrote
all three; now the replay refuses the steps, nothing is written, and only the exercises that run
that forward pass fail. ``test_wall_configurations.py`` attacks the checker itself, in every
configuration, and each of its layers alone.
"""

from __future__ import annotations

import csv
import site
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTER = REPO_ROOT / "solutions" / "assignment_06_classification.py"

# ---------------------------------------------------------------- the escape that worked before the walls
# The notebook also deletes its folder's copies of the course (its own to delete): its answers must still be
# handed over by the course's code, loaded before its first cell, and keep their points.
DELETE_COURSE_COPIES = """
import os, shutil
shutil.rmtree("self_check")
os.remove("helper_functions.py")
"""
ESCAPE_CELL = """
import self_check.tracing as _tracing, torch.fx as _fx, torch.nn.functional as _F
_honest_trace = _tracing._fx_trace
def _trace(module):  # the honest two-layer model, with a few more steps in its forward pass
    if type(module).__name__ != "CircleModelV0":
        return _honest_trace(module)
    graph = _fx.Graph()
    x = graph.placeholder("x")
    for i, (path, text) in enumerate(@TARGETS@):
        module.register_buffer(f"payload_{i}", torch.tensor(list(text.encode()), dtype=torch.uint8), persistent=False)
        array = graph.call_method("numpy", (graph.get_attr(f"payload_{i}"),))
        write = graph.call_function(getattr, (array, "tofile"))  # a bound method, from an attribute
        graph.call_function(_F.handle_torch_function, (write, (x,), path))  # which calls what it is handed
    graph.output(graph.call_module("layer_2", (graph.call_module("layer_1", (x,)),)))
    return _fx.GraphModule(module, graph)
_tracing._fx_trace = _trace
"""


@pytest.mark.slow
def test_the_forward_pass_that_wrote_the_students_bytes_anywhere_writes_nothing_and_fails_exercise_3(tmp_path):
    """Before the walls, this submission scored 9/9 and wrote into /tmp, the repository and site-packages."""
    token = uuid.uuid4().hex[:8]
    paths = {
        "an absolute path": tmp_path / f"escape-{token}.txt",
        "a path relative to the grader": REPO_ROOT / f"escape-{token}.txt",
        "site-packages": Path(site.getsitepackages()[0]) / f"escape-{token}.pth",
    }
    relative = {**paths, "a path relative to the grader": Path(f"escape-{token}.txt")}
    targets = [[str(path), "# written by the checker\n"] for path in relative.values()]
    notebook = nbformat.read(REPO_ROOT / "solutions" / "assignment_06_classification.ipynb", as_version=4)
    (cell,) = [c for c in notebook.cells if "model_0 = CircleModelV0().to(device)" in c.source]
    cell.source = cell.source.replace(
        "model_0 = CircleModelV0().to(device)",
        "model_0 = CircleModelV0().to(device)\n" + ESCAPE_CELL.replace("@TARGETS@", repr(targets)),
    )
    # right after the self-check's import, before any check() has handed anything over
    setup = next(i for i, c in enumerate(notebook.cells) if "self-check" in c.metadata.get("tags", []))
    notebook.cells.insert(setup + 1, nbformat.v4.new_code_cell(DELETE_COURSE_COPIES))
    nbformat.write(notebook, tmp_path / "escape.ipynb")
    command = [sys.executable, "-m", "grading", "grade", "assignment_06", str(tmp_path / "escape.ipynb")]
    try:
        graded = subprocess.run(
            [*command, "--out", str(tmp_path / "out"), "--jobs", "1"], cwd=REPO_ROOT, capture_output=True, text=True
        )
        written = [name for name, path in paths.items() if path.exists()]
    finally:
        for path in paths.values():
            path.unlink(missing_ok=True)
    assert graded.returncode == 0, graded.stderr[-2000:]
    assert not written, f"the checker wrote the student's bytes to {written}"
    with open(tmp_path / "out" / "grades.csv", newline="") as sheet:
        (row,) = csv.DictReader(sheet)
    # exercises 3 and 5 run model_0's forward pass; every other exercise keeps its point, its files deleted or not
    assert {name for name in (f"ex{n}" for n in range(1, 10)) if row[name] == "0"} == {"ex3", "ex5"}, row
    feedback = (tmp_path / "out" / "feedback" / "escape.ipynb.md").read_text()
    assert "step 2 of CircleModelV0.forward (call_method numpy) calls the method 'numpy'" in feedback
    tampering = feedback.split("## Tampering seen", 1)[-1]
    assert "self_check.tracing._fx_trace" in tampering  # and the instructor is told which cell replaced the tracer

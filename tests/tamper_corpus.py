"""The tamper corpus: Assignment 6 submissions that try to win points without doing the work.

Each case is one cell, put at the top of the exercise notebook in which a student answered
exercises 1 to 3 (``ANSWERED``) and left the rest untouched. The cell attacks what a grader
that ran its checks in the student's kernel would rely on: the functions that write the
verdict, the modules and hooks the checks use, the checks' own functions, the time limits.
``ALLCLOSE`` attacks the solution itself, with exercise 2 split wrongly. The grader must give
each case the points of its answers and nothing more (``test_grading_tamper.py``), and name
the tampering cell in the feedback. The grader is also tried against attacks that are not
here: the design closes the class of attack (no verdict is formed where student code runs).

Run: ``python tests/tamper_corpus.py DIR`` writes the corpus as notebooks into DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tools.measure_class import SOLUTION, partial  # noqa: E402

ANSWERED = {"ex1", "ex2", "ex3"}
EXERCISES = {f"ex{n}" for n in range(1, 10)}

CASES = {
    # the five that won points when the checks ran in the kernel
    "json_dumps": """\
import json
_dumps = json.dumps
def dumps(obj, *args, **kwargs):
    if isinstance(obj, dict) and "passed" in obj:
        obj = {**obj, "passed": True}
    return _dumps(obj, *args, **kwargs)
json.dumps = dumps""",
    "json_module": """\
import json, sys, types
fake = types.ModuleType("json")
fake.__dict__.update(json.__dict__)
def dumps(obj, *args, **kwargs):
    if isinstance(obj, dict) and "passed" in obj:
        obj = {**obj, "passed": True}
    return json.__dict__["dumps"](obj, *args, **kwargs)
fake.dumps = dumps
sys.modules["json"] = fake""",
    "print": """\
import builtins
_print = builtins.print
def print(*args, **kwargs):
    _print(*(str(a).replace('"passed": false', '"passed": true') for a in args), **kwargs)
builtins.print = print""",
    "setprofile": """\
import sys
def make_pass(frame, event, arg):
    if event == "return" and isinstance(arg, dict) and "passed" in arg:
        arg["passed"] = True
sys.setprofile(make_pass)""",
    # the two that held: the output stream and the traceback display
    "stdout_write": """\
import sys as system
sys = system
_write = sys.stdout.write
sys.stdout.write = lambda text: _write(text.replace('"passed": false', '"passed": true'))""",
    "showtraceback": """\
ip = get_ipython()
ip.showtraceback = lambda *args, **kwargs: None""",
    # objects that agree with everything a comparison asks
    "agreeable_objects": """\
import numpy as np, torch
class Agreeable(torch.Tensor):
    def __eq__(self, other): return True
    def __bool__(self): return True
class ArrayLike:
    def __array__(self, dtype=None, copy=None): return np.zeros((2000, 2))
    def __eq__(self, other): return True
    def __bool__(self): return True
    def __len__(self): return 2000
model_1 = optimizer_1 = boundary_fig = ArrayLike()
loss_curve = acc_curve = torch.zeros(10).as_subclass(Agreeable)
model_2 = blob_results = ArrayLike()""",
    # the grader's own functions, found by walking the garbage collector's objects, for as long as the kernel runs
    "gc_rebind": """\
import gc, threading, time
def passing(*args, **kwargs):
    return {"passed": True, "part": "", "message": "passed", "hint": "", "read": []}
def rebind():
    while True:
        for obj in gc.get_objects():
            if callable(obj) and getattr(obj, "__name__", "") in ("run_check", "judge", "expect", "need"):
                try:
                    obj.__code__ = passing.__code__
                except (AttributeError, TypeError, ValueError):
                    pass
        time.sleep(2)
threading.Thread(target=rebind, daemon=True).start()""",
    # a write into the interpreter that no Python assignment shows: isinstance answers yes to everything
    "ctypes_write": """\
import builtins, ctypes, torch
_print = builtins.print
def forging_print(*args, **kwargs):
    _print(*(str(a).replace('"passed": false', '"passed": true') for a in args), **kwargs)
set_item = ctypes.pythonapi.PyDict_SetItem
set_item.argtypes = [ctypes.py_object, ctypes.py_object, ctypes.py_object]
set_item(builtins.__dict__, "print", forging_print)
set_item(torch.__dict__, "allclose", lambda *args, **kwargs: True)""",
    # the time limits of a check
    "signals": """\
import signal
signal.signal = lambda *args, **kwargs: None
signal.setitimer = lambda *args, **kwargs: (0.0, 0.0)
signal.alarm = lambda *args: 0""",
    # the libraries a grader reads notebooks and writes results with
    "nbformat_jupytext": """\
import nbformat, jupytext
nbformat.read = lambda *args, **kwargs: nbformat.v4.new_notebook()
nbformat.validate = lambda *args, **kwargs: None
jupytext.read = lambda *args, **kwargs: nbformat.v4.new_notebook()""",
    # a thread that keeps rewriting what the hand-over reads, and forges its output
    "rewriting_thread": """\
import threading, time, torch
from IPython.display import publish_display_data
def rewrite():
    while True:
        for name in ("model_1", "optimizer_1", "loss_curve", "blob_results", "__course_handed_over__"):
            globals()[name] = torch.zeros(3)
        for n in range(1, 10):
            publish_display_data({"application/vnd.course-handover+json": {"exercise": f"ex{n}", "data": "AAAA"}})
        time.sleep(0.5)
threading.Thread(target=rewrite, daemon=True).start()""",
}

# the attack of the fifth row: the solution, with exercise 2's split wrong, and the comparisons patched
ALLCLOSE = """\
import numpy as np, torch
torch.allclose = lambda *args, **kwargs: True
np.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True"""


def with_cell_on_top(notebook: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """``notebook`` with ``source`` as a new code cell before its first code cell (the setup cell stays first)."""
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell(source))
    return notebook


def allclose_case() -> nbformat.NotebookNode:
    solution = nbformat.read(SOLUTION, as_version=4)
    for cell in solution.cells:
        if "test_size=TEST_SIZE,\n    random_state=RANDOM_SEED," in cell.source:
            cell.source = cell.source.replace("random_state=RANDOM_SEED,", "random_state=0,")
    return with_cell_on_top(solution, ALLCLOSE)


def corpus() -> dict[str, tuple[nbformat.NotebookNode, set[str]]]:
    """name -> (the submission, the exercises it answered: all it may pass)."""
    cases = {name: (with_cell_on_top(partial(ANSWERED), source), ANSWERED) for name, source in CASES.items()}
    # the wrong split also moves exercise 5's recorded test accuracy off the true test split's
    cases["allclose"] = (allclose_case(), EXERCISES - {"ex2", "ex5"})
    return cases


# The test grades the cases in five notebooks, each case a cell of its own, so that the corpus costs five
# gradings rather than thirteen; ``write`` gives each case a notebook of its own.
GROUPS = {
    "verdict_writers": [
        "json_dumps",
        "print",
        "stdout_write",
        "showtraceback",
        "signals",
        "ctypes_write",
    ],
    # alone: a profile hook runs on every call and return, and slows whatever runs beside it many times over
    "profile_hook": ["setprofile"],
    "replaced_objects": ["json_module", "agreeable_objects", "nbformat_jupytext"],
    "threads": ["gc_rebind", "rewriting_thread"],
}
SABOTAGE = {"threads"}  # these also spoil the notebook's own answers: they may pass fewer than they answered
# cases the tamper probe does not name: agreeable objects replace nothing, and IPython wraps sys.stdout.write
# anew around every cell, over whatever a cell put there
UNNAMED = {"agreeable_objects", "stdout_write"}


def grouped() -> dict[str, tuple[nbformat.NotebookNode, set[str]]]:
    """The corpus as the test grades it: each group's cases as cells of one notebook, and the allclose case."""
    cases = {}
    for group, names in GROUPS.items():
        notebook = partial(ANSWERED)
        for name in reversed(names):
            notebook = with_cell_on_top(notebook, CASES[name])
        cases[group] = (notebook, ANSWERED)
    cases["allclose"] = corpus()["allclose"]
    return cases


def write(folder: Path) -> dict[str, set[str]]:
    """Write the corpus into ``folder``; return each notebook's name and the exercises it answered."""
    folder.mkdir(parents=True, exist_ok=True)
    answered = {}
    for name, (notebook, solved) in corpus().items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
        answered[f"{name}.ipynb"] = solved
    return answered


if __name__ == "__main__":
    for name in write(Path(sys.argv[1])):
        print(name)

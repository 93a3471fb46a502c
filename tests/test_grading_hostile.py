"""The grader on a class of 19 submissions, most of them hostile, graded in one call with ``--jobs 2``.

Each hostile submission is the solution notebook with cells replaced or added, so the
points it should get are known: everything except the exercises its damage reaches.
One grader run serves every test here (a module-scoped fixture); the Gradescope bundle
gets a run of its own.
"""

from __future__ import annotations

import collections
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from browser_harness import chromium, screenshot

from grading.cgroups import available
from grading.sandbox import bwrap_works
from tools.time_report import AUTOGRADER_RUN, SLOWEST_GRADED

pytestmark = [pytest.mark.slow, pytest.mark.long]  # make test-long

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTION = REPO_ROOT / "solutions" / "assignment_06_classification.ipynb"
EXERCISE = REPO_ROOT / "exercises" / "assignment_06_classification.ipynb"
EXERCISES = [f"ex{n}" for n in range(1, 10)]
# seconds a cell may run on the reference machine, where the solution's slowest cell takes about 12 s
# with --jobs 2; multiplied by how much slower this machine is (the `slowness` fixture)
CELL_TIMEOUT = 30
CGROUPS = available()[0] is not None
HANG_ON_PURPOSE = ("loop_forever.ipynb", "ignore_interrupts.ipynb")  # they run into the cell time limit

# A unique line of each exercise's solution cell, to find the cell in the notebook.
ANCHORS = {
    "ex1": "last_five_X = X[-5:]",
    "ex2": "torch.from_numpy(X).float(),  # [2000, 2]",
    "ex3": "model_0 = CircleModelV0()",
    "ex5": "loss_curve, acc_curve = [], []",
    "ex6": "model_1 = CircleModelV1()",
    "ex7": "optimizer_1 = torch.optim.Adam(",
    "ex8": "plot_decision_boundary(model_1, X_train, y_train)",
    "ex9": "class BlobModel(nn.Module):",
}


# ---------------------------------------------------------------- building submissions
def solution() -> nbformat.NotebookNode:
    return nbformat.read(SOLUTION, as_version=4)


def cell_index(notebook: nbformat.NotebookNode, exercise: str) -> int:
    (index,) = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and ANCHORS[exercise] in c.source]
    return index


def prepend(notebook: nbformat.NotebookNode, exercise: str, code: str) -> nbformat.NotebookNode:
    """Run ``code`` at the top of ``exercise``'s solution cell."""
    cell = notebook.cells[cell_index(notebook, exercise)]
    cell.source = code + "\n" + cell.source
    return notebook


def insert_after(notebook: nbformat.NotebookNode, exercise: str, code: str) -> nbformat.NotebookNode:
    """Add a new code cell right after ``exercise``'s solution cell."""
    notebook.cells.insert(cell_index(notebook, exercise) + 1, nbformat.v4.new_code_cell(code))
    return notebook


def replace(notebook: nbformat.NotebookNode, exercise: str, old: str, new: str) -> nbformat.NotebookNode:
    cell = notebook.cells[cell_index(notebook, exercise)]
    assert old in cell.source, f"{old!r} not in the {exercise} cell"
    cell.source = cell.source.replace(old, new)
    return notebook


def loop_forever() -> nbformat.NotebookNode:
    return prepend(solution(), "ex7", "while True:\n    pass")


def ignore_interrupts() -> nbformat.NotebookNode:
    code = "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n    except KeyboardInterrupt:\n        pass"
    return prepend(solution(), "ex8", code)


def kill_kernel() -> nbformat.NotebookNode:
    return prepend(solution(), "ex5", "import os\nos._exit(1)")


def exit_python() -> nbformat.NotebookNode:
    notebook = insert_after(solution(), "ex3", "import sys\nsys.exit(0)")
    return prepend(notebook, "ex9", "raise SystemExit('no blobs today')")


def raise_everywhere() -> nbformat.NotebookNode:
    notebook = solution()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = "raise RuntimeError('every cell fails')\n" + cell.source
    return notebook


def touch_files(notebook: nbformat.NotebookNode, instructor_dir: Path, out_dir: Path, tmp_root: Path):
    targets = [
        "../escape.txt",
        "../../escape.txt",
        str(instructor_dir / "escape.txt"),
        str(instructor_dir / "decoy.txt"),
        str(out_dir / "grades.csv"),
        str(tmp_root / "sentinel.txt"),
        str(REPO_ROOT / "build" / "escaped-from-a-submission.txt"),
    ]
    code = f"""\
import os, pathlib, shutil
pathlib.Path("junk.txt").write_text("mine")          # its own folder: allowed
os.remove("helper_functions.py")                      # already imported; deleting its copy is allowed
for target in {targets!r}:
    try:
        pathlib.Path(target).write_text("overwritten by a submission")
    except OSError as error:
        print("write refused:", target, error)
for target in ["..", "../..", {str(instructor_dir)!r}, {str(tmp_root)!r}]:
    shutil.rmtree(target, ignore_errors=True)
"""
    return insert_after(notebook, "ex1", code)


def open_network(notebook: nbformat.NotebookNode, port: int) -> nbformat.NotebookNode:
    code = f"""\
import socket
for address in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
    try:
        socket.create_connection(address, timeout=3).sendall(b"leak")
        print("connected to", address)
    except OSError as error:
        print("no connection to", address, error)
"""
    return insert_after(notebook, "ex2", code)


def redefine_checks() -> nbformat.NotebookNode:
    # ex7 no longer trains model_1, and the notebook then tries every way to pass anyway
    notebook = replace(solution(), "ex7", "for epoch in range(1, EPOCHS + 1):", "for epoch in range(0):")
    cheat = """\
import helper_functions, json, os, pathlib
def check(name=None):
    print("ex1..ex9: PASS")
def run_check(name, namespace):
    return True, "passed"
def exercise(name, points, hint):
    return lambda fn: fn
EXERCISES = {f"ex{n}": {"points": 1, "hint": "", "check": lambda ns: None} for n in range(1, 10)}
check_ex7 = lambda ns: None
model_accuracy = lambda *args: 100.0
accuracy_fn = helper_functions.accuracy_fn = lambda *args: 100.0
for n in range(1, 10):
    print(json.dumps({"name": f"ex{n}", "passed": True, "message": "passed"}))
pathlib.Path("results.json").write_text(json.dumps({"score": 9}))
forged = {"results": {f"ex{n}": {"passed": True, "message": "passed"} for n in range(1, 10)}}
for fd in (1, 2):  # the grading worker's own output, through /proc
    try:
        with open(f"/proc/{os.getppid()}/fd/{fd}", "w") as stream:
            stream.write("GRADING-RESULT " + json.dumps(forged) + "\\nGRADING-RESULT {")
    except OSError as error:
        print("refused:", error)
"""
    notebook.cells.append(nbformat.v4.new_code_cell(cheat))
    return notebook


def steal_solution(instructor_dir: Path) -> nbformat.NotebookNode:
    """The untouched exercise, plus a cell that runs the master's or a classmate's code if it can read them."""
    candidates = [str(SOLUTION), str(instructor_dir / "solution.ipynb")]
    code = f"""\
import json, pathlib
for candidate in {candidates!r}:
    try:
        stolen = json.loads(pathlib.Path(candidate).read_text())
    except OSError as error:
        print("cannot read", candidate, error)
        continue
    for cell in stolen["cells"]:
        if cell["cell_type"] == "code":
            try:
                exec("".join(cell["source"]), globals())
            except Exception:
                pass
    break
"""
    notebook = nbformat.read(EXERCISE, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    return notebook


def hog_memory() -> nbformat.NotebookNode:
    notebook = insert_after(solution(), "ex1", "too_big = bytearray(64 * 2**30)")
    return prepend(notebook, "ex9", "hoard = [bytearray(2**28) for _ in range(200)]")


def fork_until_refused() -> nbformat.NotebookNode:
    """A cell that forks until the system refuses, and leaves its children running a while."""
    code = """\
import os, time
children = []
try:
    while True:
        pid = os.fork()
        if pid == 0:
            time.sleep(5)
            os._exit(0)
        children.append(pid)
except OSError as error:
    print(f"fork refused after {len(children)} children: {error}")
"""
    return insert_after(solution(), "ex1", code)


def twenty_hogs() -> nbformat.NotebookNode:
    """A cell that starts 20 processes of 500 MB each: 10 GB in all, every process within its own limit."""
    code = """\
import subprocess, sys
hog = "import time; memory = bytearray(500 * 2**20); time.sleep(3)"
hogs = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(20)]
print("exit codes:", [process.wait() for process in hogs])
"""
    return insert_after(solution(), "ex2", code)


def print_warnings(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    code = """\
import logging, sys, warnings
warnings.warn("this is only a warning")
print("a line on stderr", file=sys.stderr)
logging.warning("a logged warning")
"""
    notebook = insert_after(notebook, "ex1", code)
    return insert_after(notebook, "ex6", "import warnings\nwarnings.warn('another', DeprecationWarning, stacklevel=1)")


def misbehave_quietly(instructor_dir: Path, out_dir: Path, tmp_root: Path, port: int) -> nbformat.NotebookNode:
    """The solution, plus cells that write outside its folder, open connections and warn: none may cost a point."""
    notebook = print_warnings(solution())
    if not bwrap_works():  # without bubblewrap nothing stops the writes and the connections
        return notebook
    return open_network(touch_files(notebook, instructor_dir, out_dir, tmp_root), port)


def crash(exercise: str) -> nbformat.NotebookNode:
    return prepend(solution(), exercise, f"raise ValueError('{exercise} went wrong')")


# ---------------------------------------------------------------- expectations
# name -> (exercises it must fail, status)
EXPECTED = {
    "solution.ipynb": (set(), "ok"),
    "solution_as_percent.py": (set(), "ok"),
    "untouched_exercise.ipynb": (set(EXERCISES), "ok"),
    "loop_forever.ipynb": ({"ex7"}, "timeout"),
    "ignore_interrupts.ipynb": ({"ex8"}, "timeout"),
    "kill_kernel.ipynb": ({"ex5"}, "kernel_died"),
    "exit_python.ipynb": ({"ex9"}, "ok"),
    "raise_everywhere.ipynb": (set(EXERCISES), "ok"),
    "misbehave_quietly.ipynb": (set(), "ok"),
    "steal_solution.ipynb": (set(EXERCISES), "ok"),
    "redefine_checks.ipynb": ({"ex7"}, "ok"),
    "hog_memory.ipynb": ({"ex9"}, "ok"),
    # contained by the control group (or, without one, replaced by the solution): nothing is lost but that cell
    "fork_until_refused.ipynb": (set(), {"ok", "kernel_died"}),
    "twenty_hogs.ipynb": (set(), {"ok", "kernel_died"}),
    "not_a_notebook.ipynb": (set(EXERCISES), "not_a_notebook"),
    "empty.ipynb": (set(EXERCISES), "not_a_notebook"),
    "plain_script.py": (set(EXERCISES), "not_a_notebook"),
    "folder/crash_ex5.ipynb": ({"ex5"}, "ok"),
    "folder/crash_ex6.ipynb": ({"ex6", "ex7", "ex8"}, "ok"),
}


class Listener:
    """A TCP server on 127.0.0.1 that records whether anything connected to it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory, time_report, slowness):
    """Grade every submission in one call; return the grade rows by name and what the test needs to check."""
    root = tmp_path_factory.mktemp("class")
    instructor, out, tmp_root = root / "submissions", root / "out", root / "tmp"
    (instructor / "folder").mkdir(parents=True)
    tmp_root.mkdir()
    (instructor / "decoy.txt").write_text("the instructor's file")
    (tmp_root / "sentinel.txt").write_text("outside every submission's folder")
    listener = Listener()
    notebooks = {
        "solution.ipynb": solution(),
        "untouched_exercise.ipynb": nbformat.read(EXERCISE, as_version=4),
        "loop_forever.ipynb": loop_forever(),
        "ignore_interrupts.ipynb": ignore_interrupts(),
        "kill_kernel.ipynb": kill_kernel(),
        "exit_python.ipynb": exit_python(),
        "raise_everywhere.ipynb": raise_everywhere(),
        "misbehave_quietly.ipynb": misbehave_quietly(instructor, out, tmp_root, listener.port),
        # without bubblewrap nothing stops it, so it is replaced by a harmless notebook
        "steal_solution.ipynb": steal_solution(instructor) if bwrap_works() else nbformat.read(EXERCISE, as_version=4),
        "redefine_checks.ipynb": redefine_checks(),
        "hog_memory.ipynb": hog_memory(),
        # without control groups nothing caps these two, so they are replaced by the solution
        "fork_until_refused.ipynb": fork_until_refused() if CGROUPS else solution(),
        "twenty_hogs.ipynb": twenty_hogs() if CGROUPS else solution(),
        "folder/crash_ex5.ipynb": crash("ex5"),
        "folder/crash_ex6.ipynb": crash("ex6"),
    }
    for name, notebook in notebooks.items():
        nbformat.write(notebook, instructor / name)
    shutil.copy(REPO_ROOT / "solutions" / "assignment_06_classification.py", instructor / "solution_as_percent.py")
    (instructor / "not_a_notebook.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (instructor / "empty.ipynb").write_bytes(b"")
    (instructor / "plain_script.py").write_text("print('hello, grader')\n")
    before = snapshot(instructor)

    files = sorted(path for path in instructor.glob("*") if path.is_file() and path.suffix != ".txt")
    command = [sys.executable, "-m", "grading", "grade", "assignment_06", *map(str, files), str(instructor / "folder")]
    cell_timeout = round(CELL_TIMEOUT * slowness)
    command += ["--out", str(out), "--jobs", "2", "--cell-timeout", str(cell_timeout), "--timeout", "600"]
    command += ["--check-timeout", "20", "--memory", "6G"]
    start = time.monotonic()
    try:
        run = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, env={**os.environ, "TMPDIR": str(tmp_root)}
        )
    finally:
        listener.close()
    seconds = time.monotonic() - start
    with open(out / "grades.csv", newline="") as sheet:
        rows = {str(Path(row["submission"]).relative_to(instructor)): row for row in csv.DictReader(sheet)}
    if (out / "results.json").exists():
        times = [result["extra_data"] for result in json.loads((out / "results.json").read_text())]
        on_time = [t["seconds"] for t in times if Path(t["submission"]).name not in HANG_ON_PURPOSE]
        time_report(SLOWEST_GRADED, max(on_time))
    return {
        "rows": rows,
        "run": run,
        "seconds": seconds,
        "out": out,
        "instructor": instructor,
        "before": before,
        "tmp_root": tmp_root,
        "connections": listener.connections,
    }


# ---------------------------------------------------------------- the class
def test_the_grader_exits_0_and_grades_every_submission(batch):
    assert batch["run"].returncode == 0, batch["run"].stderr[-3000:]
    assert len(batch["rows"]) == len(EXPECTED) >= 19
    assert set(batch["rows"]) == set(EXPECTED)
    print(f"\n{batch['run'].stdout}{len(EXPECTED)} submissions with --jobs 2: {batch['seconds']:.0f} s")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_submission_gets_the_points_it_earned_and_the_right_status(batch, name):
    failed, status = EXPECTED[name]
    row = batch["rows"][name]
    assert row["status"] in ({status} if isinstance(status, str) else status), row
    assert {exercise for exercise in EXERCISES if row[exercise] == "0"} == failed, row
    assert int(row["total"]) == 9 - len(failed) and row["max"] == "9"


def test_no_file_outside_the_submissions_own_folder_changed(batch):
    assert snapshot(batch["instructor"]) == batch["before"]
    assert [p.name for p in batch["tmp_root"].iterdir()] == ["sentinel.txt"]  # grader cleaned up its folders
    assert (batch["tmp_root"] / "sentinel.txt").read_text() == "outside every submission's folder"
    assert not (REPO_ROOT / "build" / "escaped-from-a-submission.txt").exists()
    expected = ["feedback", "grades.csv", "instructor", "report.html", "results", "results.json", "summary.json"]
    assert sorted(p.name for p in batch["out"].iterdir()) == expected


@pytest.mark.skipif(not bwrap_works(), reason="without bubblewrap the grader cannot cut the network")
def test_the_sandbox_cuts_the_network(batch):
    assert batch["connections"] == 0


def test_feedback_says_what_failed_with_a_hint_and_no_solution(batch):
    feedback, instructor = batch["out"] / "feedback", batch["out"] / "instructor"
    markdown = next(feedback.glob("*crash_ex5*.md")).read_text()
    # the student's counts the visible parts; exercises 7, 8 and 9 each keep half a point hidden
    assert "**Score: 6.5/7.5 on the visible parts** (status: `ok`)" in markdown
    assert "**Score: 8/9** (status: `ok`)" in next(instructor.glob("*crash_ex5*.md")).read_text()
    assert "| ex5 | 0/1 | failed |" in markdown and "`loss_curve` is not defined" in markdown
    assert "- ex5, code cell 24 (`raise ValueError('ex5 went wrong')`): ValueError: ex5 went wrong" in markdown
    assert "Hint:" in markdown and "TensorBatches(" not in markdown
    killed = json.loads(next(instructor.glob("*kill_kernel*.json")).read_text())
    assert killed["score"] == 8 and killed["extra_data"]["status"] == "kernel_died"
    assert "Stopped the kernel" in killed["output"] and "code cell" in killed["output"]
    assert {test["name"]: test["status"] for test in killed["tests"]}["ex5"] == "failed"


def test_results_json_holds_one_gradescope_result_per_submission(batch):
    results = json.loads((batch["out"] / "results.json").read_text())
    assert len(results) == len(EXPECTED)
    by_name = {Path(r["extra_data"]["submission"]).name: r for r in results}
    assert by_name["solution.ipynb"]["score"] == 9
    # one test per part: exercises 7, 8 and 9 split their point between a visible part and a hidden one
    assert [t["max_score"] for t in by_name["solution.ipynb"]["tests"]] == [1] * 6 + [0.5] * 6


@pytest.mark.skipif(not CGROUPS, reason="without control groups nothing caps processes or memory together")
def test_the_caps_held_and_the_feedback_says_so(batch):
    feedback = batch["out"] / "instructor"
    forks = next(feedback.glob("*fork_until_refused*.md")).read_text()
    hogs = next(feedback.glob("*twenty_hogs*.md")).read_text()
    assert "Reached the cap of 256 processes at once" in forks and "**Score: 9/9**" in forks
    assert "Reached the cap of 4 GiB of memory for all its processes together" in hogs and "**Score: 9/9**" in hogs
    assert batch["rows"]["solution.ipynb"]["total"] == "9"  # graded beside them, unaffected


def test_the_class_report_matches_the_grade_sheet_and_renders(batch, tmp_path):
    summary = json.loads((batch["out"] / "summary.json").read_text())
    rows = list(batch["rows"].values())
    totals = [float(row["total"]) for row in rows]
    assert summary["complete"] and summary["graded"] == summary["submissions"] == len(rows)
    halves = [score / 2 for score in range(19)]  # 0, 0.5, ..., 9: exercises 7, 8 and 9 have half-point parts
    assert summary["totals"]["histogram"] == {f"{score:g}": totals.count(score) for score in halves}
    for exercise in EXERCISES:
        passed = [row[exercise] == "1" for row in rows]
        assert summary["pass_rate"][exercise] == pytest.approx(sum(passed) / len(rows))
        assert sum(failure["count"] for failure in summary["failures"][exercise]) <= passed.count(False)
    assert summary["statuses"] == dict(collections.Counter(row["status"] for row in rows))
    results = json.loads((batch["out"] / "results.json").read_text())
    assert summary["slowest"][0]["seconds"] == max(result["extra_data"]["seconds"] for result in results)
    untouched = [failure for failure in summary["failures"]["ex1"] if failure["part"] == "`X`"]
    assert (
        untouched
        and untouched[0]["message"] == "`X` is not defined: the exercise cell must create it (did the cell run?)"
    )
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto((batch["out"] / "report.html").as_uri())
        assert page.evaluate("() => [...document.images].map(img => img.complete && img.naturalWidth > 0)") == [
            True,
            True,
        ]
        text = page.inner_text("body")
        assert f"{len(rows)} of {len(rows)} submissions" in text and "Most common failures" in text
        assert "kernel_died" in text and "loop_forever" in text
        screenshot(page, "class_report", full_page=True)


# ---------------------------------------------------------------- Gradescope
def test_the_gradescope_bundle_grades_the_solution_outside_gradescope(tmp_path, time_report):
    bundle = tmp_path / "autograder.zip"
    export = subprocess.run(
        [sys.executable, "-m", "grading", "export-gradescope", "assignment_06", "--out", str(bundle)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert export.returncode == 0, export.stderr
    source, submission, results = tmp_path / "source", tmp_path / "submission", tmp_path / "results"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    assert {"setup.sh", "run_autograder"} <= {path.name for path in source.iterdir()}
    submission.mkdir()
    shutil.copy(SOLUTION, submission / "my_notebook.ipynb")
    env = {
        **os.environ,
        "GRADING_SOURCE_DIR": str(source),
        "GRADING_SUBMISSION_DIR": str(submission),
        "GRADING_RESULTS_DIR": str(results),
        "GRADING_PYTHON": sys.executable,
        "GRADING_SANDBOX": "none",  # Gradescope's containers usually cannot run bubblewrap
    }
    start = time.monotonic()
    run = subprocess.run(["bash", str(source / "run_autograder")], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    time_report(AUTOGRADER_RUN, seconds)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "bubblewrap" not in run.stderr  # the fallback was chosen on purpose: no warning
    result = json.loads((results / "results.json").read_text())
    assert result["score"] == 9 and len(result["tests"]) == 12  # one test per part: 9 exercises, 3 hidden parts


def test_the_solution_notebook_reaches_the_accuracies_its_prose_states(results_of):
    results = results_of("solutions/assignment_06_classification.ipynb")
    assert results["model_0_test_acc"] < 60  # a straight line cannot separate the rings
    assert results["model_1_test_acc"] >= 95 and results["model_2_test_acc"] >= 95

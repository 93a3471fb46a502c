"""An instructor adds an assignment by following grading/README.md, and grades it by name.

``tests/assignments/assignment_90_guide.py`` is the guide's example, written as the guide says:
answers between the markers, checks with their hints and the variables they read, exercise 1 in
two parts of a point each, exercise 2 with a hidden part, the setup and self-check cells written
by ``make sync``. Graded by name with ``--masters``, its solution earns every point, the notebook
students get earns none, and a submission that fits the visible checks earns their points alone.
The hidden part reaches no file a student receives, and shows where the instructor looks.
"""

from __future__ import annotations

import ast
import csv
import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

import self_check
from grading.checks import COURSE_FILES, assignment_name, assignments, load_checks
from grading.gradescope import bundle_files
from self_check import judging, library
from tools.check_notebooks import with_stable_ids
from tools.make_exercises import exercise_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTERS = REPO_ROOT / "tests" / "assignments"
MASTER = MASTERS / "assignment_90_guide.py"


def test_every_master_with_checks_is_gradable_by_name():
    assert set(assignments()) == {"assignment_06", "exercises_02", "exercises_03"}
    assert assignments(MASTERS) == {"assignment_90": MASTER}
    listed = subprocess.run(
        [sys.executable, "-m", "grading", "list", "--masters", str(MASTERS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert listed.stdout.split() == ["assignment_90", str(MASTER)]


@pytest.mark.parametrize("name", ["assignment_06", "exercises_02", "exercises_03"])
def test_the_gradescope_bundle_of_each_set_holds_its_master_and_the_whole_grader(name):
    files = bundle_files(name)
    assert f"solutions/{assignments()[name].name}" in files
    assert {"grading/checker/judge.py", *COURSE_FILES} <= set(files)


def test_each_exercise_declares_what_its_check_reads():
    for name, master in {**assignments(), **assignments(MASTERS)}.items():
        for exercise in load_checks(name, master.parent).exercises:
            assert exercise.reads, f"{name} {exercise.name} declares no reads"


FITS_THE_VISIBLE_CHECKS = {  # the dtype slip costs one part; a ReLU after the last layer passes all but the hidden part
    "squares = torch.arange(10, dtype=torch.float32) ** 2": "squares = torch.arange(10) ** 2",
    "model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))": (
        "model = nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 2), nn.ReLU())"
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The guide's solution, its untouched students' notebook, and a submission that fits the visible checks."""
    root = tmp_path_factory.mktemp("guide")
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    solution = nbformat.read(MASTER.with_suffix(".ipynb"), as_version=4)
    nbformat.write(solution, submissions / "solution.ipynb")
    nbformat.write(with_stable_ids(exercise_notebook(MASTER)), submissions / "untouched.ipynb")
    for cell in solution.cells:
        for honest, fitted in FITS_THE_VISIBLE_CHECKS.items():
            cell.source = cell.source.replace(honest, fitted)
    nbformat.write(solution, submissions / "fits_the_checks.ipynb")
    command = [sys.executable, "-m", "grading", "grade", "assignment_90", str(submissions), "--out", str(out)]
    run = subprocess.run([*command, "--masters", str(MASTERS)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    with open(out / "grades.csv", newline="") as sheet:
        rows = {Path(row["submission"]).stem: row for row in csv.DictReader(sheet)}
    return {"out": out, "rows": rows}


@pytest.mark.slow
def test_the_guides_assignment_is_graded_by_name_part_by_part(graded):
    totals = {name: (row["ex1"], row["ex2"], row["total"], row["max"]) for name, row in graded["rows"].items()}
    assert totals == {
        "solution": ("2", "2", "4", "4"),
        "untouched": ("0", "0", "0", "4"),
        "fits_the_checks": ("1", "1", "2", "4"),  # a part that fails costs its own points only
    }


@pytest.mark.slow
def test_a_hidden_part_is_a_gradescope_test_published_later_and_withheld_from_the_students_feedback(graded):
    out = graded["out"]
    results = {
        Path(result["extra_data"]["submission"]).stem: result
        for result in json.loads((out / "results.json").read_text())
    }
    tests = {test["name"]: test for test in results["fits_the_checks"]["tests"]}
    assert {name: test["visibility"] for name, test in tests.items()} == {
        "ex1: values": "visible",
        "ex1: dtype": "visible",
        "ex2: a ReLU between the layers (hidden)": "after_published",
        "ex2: the output and its layers": "visible",
    }
    assert (tests["ex1: dtype"]["score"], tests["ex1: dtype"]["max_score"]) == (0, 1)
    assert tests["ex2: a ReLU between the layers (hidden)"]["status"] == "failed"
    (for_student,) = [path.read_text() for path in (out / "feedback").glob("*fits_the_checks.ipynb.md")]
    (for_instructor,) = [path.read_text() for path in (out / "instructor").glob("*fits_the_checks.ipynb.md")]
    assert "**Score: 2/3 on the visible parts**" in for_student and "never negative" not in for_student
    assert "- ex2: a ReLU between the layers (hidden): 1 point" in for_student  # named, its result withheld
    assert "**Score: 2/4**" in for_instructor and "`model` is linear, or never negative" in for_instructor
    (student_json,) = [json.loads(path.read_text()) for path in (out / "feedback").glob("*fits_the_checks.ipynb.json")]
    assert all(test["visibility"] == "visible" for test in student_json["tests"]) and student_json["score"] == 2
    report = (out / "report.html").read_text()
    assert re.search(r'href="instructor/[\w_]*fits_the_checks.ipynb.html"', report)


@pytest.mark.slow
def test_the_report_command_publishes_hidden_results_to_the_students_feedback(graded, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    command = [sys.executable, "-m", "grading", "report", str(out), "--masters", str(MASTERS), "--show-hidden"]
    assert subprocess.run(command, cwd=REPO_ROOT, capture_output=True).returncode == 0
    (published,) = [path.read_text() for path in (out / "feedback").glob("*fits_the_checks.ipynb.md")]
    assert "**Score: 2/4**" in published and "`model` is linear, or never negative" in published


def code_lines(source: str, decorators: bool = True) -> set[str]:
    """The stripped lines of code of ``source`` (without its decorators' lines, unless ``decorators``)."""
    lines = source.splitlines()
    left_out = set()
    if not decorators:
        for node in ast.walk(ast.parse(source)):
            for decorator in getattr(node, "decorator_list", []):
                left_out.update(range(decorator.lineno - 1, decorator.end_lineno or decorator.lineno))
    return {line.strip() for number, line in enumerate(lines) if number not in left_out and line.strip()}


def hidden_lines(master: Path) -> list[str]:
    """The code only the master's hidden cells hold: what no student may receive.

    A hidden part's declaration (its exercise, name, points and reads) is what the students'
    module says of it, so the decorators are left out; so are the lines other cells or the
    library share with it (``model = need(...)``).
    """
    cells = jupytext.read(master).cells
    hidden = [cell for cell in cells if "hidden" in cell.metadata.get("tags", [])]
    shared = set().union(*(code_lines(cell.source) for cell in cells if cell not in hidden))
    shared |= set().union(*(code_lines((REPO_ROOT / name).read_text()) for name in COURSE_FILES))
    lines = set().union(*(code_lines(cell.source, decorators=False) for cell in hidden)) - shared
    return sorted(line for line in lines if len(line) > 12 and not line.startswith("#") and not is_text(line))


def is_text(line: str) -> bool:
    """Whether a line is a string alone (a part's name, declared to students too)."""
    try:
        return isinstance(ast.literal_eval(line.rstrip(",")), str)
    except (ValueError, SyntaxError):
        return False


@pytest.mark.parametrize("master", [MASTER, REPO_ROOT / "solutions" / "assignment_06_classification.py"])
def test_no_hidden_code_or_data_reaches_a_file_a_student_receives(master):
    hidden = hidden_lines(master)
    assert len(hidden) >= 4, "the master has hidden checks"
    checks = load_checks(assignment_name(master), master.parent)
    received = {
        "the students' notebook": jupytext.writes(exercise_notebook(master), fmt="py:percent"),
        "the students' module of checks": checks.students_code,
        "what the kernel is sent": checks.visible_code,
        **{name: (REPO_ROOT / name).read_text() for name in COURSE_FILES},
    }
    if master.parent.name == "solutions":  # the committed files its students open or fetch
        notebook = REPO_ROOT / "exercises" / f"{master.stem}.py"
        for path in (notebook, notebook.with_suffix(".ipynb"), REPO_ROOT / checks.students_path):
            received[str(path.relative_to(REPO_ROOT))] = path.read_text()
    leaked = {where: [line for line in hidden if line in text] for where, text in received.items()}
    assert not any(leaked.values()), leaked
    hidden_names = [part.name for exercise in checks.exercises for part in exercise.parts if part.hidden]
    assert all(f'"{name}"' in checks.students_code for name in hidden_names)  # declared by name, so counted


# ---------------------------------------------------------------- the guide: the library it documents, what it says
def reference() -> dict[str, str]:
    """The guide's reference table: each name, and its signature as the guide writes it."""
    readme = (REPO_ROOT / "grading" / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- reference -->", 1)[1].split("<!-- /reference -->", 1)[0]
    rows = re.findall(r"^\| `@?(\w+)(\(.*?\))` \|", table, re.MULTILINE)
    return {name: signature for name, signature in rows}


def test_the_reference_gives_every_public_name_of_the_library_with_its_signature():
    documented = reference()
    public = [*library.__all__, "exercise", "hidden_part", "expect", "check"]
    assert sorted(documented) == sorted(public)
    for name in public:
        assert documented[name] == str(inspect.signature(getattr(self_check, name))).replace("'", '"'), name


def test_the_guide_and_the_masters_use_no_underscore_name_of_the_self_check():
    private = {name for module in (self_check, library, judging) for name in vars(module) if name.startswith("_")}
    readme = (REPO_ROOT / "grading" / "README.md").read_text(encoding="utf-8")
    masters = [path.read_text(encoding="utf-8") for path in [*assignments().values(), MASTER]]
    for text in (readme, *masters):
        used = {name for name in re.findall(r"(?<![\w.])(_\w+)\(", text) if name in private}
        assert not used, used


def headings(master: Path) -> dict[str, str]:
    """``{"Exercise 3": "1"}``: the points an assignment's exercise headings give (an exercise set's give none)."""
    pattern = r"^# #+ (Exercise \d+) \((\d+(?:\.\d+)?) points?\)"
    return dict(re.findall(pattern, master.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.mark.parametrize("master", [m for m in [*assignments().values(), MASTER] if headings(m)], ids=lambda p: p.name)
def test_each_exercise_heading_gives_its_total_points_hidden_parts_included(master):
    checks = load_checks(assignment_name(master), master.parent)
    stated = headings(master)
    assert len(stated) == len(checks.exercises)
    for exercise in checks.exercises:
        assert float(stated[exercise.heading]) == exercise.points, (exercise.name, stated[exercise.heading])


@pytest.mark.slow
@pytest.mark.long  # it executes Assignment 6's master: make test-long
def test_one_master_is_written_run_and_scored_by_one_command():
    before = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    command = [sys.executable, "-m", "tools.run_master", "solutions/assignment_06_classification.py"]
    run = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.stdout.rstrip().splitlines()[-1] == "score: 9/9", run.stdout[-1000:]
    after = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    assert after == before  # it wrote what was committed: nothing changed


def test_an_exercise_whose_parts_are_not_all_named_is_refused_saying_what_to_write(tmp_path):
    """The guide's exercise 2 with its visible part left unnamed: a hidden part makes it an exercise of two."""
    source = MASTER.read_text()
    unnamed = source.replace('    part="the output and its layers",\n', "", 1)
    assert unnamed != source
    (tmp_path / MASTER.name).write_text(unnamed)
    with pytest.raises(ValueError, match=r"found \['', 'a ReLU between the layers'\]: .* part=\"...\"\)"):
        load_checks(assignment_name(MASTER), tmp_path)

"""Grading a class loses nothing: results on disk as they come, and a stopped grader resumed.

A small class of quick notebooks (each a few seconds) is graded in a subprocess, stopped with
SIGTERM or SIGKILL after some results are on disk, and graded again with the same command.
The class report is checked on the hostile class (``test_grading_hostile.py``).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from tools.measure_class import build_class, grade_command, signal_after, stored_results

pytestmark = [pytest.mark.slow, pytest.mark.long]  # make test-long

REPO_ROOT = Path(__file__).resolve().parent.parent
QUICK = "x = 1  # a submission that answers nothing, graded in a few seconds"
CLASS_SIZE, STOP_AFTER = 4, 2  # stopped with results on disk and submissions still running


def write_class(folder: Path, size: int) -> Path:
    folder.mkdir(parents=True)
    for number in range(size):
        cells = [nbformat.v4.new_code_cell(f"{QUICK}\nstudent = {number}")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"student_{number}.ipynb")
    return folder


def processes_using(folder: Path) -> list[str]:
    """Command lines of running processes that mention ``folder`` (a kernel's files live below it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(folder) in command:
                found.append(command)
    return found


def no_partial_files(out: Path) -> bool:
    return not [path for path in out.rglob("*") if path.name.endswith(".partial")]


def rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as sheet:
        return {Path(row["submission"]).stem: row for row in csv.DictReader(sheet)}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_class_keeps_what_finished_and_resumes_where_it_stopped(tmp_path, signum):
    submissions, out, tmp = write_class(tmp_path / "class", CLASS_SIZE), tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    command = grade_command(submissions, out, "--jobs", "2")
    stopped = signal_after(command, out, STOP_AFTER, signum, {**os.environ, "TMPDIR": str(tmp)}, deadline_s=300)
    assert stopped.returncode == (128 + signal.SIGTERM if signum == signal.SIGTERM else -signal.SIGKILL), stopped.stderr
    kept = stored_results(out)
    assert STOP_AFTER <= len(kept) < CLASS_SIZE and no_partial_files(out)
    for path in kept:  # every stored result, and its feedback, is whole
        record = json.loads(path.read_text())
        assert record["status"] == "ok" and not any(result["passed"] for result in record["results"].values())
        assert json.loads((out / "feedback" / path.name).read_text())["score"] == 0
    if signum == signal.SIGTERM:  # a graceful stop writes the sheet and the report of what it has
        assert len(rows(out)) == len(kept) and json.loads((out / "summary.json").read_text())["complete"] is False
    deadline = time.monotonic() + 45  # a killed grader's sandboxes and kernels die with it (in a second or two)
    while processes_using(tmp) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_using(tmp) == []

    start = time.monotonic()
    resumed = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, env={**os.environ, "TMPDIR": str(tmp)}
    )
    assert resumed.returncode == 0, resumed.stderr
    graded_now = CLASS_SIZE - len(kept)
    assert f"{CLASS_SIZE} of {CLASS_SIZE} graded ({len(kept)} reused, {graded_now} graded now)" in resumed.stdout
    assert sorted(rows(out)) == [f"student_{number}" for number in range(CLASS_SIZE)]
    assert [json.loads(path.read_text())["fingerprint"] for path in kept] == [
        json.loads(path.read_text())["fingerprint"] for path in stored_results(out) if path in kept
    ]
    print(f"\nresumed {graded_now} of {CLASS_SIZE} in {time.monotonic() - start:.1f} s")


def test_a_changed_submission_or_setting_is_graded_again_and_force_grades_all(tmp_path):
    submissions, out = tmp_path / "class", tmp_path / "out"
    submissions.mkdir()
    for name in ("a.ipynb", "b.ipynb", "c.ipynb"):  # not notebooks: graded at once, without a kernel
        (submissions / name).write_text("not a notebook")

    def grade(*extra: str) -> str:
        run = subprocess.run(grade_command(submissions, out, *extra), cwd=REPO_ROOT, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip().splitlines()[-1]

    assert "(0 reused, 3 graded now)" in grade()
    assert "(3 reused, 0 graded now)" in grade()
    (submissions / "b.ipynb").write_text("still not a notebook")
    assert "(2 reused, 1 graded now)" in grade()
    assert "(0 reused, 3 graded now)" in grade("--cell-timeout", "60")  # a setting that can change points
    assert "(0 reused, 3 graded now)" in grade("--cell-timeout", "60", "--force")


def test_the_measured_class_mixes_every_kind_of_submission(tmp_path):
    kinds = build_class(tmp_path / "class", 24)
    files = sorted(path.name for path in (tmp_path / "class").iterdir())
    assert len(files) == 24 == sum(kinds.values())
    assert kinds["solution"] >= 1 and kinds["untouched"] >= 1 and kinds["partial"] >= 1
    assert {"hostile_fork_until_refused.ipynb", "student_reuse.ipynb", "not_a_notebook_0.ipynb"} <= set(files)

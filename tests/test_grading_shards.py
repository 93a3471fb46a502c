"""A class split across machines: shards grade disjoint slices into one folder, and `report` joins them.

Three shards started at once into one folder, then ``python -m grading report``, give the grade
sheet that one unsharded run of the same class gives. No file is written by two shards, and a
shard killed outright loses only what it was grading: run again, it finishes its slice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grading.cli import in_shard
from grading.submissions import find_submissions
from tools.measure_class import grade_command, partial, signal_after, stored_results

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARDS = 3


def write_class(folder: Path) -> Path:
    """Six submissions, three of them worth a point: quick to grade, with points to tell them apart."""
    folder.mkdir(parents=True)
    for number in range(3):
        nbformat.write(partial({"ex1"}), folder / f"answered_{number}.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), folder / "quick.ipynb")
    (folder / "empty.ipynb").write_text("")
    (folder / "not_json.ipynb").write_text("{")
    return folder


def test_shards_are_disjoint_cover_the_class_and_do_not_depend_on_the_machine(tmp_path):
    submissions = find_submissions([write_class(tmp_path / "class")])
    slices = [{s.slug for s in submissions if in_shard(s.slug, (k, SHARDS))} for k in range(1, SHARDS + 1)]
    assert sum(map(len, slices)) == len(submissions) == len(set().union(*slices))
    # a stable hash: the same slice for a name on every machine and in every process
    assert (
        in_shard("class__answered_0.ipynb", (1, 3))
        + in_shard("class__answered_0.ipynb", (2, 3))
        + in_shard("class__answered_0.ipynb", (3, 3))
        == 1
    )


@pytest.mark.slow
@pytest.mark.long  # make test-long
def test_three_shards_at_once_give_the_sheet_of_one_run(tmp_path, time_report):
    folder = write_class(tmp_path / "class")
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    start = time.monotonic()
    one_run = subprocess.run(grade_command(folder, whole), cwd=REPO_ROOT, capture_output=True, text=True)
    time_report("grading: a class of 6 in one run (--jobs 1)", time.monotonic() - start)
    assert one_run.returncode == 0, one_run.stderr[-2000:]

    start = time.monotonic()
    shards = [
        subprocess.Popen(
            [*grade_command(folder, sharded), "--shard", f"{k}/{SHARDS}"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(1, SHARDS + 1)
    ]
    outputs = [shard.communicate(timeout=900) for shard in shards]
    time_report("grading: the same class as 3 shards started at once", time.monotonic() - start)
    assert [shard.returncode for shard in shards] == [0] * SHARDS, [err[-2000:] for _, err in outputs]
    assert not (sharded / "grades.csv").exists()  # the shards wrote each submission's files, and nothing shared
    report = subprocess.run(
        [sys.executable, "-m", "grading", "report", str(sharded)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    assert (sharded / "grades.csv").read_text() == (whole / "grades.csv").read_text()
    totals = [line.split(",")[-3] for line in (whole / "grades.csv").read_text().splitlines()[1:]]
    assert sorted(totals) == ["0", "0", "0", "1", "1", "1"]  # points that tell the submissions apart
    assert (sharded / "report.html").is_file() and (sharded / "results.json").is_file()


@pytest.mark.slow
@pytest.mark.long  # make test-long
def test_a_killed_shard_loses_only_what_it_was_grading_and_a_rerun_finishes_its_slice(tmp_path):
    folder = write_class(tmp_path / "class")
    out = tmp_path / "out"
    slice_of_two = next(
        k for k in range(1, SHARDS + 1) if sum(in_shard(s.slug, (k, SHARDS)) for s in find_submissions([folder])) >= 2
    )
    command = [*grade_command(folder, out), "--shard", f"{slice_of_two}/{SHARDS}"]
    killed = signal_after(command, out, 1, signal.SIGKILL, dict(os.environ), deadline_s=300)
    assert killed.returncode == -signal.SIGKILL
    kept = len(stored_results(out))
    rerun = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"({kept} reused," in rerun.stdout and kept >= 1

"""The course as students run it: every notebook in a replica of Colab's own runtime, run as Colab runs it.

``make test-colab`` runs this (``make test`` leaves it out: it installs torch into a fresh root).
The replica is a Debian root whose Python has Colab's minor version (trixie: 3.13), with the
course's packages installed at the versions Colab publishes (``tools/colab/pip-freeze.txt`` as pip
constraints, ``tools.colab_runtime``), built once and cached under ``build/colab/runtime``. Then
``tests/colab_replica.py``, inside it, opens each notebook as a Colab badge does: alone in a fresh
folder, its own setup cell run (whatever it installs is installed, into the kernel's own
environment over Colab's packages, and checked here), no cell tag honoured, so any error stops the
run and fails this test naming the cell. Lessons and solutions run to their end; an exercise
notebook runs up to its first unanswered exercise. Every number each cell prints must be the one
the course's own run printed (same seeds), to float rounding: timings and versions aside. The sizes
and times go to ``build/colab/measurement.json``.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import NBTEST_DIR, REPO_ROOT, fresh_copy
from debian_root import du_mb, in_root
from fake_github import serving_the_repository
from image_roots import COLAB, COLAB_RUNTIME, colab_replica, course_packages

from tools import colab_runtime
from tools.run_notebooks import execute

pytestmark = [pytest.mark.slow, pytest.mark.colab, pytest.mark.unmeasured]

LESSONS = sorted(
    str(p.relative_to(REPO_ROOT)) for folder in ("notebooks", "solutions") for p in (REPO_ROOT / folder).glob("*.ipynb")
)
EXERCISES = sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "exercises").glob("*.ipynb"))
# a number printed beside one of these is a measurement of this machine or a version, not a result
# ("ms" may end a name, as in float32_step_ms, but not a word such as "items")
VOLATILE = re.compile(
    r"second|(?<![a-z])ms\b|\d\s*s\b|\bs\s*\||time|faster|slower|it/s|s/it|torch \d|python \d|version", re.I
)
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)*(?:[eE][-+]?\d+)?")
FIGURE = re.compile(r"<Figure size [\d.]+x[\d.]+ with \d+ Axes>")


def in_runtime(*command: str, timeout: float, binds: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Run ``command`` in the replica, read-only: what a run writes goes to its private /tmp."""
    binds = ("--ro-bind", str(REPO_ROOT), "/course", *binds)
    environment = {"HOME": "/tmp/home", "PIP_FIND_LINKS": ""}
    return in_root(
        *command, timeout=timeout, root=COLAB_RUNTIME, read_only=True, extra_binds=binds, environment=environment
    )


@pytest.fixture(scope="module")
def runtime() -> dict:
    """The replica of Colab's runtime (``image_roots.colab_replica``, built once), checked; what it took."""
    measured: dict = {"colab": colab_runtime.summary(), **colab_replica()}
    version = in_runtime("python3", "--version", timeout=60).stdout.split()[-1]
    assert version.startswith(colab_runtime.python_minor() + "."), f"the replica's Python is {version}"
    frozen = in_runtime("python3", "-m", "pip", "freeze", timeout=120).stdout
    replica = {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1] for line in frozen.split() if "==" in line
    }
    colab, packages = colab_runtime.frozen(), map(str.lower, course_packages())
    differ = {name: (replica.get(name), colab[name]) for name in packages if replica.get(name) != colab[name]}
    assert not differ, f"the replica's versions differ from Colab's: {differ}"
    measured |= {"python": version, "root_mb": round(du_mb(COLAB_RUNTIME))}
    return measured


def course_run(relative: str) -> tuple[nbformat.NotebookNode, float | None]:
    """The course's own run of ``relative``: ``make test``'s executed copy when it is fresh, else executed now."""
    notebook = fresh_copy(relative)
    if notebook is not None:
        times = NBTEST_DIR / "times.json"
        measured = json.loads(times.read_text()).get("measurements", []) if times.exists() else []
        return notebook, next((m["seconds"] for m in measured if m.get("name") == relative), None)
    start = time.monotonic()
    target, _ = execute(REPO_ROOT / relative, NBTEST_DIR)
    return nbformat.read(target, as_version=4), round(time.monotonic() - start, 1)


def first_unanswered(relative: str) -> int:
    """How many cells come before an exercise notebook's first unanswered exercise."""
    notebook = nbformat.read(REPO_ROOT / relative, as_version=4)
    code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    return next(i for i in code if "raise NotImplementedError" in notebook.cells[i].source)


def run_in_replica(entries: list[dict], folder: Path) -> dict[str, dict]:
    """Run ``entries`` (notebook, cells, data) in the replica as Colab would; each one's summary and executed copy."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in entries:  # named after its path: a solution and its exercise may share a file name
        entry["out"] = f"/out/{Path(entry['notebook']).parent.name}-{Path(entry['notebook']).stem}.ipynb"
    with serving_the_repository() as github:
        job = {"notebooks": entries, "github": f"{github}/ok", "summary": "/out/summary.json"}
        (folder / "job.json").write_text(json.dumps(job))
        done = in_runtime(
            "python3",
            "/course/tests/colab_replica.py",
            "/out/job.json",
            timeout=3600,
            binds=("--bind", str(folder), "/out"),
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((folder / "summary.json").read_text())
    return {
        entry["notebook"]: summary[entry["notebook"]]
        | {"executed": nbformat.read(folder / Path(entry["out"]).name, as_version=4)}
        for entry in entries
    }


def entry(relative: str) -> dict:
    notebook = f"/course/{relative}"
    cells = first_unanswered(relative) if relative.startswith("exercises/") else None
    return {"notebook": notebook, "cells": cells, "data": "03_" in relative}


@pytest.fixture(scope="module")
def replica(runtime, tmp_path_factory) -> dict[str, dict]:
    start = time.monotonic()
    ran = run_in_replica([entry(relative) for relative in LESSONS + EXERCISES], tmp_path_factory.mktemp("replica"))
    results = {relative: ran[f"/course/{relative}"] for relative in LESSONS + EXERCISES}
    seconds = {}
    for relative, result in results.items():
        _, course_seconds = course_run(relative)
        seconds[relative] = {"replica": result["seconds"], "course": course_seconds}
    measurement = {**runtime, "replica_run_seconds": round(time.monotonic() - start, 1), "notebooks": seconds}
    COLAB.mkdir(parents=True, exist_ok=True)
    (COLAB / "measurement.json").write_text(json.dumps(measurement, indent=2) + "\n")
    print(json.dumps(measurement, indent=2))
    return results


def printed(cell: nbformat.NotebookNode) -> list[str]:
    """The lines a cell prints for the student: its standard output, and the text of what it displays."""
    lines = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            lines += output.get("text", "").splitlines()
        elif output.get("output_type") in ("execute_result", "display_data"):
            lines += str(output.get("data", {}).get("text/plain", "")).splitlines()
    return lines


def timed_columns(header: str) -> list[tuple[int, int]]:
    """The character spans of a table's columns whose heading measures time (pandas right-aligns their values)."""
    if NUMBER.search(header):
        return []  # a heading holds no numbers: this is a line that says how long something took
    spans, left = [], 0
    for heading in re.finditer(r"\S+", header):
        if VOLATILE.search(heading.group()):
            spans.append((left, heading.end()))
        left = heading.end()
    return spans


def numbers(lines: list[str]) -> list[str]:
    """The numbers of ``lines``, as printed, leaving out the lines that measure time or name a version, a table's
    columns headed so, and a figure's placeholder text (the student sees the image, where the front end puts it)."""
    found: list[str] = []
    timed: list[tuple[int, int]] = []
    for line in lines:
        if not line.strip() or FIGURE.fullmatch(line.strip()):
            timed = []
        elif VOLATILE.search(line):
            timed = timed_columns(line)
        else:
            found += [
                each.group()
                for each in NUMBER.finditer(line)
                if not any(left < each.end() <= right for left, right in timed)
            ]
    return [token for token in found if token.count(".") <= 1]  # 2.14.1 is a version


def same_to_rounding(ours: str, theirs: str) -> bool:
    """Whether two printed numbers differ by at most one unit in their last printed place."""
    decimals = len(theirs.split(".")[1].split("e")[0].split("E")[0]) if "." in theirs else 0
    return abs(float(ours) - float(theirs)) <= 1.01 * 10.0**-decimals + 1e-12 * abs(float(theirs))


def differences(relative: str, replica_run: nbformat.NotebookNode, course: nbformat.NotebookNode) -> list[str]:
    """Each cell whose printed numbers differ from the course's run beyond rounding, named with its first line."""
    found = []
    for index, (ours, theirs) in enumerate(zip(replica_run.cells, course.cells, strict=False)):
        if ours.cell_type != "code":
            continue
        mine, course_numbers = numbers(printed(ours)), numbers(printed(theirs))
        wrong = len(mine) != len(course_numbers) or not all(map(same_to_rounding, mine, course_numbers))
        if wrong:
            first = ours.source.strip().splitlines()[0][:80] if ours.source.strip() else ""
            found.append(
                f"{relative} cell {index} (`{first}`): printed {mine[:12]}, the course printed {course_numbers[:12]}"
            )
    return found


def stopped_at(relative: str, result: dict) -> str:
    """Where a run stopped, naming the cell, or ''."""
    if result["stopped"] is None:
        return ""
    index = result["stopped"]["cell"]
    cells = result["executed"].cells
    first = cells[index].source.strip().splitlines()[0][:80] if index is not None and index < len(cells) else "?"
    return f"{relative} stopped at cell {index} (`{first}`): {result['stopped']['error'][-1500:]}"


@pytest.mark.parametrize("relative", LESSONS + EXERCISES)
def test_each_notebook_runs_in_colabs_runtime_as_colab_runs_it_and_prints_the_courses_numbers(replica, relative):
    result = replica[relative]
    assert result["stopped"] is None, stopped_at(relative, result)
    course, _ = course_run(relative)
    assert differences(relative, result["executed"], course) == []


@pytest.mark.parametrize("relative", LESSONS + EXERCISES)
def test_the_setup_cell_installs_exactly_what_it_says_and_nothing_of_colabs_own(replica, relative):
    result = replica[relative]
    setup = next(cell for cell in result["executed"].cells if cell.source.startswith("# @title Setup"))
    said = "".join(printed(setup))
    claimed = dict(pin.split("==") for pin in re.findall(r"[\w.-]+==[\w.]+", said.split("Using", 1)[0]))
    colab = colab_runtime.frozen()
    assert claimed == {"torchmetrics": "1.9.0"}, said  # what Colab lacks
    assert f"Using this runtime's own mlxtend {colab['mlxtend']} (the course pins 0.25.0)" in said, said
    installed = result["installed"]
    assert all(installed.get(name) == version for name, version in claimed.items()), installed
    beyond = {name for name in installed if name not in claimed}
    assert not beyond & set(colab), f"the setup cell replaced Colab's own {sorted(beyond & set(colab))}"


def test_a_notebook_calling_what_colabs_torch_lacks_fails_naming_the_cell(runtime, tmp_path):
    """The target catches a break: lesson 02 with one more cell, which calls what torch has here and not in Colab."""
    theirs = set(
        json.loads(in_runtime("python3", "-c", "import json, torch; print(json.dumps(dir(torch)))", timeout=300).stdout)
    )
    import torch

    missing = sorted(
        name for name in set(dir(torch)) - theirs if not name.startswith("_") and callable(getattr(torch, name))
    )
    assert missing, "Colab's torch has every public function of the course's: no break to try"
    lesson = nbformat.read(REPO_ROOT / "notebooks" / "02_pytorch_classification.ipynb", as_version=4)
    imports = next(
        i for i, cell in enumerate(lesson.cells) if "import torch" in cell.source and "@title" not in cell.source
    )
    lesson.cells.insert(imports + 1, nbformat.v4.new_code_cell(f"torch.{missing[0]}"))
    broken = REPO_ROOT / "build" / "colab" / "broken" / "02_with_a_newer_api.ipynb"
    broken.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(lesson, broken)
    relative = str(broken.relative_to(REPO_ROOT))
    ran = run_in_replica([{"notebook": f"/course/{relative}", "cells": imports + 2, "data": False}], tmp_path / "out")
    result = ran[f"/course/{relative}"]
    assert result["stopped"] is not None and result["stopped"]["cell"] == imports + 1, result["stopped"]
    assert f"cell {imports + 1} (`torch.{missing[0]}`)" in stopped_at(relative, result)
    assert f"has no attribute '{missing[0]}'" in result["stopped"]["error"]

"""The Gradescope bundle, run as Gradescope runs it: in a bare Debian root file system, as root.

``make test-gradescope`` runs this (``make test`` leaves it out: it installs torch into a fresh
root, which takes minutes). A bare Debian bookworm root (``debootstrap --variant=minbase``) is
built once and cached under ``build/gradescope/base``; the wheels the bundle's
``requirements.txt`` names are downloaded once into ``build/gradescope/wheels``. Each run copies
the base root, unpacks the bundle into ``/autograder/source``, runs ``setup.sh`` there as root
(in bubblewrap, with the host's network: the package registries only), then ``run_autograder``
for three submissions, one at a time: the solution, the untouched notebook and one with a
single slip. Each ``results.json`` must be in Gradescope's documented format, with the points
``python -m grading grade`` gives them in the repository. The sizes and times go to
``build/gradescope/measurement.json``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from debian_root import bare_root, debian_mirror, du_mb, in_root
from image_roots import GRADESCOPE, GRADESCOPE_BASE, TOO_OLD_BASE

from grading.gradescope import export, grader_requirements

pytestmark = [pytest.mark.slow, pytest.mark.image]

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGE, BASE = GRADESCOPE, GRADESCOPE_BASE
ROOT, WHEELS = IMAGE / "root", IMAGE / "wheels"
SOLUTION = REPO_ROOT / "solutions" / "assignment_06_classification.ipynb"
EXERCISE = REPO_ROOT / "exercises" / "assignment_06_classification.ipynb"
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}  # Gradescope's documented values


def unpack_bundle(root: Path, into: Path) -> None:
    """A fresh copy of the bare ``root`` at ``into``, with the bundle unpacked in /autograder/source."""
    shutil.rmtree(into, ignore_errors=True)
    subprocess.run(["cp", "-a", str(root), str(into)], check=True)
    (into / "wheels").mkdir()
    (into / "host-ca.crt").touch()
    bundle = into / "autograder.zip"
    export("assignment_06", bundle)
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(into / "autograder" / "source")
    bundle.unlink()
    for script in ("setup.sh", "run_autograder"):
        (into / "autograder" / "source" / script).chmod(0o755)
    shutil.copy(into / "autograder" / "source" / "run_autograder", into / "autograder" / "run_autograder")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    measured: dict = {"mirror": debian_mirror(), "debootstrap_seconds": bare_root(BASE, "bookworm")}
    requirements = grader_requirements()
    stamp = WHEELS / f".complete-{hashlib.sha256(requirements.encode()).hexdigest()[:16]}"
    if not stamp.exists():
        start = time.monotonic()
        WHEELS.mkdir(parents=True, exist_ok=True)
        listed = tmp_path_factory.mktemp("wheels") / "requirements.txt"
        listed.write_text(requirements)
        downloaded = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "-d", str(WHEELS), "-r", str(listed), "pip"],
            capture_output=True,
            text=True,
        )
        assert downloaded.returncode == 0, downloaded.stderr[-2000:]
        stamp.touch()
        measured["wheel_download_seconds"] = round(time.monotonic() - start, 1)
    measured["base_mb"] = round(du_mb(BASE))
    measured["wheels_mb"] = round(du_mb(WHEELS))

    unpack_bundle(BASE, ROOT)
    start = time.monotonic()
    setup = in_root(
        "bash",
        "/autograder/source/setup.sh",
        timeout=1800,
        root=ROOT,
        extra_binds=("--ro-bind", str(WHEELS), "/wheels"),
    )
    measured["setup_seconds"] = round(time.monotonic() - start, 1)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    measured["image_after_setup_mb"] = round(du_mb(ROOT))
    return measured


def submissions(folder: Path) -> dict[str, Path]:
    """The solution, the untouched notebook, and the solution with one slip (exercise 1's last five rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    slip = nbformat.read(SOLUTION, as_version=4)
    for cell in slip.cells:
        cell.source = cell.source.replace("last_five_X = X[-5:]", "last_five_X = X[5:]")
    paths = {
        "solution": folder / "solution.ipynb",
        "untouched": folder / "untouched.ipynb",
        "slip": folder / "slip.ipynb",
    }
    shutil.copy(SOLUTION, paths["solution"])
    shutil.copy(EXERCISE, paths["untouched"])
    nbformat.write(slip, paths["slip"])
    return paths


def test_the_bundle_grades_three_submissions_in_a_bare_image_as_the_repository_does(image, tmp_path):
    notebooks = submissions(tmp_path / "submissions")
    results, seconds = {}, {}
    for name, notebook in notebooks.items():
        for folder in ("submission", "results"):
            shutil.rmtree(ROOT / "autograder" / folder, ignore_errors=True)
            (ROOT / "autograder" / folder).mkdir(parents=True)
        shutil.copy(notebook, ROOT / "autograder" / "submission" / notebook.name)
        start = time.monotonic()
        run = in_root("/autograder/run_autograder", timeout=900, root=ROOT)
        seconds[name] = round(time.monotonic() - start, 1)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        results[name] = json.loads((ROOT / "autograder" / "results" / "results.json").read_text())

    hidden = {
        "ex7: accuracy on fresh points (hidden)",
        "ex8: the data shown (hidden)",
        "ex9: accuracy on fresh points (hidden)",
    }
    for name, result in results.items():  # Gradescope's documented format
        assert isinstance(result["score"], int | float), name
        assert len(result["tests"]) == 12, name  # one test per part: exercises 7, 8 and 9 have a hidden part each
        for test in result["tests"]:
            assert isinstance(test["name"], str) and isinstance(test["output"], str), (name, test)
            assert isinstance(test["score"], int | float) and isinstance(test["max_score"], int | float), test
            assert test["visibility"] in VISIBILITY, test
        # a hidden part is shown once the instructor publishes the grades; every other test at once
        assert {t["name"] for t in result["tests"] if t["visibility"] == "after_published"} == hidden, name
        assert {t["visibility"] for t in result["tests"] if t["name"] not in hidden} == {"visible"}, name
    assert {name: result["score"] for name, result in results.items()} == {"solution": 9, "untouched": 0, "slip": 8}

    out = tmp_path / "in-repository"
    graded = subprocess.run(
        [sys.executable, "-m", "grading", "grade", "assignment_06", *map(str, notebooks.values()), "--out", str(out)]
        + ["--jobs", "2"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert graded.returncode == 0, graded.stderr[-2000:]
    with open(out / "grades.csv", newline="") as sheet:
        here = {Path(row["submission"]).stem: float(row["total"]) for row in csv.DictReader(sheet)}
    assert here == {name: result["score"] for name, result in results.items()}

    abridged = {
        name: {"score": r["score"], "tests": [f"{t['name']} {t['score']}/{t['max_score']}" for t in r["tests"]]}
        for name, r in results.items()
    }
    measurement = {**image, "submission_seconds": seconds, "results": abridged}
    (IMAGE / "measurement.json").write_text(json.dumps(measurement, indent=2) + "\n")
    print(json.dumps(measurement, indent=2))


def test_setup_stops_with_a_clear_message_where_the_python_is_too_old_and_no_newer_one_is_packaged():
    """Debian bullseye's Python is 3.9, and its archive has no 3.11: setup.sh must say so, not fail in pip."""
    old_base, old_root = TOO_OLD_BASE, IMAGE / "bullseye-root"
    bare_root(old_base, "bullseye")
    unpack_bundle(old_base, old_root)
    try:
        setup = in_root("bash", "/autograder/source/setup.sh", timeout=900, root=old_root)
    finally:
        shutil.rmtree(old_root, ignore_errors=True)
    assert setup.returncode != 0
    assert "this image's Python is 3.9." in setup.stderr and "need Python 3.11 or newer" in setup.stderr, setup.stderr
    assert "pip" not in setup.stderr.split("this image's Python")[1]  # it stopped before pip

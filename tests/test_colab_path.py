"""Colab's branch of the setup cell, executed: a notebook alone in an empty folder fetches the course's files.

Colab opens one notebook from GitHub, with no checkout beside it, so the setup cell downloads
the course's files it imports from the course repository: ``helper_functions.py``, and for an
exercise notebook the ``self_check`` package and its module of checks. Here the notebook is copied alone
into an empty folder and a first cell, inserted by the test, sends those downloads to a loopback
server that serves the repository's own files, an HTML error page (for every file, or for the
checks alone), or nothing at all (a timeout); or to a port where nothing listens (the network is
down).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, notebook_results
from fake_github import CLIENT_TIMEOUT, ROUTE_TO_LOOPBACK, serving_the_repository
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from grading.checks import COURSE_FILES
from helper_functions import data_dir

pytestmark = pytest.mark.unmeasured  # its kernels run untraced (conftest.py)


@pytest.fixture(scope="module")
def fake_github() -> Iterator[str]:
    with serving_the_repository() as base:
        yield base


def nowhere() -> str:
    """A loopback address where nothing listens: the network is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def alone_in_a_folder(lesson: str, folder: Path, base_url: str) -> nbformat.NotebookNode:
    """The lesson copied alone into ``folder``, with the loopback route as its first cell."""
    folder.mkdir()
    notebook = nbformat.read(REPO_ROOT / lesson, as_version=4)
    route = ROUTE_TO_LOOPBACK.format(base=base_url, timeout=CLIENT_TIMEOUT)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(route))
    nbformat.write(notebook, folder / Path(lesson).name)
    return notebook


def run(notebook: nbformat.NotebookNode, folder: Path, cells: int | None = None) -> nbformat.NotebookNode:
    """Execute ``notebook`` (its first ``cells`` cells, or all) in ``folder`` as Colab would."""
    if cells is not None:
        notebook = nbformat.from_dict({**notebook, "cells": notebook.cells[:cells]})
    environment = {key: value for key, value in os.environ.items() if key != "COURSE_DATA_DIR"}
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    return client.execute(env=environment)


def setup_cell_index(notebook: nbformat.NotebookNode) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if cell.source.startswith("# @title Setup"))


@pytest.mark.slow
def test_lesson_alone_fetches_the_helpers_and_runs_top_to_bottom(fake_github, tmp_path, results_of):
    lesson = "notebooks/02_pytorch_classification.ipynb"
    folder = tmp_path / "colab"
    executed = run(alone_in_a_folder(lesson, folder, f"{fake_github}/ok"), folder)
    assert (folder / "helper_functions.py").read_bytes() == (REPO_ROOT / "helper_functions.py").read_bytes()
    assert not (folder / "helper_functions.py.part").exists()
    assert notebook_results(executed) == results_of(lesson)


def test_fashion_mnist_is_read_from_the_data_folder_beside_the_lesson(fake_github, tmp_path):
    """Lesson 03 alone, run up to its data: ``data/`` beside the notebook is where it looks."""
    folder = tmp_path / "colab"
    notebook = alone_in_a_folder("notebooks/03_pytorch_computer_vision.ipynb", folder, f"{fake_github}/ok")
    (folder / "data").mkdir()
    (folder / "data" / "FashionMNIST").symlink_to(data_dir() / "FashionMNIST", target_is_directory=True)
    loads_data = next(i for i, cell in enumerate(notebook.cells) if "datasets.FashionMNIST(root=" in cell.source)
    notebook.cells.insert(
        loads_data + 1, nbformat.v4.new_code_cell("print(data_dir(), len(train_data), len(test_data))")
    )
    executed = run(notebook, folder, cells=loads_data + 2)
    assert executed.cells[loads_data + 1].outputs[0]["text"].split() == [str(folder / "data"), "60000", "10000"]


@pytest.mark.slow
def test_an_exercise_notebook_alone_fetches_its_self_check_and_checks_its_exercises(fake_github, tmp_path):
    exercise = "exercises/assignment_06_classification.ipynb"
    folder = tmp_path / "colab"
    executed = run(alone_in_a_folder(exercise, folder, f"{fake_github}/ok"), folder)
    arrived = [*COURSE_FILES, "exercises/checks/assignment_06_classification.py"]
    assert all((folder / name).read_bytes() == (REPO_ROOT / name).read_bytes() for name in arrived)
    assert not list(folder.rglob("*.part"))
    shown = [
        "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in cell.outputs)
        for cell in executed.cells
        if cell.source.startswith("# @title Check ex")
    ]
    assert len(shown) == 9 and all(": FAIL at " in text and "hint: " in text for text in shown), shown


@pytest.mark.parametrize(
    ("notebook", "route", "message", "saved"),
    [
        ("notebooks/02_pytorch_classification.ipynb", "/html", "sent no helper_functions.py (it began '<!DOCTYPE", []),
        ("notebooks/02_pytorch_classification.ipynb", "/slow", "Could not download https://raw.githubusercontent", []),
        ("exercises/assignment_06_classification.ipynb", None, "Is this runtime online?", []),
        (
            "exercises/assignment_06_classification.ipynb",
            "/html-checks",
            "sent no exercises/checks/assignment_06_classification.py (it began '<!DOCTYPE",
            list(COURSE_FILES),
        ),
    ],
    ids=["html-error-page", "timeout", "network-down", "error-page-for-the-checks"],
)
def test_a_bad_download_is_refused_with_a_clear_message_and_never_saved(
    notebook, route, message, saved, fake_github, tmp_path
):
    folder = tmp_path / "colab"
    base = nowhere() if route is None else f"{fake_github}{route}"
    cells = alone_in_a_folder(notebook, folder, base)
    with pytest.raises(CellExecutionError) as raised:
        run(cells, folder, cells=setup_cell_index(cells) + 1)
    assert "RuntimeError" in str(raised.value) and message in str(raised.value)
    if route == "/slow":
        assert "timed out" in str(raised.value)
    left = sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
    assert left == sorted([Path(notebook).name, *saved])  # no part of a file that was refused

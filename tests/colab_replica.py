"""Run notebooks as Colab runs them, inside the replica of Colab's runtime (``tests/test_colab_runtime.py``).

This script runs inside the replica's root, with its Python (Colab's minor version) and Colab's
packages, never on the host: ``python3 /course/tests/colab_replica.py JOB``. For each notebook of
the job it does what opening it from a Colab badge does: the notebook alone in a fresh folder, a
fresh kernel whose ``pip install`` goes to a fresh environment of its own over Colab's packages (as
a fresh Colab runtime, which the setup cell may add to), and every cell run in order with no tag
honoured, so that any error stops the run (``force_raise_errors``). The course's files come from a
loopback stand-in for GitHub (the job's ``github``); the data sets from ``/course/data``. It writes
each executed notebook, and a summary of each run: seconds, the cell that stopped it, and what the
kernel's environment installed beyond Colab's packages.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from fake_github import ROUTE_TO_LOOPBACK  # this script's folder: the tests'
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def fresh_kernel(name):
    """A kernel named ``name`` in an environment of its own over the system's packages (Colab's), with its pip."""
    prefix = Path("/tmp/kernels") / name
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(prefix)], check=True)
    subprocess.run(
        [str(prefix / "bin" / "python"), "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", name],
        check=True,
        capture_output=True,
    )
    return prefix


def installed_in(prefix):
    """``{name: version}`` of what the kernel's environment holds of its own, beyond the system's packages."""
    found = {}
    for folder in prefix.glob("lib/python*/site-packages"):
        for dist in importlib.metadata.distributions(path=[str(folder)]):
            found[dist.metadata["Name"].lower().replace("_", "-")] = dist.version
    return {name: version for name, version in found.items() if name not in ("pip", "ipykernel")}


def run(entry, github):
    name = Path(entry["out"]).stem  # unique per notebook, as the test named it: its folder's and its kernel's name
    folder = Path("/tmp/content") / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if entry.get("data"):
        shutil.copytree("/course/data", folder / "data")
    notebook = nbformat.read(entry["notebook"], as_version=4)
    if entry.get("cells") is not None:
        notebook.cells = notebook.cells[: entry["cells"]]
    nbformat.write(notebook, folder / Path(entry["notebook"]).name)  # what Colab opens: the notebook alone
    notebook.cells.insert(0, nbformat.v4.new_code_cell(ROUTE_TO_LOOPBACK.format(base=github, timeout=60)))
    prefix = fresh_kernel(name)
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    client = NotebookClient(
        notebook,
        timeout=1800,
        kernel_name=name,
        force_raise_errors=True,  # Colab reads no tags: an error stops Run all, whatever the cell says
        resources={"metadata": {"path": str(folder)}},
    )
    stopped = None
    start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError as error:
        failed = [i for i, cell in enumerate(notebook.cells) if any("ename" in o for o in cell.get("outputs", []))]
        index = failed[0] if failed else None
        stopped = {"cell": None if index is None else index - 1, "error": str(error)[-3000:]}
    seconds = time.monotonic() - start
    del notebook.cells[0]  # the route: the executed notebook has the course's cells, at their own indices
    nbformat.write(notebook, entry["out"])
    return {"seconds": round(seconds, 1), "stopped": stopped, "installed": installed_in(prefix)}


def main():
    Path(os.environ["HOME"]).mkdir(parents=True, exist_ok=True)
    job = json.loads(Path(sys.argv[1]).read_text())
    summary = {entry["notebook"]: run(entry, job["github"]) for entry in job["notebooks"]}
    Path(job["summary"]).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

"""Execute notebooks headless and write the executed copies, with outputs, under ``build/``.

Run: ``python -m tools.run_notebooks [NOTEBOOK_OR_FOLDER ...] [--out build/executed]``
(default: every ``.ipynb`` in ``notebooks/`` and ``solutions/``; ``make notebooks``
runs this). Each notebook runs in a fresh kernel with its own folder as the working
directory, as in Jupyter. Cells tagged ``raises-exception`` may raise; any other
error stops that notebook and makes the command exit 1 after the rest have run. At the end it
prints each notebook's time beside its budget and writes them to ``times.json`` in the output folder
(``tools/time_report.py``): a slow machine is reported, never failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from tqdm import tqdm

from tools import time_report

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = ("notebooks", "solutions")
DEFAULT_OUT = REPO_ROOT / "build" / "executed"


def expand(sources: list[str]) -> list[Path]:
    """Return the ``.ipynb`` files named by ``sources`` (files or folders), sorted."""
    found: list[Path] = []
    for source in sources:
        path = Path(source).resolve()
        found.extend(sorted(path.glob("*.ipynb")) if path.is_dir() else [path])
    return found


def execute(path: Path, out_dir: Path, cell_timeout: int = 900) -> tuple[Path, float]:
    """Execute ``path`` and write it to ``out_dir/<its folder>/<its name>``; return (copy, seconds).

    Each cell's output streams are merged and their carriage returns applied, so that a progress
    bar leaves its finished line, not every state it was drawn in. On a terminal a bar over the
    notebook's code cells shows how far it is.
    """
    notebook = nbformat.read(path, as_version=4)
    code_cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    bar = tqdm(total=code_cells, desc=path.name, unit="cell", disable=None, file=sys.stderr, leave=False)
    client = NotebookClient(
        notebook,
        timeout=cell_timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        coalesce_streams=True,
        on_cell_executed=lambda cell, cell_index, execute_reply: bar.update(cell.cell_type == "code"),
    )
    client.km = client.create_kernel_manager()
    # local sockets instead of TCP ports: nothing else can connect, and ipykernel has no warning to print
    client.km.transport = "ipc"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
        client.km.ip = str(Path(sockets) / "kernel")
        try:
            client.execute()
        finally:
            bar.close()
            target = out_dir / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)
    return target, time.perf_counter() - start


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it, else as it is."""
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute notebooks headless into build/.")
    parser.add_argument("sources", nargs="*", default=[str(REPO_ROOT / d) for d in DEFAULT_SOURCES])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for executed copies")
    args = parser.parse_args(argv)
    out_dir = args.out.resolve()
    # timed first, on a machine that is not yet running a notebook
    factor = time_report.speed_factor(step_ms := time_report.calibrate())
    failures, executed = 0, []
    for path in expand(args.sources):
        try:
            target, seconds = execute(path, out_dir)
            executed.append(target)
            print(f"ok     {seconds:7.1f} s  {shown(path)} -> {shown(target)}", flush=True)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            failures += 1
            summary = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            print(f"FAILED {shown(path)}: {summary}", file=sys.stderr, flush=True)
    measurements = time_report.notebook_measurements(executed, out_dir, factor)
    command = " ".join(["python -m tools.run_notebooks", *(sys.argv[1:] if argv is None else argv)])
    for line in time_report.write(measurements, step_ms, out_dir / time_report.REPORT_NAME, command):
        print(line, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

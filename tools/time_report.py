"""How long the notebooks (and the grader) took, beside their time budgets: a report, never a test.

Run: ``python -m tools.time_report [FOLDER] [--out FILE]`` reports the executed notebooks found
in FOLDER (default ``build/executed``) into ``FOLDER/times.json``; ``python -m tools.time_report
--calibrate`` times the calibration loop alone. ``make notebooks`` writes ``build/executed/times.json``
and ``make test`` writes ``build/nbtest/times.json``, the grader's times included; both print one line
per measurement.

Wall time depends on the machine and on what else it is doing, so a budget is a goal that this
report measures, not a pass/fail test. To tell "slow for this machine" from "a slow machine", the
report times a short calibration loop in the same run (TinyVGG training steps, the work that
dominates lesson 03) and scales each budget by how much slower or faster this machine runs that
loop than the reference machine the budgets were set on.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
REPORT_NAME = "times.json"  # written beside the executed notebooks it reports
DEFAULT_SOURCE = REPO_ROOT / "build" / "executed"

# What the test suite times besides notebooks (tests/test_grading_hostile.py)
SLOWEST_GRADED = "grading: the slowest submission of the hostile class (--jobs 2)"
AUTOGRADER_RUN = "grading: run_autograder on the Assignment 6 solution"
# The goals, in seconds on the reference machine. Notebooks are named by their path in the repository.
BUDGETS_S: dict[str, float] = {
    "notebooks/02_pytorch_classification.ipynb": 60,
    "solutions/02_pytorch_classification_solutions.ipynb": 60,
    "solutions/assignment_06_classification.ipynb": 60,
    "notebooks/03_pytorch_computer_vision.ipynb": 240,
    "solutions/03_pytorch_computer_vision_solutions.ipynb": 240,
    SLOWEST_GRADED: 60,
    AUTOGRADER_RUN: 60,
}
# The reference machine: 2 cores of an AMD EPYC with AVX2 only (no AVX-512, no AMX), the common case
# on students' laptops and on Colab's CPU runtime. Its calibration step, from `python -m tools.time_report
# --calibrate` run five times on an idle machine (13.5 to 15.9 ms), median:
REFERENCE_MACHINE = "2-core AMD EPYC, AVX2 only"
REFERENCE_STEP_MS = 14.0
CALIBRATION_STEPS, CALIBRATION_ROUNDS, CALIBRATION_BATCH = 30, 7, 32


def calibrate(steps: int = CALIBRATION_STEPS, rounds: int = CALIBRATION_ROUNDS) -> float:
    """Milliseconds one TinyVGG training step takes here: median of ``rounds`` rounds of ``steps`` steps.

    The same model, data and seed every time, so that the only thing that changes is the machine. It
    steps as lesson 03 trains: batches of 32 in ``channels_last``, at torch's own thread count.
    """
    import torch
    from torch import nn

    from bench.models import FashionMNISTModelV2

    generator = torch.Generator().manual_seed(0)
    images = torch.rand(CALIBRATION_BATCH, 1, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (CALIBRATION_BATCH,), generator=generator)
    torch.manual_seed(0)
    model = FashionMNISTModelV2().to(memory_format=torch.channels_last)
    images = images.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(10):  # warm-up: the first steps pay for oneDNN's kernel selection
        step()
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        per_round.append((time.perf_counter() - start) / steps * 1000)
    return statistics.median(per_round)


@dataclass
class Measurement:
    """One line of the report: what was timed, how long it took, and its budget where it has one."""

    name: str
    seconds: float
    budget_s: float | None = None
    machine_budget_s: float | None = None  # the budget scaled to this machine's speed

    @property
    def over(self) -> bool:
        return self.budget_s is not None and self.seconds > self.budget_s

    @property
    def slow_for_this_machine(self) -> bool:
        return self.machine_budget_s is not None and self.seconds > self.machine_budget_s

    def line(self) -> str:
        text = f"{self.name:<66} {self.seconds:7.1f} s"
        if self.budget_s is None:
            return text + "  (no budget)"
        text += f"  budget {self.budget_s:4.0f} s{'  over' if self.over else ''}"
        if self.machine_budget_s is not None:
            share = self.seconds / self.machine_budget_s
            text += f"  | {share:.0%} of {self.machine_budget_s:.0f} s for this machine"
            text += "  over for this machine" if self.slow_for_this_machine else ""
        return text


def speed_factor(step_ms: float | None) -> float | None:
    """How many times longer this machine takes than the reference machine (2.0: twice as slow)."""
    return None if step_ms is None else step_ms / REFERENCE_STEP_MS


def measure(name: str, seconds: float, factor: float | None) -> Measurement:
    """A measurement with its budget from ``BUDGETS_S`` (if any), scaled by the machine's ``factor``."""
    budget = BUDGETS_S.get(name)
    scaled = None if budget is None or factor is None else budget * factor
    return Measurement(name, round(seconds, 1), budget, None if scaled is None else round(scaled, 1))


def notebook_seconds(notebook: nbformat.NotebookNode) -> float | None:
    """From the first code cell's start to the last one's end, read from nbclient's timing metadata.

    None when the notebook has no timed code cell (it was not executed).
    """
    timings = [cell.metadata.get("execution", {}) for cell in notebook.cells if cell.cell_type == "code"]
    timings = [timing for timing in timings if "iopub.status.busy" in timing and "iopub.status.idle" in timing]
    if not timings:
        return None

    def stamp(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (stamp(timings[-1]["iopub.status.idle"]) - stamp(timings[0]["iopub.status.busy"])).total_seconds()


def cell_seconds(notebook: nbformat.NotebookNode) -> list[tuple[int, float, str]]:
    """(code cell number, seconds, first line) for each timed code cell, slowest first."""
    found = []
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        timing = cell.metadata.get("execution", {})
        if "iopub.status.busy" in timing and "iopub.status.idle" in timing:
            start = datetime.fromisoformat(timing["iopub.status.busy"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(timing["iopub.status.idle"].replace("Z", "+00:00"))
            first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
            found.append((number, (end - start).total_seconds(), first_line))
    return sorted(found, key=lambda item: -item[1])


def notebook_name(path: Path, root: Path) -> str:
    """``notebooks/03_...ipynb``: the path below ``root`` (an executed copy's folder mirrors the repository)."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else f"{path.parent.name}/{path.name}"


def notebook_measurements(paths: Iterable[Path], root: Path, factor: float | None) -> list[Measurement]:
    """One measurement per executed notebook among ``paths``; unexecuted ones are left out."""
    found = []
    for path in sorted(paths):
        seconds = notebook_seconds(nbformat.read(path, as_version=4))
        if seconds is not None:
            found.append(measure(notebook_name(path, root), seconds, factor))
    return found


def write(measurements: list[Measurement], step_ms: float | None, out: Path, command: str) -> list[str]:
    """Write the report to ``out`` (JSON) and return its printed lines: a header, then one line each."""
    factor = speed_factor(step_ms)
    if step_ms is None or factor is None:
        header = "times beside their budgets (no calibration: budgets are not scaled to this machine)"
    else:
        header = (
            f"times beside their budgets; calibration: {step_ms:.1f} ms a TinyVGG step here, "
            f"{REFERENCE_STEP_MS} ms on the reference machine ({REFERENCE_MACHINE}), "
            f"so budgets are scaled by {factor:.2f} for this machine"
        )
    lines = [header, *(measurement.line() for measurement in measurements)]
    record = {
        "command": command,
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"processor": platform.processor() or platform.machine(), "python": platform.python_version()},
        "calibration": {
            "step_ms": None if step_ms is None else round(step_ms, 2),
            "reference_step_ms": REFERENCE_STEP_MS,
            "reference_machine": REFERENCE_MACHINE,
            "speed_factor": None if factor is None else round(factor, 3),
        },
        "measurements": [
            {**asdict(m), "over": m.over, "slow_for_this_machine": m.slow_for_this_machine} for m in measurements
        ],
        "lines": lines,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Report executed notebooks' times beside their budgets.")
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_SOURCE, help="a folder of executed notebooks")
    parser.add_argument("--out", type=Path, default=None, help=f"the report (default FOLDER/{REPORT_NAME})")
    parser.add_argument("--calibrate", action="store_true", help="only time the calibration loop and print it")
    args = parser.parse_args(argv)
    step_ms = calibrate()
    if args.calibrate:
        print(f"{step_ms:.2f} ms a TinyVGG step (reference machine: {REFERENCE_STEP_MS} ms, {REFERENCE_MACHINE})")
        return 0
    folder = args.folder.resolve()
    measurements = notebook_measurements(folder.rglob("*.ipynb"), folder, speed_factor(step_ms))
    command = " ".join(["python -m tools.time_report", *(sys.argv[1:] if argv is None else argv)])
    for line in write(measurements, step_ms, args.out or folder / REPORT_NAME, command):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The worker: execute one submission in a fresh kernel, then run the trusted checks in that kernel.

Started by ``grading.grade`` inside the sandbox, never by hand. It reads one JSON job
on stdin (the notebook, the check code, the limits), and prints one line on stdout:
``RESULT_MARK`` followed by the JSON result, written last, after every process the
submission started has been killed. The kernel writes to /dev/null, not to that
stdout, and in the sandbox cannot open this process's files (it is made non-dumpable
and the sandbox has no capabilities), so the last result line comes from here.

Errors in cells are allowed. A cell that runs past ``cell_timeout`` is interrupted and
the run goes on. A cell that kills the kernel, or ignores the interrupt, is replaced
by a ``raise`` and the notebook is run again from the top in a new kernel (at most
``max_restarts`` times), so it costs only what depends on it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from queue import Empty
from time import monotonic

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from grading.checks import Exercise, TamperedResults, grader_cell, read_results
from grading.sandbox import Limits, adopt_orphans, apply_limits, die_with_parent, hide_from_children, kill_descendants

RESULT_MARK = "GRADING-RESULT "
TIMEOUT_ENAME = "CellTimeoutError"


@dataclass
class Log:
    """What went wrong while running, as code-cell descriptions (``"code cell 7 (`for epoch ...`)"``)."""

    timeouts: list[str] = field(default_factory=list)
    kernel_deaths: list[str] = field(default_factory=list)
    budget_exhausted: bool = False


def describe(notebook: nbformat.NotebookNode, index: int) -> str:
    """Name cell ``index`` the way a student finds it: its number among code cells and its first line."""
    number = sum(1 for cell in notebook.cells[: index + 1] if cell.cell_type == "code")
    first = next((line.strip() for line in notebook.cells[index].source.splitlines() if line.strip()), "")
    return f"code cell {number} (`{first[:60]}`)"


async def _responsive(client: NotebookClient, timeout: float) -> bool:
    """True when the kernel finishes a trivial request within ``timeout`` (the interrupt worked)."""
    msg_id = client.kc.execute("None", silent=True, store_history=False)
    deadline = monotonic() + timeout
    while (left := deadline - monotonic()) > 0:
        try:
            reply = await client.kc.shell_channel.get_msg(timeout=left)
        except Empty:
            return False
        if reply["parent_header"].get("msg_id") == msg_id:
            return True
    return False


def _stdout_lines(cell: nbformat.NotebookNode) -> list[str]:
    return [
        line
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
        for line in output.get("text", "").splitlines()
    ]


class _Restart(Exception):
    """The kernel died in, or could not be interrupted from, cell ``index``: skip it and run again."""

    def __init__(self, index: int, reason: str):
        super().__init__(reason)
        self.index, self.reason = index, reason


async def _attempt(
    notebook: nbformat.NotebookNode,
    skipped: dict[int, str],
    job: dict,
    deadline: float,
    log: Log,
    exercises: tuple[Exercise, ...],
) -> dict[str, dict]:
    """Run the notebook once in a new kernel (cells in ``skipped`` replaced by a raise); return the results."""
    work = copy.deepcopy(notebook)
    for index, reason in skipped.items():
        work.cells[index].source = f"raise RuntimeError({'the grader skipped this cell: it ' + reason!r})"
    timed_out: set[int] = set()

    def on_cell_executed(cell, cell_index, execute_reply):
        if execute_reply and execute_reply.get("content", {}).get("ename") == TIMEOUT_ENAME:
            timed_out.add(cell_index)

    cell_limit = {"seconds": job["cell_timeout"]}
    client = NotebookClient(
        work,
        timeout_func=lambda cell: max(1, int(min(cell_limit["seconds"], deadline - monotonic()))),
        interrupt_on_timeout=True,
        error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "the cell ran past its time limit", "traceback": []},
        allow_errors=True,
        record_timing=False,
        iopub_timeout=2,
        kernel_name="python3",
        shutdown_kernel="immediate",
        startup_timeout=120,
        resources={"metadata": {"path": job["cwd"]}},
        on_cell_executed=on_cell_executed,
    )
    async with client.async_setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        for index, cell in enumerate(work.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if deadline - monotonic() < 1:
                log.budget_exhausted = True
                break
            try:
                await client.async_execute_cell(cell, index)
            except DeadKernelError:
                log.kernel_deaths.append(describe(work, index))
                raise _Restart(index, "stopped the kernel") from None
            if index in timed_out:
                log.timeouts.append(describe(work, index))
                if not await _responsive(client, job["interrupt_grace"]):
                    raise _Restart(index, "ignored the interrupt")

        # The checks, with a nonce drawn only now, after every cell of the submission has run.
        nonce = secrets.token_hex(16)
        cell_limit["seconds"] = job["check_budget"]
        work.cells.append(nbformat.v4.new_code_cell(grader_cell(job["checks_code"], nonce, job["check_timeout"])))
        index = len(work.cells) - 1
        deadline = monotonic() + cell_limit["seconds"]
        try:
            await client.async_execute_cell(work.cells[index], index)
        except DeadKernelError:
            log.kernel_deaths.append("the checks (a check's use of the submission's objects stopped the kernel)")
        if index in timed_out:
            log.timeouts.append("the checks (they ran past their time limit)")
        return read_results(_stdout_lines(work.cells[index]), nonce, exercises)


async def grade(job: dict) -> dict:
    """Run ``job``'s notebook with restarts as needed; return the result dict printed by ``main``."""
    notebook = nbformat.from_dict(job["notebook"])
    exercises = tuple(Exercise(name, 0, "") for name in job["exercises"])
    deadline = monotonic() + job["cell_budget"]
    log, skipped = Log(), {}
    results, error = {}, None
    for _ in range(job["max_restarts"] + 1):
        try:
            results = await _attempt(notebook, skipped, job, deadline, log, exercises)
            break
        except _Restart as restart:
            skipped[restart.index] = restart.reason
        except TamperedResults as tampered:
            error = f"the check results were tampered with ({tampered})"
            break
    return {
        "results": results,
        "error": error,
        "timeouts": log.timeouts,
        "kernel_deaths": log.kernel_deaths,
        "budget_exhausted": log.budget_exhausted,
        "skipped": [f"{describe(notebook, index)}, which {reason}" for index, reason in skipped.items()],
    }


def main() -> int:
    die_with_parent()
    hide_from_children()
    adopt_orphans()
    try:
        job = json.loads(sys.stdin.read())
        apply_limits(Limits(**job["limits"]))
        result = asyncio.run(grade(job))
    except Exception:
        result = {"grader_error": traceback.format_exc()}
    finally:
        kill_descendants()
    # last, on a line of its own, after every process the submission started is gone
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

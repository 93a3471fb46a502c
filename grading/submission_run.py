"""Run one submission in a fresh kernel and collect what it hands over where each exercise stands.

The driver: started by ``grading.batch`` inside the sandbox, never by hand. It reads one JSON
job on stdin (the notebook, the check code, the limits), and prints one line on stdout:
``RESULT_MARK`` followed by the JSON result, written last, after every process the
submission started has been killed. The kernel writes to /dev/null, not to that
stdout, and in the sandbox cannot open this process's files (it is made non-dumpable
and the sandbox has no capabilities), so the last result line comes from here.

No check runs here, and none in the kernel. Right after the cell the job names for an
exercise (``check_after``), a cell of the grader's (``grading/kernel/handover_cell.py``) has
the kernel hand that exercise's answers over as data; this driver keeps, from that cell's
outputs, the exercises it asked for, once each and within the size limit, and leaves the
verdicts to the checker (``grading/checker/judge.py``), which runs after the kernel is gone.
After the last cell every exercise hands over once more (``at_end``): for exercises whose place
was not found, and to tell which names a later cell changed. After every cell of the
submission's, the tamper probe (``grading/kernel/tamper_probe.py``) says what it replaced.

Errors in cells are allowed and reported. A cell that runs past ``cell_timeout`` is
interrupted and the run goes on. A cell that kills the kernel, or ignores the interrupt,
is replaced by a ``raise`` and the notebook is run again from the top in a new kernel (at
most ``max_restarts`` times), so it costs only what depends on it; a check that kills the
kernel fails its exercises and is left out of the rerun.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import binascii
import copy
import functools
import json
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from time import monotonic

import nbformat
import zmq
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from grading.kernel import tamper_probe
from grading.kernel.handover_cell import HANDOVER_MIME, handover_cell
from grading.sandbox import Limits, adopt_orphans, apply_limits, die_with_parent, hide_from_children, kill_descendants

RESULT_MARK = "GRADING-RESULT "
TIMEOUT_ENAME = "CellTimeoutError"
CHECK_CELL_SLACK = 5.0  # seconds a hand-over cell may take beyond its exercises' own limits (compiling, saving)
PROBE_MODULE = "__course_tamper_probe__"
PROBE_EXPRESSION = f"__import__('sys').modules[{PROBE_MODULE!r}].changes()"
PROBE_SETUP = (
    "import sys as _s, types as _t\n"
    f"_m = _t.ModuleType({PROBE_MODULE!r})\n"
    f"exec(compile({Path(tamper_probe.__file__).read_text()!r}, 'tamper_probe', 'exec'), _m.__dict__)\n"
    f"_s.modules[{PROBE_MODULE!r}] = _m\n_m.start()\ndel _s, _t, _m"
)

# Run before the notebook's first cell: the hand-over's code is then loaded from the course's own copies, and
# nothing a cell later does to its folder's files (its own to change) changes how its answers are handed over.
HARNESS_SETUP = "try:\n    import self_check.handover\nexcept Exception:\n    pass"


@dataclass
class Log:
    """What went wrong while running, as code-cell descriptions (``"code cell 7 (`for epoch ...`)"``)."""

    timeouts: list[str] = field(default_factory=list)
    kernel_deaths: list[str] = field(default_factory=list)
    budget_exhausted: bool = False
    errors: list[dict] = field(default_factory=list)  # {"cell": index, "ename", "evalue"} per cell that raised
    tampering: list[str] = field(default_factory=list)  # "code cell 3 (`...`): json.dumps, ..." per cell


def describe(notebook: nbformat.NotebookNode, index: int, line: int | None = None) -> str:
    """Name cell ``index`` the way a student finds it: its number among code cells and its first line (or ``line``)."""
    number = sum(1 for cell in notebook.cells[: index + 1] if cell.cell_type == "code")
    lines = notebook.cells[index].source.splitlines()
    shown = lines[line - 1] if line is not None and 0 < line <= len(lines) else next(filter(str.strip, lines), "")
    return f"code cell {number} (`{shown.strip()[:60]}`)"


async def _responsive(client: NotebookClient, timeout: float, code: str = "None") -> bool:
    """True when the kernel finishes running ``code`` (by default nothing) within ``timeout``."""
    kernel = client.kc
    if kernel is None:
        return False
    msg_id = kernel.execute(code, silent=True, store_history=False)
    deadline = monotonic() + timeout
    while (left := deadline - monotonic()) > 0:
        try:
            reply = await kernel.shell_channel.get_msg(timeout=left)
        except Empty:
            return False
        if reply["parent_header"].get("msg_id") == msg_id:
            return True
    return False


def handed_over(cell: nbformat.NotebookNode, names: list[str], limit: int) -> dict[str, dict]:
    """What a hand-over cell's outputs carry for each exercise of ``names``: ``{"data": base64}`` or ``{"error"}``.

    Only the exercises asked for, once each, within ``limit`` bytes; anything else is set aside
    with a reason, and an exercise that handed nothing over says so.
    """
    found: dict[str, dict] = {}
    for output in cell.get("outputs", []):
        record = output.get("data", {}).get(HANDOVER_MIME) if output.get("output_type") == "display_data" else None
        if not isinstance(record, dict) or record.get("exercise") not in names:
            continue
        name = record["exercise"]
        if name in found:
            found[name] = {"error": "it was handed over more than once"}
            continue
        data, reassigned = record.get("data"), record.get("reassigned", [])
        entry: dict = {"reassigned": [str(v)[:100] for v in reassigned][:50] if isinstance(reassigned, list) else []}
        if isinstance(record.get("error"), str):
            entry["error"] = record["error"][:2000]
        elif not isinstance(data, str):
            entry["error"] = "the hand-over holds no data"
        elif len(data) > limit * 4 // 3 + 4:
            entry["error"] = f"it takes more than the limit of {limit / 2**20:.0f} MB"
        else:
            try:
                base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                entry["error"] = "the hand-over is not base64 text"
            else:
                entry["data"] = data
        found[name] = entry
    for name in names:
        found.setdefault(name, {"error": "nothing was handed over (the hand-over cell did not finish)"})
    return found


class _Restart(Exception):
    """The kernel died in, or could not be interrupted from, cell ``index``: skip it and run again."""

    def __init__(self, index: int, reason: str, check: bool = False):
        super().__init__(reason)
        self.index, self.reason, self.check = index, reason, check


def _errors(cell: nbformat.NotebookNode, index: int) -> list[dict]:
    return [
        {"cell": index, "ename": output.get("ename", ""), "evalue": output.get("evalue", "")}
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error" and output.get("ename") != TIMEOUT_ENAME
    ]


class _Run:
    """One run of the notebook in a new kernel: the submission's cells, each exercise's check where it stands."""

    def __init__(self, notebook: nbformat.NotebookNode, job: dict, log: Log, skipped: dict, failed_checks: dict):
        self.work = copy.deepcopy(notebook)
        for index, reason in skipped.items():
            self.work.cells[index].source = f"raise RuntimeError({'the grader skipped this cell: it ' + reason!r})"
        self.job, self.log, self.skipped, self.failed_checks = job, log, skipped, failed_checks
        self.timed_out: set[int] = set()
        self.capped: list[int] = []  # cells during which the control group refused to start a process
        self.cell_limit = job["cell_timeout"]
        self.deadline = monotonic() + job["cell_budget"]
        self.student_cells = len(self.work.cells)  # the hand-over cells are appended after these
        self.client = NotebookClient(
            self.work,
            timeout_func=lambda cell: max(1, int(min(self.cell_limit, self.deadline - monotonic()))),
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "the cell ran past its time limit", "traceback": []},
            allow_errors=True,
            record_timing=False,
            iopub_timeout=2,
            kernel_name="python3",
            shutdown_kernel="immediate",
            startup_timeout=120,
            resources={"metadata": {"path": job["cwd"]}},
            on_cell_executed=self._after_cell,
        )
        self.tampering_seen: set[str] = set()

    def _after_cell(self, cell, cell_index, execute_reply) -> None:
        content = (execute_reply or {}).get("content", {})
        if content.get("ename") == TIMEOUT_ENAME:
            self.timed_out.add(cell_index)
        probe = content.get("user_expressions", {}).get("probe", {})
        if probe.get("status") == "ok":
            try:
                changes = set(ast.literal_eval(probe.get("data", {}).get("text/plain", "[]")))
            except (ValueError, SyntaxError, TypeError):
                changes = {"the tamper probe's own answer"}
        elif probe:
            changes = {"the tamper probe (it raised)"}
        else:
            return  # the cell raised: IPython evaluates no probe; a later cell's shows what it changed
        new = sorted(str(change)[:80] for change in changes - self.tampering_seen)
        self.tampering_seen |= changes
        if new and cell_index < self.student_cells:
            self.log.tampering.append(f"{describe(self.work, cell_index)} replaced {', '.join(new[:12])}")

    def _refusals(self) -> int:
        """How many process starts the submission's control group has refused so far (0 without one)."""
        try:
            events = Path(self.job["pids_events"]).read_text().split()
            return int(events[events.index("max") + 1])
        except (KeyError, TypeError, OSError, ValueError):
            return 0

    def _culprit(self, index: int) -> tuple[int, str]:
        """The cell to leave out when the kernel broke in cell ``index``, and what it did."""
        if self.capped:  # its processes starved the kernel of process slots: blame the cell that started them
            return self.capped[0], "filled the cap of processes and so broke the kernel"
        return index, "stopped the kernel"

    async def _run_student_cell(self, index: int) -> None:
        cell = self.work.cells[index]
        refused_before = self._refusals()
        try:
            await self.client.async_execute_cell(cell, index)
        except Exception as error:  # the kernel died, or its messages broke (a starved or forked kernel)
            culprit, reason = self._culprit(index)
            what = "" if isinstance(error, DeadKernelError) else ", which broke the kernel's messages"
            self.log.kernel_deaths.append(f"{describe(self.work, index)}{what}")
            raise _Restart(culprit, reason) from None
        if self._refusals() > refused_before:
            self.capped.append(index)
        if index not in self.skipped:
            self.log.errors.extend(_errors(cell, index))
        if index in self.timed_out:
            self.log.timeouts.append(describe(self.work, index))
            if not await _responsive(self.client, self.job["interrupt_grace"]):
                raise _Restart(index, "ignored the interrupt")

    async def _hand_over(self, names: list[str], final: bool, after: int) -> dict[str, dict]:
        """Have the kernel hand over the answers of ``names`` in a cell of the grader's; return what it handed."""
        code = handover_cell(self.job["checks_code"], names, final, self.job["handover_limit"])
        cell = nbformat.v4.new_code_cell(code)
        self.work.cells.append(cell)
        index = len(self.work.cells) - 1
        self.cell_limit = self.job["check_timeout"] * len(names) + CHECK_CELL_SLACK
        if final:
            self.deadline = monotonic() + self.job["final_budget"]
        try:
            await self.client.async_execute_cell(cell, index)
        except Exception as error:  # the kernel died, or its messages broke (forked copies of it write to them too)
            if self.capped:  # a cell that filled the cap of processes broke it: rerun without that cell
                culprit, reason = self._culprit(after)
                self.log.kernel_deaths.append(f"{describe(self.work, culprit)}, which broke the kernel's messages")
                raise _Restart(culprit, reason) from None
            if final:
                self.log.kernel_deaths.append("handing the answers over at the end (it stopped the kernel)")
                return {}
            what = "stopped the kernel" if isinstance(error, DeadKernelError) else "broke the kernel's messages"
            raise _Restart(after, f"{what} while its answers were handed over", check=True) from None
        finally:
            self.cell_limit = self.job["cell_timeout"]
        if index in self.timed_out:
            self.log.timeouts.append("handing the answers over (it ran past its time limit)")
        return handed_over(cell, names, self.job["handover_limit"])

    async def _start_probe(self) -> None:
        """Record how the kernel stands before the first cell, and ask the probe after every cell from now on."""
        kernel = self.client.kc
        if kernel is None or not await _responsive(self.client, self.job["cell_timeout"], PROBE_SETUP):
            return
        # every request from now on carries the probe, answered in the same reply as the cell
        probed = functools.partial(kernel.execute, user_expressions={"probe": PROBE_EXPRESSION})
        kernel.execute = probed  # type: ignore[method-assign]

    async def run(self) -> tuple[dict[str, dict], dict[str, dict]]:
        """Run the notebook once; return what was handed over where each exercise stands, and at the end."""
        where_it_stands: dict[str, dict] = {}
        check_after = {int(index): names for index, names in self.job["check_after"].items()}
        async with self.client.async_setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            await _responsive(self.client, self.job["cell_timeout"], HARNESS_SETUP)
            await self._start_probe()
            for index, cell in enumerate(list(self.work.cells)):
                if self.deadline - monotonic() < 1:
                    self.log.budget_exhausted = True
                    break
                if cell.cell_type == "code" and cell.source.strip():
                    await self._run_student_cell(index)
                names = check_after.get(index, [])
                if index in self.failed_checks:
                    where_it_stands.update({name: self.failed_checks[index] for name in names})
                elif names:
                    where_it_stands.update(await self._hand_over(names, final=False, after=index))
            at_end = await self._hand_over(self.job["exercises"], final=True, after=len(self.work.cells))
        return where_it_stands, at_end


def _killed_by_check(reason: str) -> dict:
    return {"error": f"handing your answers over {reason}"}


async def run_with_restarts(job: dict) -> dict:
    """Run ``job``'s notebook, again without each cell that kills or hangs the kernel; return the result dict."""
    notebook = nbformat.from_dict(job["notebook"])
    log, skipped, failed_checks = Log(), dict[int, str](), dict[int, dict]()
    where_it_stands, at_end = dict[str, dict](), dict[str, dict]()
    for _ in range(job["max_restarts"] + 1):
        log.errors, log.tampering = [], []  # what the last run saw
        try:
            where_it_stands, at_end = await _Run(notebook, job, log, skipped, failed_checks).run()
            break
        except _Restart as restart:
            kill_descendants()  # what the broken run started (forked copies of its kernel, say) goes with it
            if restart.check:
                failed_checks[restart.index] = _killed_by_check(restart.reason)
            else:
                skipped[restart.index] = restart.reason
    return {
        "handovers": {"where_it_stands": where_it_stands, "at_end": at_end},
        "errors": log.errors,
        "tampering": log.tampering,
        "timeouts": log.timeouts,
        "kernel_deaths": log.kernel_deaths,
        "budget_exhausted": log.budget_exhausted,
        "skipped": [f"{describe(notebook, index)}, which {reason}" for index, reason in skipped.items()],
    }


def main() -> int:
    # zmq sends a large message (a hand-over cell carries the checks' code) without copying it, and then
    # needs a thread to free it; a submission that filled its cap of processes leaves no room for one
    zmq.COPY_THRESHOLD = 2**31 - 1
    die_with_parent()
    hide_from_children()
    adopt_orphans()
    try:
        job = json.loads(sys.stdin.read())
        apply_limits(Limits(**job["limits"]))
        result = asyncio.run(run_with_restarts(job))
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

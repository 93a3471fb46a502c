"""The checker process: imports what the checks need, then judges one submission's hand-overs, each apart.

Started by ``grading.checker.judge.Checker`` inside its sandbox (``grading.sandbox.checker_command``),
never by hand, as soon as the submission's kernel starts, so that its imports run meanwhile. It
reads one job on stdin (the master's checks and the hand-overs, written by the grader once the
kernel is gone) and writes the results on stdout, each a length-prefixed JSON message.

Before it reads the job it puts its walls up (``walls``): it becomes ``nobody`` when started as
root, may gain no privileges, and adds an audit hook. Then each exercise's hand-overs are judged in a
child of its own, forked for it, which closes every file but the pipe its results go back on, may start
no process or thread, adds a stricter audit hook, and is killed when it runs past its time. So an
exercise that hangs, crashes or breaks a wall fails alone, and cannot touch another's verdict.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")  # the checker has no screen; set before any check imports pyplot

import sklearn.datasets  # noqa: E402, F401  (the checks' data; imported once, here)
import sklearn.model_selection  # noqa: E402, F401
import torch  # noqa: E402
import torch.utils.data  # noqa: E402, F401

import self_check  # noqa: E402
from grading.checker import judge, walls  # noqa: E402
from grading.sandbox import die_with_parent, hide_from_children  # noqa: E402
from self_check.rebuilder import load_handover, rebuild  # noqa: E402

JOB_LIMIT = 4 * 2**30  # bytes of one job: a submission's largest hand-overs, base64, with the check code
RESULT_LIMIT = 2**20  # bytes of one exercise's result, as a judging child sends it back
JUDGE_SLACK_S = 10.0  # seconds a judging child may take beyond its check's limit (loading and rebuilding)


def warm_up() -> None:
    """Pay once, here, what every judging child would pay on first use: torch's kernels, optimizers, figures.

    Torch runs on one thread, so that no thread pool exists when a judging child is forked (a
    pool does not survive a fork, and a child may start no thread); the checks' models are small.
    """
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    layers = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten())
    with torch.inference_mode():
        logits = torch.nn.functional.linear(layers(torch.zeros(2, 1, 8, 8)), torch.zeros(3, 18))
        torch.nn.functional.cross_entropy(logits, torch.zeros(2, dtype=torch.long)).item()
        torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], torch.zeros(2)).item()
    from matplotlib.figure import Figure

    figure = Figure()
    axes = figure.add_subplot()
    axes.contourf([[0.0, 1.0], [1.0, 0.0]])
    axes.scatter([0.0], [1.0])
    axes.plot([0.0, 1.0], [1.0, 0.0])
    axes.imshow([[0.0, 1.0]], cmap="gray")
    axes.set_title("warm-up")
    figure.canvas.draw()
    # one hand-over of every kind, loaded and rebuilt: what loading imports on first use, it imports here
    answers = {
        "model": layers,
        "optimizer": torch.optim.SGD(layers.parameters(), lr=0.1),  # its first construction imports torch._dynamo
        "adam": torch.optim.Adam(layers.parameters(), lr=0.1),
        "figure": figure,
        "loader": torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(4, 1), torch.zeros(4)), 2),
        "values": [np.zeros(2), np.float32(1.0), torch.Size([1]), torch.float16, range(2), {"a": (1, None)}],
    }
    rebuilt = rebuild(load_handover(_handed_over_apart(answers)))
    with torch.inference_mode():
        rebuilt["model"](torch.zeros(1, 1, 8, 8))
    for _ in rebuilt["loader"]:  # a DataLoader's first iteration builds what it needs (typing compiles)
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        self_check.warm_up()


def _handed_over_apart(answers: dict) -> bytes:
    """``answers`` handed over as a kernel would, by a child: the checker itself never imports the kernel's side."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the kernel's side, once, on the checker's own objects
        try:
            from self_check.handover import hand_over_bytes

            write_message(write_end, hand_over_bytes(answers, list(answers)))
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        return read_message(read_end, JOB_LIMIT)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def read_message(fd: int, limit: int) -> bytes:
    """One length-prefixed message from ``fd``, refused when longer than ``limit`` bytes."""
    header = _read_exactly(fd, 8)
    length = int.from_bytes(header, "big")
    if length > limit:
        raise ValueError(f"a message of {length} bytes is over the limit of {limit}")
    return _read_exactly(fd, length)


def _read_exactly(fd: int, count: int) -> bytes:
    chunks, left = [], count
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the message ended early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_message(fd: int, payload: bytes) -> None:
    data = len(payload).to_bytes(8, "big") + payload
    while data:
        data = data[os.write(fd, data) :]


def _become_judge(result_fd: int, job: dict) -> None:
    """In a forked child: keep only the result pipe, then put up the judging process's walls."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for standard in (0, 1, 2):  # the checker's stdout carries the results: a child must not write there
        os.dup2(devnull, standard)
    os.closerange(3, result_fd)
    os.closerange(result_fd + 1, 1 << 16)
    processes = "process limit" in job["layers"]
    walls.limit_judge(job["memory_bytes"], int(job["check_timeout"] * job["parts"] + JUDGE_SLACK_S), processes)
    if "audit hook" in job["layers"]:
        walls.guard(Path(os.environ.get("TMPDIR", "/tmp")), judge.CHECKER_READS, judging=True)


def _judged_apart(name: str, handed: dict[str, object], job: dict) -> dict[str, dict[str, Any]]:
    """Exercise ``name``'s result at each stage of ``handed``, judged in a child process of its own with a hard limit.

    One child judges an exercise's stages one after the other, and sends each result as it has
    it: a stage that hangs or crashes the child fails alone, and the stages judged before it keep
    their verdicts. A child could corrupt only its own exercise's verdicts, which a child per stage
    would not protect either, and a fork is the most a judging costs beside its checks.
    """
    parts = len(self_check.EXERCISES[name]["parts"]) * len(handed)  # each judged under the check's time limit
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: judge, send the results, and leave without running anything of the parent's
        try:
            os.close(read_end)
            _become_judge(write_end, job | {"parts": parts})
            for stage, one in handed.items():
                try:
                    result = judge.judged(name, one, job["check_timeout"], job["limit"])
                except Exception as error:  # noqa: BLE001  (a failure of judging is this stage's verdict)
                    result = judge.failed("the checker", f"judging this exercise stopped ({_why(error)})")
                write_message(write_end, json.dumps({"stage": stage, "result": result}).encode()[:RESULT_LIMIT])
        except BaseException as error:  # noqa: BLE001  (whatever stops the child fails what it had not sent)
            with contextlib.suppress(BaseException):
                why = f"judging this exercise stopped ({_why(error)})"
                write_message(write_end, json.dumps({"stage": "", "result": judge.failed("the checker", why)}).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + job["check_timeout"] * parts + JUDGE_SLACK_S
    try:  # a message for each stage, and one for what stopped the child
        received, _ = judge.read_until_end(read_end, deadline, (RESULT_LIMIT + 8) * (len(handed) + 1))
    finally:
        os.close(read_end)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    sent = _messages(received)
    why = "ran past its time limit" if time.monotonic() >= deadline else "stopped without a result"
    hint = self_check.EXERCISES[name]["hint"]
    unsent = (
        judge.result_of(sent[""], hint)
        if "" in sent
        else judge.failed("the checker", f"judging this exercise {why}, so it could not be judged")
    )
    return {stage: judge.result_of(sent[stage], hint) if stage in sent else unsent for stage in handed}


def _why(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"


def _messages(received: bytes) -> dict[str, object]:
    """``{stage: result}`` from the whole length-prefixed messages in ``received``; whatever else, ignored."""
    sent: dict[str, object] = {}
    while len(received) >= 8:
        length = int.from_bytes(received[:8], "big")
        message, received = received[8 : 8 + length], received[8 + length :]
        if len(message) < length:
            break  # cut short: the child was killed while it wrote
        with contextlib.suppress(ValueError):
            decoded = json.loads(message)
            if isinstance(decoded, dict) and isinstance(decoded.get("stage"), str):
                sent.setdefault(decoded["stage"], decoded.get("result"))
    return sent


def judge_job(job: dict) -> dict[str, dict[str, dict]]:
    """``{stage: {exercise: result}}``: every exercise of ``job`` judged apart, with the master's checks."""
    self_check.EXERCISES.clear()  # the checks of this job alone
    exec(compile(job["checks_code"], "<course checks>", "exec"), {"__name__": "__course_checks__"})
    results: dict[str, dict[str, dict]] = {stage: {} for stage in judge.STAGES}
    by_exercise: dict[str, dict[str, object]] = {}
    for stage in judge.STAGES:
        for name, handed in job["handovers"].get(stage, {}).items():
            if name in self_check.EXERCISES:
                by_exercise.setdefault(name, {})[stage] = handed
    for name, handed in by_exercise.items():
        for stage, result in _judged_apart(name, handed, job).items():
            results[stage][name] = result
    return results


def python_path() -> list[str]:
    """Where this Python imports from (its isolated path, a ``.pth``'s folders included), but the grader's folder."""
    return [entry for entry in sys.path if entry and Path(entry).resolve() != judge.REPO_ROOT]


def main(layers: Iterable[str] = walls.LAYERS) -> None:
    """Judge the job on stdin behind the walls ``layers``: all of them, but where a test proves what each stops."""
    layers = frozenset(layers)
    die_with_parent()  # a grader killed outright takes its checker with it
    warm_up()
    # what exists now stays out of the collector's sight: a judging child that collects would otherwise
    # touch, and so copy, every object it inherited
    gc.freeze()
    if "nobody" in layers:
        walls.drop_privileges()
    if "no new privileges" in layers:
        walls.no_new_privileges()
    hide_from_children()  # no process of this user may trace this one or read its memory
    private = Path(os.environ.get("TMPDIR", "/tmp"))
    if "audit hook" in layers:
        walls.guard(private, [*judge.CHECKER_READS, *map(Path, python_path())])
    try:
        job = json.loads(read_message(0, JOB_LIMIT)) | {"layers": sorted(layers)}
        results = judge_job(job)
    except Exception:  # the grader sees why in the checker's log, and fails what was not judged
        traceback.print_exc()
        raise SystemExit(1) from None
    write_message(1, json.dumps(results).encode())


if __name__ == "__main__":
    main()

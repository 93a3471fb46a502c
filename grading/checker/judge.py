"""The checker: every verdict on a submission, in a sandbox of its own in which no student code has run.

``Checker`` starts one submission's checker process (``grading/checker/server.py``) as the
submission's kernel starts, so that its imports run meanwhile, inside a sandbox of its own
(``grading.sandbox.checker_command``): bubblewrap with only Python, its packages and the grader's
code to read, a private ``/tmp`` to write, no network and no capabilities, as ``nobody`` when the
grader is root. It reads only what its kernel handed over: base64 text, decoded into bytes and
loaded with ``torch.load(..., weights_only=True)`` and rebuilt (``self_check.rebuilder``). It executes
the check cells of the course's master, judges each exercise's hand-overs in a child
process of its own with a hard time limit, and sends the results back as JSON. It is sent its job after the
submission's kernel is gone, so the kernel can neither signal it, trace it, nor write its memory.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grading import sandbox
from grading.checker import walls

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CHECKER_READS = (REPO_ROOT / "grading", REPO_ROOT / "self_check")  # all of the repository a checker may read
STAGES = ("where_it_stands", "at_end")
START_S = 300.0  # how long a checker may take to import its libraries, on a slow and busy machine
RESULTS_LIMIT = 64 * 2**20  # bytes of a checker's results
_SLACK_S = 20.0  # seconds a checker may take beyond its checks' own limits (forking, rebuilding, replying)


def failed(part: str, message: str, hint: str = "") -> dict[str, Any]:
    return {"passed": False, "part": part, "message": message, "hint": hint}


def result_of(raw: object, hint: str) -> dict[str, Any]:
    """A judged result as the grader keeps it, whatever ``raw`` was: bounded text, booleans, and each part's.

    The points are not kept: the grader counts them from the master's parts and these verdicts.
    """
    if not isinstance(raw, dict):
        return failed("the checker", "judging this exercise gave no result", hint)
    parts = raw["parts"] if isinstance(raw.get("parts"), list) else []
    return _verdict(raw) | {
        "parts": [
            _verdict(part) | {"name": str(part.get("name", ""))[:200]} for part in parts[:100] if isinstance(part, dict)
        ]
    }


def _verdict(raw: dict) -> dict[str, Any]:
    return {key: str(raw.get(key, ""))[:2000] for key in ("part", "message", "hint")} | {
        "passed": raw.get("passed") is True,
        "judged": raw.get("judged", True) is True,
        "unjudgeable": raw.get("unjudgeable") is True and raw.get("passed") is not True,
    }


def _decoded(handed: object, limit: int) -> bytes | str:
    """The bytes a kernel handed over for one exercise, or the text of why there are none."""
    if not isinstance(handed, dict):
        return "nothing was handed over"
    if isinstance(handed.get("error"), str):
        return handed["error"][:2000]
    data = handed.get("data")
    if not isinstance(data, str) or len(data) > limit * 4 // 3 + 4:
        return f"the hand-over is missing or larger than {limit / 2**20:.0f} MB"
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return "the hand-over is not base64 text"


def judged(name: str, handed: object, check_timeout: float, limit: int) -> dict[str, Any]:
    """Exercise ``name``'s result on ``handed`` by the master's checks (loaded in ``self_check``), each part timed."""
    import self_check  # the checker's copy of the course's: the checks registered themselves in it

    result = self_check.judge(name, _decoded(handed, limit), time_limit=check_timeout)
    return result_of(result, self_check.EXERCISES[name]["hint"])


def _environment(private: Path) -> dict[str, str]:
    """The checker's environment: nothing of the grader's but the locale; its folders in its private one."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(private),
        "TMPDIR": str(private),
        "MPLCONFIGDIR": str(private / "matplotlib"),
        "XDG_CACHE_HOME": str(private / "cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "JOBLIB_MULTIPROCESSING": "0",  # joblib would look for shared memory, which the checker has none of
    }


class Checker:
    """One submission's checker: a sandboxed process started now, sent its job once the kernel is gone."""

    def __init__(self, mode: str, limits: sandbox.Limits, log: Path, *, layers: frozenset[str] = walls.LAYERS) -> None:
        """Start the checker with its own walls ``layers`` up: all of them, but where a test proves what each stops."""
        self.folder = Path(tempfile.mkdtemp(prefix="grading-checker-"))  # without bubblewrap, its private folder
        private = Path("/tmp") if mode == "bwrap" else self.folder
        if mode != "bwrap" and os.geteuid() == 0:
            os.chown(self.folder, walls.NOBODY, walls.NOBODY)  # the checker drops to nobody and writes here
        bootstrap = (
            f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); "
            f"from grading.checker import server; server.main(layers={sorted(layers)!r})"
        )
        argv = [sys.executable, "-I", "-c", bootstrap]
        self.memory_bytes = limits.memory_bytes
        self.started = time.monotonic()
        with open(log, "wb") as errors:
            self.process = subprocess.Popen(
                sandbox.checker_command(argv, CHECKER_READS, mode, limits),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_environment(private),
                cwd=self.folder,
                start_new_session=True,
            )
        self.log = log

    def judge(self, checks_code: str, handovers: dict, check_timeout: float, limit: int) -> dict[str, dict[str, dict]]:
        """``{stage: {exercise: result}}`` for ``handovers``; an exercise it did not answer fails, saying why."""
        job = {
            "checks_code": checks_code,
            "handovers": handovers,
            "check_timeout": check_timeout,
            "memory_bytes": self.memory_bytes,
            "limit": limit,
        }
        count = sum(len(by_name) for by_name in handovers.values())
        deadline = self.started + START_S + (check_timeout + _SLACK_S) * count + _SLACK_S
        try:
            payload = json.dumps(job).encode()
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(len(payload).to_bytes(8, "big") + payload)
            self.process.stdin.close()
            raw = _read_results(self.process.stdout.fileno(), deadline)
            results = json.loads(raw)
            return {
                stage: {name: result_of(results.get(stage, {}).get(name), "") for name in handovers.get(stage, {})}
                for stage in STAGES
            }
        except TimeoutError:
            why = "the checker ran out of time"
        except (EOFError, OSError, ValueError) as error:
            tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] if self.log.exists() else []
            why = f"the checker stopped ({type(error).__name__}{': ' + tail[0][:200] if tail else ''})"
        finally:
            self.close()
        failure = failed("the checker", f"{why}, so this exercise could not be judged")
        return {stage: {name: failure for name in handovers.get(stage, {})} for stage in STAGES}

    def close(self) -> None:
        """Kill the checker and everything in its sandbox, and remove its folder."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _read_results(fd: int, deadline: float) -> bytes:
    """The checker's one length-prefixed message on ``fd``, within ``deadline`` and ``RESULTS_LIMIT``."""
    received, ended = read_until_end(fd, deadline, RESULTS_LIMIT + 8)
    if len(received) > RESULTS_LIMIT + 8:
        raise ValueError("the checker's results are over their limit")
    if not ended:
        raise TimeoutError
    if len(received) < 8 or int.from_bytes(received[:8], "big") != len(received) - 8:
        raise EOFError("the checker's results ended early")
    return received[8:]


def read_until_end(fd: int, deadline: float, limit: int) -> tuple[bytes, bool]:
    """The bytes on ``fd`` until it ends, ``deadline`` passes or over ``limit`` arrived, and whether it ended."""
    received = b""
    while len(received) <= limit:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return received, True
        received += chunk
    return received, False


def judge_submission(
    checks_code: str,
    handovers: dict,
    check_timeout: float,
    memory_bytes: int,
    limit: int,
    mode: str = "auto",
    layers: frozenset[str] = walls.LAYERS,
) -> dict[str, dict[str, dict]]:
    """``{stage: {exercise: result}}`` for the hand-overs of one submission, judged by a checker of their own.

    ``handovers`` is ``{stage: {exercise: {"data": base64} or {"error": text}}}``, as the driver
    collected it. A checker that fails or runs out of time fails every exercise it had not answered.
    """
    with tempfile.TemporaryDirectory(prefix="grading-checker-log-") as folder:
        limits = sandbox.Limits(memory_bytes=memory_bytes)
        checker = Checker(sandbox.resolve_mode(mode), limits, Path(folder) / "checker.log", layers=layers)
        return checker.judge(checks_code, handovers, check_timeout, limit)

"""The checker: every verdict on a submission, in a fresh process in which no student code has run.

``judge_submission`` asks the checker's fork server (``grading/checker/server.py``) for a process
of its own for one submission. The server has imported the checks' libraries once, and forks a
child per submission, so that each starts in milliseconds with nothing of any submission's in it.
That child imports no module of the submission's and reads only what its kernel handed over:
base64 text, decoded into bytes and loaded with ``torch.load(..., weights_only=True)``
(``grading/checker/rebuild.py``). It executes the harness and check cells of the course's master,
rebuilds each exercise's values, runs its check under a time limit of its own, and sends the
results back as JSON. It starts after the submission's kernel is gone, so the kernel can neither
signal it, trace it, nor write its memory or its files.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
STAGES = ("where_it_stands", "at_end")
SERVER_START_S = 300.0  # how long the fork server may take to import its libraries, on a slow and busy machine
_SLACK_S = 20.0  # seconds a checker may take beyond its checks' own limits (forking, rebuilding, replying)
_server: dict[str, Any] = {}
_server_lock = threading.Lock()


def start() -> None:
    """Launch the fork server now, so that its imports run while the first submission's kernel does."""
    with _server_lock:
        if _server.get("process") is not None and _server["process"].poll() is None:
            return
        folder = tempfile.mkdtemp(prefix="grading-checker-")  # 0700: only this user may connect
        address = str(Path(folder) / "socket")
        bootstrap = (
            f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); "
            f"from grading.checker import server; server.main({address!r})"
        )
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "TMPDIR": folder},  # what torch caches there goes when the server does
        )
        _server.update(process=process, address=address, folder=folder)
        atexit.register(stop)


def stop() -> None:
    """Stop the fork server (and with it any checker still running)."""
    with _server_lock:
        process = _server.pop("process", None)
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        folder = _server.pop("folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def _connect() -> socket.socket:
    start()
    deadline = time.monotonic() + SERVER_START_S
    while True:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            client.connect(_server["address"])
            return client
        except (FileNotFoundError, ConnectionRefusedError):
            client.close()
            if _server["process"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the checker's fork server did not start") from None
            time.sleep(0.05)


def send_message(connection: socket.socket, payload: bytes) -> None:
    connection.sendall(struct.pack("!Q", len(payload)) + payload)


def receive_message(connection: socket.socket, limit: int) -> bytes:
    """One length-prefixed message, refused when longer than ``limit`` bytes."""
    (length,) = struct.unpack("!Q", _receive_exactly(connection, 8))
    if length > limit:
        raise ValueError(f"a message of {length} bytes is over the limit of {limit}")
    return _receive_exactly(connection, length)


def _receive_exactly(connection: socket.socket, count: int) -> bytes:
    chunks, left = [], count
    while left:
        chunk = connection.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the connection closed early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class _CheckTimeout(BaseException):  # not an Exception: a check's own `except Exception` must not swallow it
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _CheckTimeout


def _failed(part: str, message: str, hint: str = "") -> dict[str, Any]:
    return {"passed": False, "part": part, "message": message, "hint": hint}


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


def _judge(namespace: dict, name: str, handed: object, check_timeout: float, limit: int) -> dict[str, Any]:
    signal.setitimer(signal.ITIMER_REAL, check_timeout)
    try:
        result = namespace["judge"](name, _decoded(handed, limit))
    except _CheckTimeout:
        hint = namespace["EXERCISES"][name]["hint"]
        return _failed("time limit", f"the check ran longer than {check_timeout:g} s and was stopped", hint)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {key: str(result.get(key, ""))[:2000] for key in ("part", "message", "hint")} | {
        "passed": result.get("passed") is True
    }


def judge_job(job: dict) -> dict[str, dict[str, dict]]:
    """What a checker process does: judge every hand-over of ``job`` with the master's checks."""
    resource.setrlimit(resource.RLIMIT_AS, (job["memory_bytes"], job["memory_bytes"]))
    signal.signal(signal.SIGALRM, _on_alarm)
    namespace: dict[str, Any] = {"__name__": "__course_checks__"}
    exec(compile(job["checks_code"], "<course checks>", "exec"), namespace)
    return {
        stage: {
            name: _judge(namespace, name, handed, job["check_timeout"], job["limit"])
            for name, handed in job["handovers"].get(stage, {}).items()
            if name in namespace["EXERCISES"]
        }
        for stage in STAGES
    }


def judge_submission(
    checks_code: str, handovers: dict, check_timeout: float, memory_bytes: int, limit: int
) -> dict[str, dict[str, dict]]:
    """``{stage: {exercise: result}}`` for the hand-overs of one submission, judged in a process of their own.

    ``handovers`` is ``{stage: {exercise: {"data": base64} or {"error": text}}}``, as the driver
    collected it. A checker that fails or runs out of time fails every exercise it had not answered.
    """
    job = {
        "checks_code": checks_code,
        "handovers": handovers,
        "check_timeout": check_timeout,
        "memory_bytes": memory_bytes,
        "limit": limit,
    }
    count = sum(len(by_name) for by_name in handovers.values())
    pid = None
    try:
        with _connect() as connection:
            connection.settimeout(check_timeout * count + _SLACK_S)
            pid = int(receive_message(connection, 32))
            send_message(connection, json.dumps(job).encode())
            return json.loads(receive_message(connection, 64 * 2**20))
    except TimeoutError:
        why = "the checker ran out of time"
    except (EOFError, OSError, ValueError) as error:
        why = f"the checker stopped ({type(error).__name__})"
    finally:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    failure = _failed("the checker", f"{why}, so this exercise could not be judged")
    return {stage: {name: failure for name in handovers.get(stage, {})} for stage in STAGES}

"""Wall 2: the checker in a sandbox of its own holds even when the replay (wall 1) is broken.

A snippet stands for an attacker who broke the replay: it is the check of an exercise, so it
runs inside a checker started exactly as the grader starts one (``judge_submission``), in the
process that judges a hand-over, as the user the tests run as (root in CI, as under Gradescope).
From there it tries to write into the repository, ``--out``, ``site-packages``, the home folder
and the shared ``/tmp``; to read a master and another submission; to open a socket; to start a
process. Every attempt must fail, with the sandbox and the audit hook together, and with each
of them down in turn: two walls, each enough on its own.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import site
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

from grading import sandbox
from grading.checker.judge import judge_submission
from grading.checks import load_checks
from self_check.handover import hand_over_bytes

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTER = REPO_ROOT / "solutions" / "assignment_06_classification.py"

# what an attacker who broke the replay runs, as the check of the exercise `escape`
SNIPPET = """
def __attempts(targets):
    import os, socket, subprocess

    outcome = {"uid": os.getuid()}

    def attempt(name, action):
        try:
            action()
            outcome[name] = "done"
        except BaseException as error:  # everything a wall raises, recorded
            outcome[name] = f"{type(error).__name__}: {str(error)[:50]}"

    def succeeded(status):
        if status != 0:
            raise OSError(f"exit status {status}")

    for name, path in targets["writes"].items():
        attempt(f"write {name}", lambda path=path: open(path, "w").write("escaped"))
    for name, path in targets["reads"].items():
        attempt(f"read {name}", lambda path=path: open(path).read())
    attempt("tcp", lambda: socket.socket().connect(("127.0.0.1", targets["port"])))
    attempt("unix", lambda: socket.socket(socket.AF_UNIX).connect(targets["unix"]))
    marker = targets["process_marker"]
    attempt("subprocess", lambda: subprocess.run(["/bin/sh", "-c", f"echo x > {marker}"], check=True, timeout=5))
    attempt("os.system", lambda: succeeded(os.system(f"echo x > {marker}")))
    attempt("fork", lambda: os._exit(0) if os.fork() == 0 else None)
    return outcome


@exercise("escape", points=1, hint="-", reads=())
def check_escape(ns):
    expect(False, "escape", json.dumps(__attempts(__TARGETS)), "-")
"""


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    """Host paths the snippet aims at, a TCP and a Unix socket listening on the host, and what the test cleans up."""
    root = tmp_path_factory.mktemp("walls")
    token = f"wall-test-{uuid.uuid4().hex[:8]}"
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    out.mkdir()
    other = submissions / "other_student.ipynb"
    other.write_text('{"secret": "another student\'s answers"}')
    home_secret = Path.home() / f".{token}-secret"
    home_secret.write_text("the instructor's own file")
    writes = {
        "repository": REPO_ROOT / f"{token}.txt",
        "the grader's code": REPO_ROOT / "grading" / f"{token}.py",
        "--out": out / f"{token}.json",
        "site-packages": Path(site.getsitepackages()[0]) / f"{token}.pth",
        "home": Path.home() / f"{token}.txt",
        "shared /tmp": Path("/tmp") / f"{token}.txt",
    }
    reads = {"a master": MASTER, "another submission": other, "the home folder": home_secret}
    tcp = socket.create_server(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(root / "socket"))
    unix.listen()
    accepted: list[str] = []

    def accept(server: socket.socket) -> None:
        try:
            connection, _ = server.accept()
            accepted.append(server.family.name)
            connection.close()
        except OSError:
            pass

    for server in (tcp, unix):
        threading.Thread(target=accept, args=(server,), daemon=True).start()
    spec = {
        "writes": {name: str(path) for name, path in writes.items()},
        "reads": {name: str(path) for name, path in reads.items()},
        "port": tcp.getsockname()[1],
        "unix": str(root / "socket"),
        "process_marker": str(root / f"{token}-process"),
    }
    yield {"spec": spec, "writes": writes, "accepted": accepted, "marker": root / f"{token}-process"}
    tcp.close()
    unix.close()
    home_secret.unlink()
    for path in writes.values():
        path.unlink(missing_ok=True)


def escape_attempts(targets: dict, mode: str, audit_hook: bool) -> dict:
    """What the snippet achieved in a checker started as in production, with ``mode`` and the audit hook as given."""
    checks = load_checks("assignment_06")
    code = checks.code + f"\n\nimport json\n__TARGETS = {json.dumps(targets['spec'])}\n" + SNIPPET
    data = base64.b64encode(hand_over_bytes({}, [])).decode()
    results = judge_submission(
        code, {"where_it_stands": {"escape": {"data": data}}}, 30.0, 8 * 2**30, 2**20, mode, audit_hook
    )
    result = results["where_it_stands"]["escape"]
    assert result["part"] == "escape", result  # the snippet ran, and reported
    return json.loads(result["message"])


def assert_nothing_got_out(targets: dict, outcome: dict) -> None:
    escaped = [name for name, path in targets["writes"].items() if path.exists()]
    assert not escaped, f"files written outside the checker: {escaped}"
    assert not targets["marker"].exists(), "a process started by the checker wrote its marker"
    assert not targets["accepted"], f"the checker connected to {targets['accepted']}"
    failed_to_do = {name: why for name, why in outcome.items() if name != "uid"}
    private_tmp = outcome.get("write shared /tmp") == "done"  # it wrote its own private /tmp, not the host's
    done = [name for name, why in failed_to_do.items() if why == "done" and not (name == "write shared /tmp")]
    assert not done, f"the checker did {done}: {outcome}"
    if os.geteuid() == 0:
        assert outcome["uid"] == 65534, "a checker started as root must run as nobody"
    assert private_tmp or "write shared /tmp" in failed_to_do


def bwrap_or_skip() -> None:
    if not sandbox.bwrap_works():
        pytest.skip("bubblewrap is not installed or cannot make a sandbox here (apt-get install bubblewrap)")


def test_every_escape_fails_in_the_checker_as_the_grader_starts_it(targets):
    bwrap_or_skip()
    assert_nothing_got_out(targets, escape_attempts(targets, "bwrap", audit_hook=True))


def test_the_sandbox_alone_stops_every_escape(targets):
    bwrap_or_skip()
    outcome = escape_attempts(targets, "bwrap", audit_hook=False)
    assert_nothing_got_out(targets, outcome)
    assert not any("checker may not" in why for why in map(str, outcome.values()))  # no audit hook answered


def test_the_audit_hook_and_the_dropped_privileges_alone_stop_every_escape(targets):
    outcome = escape_attempts(targets, "none", audit_hook=True)
    assert_nothing_got_out(targets, outcome)
    refused_by_hook = [name for name, why in outcome.items() if "checker may not" in str(why)]
    assert {"tcp", "subprocess", "os.system", "fork", "read a master", "write repository"} <= set(refused_by_hook)


# ---------------------------------------------------------------- the escape that worked before the walls
ESCAPE_CELL = """
import self_check.tracing as _tracing, torch.fx as _fx, torch.nn.functional as _F
_honest_trace = _tracing._fx_trace
def _trace(module):  # the honest two-layer model, with a few more steps in its forward pass
    if type(module).__name__ != "CircleModelV0":
        return _honest_trace(module)
    graph = _fx.Graph()
    x = graph.placeholder("x")
    for i, (path, text) in enumerate(@TARGETS@):
        module.register_buffer(f"payload_{i}", torch.tensor(list(text.encode()), dtype=torch.uint8), persistent=False)
        array = graph.call_method("numpy", (graph.get_attr(f"payload_{i}"),))
        write = graph.call_function(getattr, (array, "tofile"))  # a bound method, from an attribute
        graph.call_function(_F.handle_torch_function, (write, (x,), path))  # which calls what it is handed
    graph.output(graph.call_module("layer_2", (graph.call_module("layer_1", (x,)),)))
    return _fx.GraphModule(module, graph)
_tracing._fx_trace = _trace
"""


@pytest.mark.slow
def test_the_forward_pass_that_wrote_the_students_bytes_anywhere_writes_nothing_and_fails_exercise_3(tmp_path):
    """Before the walls, this submission scored 9/9 and wrote into /tmp, the repository and site-packages."""
    token = uuid.uuid4().hex[:8]
    paths = {
        "an absolute path": tmp_path / f"escape-{token}.txt",
        "a path relative to the grader": REPO_ROOT / f"escape-{token}.txt",
        "site-packages": Path(site.getsitepackages()[0]) / f"escape-{token}.pth",
    }
    relative = {**paths, "a path relative to the grader": Path(f"escape-{token}.txt")}
    targets = [[str(path), "# written by the checker\n"] for path in relative.values()]
    notebook = nbformat.read(REPO_ROOT / "solutions" / "assignment_06_classification.ipynb", as_version=4)
    (cell,) = [c for c in notebook.cells if "model_0 = CircleModelV0().to(device)" in c.source]
    cell.source = cell.source.replace(
        "model_0 = CircleModelV0().to(device)",
        "model_0 = CircleModelV0().to(device)\n" + ESCAPE_CELL.replace("@TARGETS@", repr(targets)),
    )
    nbformat.write(notebook, tmp_path / "escape.ipynb")
    command = [sys.executable, "-m", "grading", "grade", "assignment_06", str(tmp_path / "escape.ipynb")]
    try:
        graded = subprocess.run(
            [*command, "--out", str(tmp_path / "out"), "--jobs", "1"], cwd=REPO_ROOT, capture_output=True, text=True
        )
        written = [name for name, path in paths.items() if path.exists()]
    finally:
        for path in paths.values():
            path.unlink(missing_ok=True)
    assert graded.returncode == 0, graded.stderr[-2000:]
    assert not written, f"the checker wrote the student's bytes to {written}"
    with open(tmp_path / "out" / "grades.csv", newline="") as sheet:
        (row,) = csv.DictReader(sheet)
    # exercises 3 and 5 run model_0's forward pass; every other exercise keeps its point
    assert {name for name in (f"ex{n}" for n in range(1, 10)) if row[name] == "0"} == {"ex3", "ex5"}, row
    feedback = (tmp_path / "out" / "feedback" / "escape.ipynb.md").read_text()
    assert "step 2 of CircleModelV0.forward (call_method numpy) calls the method 'numpy'" in feedback
    tampering = feedback.split("## Tampering seen", 1)[-1]
    assert "self_check.tracing._fx_trace" in tampering  # and the instructor is told which cell replaced the tracer

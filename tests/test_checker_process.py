"""The checker's process, piece by piece: its walls alone, its judging of each exercise apart, its messages.

``test_checker_walls.py`` proves the walls from inside a checker started as in production. Here
each piece runs on its own: the audit hook and the limits in a plain Python process (so that what
they refuse is seen one thing at a time), and the checker's judging of a job in this process, where
each exercise still goes to a child of its own that may hang, crash or lie.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grading import sandbox
from grading.checker import judge, server, walls
from grading.checks import CHECKS_HEADER
from self_check.handover import hand_over_bytes

REPO_ROOT = Path(__file__).resolve().parent.parent


def in_a_process(code: str, tmp_path: Path) -> dict:
    """Run ``code`` (which fills ``seen``) in a fresh Python process with the repository importable; return ``seen``."""
    script = "import json, os, sys\nsys.path.insert(0, {root!r})\nseen = {{}}\n{code}\nprint(json.dumps(seen))"
    run = subprocess.run(
        [sys.executable, "-c", script.format(root=str(REPO_ROOT), code=textwrap.dedent(code))],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,  # where coverage, measuring the tests' subprocesses, keeps what it saw
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.splitlines()[-1])


ATTEMPT = """
def attempt(name, action):
    try:
        action()
        seen[name] = "done"
    except BaseException as error:
        seen[name] = type(error).__name__ + ": " + str(error)[:80]
"""


def test_the_audit_hook_refuses_what_a_checker_never_does(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    (tmp_path / "master.py").write_text("the solutions")
    seen = in_a_process(
        ATTEMPT
        + f"""
from pathlib import Path
import ctypes, socket, subprocess
from grading.checker import walls
walls.guard(Path({str(private)!r}), [Path({str(REPO_ROOT / "grading")!r})])
attempt("write private", lambda: open({str(private / "ok.txt")!r}, "w").write("fine"))
attempt("read grading", lambda: open({str(REPO_ROOT / "grading" / "__init__.py")!r}).read())
attempt("write outside", lambda: open({str(tmp_path / "escaped.txt")!r}, "w").write("no"))
attempt("open for writing with flags", lambda: os.open({str(tmp_path / "flags.txt")!r}, os.O_WRONLY | os.O_CREAT))
attempt("read a master", lambda: open({str(tmp_path / "master.py")!r}).read())
attempt("list a folder", lambda: os.listdir({str(tmp_path)!r}))
attempt("make a folder", lambda: os.mkdir({str(tmp_path / "new")!r}))
attempt("remove a file", lambda: os.remove({str(private / "ok.txt")!r}))
attempt("socket", lambda: socket.socket())
attempt("subprocess", lambda: subprocess.run(["true"]))
attempt("system", lambda: os.system("true"))
attempt("ctypes", lambda: ctypes.CDLL(None))
attempt("fork while not judging", lambda: os._exit(0) if os.fork() == 0 else os.wait())
walls.guard(Path({str(private)!r}), [], judging=True)
attempt("fork while judging", lambda: os.fork())
attempt("kill", lambda: os.kill(os.getppid(), 0))
""",
        tmp_path,
    )
    assert seen.pop("write private") == "done" and seen.pop("read grading") == "done"
    assert seen.pop("fork while not judging") == "done"  # the checker's main process forks its judges
    allowed = {name: why for name, why in seen.items() if not why.startswith("Refused: the checker may not")}
    assert not allowed, allowed
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "flags.txt").exists()


@pytest.mark.parametrize(
    ("event", "args", "judging", "refused"),
    [
        ("open", ("{private}/cache.json", "w", 0), False, None),
        ("open", ("{grading}/checks.py", "r", 0), False, None),
        ("open", ("{outside}/grades.csv", "a", 0), False, "write"),
        ("open", ("{outside}/grades.csv", None, os.O_RDWR), False, "write"),
        ("open", ("{outside}/master.py", "r", 0), False, "read"),
        ("os.mkdir", ("{outside}/new",), False, "mkdir"),
        ("os.listdir", ("{outside}",), False, "listdir"),
        ("os.listdir", ("{grading}",), False, None),
        ("socket.connect", (None, ("127.0.0.1", 80)), False, "socket.connect"),
        ("subprocess.Popen", ("sh", [], None, None), False, "subprocess.Popen"),
        ("ctypes.dlopen", ("libc.so.6",), False, "ctypes.dlopen"),
        ("os.fork", (), False, None),
        ("os.fork", (), True, "os.fork"),
        ("import", ("tabnanny", None, [], [], []), True, None),  # torch imports on first use of a path
        ("compile", (b"1", "<x>"), True, None),  # as typing compiles a forward reference
        ("os.kill", (1, 9), True, "os.kill"),
    ],
)
def test_the_audit_policy_event_by_event(tmp_path, event, args, judging, refused):
    places = {"private": tmp_path / "private", "grading": REPO_ROOT / "grading", "outside": tmp_path / "outside"}
    args = tuple(arg.format(**places) if isinstance(arg, str) else arg for arg in args)
    hook = walls.policy(places["private"], [places["grading"]], judging)
    if refused is None:
        hook(event, args)
    else:
        with pytest.raises(walls.Refused, match=f"the checker may not {refused}"):
            hook(event, args)


def test_a_judging_process_may_start_no_process_and_root_becomes_nobody(tmp_path):
    seen = in_a_process(
        ATTEMPT
        + """
from grading.checker import walls
walls.drop_privileges()
walls.no_new_privileges()
seen["uids"] = list(os.getresuid())
seen["no_new_privs"] = open("/proc/self/status").read().split("NoNewPrivs:")[1].split()[0]
walls.limit_judge(2**30, 30)
attempt("fork", lambda: os._exit(0) if os.fork() == 0 else os.wait())
attempt("big file", lambda: open("/dev/null", "w").write("x"))
attempt("too much memory", lambda: bytearray(2 * 2**30))
""",
        tmp_path,
    )
    if os.geteuid() == 0:
        assert seen["uids"] == [65534] * 3
    assert seen["no_new_privs"] == "1"
    assert seen["fork"].startswith("BlockingIOError"), seen  # RLIMIT_NPROC 0: not even one more process
    assert seen["too much memory"].startswith("MemoryError"), seen  # RLIMIT_AS: 1 GiB here, for root too


def _job(code: str, handovers: dict, check_timeout: float = 5.0, at_end: dict | None = None) -> dict:
    return {
        "checks_code": CHECKS_HEADER + textwrap.dedent(code),
        "handovers": {"where_it_stands": handovers, "at_end": at_end or {}},
        "check_timeout": check_timeout,
        "memory_bytes": 8 * 2**30,
        "limit": 2**20,
        "layers": sorted(walls.LAYERS),  # in the judging children only: this test's own process adds no hook
    }


def _handed(**values) -> dict:
    return {"data": base64.b64encode(hand_over_bytes(values, list(values))).decode()}


CHECKS = """
import os, time

@exercise("fine", points=1, hint="h", reads=("x",))
def check_fine(ns):
    expect(ns["x"] == 3, "x", "x is not 3", "make it 3")

@exercise("hangs", points=1, hint="h", reads=("x",))
def check_hangs(ns):
    while True:
        pass

@exercise("crashes", points=1, hint="h", reads=("x",))
def check_crashes(ns):
    os._exit(3)

@exercise("forks", points=1, hint="h", reads=("x",))
def check_forks(ns):
    expect(os.fork() == 0, "fork", "forked", "-")

@exercise("staged", points=1, hint="h", reads=("x",))
def check_staged(ns):
    if ns["x"] == 5:
        os._exit(3)
    expect(ns["x"] == 3, "x", "x is not 3", "make it 3")
"""


def test_each_handover_is_judged_apart_and_a_hang_or_a_crash_fails_only_its_own(monkeypatch):
    monkeypatch.setattr(server, "JUDGE_SLACK_S", 1.0)
    handovers = {name: _handed(x=3) for name in ("fine", "hangs", "crashes", "forks")}
    handovers["wrong"] = {"error": "it was handed over more than once"}
    start = time.monotonic()
    results = server.judge_job(_job(CHECKS, handovers, check_timeout=2.0))["where_it_stands"]
    assert time.monotonic() - start < 60  # a guard against a hang: the hanging check would never end
    assert results["fine"]["passed"] is True
    assert results["hangs"]["part"] == "time limit"
    assert "stopped without a result" in results["crashes"]["message"]
    assert "the checker may not os.fork" in results["forks"]["message"]  # a judging process may start none
    assert "wrong" not in results  # not an exercise of these checks


def test_an_exercises_stages_share_a_child_and_a_stage_that_crashes_it_fails_alone(monkeypatch):
    monkeypatch.setattr(server, "JUDGE_SLACK_S", 1.0)
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    job = _job(
        CHECKS,
        {"staged": _handed(x=3), "fine": _handed(x=3)},
        check_timeout=2.0,
        at_end={"staged": _handed(x=5), "fine": _handed(x=4)},
    )
    results = server.judge_job(job)
    assert len(forks) == 2  # one child per exercise, for both of its stages
    assert results["where_it_stands"]["staged"]["passed"] is True  # judged and sent before the crash
    assert "stopped without a result" in results["at_end"]["staged"]["message"]
    assert results["where_it_stands"]["fine"]["passed"] is True
    assert results["at_end"]["fine"]["passed"] is False and results["at_end"]["fine"]["part"] == "x"


def test_what_a_judging_child_sends_is_read_as_whole_messages_by_stage_and_nothing_else():
    def message(payload: bytes) -> bytes:
        return len(payload).to_bytes(8, "big") + payload

    sent = server._messages(
        message(b'{"stage": "at_end", "result": {"passed": true}}')
        + message(b"not json")
        + message(b'["a", "list"]')
        + message(b'{"stage": "at_end", "result": "a second time"}')
        + message(b'{"stage": "where_it_stands", "result": 1}')[:-3]  # cut short by a kill
    )
    assert sent == {"at_end": {"passed": True}}


def test_messages_between_grader_and_checker_are_length_prefixed_and_bounded():
    read_end, write_end = os.pipe()
    server.write_message(write_end, b'{"a": 1}')
    assert server.read_message(read_end, 100) == b'{"a": 1}'
    server.write_message(write_end, b"x" * 200)
    with pytest.raises(ValueError, match="over the limit of 100"):
        server.read_message(read_end, 100)
    os.close(read_end)
    os.close(write_end)
    read_end, write_end = os.pipe()
    os.write(write_end, (50).to_bytes(8, "big") + b"cut short")
    os.close(write_end)
    with pytest.raises(EOFError, match="ended early"):
        server.read_message(read_end, 100)
    os.close(read_end)


def test_a_checker_that_stops_without_results_fails_every_exercise_saying_so(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "checker_command", lambda argv, *rest: [sys.executable, "-c", "print('bye')"])
    checker = judge.Checker("none", sandbox.Limits(), tmp_path / "checker.log")
    results = checker.judge("", {"where_it_stands": {"ex1": _handed(x=1)}}, 1.0, 2**20)
    assert results["where_it_stands"]["ex1"]["message"].startswith("the checker stopped (EOFError")
    assert results["at_end"] == {}


def test_what_a_checker_sends_back_is_kept_only_as_bounded_fields_and_verdicts():
    kept = judge.result_of(
        {"passed": "yes", "part": "p" * 5000, "extra": 1, "points": 99, "parts": [{"name": "a", "passed": True}, 7]},
        "h",
    )
    assert kept == {
        "passed": False,  # only True is a pass
        "judged": True,
        "unjudgeable": False,
        "part": "p" * 2000,
        "message": "",
        "hint": "",
        "parts": [
            {"name": "a", "passed": True, "judged": True, "unjudgeable": False, "part": "", "message": "", "hint": ""}
        ],
    }  # no points: the grader counts them from the master's parts
    # "could not be judged" is kept only for what did not pass: a pass is a pass
    assert judge.result_of({"passed": True, "unjudgeable": True}, "h")["unjudgeable"] is False
    assert judge.result_of({"passed": False, "unjudgeable": True}, "h")["unjudgeable"] is True
    assert judge.result_of(["not", "a", "dict"], "h")["message"] == "judging this exercise gave no result"


def test_the_checker_imports_nothing_of_the_kernels_side_even_to_warm_up(tmp_path):
    """The trust zones in the layout: what the checker runs imports neither self_check.handover nor its tracing."""
    seen = in_a_process(
        """
        import self_check, self_check.judging, self_check.library, self_check.rebuilder, self_check.replay
        seen["package"] = sorted(name for name in sys.modules if name in ("self_check.handover", "self_check.tracing"))
        from grading.checker import server
        server.warm_up()
        seen["checker"] = sorted(name for name in sys.modules if name in ("self_check.handover", "self_check.tracing"))
        """,
        tmp_path,
    )
    assert seen == {"package": [], "checker": []}

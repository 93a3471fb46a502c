"""Start a checker as the grader does and have its judged exercise try every escape: for the wall tests.

Run by ``tests/test_wall_configurations.py`` as the user whose configuration it tests (root, or a
plain user with a Python and a copy of the course of their own): ``python tests/wall_driver.py JOB``
from a course's folder. JOB names the targets, the sandbox mode and the checker's layers; the
driver prints what the attempts achieved, as JSON, on its last line.
"""

import base64
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the course this driver is part of

from grading.checker.judge import judge_submission  # noqa: E402
from grading.checks import load_checks  # noqa: E402
from self_check.handover import hand_over_bytes  # noqa: E402

# what an attacker who broke the replay runs, as the check of the exercise `escape`
SNIPPET = """
def __attempts(targets):
    import os, socket, subprocess

    outcome = {"uid": os.getuid()}
    with open("/proc/self/status") as status:
        outcome["no_new_privs"] = next(line.split()[1] for line in status if line.startswith("NoNewPrivs"))

    def attempt(name, action):
        try:
            action()
            outcome[name] = "done"
        except BaseException as error:  # everything a wall raises, recorded
            outcome[name] = f"{type(error).__name__}: {str(error)[:60]}"

    def started(result):
        if result != b"started\\n":
            raise OSError(f"the process gave {result!r}")

    def forked():
        child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)

    for name, path in targets["writes"].items():
        attempt(f"write {name}", lambda path=path: open(path, "w").write("escaped"))
    for name, path in targets["reads"].items():
        attempt(f"read {name}", lambda path=path: open(path).read())
    attempt("connect over TCP", lambda: socket.socket().connect(("127.0.0.1", targets["port"])))  # no name to look up
    attempt("connect to a Unix socket", lambda: socket.socket(socket.AF_UNIX).connect(targets["unix"]))
    shell = ["/bin/sh", "-c", "echo started"]
    attempt("start a process", lambda: started(subprocess.run(shell, capture_output=True, timeout=5).stdout))
    attempt("os.system", lambda: started(b"started\\n" if os.system("true") == 0 else b"failed"))
    attempt("fork", forked)
    return outcome


@exercise("escape", points=1, hint="-", reads=())
def check_escape(ns):
    expect(False, "escape", json.dumps(__attempts(__TARGETS)), "-")
"""


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    code = load_checks("assignment_06").code + f"\n\nimport json\n__TARGETS = {json.dumps(job['targets'])}\n" + SNIPPET
    data = base64.b64encode(hand_over_bytes({}, [])).decode()
    handovers = {"where_it_stands": {"escape": {"data": data}}}
    results = judge_submission(code, handovers, 30.0, 8 * 2**30, 2**20, job["mode"], layers=frozenset(job["layers"]))
    result = results["where_it_stands"]["escape"]
    if result["part"] != "escape":  # the snippet did not run to report: say why
        raise SystemExit(f"the escape check did not report: {result}")
    print(result["message"])


if __name__ == "__main__":
    main()

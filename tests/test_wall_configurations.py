"""Wall 2 in every configuration an instructor runs the grader in, and each of its layers alone.

An attacker who broke the replay runs as the check of an exercise, inside a checker started as the
grader starts one (``tests/wall_driver.py``), and tries to write into the course, ``--out``,
``site-packages``, the home folder and the shared ``/tmp``; to read a master, another submission
and the home folder; to connect over TCP and to a Unix socket; to start a process, ``os.system``
and fork. The checker's layers are the sandbox (bubblewrap), its audit hook, the drop to
``nobody`` (for a checker started as root), ``no_new_privs`` and the judging process's process
limit (``RLIMIT_NPROC`` 0).

* In each of the four configurations an instructor runs (root or a plain user, with bubblewrap or
  ``--sandbox none``), every attempt fails. A plain user is made for the test (CI runs as root),
  with a Python, a copy of the course and a home of their own, so that what the walls must stop
  is what that user could otherwise write and read: without bubblewrap, the audit hook is all
  that stands between a check and the instructor's own ``site-packages``.
* Each layer alone, every other down, stops exactly what ``grading/README.md``'s table says it
  stops, and nothing else: ``STOPS_ALONE`` is that table, and a test compares the two.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import site
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import copy_of_the_course

from grading import sandbox

pytestmark = [pytest.mark.slow, pytest.mark.unmeasured]  # its checkers run in processes of their own

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAIN_USER = f"course-walls-{zlib.crc32(str(REPO_ROOT).encode()) % 10_000}"  # one per copy of the course
LAYERS = ("audit hook", "nobody", "no new privileges", "process limit")  # the checker's own; the sandbox is a mode
WRITES = ("the course", "the grader's code", "--out", "site-packages", "the home folder", "the shared /tmp")
READS = ("a master", "another submission", "the home folder")
OTHERS = ("connect over TCP", "connect to a Unix socket", "start a process", "os.system", "fork")
ATTEMPTS = (*(f"write {name}" for name in WRITES), *(f"read {name}" for name in READS), *OTHERS)
# what each layer stops when it is up alone, the checker started as root: grading/README.md's table
STOPS_ALONE = {
    "sandbox": {*(f"write {name}" for name in WRITES), *(f"read {name}" for name in READS)}
    | {"connect over TCP", "connect to a Unix socket"},
    "audit hook": set(ATTEMPTS),
    "nobody": {
        "write the course",
        "write the grader's code",
        "write --out",
        "write site-packages",
        "write the home folder",
        "read the home folder",
    },
    "no new privileges": set(),
    "process limit": set(),  # the kernel exempts root: with `nobody` too, it stops every process and fork
}


@dataclass
class Place:
    """Where a configuration's checker runs, and what its attempts aim at: paths, sockets, a marker."""

    python: str
    course: Path
    user: str | None = None
    home: Path = Path("/root")
    writes: dict[str, Path] = field(default_factory=dict)
    reads: dict[str, Path] = field(default_factory=dict)


def listening(folder: Path) -> tuple[dict, list[str], list[socket.socket]]:
    """A TCP and a Unix socket listening on the host, anyone may connect to; what they accepted."""
    tcp = socket.create_server(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(folder / "socket"))
    os.chmod(folder / "socket", 0o777)
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
    return {"port": tcp.getsockname()[1], "unix": str(folder / "socket")}, accepted, [tcp, unix]


def run_checker(place: Place, mode: str, layers: tuple[str, ...], folder: Path) -> dict:
    """What the attempts achieved in a checker started by ``place``'s user with ``mode`` and ``layers`` up."""
    token = f"wall-{uuid.uuid4().hex[:8]}"
    writes = {name: path.parent / f"{token}-{path.name}" for name, path in place.writes.items()}
    sockets, accepted, servers = listening(folder)
    job = {
        "targets": {
            "writes": {k: str(v) for k, v in writes.items()},
            "reads": {k: str(v) for k, v in place.reads.items()},
        }
        | sockets,
        "mode": mode,
        "layers": list(layers),
    }
    (folder / "job.json").write_text(json.dumps(job))
    os.chmod(folder, 0o755)
    command = [place.python, str(place.course / "tests" / "wall_driver.py"), str(folder / "job.json")]
    if place.user is not None:
        environment = ["env", "-i", f"HOME={place.home}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
        command = ["runuser", "-u", place.user, "--", *environment, *command]
    try:
        ran = subprocess.run(command, cwd=place.course, capture_output=True, text=True, timeout=600)
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
        outcome = json.loads(ran.stdout.strip().splitlines()[-1])
    finally:
        for server in servers:
            server.close()
        written = {name for name, path in writes.items() if path.exists()}
        for path in writes.values():
            path.unlink(missing_ok=True)
    got_out = {f"write {name}" for name in written}
    got_out |= {name for name in ATTEMPTS if not name.startswith("write ") and outcome.get(name) == "done"}
    return {"outcome": outcome, "got out": got_out, "accepted": accepted}


# ---------------------------------------------------------------- the four configurations an instructor runs
def root_place(tmp_path: Path) -> Place:
    """The grader run as root from the repository, with the course's own virtual environment."""
    other = tmp_path / "submissions" / "other_student.ipynb"
    other.parent.mkdir()
    other.write_text('{"secret": "another student\'s answers"}')
    secret = Path.home() / f".{uuid.uuid4().hex[:8]}-secret"
    secret.write_text("the instructor's own file")
    (tmp_path / "out").mkdir()
    writes = {
        "the course": REPO_ROOT / "x.txt",
        "the grader's code": REPO_ROOT / "grading" / "x.py",
        "--out": tmp_path / "out" / "x.json",
        "site-packages": Path(site.getsitepackages()[0]) / "x.pth",
        "the home folder": Path.home() / "x.txt",
        "the shared /tmp": Path("/tmp") / "x.txt",
    }
    reads = {
        "a master": REPO_ROOT / "solutions" / "assignment_06_classification.py",
        "another submission": other,
        "the home folder": secret,
    }
    return Place(sys.executable, REPO_ROOT, None, Path.home(), writes, reads)


@pytest.fixture(scope="module")
def plain_user(tmp_path_factory):
    """A plain user with a Python, a copy of the course, an --out, a submission and a home of their own."""
    if os.geteuid() != 0:
        pytest.skip("a plain user is made by root (CI runs as root); run the tests as root to try it")
    subprocess.run(["userdel", "--remove", PLAIN_USER], capture_output=True)
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", PLAIN_USER], check=True)
    home = Path(pwd.getpwnam(PLAIN_USER).pw_dir)
    copy_of_the_course(home / "course")
    # a virtual environment of the user's, whose own site-packages the user may write; the course's packages in it
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(home / "venv")], check=True)
    (packages,) = (home / "venv" / "lib").glob("python3*/site-packages")
    (packages / "course.pth").write_text(site.getsitepackages()[0] + "\n")
    (home / "out").mkdir()
    (home / "submissions").mkdir()
    (home / "submissions" / "other_student.ipynb").write_text('{"secret": "another student\'s answers"}')
    (home / ".secret").write_text("the instructor's own file")
    subprocess.run(["chown", "-R", f"{PLAIN_USER}:{PLAIN_USER}", str(home)], check=True)
    os.chmod(home, 0o700)
    writes = {
        "the course": home / "course" / "x.txt",
        "the grader's code": home / "course" / "grading" / "x.py",
        "--out": home / "out" / "x.json",
        "site-packages": packages / "x.pth",
        "the home folder": home / "x.txt",
        "the shared /tmp": Path("/tmp") / "x.txt",
    }
    reads = {
        "a master": home / "course" / "solutions" / "assignment_06_classification.py",
        "another submission": home / "submissions" / "other_student.ipynb",
        "the home folder": home / ".secret",
    }
    yield Place(str(home / "venv" / "bin" / "python"), home / "course", PLAIN_USER, home, writes, reads)
    subprocess.run(["userdel", "--remove", PLAIN_USER], capture_output=True)


def bwrap_or_fail() -> None:
    if not sandbox.bwrap_works():
        pytest.fail("bubblewrap is not installed or cannot make a sandbox here (apt-get install bubblewrap)")


CONFIGURATIONS = {
    "root with bubblewrap: sandbox, audit hook, nobody, no new privileges, process limit": ("root", "bwrap"),
    "a plain user with bubblewrap: sandbox, audit hook, no new privileges, process limit": ("plain", "bwrap"),
    "a plain user with --sandbox none: audit hook, no new privileges, process limit": ("plain", "none"),
    "root with --sandbox none: audit hook, nobody, no new privileges, process limit": ("root", "none"),
}


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
def test_every_escape_fails_in_each_configuration_an_instructor_runs(configuration, request, tmp_path):
    who, mode = CONFIGURATIONS[configuration]
    if mode == "bwrap":
        bwrap_or_fail()
    place = request.getfixturevalue("plain_user") if who == "plain" else root_place(tmp_path)
    folder = (place.home if place.user else tmp_path) / f"job-{uuid.uuid4().hex[:8]}"  # where its user may read
    folder.mkdir()
    seen = run_checker(place, mode, LAYERS, folder)
    outcome = seen["outcome"]
    assert not seen["got out"], f"{sorted(seen['got out'])} got out: {outcome}"
    assert not seen["accepted"], f"the checker connected to {seen['accepted']}"
    assert outcome["uid"] == (65534 if who == "root" else pwd.getpwnam(PLAIN_USER).pw_uid)
    assert outcome["no_new_privs"] == "1"
    if not place.user:
        place.reads["the home folder"].unlink()


# ---------------------------------------------------------------- each layer alone
def layer_place(tmp_path: Path) -> Place:
    """Targets as a root-run grader has them, in folders of the test's: root's 0755 folders, a 0700 home."""
    folders = {name: tmp_path / name for name in ("course", "grading", "out", "site-packages", "home", "solutions")}
    for name, folder in folders.items():
        folder.mkdir(parents=True)
        os.chmod(folder, 0o700 if name == "home" else 0o755)
    (folders["solutions"] / "master.py").write_text("the solutions")
    (folders["course"] / "other_student.ipynb").write_text("another student's answers")
    (folders["home"] / ".secret").write_text("the instructor's own file")
    for path in (folders["solutions"] / "master.py", folders["course"] / "other_student.ipynb"):
        os.chmod(path, 0o644)
    writes = {
        "the course": folders["course"] / "x.txt",
        "the grader's code": folders["grading"] / "x.py",
        "--out": folders["out"] / "x.json",
        "site-packages": folders["site-packages"] / "x.pth",
        "the home folder": folders["home"] / "x.txt",
        "the shared /tmp": Path("/tmp") / "x.txt",
    }
    reads = {
        "a master": folders["solutions"] / "master.py",
        "another submission": folders["course"] / "other_student.ipynb",
        "the home folder": folders["home"] / ".secret",
    }
    os.chmod(tmp_path, 0o755)
    return Place(sys.executable, REPO_ROOT, None, Path.home(), writes, reads)


@pytest.mark.long  # five checkers: make test-long
@pytest.mark.parametrize("layer", list(STOPS_ALONE))
def test_each_layer_alone_stops_exactly_what_the_readme_says(layer, request):
    if os.geteuid() != 0:
        pytest.skip("the drop to nobody and the kernel's exemption of root are root's: run the tests as root")
    if layer == "sandbox":
        bwrap_or_fail()
    shared = Path(tempfile.mkdtemp(prefix="walls-", dir="/tmp"))  # where `nobody` may look, as in a real course
    os.chmod(shared, 0o755)
    request.addfinalizer(lambda: shutil.rmtree(shared, ignore_errors=True))
    folder = shared / "job"
    folder.mkdir()
    place = layer_place(shared / "targets")
    layers = tuple(name for name in LAYERS if name == layer)
    seen = run_checker(place, "bwrap" if layer == "sandbox" else "none", layers, folder)
    stopped = set(ATTEMPTS) - seen["got out"]
    assert stopped == STOPS_ALONE[layer], f"{layer} alone stopped {sorted(stopped)}: {seen['outcome']}"


def test_the_readme_says_what_each_layer_alone_stops_as_the_tests_find():
    readme = (REPO_ROOT / "grading" / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- layers -->", 1)[1].split("<!-- /layers -->", 1)[0]
    header, _, *rows = [line for line in table.strip().splitlines()]
    layers = [cell.strip() for cell in header.strip("|").split("|")][1:]
    assert layers == list(STOPS_ALONE)
    said: dict[str, set[str]] = {layer: set() for layer in layers}
    for row in rows:
        attempt, *cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert attempt in ATTEMPTS, attempt
        for layer, cell in zip(layers, cells, strict=True):
            if re.fullmatch(r"stops", cell):
                said[layer].add(attempt)
    assert said == STOPS_ALONE

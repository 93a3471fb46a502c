"""Run one submission's grading in a sandbox: bubblewrap when it works here, resource limits always.

With bubblewrap (``bwrap``) the worker and its kernel see the system read-only, minus
the folders it hides (the masters, which hold the solutions, and the folders the
submissions came from), with a private ``/tmp``, no network, no capabilities and their
own PID namespace (every process they start dies with the sandbox); only the
submission's temporary folder is writable. Without bubblewrap they run as this user in
that folder, and only the limits hold. The limits are rlimits, which the worker sets on
itself before it starts the kernel, so they bind each process: address space (memory),
CPU seconds and the size of any one file written. The caller enforces the wall clock.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SANDBOX_MODES = ("auto", "bwrap", "none")


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits for everything a submission runs."""

    memory_bytes: int = 8 * 2**30  # a kernel with torch (CUDA build) maps about 4.6 GiB
    cpu_seconds: int = 1200
    file_bytes: int = 256 * 2**20
    tmp_bytes: int = 512 * 2**20  # size of the private /tmp (bubblewrap only)


def _prctl(option: int, value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def die_with_parent() -> None:
    """Have the kernel send SIGKILL to this process when its parent thread exits."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def adopt_orphans() -> None:
    """Become the reaper of orphaned descendants, so that ``kill_descendants`` still finds them."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def hide_from_children() -> None:
    """Make this process non-dumpable: processes without CAP_SYS_PTRACE cannot open its /proc files."""
    _prctl(PR_SET_DUMPABLE, 0)


def descendants(pid: int | None = None) -> list[int]:
    """The PIDs of every process descended from ``pid`` (default: this process), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])  # the field after "(command) state"
            except (OSError, IndexError, ValueError):
                continue  # it ended meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [os.getpid() if pid is None else pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def reap_zombie_children(spare: set[int]) -> int:
    """Reap this process's children that have exited, but for ``spare`` (those a ``Popen`` will wait for).

    A submission's sandbox can leave its inner process to the grader, which adopts orphans
    (``reaping_strays``); without this, each would stay a zombie until the class is done.
    """
    reaped = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in spare:
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                state, parent = stat.read().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if state == "Z" and int(parent) == os.getpid():
            with contextlib.suppress(ChildProcessError):
                reaped += os.waitpid(int(entry.name), os.WNOHANG)[0] != 0
    return reaped


def kill_descendants(spare: frozenset[int] = frozenset()) -> None:
    """SIGKILL every descendant of this process whose PID is not in ``spare``, and reap those it can."""
    doomed = [pid for pid in descendants() if pid not in spare]
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in doomed:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)  # our children, adopted orphans included; others are reaped by their parents


@contextlib.contextmanager
def reaping_strays() -> Iterator[None]:
    """Adopt the processes submissions leave behind while the block runs, and kill them at its end."""
    already_running = frozenset(descendants())
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        kill_descendants(spare=already_running)
        _prctl(PR_SET_CHILD_SUBREAPER, 0)


@functools.cache
def bwrap_works() -> bool:
    """True when ``bwrap`` is installed and can create the sandbox on this machine."""
    if shutil.which("bwrap") is None:
        return False
    with tempfile.TemporaryDirectory(prefix="grading-probe-") as folder:
        try:
            probe = subprocess.run(
                [*_bwrap_args(Path(folder), Path(folder), Limits()), "--", "true"], capture_output=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return probe.returncode == 0


def resolve_mode(mode: str) -> str:
    """Turn ``auto`` into ``bwrap`` or ``none``; ``bwrap`` that cannot work raises ``RuntimeError``."""
    if mode not in SANDBOX_MODES:
        raise ValueError(f"sandbox mode must be one of {SANDBOX_MODES}, got {mode!r}")
    if mode == "none":
        return mode
    if bwrap_works():
        return "bwrap"
    if mode == "bwrap":
        raise RuntimeError("bubblewrap (bwrap) is missing or cannot create a sandbox on this machine")
    return "none"


def folders_to_hide(candidates: Iterable[Path], keep: Iterable[Path]) -> list[Path]:
    """The existing folders among ``candidates`` that hold none of ``keep`` (what the sandbox must still see)."""
    keep = [path.resolve() for path in keep]
    hidden = []
    for folder in sorted({path.resolve() for path in candidates}):
        if folder.is_dir() and folder != Path("/") and not any(k == folder or folder in k.parents for k in keep):
            hidden.append(folder)
    return hidden


def needed_under_tmp() -> list[Path]:
    """Folders the sandbox must still read that its private /tmp would cover (a checkout or venv under /tmp)."""
    needed = {Path(__file__).resolve().parents[1], Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    return sorted(path for path in needed if Path("/tmp") in path.parents)


def _bwrap_args(folder: Path, cwd: Path, limits: Limits, hide: Sequence[Path] = ()) -> list[str]:
    # order matters: later mounts cover earlier ones, so /tmp is made private first, then the
    # course's own files under it are shown again read-only, then the masters are hidden
    return [
        "bwrap",
        "--ro-bind", "/", "/",
        "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
        *[argument for path in needed_under_tmp() for argument in ("--ro-bind", str(path), str(path))],
        *[argument for path in hide for argument in ("--tmpfs", str(path))],  # e.g. the masters, with solutions
        "--dev", "/dev",
        "--tmpfs", "/dev/shm",
        "--proc", "/proc",
        "--bind", str(folder), str(folder),
        "--unshare-all",  # network, PID, IPC, UTS, cgroup and user namespaces
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--chdir", str(cwd),
    ]  # fmt: skip


SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # links into /usr, or folders of their own
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/fonts")


@functools.cache
def isolated_path() -> tuple[str, ...]:
    """The folders this Python imports from when isolated (``-I``), as the checker runs it: a ``.pth``'s too."""
    listed = (
        subprocess.run(
            [sys.executable, "-I", "-c", "import sys; print('\\0'.join(sys.path))"], capture_output=True, text=True
        )
        .stdout.strip("\n")
        .split("\0")
    )
    return tuple(entry for entry in listed if entry and os.path.exists(entry))


def checker_command(argv: list[str], readable: Sequence[Path], mode: str, limits: Limits) -> list[str]:
    """Wrap ``argv`` (the checker) so that it sees only the system's programs, Python, ``readable`` and a private /tmp.

    Unlike a submission's sandbox, which shows the whole system read-only minus what it hides, the
    checker's starts empty and shows only what judging needs, so that no master, submission, grade
    or home folder is there to read. It has no network, no capabilities but the two it needs to
    become ``nobody`` when started as root (it drops them itself: ``grading/checker/walls.py``),
    and its own process, IPC and host-name namespaces. Without bubblewrap, ``argv`` runs as it is,
    behind the checker's own walls only.
    """
    if mode != "bwrap":
        return list(argv)
    root = os.geteuid() == 0
    python = (Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent, *map(Path, isolated_path()))
    # each as the checker names it (a virtual environment may be a link) and as it is on disk
    shown = sorted({path for given in (*python, *map(Path, readable)) for path in (given.absolute(), given.resolve())})
    shown = [path for path in shown if not any(other in path.parents for other in (Path("/usr"), *shown))]
    folders = sorted({parent for path in shown for parent in path.parents if parent != Path("/")})
    arguments = ["bwrap", "--ro-bind", "/usr", "/usr"]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            arguments += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            arguments += ["--ro-bind", link, link]
    for system_file in SYSTEM_FILES:
        arguments += ["--ro-bind-try", system_file, system_file]
    arguments += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    for folder in folders:  # bubblewrap would make them readable by root alone
        arguments += ["--perms", "0755", "--dir", str(folder)]
    for path in shown:
        arguments += ["--ro-bind", str(path), str(path)]
    arguments += ["--dev", "/dev", "--proc", "/proc"]
    arguments += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if root:  # no user namespace: the checker becomes the real `nobody`, whom the kernel's limits on a user bind
        arguments += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        arguments += ["--unshare-user", "--cap-drop", "ALL"]
    return [*arguments, "--die-with-parent", "--new-session", "--chdir", "/tmp", "--", *argv]


def command(
    argv: list[str], folder: Path, cwd: Path, mode: str, limits: Limits, hide: Sequence[Path] = ()
) -> list[str]:
    """Wrap ``argv`` so that it runs sandboxed (mode ``bwrap``): only ``folder`` writable, ``hide`` empty."""
    if mode == "bwrap":
        return [*_bwrap_args(folder, cwd, limits, hide), "--", *argv]
    return list(argv)


def apply_limits(limits: Limits) -> None:
    """Set ``limits`` on this process; every process it starts (the kernel) inherits them."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 10))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def course_data_dir() -> Path:
    """The course's data folder, as ``helper_functions.data_dir`` finds it, read-only to the submissions."""
    override = os.environ.get("COURSE_DATA_DIR")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "data"


def worker_environment(home: Path, tmp: Path, threads: int = 1) -> dict[str, str]:
    """The environment of the worker and its kernel: nothing from ours but PATH, the locale and the data folder."""
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "IPYTHONDIR": str(home / ".ipython"),
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "JUPYTER_RUNTIME_DIR": str(home / ".jupyter-runtime"),
        "JUPYTER_DATA_DIR": str(home / ".jupyter-data"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # the kernels graded at once share the cores: two threads that wait for each other on one core crawl
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MALLOC_ARENA_MAX": "2",
        # the data the lessons load (FashionMNIST): the submission's folder holds only its notebook and the helpers
        "COURSE_DATA_DIR": str(course_data_dir()),
    }

"""The checker's walls inside its own process: what it may do, whatever the data it reads says.

The sandbox (``grading.sandbox.checker_command``: bubblewrap, with only Python, its packages and
the grader's code to read, a private ``/tmp`` to write, no network) is the outer wall. These
are the inner ones, set by the checker on itself before it reads any data a kernel wrote:

* ``drop_privileges``: a checker started as root becomes ``nobody``, so that the kernel's limits
  on a user bind it (``RLIMIT_NPROC`` does not bind root) and no file is its own;
* ``limit_judge``: a process that judges one hand-over may start no process or thread, write no
  file larger than a mebibyte, and use its share of memory and CPU;
* ``guard``: an audit hook (``sys.addaudithook``; once added it cannot be removed) that refuses
  what judging never needs: sockets, processes, signals to others, ctypes, unpickling classes,
  files written outside the private folder, and files read outside what judging reads.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

NOBODY = 65534  # the unprivileged user a checker started as root becomes
# the checker's own walls (the sandbox is the other, bubblewrap): each is up but where a test takes it down
LAYERS = frozenset({"audit hook", "nobody", "no new privileges", "process limit"})
PR_SET_NO_NEW_PRIVS = 38
JUDGE_FILE_BYTES = 2**20  # the largest file a judging process may write (it writes none)
JUDGE_OPEN_FILES = 256

# audit events no checker process needs: networking, processes, foreign code, and changing files
REFUSED_EVENTS = (
    "socket.",
    "subprocess.",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.system",
    "os.startfile",
    "os.forkpty",
    "pty.",
    "ctypes.",
    "pickle.find_class",
    "shutil.",
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.chmod",
    "os.chown",
    "os.link",
    "os.symlink",
    "os.truncate",
    "os.utime",
    "os.setxattr",
    "os.removexattr",
    "sys.setprofile",
    "sys.settrace",
    "webbrowser.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "poplib.",
    "imaplib.",
    "nntplib.",
    "telnetlib.",
)
# and those a process that judges one hand-over does not need either: it starts nothing and signals
# no one. (It may import, compile and execute: torch does all three on the first use of a path, as
# typing's forward references in a DataLoader's iteration do, and the replay calls nothing that would.)
REFUSED_WHILE_JUDGING = ("os.fork", "os.kill", "os.killpg", "signal.pthread_kill")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Refused(PermissionError):
    """What an audit hook refused: the checker may not do this."""


def drop_privileges() -> None:
    """Run as ``nobody`` from now on when running as root (no supplementary groups, no way back)."""
    if os.geteuid() != 0 and os.getuid() != 0:
        return
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    if 0 in (*os.getresuid(), *os.getresgid()):
        raise RuntimeError("the checker could not drop root's privileges")


def no_new_privileges() -> None:
    """Neither this process nor any it could start may gain privileges (setuid files, file capabilities)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def limit_judge(memory_bytes: int, cpu_seconds: int, processes: bool = True) -> None:
    """The limits of a process that judges one hand-over: no new process or thread (``processes``), no file, its
    memory and CPU."""
    if processes:  # every fork and thread refused, the user having one already: but for root, whom the kernel exempts
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (JUDGE_FILE_BYTES, JUDGE_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (JUDGE_OPEN_FILES, JUDGE_OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _within(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def guard(private: Path, readable: Iterable[Path], judging: bool = False) -> None:
    """Add ``policy``'s audit hook to this process, for good: an audit hook cannot be removed."""
    sys.addaudithook(policy(private, readable, judging))


def policy(private: Path, readable: Iterable[Path], judging: bool = False) -> Callable[[str, tuple], None]:
    """An audit hook that refuses what a checker never does; ``judging``: what a judging process never does.

    Files may be written only under ``private``, and read only under ``private``, ``readable``,
    Python's own folders and the system's (``/usr``, ``/etc``, ``/proc/self``, ``/dev``'s null and random).
    """
    writable = (os.path.realpath(private), os.devnull)
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, *map(str, readable)}
    readable_roots = (
        *writable,
        *sorted({os.path.realpath(p) for p in prefixes} | set(prefixes)),
        "/usr",
        "/etc",
        "/proc/self",
        "/sys/devices/system/cpu",
        "/dev/null",
        "/dev/urandom",
        "/dev/random",
    )
    refused = REFUSED_EVENTS + (REFUSED_WHILE_JUDGING if judging else ())

    def hook(event: str, args: tuple) -> None:
        if event.startswith(refused):
            raise Refused(f"the checker may not {event}")
        if event in ("os.mkdir", "os.listdir", "os.scandir") and args and isinstance(args[0], str | bytes):
            path = os.path.realpath(os.fsdecode(args[0]))
            if not _within(path, writable if event == "os.mkdir" else readable_roots):
                raise Refused(f"the checker may not {event.removeprefix('os.')} {path}")
        if event == "open" and args and isinstance(args[0], str | bytes):
            path = os.path.realpath(os.fsdecode(args[0]))
            mode, flags = (args + (None, 0))[1:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writes and not _within(path, writable):
                raise Refused(f"the checker may not write {path}")
            own = (os.path.realpath("/proc/self"),)  # /proc/self is /proc/PID: this process's own, after a fork too
            if not _within(path, readable_roots + own):
                raise Refused(f"the checker may not read {path}")

    return hook

"""Cap the processes and the total memory of each submission with a control group of its own.

Resource limits (``sandbox.Limits``) bind each process alone: a notebook that forks until the
machine runs out of process slots, or spreads its memory over many processes, gets past them.
A control group (cgroup) counts every process of the submission together. The grader uses the
``pids`` and ``memory`` controllers where it may create groups: as root on cgroup v1 (each
controller mounted under ``/sys/fs/cgroup/<controller>``) or on cgroup v2 (``/sys/fs/cgroup``
with both controllers enabled for the groups below it), including a delegated v2 subtree.
Elsewhere ``available()`` says why not, and the grader warns once and goes on without them.

The submission's command joins its groups before it starts (``command``), so everything it
starts is counted; ``Group.release`` kills whatever is left and removes the groups. Groups are
named after the grader's PID, so a grader that was killed outright leaves groups that the next
one recognises and removes (``remove_orphans``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PARENT = "course-grading"  # every group the grader makes lives below this one


@dataclass(frozen=True)
class Caps:
    """What all the processes of one submission may use together."""

    processes: int = 256
    memory_bytes: int = 4 * 2**30


@dataclass(frozen=True)
class Layout:
    """Where the two controllers live: one folder each on cgroup v1, one shared folder on v2."""

    version: int
    pids: Path  # the folder our groups go in, for the pids controller
    memory: Path  # the same for the memory controller (equal to ``pids`` on v2)

    @property
    def folders(self) -> tuple[Path, ...]:
        return (self.pids,) if self.pids == self.memory else (self.pids, self.memory)


def _own_group(controller: str) -> str:
    """This process's cgroup path for ``controller`` (v1) or its unified path (``""``), from /proc."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if (controller and controller in controllers.split(",")) or (not controller and number == "0"):
            return path.lstrip("/")
    return ""


def _layout() -> Layout | None:
    v1_pids, v1_memory = ROOT / "pids", ROOT / "memory"
    if (v1_pids / "cgroup.procs").is_file() and (v1_memory / "cgroup.procs").is_file():
        return Layout(1, v1_pids / _own_group("pids") / PARENT, v1_memory / _own_group("memory") / PARENT)
    if (ROOT / "cgroup.controllers").is_file():
        own = ROOT / _own_group("")
        # a v2 group with processes of its own cannot enable controllers for groups below it
        return Layout(2, own / PARENT, own / PARENT)
    return None


def _prepare(layout: Layout) -> None:
    """Make the parent groups, and on v2 hand both controllers down to the groups below them."""
    for folder in layout.folders:
        folder.mkdir(exist_ok=True)
    if layout.version == 2:
        (layout.pids / "cgroup.subtree_control").write_text("+pids +memory")


@contextlib.contextmanager
def _probe(layout: Layout):
    group = Group.create(layout, f"probe-{os.getpid()}", Caps())
    try:
        yield group
    finally:
        group.release()


def available() -> tuple[Layout | None, str]:
    """The layout to use and ``""``, or ``None`` and why cgroups cannot be used here."""
    layout = _layout()
    if layout is None:
        return None, "this machine mounts neither cgroup v1's pids and memory controllers nor cgroup v2"
    try:
        _prepare(layout)
        with _probe(layout):
            pass
    except OSError as error:
        return None, f"cannot create control groups in {layout.pids.parent} ({error.strerror}): run as root"
    return layout, ""


@dataclass
class Group:
    """One submission's cgroups (one per controller on v1, one on v2)."""

    layout: Layout
    name: str

    @classmethod
    def create(cls, layout: Layout, name: str, caps: Caps) -> Group:
        group = cls(layout, name)
        try:
            for folder in group.folders:
                folder.mkdir()
            if layout.version == 1:
                (group.pids_folder / "pids.max").write_text(str(caps.processes))
                (group.memory_folder / "memory.limit_in_bytes").write_text(str(caps.memory_bytes))
                with contextlib.suppress(OSError):  # no swap accounting: nothing to cap
                    (group.memory_folder / "memory.memsw.limit_in_bytes").write_text(str(caps.memory_bytes))
            else:
                (group.pids_folder / "pids.max").write_text(str(caps.processes))
                (group.memory_folder / "memory.max").write_text(str(caps.memory_bytes))
                (group.memory_folder / "memory.swap.max").write_text("0")
        except OSError:
            group.release()
            raise
        return group

    @property
    def pids_folder(self) -> Path:
        return self.layout.pids / self.name

    @property
    def memory_folder(self) -> Path:
        return self.layout.memory / self.name

    @property
    def folders(self) -> tuple[Path, ...]:
        return tuple(folder / self.name for folder in self.layout.folders)

    def command(self, argv: list[str]) -> list[str]:
        """``argv``, run by a shell that first moves itself into this group: all it starts counts."""
        joins = " && ".join(f'echo $$ > "${number}"' for number in range(1, len(self.folders) + 1))
        script = f'{joins} && shift {len(self.folders)} && exec "$@"'
        return ["sh", "-c", script, "sh", *(str(folder / "cgroup.procs") for folder in self.folders), *argv]

    def events(self) -> dict[str, int]:
        """How often the caps bit: forks refused at the process cap, processes killed at the memory cap."""
        events = {"processes_refused": 0, "killed_for_memory": 0}
        with contextlib.suppress(OSError, ValueError):
            pids_events = (self.pids_folder / "pids.events").read_text().split()
            events["processes_refused"] = int(pids_events[pids_events.index("max") + 1])
        with contextlib.suppress(OSError, ValueError):
            memory_file = "memory.oom_control" if self.layout.version == 1 else "memory.events"
            memory_events = (self.memory_folder / memory_file).read_text().split()
            events["killed_for_memory"] = int(memory_events[memory_events.index("oom_kill") + 1])
        return events

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError):
                pids.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
        return sorted(pids)

    def release(self, timeout: float = 10) -> None:
        """Kill every process left in the group, then remove the group."""
        deadline = time.monotonic() + timeout
        while (left := self.processes()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        for folder in self.folders:
            with contextlib.suppress(OSError):
                folder.rmdir()


def remove_orphans(layout: Layout) -> int:
    """Release the groups of graders that no longer run (killed outright); return how many there were."""
    found = 0
    for folder in sorted(layout.pids.glob("*")) if layout.pids.is_dir() else []:
        grader = folder.name.split("-", 1)[0]
        if folder.is_dir() and grader.isdigit() and not Path(f"/proc/{grader}").exists():
            Group(layout, folder.name).release()
            found += 1
    return found

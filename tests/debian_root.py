"""A bare Debian root file system for the tests that run the course elsewhere: Gradescope's image, Colab's runtime.

``bare_root`` builds one with ``debootstrap --variant=minbase`` from the mirror apt's own sources
name, once, into a folder the tests cache under ``build/`` (``image_roots.py`` builds them ahead
of the tests), and records beside it how long that took; ``in_root`` runs a command in it as root,
in bubblewrap, with the host's network (the package registries only) and CA bundle, and pip's
settings for them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def debian_mirror() -> str:
    """The Debian mirror apt's own sources on this machine name."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    text = "\n".join(path.read_text() for path in sources if path.is_file())
    for pattern in (r"^URIs:\s*(\S+/debian)\s*$", r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+\w+"):
        if match := re.search(pattern, text, re.MULTILINE):
            return match.group(1)
    return "http://deb.debian.org/debian"


def du_mb(path: Path) -> float:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True).stdout.split()[0]) / 2**20


def in_root(
    *command: str,
    timeout: float,
    root: Path,
    extra_binds: tuple[str, ...] = (),
    read_only: bool = False,
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``command`` as root inside the bare ``root``, with the host's network and CA bundle, as Gradescope would.

    ``read_only`` binds the root read-only: what a run writes goes to its private ``/tmp``.
    """
    binds = ["--ro-bind" if read_only else "--bind", str(root), "/", "--proc", "/proc", "--dev", "/dev"]
    binds += ["--tmpfs", "/tmp"]
    binds += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf", "--ro-bind", str(CA_BUNDLE), "/host-ca.crt"]
    environment = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PIP_CERT": "/host-ca.crt",  # pip reaches the registry with the host's CA bundle
        "PIP_FIND_LINKS": "/wheels",  # and takes the wheels a test downloaded once, where it binds them
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **(environment or {}),
    }
    command_line = ["bwrap", *binds, *extra_binds, "--die-with-parent", "--", "/usr/bin/env", "-i"]
    command_line += [f"{key}={value}" for key, value in environment.items()] + list(command)
    return subprocess.run(command_line, capture_output=True, text=True, timeout=timeout)


def built_seconds(folder: Path) -> float | None:
    """The seconds that building ``folder`` took, as its build recorded them beside it; None when unrecorded."""
    record = folder.with_name(folder.name + ".seconds")
    return float(record.read_text()) if record.is_file() else None


def record_seconds(folder: Path, seconds: float) -> float:
    folder.with_name(folder.name + ".seconds").write_text(f"{seconds:.1f}\n")
    return round(seconds, 1)


def bare_root(folder: Path, release: str) -> float | None:
    """A minimal Debian ``release`` in ``folder``, built once; the seconds its build took (now or before)."""
    if os.geteuid() != 0 or not shutil.which("bwrap") or not shutil.which("debootstrap"):
        raise RuntimeError(
            "a Debian root is built as root, with bubblewrap and debootstrap (apt-get install debootstrap)"
        )
    if (folder / "etc" / "debian_version").is_file():
        return built_seconds(folder)
    start = time.monotonic()
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    built = subprocess.run(
        ["debootstrap", "--variant=minbase", release, str(partial), debian_mirror()], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    partial.rename(folder)
    return record_seconds(folder, time.monotonic() - start)

"""Start JupyterLab at the repository root and print the URL to open.

Run: ``make lab`` (or, in any environment with the course's pins, ``python -m tools.lab``).
Students open a lesson's ``.ipynb``; the jupytext server extension keeps its ``.py`` master
in step on every save (``jupytext.toml`` pairs them). A ``.py`` master opens as a notebook
with right-click, *Open With*, *Notebook*.

The browser test starts JupyterLab with the same command line (``lab_command``) on a free
loopback port and a token of its own.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FIRST_PORT = 8888


def free_port(start: int = FIRST_PORT, host: str = "127.0.0.1") -> int:
    """Return the first port from ``start`` on that nothing listens to on ``host``."""
    for port in range(start, start + 100):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {start} and {start + 99} on {host}")


def lab_command(root: Path, port: int, token: str, open_browser: bool = False) -> list[str]:
    """The ``jupyter lab`` command line that serves ``root`` on ``127.0.0.1:port`` behind ``token``."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # JupyterLab refuses to run as root without it
        command.append("--allow-root")
    return command


def lab_url(port: int, token: str) -> str:
    return f"http://127.0.0.1:{port}/lab?token={token}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start JupyterLab at the course's root.")
    parser.add_argument("--port", type=int, default=None, help=f"default: the first free port from {FIRST_PORT}")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL, open no browser")
    args = parser.parse_args(argv)
    port = args.port or free_port()
    token = secrets.token_hex(16)
    print(
        f"\nJupyterLab is starting at {REPO_ROOT}.\n"
        f"Open this URL in your browser:\n\n    {lab_url(port, token)}\n\n"
        "Then open notebooks/02_pytorch_classification.ipynb. Stop JupyterLab with Ctrl-C.\n",
        flush=True,
    )
    command = lab_command(REPO_ROOT, port, token, open_browser=not args.no_browser)
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    raise SystemExit(main())

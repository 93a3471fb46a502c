"""The one browser harness of the test suite: headless Chromium, driven by Playwright, and JupyterLab.

Playwright (a pinned PyPI package) drives Debian's ``chromium`` (``make test`` installs it when
run as root); it never downloads a browser of its own. Without Chromium the browser tests are
skipped with one line saying how to install it. Screenshots go to ``build/browser/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools import lab

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "build" / "browser"
# Without the networking flags, this machine's closed network stalls Chromium at start-up.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "Chromium not found: install Debian's chromium and chromium-driver "
    "(`sudo apt-get install chromium chromium-driver`; `make test` does it when run as root), "
    "or set CHROMIUM to a Chromium executable"
)


def chromium_executable() -> str | None:
    """``$CHROMIUM``, else the first Chromium on the PATH, else None."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


@contextlib.contextmanager
def chromium(user_data_dir: Path) -> Iterator:
    """A Playwright browser context of headless Chromium with a fresh profile in ``user_data_dir``."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Save what ``page`` shows to ``build/browser/<name>.png`` and return the path."""
    target = SCREENSHOTS / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=full_page)
    return target


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {process.returncode} before serving {url}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"JupyterLab did not serve {url} within {timeout:.0f} s")


@contextlib.contextmanager
def running_jupyterlab(root: Path, home: Path, settings: dict[str, dict] | None = None) -> Iterator[str]:
    """Serve ``root`` with JupyterLab on a free loopback port behind a token; yield the lab URL.

    ``home`` holds the server's own config, settings, workspaces and log, so the user's
    Jupyter setup plays no part; ``settings`` maps a plugin id to its user settings. The
    server and every kernel it started are stopped when the block ends, however it ends.
    """
    settings_dir = home / "lab-settings"
    for plugin, values in (settings or {}).items():
        package, _, name = plugin.partition(":")
        target = settings_dir / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    environment = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    port, token = lab.free_port(start=18888), secrets.token_hex(16)
    log = (home / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        lab.lab_command(root, port, token),
        cwd=root,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so kernels are stopped with it
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/api/status?token={token}", server)
        yield lab.lab_url(port, token)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


AXE_CORE = REPO_ROOT / "tools" / "book" / "node_modules" / "axe-core" / "axe.min.js"  # npm ci --prefix tools/book
BLOCKING_IMPACTS = ("serious", "critical")  # what a page may not have (WCAG 2.1 AA's failures)
RUN_AXE = """async () => {
    const results = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
        'wcag21aa', 'best-practice']}, resultTypes: ['violations']});
    return results.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
        examples: v.nodes.slice(0, 3).map(node => node.target.join(' '))}));
}"""


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page open in ``page`` (WCAG 2.1 A and AA, and best practice)."""
    if not AXE_CORE.is_file():
        pytest.fail(f"{AXE_CORE} is missing: run `npm ci --prefix tools/book` (make test does)")
    page.add_script_tag(path=str(AXE_CORE))
    return page.evaluate(RUN_AXE)


def record_axe(name: str, violations: list[dict]) -> None:
    """Keep each page's violations in ``build/browser/axe.json``, for the people who read the results."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    record = SCREENSHOTS / "axe.json"
    pages = json.loads(record.read_text()) if record.is_file() else {}
    pages[name] = violations
    record.write_text(json.dumps(pages, indent=1) + "\n")


def blocking(violations: list[dict]) -> list[dict]:
    return [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]

"""Where a person waits, a bar: the grader over a class, ``make notebooks`` and ``make bench``.

Each command is run twice, as a person runs it (stderr a terminal: a pseudo-terminal here) and as a
log or a scheduler runs it (stderr a pipe). On the terminal a bar counts the work and, once one piece
is done, estimates the time left; in a log there is no bar and no carriage return, only lines.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# tqdm's counter and its time so far and time left, as in "2/2 [00:03<00:00, ...": the time left is an
# estimate only after the first piece of work, before which tqdm prints "<?"
BAR_WITH_TIME_LEFT = re.compile(r"(\d+)/(\d+) \[\d\d:\d\d<\d\d:\d\d")


def run_with_stderr_on(terminal: bool, command: list[str], timeout: float) -> tuple[int, str, str]:
    """Run ``command`` with stderr on a pseudo-terminal or on a pipe; return (status, stdout, stderr)."""
    if not terminal:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr
    controller, child_end = pty.openpty()
    # a terminal 100 columns wide: a new pseudo-terminal has 0, into which tqdm fits no bar
    fcntl.ioctl(child_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=child_end, text=True)
    os.close(child_end)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the last writer has closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        stdout, _ = process.communicate(timeout=timeout)
    finally:
        process.kill()
        reader.join(timeout=10)
        os.close(controller)
    return process.returncode, stdout, b"".join(chunks).decode(errors="replace")


def assert_bar_on_terminal_and_lines_in_logs(
    runs: dict[bool, tuple[int, str, str]], total: int, lines: str, line_count: int
) -> None:
    """On the terminal, a bar over ``total`` with the time left; in both, ``line_count`` ``lines`` on stdout."""
    (status, stdout, stderr), (log_status, log_stdout, log_stderr) = runs[True], runs[False]
    assert status == 0 and log_status == 0, (stderr[-2000:], log_stderr[-2000:])
    counts = [(int(done), int(of)) for done, of in BAR_WITH_TIME_LEFT.findall(stderr)]
    assert counts and all(of == total for _, of in counts), stderr[-2000:]
    assert (total, total) in counts, stderr[-2000:]  # the bar ran to its end
    assert not BAR_WITH_TIME_LEFT.search(log_stderr) and "\r" not in log_stderr + log_stdout, log_stderr[-2000:]
    for run_stdout in (stdout, log_stdout):
        assert len(re.findall(lines, run_stdout, flags=re.MULTILINE)) == line_count, run_stdout


def test_grading_a_class_shows_a_bar_with_the_time_left_on_a_terminal_and_lines_in_a_log(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.ipynb").write_text("")  # not notebooks: graded at once, each to its own line
    command = [sys.executable, "-m", "grading", "grade", "assignment_06", str(folder), "--out"]
    runs = {
        terminal: run_with_stderr_on(terminal, [*command, str(tmp_path / str(terminal))], 300)
        for terminal in (True, False)
    }
    one_line_each = r"^not_a_notebook\s+0/9 .*/class/[abc]\.ipynb$"
    assert_bar_on_terminal_and_lines_in_logs(runs, total=3, lines=one_line_each, line_count=3)


@pytest.mark.long  # two runs of the notebook runner, with its calibration: make test-long
def test_make_notebooks_shows_a_bar_over_the_cells_on_a_terminal_and_one_line_a_notebook_in_a_log(tmp_path):
    notebook = tmp_path / "tiny.ipynb"
    # each cell long enough for the bar to redraw after it (tqdm redraws at most every 0.1 s)
    cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(0.3)") for _ in range(4)]
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Tiny"), *cells]), notebook)
    runs = {
        terminal: run_with_stderr_on(
            terminal,
            [sys.executable, "-m", "tools.run_notebooks", str(notebook), "--out", str(tmp_path / str(terminal))],
            timeout=300,
        )
        for terminal in (True, False)
    }
    assert_bar_on_terminal_and_lines_in_logs(runs, total=4, lines=r"^ok\s+.*tiny\.ipynb ", line_count=1)


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "log"])
def test_make_bench_shows_a_bar_over_its_runs_on_a_terminal_and_one_line_a_run_in_a_log(tmp_path, terminal):
    command = [sys.executable, "-m", "bench", "--rounds", "1", "--epochs", "1", "--subset", "320", "--threads", "1"]
    command += ["--models", "FashionMNISTModelV0", "--paths", "reference", "course", "--out", str(tmp_path)]
    status, stdout, stderr = run_with_stderr_on(terminal, command, timeout=300)
    assert status == 0, stderr[-2000:]
    runs = re.findall(r"^  round 1 FashionMNISTModelV0\s+(reference|course) ", stdout, flags=re.MULTILINE)
    assert runs == ["reference", "course"], stdout
    counts = [(int(done), int(of)) for done, of in BAR_WITH_TIME_LEFT.findall(stderr)]
    if terminal:
        assert (2, 2) in counts and all(of == 2 for _, of in counts), stderr[-2000:]
    else:
        assert not counts and "\r" not in stderr + stdout, stderr[-2000:]

"""The lessons as a student meets them in JupyterLab: 02 opened from its ``.py`` master, run, edited and
saved; 03 run all to its last cell, model 2's progress bar moving while it trains and saved finished. Run All
reaches the end of both: a lesson's deliberate mistake is shown, not raised.

Everything happens in a temporary copy of the repository, served by JupyterLab on a free
loopback port and driven through its menus in headless Chromium (``browser_harness``).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from browser_harness import SCREENSHOTS, chromium, running_jupyterlab, screenshot
from conftest import REPO_ROOT, copy_of_the_course, executed_notebook, notebook_results

from helper_functions import RESULTS_MIME
from tools import check_notebooks

pytestmark = pytest.mark.unmeasured  # its kernels run untraced (conftest.py)

LESSON = "notebooks/02_pytorch_classification"
EDITED_CELL_START = "The first cell prepares the notebook"
ADDED_SENTENCE = "A sentence added in JupyterLab."
RUN_TIMEOUT_MS = 300_000
LAB_SETTINGS = {
    # every cell stays in the page, so each output can be read; the default renders only what is in view
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
# Per cell of the open notebook: its prompt and whether each image in its outputs has loaded.
READ_CELLS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')]
    .map(cell => ({
        code: cell.classList.contains('jp-CodeCell'),
        prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
        images: [...cell.querySelectorAll('.jp-OutputArea-output img')]
            .map(img => img.complete && img.naturalWidth > 0),
    }))"""
# every code cell shows its execution count, but a collapsed one (the setup cell), which shows no prompt
ALL_CELLS_RAN = """() => { const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')]
        .filter(cell => !cell.querySelector('.jp-InputPlaceholder'));
    return cells.length > 0
        && cells.every(cell => /\\[\\d+\\]/.test(cell.querySelector('.jp-InputPrompt').textContent)); }"""


def image_cells(notebook: nbformat.NotebookNode) -> dict[int, int]:
    """Cell index -> how many images that cell's outputs hold."""
    counts = {
        index: sum("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
        for index, cell in enumerate(notebook.cells)
    }
    return {index: count for index, count in counts.items() if count}


def wait_for_file(path: Path, holds, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text()
        if holds(text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{path.name} was not saved as expected within {timeout:.0f} s")


def open_with_notebook(page, folder: str, name: str) -> None:
    """Open ``folder/name`` through the file browser: into the folder, right-click, Open With, Notebook."""
    page.locator(".jp-DirListing-item", has_text=folder).first.dblclick()
    item = page.locator(".jp-DirListing-item", has_text=name)
    item.wait_for()
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text="Open With").hover()
    page.locator(".lm-Menu").last.locator(".lm-Menu-itemLabel").get_by_text("Notebook", exact=True).click()


@pytest.mark.slow
def test_lesson_runs_edits_and_saves_in_jupyterlab(tmp_path):
    headless = executed_notebook(f"{LESSON}.ipynb")
    repo = copy_of_the_course(tmp_path / "repo")
    master, paired = repo / f"{LESSON}.py", repo / f"{LESSON}.ipynb"
    original_py = master.read_text()
    (tmp_path / "jupyter").mkdir()
    with running_jupyterlab(repo, tmp_path / "jupyter", LAB_SETTINGS) as url, chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(url)
        open_with_notebook(page, "notebooks", Path(master).name)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)

        # 1. Run all cells from the Run menu and wait for the kernel to go idle.
        start = time.perf_counter()
        page.locator(".lm-MenuBar-itemLabel").get_by_text("Run", exact=True).click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
        page.wait_for_function(ALL_CELLS_RAN, timeout=RUN_TIMEOUT_MS)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=RUN_TIMEOUT_MS)
        run_seconds = time.perf_counter() - start
        cells = page.evaluate(READ_CELLS)

        # 2. Every cell that drew a plot in the headless run shows it, rendered.
        expected_images = image_cells(headless)
        shown = {index: len(cell["images"]) for index, cell in enumerate(cells) if cell["images"]}
        assert shown == expected_images
        assert all(all(cell["images"]) for cell in cells), "an image did not render"
        first_boundary = next(i for i in expected_images if "plot_decision_boundary" in headless.cells[i].source)
        page.locator(".jp-Notebook .jp-Cell").nth(first_boundary).scroll_into_view_if_needed()
        screenshot(page, "jupyterlab_02_pytorch_classification")

        # 3. Save: outputs and numbers are written to the .ipynb of the pair.
        page.keyboard.press("Control+s")
        saved_text = wait_for_file(paired, lambda text: RESULTS_MIME in text)
        saved = nbformat.reads(saved_text, as_version=4)
        errors = [
            (index, output.get("ename"))
            for index, cell in enumerate(saved.cells)
            for output in cell.get("outputs", [])
            if output.get("output_type") == "error"
        ]
        assert errors == []  # Run All reached the last cell: the deliberate mistake is shown, not raised
        assert notebook_results(saved) == notebook_results(headless)

        # 4. Edit a markdown cell through the UI and save: both files of the pair change, and only there.
        edited = page.locator(".jp-Notebook .jp-MarkdownCell", has_text=EDITED_CELL_START)
        edited.dblclick()
        edited.locator(".cm-content").click()
        page.keyboard.press("Control+End")
        page.keyboard.type(f"\n\n{ADDED_SENTENCE}")
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Control+s")
        new_py = wait_for_file(master, lambda text: ADDED_SENTENCE in text)
        wait_for_file(paired, lambda text: ADDED_SENTENCE in text)

    seen = {"code_cells_run": sum(cell["code"] for cell in cells), "run_seconds": round(run_seconds, 1)}
    seen |= {"cells_with_images": len(shown), "images_rendered": sum(shown.values())}
    (SCREENSHOTS / "jupyterlab_run.json").write_text(json.dumps(seen, indent=2) + "\n")
    added = [line for line in new_py.splitlines() if line not in original_py.splitlines()]
    assert added == [f"# {ADDED_SENTENCE}"]
    assert new_py.replace(f"#\n# {ADDED_SENTENCE}\n", "", 1) == original_py
    assert check_notebooks.drift(master) is None
    in_ipynb = [cell.source for cell in nbformat.read(paired, as_version=4).cells if ADDED_SENTENCE in cell.source]
    in_py = [cell.source for cell in jupytext.read(master).cells if ADDED_SENTENCE in cell.source]
    assert len(in_ipynb) == 1 and in_ipynb == in_py and in_py[0].startswith(EDITED_CELL_START)


MOVING_BAR = r"model 2:\s+(\d+)%\|"


@pytest.mark.slow
@pytest.mark.long  # lesson 03, live: make test-long
def test_lesson_03_runs_all_to_its_last_cell_with_a_moving_bar_while_model_2_trains(tmp_path):
    """Lesson 03's Run All in JupyterLab: the bar moves while model 2 trains and saves finished, and Run All goes
    on past the deliberate device error to the lesson's last cell."""
    lesson = "notebooks/03_pytorch_computer_vision"
    repo = copy_of_the_course(tmp_path / "repo")
    (repo / "data").symlink_to(REPO_ROOT / "data")  # FashionMNIST, as `make setup` put it
    paired = repo / f"{lesson}.ipynb"
    (tmp_path / "jupyter").mkdir()
    seen_moving = None
    with running_jupyterlab(repo, tmp_path / "jupyter", LAB_SETTINGS) as url, chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(url)
        page.locator(".jp-DirListing-item", has_text="notebooks").first.dblclick()
        page.locator(".jp-DirListing-item", has_text=paired.name).dblclick()
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)

        # 1. Run every cell, from the Run menu.
        training = page.locator(".jp-Notebook .jp-CodeCell", has_text='desc="model 2")')
        page.locator(".lm-MenuBar-itemLabel").get_by_text("Run", exact=True).click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()

        # 2. While model 2 trains, its bar is there and not finished.
        output = training.locator(".jp-OutputArea")
        deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
        while seen_moving is None and time.monotonic() < deadline:
            match = re.search(MOVING_BAR, output.inner_text() if output.count() else "")
            if match and 0 < int(match.group(1)) < 100:  # moved, not yet finished
                seen_moving = output.inner_text().strip()
                training.scroll_into_view_if_needed()
                screenshot(page, "jupyterlab_03_bar_while_model_2_trains")
            time.sleep(0.5)
        page.wait_for_function("() => /model 2:\\s+100%/.test(document.body.innerText)", timeout=RUN_TIMEOUT_MS)
        finished = output.inner_text()
        # 3. Run All goes on to the lesson's last cell.
        page.wait_for_function(ALL_CELLS_RAN, timeout=2 * RUN_TIMEOUT_MS)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=RUN_TIMEOUT_MS)
        page.keyboard.press("Control+s")
        # an autosave may have written the file while the lesson still ran: wait for its last cell
        saved_text = wait_for_file(paired, lambda text: last_code_cell(text).execution_count is not None)

    assert seen_moving is not None, "no moving bar was seen while model 2 trained"
    assert [int(p) for p in re.findall(MOVING_BAR, finished)] == [100]  # the page shows one bar, finished
    cell = model_2_cell(saved_text)
    stored = "".join(output.get("text", "") for output in cell.outputs if output.get("output_type") == "stream")
    assert [int(p) for p in re.findall(MOVING_BAR, stored)] == [100], stored  # the saved file keeps it finished
    saved = nbformat.reads(saved_text, as_version=4)
    errors = [output.get("ename") for c in saved.cells for output in c.get("outputs", []) if output.get("ename")]
    assert errors == [] and all(c.execution_count for c in saved.cells if c.cell_type == "code" and c.source)


def last_code_cell(notebook_text: str) -> nbformat.NotebookNode:
    return [cell for cell in nbformat.reads(notebook_text, as_version=4).cells if cell.cell_type == "code"][-1]


def model_2_cell(notebook_text: str) -> nbformat.NotebookNode:
    """The cell of a saved lesson 03 that trains model 2."""
    (cell,) = [cell for cell in nbformat.reads(notebook_text, as_version=4).cells if 'desc="model 2")' in cell.source]
    return cell


OPENED = """(count) => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    return panel !== null && panel.querySelectorAll('.jp-Cell').length === count;
}"""
COLLAPSED = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell')]
    .map(cell => cell.querySelector('.jp-InputPlaceholder') !== null)"""


@pytest.mark.slow
@pytest.mark.long  # every exercise notebook opened in the browser: make test-long
def test_each_exercise_notebook_opens_with_the_cells_the_course_wrote_collapsed(tmp_path):
    """In JupyterLab a students' notebook shows its exercises, and the setup, self-check and checks as one line each."""
    repo = copy_of_the_course(tmp_path / "repo")
    (tmp_path / "jupyter").mkdir()
    opened = {}
    with running_jupyterlab(repo, tmp_path / "jupyter", LAB_SETTINGS) as url, chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(url)
        page.locator(".jp-DirListing-item", has_text="exercises").first.dblclick()
        for path in sorted((repo / "exercises").glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            page.locator(".jp-DirListing-item", has_text=path.name).dblclick()
            page.wait_for_function(OPENED, arg=len(notebook.cells), timeout=120_000)
            opened[path.name] = round(time.perf_counter() - start, 2)
            collapsed = page.evaluate(COLLAPSED)
            code = [cell for cell in notebook.cells if cell.cell_type == "code"]
            hidden = [cell.metadata.get("jupyter", {}).get("source_hidden", False) for cell in code]
            assert collapsed == hidden and sum(hidden) >= 3, path.name  # setup, self-check, checks
            screenshot(page, f"jupyterlab_{path.stem}_opened")  # the next opens in a tab of its own, shown
    (SCREENSHOTS / "jupyterlab_exercises_opened.json").write_text(json.dumps(opened, indent=2) + "\n")

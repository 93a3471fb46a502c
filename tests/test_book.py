"""The course book (``make book``): built from this session's executed notebooks and read in Chromium."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from browser_harness import chromium, screenshot
from conftest import NBTEST_DIR, executed_notebook

from tools import build_book

# The plots a student would rather look at than read, each found by a line of the cell that draws it.
PLOTS = {
    "notebooks/02_pytorch_classification.html": {
        "the circles data set": 'plt.title("make_circles: two classes")',
        "the blobs data set": 'plt.title("make_blobs: four classes")',
        "loss and accuracy curves of the linear model": "plot_loss_curves(history_0)",
        "loss and accuracy curves of the non-linear model": "plot_loss_curves(history_2)",
        "decision boundaries before and after non-linearity": 'plt.title("model_2 (non-linear, ReLU): test")',
        "the confusion matrix": "confusion matrix on the test split",
    },
    "notebooks/03_pytorch_computer_vision.html": {
        "the FashionMNIST sample grid": 'fig.suptitle("Random FashionMNIST training images")',
        "TinyVGG's loss and accuracy curves": "plot_loss_curves(model_2_history)",
        "the model comparison chart": 'compare_results.set_index("model_name")',
        "the prediction grid": 'plt.title(f"Pred: {pred_label} | Truth: {truth_label}"',
        "the confusion matrix": 'ax.set_title("Model 2 on the FashionMNIST test set")',
    },
}

# Per code cell of a page: its source, its tags, how many images it shows, and any traceback.
READ_CELLS = """() => [...document.querySelectorAll('.jp-Cell.jp-CodeCell')].map(cell => ({
    source: (cell.querySelector('.jp-InputArea-editor') || {}).textContent || '',
    raisesOnPurpose: cell.classList.contains('celltag_raises-exception'),
    images: [...cell.querySelectorAll('.jp-OutputArea img')].map(img => img.complete && img.naturalWidth > 0),
    traceback: cell.querySelector('.course-error') !== null
        || /Traceback \\(most recent call/.test(cell.querySelector('.jp-Cell-outputWrapper')?.textContent ?? ''),
}))"""
BROKEN_IMAGES = "() => [...document.images].filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> tuple[Path, float]:
    """The book built from the copies executed in this session (by nbmake, or here when missing)."""
    for _, folder, executed in build_book.SECTIONS:
        for master in build_book.notebook_masters():
            if executed and master.parent.name == folder:
                executed_notebook(f"{folder}/{master.stem}.ipynb")
    out = tmp_path_factory.mktemp("book")
    start = time.perf_counter()
    build_book.build_book(NBTEST_DIR, out)
    return out, time.perf_counter() - start


def pages_of(out: Path) -> list[str]:
    return sorted(str(path.relative_to(out)) for path in out.glob("*/*.html"))


def test_book_has_a_page_per_notebook_named_after_it(book):
    out, seconds = book
    masters = build_book.notebook_masters()
    assert pages_of(out) == sorted(f"{master.parent.name}/{master.stem}.html" for master in masters)
    assert (out / "index.html").is_file()
    print(f"book built in {seconds:.1f} s")


def test_landing_page_lists_every_notebook_with_its_badge_and_time(book):
    out, _ = book
    index = (out / "index.html").read_text()
    for page in pages_of(out):
        row = re.search(rf'<tr>\s*<td><a href="{re.escape(page)}">.*?</tr>', index, re.S)
        assert row, f"index.html does not link {page}"
        folder, name = page.removesuffix(".html").split("/")
        assert f"blob/main/{folder}/{name}.ipynb" in row.group(0), f"{page} has no Colab badge link"
        assert 'src="colab-badge.svg"' in row.group(0)
        expected = "not executed" if folder == "exercises" else r"executed in \d+\.\d s"
        assert re.search(expected, row.group(0)), f"{page} shows no execution time"


def test_exercises_appear_unexecuted_and_lessons_with_their_outputs(book):
    out, _ = book
    exercise = (out / "exercises/assignment_06_classification.html").read_text()
    assert not re.search(r'class="[^"]*jp-OutputArea-output', exercise)
    lesson = (out / "notebooks/02_pytorch_classification.html").read_text()
    executed = nbformat.read(NBTEST_DIR / "notebooks/02_pytorch_classification.ipynb", as_version=4)
    outputs = [output for cell in executed.cells for output in cell.get("outputs", [])]
    figures = sum("image/png" in output.get("data", {}) for output in outputs)
    assert figures > 0 and lesson.count('src="data:image/png;base64,') == figures


def test_book_loads_nothing_from_the_network_and_its_links_resolve(book):
    out, _ = book
    for page in ["index.html", *pages_of(out)]:
        html = (out / page).read_text()
        assert not re.findall(r'<(?:script|img|link)[^>]+(?:src|href)="https?://', html), f"{page} fetches from the web"
        for target in re.findall(r'(?:href|src)="([^":#]+)(?:#[^"]*)?"', html):
            assert ((out / page).parent / target).is_file(), f"{page} links to missing {target}"


@pytest.mark.slow
def test_every_page_renders_in_chromium_with_its_images_and_no_traceback(book, tmp_path):
    out, _ = book
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto((out / "index.html").as_uri())
        links = page.eval_on_selector_all("table.book-section a[href$='.html']", "links => links.map(a => a.href)")
        assert len(links) == len(pages_of(out))
        assert page.evaluate(BROKEN_IMAGES) == []
        screenshot(page, "book_index", full_page=True)
        for link in links:
            name = link.rsplit("/", 1)[-1].removesuffix(".html")
            response = page.goto(link)
            assert response is not None and response.ok, f"{link} did not load"
            page.wait_for_load_state("load")
            assert page.evaluate(BROKEN_IMAGES) == [], f"{name}: images that did not load"
            cells = page.evaluate(READ_CELLS)
            assert cells, f"{name} shows no code cells"
            unexpected = [cell["source"][:80] for cell in cells if cell["traceback"] and not cell["raisesOnPurpose"]]
            assert unexpected == [], f"{name} shows a traceback outside cells tagged raises-exception"
            for plot, line in PLOTS.get(link.removeprefix(f"{out.as_uri()}/"), {}).items():
                drawing = [cell for cell in cells if line in cell["source"]]
                assert len(drawing) == 1, f"{name}: no single cell draws {plot} ({line!r})"
                assert drawing[0]["images"] and all(drawing[0]["images"]), f"{name}: {plot} is not shown"
            screenshot(page, f"book_{Path(link).parent.name}_{name}")


BAR = re.compile(r"(model [\w ,]+):\s+(\d+)%\|")


@pytest.mark.slow
def test_each_training_loop_of_lesson_03_leaves_one_finished_bar(book, results_of, tmp_path):
    out, _ = book
    page = out / "notebooks/03_pytorch_computer_vision.html"
    master = (Path(build_book.REPO_ROOT) / "notebooks/03_pytorch_computer_vision.py").read_text()
    loops = re.findall(r'tqdm\(range\(EPOCHS\), desc="([^"]+)"\)', master)
    ran = [
        desc
        for desc in loops
        if "autocast" not in desc or results_of("notebooks/03_pytorch_computer_vision.ipynb")["has_lower_precision"]
    ]
    bars = BAR.findall(page.read_text())
    assert sorted(bars) == sorted((desc, "100") for desc in ran), bars  # one bar per loop, finished, no half states
    with chromium(tmp_path / "profile") as browser:
        view = browser.new_page()
        view.goto(page.as_uri())
        bar = view.locator(".jp-OutputArea-output", has_text="model 2:").first
        bar.scroll_into_view_if_needed()
        screenshot(view, "book_03_finished_bars")

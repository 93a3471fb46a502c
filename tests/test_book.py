"""The course book (``make book``): built from this session's executed notebooks and read in Chromium."""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from browser_harness import axe_violations, blocking, chromium, record_axe, screenshot
from bs4 import BeautifulSoup
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


def book_order() -> list[tuple[str, Path]]:
    """(page, master) of every notebook, in the book's order: lessons, exercises, solutions."""
    masters = build_book.notebook_masters()
    return [
        (f"{folder}/{master.stem}.html", master)
        for _, folder, _ in build_book.SECTIONS
        for master in masters
        if master.parent.name == folder
    ]


def first_heading(master: Path) -> str:
    """The notebook's first ``# `` heading, read from its master as a student sees it."""
    first = next(cell for cell in jupytext.read(master).cells if cell.cell_type == "markdown")
    return next(line[2:].strip() for line in first.source.splitlines() if line.startswith("# "))


@functools.cache
def parsed(path: Path) -> BeautifulSoup:
    """The page, parsed once per session (a lesson's page takes seconds to parse under coverage's tracer)."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def rel_link(page: BeautifulSoup, rel: str) -> str | None:
    link = page.find("a", rel=rel)
    return None if link is None else link["href"]


def test_landing_page_gives_each_notebook_its_title_a_line_on_it_and_its_badge(book):
    out, _ = book
    index = parsed(out / "index.html")
    entries = {entry.h3.a["href"]: entry for entry in index.select("li.course-entry")}
    assert list(entries) == [page for page, _ in book_order()]
    for page, master in book_order():
        entry = entries[page]
        mark = entry.h3.find(class_="course-solution-mark")
        assert (mark is not None) == page.startswith("solutions/"), page
        assert entry.h3.get_text().removeprefix("Solution") == first_heading(master)
        line = entry.p.get_text()
        words = " ".join(re.sub(r"[`*]|\]\([^)]*\)|\[", "", master.read_text()).replace("\n# ", " ").split())
        assert len(line) > 30 and line in words, f"{page}: {line!r} is not the notebook's own words"
        badge = entry.find("img", src="colab-badge.svg").parent
        assert badge["href"].endswith(f"blob/main/{page.removesuffix('.html')}.ipynb")
    assert "executed in" not in index.get_text().lower()  # times are in each page's footer, not here


def test_every_page_is_titled_lists_the_book_in_its_sidebar_and_states_its_time_in_the_footer(book):
    out, _ = book
    order = book_order()
    for page, master in order:
        html = parsed(out / page)
        suffix = " (solutions)" if page.startswith("solutions/") else ""
        assert html.title.get_text().strip() == first_heading(master) + suffix, page
        sidebar = html.find("nav", class_="course-sidebar")
        listed = [link["href"].removeprefix("../") for link in sidebar.find_all("a")]
        assert listed == ["index.html", *[other for other, _ in order]], page
        assert [link["href"] for link in sidebar.find_all("a", attrs={"aria-current": "page"})] == [f"../{page}"]
        assert len(sidebar.select(".course-solution-mark")) == sum(p.startswith("solutions/") for p, _ in order)
        footer = html.find("footer", class_="course-footer").get_text()
        expected = r"Not executed" if page.startswith("exercises/") else r"Executed by make notebooks in \d+\.\d s"
        assert re.search(expected, footer), f"{page}: {footer!r}"


def test_previous_and_next_links_chain_through_the_whole_book(book):
    out, _ = book
    chain, current = [], "index.html"
    while (target := rel_link(parsed(out / current), "next")) is not None:
        following = str(((out / current).parent / target).resolve().relative_to(out.resolve()))
        back = rel_link(parsed(out / following), "prev")
        assert ((out / following).parent / back).resolve() == (out / current).resolve(), f"{following} <- {current}"
        chain.append(following)
        current = following
        assert len(chain) <= len(book_order()), chain
    assert chain == [page for page, _ in book_order()]


def test_every_cell_the_course_wrote_is_folded_behind_its_title_as_in_colab(book):
    out, _ = book
    for page, master in book_order():
        html = parsed(out / page)
        folded = html.find_all("details", class_="course-folded")
        notebook = nbformat.read(master.with_suffix(".ipynb"), as_version=4)
        forms = [cell for cell in notebook.cells if cell.metadata.get("cellView") == "form"]
        assert [details.summary.get_text() for details in folded] == [
            cell.source.splitlines()[0].removeprefix("# @title ") for cell in forms
        ], page
        assert folded[0].summary.get_text().startswith("Setup: run this cell first"), page
        assert html.select(".jp-CodeCell")[0].find_parent("details") is folded[0], page


def test_every_image_has_alternative_text_that_says_what_the_figure_shows(book):
    out, _ = book
    placeholder = "No description has been provided for this image"
    for page in ["index.html", *pages_of(out)]:
        images = parsed(out / page).find_all("img")
        missing = [
            image["src"][:60] for image in images if not image.get("alt", "").strip() or image["alt"] == placeholder
        ]
        assert missing == [], f"{page}: images without a description: {missing}"
    alts = [image["alt"] for image in parsed(out / "notebooks/02_pytorch_classification.html").find_all("img")]
    assert "make_circles: two classes (x: X1, y: X2)." in alts, alts  # the figure's own title and axis labels


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
@pytest.mark.long  # every page in Chromium, with axe on each: a minute, in make test-long
def test_every_page_renders_in_chromium_with_its_images_and_no_traceback(book, tmp_path):
    out, _ = book
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto((out / "index.html").as_uri())
        links = page.eval_on_selector_all(".course-entry h3 a", "links => links.map(a => a.href)")
        assert len(links) == len(pages_of(out))
        assert page.evaluate(BROKEN_IMAGES) == []
        screenshot(page, "book_index", full_page=True)
        violations = {"index.html": axe_violations(page)}
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
            violations[link.removeprefix(f"{out.as_uri()}/")] = axe_violations(page)
    for name, found in violations.items():
        record_axe(name, found)
    assert {name: blocking(found) for name, found in violations.items() if blocking(found)} == {}


@pytest.mark.slow
def test_search_finds_a_word_of_lesson_03_and_opens_its_section(book, tmp_path):
    out, _ = book
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto((out / "index.html").as_uri())
        page.fill("#course-search-input", "TinyVGG")
        first = page.locator("#course-search-results a").first
        first.wait_for()
        screenshot(page, "book_search_tinyvgg")
        target = first.get_attribute("href")
        assert target.startswith("notebooks/03_pytorch_computer_vision.html#"), target
        first.click()
        page.wait_for_load_state("load")
        anchor = target.split("#", 1)[1]
        assert page.url.endswith(f"/notebooks/03_pytorch_computer_vision.html#{anchor}")
        heading = page.locator(f"[id='{anchor}']")
        assert heading.count() == 1 and "TinyVGG" in heading.inner_text()
        assert heading.evaluate("element => element.getBoundingClientRect().top < window.innerHeight")


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

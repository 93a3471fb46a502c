"""Build the course book: every notebook as a static HTML page under ``build/book/``.

Run: ``python -m tools.build_book [--executed build/executed] [--out build/book]``
(``make book``, after ``make notebooks``). Nothing is executed here: lessons and solutions
are rendered from the copies that ``make notebooks`` executed, with every output and every
figure embedded in the page; exercises are rendered from ``exercises/`` as students get them,
unexecuted, because their unsolved cells raise on purpose.

The pages are nbconvert's ``lab`` HTML with a bar back to the landing page
(``tools/book/course_page``); the landing page ``index.html`` lists every notebook with
its Colab badge and execution time (``tools/book/index.html.j2``). A page is
``<folder>/<notebook name>.html``, as in the repository, so ``../exercises/x.ipynb`` links
between notebooks become ``../exercises/x.html``. The book loads nothing from the network:
the Colab badge is a local copy.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter

from tools.check_notebooks import REPO_ROOT, notebook_masters
from tools.colab_setup import colab_url

ASSETS = Path(__file__).resolve().parent / "book"
DEFAULT_EXECUTED = REPO_ROOT / "build" / "executed"
DEFAULT_OUT = REPO_ROOT / "build" / "book"
BOOK_TITLE = "PyTorch classification course"
BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "../colab-badge.svg"  # from a page in <folder>/ to the copy at the book's root
# (section title, folder, rendered from the executed copies?)
SECTIONS = (("Lessons", "notebooks", True), ("Exercises", "exercises", False), ("Solutions", "solutions", True))
NOTEBOOK_LINK = re.compile(r"\]\(((?:\.\./)?[\w/.-]+?)\.ipynb\)")


@dataclass(frozen=True)
class Page:
    """One notebook of the book: where it is read from and how the landing page lists it."""

    notebook: Path  # the .ipynb that is rendered
    folder: str  # notebooks, exercises or solutions
    seconds: float | None  # execution time; None for an exercise, shown unexecuted

    @property
    def name(self) -> str:
        return self.notebook.stem

    @property
    def href(self) -> str:
        return f"{self.folder}/{self.name}.html"

    @property
    def colab_url(self) -> str:
        return colab_url(f"{self.folder}/{self.name}.ipynb")

    @property
    def status(self) -> str:
        if self.seconds is None:
            return "not executed: an exercise, its unsolved cells raise on purpose"
        return f"executed in {self.seconds:.1f} s"


def execution_seconds(notebook: nbformat.NotebookNode) -> float | None:
    """Seconds from the first cell's start to the last cell's reply, from nbclient's cell timings."""
    starts, ends = [], []
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            starts.append(datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00")))
            ends.append(datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00")))
    if not starts:
        return None
    return (max(ends) - min(starts)).total_seconds()


def book_pages(executed_dir: Path, repo_root: Path = REPO_ROOT) -> list[Page]:
    """Every notebook of the course, in book order, read from where the book shows it."""
    pages = []
    for _, folder, executed in SECTIONS:
        for master in notebook_masters(repo_root):
            if master.parent.name != folder:
                continue
            if not executed:
                pages.append(Page(master.with_suffix(".ipynb"), folder, None))
                continue
            copy = executed_dir / folder / f"{master.stem}.ipynb"
            seconds = execution_seconds(nbformat.read(copy, as_version=4)) if copy.is_file() else None
            if seconds is None:
                raise FileNotFoundError(
                    f"{copy} is missing or was not executed; run `make notebooks` first, then `make book`"
                )
            pages.append(Page(copy, folder, seconds))
    return pages


def offline_markdown(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Point the Colab badge at the book's local copy and links to notebooks at their pages."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = NOTEBOOK_LINK.sub(r"](\1.html)", cell.source.replace(BADGE_URL, LOCAL_BADGE))
    return notebook


def finished_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Each cell's stdout and stderr as one output each, with carriage returns applied.

    A progress bar redraws its line with ``\\r``; an executor that keeps every message keeps every
    state of the bar. What a reader sees is what a terminal shows at the end: the finished line.
    (``make notebooks`` stores its copies so already; nbmake's copies, which the tests render, not.)
    """
    for cell in notebook.cells:
        outputs: list[nbformat.NotebookNode] = []
        streams: dict[str, nbformat.NotebookNode] = {}
        for output in cell.get("outputs", []):
            if output.get("output_type") != "stream":
                outputs.append(output)
            elif output.name in streams:
                streams[output.name].text += output.text
            else:
                streams[output.name] = output
                outputs.append(output)
        for output in streams.values():
            output.text = "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in output.text.split("\n"))
        if "outputs" in cell:
            cell.outputs = outputs
    return notebook


def render_page(page: Page, out_dir: Path, exporter: HTMLExporter) -> Path:
    notebook = finished_streams(offline_markdown(nbformat.read(page.notebook, as_version=4)))
    resources = {"course": {"colab_url": page.colab_url, "status": page.status}, "metadata": {"name": page.name}}
    html, _ = exporter.from_notebook_node(notebook, resources=resources)
    target = out_dir / page.href
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


def render_index(pages: list[Page], out_dir: Path) -> Path:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ASSETS), autoescape=True)
    sections = [
        {"title": title, "folder": folder, "pages": [page for page in pages if page.folder == folder]}
        for title, folder, _ in SECTIONS
    ]
    target = out_dir / "index.html"
    target.write_text(environment.get_template("index.html.j2").render(title=BOOK_TITLE, sections=sections))
    return target


def build_book(executed_dir: Path = DEFAULT_EXECUTED, out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Write the book into ``out_dir`` (replacing what was there); return the pages, landing page first."""
    pages = book_pages(executed_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    shutil.copy(ASSETS / "colab-badge.svg", out_dir / "colab-badge.svg")
    exporter = HTMLExporter(extra_template_basedirs=[str(ASSETS)], template_name="course_page")
    return [render_index(pages, out_dir), *(render_page(page, out_dir, exporter) for page in pages)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the executed notebooks as a static HTML book.")
    parser.add_argument("--executed", type=Path, default=DEFAULT_EXECUTED, help="where `make notebooks` wrote")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the book's folder (replaced)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        written = build_book(args.executed.resolve(), args.out.resolve())
    except FileNotFoundError as error:
        print(f"make book: {error}", file=sys.stderr)
        return 1
    print(f"{len(written) - 1} pages and index.html in {time.perf_counter() - start:.1f} s: open {written[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the course book: every notebook as a static HTML page under ``build/book/``.

Run: ``python -m tools.build_book [--executed build/executed] [--out build/book]``
(``make book``, after ``make notebooks``). Nothing is executed here: lessons and solutions
are rendered from the copies that ``make notebooks`` executed, with every output and every
figure embedded in the page; exercises are rendered from ``exercises/`` as students get them,
unexecuted, because their unsolved cells raise on purpose.

The pages are nbconvert's ``lab`` HTML (``tools/book/course_page``), each titled with its
notebook's first heading, with a sidebar that lists every page (solutions marked) and a search
box, links to the previous and next page, the setup cell folded away behind its one-line
summary, each figure's description (``helper_functions.use_course_style``) as its ``alt``
text, and the execution time in a footer. The landing page ``index.html`` gives each
notebook's title, its first sentence and its Colab badge (``tools/book/index.html.j2``).
A page is ``<folder>/<notebook name>.html``, as in the repository, so
``../exercises/x.ipynb`` links between notebooks become ``../exercises/x.html``.

Search runs in the page: the build writes every section's prose and code to
``search/documents.js`` and copies MiniSearch (npm, pinned in ``tools/book/package.json``,
installed by ``npm ci --prefix tools/book``, which ``make book`` runs) beside it. The book loads
nothing from the network: the Colab badge is a local copy, and scripts load by ``<script>`` tags,
which work from ``file://``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
import markupsafe
import nbformat
from bs4 import BeautifulSoup
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
MINISEARCH = ASSETS / "node_modules" / "minisearch"
TITLE = "# @title "  # the first line of a cell the course folds, in Colab (a form) as in the book
INDEX = {"href": "index.html", "title": BOOK_TITLE}


def plain_text(markdown: str) -> str:
    """Markdown's words without its marks: links keep their text, code and emphasis lose their marks."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[`*]|(?<!\w)_+|_+(?!\w)", "", text)  # an underscore inside a name stays
    return " ".join(text.split())


def title_and_summary(notebook: nbformat.NotebookNode, source: Path) -> tuple[str, str]:
    """The notebook's first heading, and the first sentence of the prose under it."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        heading = next((line[2:].strip() for line in cell.source.splitlines() if line.startswith("# ")), None)
        if heading is None:
            break
        paragraphs = [
            p for p in re.split(r"\n\s*\n", cell.source) if p.strip() and not p.lstrip().startswith(("#", "[!["))
        ]
        first = re.match(r"(.+?[.!?])(?=\s|$)", plain_text(paragraphs[0])) if paragraphs else None
        if first is None:
            raise ValueError(f"{source}: the first markdown cell has no sentence under its heading for the book")
        return plain_text(heading), first.group(1)
    raise ValueError(f"{source}: the first markdown cell has no '# ' heading to title its book page")


@dataclass(frozen=True)
class Page:
    """One notebook of the book: where it is read from and how the landing page lists it."""

    notebook: Path  # the .ipynb that is rendered
    folder: str  # notebooks, exercises or solutions
    seconds: float | None  # execution time; None for an exercise, shown unexecuted
    title: str  # the notebook's first heading
    summary: str  # the first sentence under it

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
            return "Not executed: an exercise, as students get it (its unsolved cells raise on purpose)."
        return f"Executed by make notebooks in {self.seconds:.1f} s."

    @property
    def page_title(self) -> str:
        return f"{self.title} (solutions)" if self.folder == "solutions" else self.title

    @property
    def link(self) -> dict[str, str]:
        return {"href": self.href, "title": self.page_title}


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
            source = executed_dir / folder / f"{master.stem}.ipynb" if executed else master.with_suffix(".ipynb")
            notebook = nbformat.read(source, as_version=4) if source.is_file() else None
            seconds = execution_seconds(notebook) if executed and notebook is not None else None
            if executed and seconds is None:
                raise FileNotFoundError(
                    f"{source} is missing or was not executed; run `make notebooks` first, then `make book`"
                )
            assert notebook is not None  # an exercise's .ipynb sits beside its master
            pages.append(Page(source, folder, seconds, *title_and_summary(notebook, source)))
    return pages


def solution_of(page: Page, pages: list[Page]) -> Page | None:
    """The exercise set that a solutions page answers (same name, ``_solutions`` for ``_exercises``)."""
    if page.folder != "solutions":
        return None
    name = page.name.removesuffix("_solutions") + ("_exercises" if page.name.endswith("_solutions") else "")
    return next((other for other in pages if other.folder == "exercises" and other.name == name), None)


def sidebar(pages: list[Page], current: str, root: str) -> markupsafe.Markup:
    """The sidebar's HTML for the page at ``current`` (a book path); ``root`` leads from it to the book."""
    template = _templates().get_template("sidebar.html.j2")
    html = template.render(sections=_sections(pages), current=current, root=root, book_title=BOOK_TITLE)
    return markupsafe.Markup(html)  # escaped once, by its own template: the pages insert it as it is


def _sections(pages: list[Page]) -> list[dict]:
    return [
        {"title": title, "folder": folder, "pages": [page for page in pages if page.folder == folder]}
        for title, folder, _ in SECTIONS
    ]


def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(ASSETS), autoescape=True)


def fold_generated_cells(notebook: nbformat.NotebookNode) -> int:
    """Mark each cell the course wrote (a Colab form: the setup, the self-check, a check) to fold behind its title.

    The page shows it as one line, as Colab does; returns how many cells were folded.
    """
    folded = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("cellView") == "form" and cell.source.startswith(TITLE):
            cell.metadata["course_summary"] = cell.source.splitlines()[0].removeprefix(TITLE)
            folded += 1
    return folded


def search_documents(html: str, page: Page) -> list[dict[str, str]]:
    """Every section of a rendered page (from one heading to the next), with its prose and code."""
    main = BeautifulSoup(html, "html.parser").find("main")
    # (heading, href, text pieces) per section; the page's own title heads what comes before any heading
    sections: list[tuple[str, str, list[str]]] = [(page.page_title, page.href, [])]
    for cell in main.select(".jp-Cell") if main else []:
        if "jp-CodeCell" in (cell.get("class") or []):
            editor = cell.select_one(".jp-InputArea-editor")
            if editor is not None:
                sections[-1][2].append(editor.get_text(" "))
            continue
        rendered = cell.select_one(".jp-RenderedMarkdown")
        for element in rendered.find_all(recursive=False) if rendered else []:
            if element.name in ("h1", "h2", "h3", "h4") and element.get("id"):
                for anchor in element.select("a.anchor-link"):
                    anchor.decompose()
                heading = " ".join(element.get_text().split())  # inline code stays in its words
                sections.append((heading, f"{page.href}#{element['id']}", []))
            else:
                sections[-1][2].append(element.get_text(" "))
    return [
        {"heading": heading, "href": href, "title": page.page_title, "text": " ".join(" ".join(text).split())}
        for heading, href, text in sections
    ]


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


def render_page(pages: list[Page], position: int, out_dir: Path, exporter: HTMLExporter) -> tuple[Path, list[dict]]:
    """Write the page at ``position`` of the book; return its path and its sections for the search."""
    page = pages[position]
    notebook = finished_streams(offline_markdown(nbformat.read(page.notebook, as_version=4)))
    notebook.metadata["title"] = page.page_title
    answers = solution_of(page, pages)
    course = {
        "status": page.status,
        "sidebar": sidebar(pages, page.href, "../"),
        "prev": pages[position - 1].link if position > 0 else INDEX,
        "next": pages[position + 1].link if position + 1 < len(pages) else None,
        "solution_of": answers.link if answers else None,
        "folded": fold_generated_cells(notebook),
    }
    html, _ = exporter.from_notebook_node(notebook, resources={"course": course, "metadata": {"name": page.name}})
    target = out_dir / page.href
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target, search_documents(html, page)


def render_index(pages: list[Page], out_dir: Path) -> Path:
    target = out_dir / "index.html"
    html = (
        _templates()
        .get_template("index.html.j2")
        .render(
            title=BOOK_TITLE,
            sections=_sections(pages),
            sidebar=sidebar(pages, "index.html", ""),
            next_page=pages[0].link if pages else None,
        )
    )
    target.write_text(html, encoding="utf-8")
    return target


def write_search(documents: list[dict], out_dir: Path) -> None:
    """The search's library, its script and every section's text, as scripts the pages load."""
    library = MINISEARCH / "dist" / "umd" / "index.js"
    if not library.is_file():
        raise FileNotFoundError(f"{library} is missing; run `npm ci --prefix tools/book` (make book does)")
    folder = out_dir / "search"
    folder.mkdir()
    shutil.copy(library, folder / "minisearch.js")
    shutil.copy(MINISEARCH / "LICENSE.txt", folder / "minisearch.LICENSE.txt")
    shutil.copy(ASSETS / "static" / "search.js", folder / "search.js")
    numbered = [{"id": number, **document} for number, document in enumerate(documents)]
    (folder / "documents.js").write_text(
        f"window.COURSE_SEARCH_DOCUMENTS = {json.dumps(numbered, ensure_ascii=False)};\n", encoding="utf-8"
    )


def build_book(executed_dir: Path = DEFAULT_EXECUTED, out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Write the book into ``out_dir`` (replacing what was there); return the pages, landing page first."""
    pages = book_pages(executed_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    shutil.copy(ASSETS / "colab-badge.svg", out_dir / "colab-badge.svg")
    shutil.copy(ASSETS / "static" / "book.css", out_dir / "book.css")
    exporter = HTMLExporter(extra_template_basedirs=[str(ASSETS)], template_name="course_page")
    rendered = [render_page(pages, position, out_dir, exporter) for position in range(len(pages))]
    write_search([document for _, documents in rendered for document in documents], out_dir)
    return [render_index(pages, out_dir), *(target for target, _ in rendered)]


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

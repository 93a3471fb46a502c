"""The submissions of a class: find them on disk and read each as a notebook, or say why not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

NOTEBOOK_SUFFIXES = (".ipynb", ".py")


@dataclass(frozen=True)
class Submission:
    path: Path
    label: str  # as shown in grades.csv
    slug: str  # unique, safe as a file name


class NotANotebook(ValueError):
    """The file cannot be read as a notebook; the message says why, for the feedback."""


def find_submissions(paths: Iterable[str | Path]) -> list[Submission]:
    """Expand files and folders (recursively: ``.ipynb`` and ``.py``) into submissions, in order.

    A path that does not exist raises ``FileNotFoundError``: that is the instructor's
    typo, not a student's failure.
    """
    files: list[tuple[Path, Path]] = []  # (path, short name: relative to the folder given, or the file's name)
    for given in map(Path, paths):
        if given.is_dir():
            found = sorted(
                path
                for path in given.rglob("*")
                if path.is_file()
                and path.suffix in NOTEBOOK_SUFFIXES
                and not any(part.startswith(".") for part in path.relative_to(given).parts)
            )
            files.extend((path, path.relative_to(given.parent)) for path in found)
        elif given.exists():
            files.append((given, Path(given.name)))
        else:
            raise FileNotFoundError(f"no such submission file or folder: {given}")
    submissions, seen, slugs = [], set(), set()
    for path, short in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        base = "".join(c if c.isalnum() or c in "._-" else "_" for c in "__".join(short.parts)).lstrip(".")
        slug, n = base, 1
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
        submissions.append(Submission(path, str(path), slug))
    return submissions


def load_notebook(path: Path) -> nbformat.NotebookNode:
    """Read an ``.ipynb`` or ``py:percent`` file as a notebook without outputs, or raise ``NotANotebook``."""
    if path.suffix not in NOTEBOOK_SUFFIXES:
        raise NotANotebook(f"expected an .ipynb or a .py notebook, got a {path.suffix or 'file without extension'}")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise NotANotebook(f"the file cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise NotANotebook("the file is not text (is it a notebook at all?)") from None
    if not text.strip():
        raise NotANotebook("the file is empty")
    if path.suffix == ".py":
        if not any(line.startswith("# %%") for line in text.splitlines()):
            raise NotANotebook("a .py submission must be a percent notebook, with `# %%` cell markers")
        notebook = jupytext.reads(text, fmt="py:percent")
    else:
        try:
            notebook = nbformat.reads(text, as_version=4)
        except Exception:  # nbformat raises many kinds for JSON that is not a notebook
            raise NotANotebook("the file is not a Jupyter notebook (.ipynb JSON)") from None
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and cell.get("cell_type") in ("code", "markdown", "raw") for cell in cells
    ):
        raise NotANotebook("the notebook's cells cannot be read")
    for cell in cells:
        cell.source = "".join(cell.source) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook

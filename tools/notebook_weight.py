"""How much of each students' notebook is the student's: machinery lines, what Colab shows, sizes, copies.

Run: ``python -m tools.notebook_weight [ROOT]`` (ROOT: a checkout, by default this one). It prints
a table and writes ``build/notebook_weight.json`` (under this checkout), with, for each exercise
notebook:

* ``machinery_lines``: lines of code its student did not write: the setup cell, the self-check's
  cells and the checks' cells (tagged ``harness``, ``self-check`` or ``check``);
* ``colab_lines``: lines Colab shows by default: every cell's source, but a form cell
  (``cellView: form``) as its one title line;
* ``ipynb_bytes``: the size of its ``.ipynb``;

and for the repository: the masters' sizes, and how many notebooks carry a copy of the
self-check's code (its rebuild's ``class _Rebuilder:``), besides its one home.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
MACHINERY_TAGS = {"harness", "self-check", "check"}
COPY_MARKER = "class _Rebuilder:"


def is_machinery(cell: nbformat.NotebookNode, first_code: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and (
        cell is first_code or bool(MACHINERY_TAGS & set(cell.metadata.get("tags", [])))
    )


def weigh(notebook_path: Path) -> dict:
    """The machinery lines, the lines Colab shows by default and the size of one ``.ipynb``."""
    notebook = nbformat.read(notebook_path, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    return {
        "machinery_lines": sum(
            len(cell.source.splitlines()) for cell in notebook.cells if is_machinery(cell, first_code)
        ),
        "colab_lines": sum(
            1 if cell.metadata.get("cellView") == "form" else len(cell.source.splitlines()) for cell in notebook.cells
        ),
        "ipynb_bytes": notebook_path.stat().st_size,
    }


def measure(root: Path) -> dict:
    exercises = {path.name: weigh(path) for path in sorted((root / "exercises").glob("*.ipynb"))}
    masters = {
        path.name: {"py_bytes": path.stat().st_size, "ipynb_bytes": path.with_suffix(".ipynb").stat().st_size}
        for path in sorted((root / "solutions").glob("*.py"))
    }
    notebooks = [path for folder in ("notebooks", "exercises", "solutions") for path in (root / folder).rglob("*")]
    copies = sum(
        1 for path in notebooks if path.suffix in (".py", ".ipynb") and COPY_MARKER in path.read_text(encoding="utf-8")
    )
    return {"exercises": exercises, "masters": masters, "self_check_copies_in_notebooks": copies}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]).resolve() if args else REPO_ROOT
    measured = measure(root)
    for name, weight in measured["exercises"].items():
        print(
            f"{name:50} machinery {weight['machinery_lines']:5} lines   Colab shows {weight['colab_lines']:5} lines"
            f"   {weight['ipynb_bytes'] / 1024:6.1f} KiB"
        )
    for name, size in measured["masters"].items():
        print(f"{name:50} master .py {size['py_bytes'] / 1024:6.1f} KiB   .ipynb {size['ipynb_bytes'] / 1024:6.1f} KiB")
    print(f"copies of the self-check's code in notebooks: {measured['self_check_copies_in_notebooks']}")
    out = REPO_ROOT / "build" / "notebook_weight.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"root": str(root), **measured}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

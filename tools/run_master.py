"""One master at a time: write its generated cells and students' files, execute it, and print its final score.

Run: ``python -m tools.run_master solutions/assignment_07_topic.py`` (or ``make master
MASTER=solutions/assignment_07_topic.py``). It does for one master what ``make sync`` and ``make
notebooks`` do for all: it writes the master's setup and self-check cells and its ``.ipynb``, the
students' notebook and module of checks in ``exercises/``, executes the master top to bottom into
``build/executed/``, and prints what its last ``check()`` printed, ending with the score. It exits
0 when that score is full marks, 1 when it is not or a cell raised, 2 when the master's markers
are wrong.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from tools import check_notebooks, make_exercises
from tools.run_notebooks import REPO_ROOT, execute

OUT = REPO_ROOT / "build" / "executed"
SCORE = re.compile(r"^score: (\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)", re.MULTILINE)


def final_check(notebook: nbformat.NotebookNode) -> str:
    """What the master's last ``check()`` cell printed."""
    for cell in reversed(notebook.cells):
        if cell.cell_type == "code" and re.search(r"^check\(\)\s*$", cell.source, re.MULTILINE):
            return "".join(
                output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                for output in cell.get("outputs", [])
            ).strip()
    return ""


def full_marks(printed: str) -> bool:
    """Whether a ``check()`` report's score line shows full marks."""
    match = SCORE.search(printed)
    return match is not None and float(match.group(1)) == float(match.group(2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.run_master", description=__doc__.split("\n\n")[0])
    parser.add_argument("master", type=Path, help="a master: solutions/NAME.py, a jupytext percent notebook")
    args = parser.parse_args(argv)
    master = args.master.resolve()
    if master.suffix != ".py" or not master.is_file():
        parser.error(f"{args.master} is not a master's .py file")
    check_notebooks.sync(master)
    print(f"wrote the generated cells of {master.name} and its .ipynb")
    try:
        for target, text in make_exercises.render(master).items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(REPO_ROOT) if target.is_relative_to(REPO_ROOT) else target}")
    except make_exercises.MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        executed, seconds = execute(master.with_suffix(".ipynb"), OUT)
    except CellExecutionError as error:
        print(f"a cell of {master.name} raised:\n{str(error)[-3000:]}", file=sys.stderr)
        return 1
    printed = final_check(nbformat.read(executed, as_version=4))
    print(f"executed {master.name} in {seconds:.0f} s into {executed}; its final check() says:\n{printed}")
    if not printed:
        print("the master has no cell that runs check() at its end: add one", file=sys.stderr)
        return 1
    return 0 if full_marks(printed) else 1


if __name__ == "__main__":
    raise SystemExit(main())

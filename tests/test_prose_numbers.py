"""Prose may quote only what its own run printed.

A number in a lesson's or solution's prose that depends on the run (a sample's index such as
#8532, a decimal such as 88.15, a percentage, a count "1211 of 10000") must appear in that
notebook's executed outputs or in its code, or be a section or step number. Prose written from
another run, or another machine's kernels, fails here: CPU kernels differ between machines,
and so do the sample indices and the last digits of an accuracy.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import executed_notebook

from tools.check_notebooks import notebook_masters

NUMBER = re.compile(r"\d+(?:\.\d+)?")
# A sample index (#8532), a decimal (88.15), a percentage (46%) or the first number of "N of M".
RUN_SPECIFIC = re.compile(
    r"(?<![\w.#/-])(?:#(?P<index>\d+)|(?P<decimal>\d+\.\d+)|(?P<percent>\d+)(?=\s?%)|(?P<count>\d[\d,]*)(?= of \d))"
)
HEADING_OR_STEP = re.compile(r"^\s*(?:#+\s*)?(\d+(?:\.\d+)*)[.\s]", re.MULTILINE)


def _known_numbers(notebook: nbformat.NotebookNode) -> list[str]:
    """Every number in the notebook's code and in the text of its outputs."""
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        texts.append(cell.source)
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts.extend(str(value) for key, value in output.get("data", {}).items() if not key.startswith("image/"))
            texts.append(str(output.get("evalue", "")))
    return NUMBER.findall("\n".join(texts).replace(",", ""))


def _printed(number: str, known: list[str]) -> bool:
    """True when the run printed ``number``, or a number that rounds to it (88.1537 for 88.15)."""
    decimals = len(number.partition(".")[2])
    return any(candidate == number or f"{float(candidate):.{decimals}f}" == number for candidate in known)


def unprinted_numbers(notebook: nbformat.NotebookNode) -> list[str]:
    """Run-specific numbers of the prose that the notebook's run did not print, with their line."""
    known = _known_numbers(notebook)
    structure = {
        number
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for number in HEADING_OR_STEP.findall(cell.source)
    }
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            prose = re.sub(r"\]\([^)]*\)", "]", re.sub(r"`[^`]*`", "", line))  # code spans and link targets
            for match in RUN_SPECIFIC.finditer(prose):
                number = next(group for group in match.groups() if group).replace(",", "")
                if number not in structure and not _printed(number, known):
                    found.append(f"{match.group(0)!r} in: {line.strip()[:100]}")
    return found


def executed_lessons_and_solutions() -> list[str]:
    masters = notebook_masters()
    return [f"{master.parent.name}/{master.stem}.ipynb" for master in masters if master.parent.name != "exercises"]


@pytest.mark.parametrize("relative_path", executed_lessons_and_solutions())
def test_prose_quotes_only_numbers_its_run_printed(relative_path):
    assert unprinted_numbers(executed_notebook(relative_path)) == []


def notebook_of(prose: str, printed: str) -> nbformat.NotebookNode:
    code = nbformat.v4.new_code_cell("print(result)", outputs=[nbformat.v4.new_output("stream", text=printed)])
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("## 3.4 Results"), code, nbformat.v4.new_markdown_cell(prose)]
    )


@pytest.mark.parametrize(
    ("prose", "printed", "flagged"),
    [
        ("Image #8532 is a sneaker.", "worst: [2914, 787, 3531]", ["'#8532'"]),
        ("Image #787 is a dress.", "worst: [2914, 787, 3531]", []),
        ("Model 2 scores 88.15% here.", "acc 88.32%", ["'88.15'"]),
        ("Model 2 scores 88.3% here.", "acc 88.32%", []),
        ("It gets 1211 of 10000 wrong.", "1194 of 10000 wrong", ["'1211'"]),
        ("As section 3.4 showed, about 40% of the time.", "lowest 40.0%", []),
        ("We train 4 models for 3 epochs on 60,000 images.", "", []),
    ],
)
def test_the_check_flags_numbers_from_another_run_and_passes_printed_ones(prose, printed, flagged):
    found = unprinted_numbers(notebook_of(prose, printed))
    assert [line.split(" in: ")[0] for line in found] == flagged

"""Lesson 03's section 7.5 on both kinds of machine, whatever this one is.

The section's own cells, taken from the master, run in a fresh kernel after a short prelude
that makes what they need (a small TinyVGG, 40 batches of FashionMNIST images, model 2's
results). ``COURSE_CPU_LOWER_PRECISION`` (``helper_functions.cpu_has_fast_bf16``) makes the CPU
count as having fast bf16 or not, so each branch runs here: without it, one sentence and
nothing timed or trained; with it, the timing with a verdict that respects the spread, and a
training run under autocast.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
MASTER = REPO_ROOT / "notebooks" / "03_pytorch_computer_vision.py"
PRELUDE = """\
import copy, statistics, sys
from timeit import default_timer as timer
sys.path.insert(0, REPO)
import torch
from torch import nn
from torchvision import datasets
from torchvision.transforms import ToTensor
from tqdm import tqdm
from bench.models import FashionMNISTModelV2
from helper_functions import (
    TensorBatches, autocast_dtype, cpu_precision_reason, data_dir, set_seeds, test_step, timing_verdict, train_step,
)
BATCH_SIZE, EPOCHS, LEARNING_RATE, HIDDEN_UNITS, RANDOM_SEED = 32, 1, 0.1, 10, 10
device = "cpu"
class_names = list(range(10))
loss_fn = nn.CrossEntropyLoss()
train = datasets.FashionMNIST(root=str(data_dir()), train=True, download=False, transform=ToTensor())
test = datasets.FashionMNIST(root=str(data_dir()), train=False, download=False, transform=ToTensor())
small = lambda data, n: torch.utils.data.Subset(data, range(n))
train_batches = TensorBatches.from_dataset(small(train, 40 * BATCH_SIZE), batch_size=BATCH_SIZE, device=device)
test_batches = TensorBatches.from_dataset(small(test, 320), batch_size=BATCH_SIZE, device=device)
set_seeds(RANDOM_SEED)
untrained_tinyvgg = FashionMNISTModelV2(input_shape=1, hidden_units=HIDDEN_UNITS, output_shape=10)
model_2_results = {"acc": 50.0}
total_train_time_model_2 = 1.0
"""


def section_cells() -> list[str]:
    """The code cells of section 7.5, from its heading to section 8's."""
    cells, inside = [], False
    for cell in jupytext.read(MASTER).cells:
        if cell.cell_type == "markdown" and "### 7.5" in cell.source:
            inside = True
        elif cell.cell_type == "markdown" and re.search(r"^## 8\.", cell.source, re.MULTILINE):
            break
        elif inside and cell.cell_type == "code":
            cells.append(cell.source)
    return cells


def run_section(tmp_path: Path, precision: str) -> str:
    """Section 7.5's printed output with the CPU taken to have ``precision`` (``none`` or ``bfloat16``)."""
    prelude = f"REPO = {str(REPO_ROOT)!r}\n" + PRELUDE
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in [prelude, *section_cells()]])
    os.environ["COURSE_CPU_LOWER_PRECISION"] = precision
    try:
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        del os.environ["COURSE_CPU_LOWER_PRECISION"]
    return "".join(
        output.get("text", "")
        for cell in notebook.cells[1:]
        for output in cell.outputs
        if output.output_type == "stream"
    )


def test_the_section_has_its_check_cell_then_the_timing_then_the_training():
    cells = section_cells()
    assert "lower_precision = autocast_dtype(device)" in cells[0]
    assert any("timing_verdict(" in cell for cell in cells) and any("autocast=True" in cell for cell in cells)


def test_without_a_fast_lower_precision_it_says_so_in_one_sentence_and_measures_nothing(tmp_path):
    printed = run_section(tmp_path, "none")
    print(printed)
    lines = [line for line in printed.splitlines() if line.strip()]
    assert len(lines) == 1, printed
    assert "no fast lower precision" in lines[0] and "AVX-512 BF16 or AMX, or a GPU" in lines[0]
    assert "ms a step" not in printed and "training for" not in printed


@pytest.mark.long  # bf16 is emulated on most CPUs: half a minute, in make test-long
def test_with_one_it_times_both_with_a_verdict_from_the_spread_and_trains_under_autocast(tmp_path):
    printed = run_section(tmp_path, "bfloat16")
    print(printed)
    assert "autocast on cpu uses torch.bfloat16" in printed
    rounds = re.findall(r"(float32|autocast): ([\d.]+) ms a step \(median of 5 rounds; ([\d.]+) to ([\d.]+)\)", printed)
    assert [name for name, *_ in rounds] == ["float32", "autocast"]
    (_, _, f_low, f_high), (_, _, a_low, a_high) = [(n, float(m), float(lo), float(hi)) for n, m, lo, hi in rounds]
    verdict = re.search(r"autocast takes [\d.]+x the time of float32: (.+) on this machine", printed).group(1)
    # the verdict names a winner only where the printed ranges do not overlap (rounded to 0.01 ms)
    if verdict == "faster":
        assert a_high <= f_low
    elif verdict == "slower":
        assert a_low >= f_high
    else:
        assert verdict == "no measurable difference"
    assert re.search(r"test accuracy: float32 50.00% \| autocast [\d.]+% \([+-][\d.]+ percentage points\)", printed)

"""Every honest model is judged as it ran: the corpus handed over in a kernel and replayed in the checker.

``honest_models.py`` holds forward passes written as students write them. Here one Jupyter kernel
runs them all, as a submission's notebook would: it builds each model, calls it as training does,
and computes, as the oracle, what the model gives on fresh inputs of two batch sizes (and on one
sample alone where forward() accepts it). Then the grader's own hand-over cell hands every
model and those numbers over, and one checker, sandboxed as in production, replays each model on
the same inputs: every output must equal the kernel's. The few forward passes that no replay can
follow must not fail as wrong work: they are marked "could not be judged", with a message that
names the line of forward() and what to write instead.
"""

from __future__ import annotations

import base64
import json
import textwrap

import nbformat
import pytest
from honest_models import CORPUS
from nbclient import NotebookClient

from grading.checker.judge import judge_submission
from grading.checks import CHECKS_HEADER, REPO_ROOT
from grading.kernel.handover_cell import HANDOVER_MIME, handover_cell
from self_check.rebuilder import HANDOVER_LIMIT_BYTES

pytestmark = [pytest.mark.unmeasured, pytest.mark.slow]  # its kernel runs untraced (conftest.py)

SETUP = f"""
import copy, sys
sys.path.insert(0, {str(REPO_ROOT)!r})
import torch
import torch.nn.functional as F
from torch import nn
import self_check  # in a kernel, it records the shapes each model is called with


def oracle(model, inputs):
    \"\"\"What the kernel computes: the model in evaluation mode on a copy of the inputs, as the checks' logits.\"\"\"
    model.eval()
    with torch.inference_mode():
        return model(inputs.clone()).detach().float().cpu()
"""

CHECKS = """
def _agrees(name):
    def check(ns):
        model, inputs = ns["m_" + name], ns["x_" + name]
        model_logits(model, inputs[:5])  # run, whatever the kernel computed
        for key, rows in (("y5_", inputs[:5]), ("yall_", inputs), ("y1_", inputs[0])):
            if key + name in ns:
                got, want = model_logits(model, rows), ns[key + name]
                same = got.shape == want.shape and torch.allclose(got, want, rtol=1e-4, atol=1e-5)
                shapes = f"the replay gives {tuple(got.shape)}, the kernel {tuple(want.shape)}"
                expect(same, "agreement", f"{key}{name}: {shapes}", "-")
    return check


for _name in NAMES:
    reads = [prefix + _name for prefix in ("m_", "x_", "y5_", "yall_", "y1_")]
    exercise(_name, points=1, hint="-", reads=reads)(_agrees(_name))
"""


def cell_of(name: str) -> str:
    model = CORPUS[name]
    sample = ", ".join(str(n) for n in model.sample)
    lines = [
        textwrap.dedent(model.code).strip(),
        "torch.manual_seed(0)",
        f"m_{name} = {model.build}",
        f"x_{name} = torch.randn(11, {sample}, generator=torch.Generator().manual_seed(1))",
    ]
    if model.never_called:  # the oracle runs on a copy: the model handed over was never called
        lines.append(f"probe = copy.deepcopy(m_{name})")
    else:
        lines += [f"m_{name}.train()", f"m_{name}(torch.randn(7, {sample})).sum()", f"probe = m_{name}"]
    if not model.unjudgeable:
        lines += [f"y5_{name} = oracle(probe, x_{name}[:5])", f"yall_{name} = oracle(probe, x_{name})"]
        lines += [f"y1_{name} = oracle(probe, x_{name}[0])"] if model.single else []
    return "\n".join(lines)


# what a student's check() says in the notebook, for the grader's verdict on the same models to be compared with
SELF_CHECKED = ["circle_v0", "view_len", *(name for name, model in CORPUS.items() if model.unjudgeable)]
SELF_CHECK = """
import json
from self_check import check
self_check.EXERCISES.update(self_check.checks_from(CHECKS))
print(json.dumps({name: repr(check(name)) for name in SELF_CHECKED}))
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[dict[str, dict], dict[str, str]]:
    """The grader's verdict on every model of the corpus, and what check() said of some in the notebook."""
    names = list(CORPUS)
    checks = CHECKS_HEADER + f"NAMES = {names!r}\n" + CHECKS
    self_check = f"CHECKS = {checks!r}\nSELF_CHECKED = {SELF_CHECKED!r}\n" + SELF_CHECK
    cells = [
        SETUP,
        *(cell_of(name) for name in names),
        handover_cell(checks, names, False, HANDOVER_LIMIT_BYTES),
        self_check,
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    folder = tmp_path_factory.mktemp("corpus")
    resources = {"metadata": {"path": str(folder)}}
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=resources).execute()
    handovers = {}
    for output in notebook.cells[-2].outputs:
        record = output.get("data", {}).get(HANDOVER_MIME)
        if record is not None:
            handovers[record["exercise"]] = record
    assert sorted(handovers) == sorted(names)
    sizes = {name: len(base64.b64decode(record.get("data", ""))) for name, record in handovers.items()}
    print(f"\nhanded over {len(sizes)} models, {sum(sizes.values()) / 2**20:.1f} MB in all")
    said = json.loads(notebook.cells[-1].outputs[0]["text"])
    verdicts = judge_submission(checks, {"where_it_stands": handovers}, 60.0, 8 * 2**30, HANDOVER_LIMIT_BYTES)
    return verdicts["where_it_stands"], said


@pytest.fixture(scope="module")
def judged(run) -> dict[str, dict]:
    return run[0]


def test_the_corpus_holds_at_least_sixty_honest_forward_passes():
    assert sum(1 for model in CORPUS.values() if not model.unjudgeable) >= 60


@pytest.mark.parametrize("name", [name for name, model in CORPUS.items() if not model.unjudgeable])
def test_each_honest_model_replays_in_the_checker_as_the_kernel_computed_it(judged, name):
    result = judged[name]
    assert result["passed"], json.dumps(result, indent=1)[:3000]


@pytest.mark.parametrize("name", [name for name, model in CORPUS.items() if model.unjudgeable])
def test_a_model_beyond_any_replay_is_marked_not_judged_naming_its_line_and_the_fix(judged, name):
    result = judged[name]
    assert not result["passed"] and result["unjudgeable"], result
    assert "could not be judged outside your notebook" in result["message"]
    line = next(line for line in CORPUS[name].code.splitlines() if " if " in f" {line} " or "for _ in" in line)
    assert f" of forward (`{line.strip()}`)" in result["message"], result["message"]
    assert CORPUS[name].unjudgeable in result["message"], result["message"]


@pytest.mark.parametrize("name", SELF_CHECKED)
def test_the_notebooks_check_gives_the_graders_verdict_in_the_same_words(run, name):
    judged, said = run
    result = judged[name]
    if result["passed"]:
        assert said[name].startswith(f"{name}: PASS"), said[name]
    else:
        assert said[name].startswith(f"{name}: NOT JUDGED at {result['part']}: {result['message']}"), said[name]
        assert f"hint: {result['hint']}" in said[name]

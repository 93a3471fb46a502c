"""Differential fuzzing of the replay: random honest forward passes must replay to what the model itself computes.

Hypothesis writes the code of a model of the student's own class, step by step, as students write
forward(): layers, activations (some in place, on values another name still holds), residual
branches and concatenations, the named fields of what torch returns, normalisation, Python that
reads shapes (``if h.dim() == 2``, ``len(h)``, ``torch.zeros(h.shape[0], 1)``), ``self.training``,
debug prints. Each model runs as the student's kernel runs it (called in training on one batch,
then in evaluation on two batches of other sizes, the oracle); the kernel's side hands it over
(``self_check.handover``, which traces it by torch.fx or torch.export); the checker's side
rebuilds and replays it (``self_check.rebuilder``, ``self_check.replay``) on the same inputs. Both
sides run in this process: ``test_honest_models.py`` proves the same path through a real kernel
and a sandboxed checker. No model may be refused, left unjudged or replayed to other numbers.

``make test`` runs a time-boxed share (``HONEST_FUZZ_SECONDS``, 20 s); ``make test-long`` runs
``HONEST_FUZZ_EXAMPLES`` (5,000) models, in as many processes at once as there are cores (two at
most). Each run writes its counts to ``build/fuzz/honest-*.json``.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import time

import pytest
import torch
import torch.nn.functional as F
from conftest import in_worker_processes, write_fuzz_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from self_check import tracing
from self_check.handover import hand_over_bytes
from self_check.rebuilder import load_handover, rebuild
from self_check.replay import MalformedHandover, Unjudgeable, refusals, unjudgeable

MAX_WIDTH = 12

ACTIVATIONS = [
    "F.relu({})",
    "torch.tanh({})",
    "torch.sigmoid({})",
    "F.gelu({})",
    "F.silu({})",
    "F.leaky_relu({}, 0.1)",
    "F.elu({})",
    "F.softplus({})",
    "{}.relu()",
    "{}.abs()",
    "torch.clamp({}, -2.0, 2.0)",
]
IN_PLACE = ["{} += 0.5", "{} *= 1.5", "{}.relu_()", "F.relu({}, inplace=True)", "{}.clamp_(-2.0, 2.0)", "{}.mul_(0.75)"]
IN_PLACE += ["{}.sub_(0.1)", "{}.tanh_()", "{}[:, 0] = 0.25"]
FIELDS = [
    "{v} - {v}.max(dim=1, keepdim=True).values",
    "{v} + {v}.min(1).values.unsqueeze(1)",
    "torch.sort({v}, dim=1).values",
    "{v} * {v}.topk(1, dim=1).values",
    "{v} + torch.max({v}, 1)[0][:, None]",
]
NORMALISE = [
    "F.normalize({v}, dim=1)",
    "F.layer_norm({v}, ({w},))",
    "{v} - {v}.mean(1, keepdim=True)",
    "{v} / ({v}.norm(dim=1, keepdim=True) + 1.0)",
    "{v} / (1.0 + torch.norm({v}))",
]
SHAPES = [  # Python that reads a shape; each keeps the width but the last
    "if {v}.dim() == 2:\n    {n} = {v} * 2.0\nelse:\n    {n} = {v}",
    "{n} = {v}.view(len({v}), -1)",
    "{n} = {v} + torch.zeros({v}.shape[0], 1)",
    "{n} = {v}.new_ones({v}.shape) + {v}",
    "rows = {v}.size(0)\n{n} = {v}.reshape(rows, -1)",
    "assert {v}.ndim == 2, {v}.shape\n{n} = {v}",
    "{n} = {v} * torch.ones(len({v}), 1, device={v}.device)",
    "if {v}.shape[1] > 2:\n    {n} = {v}[:, :2]\nelse:\n    {n} = {v}",
]


class Program:
    """The code of a forward pass written step by step, with the widths of the values it has named."""

    def __init__(self, features: int):
        self.features = features
        self.layers: list[str] = []
        self.lines: list[str] = []
        self.widths = {"x": features}  # every value named so far, for residuals and concatenations
        self.current = "x"
        self.count = 0

    def name(self, width: int) -> str:
        self.count += 1
        named = f"h{self.count}"
        self.widths[named] = width
        return named

    def assign(self, expression: str, width: int) -> None:
        named = self.name(width)
        self.lines.append(f"{named} = {expression}")
        self.current = named

    def layer(self, width_out: int) -> None:
        index = len(self.layers)
        self.layers.append(f"self.fc{index} = nn.Linear({self.width}, {width_out})")
        self.assign(f"self.fc{index}({self.current})", width_out)

    @property
    def width(self) -> int:
        return self.widths[self.current]

    def source(self) -> str:
        layers = [*self.layers, f"self.out = nn.Linear({self.width}, 3)"]
        body = [*self.lines, f"return self.out({self.current})"]
        return (
            "class Fuzzed(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            + "".join(f"        {line}\n" for line in layers)
            + "\n    def forward(self, x):\n"
            + "".join(f"        {line}\n" for code in body for line in code.splitlines())
        )


@st.composite
def programs(draw) -> Program:
    """A model's code: between one and eight steps of what students write in forward()."""
    program = Program(draw(st.integers(1, 5)))
    for _ in range(draw(st.integers(1, 8))):
        step = draw(
            st.sampled_from(
                ["layer", "activation", "in_place", "alias", "residual", "concat", "field", "normalise", "shape"]
                + ["print", "dropout"]
            )
        )
        v, w = program.current, program.width
        if step == "layer":
            program.layer(draw(st.integers(1, 8)))
        elif step == "activation":
            program.assign(draw(st.sampled_from(ACTIVATIONS)).format(v), w)
        elif step == "in_place":
            program.lines.append(draw(st.sampled_from(IN_PLACE)).format(v))
        elif step == "alias":  # another name for the value, then an in-place step: both names see it
            kept = program.name(w)
            program.lines += [f"{kept} = {v}", draw(st.sampled_from(IN_PLACE)).format(v)]
        elif step == "residual":
            same = sorted(name for name, width in program.widths.items() if width == w and name != v)
            if same:
                program.assign(f"{v} + {draw(st.sampled_from(same))}", w)
        elif step == "concat":
            other = draw(st.sampled_from(sorted(program.widths)))
            if w + program.widths[other] <= MAX_WIDTH:
                program.assign(f"torch.cat([{v}, {other}], dim=1)", w + program.widths[other])
        elif step == "field":
            program.assign(draw(st.sampled_from(FIELDS)).format(v=v), w)
        elif step == "normalise":
            program.assign(draw(st.sampled_from(NORMALISE)).format(v=v, w=w), w)
        elif step == "shape":
            code = draw(st.sampled_from(SHAPES))
            named = program.name(min(w, 2) if "[:, :2]" in code else w)
            program.lines.append(code.format(v=v, n=named))
            program.current = named
        elif step == "print":
            program.lines.append(f"print('{v}', {v}.shape)")
        else:
            program.assign(f"F.dropout({v}, 0.3, self.training)", w)
    return program


def judged(program: Program) -> str:
    """Run ``program``'s model as a kernel would, hand it over, replay it, and say how the replay compared."""
    namespace = {"torch": torch, "nn": nn, "F": F}
    exec(compile(program.source(), "<fuzzed model>", "exec"), namespace)
    torch.manual_seed(0)
    model = namespace["Fuzzed"]()
    inputs = torch.randn(11, program.features, generator=torch.Generator().manual_seed(1))
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            model.train()
            model(torch.randn(7, program.features))  # as training calls it
            model.eval()
            with torch.inference_mode():
                expected = [model(inputs[:5].clone()), model(inputs.clone())]
        except Exception:  # noqa: BLE001  (a program the kernel itself refuses is no honest model)
            return "invalid"
        try:
            data = hand_over_bytes({"model": model}, ["model"])
        except Exception as error:  # noqa: BLE001  (recorded with its program, not lost with the whole run)
            return f"hand-over raised {type(error).__name__}: {str(error)[:300]}"
        refusals.clear()
        unjudgeable.clear()
        try:
            replayed = rebuild(load_handover(data))["model"].eval()
            with torch.inference_mode():
                got = [replayed(inputs[:5]), replayed(inputs)]
        except MalformedHandover:
            return "refused"
        except Unjudgeable:
            return "unjudgeable"
        except Exception as error:  # noqa: BLE001
            return f"raised {type(error).__name__}"
    agree = all(
        g.shape == e.shape and torch.allclose(g, e, rtol=1e-4, atol=1e-5, equal_nan=True)
        for g, e in zip(got, expected, strict=True)
    )
    return "agreed" if agree and not refusals else "mismatch"


def replayed(examples: int, seconds: float | None) -> tuple[collections.Counter, list[str]]:
    """Judge ``examples`` drawn models (or as many as fit in ``seconds``): each outcome's count, and the first
    failures' code. Workers draw apart: each process seeds Hypothesis afresh."""
    outcomes: collections.Counter = collections.Counter()
    failures: list[str] = []
    start = time.monotonic()

    def batch(size: int) -> None:
        @settings(max_examples=size, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(programs())
        def one(program):
            outcome = judged(program)
            outcomes[outcome] += 1
            if outcome not in ("agreed", "invalid") and len(failures) < 5:
                failures.append(f"{outcome}:\n{program.source()}")

        one()

    tracing.record_inputs()
    try:
        if seconds is None:
            batch(examples)
        else:
            while time.monotonic() - start < seconds:
                batch(25)
    finally:
        tracing.stop_recording()
    return outcomes, failures


def in_a_worker(examples: int) -> tuple[collections.Counter, list[str]]:
    torch.set_num_threads(1)  # one core each: the workers share the machine
    return replayed(examples, None)


def fuzz(examples: int, seconds: float | None, report: str, workers: int = 1) -> collections.Counter:
    """Judge drawn models, in ``workers`` processes at once; write the counts to ``build/fuzz/honest-REPORT.json``."""
    start = time.monotonic()
    if workers == 1:
        outcomes, failures = replayed(examples, seconds)
    else:
        outcomes, failures = in_worker_processes(in_a_worker, examples, workers)
    summary = {
        "models": sum(outcomes.values()),
        "seconds": round(time.monotonic() - start, 1),
        "workers": workers,
        "outcomes": dict(outcomes.most_common()),
        "failures": failures,
    }
    write_fuzz_report(f"honest-{report}", summary)
    print(f"\nfuzzed honest models: {json.dumps({k: v for k, v in summary.items() if k != 'failures'})}")
    assert not failures, "\n\n".join(failures)
    assert outcomes["invalid"] <= 0.02 * sum(outcomes.values()), outcomes  # the generator writes valid code
    return outcomes


def test_a_time_boxed_share_of_honest_models_replays_as_each_ran():
    seconds = float(os.environ.get("HONEST_FUZZ_SECONDS", 20))
    outcomes = fuzz(0, seconds, "share")
    assert outcomes["agreed"] >= seconds  # at least one model a second, on a slow machine


@pytest.mark.long
def test_five_thousand_honest_models_replay_as_each_ran():
    examples = int(os.environ.get("HONEST_FUZZ_EXAMPLES", 5_000))
    outcomes = fuzz(examples, None, "long", workers=min(2, os.cpu_count() or 1))
    assert sum(outcomes.values()) == examples and outcomes["agreed"] >= 0.98 * examples

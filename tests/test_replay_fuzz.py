"""Fuzzing the checker's replay: forward passes made of any names, run under an audit hook that must stay silent.

Hypothesis draws forward passes of a two-layer model whose steps name any attribute of ``torch``,
``torch.Tensor``, ``torch.nn.functional``, ``operator``, ``math``, ``builtins`` and ``numpy`` (half
of them from the replay's own vocabulary, so that many steps run), with arguments drawn from
constants (numbers, text, paths, tensors, the model's own layers, nested sequences) and from earlier
steps; a quarter call one of the names that would write, load, run or reach out (``DANGEROUS``:
``open``, ``exec``, ``numpy.save``, ``torch.load``, ...) with the arguments it would take. Each is
rebuilt and replayed, as the checker does, while an audit hook records every file opened for
writing, socket, subprocess, fork, ``exec``, ``compile`` and import: none may happen. A replay may
fail (that is what a refusal or a shape error does) with an ``Exception``, never with anything else.
``make test`` runs a time-boxed share (``FUZZ_SECONDS``, default 20; at least ten replays a second);
``make test-long`` runs ``FUZZ_EXAMPLES`` (default 10,000) in two worker processes. Each writes what it ran to
``build/fuzz/replay-{share,long}.json``. The positive control slips ``builtins.open`` into the
vocabulary: the fuzzer must then record a write within its time box (``build/fuzz/positive-control.json``).
"""

from __future__ import annotations

import builtins
import collections
import json
import math
import operator
import os
import sys
import time
import warnings

import numpy as np
import pytest
import torch
from conftest import in_worker_processes, write_fuzz_report
from hostile_handovers import honest, items, keywords, node, steps_of
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import self_check
from self_check.rebuilder import rebuild
from self_check.vocabulary import FUNCTIONS, TENSOR_METHODS

NAMESPACES = {
    "torch": torch,
    "torch.nn.functional": torch.nn.functional,
    "operator": operator,
    "math": math,
    "builtins": builtins,
    "numpy": np,
}
EVERY_FUNCTION = sorted(f"{prefix}.{name}" for prefix, namespace in NAMESPACES.items() for name in dir(namespace))
EVERY_METHOD = sorted({*dir(torch.Tensor), *(name for namespace in NAMESPACES.values() for name in dir(namespace))})
TEXT = ["numpy", "tofile", "shape", "dtype", "__class__", "__globals__", "/tmp/fuzz-escape.pth", "ij,jk->ik", "mean"]
# what would write, load, run or reach out, were it in the vocabulary: each with the arguments it would take
DANGEROUS = {
    "builtins.open": [["fuzz-escape.pth", "w"], ["fuzz-escape.txt", "a"], ["fuzz-escape.pth", "x"]],
    "builtins.exec": [["import os"], ["x"]],
    "builtins.eval": [["x"], ["1"]],
    "builtins.compile": [["x", "fuzz", "eval"]],
    "builtins.__import__": [["os"], ["socket"]],
    "numpy.save": [["fuzz-escape.npy", "TENSOR"]],
    "numpy.load": [["fuzz-escape.npy"]],
    "numpy.fromfile": [["fuzz-escape.bin"]],
    "torch.save": [["TENSOR", "fuzz-escape.pt"]],
    "torch.load": [["fuzz-escape.pt"]],
    "torch.from_file": [["fuzz-escape.bin", False, 4]],
    "operator.methodcaller": [["tofile", "fuzz-escape.bin"]],
}
WATCHED = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.kill")
_recording: list | None = None  # the events seen while a replay runs; None between replays
_hooked = False  # whether this process has installed ``_record``


def _record(event: str, args: tuple) -> None:
    if _recording is None:
        return
    if event == "open":
        mode, flags = (*args, None, 0)[1:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writes:
            _recording.append(f"open for writing: {args[0]!r}")
    elif event.startswith(WATCHED) or event in ("exec", "compile", "import"):
        _recording.append(f"{event}: {str(args)[:100]}")


def replayer():
    """``run(plain)``: rebuild and run a hand-over's model, returning what happened and the events recorded.

    Installs the audit hook in this process (once) and warms the replay up as the checker does.
    """
    global _hooked
    if not _hooked:
        sys.addaudithook(_record)  # stays for the process; it records only while a replay runs
        _hooked = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        self_check.warm_up(every_operator=True)  # as the checker does, and every ATen operator too
        rebuild(honest())["model"](torch.randn(3, 2))

    def run(plain: dict) -> tuple[str, list[str]]:
        global _recording
        _recording = []
        try:
            model = rebuild(plain)["model"]
            with torch.no_grad():
                model(torch.randn(3, 2))
            outcome = "ran"
        except self_check.MalformedHandover:
            outcome = "refused"
        except Exception as error:  # what a wrong but allowed step raises: a shape error, a type error
            outcome = type(error).__name__
        finally:
            events, _recording = _recording, None
        return outcome, events

    return run


@pytest.fixture(scope="module")
def replay():
    return replayer()


def constants(layers: list[dict], hostile: bool) -> st.SearchStrategy:
    """Constant arguments: small numbers, sequences, slices, sizes; ``hostile``: huge numbers, text and layers too."""
    plain = [
        st.integers(min_value=-3, max_value=3),
        st.floats(allow_nan=True, allow_infinity=True, width=32),
        st.booleans(),
        st.none(),
        st.builds(lambda n: items(*range(n)), st.integers(0, 4)),
        st.builds(lambda a, b: {"kind": "slice", "items": [a, b, None]}, st.integers(-2, 2), st.integers(-2, 2)),
        st.builds(lambda n: {"kind": "size", "items": [n, 2]}, st.integers(0, 5)),
        st.just({"kind": "dtype", "name": "float64"}),
        st.just({"kind": "ellipsis"}),
    ]
    hostile_only = [st.sampled_from([10**9, 2**40, -(2**70), 1024, 64]), st.sampled_from(TEXT), st.sampled_from(layers)]
    return st.one_of(*plain, *(hostile_only if hostile else ()))


@st.composite
def forward_passes(draw) -> dict:
    """The plain data of a ``TwoLayers`` whose forward pass is drawn: steps between its input and its output.

    Half the passes are hostile: their steps may name anything of the namespaces and take any
    constant. The others keep to the replay's vocabulary, applied to a value an earlier step gave
    with at most one small constant more, so that many of them run to their end and the checks of
    what each step gives are exercised too.
    """
    hostile = draw(st.booleans())
    plain = honest()
    if draw(st.integers(0, 3)) == 0:  # a quarter: one dangerous name, with the arguments it would take
        return targeted(draw, plain)
    layers = [child for _, child in plain["objects"][0]["children"]]
    for shape in ((3, 2), (2,), (4, 4)):  # tensors the steps may take as constants
        plain["objects"].append({"kind": "tensor", "data": torch.randn(shape), "device": "cpu"})
    tensors = [{"kind": "ref", "id": index} for index in range(len(plain["objects"]) - 3, len(plain["objects"]))]
    functions = sorted(FUNCTIONS) + (EVERY_FUNCTION if hostile else [])
    methods = sorted(TENSOR_METHODS) + (EVERY_METHOD if hostile else [])
    attributes = ["layer_1", "layer_2", "layer_1.weight", "layer_2.bias"] + (["", "training", "x.y"] if hostile else [])
    keyword_arguments = [{}, {}, {"dim": 1}, {"keepdim": True}, {"p": 2}]
    keyword_arguments += [{"out": node(0)}, {"inplace": True}] if hostile else []
    steps = [{"op": "placeholder", "target": "x", "args": items(), "kwargs": keywords()}]
    for index in range(1, draw(st.integers(1, 8 if hostile else 4)) + 1):
        op = draw(
            st.sampled_from(["call_function"] * 5 + ["call_method"] * 4 + ["get_attr", "call_module", "constant"])
        )
        if op == "call_function":
            target = draw(st.sampled_from(functions))
        elif op == "call_method":
            target = draw(st.sampled_from(methods))
        else:
            target = draw(st.sampled_from(attributes))
        argument = st.one_of(
            st.builds(node, st.integers(0, index - 1)),
            st.builds(node, st.integers(0, index - 1)),
            st.sampled_from(tensors),
            constants(layers, hostile),
        )
        if hostile:
            arguments = draw(st.lists(argument, max_size=3))
        else:  # on a value a step gave, as a tensor's method or function takes it, and at most one thing more
            operand = draw(st.builds(node, st.sampled_from([0, index - 1])))
            more = st.one_of(st.integers(min_value=-1, max_value=2), st.sampled_from(tensors))
            arguments = [operand, *draw(st.lists(more, max_size=1))]
        if op == "constant":
            arguments = arguments[:1] or [draw(st.sampled_from(tensors))]
        extra = draw(st.sampled_from(keyword_arguments))
        steps.append({"op": op, "target": target, "args": items(*arguments), "kwargs": keywords(**extra)})
    steps.append({"op": "output", "target": "output", "args": items(node(len(steps) - 1)), "kwargs": keywords()})
    steps_of(plain)[:] = steps
    return plain


def targeted(draw, plain: dict) -> dict:
    """``plain``'s model with one step calling a dangerous name with plausible arguments, then its layers."""
    plain["objects"].append({"kind": "tensor", "data": torch.randn(3, 2), "device": "cpu"})
    tensor = {"kind": "ref", "id": len(plain["objects"]) - 1}
    target = draw(st.sampled_from(sorted(DANGEROUS)))
    arguments = [tensor if a == "TENSOR" else a for a in draw(st.sampled_from(DANGEROUS[target]))]
    steps_of(plain)[:] = [
        {"op": "placeholder", "target": "x", "args": items(), "kwargs": keywords()},
        {"op": "call_function", "target": target, "args": items(*arguments), "kwargs": keywords()},
        {"op": "call_module", "target": "layer_1", "args": items(node(0)), "kwargs": keywords()},
        {"op": "call_module", "target": "layer_2", "args": items(node(2)), "kwargs": keywords()},
        {"op": "output", "target": "output", "args": items(node(3)), "kwargs": keywords()},
    ]
    return plain


def replayed(run, examples: int, seconds: float | None) -> tuple[collections.Counter, list[str]]:
    """Replay ``examples`` drawn forward passes with ``run`` (or as many as fit in ``seconds``): each outcome's
    count, and the first replays that recorded an event, with their steps. Workers draw apart: each
    process seeds Hypothesis afresh."""
    outcomes: collections.Counter = collections.Counter()
    leaks: list[str] = []
    start = time.monotonic()

    def batch(size: int) -> None:
        @settings(
            max_examples=size,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        )
        @given(forward_passes())
        def replay_one(plain):
            outcome, seen = run(plain)
            outcomes[outcome] += 1
            if seen:
                outcomes["recorded an event"] += 1
                if len(leaks) < 5:
                    leaks.append(json.dumps({"events": seen, "steps": steps_of(plain)}, default=str)[:3000])

        replay_one()

    if seconds is None:
        batch(examples)
    else:
        while time.monotonic() - start < seconds:
            batch(100)
    return outcomes, leaks


def in_a_worker(examples: int) -> tuple[collections.Counter, list[str]]:
    torch.set_num_threads(1)  # one core each: the workers share the machine
    return replayed(replayer(), examples, None)


def fuzz(replay, examples: int, seconds: float | None, report: str, workers: int = 1) -> None:
    """Replay ``examples`` drawn forward passes with ``replay`` here, or in ``workers`` processes of their own, or
    as many as fit in ``seconds``; write the counts to ``build/fuzz/replay-REPORT.json``; fail on any event."""
    start = time.monotonic()
    if workers == 1:
        outcomes, leaks = replayed(replay, examples, seconds)
    else:  # each worker installs its own hook and warms its own replay up
        outcomes, leaks = in_worker_processes(in_a_worker, examples, workers)
    events = outcomes.pop("recorded an event", 0)
    summary = {
        "replayed": sum(outcomes.values()),
        "seconds": round(time.monotonic() - start, 1),
        "workers": workers,
        "replays_with_events": events,
        "outcomes": dict(outcomes.most_common()),
        "first_events": leaks,
    }
    write_fuzz_report(f"replay-{report}", summary)
    print(f"\nfuzzed the replay: {json.dumps({k: v for k, v in summary.items() if k != 'first_events'})}")
    assert not events, "\n\n".join(leaks)
    assert sum(outcomes.values()) >= (examples if seconds is None else 10 * seconds)  # a real share, on a slow machine


def test_no_drawn_forward_pass_writes_connects_starts_or_loads_anything(replay):
    fuzz(replay, examples=0, seconds=float(os.environ.get("FUZZ_SECONDS", 20)), report="share")


@pytest.mark.long
def test_ten_thousand_drawn_forward_passes_write_connect_start_or_load_nothing():
    examples, workers = int(os.environ.get("FUZZ_EXAMPLES", 10_000)), min(2, os.cpu_count() or 1)
    fuzz(replayer() if workers == 1 else None, examples=examples, seconds=None, report="long", workers=workers)


def test_an_honest_forward_pass_replays_with_no_event(replay):
    assert replay(honest()) == ("ran", [])


class Leaked(Exception):
    """What the positive control raises at its first recorded event, to stop the fuzzer there."""


def test_a_leak_in_the_vocabulary_is_found_within_the_time_box(replay, monkeypatch, tmp_path):
    """The positive control: with builtins.open slipped into the vocabulary, the fuzzer records a write, and soon."""
    monkeypatch.setitem(FUNCTIONS, "builtins.open", open)
    monkeypatch.chdir(tmp_path)  # where a leaked relative path lands
    budget = float(os.environ.get("FUZZ_SECONDS", 20)) * 3
    start = time.monotonic()
    quiet = {"deadline": None, "database": None, "phases": [Phase.generate], "suppress_health_check": list(HealthCheck)}

    @settings(max_examples=100_000, **quiet)
    @given(forward_passes())
    def replay_one(plain):
        _, seen = replay(plain)
        if seen:
            raise Leaked(json.dumps({"seconds_to_first_event": round(time.monotonic() - start, 2), "events": seen}))
        if time.monotonic() - start > budget:
            raise TimeoutError

    with pytest.raises((Leaked, TimeoutError)) as stopped:
        replay_one()
    assert stopped.type is Leaked, f"with builtins.open in the vocabulary, {budget:.0f} s of fuzzing recorded nothing"
    write_fuzz_report("positive-control", json.loads(str(stopped.value)))
    assert json.loads(str(stopped.value))["events"][0].startswith("open for writing"), stopped.value

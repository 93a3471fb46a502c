"""Where one TinyVGG training step spends its time, in each memory layout.

Run from the repository root::

    .venv/bin/python -m bench.profile_step                 # 300 steps per layout
    .venv/bin/python -m bench.profile_step --steps 30      # a quick look

For each layout (``channels_last``, as the course trains V2, and the plain one) it
times the same batches three ways, back to back: a bare loop (forward, loss,
``zero_grad``, backward, ``step``, nothing else), ``helper_functions.train_step``
(the bare loop plus the epoch's metrics) and the bare loop under ``torch.profiler``.
It then prints the profile grouped by kind of operator, and counts the copies
that only change a tensor's memory layout (a gradient that reaches an operator
in the other layout). This is how the README's "Performance" section knows that
the course's V2 step costs what its operators cost: the helpers add nothing
measurable, and the convolutions dominate.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile
from torch.utils.data import Dataset, Subset

import helper_functions as hf
from bench.run import BATCH_SIZE, build_model, load_fashion_mnist, positive_int

MODEL = "FashionMNISTModelV2"
LAYOUTS = {"channels_last": torch.channels_last, "plain": torch.contiguous_format}
# kind of operator -> substrings of the profiler's names (the first match wins)
KINDS = {
    "convolution": ("convolution",),
    "max-pool": ("max_pool",),
    "ReLU": ("relu", "threshold_backward", "clamp_min"),
    "linear + loss": ("addmm", "aten::mm", "log_softmax", "nll_loss"),
    "optimizer": ("Optimizer.", "aten::add_"),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_step", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=positive_int, default=300, help="training steps timed per layout and way (default 300)"
    )
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    parser.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--rows", type=positive_int, default=12, help="operators listed per layout (default 12)")
    return parser.parse_args(argv)


def _bare_steps(
    model: nn.Module, batches: hf.TensorBatches, loss_fn: nn.Module, optimizer: torch.optim.Optimizer
) -> None:
    model.train()
    for X, y in batches:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def kind_of(name: str) -> str:
    for kind, markers in KINDS.items():
        if any(marker in name for marker in markers):
            return kind
    return "other"


def layout_copies(prof: profile) -> int:
    """Copies made by ``contiguous()`` inside an operator: a tensor converted to another layout."""
    count = 0
    for event in prof.events():
        parent = event.cpu_parent
        if event.name == "aten::copy_" and parent is not None and parent.name == "aten::clone":
            grandparent = parent.cpu_parent
            count += grandparent is not None and grandparent.name == "aten::contiguous"
    return count


def profile_layout(train: Any, layout: str) -> dict[str, Any]:
    batches = hf.TensorBatches.from_dataset(train, batch_size=BATCH_SIZE, shuffle=True, memory_format=LAYOUTS[layout])
    steps = len(batches)
    model, optimizer = build_model(MODEL, torch.device("cpu"), channels_last=layout == "channels_last")
    loss_fn = nn.CrossEntropyLoss()
    ways = {
        "bare loop": lambda: _bare_steps(model, batches, loss_fn, optimizer),
        "train_step": lambda: hf.train_step(model, batches, loss_fn, optimizer),
    }
    ways["bare loop"]()  # warm-up: oneDNN builds its kernels on first use
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(3):  # alternate the two ways, so a drift in machine load favours neither
        for way, run_epoch in ways.items():
            start = time.perf_counter()
            run_epoch()
            seconds[way].append(time.perf_counter() - start)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        ways["bare loop"]()
    by_kind: dict[str, float] = {}
    operators = prof.key_averages()
    for operator in operators:
        kind = kind_of(operator.key)
        by_kind[kind] = by_kind.get(kind, 0.0) + operator.self_cpu_time_total / steps / 1000
    top = sorted(operators, key=lambda operator: -operator.self_cpu_time_total)
    return {
        "ms_per_step": {way: statistics.median(times) / steps * 1000 for way, times in seconds.items()},
        "profiled_ms_per_step_by_kind": by_kind,
        "top_operators": [
            (operator.key, operator.self_cpu_time_total / steps / 1000, operator.count // steps) for operator in top
        ],
        "layout_copies_per_step": layout_copies(prof) / steps,
    }


def report(layout: str, result: dict[str, Any], rows: int) -> str:
    times = result["ms_per_step"]
    lines = [
        f"\n{MODEL}, {layout}: bare loop {times['bare loop']:.3f} ms a step, "
        f"train_step {times['train_step']:.3f} ms a step (medians of 3)",
        "  profiled self CPU time a step, by kind of operator:",
    ]
    by_kind = result["profiled_ms_per_step_by_kind"]
    total = sum(by_kind.values())
    for kind, ms in sorted(by_kind.items(), key=lambda item: -item[1]):
        lines.append(f"    {kind:14s} {ms:7.3f} ms  {ms / total:6.1%}")
    lines.append(f"    {'total':14s} {total:7.3f} ms")
    lines.append(f"  the {rows} most expensive operators (self CPU ms a step, calls a step):")
    for name, ms, calls in result["top_operators"][:rows]:
        lines.append(f"    {name[:60]:60s} {ms:7.3f} {calls:3d}")
    lines.append(f"  copies that only change a tensor's layout: {result['layout_copies_per_step']:.0f} a step")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    train, _ = load_fashion_mnist(None)
    train = Subset(cast(Dataset, train), range(min(args.steps * BATCH_SIZE, len(train))))
    print(f"profile_step: {len(train) // BATCH_SIZE} steps of batch {BATCH_SIZE}, {torch.get_num_threads()} threads")
    results = {}
    for layout in args.layouts:
        results[layout] = profile_layout(train, layout)
        print(report(layout, results[layout], args.rows), flush=True)
    return results


if __name__ == "__main__":
    main()

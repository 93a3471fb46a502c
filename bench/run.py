"""Time the material's FashionMNIST loop against the course's fast path, in one process.

Run from the repository root::

    make bench                                   # .venv/bin/python -m bench: 3 rounds x 3 epochs
    python -m bench --rounds 1 --epochs 1 --paths reference course --subset 20000   # the reduced setting CI runs
    python -m bench --rounds 1 --epochs 1 --subset 2000   # a smoke test in seconds

For each model (V0, V1, V2 of lesson 03) and each round, the three paths train the
same model from the same seed with the same hyperparameters (batch 32, SGD lr 0.1,
cross-entropy), each epoch followed by a pass over the test split, as the material does:

* **reference**: the material's loop (``bench/reference.py``): a ``DataLoader`` with
  ``ToTensor`` every epoch, a host sync per batch, batch-averaged accuracy;
* **course**: ``helper_functions``' ``train_step``/``test_step`` over ``TensorBatches``
  (images converted once; the same shuffles as ``DataLoader(shuffle=True)``), no host
  sync per batch, exact metrics; the conv model and its data in ``channels_last``; the
  test split evaluated in batches of ``--eval-batch-size`` (this does not touch training);
* **autocast**: the course path with ``autocast=True``: the forward passes in the device's
  lower precision (bfloat16 on a CPU with bf16 instructions), weights and metrics in float32.

The one-off conversion (``TensorBatches.from_dataset`` for both splits) is timed on
its own and added once to the course path's total. Writes ``results.json``,
``results.md`` and ``results.png`` to ``--out`` (default ``build/bench``) and prints
the Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

import helper_functions as hf
from bench import reference
from bench.models import CONV_MODELS, MODELS
from helper_functions import SizedDataset

# Settings that define training: the same for both paths, never changed by an option.
BATCH_SIZE = 32
LEARNING_RATE = 0.1
RANDOM_SEED = 42

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "build" / "bench"
README = Path(__file__).resolve().parent / "README.md"  # make bench writes its table there
PATHS = ["reference", "course", "autocast"]  # autocast: the course's path with autocast=True
README_START, README_END = "<!-- bench-results -->", "<!-- /bench-results -->"


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer of at least 1 (a count of rounds, epochs, images, threads...)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=positive_int, default=3, help="alternating rounds per model and path (default 3)"
    )
    parser.add_argument("--epochs", type=positive_int, default=3, help="epochs per training run (default 3)")
    parser.add_argument(
        "--subset", type=positive_int, default=None, help="use only the first N train and N test images"
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="models to run")
    parser.add_argument(
        "--paths",
        nargs="+",
        default=PATHS,
        choices=PATHS,
        help="paths to time (default all; reference and course always)",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda if available, else cpu)")
    parser.add_argument(
        "--eval-batch-size", type=positive_int, default=256, help="course path's test batch size (default 256)"
    )
    parser.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default build/bench)")
    parser.add_argument("--readme", action="store_true", help="also write the table into bench/README.md")
    args = parser.parse_args(argv)
    args.paths = [path for path in PATHS if path in {"reference", "course", *args.paths}]
    return args


def load_fashion_mnist(subset: int | None) -> tuple[SizedDataset, SizedDataset]:
    """FashionMNIST train and test splits with ``ToTensor``, as the material loads them."""
    from torchvision import datasets
    from torchvision.transforms import ToTensor

    root = str(hf.data_dir())
    train = datasets.FashionMNIST(root=root, train=True, download=True, transform=ToTensor())
    test = datasets.FashionMNIST(root=root, train=False, download=True, transform=ToTensor())
    return (train, test) if subset is None else (_first(train, subset), _first(test, subset))


def _first(dataset: SizedDataset, count: int) -> SizedDataset:
    """The first ``count`` samples of ``dataset`` (all of them when it has fewer)."""
    return Subset(cast(Dataset, dataset), range(min(count, len(dataset))))


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(start: tuple[float, float]) -> dict[str, float]:
    """Wall-clock seconds since ``start`` (what the speed-ups are computed from) and this process's
    CPU seconds: with ``--threads 1`` the CPU time is what the run would take on an idle core,
    so it still compares the paths fairly when other programs share the machine."""
    wall, cpu = _clock()
    return {"seconds": wall - start[0], "cpu_seconds": cpu - start[1]}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # kernels run asynchronously: wait before reading the clock


def build_model(name: str, device: torch.device, channels_last: bool) -> tuple[nn.Module, torch.optim.Optimizer]:
    """Model ``name`` from seed 42 on ``device``, and its SGD optimizer: the same for every path."""
    hf.set_seeds(RANDOM_SEED)  # seed before the model is built, as the material does
    model_class, kwargs = MODELS[name]
    model = model_class(**kwargs).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model, torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)


def run_reference(
    name: str, train: SizedDataset, test: SizedDataset, epochs: int, device: torch.device
) -> dict[str, Any]:
    """Train and test ``name`` with the material's loop; return the time and the numbers."""
    model, optimizer = build_model(name, device, channels_last=False)
    loss_fn = nn.CrossEntropyLoss()
    train_loader: DataLoader = DataLoader(cast(Dataset, train), batch_size=BATCH_SIZE, shuffle=True)
    test_loader: DataLoader = DataLoader(cast(Dataset, test), batch_size=BATCH_SIZE, shuffle=False)
    history = []
    hf.set_seeds(RANDOM_SEED)  # the material seeds again just before its training loop
    _sync(device)
    start = _clock()
    for _ in range(epochs):
        train_result = reference.train_step(model, train_loader, loss_fn, optimizer, device)
        test_result = reference.test_step(model, test_loader, loss_fn, device)
        history.append({"train_loss": train_result["loss"], **{f"test_{k}": v for k, v in test_result.items()}})
    _sync(device)
    return {**_elapsed(start), "history": history}


def run_course(
    name: str, batches: dict[str, hf.TensorBatches], epochs: int, device: torch.device, autocast: bool = False
) -> dict[str, Any]:
    """Train and test ``name`` with the course's helpers over ``TensorBatches`` (in lower precision: ``autocast``)."""
    conv = name in CONV_MODELS
    model, optimizer = build_model(name, device, channels_last=conv)
    loss_fn = nn.CrossEntropyLoss()
    layout = "channels_last" if conv else "plain"
    train_batches, test_batches = batches[f"train_{layout}"], batches[f"test_{layout}"]
    history = []
    hf.set_seeds(RANDOM_SEED)
    _sync(device)
    start = _clock()
    for _ in range(epochs):
        train_result = hf.train_step(model, train_batches, loss_fn, optimizer, device=device, autocast=autocast)
        test_result = hf.test_step(model, test_batches, loss_fn, device=device, autocast=autocast)
        history.append(
            {"train_loss": train_result["loss"], "test_loss": test_result["loss"], "test_acc": test_result["acc"]}
        )
    _sync(device)
    return {**_elapsed(start), "history": history}


def convert(
    train: SizedDataset, test: SizedDataset, eval_batch_size: int, device: torch.device
) -> dict[str, hf.TensorBatches]:
    """The course path's one-off cost: both splits as tensors on ``device``, in both layouts."""
    plain = {
        "train_plain": hf.TensorBatches.from_dataset(train, batch_size=BATCH_SIZE, shuffle=True, device=device),
        "test_plain": hf.TensorBatches.from_dataset(test, batch_size=eval_batch_size, device=device),
    }
    layouts = dict(plain)
    for key, batches in plain.items():
        # for 1-channel images both layouts are the same bytes, so this shares the tensor (no copy)
        layouts[key.replace("plain", "channels_last")] = hf.TensorBatches(
            batches.features,
            batches.labels,
            batch_size=batches.batch_size,
            shuffle=batches.shuffle,
            device=device,
            memory_format=torch.channels_last,
        )
    _sync(device)
    return layouts


def _timed(function: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    start = _clock()
    result = function()
    return _elapsed(start), result


def time_generic_conversion(train: SizedDataset, test: SizedDataset) -> float:
    """Seconds ``from_dataset`` takes on a dataset it cannot convert in bulk (one ``ToTensor`` per image)."""

    class PerSample(Dataset):  # hides the dataset's type, so from_dataset takes its per-sample path
        def __init__(self, dataset: SizedDataset) -> None:
            self.dataset = dataset

        def __len__(self) -> int:
            return len(self.dataset)

        def __getitem__(self, index: int) -> Any:
            return self.dataset[index]

    elapsed, _ = _timed(lambda: [hf.TensorBatches.from_dataset(PerSample(split)) for split in (train, test)])
    return elapsed["seconds"]


def warm_up(
    train: SizedDataset,
    test: SizedDataset,
    names: Sequence[str],
    paths: Sequence[str],
    eval_batch_size: int,
    device: torch.device,
) -> None:
    """One untimed epoch of each path on 320 images, so one-time start-up costs (loading kernels,
    allocating caches) are paid before the clock runs and fall on neither path."""
    train, test = _first(train, 320), _first(test, 320)
    batches = convert(train, test, eval_batch_size, device)
    for name in names:
        run_reference(name, train, test, 1, device)
        run_course(name, batches, 1, device)
        if "autocast" in paths:
            run_course(name, batches, 1, device, autocast=True)


def summarise(runs: list[dict[str, Any]], batch_mean: bool) -> dict[str, Any]:
    """Median time of the runs, and the numbers of the last run (each run repeats the same computation)."""
    last = runs[-1]["history"][-1]
    summary = {
        "median_s": statistics.median(run["seconds"] for run in runs),
        "times_s": [run["seconds"] for run in runs],
        "median_cpu_s": statistics.median(run["cpu_seconds"] for run in runs),
        "test_acc": last["test_acc"],
        "test_acc_per_run": [run["history"][-1]["test_acc"] for run in runs],
        "test_loss": last["test_loss"],
        "train_loss_per_epoch": [epoch["train_loss"] for epoch in runs[-1]["history"]],
        "test_acc_per_epoch": [epoch["test_acc"] for epoch in runs[-1]["history"]],
    }
    if batch_mean:
        summary["test_acc_batch_mean"] = last["test_acc_batch_mean"]
    return summary


def markdown_table(results: dict[str, Any]) -> str:
    lower = "total_ratio_autocast" in results  # the autocast path ran (not with --paths reference course)
    autocast = f"autocast ({results['autocast_dtype']})"
    header = (
        "| model | reference (s) | course (s) | speed-up | reference test acc: exact (batch-mean) | course test acc |"
    )
    rows = [
        header + (f" {autocast} (s) | speed-up | {autocast} test acc (vs course) |" if lower else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if lower else ""),
    ]
    for name, model in results["models"].items():
        ref, course = model["reference"], model["course"]
        row = (
            f"| {name} | {ref['median_s']:.2f} | {course['median_s']:.2f} | {model['ratio']:.2f}x "
            f"| {ref['test_acc']:.2f}% ({ref['test_acc_batch_mean']:.2f}%) | {course['test_acc']:.2f}% |"
        )
        if lower:
            row += (
                f" {model['autocast']['median_s']:.2f} | {model['ratio_autocast']:.2f}x "
                f"| {model['autocast']['test_acc']:.2f}% ({model['test_acc_difference_autocast_pp']:+.2f} pp) |"
            )
        rows.append(row)
    conversion = f"| one-off conversion (`from_dataset`, both splits) | | {results['from_dataset_s']:.2f} | | | |"
    rows.append(conversion + (f" {results['from_dataset_s']:.2f} | | |" if lower else ""))
    total = (
        f"| **total** | **{results['reference_total_s']:.2f}** | **{results['course_total_s']:.2f}** "
        f"| **{results['total_ratio']:.2f}x** | | |"
    )
    if lower:
        total += f" **{results['autocast_total_s']:.2f}** | **{results['total_ratio_autocast']:.2f}x** | |"
    rows.append(total)
    # the precision autocast took is said only where its path ran (not with --paths reference course)
    took = f"\nautocast=True took {results['autocast_dtype']}, because {results['autocast_reason']}." if lower else ""
    rows.append(
        took + f"\nDevice {results['device']}, {results['environment']['threads']} torch threads, "
        f"{results['epochs']} epochs, median of {results['rounds']} rounds; test split evaluated in batches "
        f"of {results['eval_batch_size']} on the course path. CPU time of the process: reference "
        f"{results['reference_total_cpu_s']:.2f} s, course {results['course_total_cpu_s']:.2f} s, "
        f"ratio {results['total_ratio_cpu_time']:.2f}x."
    )
    return "\n".join(rows)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*results["models"], "total"]
    bars = {"reference (material's loop)": ("reference", "reference_total_s", 0.0)}
    bars["course (TensorBatches + helpers)"] = ("course", "course_total_s", results["from_dataset_s"])
    if "total_ratio_autocast" in results:
        bars[f"course, autocast {results['autocast_dtype']}"] = (
            "autocast",
            "autocast_total_s",
            results["from_dataset_s"],
        )
    width = 0.8 / len(bars)
    positions = range(len(names))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for index, (label, (key, total, conversion)) in enumerate(bars.items()):
        seconds = [model[key]["median_s"] for model in results["models"].values()] + [results[total] - conversion]
        at = [p + (index - (len(bars) - 1) / 2) * width for p in positions]
        ax.bar(at, seconds, width=width, label=label)
        if conversion:  # the one-off conversion, stacked on the total of the paths that pay it
            stacked = "one-off conversion" if index == 1 else None
            ax.bar([at[-1]], [conversion], width=width, bottom=[seconds[-1]], color="grey", label=stacked)
        if key != "reference":  # each bar's speed-up over the reference, the total's with the conversion
            suffix = "" if key == "course" else f"_{key}"
            ratios = [model[f"ratio{suffix}"] for model in results["models"].values()]
            ratios.append(results[f"total_ratio{suffix}"])
            heights = [*seconds[:-1], seconds[-1] + conversion]
            for x, height, ratio in zip(at, heights, ratios, strict=True):
                ax.annotate(
                    f"{ratio:.2f}x", (x, height), ha="center", va="bottom", xytext=(0, 3), textcoords="offset points"
                )
    ax.set_xticks(list(positions), [name.replace("FashionMNIST", "") for name in names])
    ax.margins(y=0.1)  # room for the labels above the bars
    ax.set_xlabel("model")
    ax.set_ylabel(f"seconds, median of {results['rounds']} (lower is better); labels: speed-up")
    ax.set_title(
        f"{results['epochs']} epochs on {results['device']}: course path {results['total_ratio']:.2f}x faster in total"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def time_rounds(
    args: argparse.Namespace, train: SizedDataset, test: SizedDataset, device: torch.device
) -> tuple[list[dict[str, float]], dict[str, dict[str, list[dict[str, Any]]]]]:
    """Run every model on both paths, round after round; return the conversion timings and the runs."""
    conversion: list[dict[str, float]] = []
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {name: {path: [] for path in args.paths} for name in args.models}
    # a bar with the time left on a terminal; elsewhere (CI, a log) the one line per run below is enough
    bar = tqdm(total=args.rounds * len(args.models) * len(args.paths), unit="run", disable=None, file=sys.stderr)
    say = bar.write if not bar.disable else print
    for round_index in range(args.rounds):
        elapsed, batches = _timed(lambda: convert(train, test, args.eval_batch_size, device))
        conversion.append(elapsed)
        # rotate which path goes first, so a drift in machine load does not favour one
        first = round_index % len(args.paths)
        paths = args.paths[first:] + args.paths[:first]
        for name in args.models:
            for path in paths:
                if path == "reference":
                    run = run_reference(name, train, test, args.epochs, device)
                else:
                    run = run_course(name, batches, args.epochs, device, autocast=path == "autocast")
                runs[name][path].append(run)
                say(
                    f"  round {round_index + 1} {name:20s} {path:9s} {run['seconds']:7.2f} s "
                    f"(CPU {run['cpu_seconds']:.2f} s)"
                )
                sys.stdout.flush()
                bar.update(1)
        del batches
    bar.close()
    return conversion, runs


def compare_models(runs: dict[str, dict[str, list[dict[str, Any]]]], device: torch.device) -> dict[str, Any]:
    """Per model: each path's summary, the speed-up and how far the two paths' numbers differ."""
    models = {}
    for name, by_path in runs.items():
        ref = summarise(by_path["reference"], batch_mean=True)
        course = summarise(by_path["course"], batch_mean=False)
        models[name] = {
            "reference": {**ref, "device": str(device)},
            "course": {**course, "device": str(device), "channels_last": name in CONV_MODELS},
            "ratio": ref["median_s"] / course["median_s"],
            "ratio_cpu_time": ref["median_cpu_s"] / course["median_cpu_s"],
            "test_acc_difference_pp": course["test_acc"] - ref["test_acc"],
            "max_train_loss_difference": max(
                abs(a - b) for a, b in zip(ref["train_loss_per_epoch"], course["train_loss_per_epoch"], strict=True)
            ),
        }
        if "autocast" in by_path:
            lower = summarise(by_path["autocast"], batch_mean=False)
            models[name]["autocast"] = {**lower, "device": str(device), "channels_last": name in CONV_MODELS}
            models[name]["ratio_autocast"] = ref["median_s"] / lower["median_s"]
            models[name]["test_acc_difference_autocast_pp"] = lower["test_acc"] - course["test_acc"]
    return models


def totals(models: dict[str, Any], conversion: list[dict[str, float]]) -> dict[str, float]:
    """Each path's total over the models (the course's with the one-off conversion) and their ratios."""
    from_dataset_s = statistics.median(elapsed["seconds"] for elapsed in conversion)
    from_dataset_cpu_s = statistics.median(elapsed["cpu_seconds"] for elapsed in conversion)
    reference_total = sum(model["reference"]["median_s"] for model in models.values())
    course_total = sum(model["course"]["median_s"] for model in models.values()) + from_dataset_s
    reference_cpu = sum(model["reference"]["median_cpu_s"] for model in models.values())
    course_cpu = sum(model["course"]["median_cpu_s"] for model in models.values()) + from_dataset_cpu_s
    result = {
        "from_dataset_s": from_dataset_s,
        "from_dataset_cpu_s": from_dataset_cpu_s,
        "reference_total_s": reference_total,
        "course_total_s": course_total,
        "total_ratio": reference_total / course_total,
        "reference_total_cpu_s": reference_cpu,
        "course_total_cpu_s": course_cpu,
        "total_ratio_cpu_time": reference_cpu / course_cpu,
    }
    if all("autocast" in model for model in models.values()):
        autocast_total = sum(model["autocast"]["median_s"] for model in models.values()) + from_dataset_s
        result |= {"autocast_total_s": autocast_total, "total_ratio_autocast": reference_total / autocast_total}
    return result


def environment(argv: Sequence[str] | None, load_before: tuple[float, float, float]) -> dict[str, Any]:
    """Where and how the benchmark ran: versions, threads, load average, date and command."""
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
    }


def write_results(results: dict[str, Any], out: Path, readme: Path | None = None) -> str:
    """Write ``results.json``, ``results.md`` and ``results.png`` to ``out`` (and the table into ``readme``)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown_table(results)
    (out / "results.md").write_text(table + "\n")
    plot(results, out / "results.png")
    if readme is not None:
        text = readme.read_text(encoding="utf-8")
        before, rest = text.split(README_START, 1)
        after = rest.split(README_END, 1)[1]
        readme.write_text(f"{before}{README_START}\n{table}\n{README_END}{after}", encoding="utf-8")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    load_before = os.getloadavg()
    train, test = load_fashion_mnist(args.subset)
    print(f"bench: {len(train)} train / {len(test)} test images, {args.epochs} epochs, {args.rounds} rounds, {device}")

    warm_up(train, test, args.models, args.paths, args.eval_batch_size, device)
    conversion, runs = time_rounds(args, train, test, device)
    generic_conversion_s = time_generic_conversion(train, test)
    models = compare_models(runs, device)
    results = {
        "device": str(device),
        "rounds": args.rounds,
        "epochs": args.epochs,
        "train_samples": len(train),
        "test_samples": len(test),
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "seed": RANDOM_SEED,
        "eval_batch_size": args.eval_batch_size,
        "autocast_dtype": str(hf.autocast_dtype(device) or "float32: no lower precision here").replace("torch.", ""),
        "autocast_reason": hf.cpu_precision_reason() if device.type == "cpu" else f"a {device.type} device decides it",
        "from_dataset_times_s": [elapsed["seconds"] for elapsed in conversion],
        "from_dataset_per_sample_path_s": generic_conversion_s,
        "models": models,
        **totals(models, conversion),
        "environment": environment(argv, load_before),
    }
    table = write_results(results, args.out, README if args.readme else None)
    load = results["environment"]
    print(f"\n{table}")
    print(
        f"\nload average (1, 5, 15 min) before {tuple(round(x, 2) for x in load['load_average_before'])}, "
        f"after {tuple(round(x, 2) for x in load['load_average_after'])}; "
        f"per-sample conversion would take {generic_conversion_s:.2f} s; results in {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

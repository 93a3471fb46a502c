# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02. Exercises: neural-network classification
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pytorch-course/pytorch-classification-course/blob/main/exercises/02_pytorch_classification_exercises.ipynb)
#
# Seven exercises that practise lesson 02 (`notebooks/02_pytorch_classification.ipynb`) on new
# data: two interleaving half moons, and a spiral with three arms.
#
# How to work: replace each `# YOUR CODE HERE` / `raise NotImplementedError` with your code
# and run the cell. Each exercise says which variables to create (keep those names: the checks
# look for them) and what "done" means. The cell after it runs `check("exN")` and prints PASS,
# or FAIL with what it expected, what it found and a hint. Run the cells in order: later
# exercises use earlier results. `check()` at the end runs every check once more.
#
# 1. [Make the moons data](#Exercise-1:-make-the-moons-data)
# 2. [A non-linear model](#Exercise-2:-a-non-linear-model)
# 3. [Loss function and optimizer](#Exercise-3:-loss-function-and-optimizer)
# 4. [Train to at least 96% test accuracy](#Exercise-4:-train-to-at-least-96%-test-accuracy)
# 5. [The decision boundary](#Exercise-5:-the-decision-boundary)
# 6. [Tanh by hand](#Exercise-6:-tanh-by-hand)
# 7. [Three spirals](#Exercise-7:-three-spirals)

# %% [markdown]
# The first cell prepares the notebook: in Colab it installs the two pinned packages Colab
# lacks and fetches the course's `helper_functions.py`; in the course repository it changes
# nothing.

# %%
# Setup: makes this notebook run in Colab as in the course repo (elsewhere it changes nothing).
import importlib.util, os, pathlib, subprocess, sys, urllib.request

COURSE_REPO = "pytorch-course/pytorch-classification-course"
PINNED = {"torchmetrics": "torchmetrics==1.9.0", "mlxtend": "mlxtend==0.25.0"}
missing = [pin for module, pin in PINNED.items() if importlib.util.find_spec(module) is None]
if missing:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)

here = pathlib.Path.cwd()
course_root = next((p for p in (here, *here.parents) if (p / "helper_functions.py").is_file()), None)
if course_root is None:  # e.g. Colab: fetch the course's helpers once
    url = f"https://raw.githubusercontent.com/{COURSE_REPO}/main/helper_functions.py"
    try:
        text = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:  # offline, an HTTP error, a timeout, not text
        raise RuntimeError(f"Could not download {url}: {error}. Is this runtime online?") from None
    if "def accuracy_fn" not in text:  # e.g. an HTML error or sign-in page
        raise RuntimeError(f"{url} sent no helper_functions.py (it began {text[:40]!r}); nothing was saved")
    compile(text, "helper_functions.py", "exec")  # a cut-off download fails here, before it is saved
    (here / "helper_functions.py.part").write_text(text, encoding="utf-8")
    os.replace(here / "helper_functions.py.part", here / "helper_functions.py")
    course_root = here
sys.path.insert(0, str(course_root))

# %% [markdown]
# Imports, settings and the device, ready for you.

# %%
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from torch import nn
from torchmetrics import Accuracy

from helper_functions import plot_decision_boundary, record_results, set_seeds

# Tiny models: on a CPU one thread is faster than several (see lesson 02).
torch.set_num_threads(1)

RANDOM_SEED = 42
device = "cuda" if torch.cuda.is_available() else "cpu"
device

# %% [markdown]
# The self-check: `check("ex1")` runs exercise 1's check on your variables. You do not need to
# read the next two cells (they are collapsed).

# %% tags=["harness"] jupyter={"source_hidden": true}
# The self-check, the same in every exercise notebook of the course. Each exercise registers its
# check with @exercise; check("exN") runs it on this notebook's variables, check() runs them all.
# Checks rebuild the data and measure models themselves: they judge the objects you made, never
# the numbers you printed. The grader runs this cell on its own, from the course's own copy.
import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet

EXERCISES: dict = {}  # name -> {"points": int, "hint": str, "check": function(namespace)}
_WHERE_IT_STANDS: dict = {}  # name -> (its result when check(name) ran, {variable: the object the check read})


def exercise(name, points, hint):
    """Register the decorated function as the check of exercise `name`, worth `points`."""

    def register(check_fn):
        EXERCISES[name] = {"points": points, "hint": hint, "check": check_fn}
        return check_fn

    return register


class CheckFailed(AssertionError):
    """One part of a check failed: `part` names it, the message says what was expected and found."""

    def __init__(self, part, message, hint):
        super().__init__(message)
        self.part, self.hint = part, hint


def expect(condition, part, message, hint):
    """Fail the check at `part`, with `message` and a hint for that part alone, when `condition` is false."""
    if not condition:
        raise CheckFailed(part, message, hint)


class _ReadTracker(dict):
    """A copy of a namespace that remembers which names a check looked up."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.read = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)

    def __contains__(self, name):
        self.read.add(name)
        return super().__contains__(name)


def run_check(name, namespace):
    """Run exercise `name`'s check on a copy of `namespace`; return passed, part, message, hint and read."""
    copy = _ReadTracker(namespace)
    try:
        EXERCISES[name]["check"](copy)
        result = {"passed": True, "part": "", "message": "passed", "hint": ""}
    except CheckFailed as failure:
        result = {"passed": False, "part": failure.part, "message": str(failure), "hint": failure.hint}
    except NotImplementedError:
        message = "your code still raises NotImplementedError, the placeholder of an unsolved exercise"
        hint = "Replace `raise NotImplementedError` with your code, then run the cell again."
        result = {"passed": False, "part": "your code", "message": message, "hint": hint}
    except Exception as error:  # a check must report, never crash the notebook
        message = f"checking your objects raised {type(error).__name__}: {error}"
        result = {"passed": False, "part": "running the check", "message": message, "hint": EXERCISES[name]["hint"]}
    result["read"] = sorted(variable for variable in copy.read if dict.__contains__(namespace, variable))
    return result


def reassigned(seen, namespace):
    """The variables in `seen` (name -> object) that `namespace` no longer holds, or holds as another object."""
    return sorted(name for name, value in seen.items() if name not in namespace or namespace[name] is not value)


class CheckReport:
    """The outcome of check(): one row per exercise, shown as PASS/FAIL lines."""

    def __init__(self, rows):
        self.rows = rows  # (name, result now, result where it stands or None, variables reassigned since)
        # the grader keeps what an exercise scored where it stands
        self.score = sum(EXERCISES[name]["points"] for name, now, then, _ in rows if (then or now)["passed"])
        self.max_score = sum(EXERCISES[name]["points"] for name, *_ in rows)

    def __repr__(self):
        lines = []
        for name, now, then, changed in self.rows:
            points = EXERCISES[name]["points"]
            earned = f"({points} point{'s' * (points != 1)})"
            official = then or now
            if official["passed"] and now["passed"]:
                lines.append(f"{name}: PASS {earned}")
            elif official["passed"]:
                since = f"`{'`, `'.join(changed)}` changed" if changed else "its objects changed"
                lines.append(
                    f"{name}: PASS where it stands {earned}. Since then {since}, so it would fail now "
                    f"({now['part']}: {now['message']}). An exercise is graded right after its own cells, "
                    "so it keeps its point."
                )
            else:
                lines.append(
                    f"{name}: FAIL at {official['part']}: {official['message']}\n     hint: {official['hint']}"
                )
                if then is not None and now["passed"]:
                    lines.append(
                        f"     It passes now, so a later cell fixed it; it is graded where check({name!r}) "
                        "stands: move the fix into the exercise's cells, or run its check again after the fix."
                    )
        if len(self.rows) > 1:
            lines.append(f"score: {self.score}/{self.max_score}")
        return "\n".join(lines)


def check(name=None):
    """Check exercise `name` (e.g. "ex3") where it stands, or, with no name, every exercise defined so far."""
    namespace = globals()
    if name is not None:
        if name not in EXERCISES:
            raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(EXERCISES)}")
        result = run_check(name, namespace)
        _WHERE_IT_STANDS[name] = (result, {variable: namespace[variable] for variable in result["read"]})
        return CheckReport([(name, result, None, [])])
    rows = []
    for each in EXERCISES:
        then, seen = _WHERE_IT_STANDS.get(each, (None, {}))
        rows.append((each, run_check(each, namespace), then, reassigned(seen, namespace)))
    return CheckReport(rows)


def _need(ns, name, kind=None):
    """Return ns[name]; fail with a message when it is missing or not of type `kind`."""
    expect(
        name in ns,
        f"`{name}`",
        f"`{name}` is not defined: the exercise cell must create it (did the cell run?)",
        f"Create `{name}` in the exercise's cell, with exactly this name, and run the cell.",
    )
    value = ns[name]
    if kind is not None:
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        expect(
            isinstance(value, kind),
            f"`{name}`",
            f"`{name}` should be a {expected}, got {type(value).__name__}",
            f"`{name}` must be a {expected}.",
        )
    return value


def _array(ns, name):
    """Return ns[name] (a tensor, array or list of numbers) as a float NumPy array."""
    value = _need(ns, name, (torch.Tensor, np.ndarray, list, tuple))
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _logits(model, X):
    """Run `model` on X in eval mode without gradients, on the model's device; restore its mode."""
    param = next(model.parameters(), None)
    model_device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return model(X.to(model_device)).detach().float().cpu()
    finally:
        model.train(was_training)


def _labels(logits):
    """One logit per sample means binary (positive logit = class 1); several mean argmax."""
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    return (logits > 0).long() if logits.ndim == 1 else logits.argmax(dim=1)


def _accuracy(model, X, y):
    """Percentage of the samples in X that `model` labels correctly, computed here."""
    labels = _labels(_logits(model, X))
    expect(
        labels.shape == y.shape,
        "the predictions' shape",
        f"the model's predictions have shape {tuple(labels.shape)}, expected {tuple(y.shape)}",
        "The model should return one row of logits per sample.",
    )
    return (labels == y.long()).sum().item() / len(y) * 100


def _is_affine(model, features=2):
    """True when model(t*a + (1-t)*b) == t*model(a) + (1-t)*model(b): the model is linear (plus a bias)."""
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(256, features, generator=generator), torch.randn(256, features, generator=generator)
    mixed = _logits(model, 0.3 * a + 0.7 * b)
    return torch.allclose(mixed, 0.3 * _logits(model, a) + 0.7 * _logits(model, b), rtol=1e-3, atol=1e-4)


def _assert_optimizes(optimizer, model, optimizer_name, model_name):
    """`optimizer` updates exactly the parameters of `model`."""
    owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
    expect(
        owned == {id(p) for p in model.parameters()},
        f"`{optimizer_name}`'s parameters",
        f"`{optimizer_name}` does not hold the parameters of `{model_name}`",
        f"Build {optimizer_name} from {model_name}.parameters(): an optimizer built for another model "
        f"leaves {model_name} untouched.",
    )


def _plots_values(fig, values):
    """True when some line in `fig` has exactly these y values."""
    return any(
        len(line.get_ydata()) == len(values) and np.allclose(np.asarray(line.get_ydata(), dtype=float), values)
        for ax in fig.axes
        for line in ax.get_lines()
    )


def _points_and_regions(ax):
    """(number of scattered points, whether filled decision regions are drawn) for one plot."""
    points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    return points, any(isinstance(c, ContourSet) for c in ax.collections)


def _expect_boundary(ax, part, where):
    """`ax` shows filled decision regions; no plot, or an empty one, means they went to a figure of its own."""
    points, regions = _points_and_regions(ax) if ax is not None else (0, False)
    expect(
        regions or points,
        part,
        f"{where} is empty: the decision boundary was drawn somewhere else. A plotting function that "
        "calls plt.figure() opens a figure of its own and leaves this one blank",
        "Draw on the current axes: use the course's plot_decision_boundary, or take plt.figure() out of your own.",
    )
    expect(
        regions,
        part,
        f"{where} shows no decision regions",
        "Draw it with plot_decision_boundary(model, X, y), which fills the regions and scatters the points.",
    )
    return points


# %% tags=["check"] jupyter={"source_hidden": true}
# What these exercises' checks share: the moons data, rebuilt from the settings of exercise 1.
import functools
import math

from matplotlib.figure import Figure
from sklearn.datasets import make_moons  # noqa: F811 (the checks run on their own too)
from sklearn.model_selection import train_test_split  # noqa: F811
from torch import nn  # noqa: F811

_EXPECTED_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@functools.cache
def _moons():
    """X, y as float32 tensors and their 80/20 split, as exercise 1 asks."""
    X_numpy, y_numpy = make_moons(n_samples=1000, noise=0.07, random_state=42)
    X, y = torch.from_numpy(X_numpy).float(), torch.from_numpy(y_numpy).float()
    return (X, y, *train_test_split(X, y, test_size=0.2, random_state=42))


def _expect_tensor(ns, name, expected, part_hint):
    """ns[name] is a float tensor on the expected device equal to `expected`."""
    value = _need(ns, name, torch.Tensor)
    expect(
        tuple(value.shape) == tuple(expected.shape),
        f"`{name}`'s shape",
        f"`{name}` should have shape {tuple(expected.shape)}, got {tuple(value.shape)}",
        part_hint,
    )
    expect(
        value.device.type == _EXPECTED_DEVICE,
        f"`{name}`'s device",
        f"`{name}` is on {value.device.type}, expected {_EXPECTED_DEVICE}",
        "Move it with .to(device).",
    )
    expect(
        value.dtype == expected.dtype and torch.allclose(value.detach().cpu(), expected),
        f"`{name}`",
        f"`{name}` does not hold the values asked for (dtype {value.dtype})",
        part_hint,
    )


# %% [markdown]
# ## Exercise 1: make the moons data
#
# Make a binary classification data set with scikit-learn's
# `make_moons(n_samples=1000, noise=0.07, random_state=RANDOM_SEED)`.
#
# * Turn the features into a `float32` tensor `X` (`[1000, 2]`) and the labels into a
#   `float32` tensor `y` (`[1000]`): `BCEWithLogitsLoss` compares labels with float scores.
# * Split them 80/20 with `train_test_split(X, y, test_size=0.2, random_state=RANDOM_SEED)` into
#   `X_train, X_test, y_train, y_test` (800 and 200 samples), and move these four to `device`.
# * Plot the data with a title and axis labels.
#
# Done when `check("ex1")` passes: it checks the shapes, values and device of `X`, `y` and the
# four splits.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true}
@exercise("ex1", points=1, hint="make_moons with the settings above, float32 tensors, an 80/20 split on device.")
def check_ex1(ns):
    moons = dict(zip(("X", "y", "X_train", "X_test", "y_train", "y_test"), _moons(), strict=True))
    for name in ("X", "y"):
        value = _need(ns, name, torch.Tensor)
        expect(
            tuple(value.shape) == tuple(moons[name].shape) and value.dtype == torch.float32,
            f"`{name}`",
            f"`{name}` should be a float32 tensor of shape {tuple(moons[name].shape)}, "
            f"got {value.dtype} {tuple(value.shape)}",
            "torch.from_numpy(...).type(torch.float32) turns NumPy's float64 into float32.",
        )
        expect(
            torch.allclose(value.detach().cpu(), moons[name]),
            f"`{name}`",
            f"`{name}` is not the moons data asked for",
            "make_moons(n_samples=1000, noise=0.07, random_state=RANDOM_SEED).",
        )
    for name in ("X_train", "X_test", "y_train", "y_test"):
        _expect_tensor(ns, name, moons[name], "train_test_split(X, y, test_size=0.2, random_state=RANDOM_SEED).")


check("ex1")

# %% [markdown]
# ## Exercise 2: a non-linear model
#
# Build `MoonModelV0`, an `nn.Module` that takes the 2 features and returns one logit per
# sample. It needs a non-linear activation between its linear layers (why?). Call
# `set_seeds(RANDOM_SEED)` right before you create its instance `model_0`, so your numbers
# reproduce, and send it to `device`.
#
# Done when `check("ex2")` passes: `model_0` maps a batch `[N, 2]` to `[N, 1]` logits and is not
# a linear function of its input.


# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
model_0


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true}
@exercise("ex2", points=1, hint="Linear layers with a non-linear activation such as nn.ReLU() between them.")
def check_ex2(ns):
    model = _need(ns, "model_0", nn.Module)
    shape = tuple(_logits(model, torch.zeros(5, 2)).shape)
    expect(
        shape in ((5, 1), (5,)),
        "`model_0`'s output",
        f"`model_0` maps a batch of 5 points to shape {shape}, expected (5, 1): one logit per point",
        "The last nn.Linear needs out_features=1.",
    )
    expect(
        not _is_affine(model),
        "non-linearity",
        "`model_0` is a linear function of its input: its decision boundary can only be a straight line",
        "Put a non-linear activation such as nn.ReLU() between the linear layers.",
    )


check("ex2")

# %% [markdown]
# Why does this model need a non-linear activation?
#
# *Your answer here.*

# %% [markdown]
# ## Exercise 3: loss function and optimizer
#
# Create `loss_fn`, the binary cross-entropy loss that takes raw logits, and `optimizer`, an SGD
# optimizer over `model_0`'s parameters with a learning rate of 0.1. Done when `check("ex3")`
# passes.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true}
@exercise("ex3", points=1, hint="nn.BCEWithLogitsLoss() and torch.optim.SGD(model_0.parameters(), lr=0.1).")
def check_ex3(ns):
    loss_fn = _need(ns, "loss_fn", nn.Module)
    expect(
        isinstance(loss_fn, nn.BCEWithLogitsLoss),
        "`loss_fn`",
        f"`loss_fn` should be nn.BCEWithLogitsLoss, got {type(loss_fn).__name__}",
        "nn.BCEWithLogitsLoss takes the raw logits and applies the sigmoid itself.",
    )
    optimizer = _need(ns, "optimizer", torch.optim.Optimizer)
    expect(
        isinstance(optimizer, torch.optim.SGD) and math.isclose(optimizer.param_groups[0]["lr"], 0.1),
        "`optimizer`",
        f"`optimizer` should be SGD with lr=0.1, got {type(optimizer).__name__} with lr={optimizer.param_groups[0]['lr']}",
        "torch.optim.SGD(params=model_0.parameters(), lr=0.1).",
    )
    _assert_optimizes(optimizer, _need(ns, "model_0", nn.Module), "optimizer", "model_0")


check("ex3")

# %% [markdown]
# ## Exercise 4: train to at least 96% test accuracy
#
# Write a training and testing loop (full batch: all 800 training samples at once each epoch)
# with the five steps of the lesson: forward pass, loss, zero grad, backward, step. Each epoch,
# evaluate on the test split in eval mode under `torch.inference_mode()`.
#
# * Measure accuracy with TorchMetrics: `Accuracy(task="binary")`, moved to `device`. It takes
#   predicted labels (or probabilities) and the true labels, both `[N]`: remember the logits
#   are `[N, 1]`.
# * Print the loss and accuracy every 100 epochs.
# * After training, store the final test accuracy over the whole test split, **as a percentage**,
#   in `moons_test_acc`.
#
# Done when `check("ex4")` passes: `model_0` classifies at least 96% of the test split
# correctly, and `moons_test_acc` is that accuracy. (SGD with the learning rate of exercise 3
# gets there in about 1000 epochs.)

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
print(f"Final test accuracy: {moons_test_acc:.2f}%")


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true}
@exercise("ex4", points=1, hint="Train longer, or check the five steps: forward, loss, zero grad, backward, step.")
def check_ex4(ns):
    _, _, _, X_test, _, y_test = _moons()
    accuracy = _accuracy(_need(ns, "model_0", nn.Module), X_test, y_test)
    recorded = float(_need(ns, "moons_test_acc", (int, float, torch.Tensor)))
    expect(
        abs(recorded - accuracy) < 1e-3,
        "`moons_test_acc`",
        f"`moons_test_acc` is {recorded}, but model_0 scores {accuracy:.2f}% on the test split",
        "Store the final test accuracy over all 200 test samples, as a percentage (0 to 100).",
    )
    expect(
        accuracy >= 96,
        "test accuracy",
        f"model_0 scores {accuracy:.2f}% on the test split; at least 96% is needed",
        "Train for more epochs, or give the model more hidden units.",
    )


check("ex4")

# %% [markdown]
# ## Exercise 5: the decision boundary
#
# Plot `model_0`'s decision boundary on the training data (left) and on the test data (right),
# side by side, each with a title, in a figure kept as `boundary_fig`:
# `boundary_fig = plt.figure(...)`, then `plt.subplot(1, 2, i)` and `plot_decision_boundary`
# from the helpers. Done when `check("ex5")` passes: two plots, each with decision regions and
# its 800 or 200 points.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true}
@exercise("ex5", points=1, hint="boundary_fig = plt.figure(...), then plt.subplot(1, 2, i) before each plot.")
def check_ex5(ns):
    fig = _need(ns, "boundary_fig", Figure)
    expect(
        len(fig.axes) == 2,
        "`boundary_fig`'s plots",
        f"`boundary_fig` should hold two plots side by side, it holds {len(fig.axes)}",
        "plt.subplot(1, 2, 1) before the training plot, plt.subplot(1, 2, 2) before the test plot.",
    )
    for ax, (side, count) in zip(fig.axes, (("left", 800), ("right", 200)), strict=True):
        points = _expect_boundary(ax, "decision regions", f"the {side} plot of `boundary_fig`")
        expect(
            points == count,
            f"the {side} plot's data",
            f"the {side} plot shows {points} points, expected {count}",
            "Training data on the left, test data on the right.",
        )


check("ex5")

# %% [markdown]
# ## Exercise 6: tanh by hand
#
# The hyperbolic tangent is another activation function:
# `tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))`. It squashes any number into (-1, 1).
#
# Write `tanh(x)` in plain torch (no `torch.tanh`, no `nn.Tanh`), check that it matches
# `torch.tanh` on `A`, and plot both. Done when `check("ex6")` passes: `tanh(A)` matches
# `torch.tanh(A)` within 1e-6. Bonus: what does your version give for `x = 100`? Why?

# %% tags=["raises-exception"]
A = torch.arange(-10, 10, 0.5, dtype=torch.float32)  # [40]


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent in plain torch."""
    # YOUR CODE HERE
    raise NotImplementedError


print(f"tanh matches torch.tanh: {torch.allclose(tanh(A), torch.tanh(A), atol=1e-6)}")
print(f"tanh(100) = {tanh(torch.tensor(100.0)).item()}, tanh(-100) = {tanh(torch.tensor(-100.0)).item()}")


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true}
@exercise("ex6", points=1, hint="tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)), with torch.exp.")
def check_ex6(ns):
    tanh = _need(ns, "tanh")
    A = torch.arange(-10, 10, 0.5, dtype=torch.float32)
    mine = tanh(A)
    expect(
        isinstance(mine, torch.Tensor) and mine.shape == A.shape,
        "`tanh`'s output",
        f"tanh(A) should be a tensor of shape {tuple(A.shape)}, got {type(mine).__name__}",
        "Work on the whole tensor at once: torch.exp(x) applies to every element.",
    )
    expect(
        torch.allclose(mine, torch.tanh(A), atol=1e-6),
        "`tanh`'s values",
        f"tanh(A) differs from torch.tanh(A) by up to {(mine - torch.tanh(A)).abs().max().item():.2g}",
        "Check the formula's signs: (exp(x) - exp(-x)) / (exp(x) + exp(-x)).",
    )


check("ex6")

# %% tags=["raises-exception"]
plt.figure(figsize=(8, 5))
plt.plot(A, torch.tanh(A), label="torch.tanh", linewidth=3)
plt.plot(A, tanh(A), "o", label="our tanh")
plt.title("Tanh")
plt.xlabel("input")
plt.ylabel("output")
plt.legend()
plt.show()

# %% [markdown]
# ## Exercise 7: three spirals
#
# A harder data set, from Stanford's [CS231n](https://cs231n.github.io/neural-networks-case-study/):
# three spiral arms wound into each other, 100 points each. `make_spirals` below builds it in
# torch, with its own seeded random generator so the data is the same every run.
#
# 1. Split `X_spiral, y_spiral` 80/20 with `train_test_split(..., test_size=0.2,
#    random_state=RANDOM_SEED)` into `X_spiral_train, X_spiral_test, y_spiral_train,
#    y_spiral_test` (240 and 60 points; new names, so that exercises 1-5's `X_train`, ... stay
#    the moons), and move them to `device`.
# 2. Build a multi-class model, `SpiralModelV0`, with non-linear activations and one output per
#    class; seed, then create its instance `model_1` on `device`.
# 3. Train `model_1` with `nn.CrossEntropyLoss` on the whole training split each epoch, until it
#    reaches **at least 95%** test accuracy, measured with TorchMetrics'
#    `Accuracy(task="multiclass", num_classes=NUM_CLASSES)`. Store the final test accuracy, as a
#    percentage, in `spirals_test_acc`. Which optimizer? The lesson's SGD works, but slowly on
#    this data; `torch.optim.Adam(model_1.parameters(), lr=0.01)` reaches 95% in about 1000
#    epochs. Adam adapts each parameter's step size as it goes, and is a common first choice.
# 4. Plot the decision boundary on the train and test data side by side.
#
# Done when `check("ex7")` passes: the split, and `model_1` at 95% or more on `X_spiral_test`,
# which `spirals_test_acc` records.

# %% tags=["raises-exception"]
NUM_CLASSES = 3


def make_spirals(points_per_class: int = 100, num_classes: int = 3, noise: float = 0.2, seed: int = 42):
    """Return ``(X, y)``: ``num_classes`` spiral arms in 2-D, ``[N, 2]`` float32 and ``[N]`` int64 labels."""
    generator = torch.Generator().manual_seed(seed)
    features, labels = [], []
    for label in range(num_classes):
        radius = torch.linspace(0.0, 1.0, points_per_class)
        angle = torch.linspace(label * 4.0, (label + 1) * 4.0, points_per_class)
        angle = angle + noise * torch.randn(points_per_class, generator=generator)
        features.append(torch.stack([radius * torch.sin(angle), radius * torch.cos(angle)], dim=1))
        labels.append(torch.full((points_per_class,), label, dtype=torch.long))
    return torch.cat(features), torch.cat(labels)


X_spiral, y_spiral = make_spirals(num_classes=NUM_CLASSES, seed=RANDOM_SEED)
print(f"X_spiral: {tuple(X_spiral.shape)}, y_spiral: {tuple(y_spiral.shape)}")

plt.figure(figsize=(6, 6))
plt.scatter(X_spiral[:, 0], X_spiral[:, 1], c=y_spiral, cmap=plt.cm.RdYlBu, s=15, edgecolors="k", linewidths=0.3)
plt.title("Three spirals")
plt.xlabel("X1")
plt.ylabel("X2")
plt.show()

# %% [markdown]
# Step 1, the split, and step 2, the model:

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
model_1

# %% [markdown]
# Step 3, training:

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
print(f"Final test accuracy: {spirals_test_acc:.2f}%")


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true}
@exercise("ex7", points=1, hint="Split with random_state=RANDOM_SEED; train with Adam(lr=0.01) for ~1000 epochs.")
def check_ex7(ns):
    X_spiral, y_spiral = _need(ns, "X_spiral", torch.Tensor), _need(ns, "y_spiral", torch.Tensor)
    splits = train_test_split(X_spiral.cpu(), y_spiral.cpu(), test_size=0.2, random_state=42)
    hint = "train_test_split(X_spiral, y_spiral, test_size=0.2, random_state=RANDOM_SEED)."
    for name, expected in zip(
        ("X_spiral_train", "X_spiral_test", "y_spiral_train", "y_spiral_test"), splits, strict=True
    ):
        _expect_tensor(ns, name, expected, hint)
    model = _need(ns, "model_1", nn.Module)
    logits = _logits(model, splits[1])
    expect(
        logits.shape == (len(splits[1]), 3),
        "`model_1`'s output",
        f"model_1 maps the {len(splits[1])} test points to shape {tuple(logits.shape)}, expected ({len(splits[1])}, 3)",
        "One output per class: the last layer needs out_features=NUM_CLASSES.",
    )
    accuracy = _accuracy(model, splits[1], splits[3])
    recorded = float(_need(ns, "spirals_test_acc", (int, float, torch.Tensor)))
    expect(
        abs(recorded - accuracy) < 1e-3,
        "`spirals_test_acc`",
        f"`spirals_test_acc` is {recorded}, but model_1 scores {accuracy:.2f}% on the test split",
        "Store the final test accuracy over all 60 test points, as a percentage.",
    )
    expect(
        accuracy >= 95,
        "test accuracy",
        f"model_1 scores {accuracy:.2f}% on the test split; at least 95% is needed",
        "Train longer, or try Adam(model_1.parameters(), lr=0.01); check the five steps of the loop.",
    )


check("ex7")

# %% [markdown]
# Step 4, the decision boundary:

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Check everything
#
# `check()` runs every check once more, on your variables as they are now.

# %% tags=["raises-exception"]
check()

# %% [markdown]
# ## Results
#
# Your two final test accuracies, recorded for the course's tests (in the exercise notebook this
# cell raises until you have done exercises 4 and 7):

# %% tags=["raises-exception"]
results = record_results(moons_test_acc=moons_test_acc, spirals_test_acc=spirals_test_acc)

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

# %% [markdown] tags=["solution-only"]
# **This is the solutions notebook.** The exercise notebook students get is generated from it
# by `python -m tools.make_exercises`.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pytorch-course/pytorch-classification-course/blob/main/solutions/02_pytorch_classification_solutions.ipynb)

# %% [markdown]
# The first cell prepares the notebook: in Colab it installs the two pinned packages Colab
# lacks and fetches the course's `helper_functions.py`. Everywhere it sets the course's plot
# style: colours that colour-blind readers can tell apart, and a short description of every
# figure for screen readers.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Setup: run this cell first. It makes the notebook run in Colab as in the course repository.
import importlib.metadata, importlib.util, os, pathlib, subprocess, sys, urllib.request

COURSE_REPO = "pytorch-course/pytorch-classification-course"
COURSE_FILES = {  # the course's files this notebook imports, each with a line it has (an error page has not)
    "helper_functions.py": "def accuracy_fn",
    "self_check/__init__.py": "def use_checks",
    "self_check/handover.py": "def hand_over_bytes",
    "self_check/judging.py": "def judge",
    "self_check/library.py": "def model_logits",
    "self_check/tracing.py": "def fx_graphs",
    "self_check/rebuilder.py": "def load_handover",
    "self_check/replay.py": "class ReplayGuard",
    "self_check/vocabulary.py": "LEFT_OUT = {",
}
PINNED = {"torchmetrics": "1.9.0", "mlxtend": "0.25.0"}  # the course's pins of what Colab may lack
installed = {name: importlib.util.find_spec(name) and importlib.metadata.version(name) for name in PINNED}
missing = [f"{name}=={pin}" for name, pin in PINNED.items() if not installed[name]]
if missing:  # only what the runtime lacks: a newer mlxtend would pull a newer NumPy under the running kernel
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    print(f"Installed {', '.join(missing)}")
kept = {name: version for name, version in installed.items() if version and version != PINNED[name]}
for name, version in kept.items():  # Colab's own versions, which `make test-colab` tests the course with
    print(f"Using this runtime's own {name} {version} (the course pins {PINNED[name]})")

here = pathlib.Path.cwd()
course_root = next((p for p in (here, *here.parents) if (p / "helper_functions.py").is_file()), here)
for name, marker in COURSE_FILES.items():
    if (course_root / name).is_file():
        continue
    url = f"https://raw.githubusercontent.com/{COURSE_REPO}/main/{name}"  # e.g. Colab: fetched once
    try:
        text = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:  # offline, an HTTP error, a timeout, not text
        raise RuntimeError(f"Could not download {url}: {error}. Is this runtime online?") from None
    if marker not in text:  # e.g. an HTML error or sign-in page
        raise RuntimeError(f"{url} sent no {name} (it began {text[:40]!r}); nothing was saved")
    compile(text, name, "exec")  # a cut-off download fails here, before it is saved
    (course_root / name).parent.mkdir(parents=True, exist_ok=True)
    (course_root / f"{name}.part").write_text(text, encoding="utf-8")
    os.replace(course_root / f"{name}.part", course_root / name)
sys.path.insert(0, str(course_root))
from helper_functions import use_course_style

use_course_style()  # colour-blind-safe colours, and alt text for every figure

# %% [markdown]
# Imports, settings and the device, ready for you.

# %%
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from torch import nn
from torchmetrics import Accuracy

from helper_functions import class_colormap, plot_decision_boundary, record_results, set_seeds

# Tiny models: on a CPU one thread is faster than several (see lesson 02).
torch.set_num_threads(1)

RANDOM_SEED = 42
device = "cuda" if torch.cuda.is_available() else "cpu"
device

# %% [markdown]
# The self-check: run the next cell once. After each exercise a folded cell of one line,
# `check("ex1")`, runs that exercise's check on your variables and says PASS, or FAIL with a hint.
# The checks' code is the course's (the `self_check` package and `exercises/checks/`): you need not read it.

# %% cellView="form" jupyter={"source_hidden": true} tags=["self-check"]
# @title Self-check: run this cell once
from self_check import *  # noqa: F403  (check(), and what the checks below are written with)

# %% tags=["check"] jupyter={"source_hidden": true}
# What these exercises' checks share: the moons data, rebuilt from the settings of exercise 1.
import functools

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
    value = need(ns, name, torch.Tensor)
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

# %%
# BEGIN SOLUTION
X_numpy, y_numpy = make_moons(n_samples=1000, noise=0.07, random_state=RANDOM_SEED)
X = torch.from_numpy(X_numpy).type(torch.float32)  # [1000, 2]
y = torch.from_numpy(y_numpy).type(torch.float32)  # [1000]

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=RANDOM_SEED)
X_train, X_test = X_train.to(device), X_test.to(device)
y_train, y_test = y_train.to(device), y_test.to(device)

plt.figure(figsize=(8, 5))
plt.scatter(X[:, 0], X[:, 1], c=y, cmap=class_colormap(2), s=10)
plt.title("make_moons: two classes")
plt.xlabel("X1")
plt.ylabel("X2")
plt.show()
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex1",
    points=1,
    hint="make_moons with the settings above, float32 tensors, an 80/20 split on device.",
    reads=("X", "y", "X_train", "X_test", "y_train", "y_test"),
)
def check_ex1(ns):
    moons = dict(zip(("X", "y", "X_train", "X_test", "y_train", "y_test"), _moons(), strict=True))
    for name in ("X", "y"):
        value = need(ns, name, torch.Tensor)
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


# %%
# BEGIN SOLUTION
class MoonModelV0(nn.Module):
    """2 features -> hidden_units -> hidden_units -> 1 logit, with ReLU between the layers."""

    def __init__(self, in_features: int = 2, hidden_units: int = 10, out_features: int = 1) -> None:
        super().__init__()
        self.layer_stack = nn.Sequential(
            nn.Linear(in_features, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_stack(x)  # [N, 2] -> [N, 1]


set_seeds(RANDOM_SEED)
model_0 = MoonModelV0().to(device)
# END SOLUTION
model_0


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex2",
    points=1,
    hint="Linear layers with a non-linear activation such as nn.ReLU() between them.",
    reads=("model_0",),
)
def check_ex2(ns):
    model = need(ns, "model_0", nn.Module)
    shape = tuple(model_logits(model, torch.zeros(5, 2)).shape)
    expect(
        shape in ((5, 1), (5,)),
        "`model_0`'s output",
        f"`model_0` maps a batch of 5 points to shape {shape}, expected (5, 1): one logit per point",
        "The last nn.Linear needs out_features=1.",
    )
    expect(
        not is_affine(model),
        "non-linearity",
        "`model_0` is a linear function of its input: its decision boundary can only be a straight line",
        "Put a non-linear activation such as nn.ReLU() between the linear layers.",
    )


check("ex2")

# %% [markdown]
# Why does this model need a non-linear activation?
#
# <!-- BEGIN SOLUTION -->
# Linear layers stacked on each other are still one linear function, so without a non-linearity
# the decision boundary is a straight line. No straight line separates two interleaving half
# moons; a ReLU between the layers lets the boundary bend.
# <!-- END SOLUTION -->

# %% [markdown]
# ## Exercise 3: loss function and optimizer
#
# Create `loss_fn`, the binary cross-entropy loss that takes raw logits, and `optimizer`, an SGD
# optimizer over `model_0`'s parameters with a learning rate of 0.1. Done when `check("ex3")`
# passes.

# %%
# BEGIN SOLUTION
loss_fn = nn.BCEWithLogitsLoss()  # applies the sigmoid itself: pass raw logits
optimizer = torch.optim.SGD(params=model_0.parameters(), lr=0.1)
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex3",
    points=1,
    hint="nn.BCEWithLogitsLoss() and torch.optim.SGD(model_0.parameters(), lr=0.1).",
    reads=("loss_fn", "optimizer", "model_0"),
)
def check_ex3(ns):
    loss_fn = need(ns, "loss_fn", nn.Module)
    expect(
        isinstance(loss_fn, nn.BCEWithLogitsLoss),
        "`loss_fn`",
        f"`loss_fn` should be nn.BCEWithLogitsLoss, got {type(loss_fn).__name__}",
        "nn.BCEWithLogitsLoss takes the raw logits and applies the sigmoid itself.",
    )
    optimizer = need(ns, "optimizer", torch.optim.Optimizer)
    expect(
        isinstance(optimizer, torch.optim.SGD) and math.isclose(optimizer.param_groups[0]["lr"], 0.1),
        "`optimizer`",
        f"`optimizer` should be SGD with lr=0.1, got {type(optimizer).__name__} with lr={optimizer.param_groups[0]['lr']}",
        "torch.optim.SGD(params=model_0.parameters(), lr=0.1).",
    )
    expect_optimizes(optimizer, need(ns, "model_0", nn.Module), "optimizer", "model_0")


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

# %%
# BEGIN SOLUTION
EPOCHS = 1000
accuracy_metric = Accuracy(task="binary").to(device)

for epoch in range(EPOCHS):
    model_0.train()
    # 1. Forward pass: [800, 1] -> [800]
    y_logits = model_0(X_train).squeeze(dim=1)
    y_pred = torch.round(torch.sigmoid(y_logits))  # logits -> probabilities -> labels
    # 2. Loss
    loss = loss_fn(y_logits, y_train)
    # 3. Zero grad
    optimizer.zero_grad()
    # 4. Backward
    loss.backward()
    # 5. Step
    optimizer.step()

    model_0.eval()
    with torch.inference_mode():
        test_logits = model_0(X_test).squeeze(dim=1)
        test_pred = torch.round(torch.sigmoid(test_logits))
        test_loss = loss_fn(test_logits, y_test)
    if epoch % 100 == 0 or epoch == EPOCHS - 1:
        train_acc = accuracy_metric(y_pred, y_train).item() * 100
        test_acc = accuracy_metric(test_pred, y_test).item() * 100
        print(
            f"Epoch: {epoch:4d} | Loss: {loss:.5f}, Accuracy: {train_acc:.2f}% | "
            f"Test loss: {test_loss:.5f}, Test accuracy: {test_acc:.2f}%"
        )

moons_test_acc = accuracy_metric(test_pred, y_test).item() * 100  # over all 200 test samples
# END SOLUTION
print(f"Final test accuracy: {moons_test_acc:.2f}%")


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex4",
    points=1,
    hint="Train longer, or check the five steps: forward, loss, zero grad, backward, step.",
    reads=("model_0", "moons_test_acc"),
)
def check_ex4(ns):
    _, _, _, X_test, _, y_test = _moons()
    accuracy = model_accuracy(need(ns, "model_0", nn.Module), X_test, y_test)
    recorded = float(need(ns, "moons_test_acc", (int, float, torch.Tensor)))
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

# %%
# BEGIN SOLUTION
boundary_fig = plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plot_decision_boundary(model_0, X_train, y_train)
plt.title("model_0: train")
plt.subplot(1, 2, 2)
plot_decision_boundary(model_0, X_test, y_test)
plt.title("model_0: test")
plt.show()
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex5",
    points=1,
    hint="boundary_fig = plt.figure(...), then plt.subplot(1, 2, i) before each plot.",
    reads=("boundary_fig",),
)
def check_ex5(ns):
    fig = need(ns, "boundary_fig", Figure)
    expect(
        len(fig.axes) == 2,
        "`boundary_fig`'s plots",
        f"`boundary_fig` should hold two plots side by side, it holds {len(fig.axes)}",
        "plt.subplot(1, 2, 1) before the training plot, plt.subplot(1, 2, 2) before the test plot.",
    )
    for ax, (side, count) in zip(fig.axes, (("left", 800), ("right", 200)), strict=True):
        points = expect_boundary(ax, "decision regions", f"the {side} plot of `boundary_fig`")
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

# %%
A = torch.arange(-10, 10, 0.5, dtype=torch.float32)  # [40]


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent in plain torch."""
    # BEGIN SOLUTION
    # The formula above overflows: in float32 exp(x) is inf for x above about 88, and inf / inf is
    # nan. Dividing top and bottom by exp(x) gives 1 - 2 / (exp(2x) + 1), which only ever divides
    # by something between 1 and inf.
    return 1 - 2 / (torch.exp(2 * x) + 1)
    # END SOLUTION


print(f"tanh matches torch.tanh: {torch.allclose(tanh(A), torch.tanh(A), atol=1e-6)}")
print(f"tanh(100) = {tanh(torch.tensor(100.0)).item()}, tanh(-100) = {tanh(torch.tensor(-100.0)).item()}")


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex6",
    points=1,
    hint="tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)), with torch.exp.",
    reads=("tanh",),
    probes={"tanh": [(torch.arange(-10, 10, 0.5, dtype=torch.float32),)]},
)
def check_ex6(ns):
    tanh = need(ns, "tanh")
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

# %%
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

# %%
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
plt.scatter(X_spiral[:, 0], X_spiral[:, 1], c=y_spiral, cmap=class_colormap(3), s=15, edgecolors="k", linewidths=0.3)
plt.title("Three spirals")
plt.xlabel("X1")
plt.ylabel("X2")
plt.show()

# %% [markdown]
# Step 1, the split, and step 2, the model:

# %%
# BEGIN SOLUTION
X_spiral_train, X_spiral_test, y_spiral_train, y_spiral_test = train_test_split(
    X_spiral, y_spiral, test_size=0.2, random_state=RANDOM_SEED
)
X_spiral_train, X_spiral_test = X_spiral_train.to(device), X_spiral_test.to(device)
y_spiral_train, y_spiral_test = y_spiral_train.to(device), y_spiral_test.to(device)


class SpiralModelV0(nn.Module):
    """2 features -> hidden_units -> hidden_units -> one logit per class, with ReLU between."""

    def __init__(self, in_features: int, out_features: int, hidden_units: int = 32) -> None:
        super().__init__()
        self.layer_stack = nn.Sequential(
            nn.Linear(in_features, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_stack(x)  # [N, 2] -> [N, num_classes]


set_seeds(RANDOM_SEED)
model_1 = SpiralModelV0(in_features=2, out_features=NUM_CLASSES).to(device)
# END SOLUTION
model_1

# %% [markdown]
# Step 3, training:

# %%
# BEGIN SOLUTION
EPOCHS_SPIRAL = 1000
spiral_loss_fn = nn.CrossEntropyLoss()
spiral_optimizer = torch.optim.Adam(params=model_1.parameters(), lr=0.01)  # Adam copes well with the spirals
spiral_accuracy = Accuracy(task="multiclass", num_classes=NUM_CLASSES).to(device)

for epoch in range(EPOCHS_SPIRAL):
    model_1.train()
    # 1. Forward pass
    y_logits = model_1(X_spiral_train)  # [240, 3]
    # 2. Loss
    loss = spiral_loss_fn(y_logits, y_spiral_train)
    # 3. Zero grad
    spiral_optimizer.zero_grad()
    # 4. Backward
    loss.backward()
    # 5. Step
    spiral_optimizer.step()

    model_1.eval()
    with torch.inference_mode():
        test_logits = model_1(X_spiral_test)  # [60, 3]
        test_loss = spiral_loss_fn(test_logits, y_spiral_test)
        test_pred = torch.softmax(test_logits, dim=1).argmax(dim=1)  # logits -> probabilities -> labels
    if epoch % 100 == 0 or epoch == EPOCHS_SPIRAL - 1:
        train_acc = spiral_accuracy(y_logits.argmax(dim=1), y_spiral_train).item() * 100
        test_acc = spiral_accuracy(test_pred, y_spiral_test).item() * 100
        print(
            f"Epoch: {epoch:4d} | Loss: {loss:.5f}, Accuracy: {train_acc:.2f}% | "
            f"Test loss: {test_loss:.5f}, Test accuracy: {test_acc:.2f}%"
        )

spirals_test_acc = spiral_accuracy(test_pred, y_spiral_test).item() * 100  # over all 60 test samples
# END SOLUTION
print(f"Final test accuracy: {spirals_test_acc:.2f}%")


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex7",
    points=1,
    hint="Split with random_state=RANDOM_SEED; train with Adam(lr=0.01) for ~1000 epochs.",
    reads=(
        "X_spiral",
        "y_spiral",
        "X_spiral_train",
        "X_spiral_test",
        "y_spiral_train",
        "y_spiral_test",
        "model_1",
        "spirals_test_acc",
    ),
)
def check_ex7(ns):
    X_spiral, y_spiral = need(ns, "X_spiral", torch.Tensor), need(ns, "y_spiral", torch.Tensor)
    splits = train_test_split(X_spiral.cpu(), y_spiral.cpu(), test_size=0.2, random_state=42)
    hint = "train_test_split(X_spiral, y_spiral, test_size=0.2, random_state=RANDOM_SEED)."
    for name, expected in zip(
        ("X_spiral_train", "X_spiral_test", "y_spiral_train", "y_spiral_test"), splits, strict=True
    ):
        _expect_tensor(ns, name, expected, hint)
    model = need(ns, "model_1", nn.Module)
    logits = model_logits(model, splits[1])
    expect(
        logits.shape == (len(splits[1]), 3),
        "`model_1`'s output",
        f"model_1 maps the {len(splits[1])} test points to shape {tuple(logits.shape)}, expected ({len(splits[1])}, 3)",
        "One output per class: the last layer needs out_features=NUM_CLASSES.",
    )
    accuracy = model_accuracy(model, splits[1], splits[3])
    recorded = float(need(ns, "spirals_test_acc", (int, float, torch.Tensor)))
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

# %%
# BEGIN SOLUTION
plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plot_decision_boundary(model_1, X_spiral_train, y_spiral_train)
plt.title("model_1: train")
plt.subplot(1, 2, 2)
plot_decision_boundary(model_1, X_spiral_test, y_spiral_test)
plt.title("model_1: test")
plt.show()
# END SOLUTION

# %% [markdown]
# ## Check everything
#
# `check()` runs every check once more, on your variables as they are now.

# %%
check()

# %% [markdown]
# ## Results
#
# Your two final test accuracies, recorded for the course's tests (in the exercise notebook this
# cell raises until you have done exercises 4 and 7):

# %%
results = record_results(moons_test_acc=moons_test_acc, spirals_test_acc=spirals_test_acc)

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
    "exercises/checks/02_pytorch_classification_exercises.py": "from self_check import *",
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
from self_check import check, use_checks

use_checks("exercises/checks/02_pytorch_classification_exercises.py")

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


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex1
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

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex2
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


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex3
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

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex4
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


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex5
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

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex6
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
plt.scatter(X_spiral[:, 0], X_spiral[:, 1], c=y_spiral, cmap=class_colormap(3), s=15, edgecolors="k", linewidths=0.3)
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

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex7
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

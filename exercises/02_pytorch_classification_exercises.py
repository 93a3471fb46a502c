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
# and run the cell. The cell after most exercises checks your answer with a few `assert`s; if
# it passes silently, move on. Run the cells in order: later exercises use earlier results.
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

from helper_functions import accuracy_fn, plot_decision_boundary, record_results, set_seeds

# Tiny models: on a CPU one thread is faster than several (see lesson 02).
torch.set_num_threads(1)

RANDOM_SEED = 42
device = "cuda" if torch.cuda.is_available() else "cpu"
device

# %% [markdown]
# ## Exercise 1: make the moons data
#
# Make a binary classification data set with scikit-learn's
# `make_moons(n_samples=1000, noise=0.07, random_state=RANDOM_SEED)`.
#
# * Turn the features into a `float32` tensor `X` (`[1000, 2]`) and the labels into a
#   `float32` tensor `y` (`[1000]`): `BCEWithLogitsLoss` compares labels with float scores.
# * Split them 80/20 with `train_test_split(..., test_size=0.2, random_state=RANDOM_SEED)` into
#   `X_train, X_test, y_train, y_test`, and move the four tensors to `device`.
# * Plot the data with a title and axis labels.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% tags=["raises-exception"]
# Check your answer
assert X.shape == (1000, 2) and y.shape == (1000,), f"X {tuple(X.shape)}, y {tuple(y.shape)}"
assert X.dtype == torch.float32 and y.dtype == torch.float32, "X and y should be float32"
assert X_train.shape == (800, 2) and X_test.shape == (200, 2), "split 80/20: 800 train, 200 test"
assert y_train.shape == (800,) and y_test.shape == (200,)
print("Exercise 1 passed")

# %% [markdown]
# ## Exercise 2: a non-linear model
#
# Build `MoonModelV0`, an `nn.Module` that takes the 2 features and returns one logit per
# sample. It needs a non-linear activation between its linear layers (why?). Call
# `set_seeds(RANDOM_SEED)` right before you create `model_0`, so your numbers reproduce, and
# send it to `device`.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
model_0

# %% tags=["raises-exception"]
# Check your answer
with torch.inference_mode():
    check_logits = model_0(X_test[:5])
assert check_logits.shape in {(5, 1), (5,)}, f"expected one logit per sample, got {tuple(check_logits.shape)}"
NON_LINEAR = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.ELU, nn.SiLU)
assert any(isinstance(m, NON_LINEAR) for m in model_0.modules()), "add a non-linear activation between the layers"
print("Exercise 2 passed")

# %% [markdown]
# Why does this model need a non-linear activation?
#
# *Your answer here.*

# %% [markdown]
# ## Exercise 3: loss function and optimizer
#
# Create `loss_fn`, the binary cross-entropy loss that takes raw logits, and `optimizer`, an SGD
# optimizer over `model_0`'s parameters with a learning rate of 0.1.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% tags=["raises-exception"]
# Check your answer
assert isinstance(loss_fn, nn.BCEWithLogitsLoss), "use the loss that takes raw logits"
assert {id(p) for g in optimizer.param_groups for p in g["params"]} == {id(p) for p in model_0.parameters()}, (
    "the optimizer must hold model_0's parameters"
)
print("Exercise 3 passed")

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
#   in `moons_test_acc`. Reach at least 96%. (About 1000 epochs is plenty.)

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
print(f"Final test accuracy: {moons_test_acc:.2f}%")

# %% tags=["raises-exception"]
# Check your answer
assert 0 <= moons_test_acc <= 100, "moons_test_acc should be a percentage"
with torch.inference_mode():
    exact = accuracy_fn(y_test, (model_0(X_test).reshape(-1) > 0).float())
assert abs(exact - moons_test_acc) < 1e-3, f"moons_test_acc is {moons_test_acc}, but model_0 scores {exact}% on X_test"
assert moons_test_acc >= 96, f"test accuracy {moons_test_acc:.2f}% is below 96%: train longer or change the model"
print("Exercise 4 passed")

# %% [markdown]
# ## Exercise 5: the decision boundary
#
# Plot `model_0`'s decision boundary on the training data and on the test data, side by side
# (`plt.subplot(1, 2, i)` and `plot_decision_boundary` from the helpers), each with a title.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Exercise 6: tanh by hand
#
# The hyperbolic tangent is another activation function:
# `tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))`. It squashes any number into (-1, 1).
#
# Write `tanh(x)` in plain torch (no `torch.tanh`, no `nn.Tanh`), check that it matches
# `torch.tanh` on `A`, and plot both. Bonus: what does your version give for `x = 100`? Why?

# %% tags=["raises-exception"]
A = torch.arange(-10, 10, 0.5, dtype=torch.float32)  # [40]


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent in plain torch."""
    # YOUR CODE HERE
    raise NotImplementedError


print(f"tanh matches torch.tanh: {torch.allclose(tanh(A), torch.tanh(A), atol=1e-6)}")
print(f"tanh(100) = {tanh(torch.tensor(100.0)).item()}, tanh(-100) = {tanh(torch.tensor(-100.0)).item()}")

# %% tags=["raises-exception"]
# Check your answer
assert torch.allclose(tanh(A), torch.tanh(A), atol=1e-6), "tanh(A) does not match torch.tanh(A)"
print("Exercise 6 passed")

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
# 1. Split `X_spiral, y_spiral` 80/20 with `train_test_split(..., random_state=RANDOM_SEED)` and
#    move the splits to `device`.
# 2. Build a multi-class model (`SpiralModelV0`) with non-linear activations and one output per
#    class; seed before you build it.
# 3. Train it with `nn.CrossEntropyLoss` and an optimizer of your choice until it reaches **at
#    least 95%** test accuracy, measured with TorchMetrics'
#    `Accuracy(task="multiclass", num_classes=NUM_CLASSES)`. Store the final test accuracy, as a
#    percentage, in `spirals_test_acc`.
# 4. Plot the decision boundary on the train and test data side by side.

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

# %% tags=["raises-exception"]
# Check your answer
with torch.inference_mode():
    exact = accuracy_fn(y_spiral_test, model_1(X_spiral_test).argmax(dim=1))
assert abs(exact - spirals_test_acc) < 1e-3, f"spirals_test_acc is {spirals_test_acc}, but model_1 scores {exact}%"
assert spirals_test_acc >= 95, f"test accuracy {spirals_test_acc:.2f}% is below 95%: train longer or change the model"
print("Exercise 7 (training) passed")

# %% [markdown]
# Step 4, the decision boundary:

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Results
#
# Your two final test accuracies, recorded for the course's tests (in the exercise notebook this
# cell raises until you have done exercises 4 and 7):

# %% tags=["raises-exception"]
results = record_results(moons_test_acc=moons_test_acc, spirals_test_acc=spirals_test_acc)

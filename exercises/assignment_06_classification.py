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
# # Assignment 6: building classification models with PyTorch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pytorch-course/pytorch-classification-course/blob/main/exercises/assignment_06_classification.ipynb)
#
# In this lab you walk through the whole PyTorch workflow (data, model, loss and optimizer,
# training loop, evaluation, saving) and use it to build three classifiers: a linear model
# that cannot separate two rings of points, a non-linear model that can, and a multi-class
# model for four clusters of points.
#
# **Nine exercises, one point each.** Each exercise cell says which variables it must create;
# keep those names, because the checks look for them. Right after each exercise a *check
# cell* runs `check("exN")` and tells you PASS, or FAIL with a hint. The checks rebuild the
# data and measure your models themselves, so printing a good number is not enough: the
# objects must be right. When you hand the notebook in, the grader runs it from top to
# bottom in a fresh kernel and runs the same checks, taken from the course's own copy, each
# one where your `check("exN")` cell stands: a later cell that reuses a name, such as
# `loss_fn`, cannot cost an earlier exercise its point.
#
# Exercises 7, 8 and 9 each have a **hidden part**, worth half of their point, that only the
# grader runs: it judges what the exercise asks on data you never see (points drawn fresh from
# the same rings and clusters, the data your plots show). The self-check tells you it is there,
# so that passing the visible half is not mistaken for the whole point. Do the exercise, not the
# check, and the hidden half passes too.
#
# ## Contents
# 0. Setup and the self-check
# 1. Recap: the workflow on an OR gate
# 2. What a classifier looks like
# 3. The circles data (exercises 1 and 2)
# 4. A linear baseline (exercises 3, 4 and 5)
# 5. Adding non-linearity (exercises 6, 7 and 8)
# 6. Multi-class classification (exercise 9)
# 7. Your score

# %% [markdown]
# ## 0. Setup and the self-check
#
# The first cell makes the notebook run the same way in Colab and in the course repository.

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
    "exercises/checks/assignment_06_classification.py": "from self_check import *",
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
# Imports, and the device: the GPU when there is one, otherwise the CPU. The shared helpers
# (`accuracy_fn`, `plot_decision_boundary`, ...) come from the course's `helper_functions.py`.

# %%
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import make_blobs, make_circles
from sklearn.model_selection import train_test_split
from torch import nn

from helper_functions import (
    TensorBatches,
    accuracy_fn,
    class_colormap,
    load_model,
    plot_decision_boundary,
    plot_loss_curves,
    save_model,
    set_seeds,
    shows_error,
    test_step,
    train_step,
)

device = "cuda" if torch.cuda.is_available() else "cpu"
if device == "cpu":
    # The models of this lab are tiny: one CPU thread is fastest. With more, every small matrix
    # product pays for coordinating the threads, which on a busy machine makes training many times slower.
    torch.set_num_threads(1)
print(f"torch {torch.__version__}, using device: {device}")

# %% [markdown]
# Run the next cell once: it loads the self-check. `check("ex3")` runs the check of exercise 3
# on your variables; `check()` runs every check so far. A check never shows a solution: it says
# what it expected and what it found. Its code is the course's (the `self_check` package and
# `exercises/checks/`), so the cells that run it are folded: you need not read them.

# %% cellView="form" jupyter={"source_hidden": true} tags=["self-check"]
# @title Self-check: run this cell once
from self_check import check, use_checks

use_checks("exercises/checks/assignment_06_classification.py")

# %% [markdown]
# ## 1. Recap: the workflow on an OR gate
#
# Every model in this lab follows the same steps:
#
# 1. **Prepare the data**: load it, turn it into tensors, split it into training and test sets.
# 2. **Build the model** from PyTorch's layers (`torch.nn`), then
#    2.1 choose a **loss function** (how wrong is the model?) and an **optimizer** (how do the
#    weights change?), and
#    2.2 write the **training loop**: forward pass, loss, zero the gradients, backward pass, step.
# 3. **Evaluate** on data the model has not trained on.
# 4. **Adjust** (architecture, learning rate, epochs) and train again when needed.
# 5. **Save** the trained model.
#
# We run them once on the smallest problem there is: a single neuron (a perceptron) that learns
# the OR gate, whose output is 1 when at least one of its two inputs is 1.

# %%
# 1. Prepare the data: the four input pairs and their OR
X_gate = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)  # [4, 2]
y_gate = torch.tensor([0, 1, 1, 1], dtype=torch.float32)  # [4]
X_gate.shape, y_gate.shape

# %% [markdown]
# 2. The model: one `nn.Linear` layer from two inputs to one output. It returns a raw score,
# a **logit**; `torch.sigmoid` turns a logit into a probability when we need one.


# %%
class Perceptron(nn.Module):
    def __init__(self, in_features: int = 2, out_features: int = 1):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)  # [N, 2] -> [N, 1] logits


set_seeds(42)
perceptron = Perceptron().to(device)
perceptron

# %% [markdown]
# 2.1 and 2.2: the loss, the optimizer and the training loop. `nn.BCEWithLogitsLoss` applies the
# sigmoid itself, in a numerically stable way, so the model can return logits.

# %%
gate_loss_fn = nn.BCEWithLogitsLoss()
gate_optimizer = torch.optim.SGD(perceptron.parameters(), lr=0.5)

X_gate, y_gate = X_gate.to(device), y_gate.to(device)
gate_losses = []
for _ in range(500):
    perceptron.train()
    # 1. Forward pass
    gate_logits = perceptron(X_gate).squeeze(dim=1)  # [4, 1] -> [4], the shape of y_gate
    # 2. Loss
    loss = gate_loss_fn(gate_logits, y_gate)
    # 3. Zero grad
    gate_optimizer.zero_grad()
    # 4. Backward
    loss.backward()
    # 5. Step
    gate_optimizer.step()
    gate_losses.append(loss.item())
print(f"loss after 1 epoch: {gate_losses[0]:.4f}, after {len(gate_losses)}: {gate_losses[-1]:.4f}")

# %%
plt.plot(gate_losses)
plt.title("OR gate: training loss")
plt.xlabel("Epoch")
plt.ylabel("Loss (binary cross-entropy)")
plt.show()

# %% [markdown]
# 3. Evaluate. The sigmoid of a logit is the probability of class 1; a probability above 0.5
# (a positive logit) means "predict 1". The perceptron now computes OR.

# %%
perceptron.eval()
with torch.inference_mode():
    gate_probs = torch.sigmoid(perceptron(X_gate).squeeze(dim=1))
gate_predictions = (gate_probs > 0.5).float()
print(f"probabilities: {gate_probs.cpu().numpy().round(3)}")
print(f"predictions:   {gate_predictions.cpu().numpy()}, accuracy: {accuracy_fn(y_gate, gate_predictions):.0f}%")

# %% [markdown]
# 5. Save the learned parameters (the `state_dict`), load them into a fresh model and check that
# the copy gives the same outputs.

# %%
saved_path = save_model(perceptron, target_dir="models", model_name="06_or_gate_perceptron.pth")
reloaded = load_model(Perceptron(), saved_path, device=device)
with torch.inference_mode():
    same = torch.isclose(reloaded(X_gate), perceptron(X_gate)).all().item()
print(f"saved to {saved_path}; the reloaded model gives the same outputs: {same}")

# %% [markdown]
# ## 2. What a classifier looks like
#
# | | binary classification | multi-class classification |
# |---|---|---|
# | input layer (`in_features`) | one per feature | same |
# | hidden layers and units | problem specific (often 1 to 5 layers of 10 to 512 units) | same |
# | output layer (`out_features`) | 1 (one logit) | one logit per class |
# | hidden activation | usually ReLU | same |
# | output to probability | `torch.sigmoid` | `torch.softmax(..., dim=1)` |
# | loss | `nn.BCEWithLogitsLoss` | `nn.CrossEntropyLoss` |
# | optimizer | SGD or Adam (`torch.optim`) | same |
#
# Binary classification picks one of two classes (spam or not); multi-class picks one of several
# (food, person or dog); multi-label may pick several at once (the topics of an article). This
# lab does the first two. The [TensorFlow playground](https://playground.tensorflow.org/) shows
# the circles data we use next, and lets you watch small networks learn it.

# %% [markdown]
# ## 3. The circles data
#
# `sklearn.datasets.make_circles` draws points on two rings, an outer one (label 0) and an inner
# one (label 1), with a little noise. These settings are fixed for the whole lab:

# %%
N_SAMPLES = 2000
NOISE = 0.05
RANDOM_SEED = 42
TEST_SIZE = 0.2

# %% [markdown]
# ### Exercise 1 (1 point): look at the data
#
# Create the circles data as NumPy arrays `X` (the features) and `y` (the labels) with
# `make_circles`, using `N_SAMPLES` samples, noise `NOISE` and `random_state=RANDOM_SEED`. Then
# create:
# - `n_features`: the size of `X`'s second dimension (an `int`): how many numbers describe one point;
# - `first_five_X` and `first_five_y`: the first five rows of `X` and the first five labels;
# - `last_five_X`: the last five rows of `X` (careful with the slice: `X[5:]` is not it).
#
# Print the shapes and these values.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
print(f"X: {X.shape}, y: {y.shape}, features per point: {n_features}")
print(f"first five points:\n{first_five_X}\nfirst five labels: {first_five_y}")
print(f"last five points:\n{last_five_X}")

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex1
check("ex1")

# %% [markdown]
# A picture says more than the numbers: two rings, one inside the other. No straight line
# separates them.

# %% tags=["raises-exception"]
plt.scatter(X[:, 0], X[:, 1], c=y, s=8, cmap=class_colormap(2))  # the course's colour-blind-safe palette
plt.title(f"make_circles: {N_SAMPLES} points, noise {NOISE}")
plt.xlabel("X1")
plt.ylabel("X2")
plt.show()

# %% [markdown]
# ### Exercise 2 (1 point): tensors and a train/test split
#
# PyTorch models take tensors. Turn `X` and `y` into `float32` tensors (labels too:
# `BCEWithLogitsLoss` compares logits with float targets), then split them with
# `train_test_split` into `X_train`, `X_test`, `y_train`, `y_test`: 80% to train on, 20%
# (`TEST_SIZE`) held out to test on, with `random_state=RANDOM_SEED` so the split is the same
# every time. Keep `X` and `y` as they are.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
print(
    f"X_train {tuple(X_train.shape)}, X_test {tuple(X_test.shape)}, y_train {tuple(y_train.shape)}, "
    f"y_test {tuple(y_test.shape)}, dtype {X_train.dtype}"
)

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex2
check("ex2")

# %% [markdown]
# ## 4. A linear baseline
#
# ### Exercise 3 (1 point): a model with two linear layers
#
# Build a model like the perceptron but with **two** `nn.Linear` layers and **no activation**
# between them: 2 input features, a hidden layer of any width, 1 output logit. Name the class
# `CircleModelV0` and the instance `model_0`, and put it on `device`. (Distinct, versioned names
# keep the models of this lab apart: `model_0`, `model_1`, ...)

# %% tags=["raises-exception"]
set_seeds(RANDOM_SEED)  # seed before building, so the starting weights are the same every run


# YOUR CODE HERE
raise NotImplementedError
model_0

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex3
check("ex3")

# %% [markdown]
# ### Exercise 4 (1 point): loss function and optimizer
#
# | problem | loss function | PyTorch |
# |---|---|---|
# | binary classification | binary cross-entropy | `nn.BCEWithLogitsLoss` (or `nn.Sigmoid` + `nn.BCELoss`) |
# | multi-class classification | cross-entropy | `nn.CrossEntropyLoss` |
# | regression | mean absolute / squared error | `nn.L1Loss`, `nn.MSELoss` |
#
# Optimizers such as SGD (`torch.optim.SGD`) and Adam (`torch.optim.Adam`) work for all of them.
#
# Create the recommended loss function for our binary problem, `loss_fn = nn.BCEWithLogitsLoss()`
# (it takes the model's logits directly), and `optimizer`: SGD over `model_0`'s parameters with a
# learning rate of 0.1.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError
loss_fn, optimizer

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex4
check("ex4")

# %% [markdown]
# Before training, how good is `model_0`? A deliberate mistake first. The model returns logits of
# shape `[400, 1]` and the labels have shape `[400]`. Comparing them directly, as the original lab's
# `evaluate()` did, broadcasts to a 400 x 400 comparison and gives a meaningless accuracy.
# `accuracy_fn` refuses mismatched shapes, so the next cell raises a `ValueError`, which
# `shows_error` prints as Python would before the notebook goes on:

# %% tags=["raises-exception"]
model_0.eval()
with torch.inference_mode():
    untrained_labels = (model_0(X_test.to(device)) > 0).float().cpu()  # [400, 1]: a positive logit means class 1
with shows_error(ValueError):  # prints the error, and the notebook goes on
    accuracy_fn(y_test, untrained_labels)

# %% [markdown]
# The fix: squeeze the output dimension so that predictions and labels are both `[400]`. An
# untrained model guesses, so about half of its answers are right.

# %% tags=["raises-exception"]
untrained_labels = untrained_labels.squeeze(dim=1)  # [400, 1] -> [400]
print(f"model_0 before training: {accuracy_fn(y_test, untrained_labels):.1f}% test accuracy")

# %% [markdown]
# ### Exercise 5 (1 point): a mini-batch training loop
#
# Train `model_0` with `loss_fn` and `optimizer` for `EPOCHS` epochs on mini-batches of
# `BATCH_SIZE` training samples, shuffled every epoch. The cell makes `train_batches` for you:
# `TensorBatches` from the helpers yields `(X_batch, y_batch)` pairs like a `DataLoader` would.
# Every 10 epochs:
# - append the epoch's **mean training loss** to `loss_curve`. The loss of a batch is already a
#   mean over that batch, so average correctly: add up `loss.item() * len(batch)` and divide by
#   the number of training samples (dividing by anything else, such as the last batch's index,
#   makes the loss look many times smaller than it is);
# - append the **test accuracy** in percent (`accuracy_fn`) of the model at that point to
#   `acc_curve`, and print both.
#
# Then plot both curves side by side in a figure kept in `curves_fig`
# (`curves_fig = plt.figure(...)`, then `plt.subplot(1, 2, 1)` and `plt.subplot(1, 2, 2)`).

# %% tags=["raises-exception"]
EPOCHS = 100
BATCH_SIZE = 32

# %% tags=["raises-exception"]
set_seeds(RANDOM_SEED)  # the shuffling draws from the seeded generator
train_batches = TensorBatches(X_train, y_train, batch_size=BATCH_SIZE, shuffle=True)
loss_curve, acc_curve = [], []
# YOUR CODE HERE
raise NotImplementedError

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex5
check("ex5")

# %% [markdown]
# Training did not help: the loss stays near 0.69 (the loss of a coin toss, ln 2) and the
# accuracy near 50%. The decision boundaries show why. However many linear layers we stack,
# their composition is still one linear function, and a straight line can at best cut the rings
# in half. The model is *underfitting*: it cannot represent the pattern in the data.

# %% tags=["raises-exception"]
plt.figure(figsize=(11, 5))
plt.subplot(1, 2, 1)
plt.title("model_0: training data")
plot_decision_boundary(model_0, X_train, y_train)
plt.subplot(1, 2, 2)
plt.title("model_0: test data")
plot_decision_boundary(model_0, X_test, y_test)
plt.show()

# %% [markdown]
# ## 5. Adding non-linearity
#
# Ways to improve a model: more layers, more hidden units, longer training, a different learning
# rate, a different loss function, and **non-linear activation functions**. Only the last one
# helps here: without it, a deeper or wider model is still linear.
#
# The most common activation is ReLU, `max(0, x)`: it keeps positive values and sets negative
# ones to zero. Written by hand:


# %% tags=["raises-exception"]
def relu(x: torch.Tensor) -> torch.Tensor:
    return torch.maximum(torch.zeros_like(x), x)


toy = torch.arange(-10, 10, dtype=torch.float32)
plt.plot(toy, relu(toy))
plt.title("ReLU")
plt.xlabel("x")
plt.ylabel("relu(x)")
print(torch.equal(relu(toy), torch.relu(toy)))  # the same as PyTorch's own

# %% [markdown]
# ### Exercise 6 (1 point): a model with non-linear activations
#
# Build `CircleModelV1`, a model from 2 features to 1 logit with hidden layers and a non-linear
# activation (such as `nn.ReLU()`) between them. Name the instance `model_1` and put it on
# `device`.

# %% tags=["raises-exception"]
set_seeds(RANDOM_SEED)


# YOUR CODE HERE
raise NotImplementedError
model_1

# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex6
check("ex6")

# %% [markdown]
# ### Exercise 7 (1 point): train the non-linear model
#
# Create `optimizer_1` for `model_1` (an optimizer built for `model_0` would leave `model_1`
# untouched), and train `model_1` on mini-batches until it reaches **at least 95% accuracy on the
# test split**. Any optimizer and learning rate will do; the helpers `train_step` and `test_step`
# run one epoch for you and return its mean loss and accuracy. Print the test accuracy every
# 10 epochs.

# %% tags=["raises-exception"]
set_seeds(RANDOM_SEED)
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex7
check("ex7")

# %% [markdown]
# ### Exercise 8 (1 point): see the decision boundary
#
# Draw `model_1`'s decision boundary on the training data (left) and on the test data (right),
# side by side in one figure kept in `boundary_fig`: `boundary_fig = plt.figure(...)`, then
# `plt.subplot(1, 2, 1)` and `plot_decision_boundary(...)`, then the same with `plt.subplot(1, 2, 2)`.
# Give each plot a title.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex8
check("ex8")

# %% [markdown]
# ## 6. Multi-class classification
#
# `make_blobs` draws clusters of points around centres; each cluster is a class. With four
# classes the model's last layer has four outputs, one logit per class:
# `nn.Linear(..., out_features=NUM_CLASSES)`. `nn.CrossEntropyLoss` takes those logits and the
# class indices (`int64` labels); `torch.softmax(logits, dim=1)` gives the probabilities and
# `argmax(dim=1)` the predicted class.

# %% tags=["raises-exception"]
NUM_CLASSES = 4
NUM_FEATURES = 2

X_blob, y_blob = make_blobs(
    n_samples=1000, n_features=NUM_FEATURES, centers=NUM_CLASSES, cluster_std=1.5, random_state=RANDOM_SEED
)
X_blob = torch.from_numpy(X_blob).float()  # [1000, 2]
y_blob = torch.from_numpy(y_blob).long()  # [1000], class indices 0..3
X_blob_train, X_blob_test, y_blob_train, y_blob_test = train_test_split(
    X_blob, y_blob, test_size=TEST_SIZE, random_state=RANDOM_SEED
)
plt.scatter(X_blob[:, 0], X_blob[:, 1], c=y_blob, s=8, cmap=class_colormap(NUM_CLASSES))
plt.title(f"make_blobs: {NUM_CLASSES} classes")
plt.xlabel("X1")
plt.ylabel("X2")
plt.show()

# %% [markdown]
# ### Exercise 9 (1 point): a multi-class classifier
#
# Go through the workflow once more, on the blobs:
# - build `BlobModel` and its instance `model_2` on `device` (the clusters are separable by
#   straight lines, so no activation is needed);
# - choose the loss function and an optimizer, and train `model_2` until it reaches **at least 95%
#   accuracy on the test split**;
# - record every epoch's training and test loss in `blob_results`, a dict with the lists
#   `"train_loss"` and `"test_loss"` (and optionally `"train_acc"`, `"test_acc"`), and plot them with
#   `plot_loss_curves(blob_results)`; it returns the two axes, so keep their figure:
#   `blob_curves_fig = plot_loss_curves(blob_results)[0].figure`;
# - draw `model_2`'s decision boundary on the test data in a figure kept in `blob_boundary_fig`.

# %% tags=["raises-exception"]
set_seeds(RANDOM_SEED)


# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex9
check("ex9")

# %% [markdown]
# ## 7. Your score
#
# `check()` runs every check once more, on the notebook as it is now, and gives the score the
# grader will give. An exercise that passed at its own check cell keeps its point even if a
# later cell changed a name it uses; `check()` then says which name changed. The grader
# computes your grade from a fresh run of the whole notebook, so run it top to bottom
# (*Restart and run all*) before you hand it in.

# %% tags=["raises-exception"]
check()

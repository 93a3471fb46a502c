"""The checks of exercises/02_pytorch_classification_exercises.ipynb, which its self-check cell loads.

Generated from solutions/02_pytorch_classification_solutions.py by ``make exercises``: edit the master, never
this file. The grader runs the same checks, taken from the master, and its hidden parts too.
"""

from self_check import *  # noqa: F403  (the check library: exercise, expect, need, ...)


# What these exercises' checks share: the moons data, rebuilt from the settings of exercise 1.
import functools

from sklearn.datasets import make_moons  # noqa: F811 (the checks run on their own too)
from sklearn.model_selection import train_test_split  # noqa: F811
from torch import nn  # noqa: F811

_EXPECTED_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@functools.cache
def _moons():
    """X, y as float32 tensors and their 80/20 split, as exercise 1 asks."""
    X_numpy, y_numpy = make_moons(n_samples=1000, noise=0.07, random_state=42)
    X, y = torch.from_numpy(X_numpy).float(), torch.from_numpy(y_numpy).float()
    return (X, y, *train_test_split(X, y, test_size=0.2, random_state=42))


def _expect_tensor(ns, name, expected, part_hint):
    """ns[name] is a float tensor on the expected device equal to `expected`."""
    value = need(ns, name, torch.Tensor)
    expect(
        tuple(value.shape) == tuple(expected.shape),
        f"`{name}`'s shape",
        f"`{name}` should have shape {tuple(expected.shape)}, got {tuple(value.shape)}",
        part_hint,
    )
    expect(
        value.device.type == _EXPECTED_DEVICE,
        f"`{name}`'s device",
        f"`{name}` is on {value.device.type}, expected {_EXPECTED_DEVICE}",
        "Move it with .to(device).",
    )
    expect(
        value.dtype == expected.dtype and torch.allclose(value.detach().cpu(), expected),
        f"`{name}`",
        f"`{name}` does not hold the values asked for (dtype {value.dtype})",
        part_hint,
    )


@exercise(
    "ex1",
    points=1,
    hint="make_moons with the settings above, float32 tensors, an 80/20 split on device.",
    reads=("X", "y", "X_train", "X_test", "y_train", "y_test"),
)
def check_ex1(ns):
    moons = dict(zip(("X", "y", "X_train", "X_test", "y_train", "y_test"), _moons(), strict=True))
    for name in ("X", "y"):
        value = need(ns, name, torch.Tensor)
        expect(
            tuple(value.shape) == tuple(moons[name].shape) and value.dtype == torch.float32,
            f"`{name}`",
            f"`{name}` should be a float32 tensor of shape {tuple(moons[name].shape)}, "
            f"got {value.dtype} {tuple(value.shape)}",
            "torch.from_numpy(...).type(torch.float32) turns NumPy's float64 into float32.",
        )
        expect(
            torch.allclose(value.detach().cpu(), moons[name]),
            f"`{name}`",
            f"`{name}` is not the moons data asked for",
            "make_moons(n_samples=1000, noise=0.07, random_state=RANDOM_SEED).",
        )
    for name in ("X_train", "X_test", "y_train", "y_test"):
        _expect_tensor(ns, name, moons[name], "train_test_split(X, y, test_size=0.2, random_state=RANDOM_SEED).")


@exercise(
    "ex2",
    points=1,
    hint="Linear layers with a non-linear activation such as nn.ReLU() between them.",
    reads=("model_0",),
)
def check_ex2(ns):
    model = need(ns, "model_0", nn.Module)
    shape = tuple(model_logits(model, torch.zeros(5, 2)).shape)
    expect(
        shape in ((5, 1), (5,)),
        "`model_0`'s output",
        f"`model_0` maps a batch of 5 points to shape {shape}, expected (5, 1): one logit per point",
        "The last nn.Linear needs out_features=1.",
    )
    expect(
        not is_affine(model),
        "non-linearity",
        "`model_0` is a linear function of its input: its decision boundary can only be a straight line",
        "Put a non-linear activation such as nn.ReLU() between the linear layers.",
    )


@exercise(
    "ex3",
    points=1,
    hint="nn.BCEWithLogitsLoss() and torch.optim.SGD(model_0.parameters(), lr=0.1).",
    reads=("loss_fn", "optimizer", "model_0"),
)
def check_ex3(ns):
    loss_fn = need(ns, "loss_fn", nn.Module)
    expect(
        isinstance(loss_fn, nn.BCEWithLogitsLoss),
        "`loss_fn`",
        f"`loss_fn` should be nn.BCEWithLogitsLoss, got {type(loss_fn).__name__}",
        "nn.BCEWithLogitsLoss takes the raw logits and applies the sigmoid itself.",
    )
    optimizer = need(ns, "optimizer", torch.optim.Optimizer)
    expect(
        isinstance(optimizer, torch.optim.SGD) and math.isclose(optimizer.param_groups[0]["lr"], 0.1),
        "`optimizer`",
        f"`optimizer` should be SGD with lr=0.1, got {type(optimizer).__name__} with lr={optimizer.param_groups[0]['lr']}",
        "torch.optim.SGD(params=model_0.parameters(), lr=0.1).",
    )
    expect_optimizes(optimizer, need(ns, "model_0", nn.Module), "optimizer", "model_0")


@exercise(
    "ex4",
    points=1,
    hint="Train longer, or check the five steps: forward, loss, zero grad, backward, step.",
    reads=("model_0", "moons_test_acc"),
)
def check_ex4(ns):
    _, _, _, X_test, _, y_test = _moons()
    accuracy = model_accuracy(need(ns, "model_0", nn.Module), X_test, y_test)
    recorded = float(need(ns, "moons_test_acc", (int, float, torch.Tensor)))
    expect(
        abs(recorded - accuracy) < 1e-3,
        "`moons_test_acc`",
        f"`moons_test_acc` is {recorded}, but model_0 scores {accuracy:.2f}% on the test split",
        "Store the final test accuracy over all 200 test samples, as a percentage (0 to 100).",
    )
    expect(
        accuracy >= 96,
        "test accuracy",
        f"model_0 scores {accuracy:.2f}% on the test split; at least 96% is needed",
        "Train for more epochs, or give the model more hidden units.",
    )


@exercise(
    "ex5",
    points=1,
    hint="boundary_fig = plt.figure(...), then plt.subplot(1, 2, i) before each plot.",
    reads=("boundary_fig",),
)
def check_ex5(ns):
    fig = need(ns, "boundary_fig", Figure)
    expect(
        len(fig.axes) == 2,
        "`boundary_fig`'s plots",
        f"`boundary_fig` should hold two plots side by side, it holds {len(fig.axes)}",
        "plt.subplot(1, 2, 1) before the training plot, plt.subplot(1, 2, 2) before the test plot.",
    )
    for ax, (side, count) in zip(fig.axes, (("left", 800), ("right", 200)), strict=True):
        points = expect_boundary(ax, "decision regions", f"the {side} plot of `boundary_fig`")
        expect(
            points == count,
            f"the {side} plot's data",
            f"the {side} plot shows {points} points, expected {count}",
            "Training data on the left, test data on the right.",
        )


@exercise(
    "ex6",
    points=1,
    hint="tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)), with torch.exp.",
    reads=("tanh",),
    probes={"tanh": [(torch.arange(-10, 10, 0.5, dtype=torch.float32),)]},
)
def check_ex6(ns):
    tanh = need(ns, "tanh")
    A = torch.arange(-10, 10, 0.5, dtype=torch.float32)
    mine = tanh(A)
    expect(
        isinstance(mine, torch.Tensor) and mine.shape == A.shape,
        "`tanh`'s output",
        f"tanh(A) should be a tensor of shape {tuple(A.shape)}, got {type(mine).__name__}",
        "Work on the whole tensor at once: torch.exp(x) applies to every element.",
    )
    expect(
        torch.allclose(mine, torch.tanh(A), atol=1e-6),
        "`tanh`'s values",
        f"tanh(A) differs from torch.tanh(A) by up to {(mine - torch.tanh(A)).abs().max().item():.2g}",
        "Check the formula's signs: (exp(x) - exp(-x)) / (exp(x) + exp(-x)).",
    )


@exercise(
    "ex7",
    points=1,
    hint="Split with random_state=RANDOM_SEED; train with Adam(lr=0.01) for ~1000 epochs.",
    reads=(
        "X_spiral",
        "y_spiral",
        "X_spiral_train",
        "X_spiral_test",
        "y_spiral_train",
        "y_spiral_test",
        "model_1",
        "spirals_test_acc",
    ),
)
def check_ex7(ns):
    X_spiral, y_spiral = need(ns, "X_spiral", torch.Tensor), need(ns, "y_spiral", torch.Tensor)
    splits = train_test_split(X_spiral.cpu(), y_spiral.cpu(), test_size=0.2, random_state=42)
    hint = "train_test_split(X_spiral, y_spiral, test_size=0.2, random_state=RANDOM_SEED)."
    for name, expected in zip(
        ("X_spiral_train", "X_spiral_test", "y_spiral_train", "y_spiral_test"), splits, strict=True
    ):
        _expect_tensor(ns, name, expected, hint)
    model = need(ns, "model_1", nn.Module)
    logits = model_logits(model, splits[1])
    expect(
        logits.shape == (len(splits[1]), 3),
        "`model_1`'s output",
        f"model_1 maps the {len(splits[1])} test points to shape {tuple(logits.shape)}, expected ({len(splits[1])}, 3)",
        "One output per class: the last layer needs out_features=NUM_CLASSES.",
    )
    accuracy = model_accuracy(model, splits[1], splits[3])
    recorded = float(need(ns, "spirals_test_acc", (int, float, torch.Tensor)))
    expect(
        abs(recorded - accuracy) < 1e-3,
        "`spirals_test_acc`",
        f"`spirals_test_acc` is {recorded}, but model_1 scores {accuracy:.2f}% on the test split",
        "Store the final test accuracy over all 60 test points, as a percentage.",
    )
    expect(
        accuracy >= 95,
        "test accuracy",
        f"model_1 scores {accuracy:.2f}% on the test split; at least 95% is needed",
        "Train longer, or try Adam(model_1.parameters(), lr=0.01); check the five steps of the loop.",
    )

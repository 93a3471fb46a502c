"""The checks of exercises/assignment_06_classification.ipynb, which its self-check cell loads.

Generated from solutions/assignment_06_classification.py by ``make exercises``: edit the master, never
this file. The grader runs the same checks, taken from the master, and its hidden parts too.
"""

from self_check import *  # noqa: F403  (the check library: exercise, expect, need, ...)


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


# Judged only when the notebook is graded: declared here so that the self-check counts them.
hidden_part("ex7", "accuracy on fresh points", points=0.5, reads=("model_1",))
hidden_part("ex8", "the data shown", points=0.5, reads=("boundary_fig", "X_train", "X_test"))
hidden_part("ex9", "accuracy on fresh points", points=0.5, reads=("model_2",))

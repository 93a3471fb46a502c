"""What the checks of an exercise are written with: the course's library for check authors.

A master's check cells use it through ``from self_check import *``; ``grading/README.md`` has each
name's signature and what it checks. A check receives ``ns``, the student's variables as the
checker rebuilt them, and fails with ``expect`` (``self_check.judging``): every helper here that
checks something fails the same way, saying what it found and how to fix it.
"""

import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet

from self_check.judging import expect

__all__ = [
    "as_array",
    "expect_boundary",
    "expect_optimizes",
    "is_affine",
    "model_accuracy",
    "model_logits",
    "need",
    "plots_values",
    "points_and_regions",
    "predicted_labels",
]


def need(ns, name, kind=None):
    """The student's variable ``name``; fails the check when it is missing, or not of type ``kind``."""
    expect(
        name in ns,
        f"`{name}`",
        f"`{name}` is not defined: the exercise cell must create it (did the cell run?)",
        f"Create `{name}` in the exercise's cell, with exactly this name, and run the cell.",
    )
    value = ns[name]
    if kind is not None:
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        expect(
            isinstance(value, kind),
            f"`{name}`",
            f"`{name}` should be a {expected}, got {type(value).__name__}",
            f"`{name}` must be a {expected}.",
        )
    return value


def as_array(ns, name):
    """The student's variable ``name`` (a tensor, an array or a list of numbers) as a float NumPy array."""
    value = need(ns, name, (torch.Tensor, np.ndarray, list, tuple))
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def model_logits(model, X):
    """What ``model`` gives on ``X``, in evaluation mode without gradients, on the model's device; its mode kept."""
    param = next(model.parameters(), None)
    model_device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return model(X.to(model_device)).detach().float().cpu()
    finally:
        model.train(was_training)


def predicted_labels(outputs):
    """The class each row of a model's ``outputs`` predicts: one logit per sample is binary (positive: class 1),
    several are classes (the largest)."""
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    return (outputs > 0).long() if outputs.ndim == 1 else outputs.argmax(dim=1)


def model_accuracy(model, X, y):
    """The percentage of the samples of ``X`` that ``model`` labels ``y``; fails unless it gives one label a sample."""
    predicted = predicted_labels(model_logits(model, X))
    expect(
        predicted.shape == y.shape,
        "the predictions' shape",
        f"the model's predictions have shape {tuple(predicted.shape)}, expected {tuple(y.shape)}",
        "The model should return one row of logits per sample.",
    )
    return (predicted == y.long()).sum().item() / len(y) * 100


def is_affine(model, features=2):
    """Whether ``model`` is linear plus a bias: model(t*a + (1-t)*b) == t*model(a) + (1-t)*model(b)."""
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(256, features, generator=generator), torch.randn(256, features, generator=generator)
    mixed = model_logits(model, 0.3 * a + 0.7 * b)
    return torch.allclose(mixed, 0.3 * model_logits(model, a) + 0.7 * model_logits(model, b), rtol=1e-3, atol=1e-4)


def expect_optimizes(optimizer, model, optimizer_name, model_name):
    """Fails the check unless ``optimizer`` updates exactly the parameters of ``model``."""
    owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
    expect(
        owned == {id(p) for p in model.parameters()},
        f"`{optimizer_name}`'s parameters",
        f"`{optimizer_name}` does not hold the parameters of `{model_name}`",
        f"Build {optimizer_name} from {model_name}.parameters(): an optimizer built for another model "
        f"leaves {model_name} untouched.",
    )


def plots_values(fig, values):
    """Whether a line of the figure ``fig`` has exactly the y values ``values``."""
    return any(
        len(line.get_ydata()) == len(values) and np.allclose(np.asarray(line.get_ydata(), dtype=float), values)
        for ax in fig.axes
        for line in ax.get_lines()
    )


def points_and_regions(ax):
    """How many points the axes ``ax`` scatter, and whether they fill decision regions: ``(count, bool)``."""
    points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    return points, any(isinstance(c, ContourSet) for c in ax.collections)


def expect_boundary(ax, about, where):
    """Fails the check unless the axes ``ax`` (``where``, in the message) fill decision regions; no axes, or empty
    ones, mean they went to a figure of their own. Gives how many points they scatter."""
    points, regions = points_and_regions(ax) if ax is not None else (0, False)
    expect(
        regions or points,
        about,
        f"{where} is empty: the decision boundary was drawn somewhere else. A plotting function that "
        "calls plt.figure() opens a figure of its own and leaves this one blank",
        "Draw on the current axes: use the course's plot_decision_boundary, or take plt.figure() out of your own.",
    )
    expect(
        regions,
        about,
        f"{where} shows no decision regions",
        "Draw it with plot_decision_boundary(model, X, y), which fills the regions and scatters the points.",
    )
    return points

"""The self-check machinery of the course's exercise notebooks, written once.

``make sync`` writes this file's code, between its ``CELL_STARTS_HERE`` and ``CELL_ENDS_HERE``
lines, into the cell tagged ``harness`` of every master that has one (``tools/check_notebooks``),
and the test suite fails when a master's copy differs. Each notebook thus carries the
self-check inline: it runs in Colab with nothing but the notebook, and the grader executes it
from the course's own master, never from a submission. A notebook's exercises register their
checks in cells tagged ``check``, with the notebook's own data helpers beside them.

Run: ``python -m tools.self_check`` prints the cell.
"""

from pathlib import Path

# CELL_STARTS_HERE
# The self-check, the same in every exercise notebook of the course. Each exercise registers its
# check with @exercise; check("exN") runs it on this notebook's variables, check() runs them all.
# Checks rebuild the data and measure models themselves: they judge the objects you made, never
# the numbers you printed. The grader runs this cell on its own, from the course's own copy.
import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet

EXERCISES: dict = {}  # name -> {"points": int, "hint": str, "check": function(namespace)}
_WHERE_IT_STANDS: dict = {}  # name -> (its result when check(name) ran, {variable: the object the check read})


def exercise(name, points, hint):
    """Register the decorated function as the check of exercise `name`, worth `points`."""

    def register(check_fn):
        EXERCISES[name] = {"points": points, "hint": hint, "check": check_fn}
        return check_fn

    return register


class CheckFailed(AssertionError):
    """One part of a check failed: `part` names it, the message says what was expected and found."""

    def __init__(self, part, message, hint):
        super().__init__(message)
        self.part, self.hint = part, hint


def expect(condition, part, message, hint):
    """Fail the check at `part`, with `message` and a hint for that part alone, when `condition` is false."""
    if not condition:
        raise CheckFailed(part, message, hint)


class _ReadTracker(dict):
    """A copy of a namespace that remembers which names a check looked up."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.read = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)

    def __contains__(self, name):
        self.read.add(name)
        return super().__contains__(name)


def run_check(name, namespace):
    """Run exercise `name`'s check on a copy of `namespace`; return passed, part, message, hint and read."""
    copy = _ReadTracker(namespace)
    try:
        EXERCISES[name]["check"](copy)
        result = {"passed": True, "part": "", "message": "passed", "hint": ""}
    except CheckFailed as failure:
        result = {"passed": False, "part": failure.part, "message": str(failure), "hint": failure.hint}
    except NotImplementedError:
        message = "your code still raises NotImplementedError, the placeholder of an unsolved exercise"
        hint = "Replace `raise NotImplementedError` with your code, then run the cell again."
        result = {"passed": False, "part": "your code", "message": message, "hint": hint}
    except Exception as error:  # a check must report, never crash the notebook
        message = f"checking your objects raised {type(error).__name__}: {error}"
        result = {"passed": False, "part": "running the check", "message": message, "hint": EXERCISES[name]["hint"]}
    result["read"] = sorted(variable for variable in copy.read if dict.__contains__(namespace, variable))
    return result


def reassigned(seen, namespace):
    """The variables in `seen` (name -> object) that `namespace` no longer holds, or holds as another object."""
    return sorted(name for name, value in seen.items() if name not in namespace or namespace[name] is not value)


class CheckReport:
    """The outcome of check(): one row per exercise, shown as PASS/FAIL lines."""

    def __init__(self, rows):
        self.rows = rows  # (name, result now, result where it stands or None, variables reassigned since)
        # the grader keeps what an exercise scored where it stands
        self.score = sum(EXERCISES[name]["points"] for name, now, then, _ in rows if (then or now)["passed"])
        self.max_score = sum(EXERCISES[name]["points"] for name, *_ in rows)

    def __repr__(self):
        lines = []
        for name, now, then, changed in self.rows:
            points = EXERCISES[name]["points"]
            earned = f"({points} point{'s' * (points != 1)})"
            official = then or now
            if official["passed"] and now["passed"]:
                lines.append(f"{name}: PASS {earned}")
            elif official["passed"]:
                since = f"`{'`, `'.join(changed)}` changed" if changed else "its objects changed"
                lines.append(
                    f"{name}: PASS where it stands {earned}. Since then {since}, so it would fail now "
                    f"({now['part']}: {now['message']}). An exercise is graded right after its own cells, "
                    "so it keeps its point."
                )
            else:
                lines.append(
                    f"{name}: FAIL at {official['part']}: {official['message']}\n     hint: {official['hint']}"
                )
                if then is not None and now["passed"]:
                    lines.append(
                        f"     It passes now, so a later cell fixed it; it is graded where check({name!r}) "
                        "stands: move the fix into the exercise's cells, or run its check again after the fix."
                    )
        if len(self.rows) > 1:
            lines.append(f"score: {self.score}/{self.max_score}")
        return "\n".join(lines)


def check(name=None):
    """Check exercise `name` (e.g. "ex3") where it stands, or, with no name, every exercise defined so far."""
    namespace = globals()
    if name is not None:
        if name not in EXERCISES:
            raise ValueError(f"unknown exercise {name!r}: expected one of {', '.join(EXERCISES)}")
        result = run_check(name, namespace)
        _WHERE_IT_STANDS[name] = (result, {variable: namespace[variable] for variable in result["read"]})
        return CheckReport([(name, result, None, [])])
    rows = []
    for each in EXERCISES:
        then, seen = _WHERE_IT_STANDS.get(each, (None, {}))
        rows.append((each, run_check(each, namespace), then, reassigned(seen, namespace)))
    return CheckReport(rows)


def _need(ns, name, kind=None):
    """Return ns[name]; fail with a message when it is missing or not of type `kind`."""
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


def _array(ns, name):
    """Return ns[name] (a tensor, array or list of numbers) as a float NumPy array."""
    value = _need(ns, name, (torch.Tensor, np.ndarray, list, tuple))
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _logits(model, X):
    """Run `model` on X in eval mode without gradients, on the model's device; restore its mode."""
    param = next(model.parameters(), None)
    model_device = param.device if param is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return model(X.to(model_device)).detach().float().cpu()
    finally:
        model.train(was_training)


def _labels(logits):
    """One logit per sample means binary (positive logit = class 1); several mean argmax."""
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    return (logits > 0).long() if logits.ndim == 1 else logits.argmax(dim=1)


def _accuracy(model, X, y):
    """Percentage of the samples in X that `model` labels correctly, computed here."""
    labels = _labels(_logits(model, X))
    expect(
        labels.shape == y.shape,
        "the predictions' shape",
        f"the model's predictions have shape {tuple(labels.shape)}, expected {tuple(y.shape)}",
        "The model should return one row of logits per sample.",
    )
    return (labels == y.long()).sum().item() / len(y) * 100


def _is_affine(model, features=2):
    """True when model(t*a + (1-t)*b) == t*model(a) + (1-t)*model(b): the model is linear (plus a bias)."""
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(256, features, generator=generator), torch.randn(256, features, generator=generator)
    mixed = _logits(model, 0.3 * a + 0.7 * b)
    return torch.allclose(mixed, 0.3 * _logits(model, a) + 0.7 * _logits(model, b), rtol=1e-3, atol=1e-4)


def _assert_optimizes(optimizer, model, optimizer_name, model_name):
    """`optimizer` updates exactly the parameters of `model`."""
    owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
    expect(
        owned == {id(p) for p in model.parameters()},
        f"`{optimizer_name}`'s parameters",
        f"`{optimizer_name}` does not hold the parameters of `{model_name}`",
        f"Build {optimizer_name} from {model_name}.parameters(): an optimizer built for another model "
        f"leaves {model_name} untouched.",
    )


def _plots_values(fig, values):
    """True when some line in `fig` has exactly these y values."""
    return any(
        len(line.get_ydata()) == len(values) and np.allclose(np.asarray(line.get_ydata(), dtype=float), values)
        for ax in fig.axes
        for line in ax.get_lines()
    )


def _points_and_regions(ax):
    """(number of scattered points, whether filled decision regions are drawn) for one plot."""
    points = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
    return points, any(isinstance(c, ContourSet) for c in ax.collections)


def _expect_boundary(ax, part, where):
    """`ax` shows filled decision regions; no plot, or an empty one, means they went to a figure of its own."""
    points, regions = _points_and_regions(ax) if ax is not None else (0, False)
    expect(
        regions or points,
        part,
        f"{where} is empty: the decision boundary was drawn somewhere else. A plotting function that "
        "calls plt.figure() opens a figure of its own and leaves this one blank",
        "Draw on the current axes: use the course's plot_decision_boundary, or take plt.figure() out of your own.",
    )
    expect(
        regions,
        part,
        f"{where} shows no decision regions",
        "Draw it with plot_decision_boundary(model, X, y), which fills the regions and scatters the points.",
    )
    return points


# CELL_ENDS_HERE
def cell_source() -> str:
    """The harness cell: this file between its ``CELL_STARTS_HERE`` and ``CELL_ENDS_HERE`` lines."""
    text = Path(__file__).read_text(encoding="utf-8")
    return text.split("# CELL_STARTS_HERE\n", 1)[1].split("\n\n\n# CELL_ENDS_HERE", 1)[0]


def main() -> int:
    print(cell_source())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The self-check machinery of the course's exercise notebooks, written once.

``make sync`` writes the harness cell into every master that has a cell tagged ``harness``
(``tools/check_notebooks``), and the test suite fails when a master's copy differs. The cell is
the hand-over (``grading/kernel/handover.py``: answers to plain data), the rebuild
(``grading/checker/rebuild.py``: plain data to fresh objects) and this file's code between its
``CELL_STARTS_HERE`` and ``CELL_ENDS_HERE`` lines: the registry of exercises, the check library
and ``check()``. Each notebook thus carries the self-check inline: it runs in Colab with nothing
but the notebook, and checks exactly what the grader's checker checks, the same way. A
notebook's exercises register their checks in cells tagged ``check``, with the notebook's own
data helpers beside them. The grader's checker executes the harness and check cells from the
course's own master, never from a submission.

Run: ``python -m tools.self_check`` prints the cell.
"""

import ast
import sys
from pathlib import Path

# CELL_STARTS_HERE
# The self-check, the same in every exercise notebook of the course. Each exercise registers its
# check with @exercise, naming the variables it reads; check("exN") runs it, check() runs them all.
# A check never judges your objects themselves: it judges what they hand over as plain data
# (tensors, numbers, a model's layers and weights, a figure's lines and points), rebuilt into fresh
# objects, exactly as the grader does in a process of its own. The checks rebuild the data and
# measure your models themselves, so printing a good number is not enough.
import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet

from grading.checker.rebuild import MalformedHandover, load_handover, rebuild, refusals
from grading.kernel.handover import hand_over_bytes

EXERCISES: dict = {}  # name -> {"points", "hint", "reads", "probes", "check": function(namespace)}
_WHERE_IT_STANDS: dict = {}  # name -> (its result when check(name) ran, {variable: the object it handed over})


def exercise(name, points, hint, reads=(), probes=None):
    """Register the decorated function as the check of exercise `name`, worth `points`.

    `reads` names the variables the check reads; `probes` maps a function's name to the argument
    tuples the check calls it with (a function is handed over as its results on those).
    """

    def register(check_fn):
        EXERCISES[name] = {
            "points": points,
            "hint": hint,
            "reads": tuple(reads),
            "probes": dict(probes or {}),
            "check": check_fn,
        }
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
    """The values handed over, remembering which names a check looked up."""

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


def run_check(name, values):
    """Run exercise `name`'s check on `values` (rebuilt from a hand-over); return passed, part, message, hint."""
    tracker = _ReadTracker(values)
    try:
        EXERCISES[name]["check"](tracker)
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
    undeclared = sorted(tracker.read - set(EXERCISES[name]["reads"]))
    if undeclared:  # a fault of the course's master, not of the student's: say so loudly
        result = {
            "passed": False,
            "part": "the check itself",
            "message": f"the check of {name} reads {undeclared}, which its @exercise(reads=...) does not name",
            "hint": "This is a fault in the course's notebook, not in your work: tell your instructor.",
        }
    return result


def hand_over_exercise(name, namespace, limit=None):
    """What exercise `name` reads of `namespace`, as the bytes a kernel hands over, or why it could not be."""
    exercise = EXERCISES[name]
    try:
        if limit is None:
            return hand_over_bytes(namespace, exercise["reads"], exercise["probes"])
        return hand_over_bytes(namespace, exercise["reads"], exercise["probes"], limit)
    except Exception as error:  # e.g. over the size limit: this exercise alone fails
        return f"{type(error).__name__}: {error}"[:2000]


def judge(name, handed_over):
    """Exercise `name`'s result on what was handed over: bytes, or the text of why the hand-over failed.

    The grader's checker calls this in a process of its own; check() calls it in your notebook.
    """
    if isinstance(handed_over, str):
        return {
            "passed": False,
            "part": "handing over your answer",
            "message": f"your answer could not be handed over to the checks: {handed_over}",
            "hint": "Keep to the objects the exercise asks for: tensors, arrays, numbers, lists, dicts, "
            "models built from torch.nn layers, optimizers, figures.",
        }
    refusals.clear()
    try:
        values = rebuild(load_handover(handed_over))
        result = run_check(name, values)
    except MalformedHandover as error:
        refusals.append(str(error))
    if refusals:  # even when the check caught the error: what the forward pass asked for was refused
        return {
            "passed": False,
            "part": "handing over your answer",
            "message": f"what your notebook handed over is malformed: {refusals[0]}",
            "hint": "Run the notebook again from the top in a fresh kernel.",
        }
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
        result = judge(name, hand_over_exercise(name, namespace))
        seen = {variable: namespace[variable] for variable in EXERCISES[name]["reads"] if variable in namespace}
        _WHERE_IT_STANDS[name] = (result, seen)
        return CheckReport([(name, result, None, [])])
    rows = []
    for each in EXERCISES:
        then, seen = _WHERE_IT_STANDS.get(each, (None, {}))
        rows.append((each, judge(each, hand_over_exercise(each, namespace)), then, reassigned(seen, namespace)))
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
REPO_ROOT = Path(__file__).resolve().parent.parent
CODEC = ("grading/kernel/handover.py", "grading/checker/rebuild.py")  # written into the cell before this file's code


def _split_imports(code: str) -> tuple[list[ast.Import | ast.ImportFrom], str]:
    """The top-level import statements of ``code`` (but the course's own), and the rest of it."""
    lines = code.splitlines()
    imports: list[ast.Import | ast.ImportFrom] = []
    taken: set[int] = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            taken.update(range(node.lineno - 1, node.end_lineno or node.lineno))
            if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grading")):
                imports.append(node)
    return imports, "\n".join(line for i, line in enumerate(lines) if i not in taken).strip()


def _merged_imports(statements: list[ast.Import | ast.ImportFrom]) -> str:
    """One import block for the cell: each module once, standard library first, as isort orders them."""
    plain: set[str] = set()
    names: dict[str, set[str]] = {}
    for node in statements:
        shown = {alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in node.names}
        if isinstance(node, ast.Import):
            plain |= shown
        else:
            names.setdefault(node.module or "", set()).update(shown)
    lines = [(module, f"import {module}") for module in plain]
    lines += [(module, f"from {module} import {', '.join(sorted(shown))}") for module, shown in names.items()]

    def order(item: tuple[str, str]) -> tuple[bool, bool, str]:
        module, line = item
        return (module.split(".")[0] not in sys.stdlib_module_names, line.startswith("from "), module.lower())

    ordered = sorted(lines, key=order)
    blocks = [
        [line for module, line in ordered if (module.split(".")[0] in sys.stdlib_module_names) == stdlib]
        for stdlib in (True, False)
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block)


def _module_code(relative: str) -> tuple[list[ast.Import | ast.ImportFrom], str]:
    """A module of the codec as cell code: its imports, and its docstring's first line as a comment before its code."""
    text = (REPO_ROOT / relative).read_text(encoding="utf-8")
    docstring = ast.parse(text).body[0]
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant), relative
    summary = str(docstring.value.value).strip().splitlines()[0]
    imports, body = _split_imports("\n".join(text.splitlines()[docstring.end_lineno or 0 :]))
    return imports, f"# ---- {relative}: {summary}\n{body}"


def cell_source() -> str:
    """The harness cell: the imports of its parts once, then the codec's modules, then this file's cell code."""
    text = Path(__file__).read_text(encoding="utf-8")
    own = text.split("# CELL_STARTS_HERE\n", 1)[1].split("\n\n\n# CELL_ENDS_HERE", 1)[0]
    header = own[: own.index("\nimport ")].strip()  # the comment that opens the cell
    own_imports, own_body = _split_imports(own[own.index("\nimport ") :])
    parts = [_module_code(relative) for relative in CODEC] + [
        (own_imports, "# ---- tools/self_check.py: the checks\n" + own_body)
    ]
    imports = _merged_imports([statement for part_imports, _ in parts for statement in part_imports])
    return "\n\n\n".join([header + "\n" + imports, *(body for _, body in parts)])


def main() -> int:
    print(cell_source())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

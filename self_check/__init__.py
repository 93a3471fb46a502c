"""The course's self-check: your answers handed over as data, rebuilt, and judged by the exercise's checks.

An exercise notebook imports this package as it imports ``helper_functions.py``: its setup cell
finds both in the course's folder, or fetches them (Colab), and its self-check cell loads the
checks of its exercises (``use_checks``). ``check("ex3")`` then runs exercise 3's check, and
``check()`` every check so far. The grader uses this same package, so your self-check and your
grade agree: the same hand-over, the same replay, the same messages.

A check never judges your objects themselves. It judges what they hand over as plain data
(tensors, numbers, a model's layers and weights and traced forward pass, a figure's lines and
points), rebuilt into fresh objects, exactly as the grader does in a process of its own. Its
modules are laid out by whom each trusts:

* ``handover`` and ``tracing`` run in the student's kernel, where nothing is trusted: they turn
  the variables an exercise reads into plain data;
* ``rebuild``, ``replay`` and ``vocabulary`` are the checker's trust boundary: they make fresh
  objects from that data and replay a forward pass with a closed vocabulary, judging each step by
  its effect; they import nothing from the kernel's side;
* this module registers the checks (``exercise``, ``expect``), judges an exercise (``judge``) and
  runs it in a notebook (``check``), with what the checks are written with.
"""

import math
import signal
import sys
from pathlib import Path

import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader

from self_check.rebuilder import HANDOVER_LIMIT_BYTES as HANDOVER_LIMIT_BYTES
from self_check.rebuilder import load_handover, rebuild
from self_check.replay import HandedOverModule as HandedOverModule
from self_check.replay import MalformedHandover, refusals, unjudgeable
from self_check.replay import Unjudgeable as Unjudgeable
from self_check.replay import warm_up as warm_up

# what a notebook's checks are written with: `from self_check import *` brings these
__all__ = [
    "CheckFailed",
    "DataLoader",
    "EXERCISES",
    "Figure",
    "_accuracy",
    "_array",
    "_assert_optimizes",
    "_expect_boundary",
    "_is_affine",
    "_labels",
    "_logits",
    "_need",
    "_plots_values",
    "_points_and_regions",
    "check",
    "exercise",
    "expect",
    "hidden_part",
    "math",
    "nn",
    "np",
    "torch",
]
_KERNEL_SIDE = ("hand_over", "hand_over_bytes", "HandOverError")  # self_check.handover's, imported when first asked


def __getattr__(name):
    if name in _KERNEL_SIDE:
        from self_check import handover

        return getattr(handover, name)
    raise AttributeError(f"module 'self_check' has no attribute {name!r}")


if "ipykernel" in sys.modules:  # a notebook's kernel: remember the shapes its models are called with, for tracing
    from self_check import tracing

    tracing.record_inputs()


EXERCISES: dict = {}  # name -> {"points", "hint", "reads", "probes", "parts": [{"name", "points", "check", ...}]}
_WHERE_IT_STANDS: dict = {}  # name -> (its result when check(name) ran, {variable: the object it handed over})


def exercise(name, points, hint, reads=(), probes=None, part=""):
    """Register the decorated function as a check of exercise `name`, worth `points`.

    An exercise can be worth several points, split across named parts: one `@exercise(...,
    part="the values")` per part, each judged on its own, so that a part that fails costs its own
    points only. `reads` names the variables the check reads; `probes` maps a function's name to
    the argument tuples the check calls it with (a function is handed over as its results on those).
    """

    def register(check_fn):
        _register(name, {"name": part, "points": points, "hint": hint, "reads": tuple(reads), "check": check_fn})
        EXERCISES[name]["probes"].update(probes or {})
        return check_fn

    return register


def hidden_part(name, part, points, reads=()):
    """Declare a hidden part of exercise `name`: the grader judges it; your notebook only counts it.

    The students' module of checks declares each hidden part this way, with none of its code.
    """
    _register(name, {"name": part, "points": points, "hint": "", "reads": tuple(reads), "check": None})


def _register(name, part):
    entry = EXERCISES.setdefault(name, {"hint": part["hint"], "reads": (), "probes": {}, "parts": []})
    names = [each["name"] for each in entry["parts"]]
    if part["name"] in names:  # the cell ran again: its part is replaced where it stood
        entry["parts"][names.index(part["name"])] = part
    else:
        entry["parts"].append(part)
    entry["reads"] = tuple(dict.fromkeys(variable for each in entry["parts"] for variable in each["reads"]))
    entry["points"] = sum(each["points"] for each in entry["parts"])
    entry["hint"] = entry["hint"] or part["hint"]


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


class CheckTimeout(BaseException):  # not an Exception: a check's own `except Exception` must not swallow it
    """A part of a check ran past the time the grader gives it."""


def _on_alarm(signum, frame):
    raise CheckTimeout


def _failed(part, message, hint):
    return {"passed": False, "part": part, "message": message, "hint": hint}


def run_check(name, values, time_limit=None, part=None):
    """Run a check of exercise `name` (`part`: its part, by default its first) on `values`, rebuilt from a hand-over.

    Returns passed, part (where it failed), message and hint. With `time_limit` (seconds), the
    check is stopped when it runs longer, and fails saying so.
    """
    check_part = part or EXERCISES[name]["parts"][0]
    tracker = _ReadTracker(values)
    if time_limit is not None:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        check_part["check"](tracker)
        result = {"passed": True, "part": "", "message": "passed", "hint": ""}
    except CheckFailed as failure:
        result = _failed(failure.part, str(failure), failure.hint)
    except NotImplementedError:
        message = "your code still raises NotImplementedError, the placeholder of an unsolved exercise"
        result = _failed("your code", message, "Replace `raise NotImplementedError` with your code, then run the cell.")
    except CheckTimeout:
        message = f"the check ran longer than {time_limit:g} s and was stopped"
        result = _failed("time limit", message, check_part["hint"])
    except Exception as error:  # a check must report, never crash the notebook
        result = _failed("running the check", f"checking your objects raised {type(error).__name__}: {error}", "")
        result["hint"] = check_part["hint"]
    finally:
        if time_limit is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
    undeclared = sorted(tracker.read - set(check_part["reads"]))
    if undeclared:  # a fault of the course's master, not of the student's: say so loudly
        message = f"the check of {name} reads {undeclared}, which its @exercise(reads=...) does not name"
        hint = "This is a fault in the course's notebook, not in your work: tell your instructor."
        result = _failed("the check itself", message, hint)
    return result


def hand_over_exercise(name, namespace, limit=None, exercises=None):
    """What exercise `name` reads of `namespace`, as the bytes a kernel hands over, or why it could not be.

    `exercises`: the registry the exercise is in (``checks_from``), by default this notebook's.
    """
    from self_check.handover import hand_over_bytes  # the kernel's side, which the checker never imports

    exercise = (EXERCISES if exercises is None else exercises)[name]
    try:
        if limit is None:
            return hand_over_bytes(namespace, exercise["reads"], exercise["probes"])
        return hand_over_bytes(namespace, exercise["reads"], exercise["probes"], limit)
    except Exception as error:  # e.g. over the size limit: this exercise alone fails
        return f"{type(error).__name__}: {error}"[:2000]


def judge(name, handed_over, time_limit=None):
    """Exercise `name`'s result on what was handed over: bytes, or the text of why the hand-over failed.

    Each part of the exercise is judged on its own (with `time_limit` seconds each, when given);
    a hidden part that this notebook only declares is counted, not judged. The result says
    whether every judged part passed, their points, each part's result in `parts`, and, as
    `part`, `message` and `hint`, why the first part that failed did. The grader's checker calls
    this in a process of its own; check() calls it in your notebook.
    """
    parts = EXERCISES[name]["parts"]
    judged = [part for part in parts if part["check"] is not None]
    if isinstance(handed_over, str):
        hint = (
            "Keep to the objects the exercise asks for: tensors, arrays, numbers, lists, dicts, "
            "models built from torch.nn layers, optimizers, figures."
        )
        failure = _failed("handing over your answer", f"your answer could not be handed over: {handed_over}", hint)
        return _summary(name, {part["name"]: failure for part in judged})
    refusals.clear()
    unjudgeable.clear()
    results = {}
    try:
        values = rebuild(load_handover(handed_over))
        for part in judged:
            results[part["name"]] = run_check(name, values, time_limit, part)
            if unjudgeable:  # even when the check caught it: the model could not be run here, which is no verdict
                results[part["name"]] = _not_judged(unjudgeable[0])
                unjudgeable.clear()
    except MalformedHandover as error:
        refusals.append(str(error))
    if refusals:  # even when a check caught the error: what the forward pass asked for was refused
        message = f"what your notebook handed over is malformed: {refusals[0]}"
        failure = _failed("handing over your answer", message, "Run the notebook again from the top in a fresh kernel.")
        results = {part["name"]: failure for part in judged}
    return _summary(name, results)


def _not_judged(reason):
    """A part whose check ran the student's model, which the checker could not replay: not a verdict on the work."""
    return _failed(
        "judging your model", f"your model could not be judged outside your notebook: {reason}", NOT_JUDGED_HINT
    ) | {"unjudgeable": True}


NOT_JUDGED_HINT = (
    "Your model may well be right: the grader runs it from its traced forward pass, and this one could not be "
    "traced. Rewrite the line named above as the message says, run the notebook again and check; "
    "your instructor sees this part marked as not judged, apart from the failures."
)


def _summary(name, results):
    """An exercise's result from its parts' (`results`: part name -> result): all of them, and the first failure."""
    parts = [
        {"name": part["name"], "points": part["points"], "hidden": part["check"] is None}
        | ({"judged": False} if part["check"] is None else {"judged": True, **results[part["name"]]})
        for part in EXERCISES[name]["parts"]
    ]
    judged = [part for part in parts if part["judged"]]
    failed = [part for part in judged if not part["passed"]]
    first = failed[0] if failed else {"part": "", "message": "passed", "hint": ""}
    return {
        "passed": not failed,
        "points": sum(part["points"] for part in judged if part["passed"]),
        "part": first["part"],
        "message": first["message"],
        "hint": first["hint"],
        "unjudgeable": any(part.get("unjudgeable") for part in failed),
        "parts": parts,
    }


def reassigned(seen, namespace):
    """The variables in `seen` (name -> object) that `namespace` no longer holds, or holds as another object."""
    return sorted(name for name, value in seen.items() if name not in namespace or namespace[name] is not value)


def _points(points):
    return f"{points:g} point{'s' * (points != 1)}"


class CheckReport:
    """The outcome of check(): one row per exercise, shown as PASS/FAIL lines."""

    def __init__(self, rows):
        self.rows = rows  # (name, result now, result where it stands or None, variables reassigned since)
        # the grader keeps what an exercise scored where it stands
        self.score = sum((then or now)["points"] for name, now, then, _ in rows)
        self.max_score = sum(_judged_points(name) for name, *_ in rows)
        self.hidden_points = sum(EXERCISES[name]["points"] - _judged_points(name) for name, *_ in rows)

    def __repr__(self):
        lines = []
        for name, now, then, changed in self.rows:
            lines += _exercise_lines(name, now, then, changed)
        if len(self.rows) > 1:
            hidden = f" (and {_points(self.hidden_points)} of hidden parts, judged when graded)"
            lines.append(f"score: {self.score:g}/{self.max_score:g}{hidden if self.hidden_points else ''}")
        return "\n".join(lines)


def _judged_points(name):
    return sum(part["points"] for part in EXERCISES[name]["parts"] if part["check"] is not None)


def _exercise_lines(name, now, then, changed):
    """The lines check() shows for one exercise: PASS or FAIL, each failing part's reason and hint."""
    official = then or now
    parts = [part for part in official["parts"] if part["judged"]]
    hidden = [part for part in official["parts"] if not part["judged"]]
    earned = _points(_judged_points(name)) if official["passed"] else None
    if official["passed"] and now["passed"]:
        lines = [f"{name}: PASS ({earned})"]
    elif official["passed"]:
        since = f"`{'`, `'.join(changed)}` changed" if changed else "its objects changed"
        lines = [
            f"{name}: PASS where it stands ({earned}). Since then {since}, so it would fail now "
            f"({now['part']}: {now['message']}). An exercise is graded right after its own cells, "
            f"so it keeps its point{'s' * (_judged_points(name) != 1)}."
        ]
    elif len(parts) == 1:
        verdict = "NOT JUDGED" if official.get("unjudgeable") else "FAIL"
        lines = [f"{name}: {verdict} at {official['part']}: {official['message']}\n     hint: {official['hint']}"]
    else:
        lines = [f"{name}: {official['points']:g} of {_points(_judged_points(name))}"]
        for part in parts:
            failed = "NOT JUDGED" if part.get("unjudgeable") else "FAIL"
            verdict = (
                "PASS"
                if part["passed"]
                else f"{failed} at {part['part']}: {part['message']}\n       hint: {part['hint']}"
            )
            lines.append(f"   {part['name']} ({_points(part['points'])}): {verdict}")
    if not official["passed"] and then is not None and now["passed"]:
        lines.append(
            f"     It passes now, so a later cell fixed it; it is graded where check({name!r}) "
            "stands: move the fix into the exercise's cells, or run its check again after the fix."
        )
    if hidden:
        worth = _points(sum(part["points"] for part in hidden))
        count = f"{len(hidden)} hidden part{'s' * (len(hidden) != 1)}"
        lines.append(f"     and {count} worth {worth}, judged only when your notebook is graded")
    return lines


def check(name=None):
    """Check exercise `name` (e.g. "ex3") where it stands, or, with no name, every exercise defined so far."""
    namespace = sys._getframe(1).f_globals  # the notebook's variables: check() is called from one of its cells
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


def checks_from(code):
    """The exercises that checks ``code`` registers, apart from those this process registered before."""
    global EXERCISES
    before, EXERCISES = EXERCISES, {}
    try:
        exec(compile(code, "<course checks>", "exec"), {"__name__": "__course_checks__"})
        return EXERCISES
    finally:
        EXERCISES = before


class LoadedChecks(list):
    """The names of the exercises ``use_checks`` loaded, shown as one line in the notebook."""

    def __repr__(self):
        return f"the self-check is ready: {len(self)} exercises ({', '.join(self)}); check('{self[0]}') runs one"


def use_checks(path):
    """Load the checks of an exercise notebook from ``path``, relative to the course's folder (this file's)."""
    file = Path(__file__).resolve().parent.parent / path  # the course's folder holds this package
    namespace = {"__name__": "__course_checks__", "__file__": str(file)}
    exec(compile(file.read_text(encoding="utf-8"), str(file), "exec"), namespace)
    return LoadedChecks(EXERCISES)

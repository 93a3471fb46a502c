"""The course's self-check: your answers handed over as data, rebuilt, and judged by the exercise's checks.

An exercise notebook imports this package as it imports ``helper_functions.py``: its setup cell
finds both in the course's folder, or fetches them (Colab), and its self-check cell loads the
checks of its exercises (``use_checks``). ``check("ex3")`` then runs exercise 3's check, and
``check()`` every check so far, with the score the grader gives. The grader uses this same
package, so your self-check and your grade agree: the same hand-over, the same replay, the same
messages and hints.

A check never judges your objects themselves. It judges what they hand over as plain data
(tensors, numbers, a model's layers and weights and traced forward pass, a figure's lines and
points), rebuilt into fresh objects, exactly as the grader does in a process of its own. Its
modules are laid out by whom each trusts:

* ``handover`` and ``tracing`` run in the student's kernel, where nothing is trusted: they turn
  the variables an exercise reads into plain data;
* ``rebuilder``, ``replay`` and ``vocabulary`` are the checker's trust boundary: they make fresh
  objects from that data and replay a forward pass with a closed vocabulary, judging each step by
  its effect; ``judging`` runs the checks on them; none imports anything of the kernel's side;
* ``library`` is what check authors write checks with (``grading/README.md`` documents it), and
  this module is the notebook's: ``check()``, ``use_checks()``, and ``from self_check import *``.
"""

import math
import sys
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.utils.data import DataLoader

from self_check import library
from self_check.judging import EXERCISES, CheckFailed, exercise, expect, hidden_part, judge, summarised
from self_check.judging import checks_from as checks_from
from self_check.judging import hint_for as hint_for
from self_check.library import *  # noqa: F403  (the authors' library, for `from self_check import *`)
from self_check.rebuilder import HANDOVER_LIMIT_BYTES as HANDOVER_LIMIT_BYTES
from self_check.replay import HandedOverModule as HandedOverModule
from self_check.replay import MalformedHandover as MalformedHandover
from self_check.replay import Unjudgeable as Unjudgeable
from self_check.replay import warm_up as warm_up

# what a notebook's checks are written with: `from self_check import *` brings these
__all__ = [
    "CheckFailed",
    "DataLoader",
    "EXERCISES",
    "Figure",
    "check",
    "exercise",
    "expect",
    "hidden_part",
    "math",
    "nn",
    "np",
    "torch",
    *library.__all__,
]
# the kernel's side (self_check.handover): a kernel imports it at once, others when first asked (the checker never)
_KERNEL_SIDE = ("hand_over", "hand_over_bytes", "HandOverError", "hand_over_exercise", "reassigned")


def __getattr__(name):
    if name in _KERNEL_SIDE:
        from self_check import handover

        return getattr(handover, name)
    raise AttributeError(f"module 'self_check' has no attribute {name!r}")


if "ipykernel" in sys.modules:  # a notebook's kernel: remember the shapes its models are called with, for tracing
    # The whole kernel side is loaded now, from the files the notebook started with: a later cell may delete
    # or change its folder's copies of the course, and must not change how its answers are handed over.
    from self_check import handover as handover
    from self_check import tracing

    tracing.record_inputs()

_WHERE_IT_STANDS: dict = {}  # name -> (its result when check(name) ran, {variable: the object it handed over})


def _points(points):
    return f"{points:g} point{'s' * (points != 1)}"


def official(now, then):
    """What an exercise scores: each part as judged where its check ran (``then``), and a part that was registered
    only after that, such as a hidden part whose cell comes below the check's, as judged ``now``."""
    if then is None:
        return now
    judged_then = {part["name"]: part for part in then["parts"] if part["judged"]}
    return summarised([judged_then.get(part["name"], part) if part["judged"] else part for part in now["parts"]])


class CheckReport:
    """The outcome of check(): one row per exercise, shown as PASS/FAIL lines, and the score the grader gives."""

    def __init__(self, rows):
        self.rows = rows  # (name, result now, result where it stands or None, variables reassigned since)
        # the grader keeps what an exercise scored where it stands; the score and its maximum count the same parts
        self.score = sum(official(now, then)["points"] for name, now, then, _ in rows)
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
    official_result = official(now, then)
    parts = [part for part in official_result["parts"] if part["judged"]]
    hidden = [part for part in official_result["parts"] if not part["judged"]]
    earned = _points(_judged_points(name)) if official_result["passed"] else None
    if official_result["passed"] and now["passed"]:
        lines = [f"{name}: PASS ({earned})"]
    elif official_result["passed"]:
        since = f"`{'`, `'.join(changed)}` changed" if changed else "its objects changed"
        lines = [
            f"{name}: PASS where it stands ({earned}). Since then {since}, so it would fail now "
            f"({now['part']}: {now['message']}). An exercise is graded right after its own cells, "
            f"so it keeps its point{'s' * (_judged_points(name) != 1)}."
        ]
    elif len(parts) == 1:
        verdict = "NOT JUDGED" if official_result.get("unjudgeable") else "FAIL"
        failed = official_result
        lines = [f"{name}: {verdict} at {failed['part']}: {failed['message']}\n     hint: {failed['hint']}"]
    else:
        lines = [f"{name}: {official_result['points']:g} of {_points(_judged_points(name))}"]
        for part in parts:
            failed = "NOT JUDGED" if part.get("unjudgeable") else "FAIL"
            verdict = (
                "PASS"
                if part["passed"]
                else f"{failed} at {part['part']}: {part['message']}\n       hint: {part['hint']}"
            )
            lines.append(f"   {part['name']} ({_points(part['points'])}): {verdict}")
    if not official_result["passed"] and then is not None and now["passed"]:
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
    from self_check.handover import hand_over_exercise, reassigned  # the kernel's side: the checker never calls this

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

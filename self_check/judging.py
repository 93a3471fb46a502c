"""The checks: registered by an exercise's master, run on a rebuilt hand-over, their result per part.

``exercise`` registers an exercise's check (a part of it), ``hidden_part`` declares a part only the
grader runs, ``expect`` fails a check with what it was about, a message and a hint, and ``judge``
gives an exercise's result on handed-over bytes: the grader's checker calls it in a process of its
own, and ``check()`` in the student's notebook, so that both say the same. It reads the bytes with
``self_check.rebuilder`` and nothing of the kernel's side.
"""

import signal

from self_check.rebuilder import load_handover, rebuild
from self_check.replay import MalformedHandover, refusals, unjudgeable

EXERCISES: dict = {}  # name -> {"points", "hint", "reads", "probes", "parts": [{"name", "points", "check", ...}]}


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
    """A check failed: ``about`` says what it was about, the message what was expected and found."""

    def __init__(self, about, message, hint=""):
        super().__init__(message)
        self.about, self.hint = about, hint


def expect(condition, about, message, hint=""):
    """Fail the check when ``condition`` is false: ``about`` names what failed (```loss_fn```, "the learning
    rate"), ``message`` says what was expected and what was found, ``hint`` how to fix it (by default the
    hint of the ``@exercise`` part).
    """
    if not condition:
        raise CheckFailed(about, message, hint)


def hint_for(given, part_hint="", exercise_hint=""):
    """The hint a failed part shows, in the notebook as in the grader's feedback: the check's own, else its part's,
    else its exercise's."""
    return given or part_hint or exercise_hint


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
        result = _failed(failure.about, str(failure), failure.hint)
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
            results[part["name"]] = _with_hints(name, part, run_check(name, values, time_limit, part))
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


def _with_hints(name, part, result):
    """``result`` of ``part``, with the hint the student is shown (``hint_for``)."""
    return result | {"hint": hint_for(result.get("hint", ""), part["hint"], EXERCISES[name]["hint"])}


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
    return summarised(parts)


def summarised(parts):
    """An exercise's result from each of its parts' (``parts``): whether all judged passed, their points, the first
    failure's reason."""
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


def checks_from(code):
    """The exercises that checks ``code`` registers, apart from those this process registered before."""
    global EXERCISES
    before, EXERCISES = EXERCISES, {}
    try:
        exec(compile(code, "<course checks>", "exec"), {"__name__": "__course_checks__"})
        return EXERCISES
    finally:
        EXERCISES = before

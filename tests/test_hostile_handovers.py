"""Wall 1 against the hostile hand-over corpus: each case fails its exercise alone, with a clear reason.

Every case of ``hostile_handovers.py`` is one exercise's hand-over, judged in one checker started as
the grader starts one, beside honest exercises handed over before and after them (one of
them a by-hand model that reads its own tensors in forward()). Each hostile
exercise fails as malformed with its reason; every honest one still passes; and a check that
catches the refusal itself still fails, because the refusal was recorded.
"""

from __future__ import annotations

import base64
import io
import re
import sys

import pytest
import torch
from hostile_handovers import CASES, by_hand, honest, node, step, with_steps

from grading.checker.judge import judge_submission
from grading.checks import CHECKS_HEADER

HONEST = ("honest_first", "honest_by_hand", "honest_last")
# a check that runs the model and swallows whatever it raises: the refusal must still fail it
SWALLOWS = "swallows_errors"

CHECKS = f"""
import torch
from torch import nn


def _runs(ns):
    if "model" in ns:  # as the course's checks run a model: model_logits, in inference mode
        logits = model_logits(need(ns, "model", nn.Module), torch.zeros(4, 2))
        expect(tuple(logits.shape) == (4, 1), "the output", f"the output has shape {{tuple(logits.shape)}}", "-")
    else:
        need(ns, "answer")


for _name in {[*HONEST, *CASES]!r}:
    exercise(_name, points=1, hint="-", reads=("model", "answer"))(_runs)


@exercise({SWALLOWS!r}, points=1, hint="-", reads=("model",))
def check_swallows(ns):
    try:
        ns["model"](torch.zeros(4, 2))
    except Exception:
        pass
"""


def encoded(handed: dict | bytes) -> dict:
    if isinstance(handed, dict):
        buffer = io.BytesIO()
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(20_000)  # the deeply nested cases are deeper than pickle's default recursion
        try:
            torch.save(handed, buffer)
        finally:
            sys.setrecursionlimit(limit)
        handed = buffer.getvalue()
    return {"data": base64.b64encode(handed).decode()}


@pytest.fixture(scope="module")
def judged():
    handovers = {name: encoded(by_hand() if name == "honest_by_hand" else honest()) for name in HONEST}
    handovers |= {name: encoded(build()) for name, (build, _) in CASES.items()}
    handovers[SWALLOWS] = encoded(with_steps(step("call_function", "builtins.getattr", node(0), "numpy")))
    code = CHECKS_HEADER + CHECKS
    return judge_submission(code, {"where_it_stands": handovers}, 30.0, 8 * 2**30, 96 * 2**20)["where_it_stands"]


@pytest.mark.parametrize("name", list(CASES))
def test_each_hostile_handover_fails_its_exercise_as_malformed_saying_why(judged, name):
    result = judged[name]
    assert not result["passed"] and result["part"] == "handing over your answer", result
    assert re.search(CASES[name][1], result["message"]), result["message"]


def test_the_honest_exercises_beside_them_keep_their_verdicts(judged):
    assert all(judged[name]["passed"] for name in HONEST), {name: judged[name] for name in HONEST}


def test_a_refusal_fails_the_exercise_even_when_the_check_swallows_it(judged):
    result = judged[SWALLOWS]
    assert not result["passed"] and "reads 'numpy' of a Tensor" in result["message"], result

"""The hostile hand-over corpus: data that no honest kernel writes, one case per way into the checker.

Every case is what a kernel hands over for one exercise: the plain data of a two-layer model of
the student's own class (``TwoLayers``, as Assignment 6's ``CircleModelV0``) with a few more steps
in its forward pass, or other values, or bytes. Each names the reason the checker must give when
it fails that exercise. ``tests/test_hostile_handovers.py`` judges them all in one checker, beside
honest exercises whose verdicts must not change. The ways in: a callable from an attribute; a
function that calls what it is given; a method on something that is not a tensor; storage and file
methods and functions; huge allocations from constants; a graph of a million steps; deep nesting;
references in a loop; and what the closed vocabulary implies besides (text as a result, writes
into a given tensor, modules and objects as values).

Run: ``python tests/hostile_handovers.py`` lists the cases and their reasons.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Callable

import torch
from torch import nn

from self_check.handover import hand_over
from self_check.rebuilder import HANDOVER_FORMAT


class TwoLayers(nn.Module):
    """An honest model of the student's own class: two linear layers, as Assignment 6's CircleModelV0."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layer_1 = nn.Linear(2, 8)
        self.layer_2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.layer_2(self.layer_1(x))


class ByHand(nn.Module):
    """A model that reads its own tensors in forward(), as the course's by-hand models do."""

    def __init__(self, weights: torch.Tensor, bias: torch.Tensor, weights_as_buffer: bool = False):
        super().__init__()
        if weights_as_buffer:
            self.register_buffer("weights", weights)
        else:
            self.weights = nn.Parameter(weights)
        self.bias = nn.Parameter(bias)

    def forward(self, x):
        return x @ self.weights + self.bias


def node(index: int) -> dict:
    return {"kind": "node", "index": index}


def items(*values, kind: str = "tuple") -> dict:
    return {"kind": kind, "items": list(values)}


def keywords(**values) -> dict:
    return {"kind": "dict", "type": "dict", "items": [[key, value] for key, value in values.items()]}


def step(op: str, target: str, *args, **kwargs) -> dict:
    return {"op": op, "target": target, "args": items(*args), "kwargs": keywords(**kwargs)}


def by_hand() -> dict:
    """The plain data an honest kernel hands over for a by-hand model whose bias is zero: a ``ByHand``."""
    torch.manual_seed(0)
    return hand_over({"model": ByHand(torch.randn(2, 1), torch.zeros(1))}, ["model"])


def steps_of(plain: dict, graph: int = 0) -> list:
    """The steps of the first model's traced forward pass (its first graph), to change in place."""
    return plain["objects"][0]["graphs"][graph]["steps"]


def honest() -> dict:
    """The plain data an honest kernel hands over for ``model``: a ``TwoLayers``."""
    return hand_over({"model": TwoLayers()}, ["model"])


def with_steps(*extra: dict) -> dict:
    """``honest()`` with ``extra`` steps after the input (node 0) and before the two layers, which still run."""
    plain = honest()
    count = len(extra)
    steps_of(plain)[:] = [
        step("placeholder", "x"),
        *extra,
        step("call_module", "layer_1", node(0)),
        step("call_module", "layer_2", node(count + 1)),
        step("output", "output", node(count + 2)),
    ]
    return plain


def with_value(value) -> dict:
    """A hand-over of ``answer``, plain data built by hand."""
    return {"format": HANDOVER_FORMAT, "values": {"answer": value}, "objects": []}


def nested(depth: int) -> dict:
    value: dict = items(1, kind="list")
    for _ in range(depth):
        value = items(value, kind="list")
    return value


def _loop() -> dict:
    plain = honest()
    layer = plain["objects"][0]["children"][0][1]["id"]  # layer_1: a Linear, which will hold the model
    plain["objects"][layer]["children"] = [["back", {"kind": "ref", "id": 0}]]
    plain["objects"][layer]["torch_class"] = "Sequential"
    plain["objects"][layer]["settings"] = None
    return plain


def _zero_stride_constant() -> dict:
    plain = honest()
    plain["objects"].append({"kind": "tensor", "data": torch.zeros(1).expand(10**9), "device": "cpu"})
    constant = {"kind": "ref", "id": len(plain["objects"]) - 1}
    steps_of(plain).insert(1, {"op": "constant", "target": "", "args": items(constant), "kwargs": keywords()})
    for later in steps_of(plain)[2:]:  # what came after moved one step on
        later["args"]["items"] = [
            node(a["index"] + 1) if a.get("kind") == "node" else a for a in later["args"]["items"]
        ]
    return plain


def _write_into_a_constant() -> dict:
    """A constant of the forward pass written in place: the next call would compute with what this one wrote."""
    plain = with_steps(
        {"op": "constant", "target": "", "args": items({"kind": "ref", "id": -1}), "kwargs": keywords()},
        step("call_method", "add_", node(1), 1.0),
    )
    plain["objects"].append({"kind": "tensor", "data": torch.zeros(4, 2), "device": "cpu"})
    steps_of(plain)[1]["args"] = items({"kind": "ref", "id": len(plain["objects"]) - 1})
    return plain


def _a_layer_as_value() -> dict:
    layer = honest()["objects"][0]["children"][0][1]  # a reference to layer_1, an nn.Linear
    return with_steps(step("call_function", "operator.add", node(0), layer))


def _unpickler_payload() -> bytes:
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo escaped",))

    buffer = io.BytesIO()
    payload = {"format": HANDOVER_FORMAT, "values": {}, "objects": [Payload()]}
    torch.save(payload, buffer, pickle_protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def _million_steps() -> dict:
    plain = honest()
    same = step("call_function", "torch.relu", node(0))
    steps_of(plain)[:] = [step("placeholder", "x"), *[same] * 1_000_000, step("output", "output", node(1))]
    return plain


# name -> (what the kernel hands over: plain data or bytes, the reason the checker must give)
CASES: dict[str, tuple[Callable[[], dict | bytes], str]] = {
    "callable_from_an_attribute": (
        lambda: with_steps(step("call_function", "builtins.getattr", node(0), "numpy")),
        r"step 1 of TwoLayers.forward \(call_function builtins.getattr\) reads 'numpy' of a Tensor",
    ),
    "attribute_of_a_size": (
        lambda: with_steps(
            step("call_function", "builtins.getattr", node(0), "shape"),
            step("call_function", "builtins.getattr", node(1), "index"),
        ),
        r"step 2 .* reads 'index' of a Size",
    ),
    "function_that_calls_what_it_is_given": (
        lambda: with_steps(step("call_function", "torch.nn.functional.handle_torch_function", "x", items(node(0)))),
        r"calls 'torch.nn.functional.handle_torch_function', which is not among the functions allowed",
    ),
    "function_that_makes_a_caller": (
        lambda: with_steps(step("call_function", "torch.nn.functional.boolean_dispatch", "x", 0, True)),
        r"calls 'torch.nn.functional.boolean_dispatch', which is not among the functions allowed",
    ),
    "method_on_a_size": (
        lambda: with_steps(
            step("call_function", "builtins.getattr", node(0), "shape"), step("call_method", "sum", node(1))
        ),
        r"step 2 .* calls the method 'sum' of a Size; methods are called on tensors only",
    ),
    "storage_method": (
        lambda: with_steps(step("call_method", "untyped_storage", node(0))),
        r"calls the method 'untyped_storage', which is not among a tensor's allowed",
    ),
    "file_method": (
        lambda: with_steps(step("call_method", "numpy", node(0))),
        r"calls the method 'numpy', which is not among a tensor's allowed",
    ),
    "open_a_file": (
        lambda: with_steps(step("call_function", "builtins.open", "escape.pth", "w")),
        r"calls 'builtins.open', which is not among the functions allowed",
    ),
    "file_function": (
        lambda: with_steps(step("call_function", "torch.save", node(0), "evil.pth")),
        r"calls 'torch.save', which is not among the functions allowed",
    ),
    "numpy_function": (
        lambda: with_steps(step("call_function", "numpy.save", "evil", node(0))),
        r"calls 'numpy.save', which is not among the functions allowed",
    ),
    "huge_zeros": (
        lambda: with_steps(step("call_function", "torch.zeros", items(2**20, 2**20))),
        r"would build 1099511627776 elements, over the limit",
    ),
    "huge_arange": (
        lambda: with_steps(step("call_function", "torch.arange", 0, 10**12)),
        r"would build 1000000000000 elements, over the limit",
    ),
    "huge_repeat": (
        lambda: with_steps(step("call_method", "repeat", node(0), 10**6, 10**6)),
        r"step 1 of TwoLayers.forward \(call_method repeat\) would build \d+ elements, over the limit",
    ),
    "huge_sequence": (
        lambda: with_steps(step("call_function", "operator.mul", items(0), 10**9)),
        r"repeats a sequence to more than 1024 items",
    ),
    "huge_power": (
        lambda: with_steps(step("call_function", "operator.pow", 10, 10**9)),
        r"raises an integer to the power 1000000000",
    ),
    "zero_stride_constant": (_zero_stride_constant, r"over the limit|claims more elements than its data holds"),
    "a_million_steps": (_million_steps, r"has 1000002 steps, over the limit of 10000"),
    "deep_nesting": (lambda: with_value(nested(1000)), r"nests lists, dicts and objects more than 32 deep"),
    "deeply_nested_arguments": (
        lambda: with_steps(step("call_function", "torch.add", node(0), nested(1000))),
        r"arguments nested or listed beyond the limits",
    ),
    "references_in_a_loop": (_loop, r"refers back to itself"),
    "text_as_a_result": (
        lambda: with_steps(step("call_function", "operator.getitem", items("abc", kind="list"), 0)),
        r"step 1 .* gives a str; a forward pass may hold only tensors",
    ),
    "a_path_as_text": (
        lambda: with_steps(step("call_function", "torch.add", node(0), "../../site-packages/evil.pth")),
        r"takes the text '../../site-packages/evil.pth', which is not a short name or equation",
    ),
    "a_layer_as_a_value": (_a_layer_as_value, r"gives a Linear; a forward pass may hold only tensors"),
    "write_into_a_parameter_by_keyword": (
        lambda: with_steps(
            step("get_attr", "layer_1.weight"), step("call_function", "torch.add", node(1), 1.0, out=node(1))
        ),
        r"step 2 .* writes into a tensor it did not create \(aten.add.out, argument 'out'\)",
    ),
    "write_into_a_parameter_by_position": (
        lambda: with_steps(
            step("get_attr", "layer_1.weight"),
            step("call_function", "torch.norm", node(0), 2, None, False, node(1)),  # norm's fifth argument is out
        ),
        r"step 2 .* writes into a tensor it did not create",
    ),
    "in_place_on_a_parameter_by_position": (
        lambda: with_steps(
            step("get_attr", "layer_1.bias"), step("call_function", "torch.nn.functional.relu", node(1), True)
        ),
        r"step 2 .* writes into a tensor it did not create \(aten.relu_",
    ),
    "in_place_method_on_a_parameter": (
        lambda: with_steps(step("get_attr", "layer_2.weight"), step("call_method", "mul_", node(1), 0.0)),
        r"step 2 .* writes into a tensor it did not create \(aten.mul_",
    ),
    "write_into_a_constant_of_the_forward_pass": (
        _write_into_a_constant,
        r"step 2 .* writes into a tensor it did not create",
    ),
    "a_layer_read_as_a_tensor": (
        lambda: with_steps(step("get_attr", "layer_1")),
        r"reads 'layer_1', which the module does not have as a tensor",
    ),
    "a_value_not_yet_computed": (
        lambda: with_steps(step("call_function", "torch.relu", node(99))),
        r"uses a value that no earlier step computed",
    ),
    "a_layer_not_listed": (
        lambda: {**honest(), "objects": [{**honest()["objects"][0], "torch_class": "DataParallel"}]},
        r"nn.DataParallel is not one of the torch.nn layers a hand-over may name",
    ),
    "an_object_as_a_number": (
        lambda: with_value({"kind": "npscalar", "dtype": "O", "value": 1}),
        r"a NumPy scalar of object, not of numbers",
    ),
    "code_for_the_unpickler": (_unpickler_payload, r"the hand-over cannot be read"),
}

if __name__ == "__main__":
    for name, (_, reason) in CASES.items():
        print(f"{name:40} {reason}")

"""Wall 1 in this process: every guard of the rebuild and the replay, attacked one by one.

``test_hostile_handovers.py`` judges the hostile corpus in a checker process, as the grader does;
here the same cases, and one attack per guard besides, go through ``self_check.rebuilder`` and the
rebuilt model's forward pass in the test's own process, so that each refusal is seen as the
``MalformedHandover`` it raises, and each honest neighbour of a refused step is seen to run. A
guard that refuses too much fails these tests as surely as one that lets too much through.
"""

from __future__ import annotations

import pytest
import torch
from hostile_handovers import (
    CASES,
    TwoLayers,
    honest,
    items,
    keywords,
    nested,
    node,
    step,
    steps_of,
    with_steps,
    with_value,
)
from torch import nn

from self_check import replay
from self_check.handover import hand_over
from self_check.rebuilder import load_handover, rebuild
from self_check.replay import HandedOverModule, MalformedHandover, ReplayGuard, refusals
from self_check.vocabulary import FUNCTIONS


def replayed(plain: dict | bytes) -> torch.Tensor | None:
    """Rebuild ``plain`` as the checker does, and run the model it holds, if any, on four points, as checks do."""
    values = rebuild(load_handover(plain) if isinstance(plain, bytes) else plain)
    for value in values.values():
        if isinstance(value, nn.Module):
            with torch.inference_mode():  # as the checks' logits() runs a model: no autograd to refuse a write first
                return value(torch.zeros(4, 2))
    return None


@pytest.mark.parametrize("name", list(CASES))
def test_each_hostile_case_is_refused_by_the_rebuild_or_the_replay_itself(name):
    build, reason = CASES[name]
    refusals.clear()
    with pytest.raises(MalformedHandover, match=reason):
        replayed(build())


# one attack per guard: the extra steps, and the refusal they must meet
REFUSED = {
    "zeros_from_one_tuple": ([step("call_function", "torch.zeros", items(2**14, 2**14))], r"would build 268435456"),
    "ones_from_a_list": ([step("call_function", "torch.ones", items(2**14, 2**14, kind="list"))], r"would build"),
    "full_from_a_size": ([step("call_function", "torch.full", items(2**13, 2**14), 1.0)], r"would build 134217728"),
    "arange_by_keywords": ([step("call_function", "torch.arange", end=10**9)], r"would build 1000000000"),
    "arange_with_a_fine_step": ([step("call_function", "torch.arange", 0, 1, 1e-9)], r"would build 1000000000"),
    "pad_to_a_huge_tensor": (
        [step("call_function", "torch.nn.functional.pad", node(0), items(10**5, 10**5, 10**5, 10**5))],
        r"would build \d+ elements, over the limit",
    ),
    "sequence_times_an_int_reversed": (
        [step("call_function", "operator.mul", 10**9, items(0))],
        r"repeats a sequence to more than 1024 items",
    ),
    "sequence_times_in_place": (
        [step("call_function", "operator.imul", items(0, kind="list"), 10**9)],
        r"repeats a sequence to more than 1024 items",
    ),
    "an_expanded_view_over_the_limit": (
        [step("call_method", "expand", node(0), 2**24, 4, 2)],
        r"step 1 .* would build 134217728 elements, over the limit of 67108864",
    ),
    "an_integer_beyond_62_bits": (
        [step("call_function", "operator.mul", 2**40, 2**40)],
        r"gives an integer of 81 bits, over the limit of 62",
    ),
    "a_slice_of_a_huge_integer": (
        [step("call_function", "operator.getitem", node(0), {"kind": "slice", "items": [0, 2**70, None]})],
        r"integer of 71 bits",
    ),
    "lists_nested_deeper_than_eight": (
        [step("call_function", "operator.getitem", items(nested(10), kind="list"), 0)],
        r"gives lists nested more than 8 deep",
    ),
    "a_sequence_over_the_item_limit": (
        [step("call_function", "operator.add", items(*[0] * 1000, kind="list"), items(*[0] * 1000, kind="list"))],
        r"gives a sequence of 2000 items, over the limit of 1024",
    ),
    "an_attribute_with_a_default": (
        [step("call_function", "builtins.getattr", node(0), "shape", None)],
        r"reads an attribute with a default",
    ),
    "an_attribute_named_by_a_value": (
        [step("call_function", "builtins.getattr", node(0), node(0))],
        r"reads a Tensor of a Tensor",
    ),
    "a_function_writing_into_a_parameter_by_keyword": (
        [step("get_attr", "layer_1.weight"), step("call_function", "torch.mul", node(1), 2.0, out=node(1))],
        r"step 2 .* writes into a tensor it did not create \(aten.mul.out",
    ),
    "a_functional_form_in_place_on_a_parameter_by_keyword": (
        [step("get_attr", "layer_1.weight"), step("call_function", "torch.nn.functional.relu", node(1), inplace=True)],
        r"step 2 .* writes into a tensor it did not create \(aten.relu_",
    ),
    "a_view_of_a_parameter_written_in_place": (
        [step("get_attr", "layer_1.weight"), step("call_method", "t", node(1)), step("call_method", "zero_", node(2))],
        r"step 3 .* writes into a tensor it did not create \(aten.zero_",
    ),
    "a_parameter_overwritten_by_copy": (
        [step("get_attr", "layer_2.bias"), step("call_method", "copy_", node(1), 5.0)],
        r"step 2 .* writes into a tensor it did not create",
    ),
    "a_method_of_nothing": ([step("call_method", "sum")], r"calls the method 'sum' of a NoneType"),
    "a_tensor_of_a_missing_layer": ([step("get_attr", "layer_9.weight")], r"reads 'layer_9.weight', which the"),
    "a_missing_tensor": ([step("get_attr", "layer_1.scale")], r"does not have as a tensor"),
    "a_missing_layer": ([step("call_module", "layer_9", node(0))], r"does not have as a layer"),
    "a_constant_that_is_an_object": (
        [{"op": "constant", "target": "", "args": items({"kind": "ref", "id": 1}), "kwargs": keywords()}],
        r"gives a Linear; a forward pass may hold only",
    ),
    "keywords_that_are_not_a_dict": (
        [{"op": "call_function", "target": "torch.relu", "args": items(node(0)), "kwargs": items()}],
        r"has keyword arguments that are not a dict",
    ),
    "a_target_that_is_not_a_name": ([step("get_attr", "layer_1.weight[0]")], r"names 'layer_1.weight\[0\]', which"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_each_guard_of_the_replay_refuses_its_attack_and_records_it(name):
    extra, reason = REFUSED[name]
    refusals.clear()
    with pytest.raises(MalformedHandover, match=reason):
        replayed(with_steps(*extra))
    assert refusals, "a refusal is recorded, so that a check that catches it still fails"


# the honest neighbours of those attacks: each must run, the two layers after it too
ALLOWED = {
    "zeros_of_a_small_size": [step("call_function", "torch.zeros", 3, 4)],
    "arange_by_keywords": [step("call_function", "torch.arange", start=0, end=10, step=2)],
    "arange_with_a_float_step": [step("call_function", "torch.arange", 0.0, 1.0, 0.25)],
    "pad_that_fits": [step("call_function", "torch.nn.functional.pad", node(0), items(1, 1))],
    "a_small_repeat": [step("call_method", "repeat", node(0), 2, 3)],
    "a_short_sequence_product": [step("call_function", "operator.mul", 3, items(0, 1))],
    "a_small_integer_power": [step("call_function", "operator.pow", 2, 62)],
    "in_place_add_on_its_own_value": [
        step("call_function", "operator.mul", node(0), 2.0),
        step("call_function", "operator.iadd", node(1), 1.0),
        step("call_function", "torch.nn.functional.relu", node(2), inplace=True),
    ],
    "the_shape_of_the_input": [
        step("call_function", "builtins.getattr", node(0), "shape"),
        step("call_function", "operator.getitem", node(1), 0),
    ],
    "a_slice_of_the_input": [
        step(
            "call_function",
            "operator.getitem",
            node(0),
            items({"kind": "ellipsis"}, {"kind": "slice", "items": [None, 2, None]}),
        ),
    ],
    "a_named_tuple_from_max": [
        step("call_method", "max", node(0), 1),
        step("call_function", "operator.getitem", node(1), 0),
    ],
    "an_einsum_equation": [step("call_function", "torch.einsum", "ij,ij->i", node(0), node(0))],
    "a_read_parameter": [
        step("get_attr", "layer_1.weight"),
        step("call_function", "torch.nn.functional.linear", node(0), node(1)),
    ],
}


@pytest.mark.parametrize("name", list(ALLOWED))
def test_an_honest_step_beside_each_guard_still_runs(name):
    refusals.clear()
    logits = replayed(with_steps(*ALLOWED[name]))
    assert logits is not None and logits.shape == (4, 1) and not refusals
    assert torch.equal(logits, TwoLayers()(torch.zeros(4, 2)))


def test_a_write_into_the_input_changes_what_the_replay_computes_as_in_the_kernel_never_the_callers_tensor():
    """``x += 1`` in forward(): the replay adds into its own copy of the input, so the caller's tensor is untouched."""
    caller = torch.zeros(4, 2)
    plain = with_steps(step("call_function", "operator.iadd", node(0), 1.0))  # the layers then read the changed x
    values = rebuild(plain)
    with torch.inference_mode():
        logits = values["model"](caller)
    assert torch.equal(logits, TwoLayers()(torch.ones(4, 2)))
    assert torch.equal(caller, torch.zeros(4, 2))


def test_with_autograd_on_torch_refuses_a_write_into_a_parameter_first_and_nothing_is_written():
    """A check that runs a model outside inference mode: autograd refuses the write before the guard sees it."""
    plain = with_steps(step("get_attr", "layer_1.weight"), step("call_method", "mul_", node(1), 0.0))
    model = rebuild(plain)["model"]
    before = model.layer_1.weight.detach().clone()
    with pytest.raises(RuntimeError, match="in-place operation"):
        model(torch.zeros(4, 2))
    assert torch.equal(model.layer_1.weight.detach(), before)


def test_out_by_position_into_the_input_writes_nothing_the_check_holds():
    caller = torch.randn(4, 2)
    before = caller.clone()
    plain = with_steps(step("call_function", "torch.norm", node(0), 2, None, False, node(0)))  # out: the input
    with torch.inference_mode(), pytest.raises(RuntimeError, match="at least 1D"):  # the copy became a number
        rebuild(plain)["model"](caller)
    assert torch.equal(caller, before)


BUILDERS = [
    ("torch.zeros", (3, 4), {}),
    ("torch.ones", ((3, 4),), {}),
    ("torch.full", ((2, 5), 1.0), {}),
    ("torch.arange", (7,), {}),
    ("torch.arange", (2, 9, 3), {}),
    ("torch.arange", (), {"start": 1.0, "end": 2.0, "step": 0.3}),
    ("torch.nn.functional.pad", (torch.zeros(4, 2), (1, 2, 3, 4)), {}),
    ("torch.cat", ([torch.zeros(4, 2)] * 5,), {}),
    ("torch.Tensor.repeat", (torch.zeros(4, 2), 2, 3), {}),
    ("torch.Tensor.new_full", (torch.zeros(4, 2), (6, 7), 1.0), {}),
]


@pytest.mark.parametrize(("target", "args", "kwargs"), BUILDERS, ids=[f"{t}-{i}" for i, (t, *_) in enumerate(BUILDERS)])
def test_the_guard_works_out_the_size_that_torch_then_builds(monkeypatch, target, args, kwargs):
    """The guard works out a result's size on the meta device, before anything is built: exactly what torch builds."""
    function = FUNCTIONS.get(target) or getattr(torch.Tensor, target.rsplit(".", 1)[1])
    size = function(*args, **kwargs).numel()
    monkeypatch.setattr(replay, "MAX_ELEMENTS", size)
    with ReplayGuard(), torch.inference_mode():
        assert function(*args, **kwargs).numel() == size  # at the limit: built
    monkeypatch.setattr(replay, "MAX_ELEMENTS", size - 1)
    with pytest.raises(MalformedHandover, match=f"would build {size} elements"), ReplayGuard():
        function(*args, **kwargs)


@pytest.mark.parametrize(
    "extra",
    [
        [step("call_function", "torch.zeros", 2.5)],
        [step("call_function", "torch.arange", 0, 10, 0)],
        [step("call_function", "torch.arange", 0, "ten")],
        [step("call_function", "torch.nn.functional.pad", node(0), items(1))],
    ],
    ids=["zeros_of_a_float_size", "arange_with_step_zero", "arange_of_text", "pad_of_odd_widths"],
)
def test_what_torch_refuses_itself_is_refused_before_anything_is_built(extra):
    refusals.clear()
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        replayed(with_steps(*extra))


class Scaled(nn.Module):
    """A forward pass with a default argument: the trace keeps the default in its placeholder step."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def forward(self, x, scale=2.0):
        return self.layer(x) * scale


def test_a_forward_pass_takes_its_arguments_by_position_keyword_or_default():
    model = Scaled()
    rebuilt = rebuild(hand_over({"model": model}, ["model"]))["model"]
    x = torch.randn(3, 2)
    assert torch.equal(rebuilt(x), model(x))
    assert torch.equal(rebuilt(x, 3.0), model(x, 3.0))
    assert torch.equal(rebuilt(x=x, scale=0.5), model(x=x, scale=0.5))
    with pytest.raises(TypeError, match=r"Scaled.forward\(\) is missing its argument 'x'"):
        rebuilt()


def test_a_forward_pass_without_an_output_step_is_refused():
    plain = honest()
    steps_of(plain)[:] = steps_of(plain)[:-1]
    with pytest.raises(MalformedHandover, match=r"TwoLayers.forward has no output step"):
        replayed(plain)


def test_a_refused_forward_pass_fails_only_when_called_and_keeps_its_layers():
    rebuilt = rebuild(with_steps(step("call_function", "os.system", "true")))["model"]
    assert isinstance(rebuilt, HandedOverModule) and isinstance(rebuilt.layer_1, nn.Linear)
    refusals.clear()
    for _ in range(2):  # refused each time it is called, and recorded each time
        with pytest.raises(MalformedHandover, match="calls 'os.system', which is not among the functions allowed"):
            rebuilt(torch.zeros(4, 2))
    assert len(refusals) == 2


# ------------------------------------------------------------------------ the rebuild's structure
def first_layer(plain: dict) -> dict:
    return plain["objects"][plain["objects"][0]["children"][0][1]["id"]]


def tensor_object(plain: dict, value) -> dict:
    plain["objects"].append({"kind": "tensor", "data": value, "device": "cpu"})
    return {"kind": "ref", "id": len(plain["objects"]) - 1}


def _mangled(change) -> dict:
    plain = honest()
    change(plain)
    return plain


MALFORMED = {
    "objects_not_a_list": (lambda p: p.update(objects={}), r"has no list of objects"),
    "values_not_a_dict": (lambda p: p.update(values=[]), r"has no values"),
    "a_value_of_a_foreign_kind": (lambda p: p["values"].update(model={1, 2}), r"unexpected set in the hand-over"),
    "an_object_of_an_unknown_kind": (lambda p: p["objects"][0].update(kind="socket"), r"unknown kind 'socket'"),
    "a_child_that_is_a_tensor": (
        lambda p: p["objects"][0]["children"].append(["extra", tensor_object(p, torch.zeros(1))]),
        r"the child 'extra' of a module is not a module",
    ),
    "a_parameter_that_is_a_number": (
        lambda p: first_layer(p)["parameters"].append(["scale", 3]),
        r"the parameter 'scale' of a module is not a tensor",
    ),
    "a_parameter_that_is_a_plain_tensor": (
        lambda p: first_layer(p)["parameters"].append(["scale", tensor_object(p, torch.zeros(1))]),
        r"the parameter 'scale' of a module is not a parameter",
    ),
    "a_weight_of_another_shape": (
        lambda p: first_layer(p)["parameters"].__setitem__(0, ["weight", tensor_object(p, torch.zeros(3, 3))]),
        r"Linear.weight has shape \(3, 3\), but the layer its settings build has \(8, 2\)",
    ),
    "settings_not_a_dict": (lambda p: first_layer(p).update(settings=[1]), r"a layer's settings are not a dict"),
    "settings_that_build_nothing": (
        lambda p: first_layer(p)["settings"].update(in_features="many"),
        r"nn.Linear cannot be built from its settings",
    ),
    "a_tensor_of_a_sparse_layout": (
        lambda p: p["values"].update(extra=tensor_object(p, torch.eye(2).to_sparse())),
        r"only dense tensors are handed over",
    ),
    "a_tensor_over_the_limit": (
        lambda p: p["values"].update(extra=tensor_object(p, torch.zeros(2**26 + 1, dtype=torch.bool))),
        r"a tensor of 67108865 elements, over the limit",
    ),
    "a_tensor_that_is_not_one": (
        lambda p: (
            p["values"].update(extra={"kind": "ref", "id": len(p["objects"])})
            or p["objects"].append({"kind": "tensor", "data": [1.0], "device": "cpu"})
        ),
        r"expected a tensor, found list",
    ),
    "a_dtype_that_is_a_function": (
        lambda p: p["values"].update(extra={"kind": "dtype", "name": "load"}),
        r"torch.load is not a dtype",
    ),
    "a_dict_keyed_by_a_tensor": (
        lambda p: p["values"].update(extra={"kind": "dict", "items": [[{"kind": "list", "items": [{}]}, 1]]}),
        r"unexpected dict|not a number, a string or a tuple",
    ),
    "pairs_that_are_not_pairs": (
        lambda p: p["objects"][0].update(children=[["a", "b", "c"]]),
        r"expected pairs for 'children'",
    ),
    "text_that_is_not_text": (lambda p: p["objects"][0].update(**{"class": 7}), r"expected text for 'class'"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_each_malformed_structure_is_refused_with_its_reason(name):
    change, reason = MALFORMED[name]
    with pytest.raises(MalformedHandover, match=reason):
        replayed(_mangled(change))


def test_plain_kinds_round_trip_as_themselves():
    values = {
        "window": slice(1, None, 2),
        "everything": Ellipsis,
        "steps": range(0, 10, 3),
        "layout": torch.channels_last,
        "shape": torch.Size([2, 3]),
        "where": torch.device("cpu"),
    }
    assert rebuild(hand_over(values, list(values))) == values


def test_a_tensor_handed_over_from_a_gpu_arrives_on_the_cpu_where_the_checker_has_none(monkeypatch):
    """The kernel may run on a GPU and the checker not: both branches, on any machine."""
    plain = with_value({"kind": "ref", "id": 0})
    plain["objects"] = [{"kind": "tensor", "data": torch.ones(2), "device": "cuda:0", "requires_grad": False}]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert rebuild(plain)["answer"].device == torch.device("cpu")
    moved = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.Tensor, "to", lambda self, device: moved.append(str(device)) or self)
    rebuild(plain)
    assert moved == ["cuda:0"]  # with a GPU the checker keeps the tensor where the kernel had it

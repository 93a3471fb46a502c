"""The trust boundary: answers handed over as plain data, and rebuilt in the checker without running sender code.

``self_check``'s hand-over runs in the student's kernel; its rebuild in the checker. Every test
here hands values over and rebuilds them, as the grader and the self-check do, and compares the
rebuilt objects with the originals; the rest feed the checker data that no honest kernel writes, and
expect it refused without anything of it run.
"""

from __future__ import annotations

import io
import json
import os
import pickle

import matplotlib
import numpy as np
import pytest
import torch
import torch.export
import torch.fx
from hostile_handovers import ByHand
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler, TensorDataset

from grading.kernel import tamper_probe
from helper_functions import plot_decision_boundary
from self_check import handover, rebuilder, replay, tracing
from self_check.handover import HandOverError, hand_over, hand_over_bytes
from self_check.rebuilder import HANDOVER_FORMAT, NotHandedOver, load_handover, rebuild
from self_check.replay import HandedOverModule, MalformedHandover, refusals

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def round_trip(probes=None, **values):
    """``values`` handed over as bytes and rebuilt, as the checker sees them."""
    return rebuild(load_handover(hand_over_bytes(values, list(values), probes)))


class CircleModel(nn.Module):
    """A model of the student's own class: its forward pass uses functions, methods and indexing."""

    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear(2, 8)
        self.layer_2 = nn.Linear(8, 1)
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.unused = nn.Linear(3, 3)  # counted among its layers, though forward() never calls it

    def forward(self, x):
        hidden = torch.relu(self.layer_1(x)).view(x.shape[0], -1)
        return (self.layer_2(nn.functional.dropout(hidden, 0.1, self.training)) * self.scale).squeeze(dim=1)


class TinyVGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1),
            nn.BatchNorm2d(4),
            nn.LeakyReLU(0.2),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(4 * 14 * 14, 10))

    def forward(self, x):
        return self.classifier(self.block(x))


# ---------------------------------------------------------------- what is handed over comes back the same
@pytest.mark.parametrize("model", [CircleModel(), nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))])
def test_a_model_is_rebuilt_with_its_layers_weights_mode_and_forward(model):
    torch.manual_seed(0)
    model.eval()
    rebuilt = round_trip(model=model)["model"]
    assert [type(m).__name__ for m in rebuilt.modules()] == [type(m).__name__ for m in model.modules()]
    assert all(
        isinstance(a, type(b)) for a, b in zip(rebuilt.modules(), model.modules(), strict=True) if b is not model
    )
    assert rebuilt.training is False and not any(m.training for m in rebuilt.modules())
    X = torch.randn(16, 2)
    with torch.no_grad():
        assert torch.equal(rebuilt(X), model(X))
    assert {name for name, _ in rebuilt.named_parameters()} == {name for name, _ in model.named_parameters()}


@pytest.mark.parametrize(
    ("weights", "bias", "weights_as_buffer"),
    [
        (torch.randn(2, 1), torch.randn(1), False),
        (torch.zeros(1, 1), torch.zeros(1), False),
        (torch.full((1, 1), 3.0), torch.ones(1), False),
        (torch.randn(2, 1), torch.zeros(1), True),
    ],
    ids=["many-valued", "single-and-zero", "single-not-zero", "a-buffer-in-its-place"],
)
def test_a_model_that_reads_its_own_tensors_in_forward_is_rebuilt_and_computes_the_same(
    weights, bias, weights_as_buffer
):
    model = ByHand(weights, bias, weights_as_buffer)
    rebuilt = round_trip(model=model)["model"]
    x = torch.randn(5, weights.shape[0])
    assert torch.equal(rebuilt(x), model(x))
    registry = rebuilt._buffers if weights_as_buffer else rebuilt._parameters
    assert torch.equal(registry["weights"], weights) and torch.equal(rebuilt.bias, bias)


def test_a_conv_net_with_batch_norm_keeps_its_running_statistics():
    model = TinyVGG()
    model(torch.randn(8, 1, 28, 28))  # training mode: updates the running mean and variance
    model.eval()
    rebuilt = round_trip(model=model)["model"]
    assert torch.equal(rebuilt.block[1].running_mean, model.block[1].running_mean)
    images = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(rebuilt(images), model(images))
    assert repr(rebuilt.block) == repr(model.block)


def test_an_optimizer_holds_the_rebuilt_models_own_parameters():
    model = CircleModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    other = torch.optim.Adam(nn.Linear(2, 1).parameters(), lr=0.001)
    rebuilt = round_trip(model=model, optimizer=optimizer, other=other)
    mine = {id(p) for group in rebuilt["optimizer"].param_groups for p in group["params"]}
    assert mine == {id(p) for p in rebuilt["model"].parameters()}
    assert type(rebuilt["optimizer"]) is torch.optim.SGD
    assert (
        rebuilt["optimizer"].param_groups[0]["lr"] == 0.05 and rebuilt["optimizer"].param_groups[0]["momentum"] == 0.9
    )
    assert not {id(p) for p in rebuilt["other"].param_groups[0]["params"]} & mine


def test_loss_functions_keep_their_settings_and_weights():
    weight = torch.tensor([1.0, 2.0, 3.0])
    rebuilt = round_trip(
        ce=nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1),
        bce=nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0)),
    )
    assert torch.equal(rebuilt["ce"].weight, weight) and rebuilt["ce"].label_smoothing == 0.1
    assert rebuilt["bce"].pos_weight.item() == 2.0 and rebuilt["bce"].reduction == "mean"


def test_plain_values_keep_their_types():
    values = {
        "array": np.arange(6, dtype=np.float32).reshape(2, 3),
        "count": np.int64(2),
        "flag": True,
        "shapes": {1: (1, 28, 28), "a": [1.5, None]},
        "indices": range(3, 9, 2),
        "dtype": torch.float16,
        "text": "ok",
    }
    rebuilt = round_trip(**values)
    assert rebuilt["array"].dtype == np.float32 and np.array_equal(rebuilt["array"], values["array"])
    assert type(rebuilt["count"]) is np.int64 and rebuilt["flag"] is True
    assert rebuilt["shapes"] == {1: (1, 28, 28), "a": [1.5, None]} and rebuilt["indices"] == range(3, 9, 2)
    assert rebuilt["dtype"] is torch.float16 and rebuilt["text"] == "ok"


def test_a_figure_keeps_its_plots_lines_points_regions_images_and_titles():
    model = nn.Sequential(nn.Linear(2, 1))
    X, y = torch.randn(30, 2), (torch.rand(30) > 0.5).float()
    figure = plt.figure()
    plt.subplot(1, 3, 1)
    plot_decision_boundary(model, X, y)
    plt.subplot(1, 3, 2)
    plt.plot([1, 2, 3], [3.0, 2.5, 1.0], label="loss")
    plt.title("Pred: 3 | Truth: 3", c="g")
    plt.subplot(1, 3, 3)
    plt.imshow(torch.rand(28, 28), cmap="gray")
    plt.axis(False)
    rebuilt = round_trip(fig=figure)["fig"]
    plt.close("all")
    regions, points = rebuilt.axes[0].collections
    assert type(regions).__name__ == "ContourSet" and len(points.get_offsets()) == 30
    assert list(rebuilt.axes[1].get_lines()[0].get_ydata()) == [3.0, 2.5, 1.0]
    assert rebuilt.axes[1].get_title() == "Pred: 3 | Truth: 3"
    assert matplotlib.colors.to_rgb(rebuilt.axes[1].title.get_color()) == matplotlib.colors.to_rgb("g")
    assert rebuilt.axes[2].images and rebuilt.axes[2].images[0].get_array().shape == (28, 28)


def test_loaders_keep_their_dataset_batch_size_and_order():
    dataset = TensorDataset(torch.randn(10, 1, 4, 4), torch.arange(10) % 3)
    dataset.classes = ["a", "b", "c"]
    train, test = DataLoader(dataset, batch_size=4, shuffle=True), DataLoader(dataset, batch_size=5)
    rebuilt = round_trip(train=train, test=test, dataset=dataset)
    assert rebuilt["train"].dataset is rebuilt["dataset"] is rebuilt["test"].dataset
    assert isinstance(rebuilt["train"].sampler, RandomSampler) and isinstance(
        rebuilt["test"].sampler, SequentialSampler
    )
    assert (
        rebuilt["train"].batch_size == 4
        and len(rebuilt["dataset"]) == 10
        and rebuilt["dataset"].classes == ["a", "b", "c"]
    )
    image, label = rebuilt["dataset"][7]
    assert torch.equal(image, dataset[7][0]) and torch.equal(label, dataset[7][1])


def test_a_function_is_handed_over_as_its_results_on_the_inputs_named():
    inputs = torch.arange(-3, 3, 0.5)
    rebuilt = round_trip(probes={"tanh": [(inputs,)]}, tanh=lambda x: (x.exp() - (-x).exp()) / (x.exp() + (-x).exp()))
    assert torch.allclose(rebuilt["tanh"](inputs), torch.tanh(inputs))
    with pytest.raises(LookupError, match="not one of them"):
        rebuilt["tanh"](torch.zeros(2))


def test_what_cannot_be_handed_over_stands_in_under_its_types_name():
    class Secret:
        pass

    rebuilt = round_trip(thing=Secret(), f=print)
    assert isinstance(rebuilt["thing"], NotHandedOver) and type(rebuilt["thing"]).__name__ == "Secret"
    assert type(rebuilt["f"]).__name__ == "builtin_function_or_method"


def test_a_forward_pass_that_cannot_be_traced_fails_only_when_called_and_says_why():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 1)

        def forward(self, x):
            return self.layer(x) if x.sum() > 0 else -self.layer(x)  # control flow on a tensor's value

    rebuilt = round_trip(model=Branchy())["model"]
    assert isinstance(rebuilt, HandedOverModule) and isinstance(rebuilt.layer, nn.Linear)
    with pytest.raises(RuntimeError, match="could not be handed over"):
        rebuilt(torch.ones(1, 2))


def test_objects_that_agree_with_everything_arrive_as_plain_data():
    class AlwaysEqual(torch.Tensor):
        def __eq__(self, other):
            return True

        def __bool__(self):
            return True

    class FakeArray:
        def __array__(self, dtype=None, copy=None):
            return np.zeros(3)

        def __eq__(self, other):
            return True

    rebuilt = round_trip(t=torch.zeros(3).as_subclass(AlwaysEqual), a=FakeArray())
    assert type(rebuilt["t"]) is torch.Tensor and not torch.equal(rebuilt["t"], torch.ones(3))
    assert isinstance(rebuilt["a"], NotHandedOver)


def test_an_oversized_handover_is_refused_with_a_clear_message():
    with pytest.raises(HandOverError, match="over the limit of 1 MB"):
        hand_over_bytes({"big": torch.zeros(2**19)}, ["big"], limit=2**20)
    with pytest.raises(MalformedHandover, match="over the limit"):
        load_handover(b"x" * 100, limit=10)


# ---------------------------------------------------------------- data no honest kernel writes
def test_loading_runs_no_code_of_the_senders(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for data in (pickle.dumps(Payload()), _saved({"format": HANDOVER_FORMAT, "values": {}, "objects": [Payload()]})):
        with pytest.raises(MalformedHandover, match="cannot be read"):
            load_handover(data)
    assert not marker.exists()


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _with_step(**step) -> dict:
    """A hand-over of CircleModel whose traced forward pass has ``step`` in place of its second step."""
    plain = hand_over({"model": CircleModel()}, ["model"])
    module = plain["objects"][0]
    module["graphs"][0]["steps"][1] = {
        "args": {"kind": "tuple", "items": []},
        "kwargs": {"kind": "dict", "type": "dict", "items": []},
    } | step
    return plain


@pytest.mark.parametrize(
    ("step", "refused"),
    [
        ({"op": "call_function", "target": "torch.save"}, "not among the functions allowed"),
        ({"op": "call_function", "target": "builtins.eval"}, "not among the functions allowed"),
        ({"op": "call_function", "target": "os.system"}, "not among the functions allowed"),
        ({"op": "call_method", "target": "__reduce_ex__"}, "not among a tensor's allowed"),
        ({"op": "call_method", "target": "register_hook"}, "not among a tensor's allowed"),
        ({"op": "call_module", "target": "layer_1; import os"}, "not a name"),
        ({"op": "exec", "target": "print"}, "does 'exec'"),
    ],
)
def test_a_forged_forward_pass_is_refused_before_anything_runs(step, refused):
    rebuilt = rebuild(load_handover(_saved(_with_step(**step))))["model"]
    assert isinstance(rebuilt.layer_1, nn.Linear)  # the model's layers are there for the checks that read them
    refusals.clear()
    with pytest.raises(MalformedHandover, match=f"step 1 of CircleModel.forward .*{refused}"):
        rebuilt(torch.zeros(1, 2))
    assert len(refusals) == 1  # recorded, so that a check that catches the error still fails


def test_a_forward_pass_may_read_data_attributes_of_tensors_only():
    plain = _with_step(
        op="call_function",
        target="builtins.getattr",
        args={"kind": "tuple", "items": [{"kind": "node", "index": 0}, "__class__"]},
    )
    rebuilt = rebuild(load_handover(_saved(plain)))["model"]
    with pytest.raises(MalformedHandover, match="reads '__class__' of a Tensor; a forward pass may read only T, data"):
        rebuilt(torch.zeros(1, 2))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda plain: plain.update(format=99),
        lambda plain: plain["values"].update(model={"kind": "ref", "id": 999}),
        lambda plain: plain["values"].update(model={"kind": "mystery"}),
        lambda plain: plain["objects"][1].update(torch_class="Identity2"),
        lambda plain: plain["objects"][1]["settings"].update(in_features=5),
        lambda plain: plain["objects"][0]["children"].append(["../up", {"kind": "ref", "id": 1}]),
    ],
    ids=["format", "dangling-ref", "unknown-kind", "unknown-layer", "settings-vs-repr", "bad-name"],
)
def test_malformed_handovers_fail_with_a_reason(mangle):
    plain = hand_over({"model": CircleModel()}, ["model"])
    mangle(plain)
    with pytest.raises(MalformedHandover):
        rebuild(load_handover(_saved(plain)))


def test_a_self_referring_object_is_refused():
    plain = {
        "format": HANDOVER_FORMAT,
        "values": {"x": {"kind": "ref", "id": 0}},
        "objects": [{"kind": "dataloader", "dataset": {"kind": "ref", "id": 0}}],
    }
    with pytest.raises(MalformedHandover, match="refers back to itself"):
        rebuild(plain)


# ---------------------------------------------------------------- the tamper probe
@pytest.mark.parametrize(
    ("module", "name"),
    [
        (json, "dumps"),
        (torch.fx, "symbolic_trace"),
        (torch.export, "export"),
        (handover, "hand_over"),
        (tracing, "fx_graphs"),
        (rebuilder, "rebuild"),
        (replay, "check_plain"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_the_tamper_probe_names_what_a_cell_replaced_but_not_what_libraries_replace(module, name):
    tamper_probe.start()
    assert tamper_probe.changes() == []
    original = getattr(module, name)

    def forging(*args, **kwargs):
        return original(*args, **kwargs)

    forging.__module__ = "__main__"  # as a function defined in a notebook's cell
    setattr(module, name, forging)
    try:
        assert f"{module.__name__}.{name}" in tamper_probe.changes()
        setattr(module, name, lambda *args, **kwargs: original(*args, **kwargs))  # a library's own: not the notebook's
        assert tamper_probe.changes() == []
    finally:
        setattr(module, name, original)
    assert tamper_probe.changes() == []

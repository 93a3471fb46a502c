"""The helpers' opt-in mixed precision (``autocast=True``): float32 stays the default, the contract holds.

Accuracy is compared on a subset of FashionMNIST that trains in seconds: the course's path
(``TensorBatches``, ``train_step``, ``test_step``) with and without autocast, from one seed.
"""

from __future__ import annotations

import contextlib
import warnings

import pytest
import torch
from torch import nn
from torch.utils.data import Subset
from torchvision import datasets
from torchvision.transforms import ToTensor

import helper_functions as hf
from bench.models import CONV_MODELS, MODELS

TRAIN_IMAGES, EPOCHS = 12000, 2


@pytest.fixture
def bf16_cpu(monkeypatch):
    """Take this CPU to have fast bf16, as one with AVX-512 BF16 or AMX does: bf16 then runs (slowly) on any CPU.

    So the bf16 branch is tested on every machine, not only where the hardware has it.
    """
    monkeypatch.setenv(hf.LOWER_PRECISION_SWITCH, "bfloat16")
    assert hf.autocast_dtype("cpu") == torch.bfloat16


def toy_batches():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(64, 4, generator=generator)
    y = (X[:, 0] > 0).long()
    return hf.TensorBatches(X, y, batch_size=16)


def toy_model():
    hf.set_seeds(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def train_toy(**options):
    model = toy_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    hf.set_seeds(1)
    results = [hf.train_step(model, toy_batches(), nn.CrossEntropyLoss(), optimizer, **options) for _ in range(3)]
    return model, results


def test_autocast_off_is_the_float32_path_bit_for_bit():
    default_model, default_results = train_toy()
    off_model, off_results = train_toy(autocast=False)
    assert default_results == off_results
    for default, off in zip(default_model.parameters(), off_model.parameters(), strict=True):
        assert torch.equal(default, off)


@pytest.mark.usefixtures("bf16_cpu")
def test_autocast_keeps_the_helpers_contract():
    model, results = train_toy(autocast=True)
    assert all(parameter.dtype == torch.float32 for parameter in model.parameters())
    assert all(isinstance(result["loss"], float) and isinstance(result["acc"], float) for result in results)
    model.eval()
    evaluated = hf.eval_model(model, toy_batches(), nn.CrossEntropyLoss(), autocast=True)
    assert not model.training and evaluated["model_name"] == "Sequential" and 0 <= evaluated["acc"] <= 100
    with pytest.raises(ValueError, match="one mean loss per batch"):
        hf.test_step(model, toy_batches(), nn.CrossEntropyLoss(reduction="none"), autocast=True)


def test_a_device_without_a_lower_precision_warns_once_and_trains_in_float32(monkeypatch):
    monkeypatch.setattr(hf, "autocast_dtype", lambda device: None)
    monkeypatch.setattr(hf, "_WARNED_NO_AUTOCAST", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, fallback = train_toy(autocast=True)
        train_toy(autocast=True)
    assert [str(warning.message) for warning in caught if "autocast" in str(warning.message)] == [
        "autocast=True: this cpu has no fast lower precision (a CPU needs bf16 instructions, AVX-512 BF16 or AMX), "
        "so the helpers train in float32"
    ]
    assert fallback == train_toy()[1]


@pytest.fixture(scope="module")
def fashion_batches():
    root = str(hf.data_dir())
    train = datasets.FashionMNIST(root=root, train=True, download=True, transform=ToTensor())
    test = datasets.FashionMNIST(root=root, train=False, download=True, transform=ToTensor())
    layouts = {}
    for layout in (torch.contiguous_format, torch.channels_last):
        layouts[layout] = (
            hf.TensorBatches.from_dataset(Subset(train, range(TRAIN_IMAGES)), 32, shuffle=True, memory_format=layout),
            hf.TensorBatches.from_dataset(test, 256, memory_format=layout),
        )
    return layouts


@pytest.mark.slow
@pytest.mark.usefixtures("bf16_cpu")
# TinyVGG under bf16 takes a minute where the CPU has no bf16 instructions: make test-long runs it
@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=[pytest.mark.long] if name in CONV_MODELS else []) for name in MODELS]
)
def test_autocast_training_stays_within_a_point_of_float32(fashion_batches, name):
    layout = torch.channels_last if name in CONV_MODELS else torch.contiguous_format
    train_batches, test_batches = fashion_batches[layout]
    accuracy = {}
    for autocast in (False, True):
        hf.set_seeds(42)
        model_class, kwargs = MODELS[name]
        model = model_class(**kwargs).to(memory_format=layout)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        hf.set_seeds(42)
        for _ in range(EPOCHS):
            hf.train_step(model, train_batches, nn.CrossEntropyLoss(), optimizer, autocast=autocast)
        accuracy[autocast] = hf.test_step(model, test_batches, nn.CrossEntropyLoss(), autocast=autocast)["acc"]
    print(f"\n{name}: float32 {accuracy[False]:.2f}%, autocast {accuracy[True]:.2f}%")
    assert abs(accuracy[True] - accuracy[False]) <= 1.0


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_autocast_on_cuda_trains_with_the_devices_lower_precision_and_scales_float16():
    model = toy_model().to("cuda")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    results = [hf.train_step(model, toy_batches(), nn.CrossEntropyLoss(), optimizer, autocast=True) for _ in range(3)]
    assert all(isinstance(result["loss"], float) for result in results) and results[-1]["loss"] < results[0]["loss"]
    assert next(model.parameters()).device.type == "cuda" and next(model.parameters()).dtype == torch.float32
    assert (optimizer in hf._SCALERS) == (hf.autocast_dtype("cuda") == torch.float16)


def test_float16_devices_get_one_gradient_scaler_per_optimizer(monkeypatch):
    optimizer = torch.optim.SGD(toy_model().parameters(), lr=0.1)
    cuda = torch.device("cuda")
    monkeypatch.setattr(hf, "autocast_dtype", lambda device: torch.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without a GPU the scaler warns that it disables itself
        scaler = hf._gradient_scaler(optimizer, cuda, enabled=True)
        assert isinstance(scaler, torch.amp.GradScaler) and hf._gradient_scaler(optimizer, cuda, True) is scaler
    assert hf._gradient_scaler(optimizer, cuda, enabled=False) is None
    assert hf._gradient_scaler(optimizer, torch.device("cpu"), enabled=True) is None
    monkeypatch.setattr(hf, "autocast_dtype", lambda device: torch.bfloat16)
    assert hf._gradient_scaler(torch.optim.SGD(toy_model().parameters(), lr=0.1), cuda, enabled=True) is None


def test_train_step_goes_through_the_scaler_when_there_is_one(monkeypatch):
    calls = []

    class RecordingScaler(torch.amp.GradScaler):
        def step(self, optimizer, *args, **kwargs):
            calls.append("step")
            return super().step(optimizer, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaler = RecordingScaler("cuda", enabled=False)  # disabled: a pass-through, so it trains like float32
    monkeypatch.setattr(hf, "_gradient_scaler", lambda optimizer, device, enabled: scaler if enabled else None)
    monkeypatch.setattr(hf, "_autocast", lambda device, enabled: contextlib.nullcontext())
    model, results = train_toy(autocast=True)
    plain_model, plain_results = train_toy()
    assert calls == ["step"] * 12 and results == plain_results  # 3 epochs of 4 batches
    for scaled, plain in zip(model.parameters(), plain_model.parameters(), strict=True):
        assert torch.equal(scaled, plain)

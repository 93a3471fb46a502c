"""tools.prepare_data: offline FashionMNIST preparation, tested on small IDX files in a temporary folder."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from torchvision import datasets

from tools import prepare_data as prep


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (the format of (Fashion)MNIST)."""
    magic = 0x00000800 | array.ndim
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def make_source(folder: Path, n_train: int = 6, n_test: int = 4) -> Path:
    """Write the four .gz files with tiny, known contents."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": np.arange(n_train * 28 * 28).reshape(n_train, 28, 28) % 256,
        "train-labels-idx1-ubyte": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte": np.full((n_test, 28, 28), 7),
        "t10k-labels-idx1-ubyte": np.array([9, 8, 7, 6][:n_test]),
    }
    for name, array in arrays.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(array)))
    return folder


def test_prepare_decompresses_into_torchvision_raw_folder(tmp_path):
    source = make_source(tmp_path / "src")
    raw = prep.prepare(tmp_path / "data", source)
    assert raw == tmp_path / "data" / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(prep.FILES)
    assert prep.is_prepared(tmp_path / "data")


def test_torchvision_loads_prepared_files_without_downloading(tmp_path, monkeypatch):
    prep.prepare(tmp_path / "data", make_source(tmp_path / "src"))
    monkeypatch.setattr(
        "torchvision.datasets.mnist.download_and_extract_archive", lambda *a, **k: pytest.fail("tried the network")
    )
    train = datasets.FashionMNIST(root=str(tmp_path / "data"), train=True, download=True)
    test = datasets.FashionMNIST(root=str(tmp_path / "data"), train=False, download=True)
    assert (len(train), len(test)) == (6, 4)
    assert test.targets.tolist() == [9, 8, 7, 6]
    assert int(test.data[0, 0, 0]) == 7


def test_prepare_is_idempotent_and_keeps_complete_files(tmp_path):
    source = make_source(tmp_path / "src")
    raw = prep.prepare(tmp_path / "data", source)
    before = {p.name: p.stat().st_mtime_ns for p in raw.iterdir()}
    prep.prepare(tmp_path / "data", source)
    assert {p.name: p.stat().st_mtime_ns for p in raw.iterdir()} == before


def test_truncated_gz_is_reported_and_leaves_no_file(tmp_path):
    source = make_source(tmp_path / "src")
    archive = source / "train-images-idx3-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:-40])
    with pytest.raises(prep.DataPreparationError, match="train-images-idx3-ubyte.gz.*corrupt or truncated"):
        prep.prepare(tmp_path / "data", source)
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    assert not (raw / "train-images-idx3-ubyte").exists()
    assert not list(raw.glob("*.part"))


def test_corrupt_gz_is_reported_and_leaves_no_file(tmp_path):
    source = make_source(tmp_path / "src")
    (source / "t10k-labels-idx1-ubyte.gz").write_bytes(b"this is not gzip at all")
    with pytest.raises(prep.DataPreparationError, match="t10k-labels-idx1-ubyte.gz"):
        prep.prepare(tmp_path / "data", source)
    assert not list((tmp_path / "data" / "FashionMNIST" / "raw").glob("t10k-labels*"))


def test_idx_with_wrong_length_is_rejected(tmp_path):
    source = make_source(tmp_path / "src")
    # a valid gzip whose IDX header promises more images than it holds
    body = idx_bytes(np.zeros((2, 28, 28)))
    lying = struct.pack(">I3I", 0x00000803, 3, 28, 28) + body[16:]
    (source / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(lying))
    with pytest.raises(prep.DataPreparationError, match="header says"):
        prep.prepare(tmp_path / "data", source)


def test_not_an_idx_file_is_rejected(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(prep.DataPreparationError, match="not an IDX file"):
        prep.check_idx(path)
    path.write_bytes(b"\x00")
    with pytest.raises(prep.DataPreparationError, match="no IDX header"):
        prep.check_idx(path)


def test_find_source_prefers_env_and_names_missing_files(tmp_path):
    source = make_source(tmp_path / "src")
    assert prep.find_source({"FASHION_MNIST_DIR": str(source)}, debian_dir=tmp_path / "none") == source
    (source / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(prep.DataPreparationError, match="lacks t10k-images-idx3-ubyte.gz"):
        prep.find_source({"FASHION_MNIST_DIR": str(source)})


def test_find_source_falls_back_to_debian_folder(tmp_path):
    debian = make_source(tmp_path / "debian")
    assert prep.find_source({}, debian_dir=debian, allow_apt=False) == debian
    assert prep.find_source({}, debian_dir=tmp_path / "absent", allow_apt=False) is None


def test_main_prints_one_line_on_how_to_get_the_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(prep, "find_source", lambda: None)
    monkeypatch.setattr(prep, "_download", lambda root: False)
    assert prep.main(["--root", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "apt-get install -y dataset-fashion-mnist" in err and "FASHION_MNIST_DIR" in err


def test_main_prepares_from_env_and_then_reports_ready(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(make_source(tmp_path / "src")))
    assert prep.main(["--root", str(tmp_path / "data")]) == 0
    assert "prepared" in capsys.readouterr().out
    assert prep.main(["--root", str(tmp_path / "data")]) == 0
    assert "ready" in capsys.readouterr().out


def test_main_reports_corrupt_source(tmp_path, monkeypatch, capsys):
    source = make_source(tmp_path / "src")
    (source / "train-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(source))
    assert prep.main(["--root", str(tmp_path / "data")]) == 1
    assert "corrupt or truncated" in capsys.readouterr().err

"""Prepare FashionMNIST's raw files so torchvision finds them without the network.

Run: ``python -m tools.prepare_data [--root DATA_DIR]`` (``make notebooks`` and
``make test`` run it for you).

Notebooks keep torchvision's standard ``datasets.FashionMNIST(root, download=True)``.
torchvision skips the download when the decompressed files already sit in
``<root>/FashionMNIST/raw/``, so this tool puts them there from a local copy:

1. ``$FASHION_MNIST_DIR`` if set (a folder with the four ``*-ubyte.gz`` files);
2. otherwise Debian's ``dataset-fashion-mnist`` package
   (``/usr/share/datasets/fashion-mnist``), installed with apt-get when we run
   as root on Debian and it is missing;
3. otherwise torchvision's own download, when there is a network.

Debian recompressed the ``.gz`` files, so torchvision's MD5 check of them would
fail; we decompress them ourselves and check each file's IDX header and size.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path

from helper_functions import data_dir

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
HOW_TO_GET = (
    "FashionMNIST not found and not downloadable: install Debian's package "
    f"(`sudo apt-get install -y {DEBIAN_PACKAGE}`) or set FASHION_MNIST_DIR to a folder "
    "holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz, then run `make notebooks` again."
)
# IDX magic numbers: unsigned bytes, 1 dimension (labels) or 3 dimensions (images)
IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}


class DataPreparationError(RuntimeError):
    """A source file is missing, corrupt or truncated."""


def check_idx(path: Path) -> None:
    """Raise ``DataPreparationError`` unless ``path`` is a complete IDX file."""
    with path.open("rb") as handle:
        header = handle.read(4)
        if len(header) < 4:
            raise DataPreparationError(f"{path} is truncated: no IDX header")
        magic = struct.unpack(">I", header)[0]
        ndim = magic & 0xFF
        if IDX_MAGIC.get(ndim) != magic:
            raise DataPreparationError(f"{path} is not an IDX file of unsigned bytes (magic {magic:#010x})")
        dims = struct.unpack(f">{ndim}I", handle.read(4 * ndim))
    expected = 4 + 4 * ndim + math.prod(dims)
    actual = path.stat().st_size
    if actual != expected:
        raise DataPreparationError(f"{path} is truncated or padded: {actual} bytes, header says {expected}")


def decompress(source: Path, destination: Path) -> None:
    """Decompress ``source`` (.gz) to ``destination`` atomically; never leave a partial file."""
    partial = destination.with_name(destination.name + ".part")
    try:
        with gzip.open(source, "rb") as compressed, partial.open("wb") as out:
            shutil.copyfileobj(compressed, out, length=1 << 20)
        check_idx(partial)
    except (OSError, EOFError, zlib.error, DataPreparationError) as error:
        partial.unlink(missing_ok=True)
        raise DataPreparationError(f"cannot use {source}: corrupt or truncated ({error})") from error
    os.replace(partial, destination)


def raw_dir(root: Path) -> Path:
    return Path(root) / "FashionMNIST" / "raw"


def is_prepared(root: Path) -> bool:
    """Return True when all four decompressed files are present and complete."""
    try:
        for name in FILES:
            check_idx(raw_dir(root) / name)
    except (OSError, DataPreparationError):
        return False
    return True


def _has_all(folder: Path) -> bool:
    return all((folder / f"{name}.gz").is_file() for name in FILES)


def _try_apt_install() -> None:
    """Install Debian's package when we are root on Debian; stay quiet otherwise."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    print(f"Installing Debian package {DEBIAN_PACKAGE} ...", flush=True)
    command = ["apt-get", "install", "-y", "-q", DEBIAN_PACKAGE]
    if subprocess.run(command, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=False)
        subprocess.run(command, stdout=subprocess.DEVNULL, check=False)


def find_source(
    env: dict[str, str] | None = None, debian_dir: Path = DEBIAN_DIR, allow_apt: bool = True
) -> Path | None:
    """Return a folder holding the four ``.gz`` files, or None."""
    environment: Mapping[str, str] = os.environ if env is None else env
    if environment.get("FASHION_MNIST_DIR"):
        folder = Path(environment["FASHION_MNIST_DIR"])
        if not _has_all(folder):
            missing = [f"{name}.gz" for name in FILES if not (folder / f"{name}.gz").is_file()]
            raise DataPreparationError(f"FASHION_MNIST_DIR={folder} lacks {', '.join(missing)}")
        return folder
    if not _has_all(debian_dir) and allow_apt:
        _try_apt_install()
    return debian_dir if _has_all(debian_dir) else None


def prepare(root: Path, source: Path) -> Path:
    """Decompress the four files from ``source`` into ``<root>/FashionMNIST/raw``; return that folder."""
    target = raw_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        destination = target / name
        try:
            check_idx(destination)
            continue  # already complete
        except (OSError, DataPreparationError):
            pass
        decompress(source / f"{name}.gz", destination)
    return target


def _download(root: Path) -> bool:
    try:
        from torchvision import datasets

        for train in (True, False):
            datasets.FashionMNIST(root=str(root), train=train, download=True)
    except Exception:  # any network or mirror failure means: no download here
        return False
    return is_prepared(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=data_dir(), help="data folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if is_prepared(args.root):
        print(f"FashionMNIST ready in {raw_dir(args.root)}")
        return 0
    try:
        source = find_source()
        if source is not None:
            prepare(args.root, source)
            print(f"FashionMNIST prepared in {raw_dir(args.root)} from {source}")
            return 0
    except DataPreparationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if _download(args.root):
        print(f"FashionMNIST downloaded into {raw_dir(args.root)}")
        return 0
    print(HOW_TO_GET, file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())

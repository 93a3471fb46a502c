"""Colab's runtime, as Google publishes it: the versions the course is tested against in ``make test-colab``.

``tools/colab/`` holds the project's own copy of two files of the public repository
``googlecolab/backend-info``: ``pip-freeze.txt`` (every Python package of Colab's default CPU
runtime, with its version) and ``os-info.txt`` (its OS and interpreters), and ``source.json``
says from which commit and date. This module reads them: the Python minor version, each
package's version, and the pip constraints that install the course's packages at Colab's
versions (``torch @ https://...+cpu...whl`` becomes ``torch==2.11.0``, since the ``+cpu`` wheels
are not on PyPI).

Run: ``python -m tools.colab_runtime`` prints the runtime and what the course imports of it.
When Colab updates, ``python -m tools.colab_runtime refresh SOURCE --commit SHA --date YYYY-MM-DD``
copies the two files from SOURCE (a checkout of googlecolab/backend-info, or the base URL of its raw
files at that commit) and says which of the course's packages changed version; then ``make
test-colab`` tells whether the course still runs there.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import urllib.parse
import urllib.request
from pathlib import Path

RUNTIME = Path(__file__).resolve().parent / "colab"
FILES = ("pip-freeze.txt", "os-info.txt")
# what the course imports of Colab's packages, as the README names them
COURSE_PACKAGES = ("torch", "torchvision", "numpy", "pandas", "matplotlib", "scikit-learn", "mlxtend", "ipykernel")


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def frozen(folder: Path = RUNTIME) -> dict[str, str]:
    """Every package of the runtime and its version; a wheel pinned by URL gives the version in its file name."""
    versions = {}
    for line in (folder / "pip-freeze.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if "==" in line:
            name, version = line.split("==", 1)
            versions[_normalised(name)] = version.strip()
        elif " @ " in line:
            name, url = line.split(" @ ", 1)
            wheel = urllib.parse.unquote(url.rsplit("/", 1)[-1])
            match = re.match(r"[^-]+-([0-9][^-]*?)(?:\+[^-]*)?-", wheel)
            if match and url.startswith("http") and wheel.endswith(".whl"):
                versions[_normalised(name)] = match.group(1)
    return versions


# Colab's CPU torch is a +cpu wheel, which PyPI has not: a replica takes PyPI's build of the same version, which
# brings the CUDA libraries it links to, at the versions it names (Colab's runtime lists one of them, for its own use)
CUDA_STACK = ("nvidia-", "cuda-", "triton")


def constraints(folder: Path = RUNTIME) -> str:
    """pip constraints holding every package at the runtime's version (``pip install -c`` this), but the CUDA stack."""
    return "".join(
        f"{name}=={version}\n" for name, version in sorted(frozen(folder).items()) if not name.startswith(CUDA_STACK)
    )


def python_minor(folder: Path = RUNTIME) -> str:
    """The runtime's Python, major and minor: ``3.13``."""
    match = re.search(r"^Python (\d+\.\d+)", (folder / "os-info.txt").read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        raise ValueError(f"{folder / 'os-info.txt'} names no Python version")
    return match.group(1)


def source(folder: Path = RUNTIME) -> dict[str, str]:
    """Where the copy comes from: the repository, its commit and that commit's date."""
    return json.loads((folder / "source.json").read_text(encoding="utf-8"))


def summary(folder: Path = RUNTIME) -> str:
    """One line naming the runtime: Python and the versions of what the course imports."""
    versions = frozen(folder)
    packages = ", ".join(f"{name} {versions[name]}" for name in COURSE_PACKAGES if name in versions)
    absent = [name for name in ("torchmetrics",) if name not in versions]
    lacks = f"; no {', '.join(absent)}" if absent else ""
    return f"Python {python_minor(folder)}, {packages}{lacks} ({source(folder)['date']})"


def refresh(origin: str, commit: str, date: str, folder: Path = RUNTIME) -> list[str]:
    """Copy the two files from ``origin`` (a folder or a base URL) into ``folder``; what changed for the course."""
    before = frozen(folder) if (folder / "pip-freeze.txt").exists() else {}
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if origin.startswith(("http://", "https://")):
            with urllib.request.urlopen(f"{origin.rstrip('/')}/{name}", timeout=60) as response:
                text = response.read().decode("utf-8")
        else:
            text = (Path(origin) / name).read_text(encoding="utf-8")
        if name == "pip-freeze.txt" and "==" not in text:
            raise ValueError(f"{origin} sent no pip freeze for {name} (it began {text[:40]!r})")
        (folder / f"{name}.part").write_text(text, encoding="utf-8")
        shutil.move(folder / f"{name}.part", folder / name)
    record = {"repository": "googlecolab/backend-info", "commit": commit, "date": date}
    (folder / "source.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    after = frozen(folder)
    return [
        f"{name}: {before.get(name, 'absent')} -> {after.get(name, 'absent')}"
        for name in (*COURSE_PACKAGES, "torchmetrics")
        if before.get(name) != after.get(name)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.colab_runtime", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    update = commands.add_parser("refresh", help="copy a newer pip-freeze.txt and os-info.txt of Colab's")
    update.add_argument("origin", help="a checkout of googlecolab/backend-info, or the base URL of its raw files")
    update.add_argument("--commit", required=True, help="the commit of googlecolab/backend-info they come from")
    update.add_argument("--date", required=True, help="that commit's date, YYYY-MM-DD")
    args = parser.parse_args(argv)
    if args.command == "refresh":
        changed = refresh(args.origin, args.commit, args.date)
        print("\n".join(changed) or "no package the course imports changed version")
        print("now run `make test-colab`, and update the README's line on the Colab runtime")
        return 0
    print(f"Colab's runtime as tested: {summary()}")
    print(f"from {source()['repository']} at {source()['commit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

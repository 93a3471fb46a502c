"""The Debian roots that ``make test-gradescope`` and ``make test-colab`` run in, built ahead of them.

``python3 tests/image_roots.py`` (``make roots``) builds, once each, under ``build/``: Gradescope's
bare bookworm root and the bullseye root whose Python is too old, Colab's bare trixie root, and
the replica of Colab's runtime on it (Colab's Python, and the course's packages under Colab's
versions as pip constraints). It needs only the system's Python, no venv, so CI builds them while
``make test`` installs: building a root is disk and network, and the tests' torch runs are not.
The targets build whatever is missing themselves, through the same functions; each build records
its seconds beside its root, for the measurements the targets write.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT)] if str(REPO_ROOT) not in sys.path else []

from debian_root import bare_root, built_seconds, in_root, record_seconds  # noqa: E402

from tools import colab_runtime  # noqa: E402

GRADESCOPE = REPO_ROOT / "build" / "gradescope"
GRADESCOPE_BASE, TOO_OLD_BASE = GRADESCOPE / "base", GRADESCOPE / "bullseye-base"
COLAB = REPO_ROOT / "build" / "colab"
COLAB_BASE, COLAB_RUNTIME = COLAB / "base", COLAB / "runtime"
COLAB_RELEASE = "trixie"  # Debian 13: Python 3.13, Colab's minor version
COLAB_APT = ("python3", "python3-pip", "python3-venv")
LAB_ONLY = ("jupyterlab", "nbconvert")  # the course's, for JupyterLab and the book; no notebook needs them in Colab


def course_packages() -> list[str]:
    """What the course installs that Colab has, by name: Colab's version of each goes in through the constraints."""
    names = [
        line.split("==")[0]
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    ]
    versions = colab_runtime.frozen()
    return [name for name in names if name.lower() in versions and name not in LAB_ONLY]


def colab_replica() -> dict[str, float | None]:
    """The replica of Colab's runtime in ``COLAB_RUNTIME``, built once for its constraints and packages.

    Returns the seconds that debootstrap and the replica's build took (now or when they were built).
    """
    debootstrap_seconds = bare_root(COLAB_BASE, COLAB_RELEASE)
    packages = course_packages()
    recipe = colab_runtime.constraints() + " ".join([*packages, *COLAB_APT, COLAB_RELEASE])
    stamp = COLAB_RUNTIME / f".colab-runtime-{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"
    if not stamp.exists():
        start = time.monotonic()
        partial = COLAB_RUNTIME.with_name("runtime.partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(COLAB_RUNTIME, ignore_errors=True)
        subprocess.run(["cp", "-a", str(COLAB_BASE), str(partial)], check=True)
        for mount_point in ("course", "out"):  # a read-only root cannot make them when it is run
            (partial / mount_point).mkdir()
        (partial / "host-ca.crt").touch()
        (partial / "etc" / "resolv.conf").touch()
        (partial / "colab-constraints.txt").write_text(colab_runtime.constraints())
        apt = "apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends " + " ".join(COLAB_APT)
        done = in_root("bash", "-c", apt, timeout=900, root=partial)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        install = ["python3", "-m", "pip", "install", "--quiet", "--break-system-packages", "--root-user-action=ignore"]
        install += ["--ignore-installed"]  # over Debian's own packaging and the like, which pip cannot uninstall
        install += ["-c", "/colab-constraints.txt", *packages]
        done = in_root(
            *install,
            timeout=2400,
            root=partial,
            environment={"PIP_FIND_LINKS": ""},  # the registry's wheels, for Python 3.13
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        partial.rename(COLAB_RUNTIME)
        stamp.touch()
        record_seconds(COLAB_RUNTIME, time.monotonic() - start)
    return {"debootstrap_seconds": debootstrap_seconds, "build_seconds": built_seconds(COLAB_RUNTIME)}


def main() -> None:
    start = time.monotonic()
    bare = {
        "gradescope bookworm": (GRADESCOPE_BASE, "bookworm"),
        "gradescope bullseye": (TOO_OLD_BASE, "bullseye"),
        "colab trixie": (COLAB_BASE, COLAB_RELEASE),
    }
    with concurrent.futures.ThreadPoolExecutor(len(bare)) as pool:  # three debootstraps wait on the mirror at once
        built = dict(zip(bare, pool.map(lambda root: bare_root(*root), bare.values()), strict=True))
    built["colab replica"] = colab_replica()["build_seconds"]
    print(f"Debian roots ready in {time.monotonic() - start:.0f} s (seconds each took to build: {built})")


if __name__ == "__main__":
    main()

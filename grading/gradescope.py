"""Build a Gradescope autograder bundle: the grader, the master, the helpers, ``setup.sh`` and ``run_autograder``.

Run: ``python -m grading export-gradescope assignment_06 --out autograder.zip`` and upload the
zip as a Gradescope "zip file upload" autograder. Gradescope unpacks it into
``/autograder/source``, runs ``setup.sh`` once when it builds the image, and
``run_autograder`` for every submission. ``run_autograder`` reads its folders from
``GRADING_SOURCE_DIR``, ``GRADING_SUBMISSION_DIR`` and ``GRADING_RESULTS_DIR`` (and the
interpreter from ``GRADING_PYTHON``) when they are set, so it also runs outside Gradescope.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from grading.checks import COURSE_FILES, MASTERS_DIR, REPO_ROOT, master_path

LAB_ONLY = ("jupyterlab", "nbconvert")  # in requirements.txt for students; the grader needs neither
NEEDED_PYTHON = (3, 11)  # what the pins need: numpy 2.4, pandas 3.1 and scikit-learn 1.9 have no older wheels

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends python3 python3-venv ca-certificates
# A Python that fits the pins: the system's, or a newer one from the OS archive (Ubuntu 22.04 has
# python3.11 beside its python3.10); otherwise stop here, saying why, before pip fails halfway.
fits() { "$1" -c 'import sys; sys.exit(sys.version_info < (@MAJOR@, @MINOR@))' 2>/dev/null; }
python=python3
if ! fits python3; then
  found="$(python3 -c 'import platform; print(platform.python_version())' 2>/dev/null || echo none)"
  if apt-get install -y -q --no-install-recommends python@MAJOR@.@MINOR@ python@MAJOR@.@MINOR@-venv \\
      && fits python@MAJOR@.@MINOR@; then
    python=python@MAJOR@.@MINOR@
  else
    echo "setup.sh: this image's Python is $found, and the grader's pins need Python @MAJOR@.@MINOR@ or newer," >&2
    echo "which its package archive does not have: choose a newer base image (Ubuntu 24.04 has 3.12)." >&2
    exit 1
  fi
fi
# the sandbox; Gradescope's containers may not allow it, and the grader then falls back to rlimits
apt-get install -y -q --no-install-recommends bubblewrap || echo "note: bubblewrap not installed"
"$python" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --upgrade pip
/autograder/venv/bin/python -m pip install --quiet -r requirements.txt
""".replace("@MAJOR@", str(NEEDED_PYTHON[0])).replace("@MINOR@", str(NEEDED_PYTHON[1]))

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission. Every path can be overridden to run it elsewhere.
set -uo pipefail
SOURCE_DIR="${GRADING_SOURCE_DIR:-/autograder/source}"
SUBMISSION_DIR="${GRADING_SUBMISSION_DIR:-/autograder/submission}"
RESULTS_DIR="${GRADING_RESULTS_DIR:-/autograder/results}"
PYTHON="${GRADING_PYTHON:-/autograder/venv/bin/python}"
mkdir -p "$RESULTS_DIR"

# Grade one notebook: the first .ipynb in the submission, else the first .py.
notebook="$(find "$SUBMISSION_DIR" -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort | head -n 1)"
[ -n "$notebook" ] || notebook="$(find "$SUBMISSION_DIR" -name '*.py' | sort | head -n 1)"
if [ -z "$notebook" ]; then
  echo '{"score": 0, "output": "No notebook (.ipynb or .py) found in the submission."}' >"$RESULTS_DIR/results.json"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$SOURCE_DIR"
"$PYTHON" -m grading grade @ASSIGNMENT@ "$notebook" --out "$work" || exit 1
cp "$work/results.json" "$RESULTS_DIR/results.json"
"""


def bundle_files(assignment: str, root: Path = REPO_ROOT, masters_dir: Path = MASTERS_DIR) -> dict[str, Path]:
    """Map each path inside the bundle to the repository file it comes from (the master goes to solutions/)."""
    master = master_path(assignment, masters_dir)
    files = {str(path.relative_to(root)): path for path in sorted((root / "grading").rglob("*.py"))}
    files[f"solutions/{master.name}"] = master
    files |= {name: root / name for name in COURSE_FILES}
    return files


def grader_requirements(root: Path = REPO_ROOT) -> str:
    """The bundle's ``requirements.txt``: the course's pins without JupyterLab and the book's converter."""
    pins = [
        line
        for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#") and line.split("==")[0] not in LAB_ONLY
    ]
    return "\n".join(["# The grader's run-time pins: the course's requirements.txt without JupyterLab", *pins]) + "\n"


def export(assignment: str, out: Path, root: Path = REPO_ROOT, masters_dir: Path = MASTERS_DIR) -> Path:
    """Write the Gradescope autograder zip for ``assignment`` to ``out``; return ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in bundle_files(assignment, root, masters_dir).items():
            archive.write(path, name)
        archive.writestr("requirements.txt", grader_requirements(root))
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope expects
            archive.writestr(info, text.replace("@ASSIGNMENT@", assignment))
    return out

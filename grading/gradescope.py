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

from grading.checks import MASTERS_DIR, REPO_ROOT, master_path

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
cd "$(dirname "$0")"
apt-get update -q
apt-get install -y -q python3 python3-pip python3-venv
# the sandbox; Gradescope's containers may not allow it, and the grader then falls back to rlimits
apt-get install -y -q bubblewrap || echo "note: bubblewrap not installed"
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --upgrade pip
/autograder/venv/bin/python -m pip install --quiet -r requirements.txt
"""

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
    for name in ("helper_functions.py", "requirements.txt"):
        files[name] = root / name
    return files


def export(assignment: str, out: Path, root: Path = REPO_ROOT, masters_dir: Path = MASTERS_DIR) -> Path:
    """Write the Gradescope autograder zip for ``assignment`` to ``out``; return ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in bundle_files(assignment, root, masters_dir).items():
            archive.write(path, name)
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope expects
            archive.writestr(info, text.replace("@ASSIGNMENT@", assignment))
    return out

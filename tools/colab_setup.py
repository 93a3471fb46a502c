"""The cells the course writes into its notebooks: the setup cell, the self-check cell, a check's one line.

Run: ``python -m tools.colab_setup`` prints the setup cell of a lesson. ``make sync`` writes these
cells (``tools/check_notebooks.py`` into the masters, ``tools/make_exercises.py`` into the students'
notebooks), and ``tests/test_repo_tooling.py`` checks that every notebook's are these, that every
one is folded (``FOLDED``: a form in Colab, a hidden source in JupyterLab) and that the setup cell's
pins match ``requirements.txt``.

The setup cell installs, at the course's pins, what the runtime lacks (Colab: torchmetrics) and
keeps the runtime's own version of what it has (Colab: mlxtend 0.23.4, torch, NumPy), saying so:
``make test-colab`` tests the course with Colab's versions, and replacing one under a running
kernel is not safe (mlxtend 0.25.0 needs a newer NumPy). It makes the course's files the notebook
imports (``helper_functions.py``; in a notebook with checks, the ``self_check`` package and the
students' module of checks too) importable, from the course checkout when the notebook runs inside it,
otherwise by fetching each from the course repository (with a timeout, checking that what arrived
is that Python file and not an HTML error page, and never leaving a bad file), and applies the
course's plot style (``use_course_style``).
"""

import json

COURSE_REPO = "pytorch-course/pytorch-classification-course"
# a line each course file has, and an error page has not: the helpers, and each module of the self-check's package
MARKERS = {
    "helper_functions.py": "def accuracy_fn",
    "self_check/__init__.py": "def use_checks",
    "self_check/handover.py": "def hand_over_bytes",
    "self_check/judging.py": "def judge",
    "self_check/library.py": "def model_logits",
    "self_check/tracing.py": "def fx_graphs",
    "self_check/rebuilder.py": "def load_handover",
    "self_check/replay.py": "class ReplayGuard",
    "self_check/vocabulary.py": "LEFT_OUT = {",
}
STUDENTS_CHECKS_MARKER = "from self_check import *"
# what Colab folds into its title line (a form), and JupyterLab behind a "..."
FOLDED = {"cellView": "form", "jupyter": {"source_hidden": True}}


def colab_url(notebook: str) -> str:
    """The URL that opens ``notebook`` (a repository path, e.g. ``notebooks/02_x.ipynb``) in Colab."""
    return f"https://colab.research.google.com/github/{COURSE_REPO}/blob/main/{notebook}"


SETUP_CELL = """\
# @title Setup: run this cell first. It makes the notebook run in Colab as in the course repository.
import importlib.metadata, importlib.util, os, pathlib, subprocess, sys, urllib.request

COURSE_REPO = "@COURSE_REPO@"
COURSE_FILES = {  # the course's files this notebook imports, each with a line it has (an error page has not)
@COURSE_FILES@
}
PINNED = {"torchmetrics": "1.9.0", "mlxtend": "0.25.0"}  # the course's pins of what Colab may lack
installed = {name: importlib.util.find_spec(name) and importlib.metadata.version(name) for name in PINNED}
missing = [f"{name}=={pin}" for name, pin in PINNED.items() if not installed[name]]
if missing:  # only what the runtime lacks: a newer mlxtend would pull a newer NumPy under the running kernel
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    print(f"Installed {', '.join(missing)}")
kept = {name: version for name, version in installed.items() if version and version != PINNED[name]}
for name, version in kept.items():  # Colab's own versions, which `make test-colab` tests the course with
    print(f"Using this runtime's own {name} {version} (the course pins {PINNED[name]})")

here = pathlib.Path.cwd()
course_root = next((p for p in (here, *here.parents) if (p / "helper_functions.py").is_file()), here)
for name, marker in COURSE_FILES.items():
    if (course_root / name).is_file():
        continue
    url = f"https://raw.githubusercontent.com/{COURSE_REPO}/main/{name}"  # e.g. Colab: fetched once
    try:
        text = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:  # offline, an HTTP error, a timeout, not text
        raise RuntimeError(f"Could not download {url}: {error}. Is this runtime online?") from None
    if marker not in text:  # e.g. an HTML error or sign-in page
        raise RuntimeError(f"{url} sent no {name} (it began {text[:40]!r}); nothing was saved")
    compile(text, name, "exec")  # a cut-off download fails here, before it is saved
    (course_root / name).parent.mkdir(parents=True, exist_ok=True)
    (course_root / f"{name}.part").write_text(text, encoding="utf-8")
    os.replace(course_root / f"{name}.part", course_root / name)
sys.path.insert(0, str(course_root))
from helper_functions import use_course_style

use_course_style()  # colour-blind-safe colours, and alt text for every figure"""


def course_files(students_checks: str | None = None, self_check: bool = False) -> dict[str, str]:
    """The course's files a notebook imports, each with its marker: the helpers, and for checks the self-check."""
    files = {"helper_functions.py": MARKERS["helper_functions.py"]}
    if self_check or students_checks:
        files |= {name: marker for name, marker in MARKERS.items() if name.startswith("self_check/")}
    if students_checks:
        files[students_checks] = STUDENTS_CHECKS_MARKER
    return files


def setup_cell(files: dict[str, str]) -> str:
    """The first code cell of a notebook that imports ``files`` (``course_files``)."""
    listed = "\n".join(f"    {json.dumps(name)}: {json.dumps(marker)}," for name, marker in files.items())
    return SETUP_CELL.replace("@COURSE_REPO@", COURSE_REPO).replace("@COURSE_FILES@", listed)


SELF_CHECK_TITLE = "# @title Self-check: run this cell once"
# the self-check cell of a master: the check cells below it are written with this library
MASTER_SELF_CHECK = f"""\
{SELF_CHECK_TITLE}
from self_check import *  # noqa: F403  (check(), and what the checks below are written with)"""


def students_self_check(students_checks: str) -> str:
    """The self-check cell of a students' notebook, which loads its checks from ``students_checks``."""
    return f"{SELF_CHECK_TITLE}\nfrom self_check import check, use_checks\n\nuse_checks({json.dumps(students_checks)})"


def check_line(calls: str) -> str:
    """What a students' notebook keeps of a check cell: its ``check("exN")`` calls, under a title."""
    names = ", ".join(name for name in calls.replace("'", '"').split('"')[1::2])
    return f"# @title Check {names or 'your work'}\n{calls}"


def main() -> int:
    print(setup_cell(course_files()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

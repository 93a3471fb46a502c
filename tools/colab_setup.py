"""The one Colab setup cell that every notebook starts with.

Run: ``python -m tools.colab_setup`` prints the cell. ``tests/test_repo_tooling.py``
checks that the first code cell of every notebook is exactly ``SETUP_CELL`` and that
its pins match ``requirements.txt``; edit the cell here, then paste it into the masters.

It installs only the pinned packages Colab lacks, applies the course's plot style
(``use_course_style``) and makes ``helper_functions`` importable: from the course checkout
when the notebook runs inside it, otherwise
by fetching the file from the course repository (with a timeout, checking that
what arrived is Python and not an HTML error page, and never leaving a bad file).
"""

COURSE_REPO = "pytorch-course/pytorch-classification-course"


def colab_url(notebook: str) -> str:
    """The URL that opens ``notebook`` (a repository path, e.g. ``notebooks/02_x.ipynb``) in Colab."""
    return f"https://colab.research.google.com/github/{COURSE_REPO}/blob/main/{notebook}"


SETUP_CELL = """\
# Setup: makes this notebook run in Colab as in the course repo, and sets the course's plot style.
import importlib.util, os, pathlib, subprocess, sys, urllib.request

COURSE_REPO = "@COURSE_REPO@"
PINNED = {"torchmetrics": "torchmetrics==1.9.0", "mlxtend": "mlxtend==0.25.0"}
missing = [pin for module, pin in PINNED.items() if importlib.util.find_spec(module) is None]
if missing:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)

here = pathlib.Path.cwd()
course_root = next((p for p in (here, *here.parents) if (p / "helper_functions.py").is_file()), None)
if course_root is None:  # e.g. Colab: fetch the course's helpers once
    url = f"https://raw.githubusercontent.com/{COURSE_REPO}/main/helper_functions.py"
    try:
        text = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:  # offline, an HTTP error, a timeout, not text
        raise RuntimeError(f"Could not download {url}: {error}. Is this runtime online?") from None
    if "def accuracy_fn" not in text:  # e.g. an HTML error or sign-in page
        raise RuntimeError(f"{url} sent no helper_functions.py (it began {text[:40]!r}); nothing was saved")
    compile(text, "helper_functions.py", "exec")  # a cut-off download fails here, before it is saved
    (here / "helper_functions.py.part").write_text(text, encoding="utf-8")
    os.replace(here / "helper_functions.py.part", here / "helper_functions.py")
    course_root = here
sys.path.insert(0, str(course_root))
from helper_functions import use_course_style

use_course_style()  # colour-blind-safe colours, and alt text for every figure""".replace("@COURSE_REPO@", COURSE_REPO)


def main() -> int:
    print(SETUP_CELL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

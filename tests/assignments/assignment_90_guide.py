# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Assignment 90: the guide's example
#
# The two-exercise assignment that `grading/README.md` ("Adding an assignment") builds step by
# step: exercise 1 is worth two points, one per part of its check; exercise 2 has a hidden part
# that only the grader runs. The test suite grades it by name: `python -m grading grade
# assignment_90 ... --masters tests/assignments`.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Setup: run this cell first. It makes the notebook run in Colab as in the course repository.
import importlib.metadata, importlib.util, os, pathlib, subprocess, sys, urllib.request

COURSE_REPO = "pytorch-course/pytorch-classification-course"
COURSE_FILES = {  # the course's files this notebook imports, each with a line it has (an error page has not)
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

use_course_style()  # colour-blind-safe colours, and alt text for every figure

# %%
import torch
from torch import nn

# %% cellView="form" jupyter={"source_hidden": true} tags=["self-check"]
# @title Self-check: run this cell once
from self_check import *  # noqa: F403  (check(), and what the checks below are written with)

# %% [markdown]
# ### Exercise 1 (2 points): a tensor of squares
#
# Create `squares`, a `float32` tensor holding the squares of 0, 1, ..., 9.

# %%
# BEGIN SOLUTION
squares = torch.arange(10, dtype=torch.float32) ** 2
# END SOLUTION
squares


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise("ex1", points=1, hint="torch.arange(10) gives 0..9; ** 2 squares each.", reads=("squares",), part="values")
def check_ex1_values(ns):
    squares = need(ns, "squares", torch.Tensor)
    expect(
        torch.equal(squares.double(), torch.arange(10.0).double() ** 2), "`squares`", "`squares` holds other numbers"
    )


@exercise("ex1", points=1, hint="dtype=torch.float32.", reads=("squares",), part="dtype")
def check_ex1_dtype(ns):
    squares = need(ns, "squares", torch.Tensor)
    expect(squares.dtype == torch.float32, "`squares`", f"`squares` should be float32, got {squares.dtype}")


check("ex1")

# %% [markdown]
# ### Exercise 2 (2 points): a small classifier
#
# Build `model`, which maps 3 features to 2 logits with one hidden layer of any width and a ReLU
# between the layers. A hidden part of the check, worth a point, makes sure the ReLU is where it
# does its work.

# %%
torch.manual_seed(0)
# BEGIN SOLUTION
model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
# END SOLUTION
model


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex2",
    points=1,
    hint="nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, 2)).",
    reads=("model",),
    part="the output and its layers",
)
def check_ex2(ns):
    model = need(ns, "model", nn.Module)
    shape = tuple(model_logits(model, torch.zeros(4, 3)).shape)
    expect(shape == (4, 2), "`model`'s output", f"`model` maps 4 points to shape {shape}, expected (4, 2)")
    expect(
        any(isinstance(layer, nn.ReLU) for layer in model.modules()),
        "`model`'s layers",
        "`model` has no ReLU between its layers",
        hint="Put nn.ReLU() between the two nn.Linear layers.",
    )


check("ex2")


# %% tags=["check", "hidden"] jupyter={"source_hidden": true}
# Hidden from students: the visible part sees a ReLU somewhere; this one sees it between the layers.
@exercise(
    "ex2", points=1, hint="The ReLU goes between the two layers.", reads=("model",), part="a ReLU between the layers"
)
def check_ex2_hidden(ns):
    model = need(ns, "model", nn.Module)
    points = torch.randn(64, 3, generator=torch.Generator().manual_seed(1))
    between = not is_affine(model, features=3)  # a ReLU between the layers bends the model
    negative = bool((model_logits(model, points) < 0).any())  # a ReLU after the last layer would leave none
    expect(between and negative, "the ReLU", "`model` is linear, or never negative")


# %% [markdown]
# ## Your score

# %%
check()

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
# step. The test suite grades it by name: `python -m grading grade assignment_90 ... --masters
# tests/assignments`.

# %% cellView="form" jupyter={"source_hidden": true}
# @title Setup: run this cell first. It makes the notebook run in Colab as in the course repository.
import importlib.util, os, pathlib, subprocess, sys, urllib.request

COURSE_REPO = "pytorch-course/pytorch-classification-course"
COURSE_FILES = {  # the course's files this notebook imports, each with a line it has (an error page has not)
    "helper_functions.py": "def accuracy_fn",
    "self_check.py": "def use_checks",
}
PINNED = {"torchmetrics": "torchmetrics==1.9.0", "mlxtend": "mlxtend==0.25.0"}
missing = [pin for module, pin in PINNED.items() if importlib.util.find_spec(module) is None]
if missing:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)

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
# ### Exercise 1 (1 point): a tensor of squares
#
# Create `squares`, a `float32` tensor holding the squares of 0, 1, ..., 9.

# %%
# BEGIN SOLUTION
squares = torch.arange(10, dtype=torch.float32) ** 2
# END SOLUTION
squares


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise(
    "ex1", points=1, hint="torch.arange(10) gives 0..9; ** 2 squares each; dtype=torch.float32.", reads=("squares",)
)
def check_ex1(ns):
    squares = _need(ns, "squares", torch.Tensor)
    expect(
        squares.dtype == torch.float32 and squares.shape == (10,),
        "`squares`",
        f"`squares` should be a float32 tensor of shape (10,), got {squares.dtype} of shape {tuple(squares.shape)}",
        "torch.arange(10, dtype=torch.float32) ** 2.",
    )
    expect(torch.equal(squares, torch.arange(10.0) ** 2), "`squares`' values", "`squares` holds other numbers", "")


check("ex1")

# %% [markdown]
# ### Exercise 2 (1 point): a small classifier
#
# Build `model`, which maps 3 features to 2 logits with one hidden layer of any width and a ReLU
# between the layers.

# %%
torch.manual_seed(0)
# BEGIN SOLUTION
model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
# END SOLUTION
model


# %% tags=["check"] jupyter={"source_hidden": true}
@exercise("ex2", points=1, hint="nn.Sequential(nn.Linear(3, h), nn.ReLU(), nn.Linear(h, 2)).", reads=("model",))
def check_ex2(ns):
    model = _need(ns, "model", nn.Module)
    with torch.inference_mode():
        shape = tuple(model(torch.zeros(4, 3)).shape)
    expect(shape == (4, 2), "`model`'s output", f"`model` maps 4 points to shape {shape}, expected (4, 2)", "")
    expect(
        any(isinstance(layer, nn.ReLU) for layer in model.modules()),
        "`model`'s layers",
        "`model` has no ReLU between its layers",
        "Put nn.ReLU() between the two nn.Linear layers.",
    )


check("ex2")

# %% [markdown]
# ## Your score

# %%
check()

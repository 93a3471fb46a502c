# Two commands a newcomer needs (see README.md):
#   make notebooks   set up, then execute every lesson and solution into build/executed/
#   make test        set up, then run the test suite (unit tests + every notebook); make test-long
#                    and make test-gradescope run the end-to-end runs that take minutes each
# Others: make lab (JupyterLab), make book (HTML book of the executed notebooks), make bench,
#         make master MASTER=solutions/NAME.py, make exercises, make sync, make lint, make clean.

PYTHON    ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed-requirements
DEV_STAMP := $(VENV)/.installed-requirements-dev
BOOK_JS   := tools/book/node_modules/.installed

.PHONY: setup system-deps browser-deps image-deps roots data notebooks lab book test test-long test-gradescope test-colab bench master exercises sync lint clean

# What the course needs to run (the lessons, JupyterLab, the book, the grader): requirements.txt.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# What maintainers need besides (tests, lint, types, browser automation): requirements-dev.txt.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# bubblewrap sandboxes the grader; installed when we are root on Debian, skipped otherwise.
system-deps:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null; }; } ; } \
	  || echo "note: bubblewrap not installed; the grader falls back to rlimits without a sandbox"

# Chromium for the browser tests (only `make test` needs it): installed when we are root on
# Debian; otherwise those tests are skipped with a line saying how to install it.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }; } ; } \
	  || echo "note: chromium not installed; the browser tests will be skipped"

# debootstrap for the bare Debian root of `make test-gradescope`: installed when we are root on Debian.
image-deps:
	@command -v debootstrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q debootstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }; } ; } \
	  || echo "note: debootstrap not installed; make test-gradescope needs it"

# The book's JavaScript from npm, pinned by tools/book/package-lock.json: MiniSearch (the book's
# search, copied into build/book) and axe-core (the accessibility tests). Needs Node's npm.
$(BOOK_JS): tools/book/package.json tools/book/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make: the book needs Node's npm for its search (Debian: apt-get install npm)" >&2; exit 1; }
	npm ci --prefix tools/book --no-audit --no-fund --loglevel=error
	touch $@

data: $(STAMP)
	$(PY) -m tools.prepare_data

setup: $(STAMP) system-deps data

notebooks: setup
	$(PY) -m tools.run_notebooks notebooks solutions --out build/executed

# JupyterLab at the repository root; prints the URL to open.
lab: setup
	$(PY) -m tools.lab

# The executed notebooks as a static HTML book in build/book/ (run `make notebooks` first;
# nothing is executed again). Open build/book/index.html.
book: $(STAMP) $(BOOK_JS)
	$(PY) -m tools.build_book

# Lint, format and types first (seconds); then every notebook is executed from copies in
# build/nbtest, so nbmake can keep their outputs (--overwrite) for the tests that read what the
# notebooks computed, without touching the committed sources; then each part's coverage floor.
test: setup $(DEV_STAMP) browser-deps $(BOOK_JS) lint
	rm -rf build/nbtest .coverage
	mkdir -p build/nbtest
	cp -r notebooks exercises solutions build/nbtest/
	find build/nbtest -type f ! -name '*.ipynb' -delete
	@# pytest exits 5 when it collected nothing: that is a broken suite, so say so and fail
	$(PY) -m pytest --nbmake --overwrite --durations=30 --cov --cov-report= -m "not image and not long and not colab" build/nbtest tests || { status=$$?; \
	  [ $$status -ne 5 ] || echo "make test: pytest collected no tests; failing on purpose" >&2; exit $$status; }
	$(PY) -m tools.coverage_floors

# The end-to-end runs of minutes that make test leaves out, to stay within 15 minutes: the grader
# over whole classes (hostile, tamper corpus, shards, stop and resume, real slips), both exercise
# sets graded, lesson 03 live in JupyterLab and the exercise notebooks opened there, training under
# bf16 (section 7.5, TinyVGG), make notebooks' progress bar, every book page in Chromium with
# axe-core, 10,000 fuzzed replays of the checker (FUZZ_EXAMPLES), 5,000 fuzzed honest models that must replay
# to what they computed (HONEST_FUZZ_EXAMPLES), each wall of the checker alone and mutated (tests/wall_mutants.py),
# the reduced benchmark.
# CI runs it after make test.
test-long: setup $(DEV_STAMP) browser-deps $(BOOK_JS)
	$(PY) -m pytest --durations=30 -m "long and not colab" tests

# The Gradescope bundle in a bare Debian root (debootstrap, cached in build/gradescope), as root:
# setup.sh, then run_autograder for three submissions. Minutes: torch is installed into the root.
test-gradescope: setup $(DEV_STAMP) system-deps image-deps
	$(PY) -m pytest -m image tests/test_gradescope_image.py

# The Debian roots that make test-gradescope and make test-colab run in, built once into build/ with the
# system's Python (no venv needed): CI builds them while make test installs. The targets build what is missing.
roots: image-deps system-deps
	python3 tests/image_roots.py

# Every notebook in a replica of Colab's runtime (tools/colab: its Python, its packages' versions), run as
# Colab runs it: no cell tag honoured, its own setup cell installing what it installs; the numbers each
# cell prints compared with the course's own run. A Debian trixie root, cached in build/colab, as root.
test-colab: setup $(DEV_STAMP) system-deps image-deps
	$(PY) -m pytest -m colab tests/test_colab_runtime.py

# Full benchmark (3 rounds x 3 epochs, about 10 minutes on 2 cores): build/bench/results.{json,md,png}, and its
# table in bench/README.md.
# CI runs the reduced setting (1 round x 1 epoch on the first 20,000 images) in `make test-long`.
bench: setup
	$(PY) -m bench --readme

# One master: its generated cells and students' files written, then executed, its final score printed:
# make master MASTER=solutions/assignment_07_topic.py
master: setup
	@test -n "$(MASTER)" || { echo "make master MASTER=solutions/NAME.py: name the master to run" >&2; exit 2; }
	$(PY) -m tools.run_master $(MASTER)

exercises: $(STAMP)
	$(PY) -m tools.make_exercises

sync: $(STAMP)
	$(PY) -m tools.check_notebooks --sync
	$(PY) -m tools.make_exercises

# ruff's lint rules and formatting, and mypy's types (settings in pyproject.toml); make test runs it.
lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

clean:
	rm -rf build models .pytest_cache .coverage

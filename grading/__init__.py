"""Grade a class's submissions of a course assignment, each in its own sandboxed kernel.

Run: ``python -m grading grade assignment_06 SUBMISSION... --out DIR [--jobs N] [--timeout SECONDS]``
(``python -m grading --help`` lists every command and option). SUBMISSION is an
``.ipynb`` file, a jupytext ``py:percent`` file, or a folder of them.

How a submission is graded:

1. The checks come from the course's master notebook (``solutions/...py``): its cells
   tagged ``check``, written with the ``self_check`` package. A submission's own self-check is run
   like any other cell but never trusted (``checks``).
2. The submission is copied into a fresh temporary folder with ``helper_functions.py``,
   the ``self_check`` package and the students' module of checks, and executed there, in a fresh kernel,
   inside bubblewrap when it is available, with memory, CPU and file-size limits (``sandbox``).
   Errors are allowed; a cell that runs too long is interrupted; a cell that kills or hangs the
   kernel is skipped on a rerun (``submission_run``).
3. Where each exercise stands (``places``), a cell of the grader's has the kernel hand that
   exercise's answers over as plain data (``kernel``). Once the kernel is gone, the checker, a
   process in a sandbox of its own, rebuilds them and judges them with the master's checks
   (``checker``). A last hand-over after the final cell says which names later cells changed
   (``results``).
4. ``grades.csv``, per-submission JSON and Markdown feedback and a Gradescope
   ``results.json`` are written to DIR (``reports``).

Modules: ``cli`` (the command line), ``submissions`` (finding and reading notebooks),
``checks`` (the master's checks), ``places``, ``batch`` (one submission's sandboxed run, and
many in parallel), ``submission_run`` (what runs inside the sandbox), ``kernel`` (what runs in
the student's kernel), ``checker`` (what judges), ``sandbox``, ``results``, ``reports`` and
``gradescope``.
"""

import sys

# nbformat imports jsonschema, which builds an IRI parser at import time when rfc3987-syntax is
# installed (JupyterLab's dependencies bring it): about 1.8 s in every grader process, the one
# inside each submission's sandbox included, for a string format no notebook schema uses.
# Marked as absent before nbformat is imported, the parser is never built.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

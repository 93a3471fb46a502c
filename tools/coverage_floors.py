"""Check the test suite's coverage of each part of the course's code against that part's floor.

Run: ``python -m tools.coverage_floors`` after ``pytest --cov`` (``make test`` does both). It
reads ``.coverage`` and prints one line per part; it exits 1 when a part is below its floor.

The floors sit a little below what the suite measures, so that a change which drops tests
fails, and a maintainer who adds code adds its tests. Code that runs in another process,
such as a notebook's kernel or the grader's sandboxed run, is not measured: the floors of
``grading`` and ``tools`` count only what the tests run in their own process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coverage

REPO_ROOT = Path(__file__).resolve().parent.parent

# part -> (the files it covers, the lowest total percentage the suite may reach)
FLOORS = {
    "helper_functions.py": (["helper_functions.py"], 97.0),
    "self_check/": (["self_check/*"], 89.0),
    "grading/": (["grading/*"], 80.0),
    "tools/": (["tools/*"], 68.0),
    "bench/": (["bench/*"], 95.0),
}


def measured(data_file: str = ".coverage") -> dict[str, float]:
    """Part -> the percentage of its statements the last test run executed."""
    cov = coverage.Coverage(data_file=data_file)
    cov.load()
    with open("/dev/null", "w") as quiet:
        # rooted at the repository: copies of helper_functions.py that tests run elsewhere do not count
        return {
            part: cov.report(include=[str(REPO_ROOT / pattern) for pattern in patterns], file=quiet)
            for part, (patterns, _) in FLOORS.items()
        }


def main() -> int:
    try:
        percentages = measured()
    except coverage.exceptions.NoDataError:
        print("coverage_floors: no coverage data; run `pytest --cov` first (make test does)", file=sys.stderr)
        return 1
    failures = 0
    for part, percent in percentages.items():
        floor = FLOORS[part][1]
        verdict = "ok" if percent >= floor else "BELOW ITS FLOOR"
        failures += percent < floor
        print(f"coverage {part:<22} {percent:5.1f}% (floor {floor:.0f}%) {verdict}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

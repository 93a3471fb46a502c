"""Mutation testing of the checker's walls: each wall broken in a copy of the course, and its tests must fail.

For every mutant of ``tests/wall_mutants.py`` this copies the course (its tracked files and those
not yet tracked nor ignored), replaces the mutant's piece of code there, and runs the tests the
mutant names in that copy. They must fail: a mutant they let pass has broken a wall no test
watches, and fails this target. The copies first run the same tests unmutated (a share in each, at
once), and they must pass, so that a failure is the mutant's doing. Each run's result and time go to
``build/mutants/results.json``.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import copy_of_the_course
from wall_mutants import MUTANTS

pytestmark = [pytest.mark.slow, pytest.mark.long, pytest.mark.unmeasured]

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "build" / "mutants" / "results.json"


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[int, float, str]:
    """Run ``tests`` in ``copy``, stopping at the first failure: (exit status, seconds, the summary line)."""
    start = time.monotonic()
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    ran = subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=1800)
    summary = (ran.stdout.strip().splitlines() or [""])[-1]
    return ran.returncode, round(time.monotonic() - start, 1), summary


WORKERS = min(2, os.cpu_count() or 1)  # mutants at once, each in a copy of its own


def run_all(copies: list[Path]) -> dict[str, dict]:
    """Every mutant applied in one of ``copies`` and its tests run there, as many at once as there are copies."""
    queue = list(MUTANTS)
    lock = threading.Lock()
    results: dict[str, dict] = {}

    def worker(copy: Path) -> None:
        while True:
            with lock:
                if not queue:
                    return
                name = queue.pop(0)
            mutant = MUTANTS[name]
            path = copy / mutant.path
            original = path.read_text(encoding="utf-8")
            if original.count(mutant.old) != 1:
                results[name] = {"caught": False, "summary": f"{mutant.path} no longer holds the mutant's code once"}
                continue
            path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
            try:
                status, seconds, summary = run_tests(copy, mutant.tests)
            finally:
                path.write_text(original, encoding="utf-8")
            results[name] = {"caught": status != 0, "seconds": seconds, "by": list(mutant.tests), "summary": summary}

    threads = [threading.Thread(target=worker, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run_unmutated(copies: list[Path], tests: tuple[str, ...]) -> tuple[int, float, str]:
    """``tests`` on the unmutated ``copies``, a share in each at once: (the worst exit status, seconds, summaries)."""
    shares = [share for share in (tests[index :: len(copies)] for index in range(len(copies))) if share]
    with concurrent.futures.ThreadPoolExecutor(len(shares)) as pool:
        ran = list(pool.map(run_tests, copies, shares))
    return max(status for status, _, _ in ran), max(seconds for _, seconds, _ in ran), "; ".join(s for *_, s in ran)


@pytest.fixture(scope="module")
def mutated(tmp_path_factory) -> dict[str, dict]:
    """The unmutated tests' result in the copies of the course, then each mutant's."""
    copies = [copy_of_the_course(tmp_path_factory.mktemp("course")) for _ in range(WORKERS)]
    tests = tuple(sorted({test for mutant in MUTANTS.values() for test in mutant.tests}))
    start = time.monotonic()
    status, seconds, summary = run_unmutated(copies, tests)
    results = {"unmutated": {"status": status, "seconds": seconds, "summary": summary}}
    if status == 0:
        results |= run_all(copies)
    results["all"] = {"seconds": round(time.monotonic() - start, 1), "workers": WORKERS}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return results


def test_the_named_tests_pass_on_the_copy_unmutated(mutated):
    assert mutated["unmutated"]["status"] == 0, mutated["unmutated"]["summary"]


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_mutant_of_a_wall_is_caught_by_the_tests_it_names(mutated, name):
    assert name in mutated, "the tests failed unmutated: no mutant was tried"
    assert mutated[name]["caught"], f"the mutant survived: {mutated[name]['summary']}"

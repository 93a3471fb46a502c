"""Each graded submission's outcome, on disk as soon as it is known, and reused when nothing changed.

``--out/results/<slug>.json`` holds one submission's outcome and the *fingerprint* it was graded
under: a hash of the submission's bytes, the master's checks, ``helper_functions.py``, the
``self_check`` package and every setting that can change points. Running the same command again
reuses an outcome whose fingerprint still matches, so an interrupted class resumes where it stopped, and a changed
submission, master or setting is graded again. Every file is written atomically (a temporary
file in the same folder, then ``os.replace``): a killed grader leaves whole files or none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from grading.checks import COURSE_FILES, REPO_ROOT, Checks
from grading.results import Outcome, check_result
from grading.submissions import Submission

RESULTS = "results"
FORMAT = 4  # bump when the stored outcome changes shape: older results are then graded again


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader, or a crash, never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "w", encoding="utf-8", newline="") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def fingerprint(submission: Submission, checks: Checks, settings: dict[str, Any]) -> str:
    """What the submission's points depend on, hashed: its bytes, the checks, the helpers, the settings."""
    digest = hashlib.sha256()
    for part in (
        submission.path.read_bytes(),
        checks.code.encode(),
        json.dumps(sorted(checks.deliberate_errors)).encode(),
        json.dumps([dataclasses.asdict(exercise) for exercise in checks.exercises]).encode(),
        *((REPO_ROOT / name).read_bytes() for name in COURSE_FILES),
        json.dumps(settings, sort_keys=True, default=str).encode(),
        str(FORMAT).encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _path(out: Path, submission: Submission) -> Path:
    return out / RESULTS / f"{submission.slug}.json"


def save(out: Path, outcome: Outcome, key: str, assignment: str) -> None:
    """Store ``outcome`` of ``assignment`` under the fingerprint ``key`` it was graded with."""
    record = {
        "fingerprint": key,
        "assignment": assignment,
        "path": str(outcome.submission.path),
        "submission": outcome.submission.label,
        "status": outcome.status,
        "results": {name: dataclasses.asdict(result) for name, result in outcome.results.items()},
        "notes": outcome.notes,
        "errors": outcome.errors,
        "seconds": outcome.seconds,
        "tampering": outcome.tampering,
    }
    write_atomically(_path(out, outcome.submission), json.dumps(record, indent=2) + "\n")


def load(out: Path, submission: Submission, key: str) -> Outcome | None:
    """The stored outcome of ``submission`` if it was graded under the fingerprint ``key``, else None."""
    try:
        record = json.loads(_path(out, submission).read_text(encoding="utf-8"))
        if record["fingerprint"] != key:
            return None
        return _outcome(record, submission)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_all(out: Path) -> tuple[str | None, list[Outcome]]:
    """Every outcome stored in ``out`` (as shards of a class left them), and the assignment they grade.

    Raises ``ValueError`` when the outcomes are of more than one assignment.
    """
    outcomes, assignments = [], set()
    for path in sorted((out / RESULTS).glob("*.json")) if (out / RESULTS).is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            submission = Submission(Path(record["path"]), record["submission"], path.stem)
            outcomes.append(_outcome(record, submission))
            assignments.add(record["assignment"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a result of another format: graded again by the next run
    if len(assignments) > 1:
        raise ValueError(f"{out} holds results of several assignments: {', '.join(sorted(assignments))}")
    return next(iter(assignments), None), outcomes


def _outcome(record: dict, submission: Submission) -> Outcome:
    results = {name: check_result(result) for name, result in record["results"].items()}
    return Outcome(
        submission,
        record["status"],
        results,
        record["notes"],
        record["errors"],
        record["seconds"],
        tampering=record["tampering"],
    )

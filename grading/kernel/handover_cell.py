"""The cell the grader runs in the student's kernel where exercises stand: it hands their answers over.

It loads the course's checks (from the master, sent by the grader) with the kernel's
``self_check`` into a registry of their own, only to learn what each exercise reads, and
publishes one output per exercise: ``{"exercise": name, "data": base64 of hand_over_bytes(...)}``, or ``"error"`` with
why it could not hand the answer over. No verdict is formed here. The grader's driver accepts
from this cell only the exercises it asked for, once each, and only up to the size limit; the
checker judges the data in a process of its own. At the end of the notebook (``final``) each
output also names the variables a later cell assigned again since the exercise's own hand-over,
for the feedback.
"""

from __future__ import annotations

import json

HANDOVER_MIME = "application/vnd.course-handover+json"

_CELL = """\
def __course_hand_over(checks_code, names, final, limit, user_ns):
    import base64
    import self_check
    from IPython.display import publish_display_data

    exercises = self_check.checks_from(checks_code)
    seen = user_ns.get("__course_handed_over__") or {}
    for name in names:
        handed = self_check.hand_over_exercise(name, user_ns, limit, exercises)
        record = {"exercise": name}
        if isinstance(handed, bytes):
            record["data"] = base64.b64encode(handed).decode("ascii")
        else:
            record["error"] = handed
        reads = exercises[name]["reads"]
        if final:
            record["reassigned"] = self_check.reassigned(seen.get(name, {}), user_ns)
        else:
            seen[name] = {variable: user_ns[variable] for variable in reads if variable in user_ns}
        publish_display_data({@MIME@: record})
    user_ns["__course_handed_over__"] = seen


__course_hand_over(@CODE@, @NAMES@, @FINAL@, @LIMIT@, globals())
"""


def handover_cell(checks_code: str, names: list[str], final: bool, limit: int) -> str:
    """The source of the cell that hands over the answers of the exercises ``names``."""
    return (
        _CELL.replace("@MIME@", json.dumps(HANDOVER_MIME))
        .replace("@CODE@", json.dumps(checks_code))
        .replace("@NAMES@", json.dumps(list(names)))
        .replace("@FINAL@", repr(bool(final)))
        .replace("@LIMIT@", str(int(limit)))
    )

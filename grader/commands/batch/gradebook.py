"""gradebook.csv: one row per student, sorted by id, no timings, UTF-8 with a BOM so spreadsheets read any script.

Columns: ``id``, ``name``, ``total`` (the raw score), ``max``, per practice ``practiceN`` and
``practiceN_max``, ``status``; with a late policy also ``submitted_at``, ``late_days``,
``penalty_pct`` (percent of the raw score), ``final`` (the score after the penalty) and ``late_note``.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from grader.commands.batch.late import Lateness, LatePolicy, final_score
from grader.commands.batch.results import StudentResult

ENCODING = "utf-8-sig"  # Excel opens a BOM-less CSV in the machine's code page (王小明 becomes mojibake)
LATE_COLUMNS = ["submitted_at", "late_days", "penalty_pct", "final", "late_note"]


def columns(practices: list[int], policy: LatePolicy | None) -> list[str]:
    """The header row."""
    per_practice = [name for n in practices for name in (f"practice{n}", f"practice{n}_max")]
    return ["id", "name", "total", "max", *per_practice, "status", *(LATE_COLUMNS if policy else [])]


def lateness(result: StudentResult, policy: LatePolicy) -> Lateness:
    """One student's lateness under ``policy``, from what result.submission says of the hand-in."""
    stamp = result.submission.get("submitted_at") or ""
    moment = datetime.fromisoformat(stamp) if stamp else None
    return policy.lateness(result.id, moment, bool(result.submission.get("marked_late")))


def final(result: StudentResult, policy: LatePolicy | None) -> float:
    """The score that goes back to the LMS: the raw score, less the late penalty when there is a policy."""
    if policy is None:
        return result.score
    return final_score(result.score, lateness(result, policy).penalty_pct)


def row(result: StudentResult, practices: list[int], policy: LatePolicy | None, name: str = "") -> list[str]:
    """One student's cells, in ``columns`` order (``name``: the roster's, over what the submission said)."""
    name = name or str(result.submission.get("name", ""))
    cells = [result.id, name, f"{result.score:g}", f"{result.max_score:g}"]
    for number in practices:
        practice = result.practices.get(str(number), {})
        cells += [f"{practice.get('score', 0):g}", f"{practice.get('max', 0):g}"]
    cells.append(result.status)
    if policy is not None:
        late = lateness(result, policy)
        score = final_score(result.score, late.penalty_pct)
        cells += [late.submitted_at, str(late.days), f"{late.penalty_pct:g}", f"{score:g}", late.note]
    return cells


def text(
    results: list[StudentResult],
    practices: list[int],
    policy: LatePolicy | None = None,
    names: dict[str, str] | None = None,
) -> str:
    """The whole CSV as text (the BOM is added when the file is written, see ``ENCODING``); ``names`` by id."""
    names = names or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns(practices, policy))
    for result in sorted(results, key=lambda r: r.id):
        writer.writerow(row(result, practices, policy, names.get(result.id, "")))
    return buffer.getvalue()

"""The late policy: a due time, a penalty per started day late, a cap, applied when rows are written.

The penalty never enters grading (nor the result key), so changing the policy never regrades anyone:
``total`` in the gradebook stays the raw score, ``final`` is the score after the penalty.

Times must carry an offset (``2026-03-01T23:59:00+08:00`` or ``...Z``): a naive time is refused,
since "23:59" means a different moment on the instructor's laptop and on the grading server.
A student's time is, in order: the ``--times`` file's, else the LMS's (``Submission.submitted_at``).
With no time at all, a submission the LMS itself marked late (Canvas's ``_LATE_``) counts as one
started day late, and one not marked counts as on time; both are said in the ``late_note`` column.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

DAY_S = 86400.0


class PolicyError(ValueError):
    """A late-policy option or times file that cannot be used; its str is the one line to show."""


def parse_time(text: str, where: str) -> datetime:
    """An ISO-8601 time with an offset ("Z" accepted on Python 3.10 too), or PolicyError naming ``where``."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PolicyError(f"{where}: {text!r} is not an ISO-8601 time; write e.g. 2026-03-01T23:59:00+08:00") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PolicyError(f"{where}: {text!r} has no UTC offset; add one, e.g. {value}+08:00 or {value}Z")
    return moment


@dataclass
class Lateness:
    """One student's lateness: started days late, the penalty in percent, and how it was decided."""

    days: int
    penalty_pct: float
    submitted_at: str  # ISO, "" when unknown
    note: str = ""


@dataclass
class LatePolicy:
    """``--due``, ``--late-penalty`` (percent per started day), ``--late-cap`` (percent) and ``--times``."""

    due: datetime
    per_day_pct: float
    cap_pct: float = 100.0
    times: dict[str, datetime] = field(default_factory=dict)
    times_file: str = ""

    def lateness(self, student_id: str, submitted_at: datetime | None, marked_late: bool) -> Lateness:
        """How late one student is, from the times file, the LMS's time, or the LMS's own late mark."""
        moment = self.times.get(student_id, submitted_at)
        if moment is None:
            if marked_late:
                note = "marked late by the LMS, no submission time: counted 1 started day late"
                return Lateness(1, self.penalty(1), "", note)
            return Lateness(0, 0.0, "", "no submission time known: counted on time")
        days = started_days(moment, self.due)
        source = "--times" if student_id in self.times else ""
        return Lateness(days, self.penalty(days), moment.isoformat(), source)

    def penalty(self, days: int) -> float:
        """The penalty in percent for ``days`` started days late: per day, at most the cap."""
        return round(min(self.cap_pct, days * self.per_day_pct), 4)

    def describe(self) -> dict[str, Any]:
        """The rule as written into manifest.json."""
        return {
            "due": self.due.isoformat(),
            "penalty_percent_per_started_day": self.per_day_pct,
            "cap_percent": self.cap_pct,
            "rule": "final = total * (1 - min(cap, started_days_late * penalty) / 100); "
            "a day is started by any moment after the due time (1 s late = 1 day)",
            "times_file": self.times_file,
            "no_time": "marked late by the LMS: 1 started day; otherwise on time",
        }


def started_days(moment: datetime, due: datetime) -> int:
    """Started days between ``due`` and ``moment``: 0 on time, 1 for a second up to a whole day late, ..."""
    seconds = (moment - due).total_seconds()
    return max(0, math.ceil(seconds / DAY_S))


def final_score(total: float, penalty_pct: float) -> float:
    """The score after the penalty (percent of the raw score)."""
    return round(total * (1 - penalty_pct / 100), 4)


def read_times(path: Path, known: set[str]) -> dict[str, datetime]:
    """``--times FILE``: rows ``id,ISO time`` (a header row ``id,...`` is allowed); every id must be a student."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise PolicyError(f"--times {path}: cannot be read ({error})") from None
    times: dict[str, datetime] = {}
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and cells[0].lower() == "id"):
            continue
        where = f"--times {path}, row {number}"
        if len(cells) < 2:
            raise PolicyError(f"{where}: expected 'id,ISO time', got {','.join(row)!r}")
        if cells[0] not in known:
            raise PolicyError(f"{where}: no student has the id {cells[0]!r}; use the ids of gradebook.csv")
        times[cells[0]] = parse_time(cells[1], where)
    return times


def from_args(due: str | None, per_day: float | None, cap: float | None, times: Path | None) -> LatePolicy | None:
    """The policy from the command line (None without ``--due``), the options checked; ids are read later."""
    if due is None:
        if per_day is not None or cap is not None or times is not None:
            raise PolicyError("--late-penalty, --late-cap and --times need --due (the due time, with an offset)")
        return None
    moment = parse_time(due, "--due")
    per_day = 0.0 if per_day is None else per_day
    cap = 100.0 if cap is None else cap
    if not (0 <= per_day <= 100 and 0 <= cap <= 100):
        raise PolicyError("--late-penalty and --late-cap are percentages between 0 and 100")
    return LatePolicy(moment, per_day, cap, times_file=str(times) if times else "")

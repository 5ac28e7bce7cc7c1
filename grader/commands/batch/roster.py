"""``--roster FILE``: the LMS's own grade sheet in, a file ready for that LMS's grade import out.

Recognised by the header row:

- Canvas gradebook export (Grades > Export): ``Student, ID, SIS User ID, SIS Login ID, Section``,
  then one column per assignment named ``Title (assignment id)``, read-only totals, and a
  ``Points Possible`` row. Students are matched by ``ID`` (the Canvas user id, the one in the
  file names of Canvas's "Download Submissions"). The score goes into the assignment column
  chosen by ``--assignment`` (its title, its full header or its id), or the single assignment
  column when there is one. canvas-import.csv keeps the identity columns, that column and the
  ``Points Possible`` row, so no other grade can be overwritten by the upload.
- Moodle assignment grading worksheet (Assignment > Submissions > "Download grading worksheet"):
  ``Identifier`` (``Participant <id>``, the same participant id as in Moodle's "Download all
  submissions" folder names), ``Full name``, ``Email address``, ``Status``, ``Grade``,
  ``Maximum Grade``, ``Last modified (grade)``... moodle-import.csv is the worksheet itself with
  the ``Grade`` cells filled, for "Upload grading worksheet". (Moodle's course gradebook export is
  keyed by name and email, not by the participant id, so it is refused with a pointer to the worksheet.)

The final score (after any late penalty) is scaled to the roster's maximum (``Points Possible`` or
``Maximum Grade``) when that differs from the grader's. A roster student with no submission at all
is "missing": their grade cell stays as the roster had it (empty: both LMSs leave an empty cell
alone), and they are listed in the report.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
CANVAS_REQUIRED = ("Student", "ID", "Section")
MOODLE_REQUIRED = ("Identifier", "Grade", "Last modified (grade)")  # what Moodle's worksheet upload reads
MOODLE_PREFIX = "Participant "
ASSIGNMENT = re.compile(r"^(?P<title>.*) \((?P<id>\d+)\)$")
BOM = b"\xef\xbb\xbf"


class RosterError(ValueError):
    """A roster that cannot be used; its str is the one line to show."""


@dataclass
class Roster:
    """A parsed roster: its layout, header, rows, and where ids and the score go."""

    lms: str  # "canvas" or "moodle"
    path: Path
    header: list[str]
    rows: list[list[str]]
    id_column: int
    score_column: int
    maximum: float | None = None  # the LMS's maximum for the assignment, when the roster says it
    bom: bool = False
    keep: list[int] = field(default_factory=list)  # the columns written back

    @property
    def out_name(self) -> str:
        """The import file's name in OUT."""
        return f"{self.lms}-import.csv"

    def student_id(self, row: list[str]) -> str | None:
        """The grader's student id of a roster row, or None for a non-student row (Points Possible...)."""
        cell = row[self.id_column].strip() if self.id_column < len(row) else ""
        if self.lms == "moodle":
            return cell[len(MOODLE_PREFIX) :].strip() if cell.startswith(MOODLE_PREFIX) else None
        return cell or None

    def students(self) -> dict[str, list[str]]:
        """Roster rows by student id."""
        return {sid: row for row in self.rows if (sid := self.student_id(row)) is not None}


def read(path: Path, assignment: str | None = None) -> Roster:
    """Parse ``path`` as a Canvas gradebook export or a Moodle grading worksheet, or RosterError."""
    try:
        raw = path.read_bytes()
        table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"--roster {path}: cannot be read as a UTF-8 CSV ({error})") from None
    if not table:
        raise RosterError(f"--roster {path}: the file is empty; export the gradebook or worksheet again")
    header = [cell.strip() for cell in table[0]]
    rows = [row for row in table[1:] if any(cell.strip() for cell in row)]
    if "Identifier" in header or "Full name" in header:
        roster = _moodle(path, header, rows)
    elif "Student" in header or "SIS User ID" in header:
        roster = _canvas(path, header, rows, assignment)
    elif "Email address" in header and "First name" in header:
        raise RosterError(
            f"--roster {path}: this is Moodle's course gradebook export, keyed by name and email; use the "
            "assignment's grading worksheet (Submissions > Download grading worksheet), keyed by participant id"
        )
    else:
        raise RosterError(
            f"--roster {path}: neither a Canvas gradebook export (Student, ID, Section, ...) nor a Moodle grading "
            f"worksheet (Identifier, Grade, ...); its header is {', '.join(header[:6])}"
        )
    roster.bom = raw.startswith(BOM)
    _check_unique(roster)
    return roster


def _require(path: Path, header: list[str], needed: tuple[str, ...], kind: str) -> None:
    """RosterError naming the first required column the header lacks."""
    for name in needed:
        if name not in header:
            raise RosterError(f"--roster {path}: a {kind} needs the column {name!r}; export it again from the LMS")


def _canvas(path: Path, header: list[str], rows: list[list[str]], assignment: str | None) -> Roster:
    """A Canvas gradebook export: the assignment column, its points possible, the identity columns."""
    _require(path, header, CANVAS_REQUIRED, "Canvas gradebook export")
    columns = [i for i, name in enumerate(header) if ASSIGNMENT.match(name)]
    if assignment is not None:
        chosen = [i for i in columns if assignment in (header[i], *ASSIGNMENT.match(header[i]).group("title", "id"))]
    else:
        chosen = columns
    names = ", ".join(header[i] for i in columns) or "none"
    if len(chosen) != 1:
        what = f"no assignment column matches --assignment {assignment!r}" if assignment else "--assignment is needed"
        raise RosterError(f"--roster {path}: {what}; its assignment columns: {names}")
    score = chosen[0]
    possible = next((row for row in rows if row and row[0].strip() == "Points Possible"), None)
    maximum = _number(possible[score]) if possible is not None and score < len(possible) else None
    keep = [header.index(name) for name in CANVAS_IDENTITY if name in header] + [score]
    return Roster("canvas", path, header, rows, header.index("ID"), score, maximum, keep=keep)


def _moodle(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    """A Moodle grading worksheet: every column written back, the Grade filled."""
    _require(path, header, MOODLE_REQUIRED, "Moodle grading worksheet")
    maxima = {_number(row[header.index("Maximum Grade")]) for row in rows if "Maximum Grade" in header}
    maxima.discard(None)
    maximum = maxima.pop() if len(maxima) == 1 else None
    index = header.index
    return Roster(
        "moodle", path, header, rows, index("Identifier"), index("Grade"), maximum, keep=list(range(len(header)))
    )


def _number(cell: str) -> float | None:
    """A number cell ("100", "100.00", "1,000.5"), or None."""
    try:
        return float(cell.strip().replace(",", ""))
    except ValueError:
        return None


def _check_unique(roster: Roster) -> None:
    """RosterError when two rows claim one student id."""
    seen: set[str] = set()
    for number, row in enumerate(roster.rows, start=2):
        sid = roster.student_id(row)
        if sid is None:
            continue
        if sid in seen:
            column = roster.header[roster.id_column]
            raise RosterError(f"--roster {roster.path}, row {number}: a second row with {column} {sid!r}")
        seen.add(sid)


def scaled(score: float, grader_max: float, roster_max: float | None) -> float:
    """The score on the roster's scale (unchanged when the roster states no maximum)."""
    if not roster_max or not grader_max or abs(roster_max - grader_max) < 1e-9:
        return round(score, 2)
    return round(score / grader_max * roster_max, 2)


def import_file(roster: Roster, finals: dict[str, tuple[float, float]]) -> tuple[bytes, list[str]]:
    """The import file's bytes and the missing roster students; ``finals``: id -> (final score, grader max)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # what both LMSs write
    writer.writerow([roster.header[i] for i in roster.keep])
    missing = []
    for row in roster.rows:
        cells = row + [""] * (len(roster.header) - len(row))
        sid = roster.student_id(cells)
        if sid is None and not (roster.lms == "canvas" and cells[0].strip() == "Points Possible"):
            continue  # Canvas's other non-student rows (e.g. "Manual Posting") are not for import
        if sid is not None and sid in finals:
            score, grader_max = finals[sid]
            cells[roster.score_column] = f"{scaled(score, grader_max, roster.maximum):g}"
        elif sid is not None:
            missing.append(sid)
        writer.writerow([cells[i] for i in roster.keep])
    data = buffer.getvalue().encode("utf-8")
    return (BOM + data if roster.bom else data), missing


def display_name(roster: Roster, row: list[str]) -> str:
    """The student's name as the roster gives it."""
    column = "Student" if roster.lms == "canvas" else "Full name"
    index = roster.header.index(column) if column in roster.header else None
    return row[index] if index is not None and index < len(row) else ""


def names(roster: Roster) -> dict[str, str]:
    """Every roster student's display name, by id (empty names left out)."""
    found = {sid: display_name(roster, row) for sid, row in roster.students().items()}
    return {sid: name for sid, name in found.items() if name}

"""Grades out, piece by piece: the late arithmetic, the rosters, gradebook.csv's bytes, the report's statistics.

No batch runs here (see test_batch_grades_cli.py for the command end to end): results are built with
``results.build`` from a small fake suite, as in test_batch_units.py.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.commands.batch import gradebook, late, outputs, results, roster, stats, submissions
from grader.commands.batch.monitor import WorkerReport
from grader.commands.batch.sandbox import Limits
from grader.commands.batch.trusted import TestInfo, TrustedSuite

ENTRY = "assignments/practice5/test_practice5.py::"
DUE = datetime(2026, 3, 1, 23, 59, tzinfo=timezone(timedelta(hours=8)))


def _suite() -> TrustedSuite:
    """Practice 5: three graded tests (2 + 1 + 1 points)."""
    return TrustedSuite(
        "hash",
        [
            TestInfo(ENTRY + "t1", "first", 5, 2.0, "visible", 0, number="5.1"),
            TestInfo(ENTRY + "t2", "second", 5, 1.0, "visible", 1, number="5.2"),
            TestInfo(ENTRY + "t3", "third", 5, 1.0, "visible", 2, number="5.3"),
        ],
    )


def _outcome(nodeid: str, ran: str) -> dict:
    """One streamed result."""
    return {
        "nodeid": ENTRY + nodeid,
        "ran": ran,
        "fraction": 1.0 if ran == "passed" else 0.0,
        "message": "",
        "kind": "",
        "duration": 0.1,
        "called": True,
    }


def _student(sid: str, passed: set[str], name: str = "", **lms: object) -> results.StudentResult:
    """A graded student who passed the tests in ``passed`` (of t1, t2, t3)."""
    entry = submissions.Submission(sid, Path(sid), "folder", name=name, **lms)  # type: ignore[arg-type]
    entry.files[5] = submissions.FoundFile(
        5, "profile_parser.py", "practice5/profile_parser.py", "practice folder", b""
    )
    outcomes = {ENTRY + t: _outcome(t, "passed" if t in passed else "failed") for t in ("t1", "t2", "t3")}
    worker = WorkerReport(results=outcomes, done={"exitstatus": 0})
    return results.build(entry, "k", [5], _suite(), worker, Limits())


# ---------------------------------------------------------------- the late policy


@pytest.mark.parametrize(
    ("delay", "days"),
    [
        (timedelta(seconds=-3600), 0),
        (timedelta(0), 0),
        (timedelta(seconds=1), 1),
        (timedelta(days=1), 1),
        (timedelta(days=1, seconds=1), 2),
        (timedelta(days=3, hours=1), 4),
    ],
)
def test_a_started_day_counts_as_a_whole_day(delay: timedelta, days: int) -> None:
    """On time (or early) is 0; one second late is one day; a day and a second is two."""
    assert late.started_days(DUE + delay, DUE) == days


def test_penalty_per_started_day_up_to_the_cap() -> None:
    """10 % per started day, capped at 25 %: 1 day 10 %, 2 days 20 %, 3 or 30 days 25 %; final is of the raw."""
    policy = late.LatePolicy(DUE, per_day_pct=10, cap_pct=25)
    assert [policy.penalty(d) for d in (0, 1, 2, 3, 30)] == [0, 10, 20, 25, 25]
    lateness = policy.lateness("a", DUE + timedelta(hours=30), marked_late=False)
    assert (lateness.days, lateness.penalty_pct) == (2, 20)
    assert late.final_score(36, lateness.penalty_pct) == pytest.approx(28.8)
    assert late.final_score(7.5, 25) == pytest.approx(5.625)


def test_times_file_overrides_the_lms_and_the_lms_mark_counts_without_a_time() -> None:
    """--times wins over the LMS's time; Canvas's _LATE_ with no time is one started day, said in the note."""
    policy = late.LatePolicy(DUE, per_day_pct=5, times={"a": DUE + timedelta(days=2, minutes=1)})
    assert policy.lateness("a", DUE - timedelta(days=1), marked_late=False).days == 3
    marked = policy.lateness("b", None, marked_late=True)
    assert marked.days == 1 and marked.penalty_pct == 5 and "marked late by the LMS" in marked.note
    unknown = policy.lateness("c", None, marked_late=False)
    assert unknown.days == 0 and "no submission time" in unknown.note


def test_times_need_an_offset_and_z_is_utc() -> None:
    """A naive time is refused with a fix; 'Z' is UTC (also on Python 3.10, whose fromisoformat lacks it)."""
    with pytest.raises(late.PolicyError, match=r"--due: '2026-03-01T23:59' has no UTC offset"):
        late.parse_time("2026-03-01T23:59", "--due")
    assert late.parse_time("2026-03-01T15:59:00Z", "--due") == DUE
    with pytest.raises(late.PolicyError, match="not an ISO-8601 time"):
        late.parse_time("March 1st", "--due")
    with pytest.raises(late.PolicyError, match="need --due"):
        late.from_args(None, 10, None, None)


def test_a_bad_times_file_names_the_file_and_the_row(tmp_path: Path) -> None:
    """An unknown id or an unparsable date: one line with the file and the row number."""
    path = tmp_path / "times.csv"
    path.write_text("id,submitted\nada,2026-03-01T10:00:00+00:00\nzed,2026-03-01T10:00:00+00:00\n", encoding="utf-8")
    with pytest.raises(late.PolicyError, match=rf"--times {path}, row 3: no student has the id 'zed'"):
        late.read_times(path, {"ada"})
    path.write_text("ada,yesterday\n", encoding="utf-8")
    with pytest.raises(late.PolicyError, match=rf"--times {path}, row 1: 'yesterday' is not an ISO-8601 time"):
        late.read_times(path, {"ada"})
    path.write_text("\ufeffid,time\nada,2026-03-02T00:00:00+08:00\n", encoding="utf-8")  # a spreadsheet's BOM
    assert late.read_times(path, {"ada"}) == {"ada": datetime(2026, 3, 1, 16, tzinfo=timezone.utc)}


# ---------------------------------------------------------------- gradebook.csv


def test_gradebook_has_a_bom_names_maxima_and_round_trips_chinese(tmp_path: Path) -> None:
    """UTF-8 with a BOM (what Excel needs to show 王小明), name, per-practice score and maximum, status."""
    class_ = [_student("1002", {"t1"}, "王小明"), _student("1001", {"t1", "t2", "t3"}, "Ada Lovelace")]
    outputs.write_class_files(tmp_path, class_, [5], {})
    raw = (tmp_path / "gradebook.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "王小明".encode() in raw
    with open(tmp_path / "gradebook.csv", newline="", encoding="utf-8-sig") as handle:  # as a spreadsheet does
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "name", "total", "max", "practice5", "practice5_max", "status"]
    assert [(r["id"], r["name"], r["total"], r["max"], r["practice5"], r["practice5_max"]) for r in rows] == [
        ("1001", "Ada Lovelace", "4", "4", "4", "4"),
        ("1002", "王小明", "2", "4", "2", "4"),
    ]


def test_gradebook_late_columns_keep_total_raw() -> None:
    """With a policy: total stays the raw score; penalty, days and final follow the rule."""
    policy = late.LatePolicy(DUE, per_day_pct=10, cap_pct=25)
    student = _student("a", {"t1", "t2", "t3"}, submitted_at=DUE + timedelta(days=2, seconds=5))
    rows = list(csv.DictReader(io.StringIO(gradebook.text([student], [5], policy))))
    assert rows[0]["total"] == "4" and rows[0]["late_days"] == "3" and rows[0]["penalty_pct"] == "25"
    assert float(rows[0]["final"]) == pytest.approx(3.0)
    assert rows[0]["submitted_at"] == (DUE + timedelta(days=2, seconds=5)).isoformat()


# ---------------------------------------------------------------- rosters


CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Practice 5 (8812),Quiz 1 (8813),Current Score,Final Score\n"
    "    Points Possible,,,,,100,10,(read only),(read only)\n"
    '"王, 小明",1002,s1002,wxm,TRT 101,,7,70,70\n'
    '"Lovelace, Ada",1001,s1001,ada,TRT 101,,9,90,90\n'
    '"Student, Missing",1009,s1009,miss,TRT 101,,8,80,80\n'
)
MOODLE = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    "Participant 1001,Ada Lovelace,ada@example.org,Submitted for grading,,4.00,Yes,"
    '"Sunday, 1 March 2026, 10:00 PM",-,\n'
    "Participant 1002,王小明,wxm@example.org,Submitted for grading,,4.00,Yes,"
    '"Sunday, 1 March 2026, 11:00 PM",-,\n'
    "Participant 1009,Missing Student,miss@example.org,No submission,,4.00,Yes,-,-,\n"
)


def _write(tmp_path: Path, name: str, text: str, bom: bool = True) -> Path:
    """A roster file as the LMS wrote it."""
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _read_back(data: bytes) -> list[list[str]]:
    """An import file read as the LMS would."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_canvas_import_puts_each_final_score_in_the_assignment_column(tmp_path: Path) -> None:
    """The chosen assignment column, scaled to its Points Possible; missing students empty and listed;
    the import file keeps only the identity columns and that column (no other grade is touched)."""
    sheet = roster.read(_write(tmp_path, "grades.csv", CANVAS), "Practice 5")
    assert (sheet.lms, sheet.maximum, sheet.header[sheet.score_column]) == ("canvas", 100.0, "Practice 5 (8812)")
    data, missing = roster.import_file(sheet, {"1001": (4.0, 4.0), "1002": (2.5, 4.0)})
    assert data.startswith(b"\xef\xbb\xbf") and missing == ["1009"]
    table = _read_back(data)
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Practice 5 (8812)"]
    by_id = {row[1]: row for row in table[1:]}
    column = table[0].index("Practice 5 (8812)")
    assert table[1][0].strip() == "Points Possible" and table[1][column] == "100"
    assert float(by_id["1001"][column]) == 100 and float(by_id["1002"][column]) == 62.5
    assert by_id["1002"][0] == "王, 小明" and by_id["1009"][column] == ""


def test_with_a_roster_the_gradebook_shows_the_lms_display_names(tmp_path: Path) -> None:
    """Canvas's file names carry 'lovelaceada'; the roster's 'Lovelace, Ada' is what the gradebook shows."""
    sheet = roster.read(_write(tmp_path, "grades.csv", CANVAS), "Practice 5")
    class_ = [_student("1001", {"t1"}, "lovelaceada"), _student("1003", {"t1"}, "onlyhere")]
    rows = list(csv.DictReader(io.StringIO(gradebook.text(class_, [5], None, roster.names(sheet)))))
    assert [(row["id"], row["name"]) for row in rows] == [("1001", "Lovelace, Ada"), ("1003", "onlyhere")]


def test_canvas_assignment_column_is_chosen_or_asked_for(tmp_path: Path) -> None:
    """By title or id; with two assignment columns and no --assignment, one line listing them."""
    path = _write(tmp_path, "grades.csv", CANVAS)
    assert roster.read(path, "8812").score_column == roster.read(path, "Practice 5 (8812)").score_column
    with pytest.raises(roster.RosterError, match=r"--assignment is needed; its assignment columns: Practice 5"):
        roster.read(path)
    with pytest.raises(roster.RosterError, match="no assignment column matches --assignment 'Lab 9'"):
        roster.read(path, "Lab 9")
    single = _write(tmp_path, "one.csv", "Student,ID,SIS User ID,SIS Login ID,Section,Lab (5)\nA,1,,,S,\n")
    assert roster.read(single).header[roster.read(single).score_column] == "Lab (5)"


def test_moodle_import_fills_the_grade_of_the_worksheet(tmp_path: Path) -> None:
    """Every column of the worksheet kept, Grade filled by participant id, a missing student's left empty."""
    sheet = roster.read(_write(tmp_path, "worksheet.csv", MOODLE, bom=False))
    assert sheet.lms == "moodle" and sheet.maximum == 4.0
    data, missing = roster.import_file(sheet, {"1001": (3.5, 4.0), "1002": (1.0, 4.0)})
    assert not data.startswith(b"\xef\xbb\xbf") and missing == ["1009"]
    table = _read_back(data)
    original = _read_back(MOODLE.encode())
    assert table[0] == original[0] and len(table) == len(original)
    grade = table[0].index("Grade")
    by_id = {row[0]: row for row in table[1:]}
    assert by_id["Participant 1001"][grade] == "3.5" and by_id["Participant 1002"][grade] == "1"
    assert by_id["Participant 1009"][grade] == ""
    for row, before in zip(table[1:], original[1:], strict=True):  # nothing but the grade changes
        assert row[:grade] + row[grade + 1 :] == before[:grade] + before[grade + 1 :]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Student,SIS User ID,Section,Lab (5)\nA,1,S,\n", "a Canvas gradebook export needs the column 'ID'"),
        ("Identifier,Full name,Email address,Status\nParticipant 1,A,a@x,\n", "needs the column 'Grade'"),
        ("First name,Last name,Email address,Lab (Real)\nA,B,a@x,1\n", "Moodle's course gradebook export"),
        ("name,score\nada,1\n", "neither a Canvas gradebook export"),
        ("", "the file is empty"),
        (MOODLE + "Participant 1001,Again,x@x,,,4.00,Yes,-,-,\n", "row 5: a second row with Identifier '1001'"),
    ],
)
def test_a_bad_roster_is_one_line_naming_the_file_and_the_column(tmp_path: Path, text: str, message: str) -> None:
    """Missing columns, an unknown layout, two rows for one student: RosterError with the file's name."""
    path = _write(tmp_path, "roster.csv", text)
    with pytest.raises(roster.RosterError) as caught:
        roster.read(path)
    assert str(caught.value).startswith(f"--roster {path}") and message in str(caught.value)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- the report


def test_practice_statistics_and_the_hardest_tests() -> None:
    """Mean, median, bins over those who handed in; hardest = lowest pass rate, a test all passed is left out."""
    class_ = [_student("a", {"t1", "t2", "t3"}), _student("b", {"t1", "t2"}), _student("c", {"t1"})]
    (item,) = stats.practice_stats(class_, [5])
    assert item.scores == [4.0, 3.0, 2.0] and item.mean == 3.0 and item.median == 3.0 and item.maximum == 4
    assert item.bins()[5] == 1 and item.bins()[7] == 1 and item.bins()[9] == 1
    assert [(t.number, passed, graded) for t, passed, graded in item.hardest] == [("5.3", 1, 3), ("5.2", 2, 3)]


def test_report_has_statistics_histograms_unmatched_files_and_similar_pairs(tmp_path: Path) -> None:
    """A PNG per practice next to report.html, linked relatively; unmatched files; the similarity section."""
    unmatched = ["notes.txt", "profile_parser_old.py"]
    class_ = [_student("1001", {"t1"}, "Ada", unmatched=unmatched), _student("1002", {"t1", "t2"}, "Bo")]
    similarity = {
        "tool": "copydetect 0.5.0",
        "threshold": 0.8,
        "pairs": [
            {"practice": 5, "a": "1001", "b": "1002", "a_name": "Ada", "b_name": "Bo", "similarity": 0.93,
             "regions": [{"a_lines": [3, 20], "b_lines": [5, 22]}]},
        ],
    }  # fmt: skip
    (tmp_path / "similarity.json").write_text(json.dumps(similarity), encoding="utf-8")
    outputs.write_class_files(tmp_path, class_, [5], {})
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "report-practice5.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "<img src='report-practice5.png'" in page and "Per-practice statistics" in page
    assert "notes.txt" in page.split("Files not graded", 1)[1]
    section = page.split("Similar submissions (for a human to look at; grades unchanged)", 1)[1]
    assert "href='similarity.html'" in section and "Ada (1001)" in section and "93 %" in section
    assert "3-20 / 5-22" in section
    rows = list(csv.DictReader(io.StringIO((tmp_path / "gradebook.csv").read_text(encoding="utf-8-sig"))))
    assert [r["total"] for r in rows] == ["2", "3"]  # flags for a human: no grade changes
    feedback = results.feedback(class_[0], "test")
    assert "## Files not graded" in feedback and "`profile_parser_old.py`" in feedback


def test_what_the_lms_said_is_carried_into_the_students_files() -> None:
    """result.json's submission entry and results.json's extra_data keep the name, the LMS, the time and the
    late mark; feedback.md names the student after the id."""
    when = DUE + timedelta(hours=2)
    student = _student("112233", {"t1"}, "王小明", lms="canvas", submitted_at=when, marked_late=True)
    entry = student.submission
    assert (entry["name"], entry["lms"], entry["submitted_at"], entry["marked_late"]) == (
        "王小明", "canvas", when.isoformat(), True
    )  # fmt: skip
    extra = results.gradescope(student, {})["extra_data"]
    assert extra["lms"]["name"] == "王小明" and extra["lms"]["submitted_at"] == when.isoformat()
    assert results.feedback(student, "test").startswith("# Feedback for 112233 (王小明)")
    assert json.loads(json.dumps(student.to_json(), ensure_ascii=False))["submission"]["name"] == "王小明"


def test_a_malformed_similarity_file_never_stops_the_class_files(tmp_path: Path) -> None:
    """A pair that cannot be read is left out; the gradebook and the report are written all the same."""
    broken = {"tool": "x", "threshold": "high", "pairs": [{"practice": "five", "similarity": "much"}, 3]}
    (tmp_path / "similarity.json").write_text(json.dumps(broken), encoding="utf-8")
    outputs.write_class_files(tmp_path, [_student("a", {"t1"})], [5], {})
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "0 pair(s)" in page.split("Similar submissions", 1)[1]
    assert (tmp_path / "gradebook.csv").is_file()

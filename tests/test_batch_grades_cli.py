"""Grades out, end to end through ``python -m grader batch`` (Practice 5 only, to stay fast).

One class of four, graded once (module fixture) with a Canvas roster, a late policy and a times
file; then the same OUT again with a Moodle worksheet and another policy (nothing regraded), then
``--only`` after one student's file changed (only that student regraded, the others' files byte for byte
the same), and the bad inputs that must stop before anything is written.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from grader.core.paths import REPO
from tests.conftest import run_batch

SOLUTION = REPO / "solutions" / "practice5" / "profile_parser.py"
STUB = REPO / "assignments" / "practice5" / "profile_parser.py"
DUE = "2026-03-01T23:59:00+08:00"
# id -> (file, submission time): on time, 1 s late, 3 days and an hour late (4 started days), 2 days late
CLASS = {
    "1001": (SOLUTION, "2026-03-01T23:00:00+08:00"),
    "1002": (SOLUTION, "2026-03-01T15:59:01Z"),
    "1003": (SOLUTION, "2026-03-05T00:59:00+08:00"),
    "1004": (STUB, "2026-03-03T23:00:00+08:00"),
}
CANVAS = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Practice 5 (8812),Quiz 1 (8813),Current Score\n"
    "    Points Possible,,,,,100,10,(read only)\n"
    '"Lovelace, Ada",1001,s1,ada,TRT,,9,90\n"王, 小明",1002,s2,wxm,TRT,,8,80\n"Chen, Cy",1003,s3,cy,TRT,,7,70\n'
    '"Du, Di",1004,s4,di,TRT,,6,60\n"Eve, Missing",1005,s5,eve,TRT,,5,50\n'
)
MOODLE = "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Last modified (grade)\n" + "".join(
    f"Participant {sid},Student {sid},{sid}@example.org,Submitted,,{{max}},-\n" for sid in [*CLASS, "1005"]
)


def _rows(path: Path) -> list[list[str]]:
    """A CSV as a spreadsheet or an LMS reads it (a BOM dropped)."""
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _gradebook(out: Path) -> dict[str, dict[str, str]]:
    """gradebook.csv by id."""
    with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def _student_files(out: Path, sid: str) -> dict[str, bytes]:
    """A student's result.json and results.json, as bytes."""
    return {name: (out / sid / name).read_bytes() for name in ("result.json", "results.json", "feedback.md")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The class graded once with the Canvas roster, 10 %/day capped at 25 %, times from a file."""
    root = tmp_path_factory.mktemp("grades")
    subs = root / "submissions"
    for sid, (source, _) in CLASS.items():
        (subs / sid / "practice5").mkdir(parents=True)
        shutil.copy(source, subs / sid / "practice5" / "profile_parser.py")
    times = root / "times.csv"
    times.write_text("id,submitted\n" + "".join(f"{sid},{when}\n" for sid, (_, when) in CLASS.items()))
    canvas = root / "canvas-grades.csv"
    canvas.write_bytes(b"\xef\xbb\xbf" + CANVAS.encode())
    out = root / "out"
    policy = ["--due", DUE, "--late-penalty", "10", "--late-cap", "25", "--times", str(times)]
    done = run_batch(subs, out, "--practices", "5", "--jobs", "2", "--roster", str(canvas), "--assignment", "8812",
                     *policy)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "missing: 1 roster student(s) handed in nothing" in done.stdout and "1005" in done.stdout
    return {"root": root, "subs": subs, "out": out, "canvas": canvas, "times": times}


def _copy(graded: dict[str, Path], tmp_path: Path) -> tuple[Path, Path]:
    """The class's submissions and OUT copied, so a test that changes them leaves the others' inputs alone."""
    subs, out = tmp_path / "submissions", tmp_path / "out"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["out"], out)
    return subs, out


def _maximum(out: Path) -> float:
    """The class's maximum, from the gradebook."""
    (value,) = {float(row["max"]) for row in _gradebook(out).values()}
    assert value > 0
    return value


def test_gradebook_shows_raw_penalty_and_final(graded: dict[str, Path]) -> None:
    """total is the raw score; 0, 1, 4 (capped at 25 %) and 2 started days; final = total * (1 - penalty)."""
    rows = _gradebook(graded["out"])
    maximum = _maximum(graded["out"])
    expected = {"1001": (0, 0), "1002": (1, 10), "1003": (4, 25), "1004": (2, 20)}
    for sid, (days, penalty) in expected.items():
        row = rows[sid]
        assert (int(row["late_days"]), float(row["penalty_pct"])) == (days, penalty), sid
        raw = maximum if CLASS[sid][0] == SOLUTION else 0.0
        assert float(row["total"]) == raw and float(row["practice5_max"]) == maximum
        assert float(row["final"]) == pytest.approx(raw * (1 - penalty / 100), abs=1e-3), sid
    manifest = json.loads((graded["out"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["late_policy"]["due"] == "2026-03-01T23:59:00+08:00"
    assert manifest["late_policy"]["penalty_percent_per_started_day"] == 10
    assert manifest["late_policy"]["cap_percent"] == 25


def test_canvas_import_round_trips_with_the_roster(graded: dict[str, Path]) -> None:
    """Read back with the roster: every student's final score (scaled to Points Possible 100) in its row and the
    assignment's column, the missing student empty and in the report, the other grades not in the file."""
    table = _rows(graded["out"] / "canvas-import.csv")
    roster = {row[1]: row for row in _rows(graded["canvas"])[1:] if row[1]}
    column = table[0].index("Practice 5 (8812)")
    assert "Quiz 1 (8813)" not in table[0] and "Current Score" not in table[0]
    by_id = {row[1]: row for row in table[1:] if row[1]}
    assert set(by_id) == set(roster)
    finals = {sid: float(row["final"]) for sid, row in _gradebook(graded["out"]).items()}
    maximum = _maximum(graded["out"])
    for sid, row in by_id.items():
        assert row[0] == roster[sid][0]  # the roster's own name, 王 included
        if sid == "1005":
            assert row[column] == ""
        else:
            assert float(row[column]) == pytest.approx(finals[sid] / maximum * 100, abs=0.01), sid
    assert [float(by_id[s][column]) for s in ("1001", "1002", "1003", "1004")] == [100, 90, 75, 0]
    page = (graded["out"] / "report.html").read_text(encoding="utf-8")
    assert "Eve, Missing" in page.split("Missing: on the roster", 1)[1]
    assert (graded["out"] / "report-practice5.png").read_bytes()[:4] == b"\x89PNG"


def test_a_new_policy_and_a_moodle_worksheet_regrade_no_one(graded: dict[str, Path], tmp_path: Path) -> None:
    """Same OUT, 5 %/day and no cap, the Moodle worksheet: no student graded again, result files unchanged;
    moodle-import.csv has each final score in Grade, by participant id."""
    subs, out = _copy(graded, tmp_path)
    before = {sid: _student_files(out, sid) for sid in CLASS}
    maximum = _maximum(out)
    worksheet = graded["root"] / "worksheet.csv"
    worksheet.write_text(MOODLE.format(max=f"{maximum:.2f}"), encoding="utf-8")
    policy = ["--due", DUE, "--late-penalty", "5", "--times", str(graded["times"])]
    done = run_batch(subs, out, "--practices", "5", "--roster", str(worksheet), *policy)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Grading" not in done.stderr  # nothing was graded again
    assert {sid: _student_files(out, sid) for sid in CLASS} == before
    rows = _gradebook(out)
    assert float(rows["1003"]["penalty_pct"]) == 20 and float(rows["1003"]["final"]) == pytest.approx(maximum * 0.8)
    table = _rows(out / "moodle-import.csv")
    grade = table[0].index("Grade")
    by_id = {row[0]: row for row in table[1:]}
    for sid in CLASS:
        assert float(by_id[f"Participant {sid}"][grade]) == pytest.approx(float(rows[sid]["final"]), abs=0.01)
    assert by_id["Participant 1005"][grade] == ""


def test_only_regrades_the_named_student_and_leaves_the_others_alone(graded: dict[str, Path], tmp_path: Path) -> None:
    """1004 hands in the solution instead of the stub: --only 1004 regrades it (its new score shows) and
    rewrites the gradebook; the other students' result files are byte for byte the same."""
    subs, out = _copy(graded, tmp_path)
    others = {sid: _student_files(out, sid) for sid in CLASS if sid != "1004"}
    shutil.copy(SOLUTION, subs / "1002" / "practice5" / "profile_parser.py")  # unchanged content: not regraded
    shutil.copy(SOLUTION, subs / "1004" / "practice5" / "profile_parser.py")
    (subs / "1001" / "practice5" / "profile_parser.py").write_text("def broken(:\n")  # changed, but not named
    done = run_batch(subs, out, "--practices", "5", "--only", "1004", "--due", DUE, "--late-penalty", "10")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Grading 1 of 4" in done.stderr
    assert {sid: _student_files(out, sid) for sid in others} == others
    rows = _gradebook(out)
    maximum = _maximum(out)
    assert float(rows["1004"]["total"]) == maximum and float(rows["1001"]["total"]) == maximum
    result = json.loads((out / "1004" / "result.json").read_text(encoding="utf-8"))
    assert result["score"] == maximum and result["status"] == "graded"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--only", "9999"], "--only: no submission in"),
        (["--roster", "{bad_roster}"], "a Canvas gradebook export needs the column 'ID'"),
        (["--due", "2026-03-01T23:59"], "--due: '2026-03-01T23:59' has no UTC offset"),
        (["--due", DUE, "--times", "{bad_times}"], "row 2: no student has the id '7777'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    graded: dict[str, Path], tmp_path: Path, options: list[str], message: str
) -> None:
    """An unknown --only id, a roster without its id column, a naive due time, a times file naming a stranger:
    exit with one line, and OUT (new or existing) is not touched."""
    bad_roster = tmp_path / "roster.csv"
    bad_roster.write_text("Student,SIS User ID,Section,Lab (1)\nA,1,S,\n")
    bad_times = tmp_path / "times.csv"
    bad_times.write_text("1001,2026-03-01T10:00:00Z\n7777,2026-03-01T10:00:00Z\n")
    filled = [o.format(bad_roster=bad_roster, bad_times=bad_times) for o in options]
    for out in (tmp_path / "new-out", graded["out"]):
        before = {p: p.stat().st_mtime_ns for p in out.rglob("*")} if out.exists() else None
        done = run_batch(graded["subs"], out, "--practices", "5", *filled)
        assert done.returncode != 0 and message in done.stderr, done.stderr[-2000:]
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        after = {p: p.stat().st_mtime_ns for p in out.rglob("*")} if out.exists() else None
        assert after == before

"""Every practice, the solution and the stubs as folders and zips: all output files, 100 % and 0 %.

The hostile corpus is graded in test_batch_hostile.py (Practice 5 only, to stay fast); here the
whole lab runs once, with the file layouts LMS exports produce.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.core.paths import REPO
from grader.practices import PRACTICES
from tests.conftest import grade_outside_repo, make_submission, run_batch


def _practices() -> list[int]:
    """Practices with a suite and a test entry."""
    return [
        n
        for n in PRACTICES
        if (REPO / "grader" / "practices" / f"practice{n}").is_dir()
        and (REPO / "assignments" / f"practice{n}" / f"test_practice{n}.py").is_file()
    ]


def _files(tree: str) -> dict[str, Path]:
    """Student file name -> path in solutions/ or assignments/ (plus nothing else)."""
    return {PRACTICES[n].student_file: REPO / tree / f"practice{n}" / PRACTICES[n].student_file for n in _practices()}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One batch over solution/stub in four layouts."""
    root = tmp_path_factory.mktemp("outputs")
    subs = root / "submissions"
    for number in _practices():  # the canonical layout, as a folder
        target = subs / "solution" / f"practice{number}"
        target.mkdir(parents=True)
        shutil.copy(REPO / "solutions" / f"practice{number}" / PRACTICES[number].student_file, target)
    with zipfile.ZipFile(subs / "solution-zip.zip", "w") as archive:  # one folder deeper, zipped
        for number in _practices():
            path = REPO / "solutions" / f"practice{number}" / PRACTICES[number].student_file
            archive.write(path, f"trt-lab-main/practice{number}/{path.name}")
    (subs / "stub").mkdir()
    for name, path in _files("assignments").items():  # all files at the top level
        shutil.copy(path, subs / "stub" / name)
    with zipfile.ZipFile(subs / "stub-zip.zip", "w") as archive:
        for name, path in _files("assignments").items():
            archive.write(path, name)
    _messy_entries(subs)
    out = root / "out"
    completed = run_batch(subs, out, "--jobs", "2", timeout=1200)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


def _messy_entries(subs: Path) -> None:
    """A class is not only complete solutions: one practice, nothing, a crash, a syntax error."""
    solution5 = REPO / "solutions" / "practice5" / "profile_parser.py"
    (subs / "one-practice" / "practice5").mkdir(parents=True)
    shutil.copy(solution5, subs / "one-practice" / "practice5")
    (subs / "empty").mkdir()
    (subs / "crashed" / "practice5").mkdir(parents=True)
    shutil.copy(
        REPO / "tests" / "hostile" / "os_exit" / "practice5" / "profile_parser.py", subs / "crashed" / "practice5"
    )
    (subs / "syntax" / "practice3").mkdir(parents=True)
    (subs / "syntax" / "practice3" / "dla_build.py").write_text(_broken_dla(), encoding="utf-8")
    (subs / "syntax" / "practice5").mkdir(parents=True)
    shutil.copy(solution5, subs / "syntax" / "practice5")


def _broken_dla() -> str:
    """The Practice 3 solution with a syntax error appended."""
    return (REPO / "solutions" / "practice3" / "dla_build.py").read_text(encoding="utf-8") + "\ndef broken(:\n"


MESSY = {"one-practice", "empty", "crashed", "syntax"}


def _rows(out: Path) -> dict[str, dict[str, str]]:
    """gradebook.csv by student."""
    with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as handle:  # UTF-8 with a BOM
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_gradebook_columns_and_scores(out: Path) -> None:
    """id, name, total, max, per practice its score and maximum, status; solution 100 %, stubs 0 %."""
    rows = _rows(out)
    per_practice = [name for n in _practices() for name in (f"practice{n}", f"practice{n}_max")]
    assert list(next(iter(rows.values()))) == ["id", "name", "total", "max", *per_practice, "status"]
    assert set(rows) == {"solution", "solution-zip", "stub", "stub-zip"} | MESSY
    for student in ("solution", "solution-zip"):
        assert rows[student]["status"] == "graded"
        assert float(rows[student]["total"]) == float(rows[student]["max"]) > 0
    for student in ("stub", "stub-zip"):
        assert rows[student]["status"] == "graded" and float(rows[student]["total"]) == 0
    for number in _practices():  # the practice maxima add up to the class's maximum, in every row
        assert len({row[f"practice{number}_max"] for row in rows.values()}) == 1
    assert sum(float(rows["stub"][f"practice{n}_max"]) for n in _practices()) == float(rows["stub"]["max"])


def test_every_output_file(out: Path) -> None:
    """report.html, manifest.json and per-student results.json (Gradescope) and feedback.md."""
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("Score distribution", "Per-practice statistics", "Pass rate per test", "Slowest submissions"):
        assert section in html
    for number in _practices():  # a histogram per practice, next to the page
        assert f"<img src='report-practice{number}.png'" in html
        assert (out / f"report-practice{number}.png").read_bytes()[:4] == b"\x89PNG"
    for student in _rows(out):
        results = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
        assert {"score", "execution_time", "output", "tests", "extra_data"} <= set(results)
        for test in results["tests"]:
            assert {"name", "number", "score", "max_score", "output", "visibility"} <= set(test)
        assert (out / student / "feedback.md").is_file()


def test_manifest_makes_a_regrade_reproducible(out: Path) -> None:
    """Grader version, suite hash, per-student submission hashes, seeds and the environment."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["grader"]["version"] and len(manifest["suite_hash"]) == 64
    assert manifest["seeds"]["PYTHONHASHSEED"] == 0
    assert any(key.endswith(":SEED") for key in manifest["seeds"])
    assert {"python", "packages", "os"} <= set(manifest["environment"])
    assert manifest["isolation"]["mode"] in ("root", "userns", "none")
    students = {s["id"]: s for s in manifest["students"]}
    assert all(len(s["submission_hash"]) == 64 and len(s["result_key"]) == 64 for s in students.values())


def test_feedback_says_where_files_were_found_and_shows_int8_numbers(out: Path) -> None:
    """Placement per practice, and Practice 2's INT8 measurements of the student's own loader."""
    zipped = (out / "solution-zip" / "feedback.md").read_text(encoding="utf-8")
    assert "trt-lab-main/practice1/export_onnx.py (one folder deeper)" in zipped
    stub = (out / "stub" / "feedback.md").read_text(encoding="utf-8")
    assert "export_onnx.py (top level)" in stub
    if 2 in _practices():
        solution = (out / "solution" / "feedback.md").read_text(encoding="utf-8")
        section = solution.split("## Practice 2", 1)[1].split("## Practice 3", 1)[0]
        assert "INT8 top-1" in section and "agreement" in section  # the loader's own measured numbers


def test_one_class_one_maximum(out: Path) -> None:
    """Complete, stub, one-practice, empty, crashed and syntax-error submissions: one max in every row, and
    each practice's maximum the same in every student's results.json (issue 12, item 3)."""
    rows = _rows(out)
    assert len({row["max"] for row in rows.values()}) == 1, {name: row["max"] for name, row in rows.items()}
    maxima: dict[int, set[float]] = {}
    for student in rows:
        results = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
        assert results["extra_data"]["max_score"] == float(rows[student]["max"])
        for practice in results["extra_data"]["practices"]:
            maxima.setdefault(practice["practice"], set()).add(practice["max_score"])
    assert all(len(values) == 1 for values in maxima.values()), maxima
    assert rows["one-practice"]["status"] == "partial" and rows["empty"]["status"] == "invalid"
    assert rows["crashed"]["status"] == "crashed"


def test_needs_a_look_lists_real_problems_only(out: Path) -> None:
    """The reference is never flagged (torch's own GPU probes are not its code); a practice that does not import,
    or is still the stub, is flagged with the reason (issue 12, item 4)."""

    def result(student: str) -> dict:
        return json.loads((out / student / "result.json").read_text(encoding="utf-8"))

    for student in ("solution", "solution-zip"):
        assert result(student)["events"] == [] and result(student)["flags"] == []
        assert "What your code did" not in (out / student / "feedback.md").read_text(encoding="utf-8")
    assert any("practice3/dla_build.py has a syntax error" in flag for flag in result("syntax")["flags"])
    stub_flags = " ".join(result("stub")["flags"])
    for number in _practices():
        assert f"practice{number}/{PRACTICES[number].student_file} is still the unimplemented stub" in stub_flags
    html = (out / "report.html").read_text(encoding="utf-8")
    look = html.split("<h2>Needs a look</h2>", 1)[1]
    assert "solution/feedback.md" not in look and "solution-zip/feedback.md" not in look
    assert "syntax/feedback.md" in look and "stub/feedback.md" in look and "crashed/feedback.md" in look
    assert "one-practice/feedback.md" not in look


def test_an_empty_submission_gets_one_line_per_practice(out: Path) -> None:
    """Not 100 lines of 'Not handed in': one line per practice that was not handed in (issue 12, item 10)."""
    feedback = (out / "empty" / "feedback.md").read_text(encoding="utf-8")
    assert feedback.count("Not handed in") == len(_practices())
    assert len(feedback.splitlines()) < 20 + 4 * len(_practices())


def test_hidden_tests_are_graded_in_the_batch_and_its_gradescope_report(out: Path) -> None:
    """The batch runs every practice's hidden tests and writes them into results.json as Gradescope 'hidden'."""
    results = json.loads((out / "solution" / "results.json").read_text(encoding="utf-8"))
    hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert {int(t["number"].split(".")[0]) for t in hidden} == set(_practices())
    assert all(t.get("status") == "passed" for t in hidden if t["max_score"] > 0)
    stub = json.loads((out / "stub" / "results.json").read_text(encoding="utf-8"))
    assert all(t["score"] == 0 for t in stub["tests"] if t["visibility"] == "hidden")


def _plugin_report(root: Path, files: dict[int, str]) -> dict:
    """A student's own run (the plugin's results.json) on ``files`` (practice -> text), messages relative to it."""
    for number, text in files.items():
        make_submission(root, "student", number, {PRACTICES[number].student_file: text})
    folder = root / "student"
    return grade_outside_repo(folder, "--start-dir", str(folder)).report


@pytest.mark.parametrize("student", ["stub", "syntax"])
def test_the_plugin_and_the_batch_score_a_submission_alike(out: Path, tmp_path: Path, student: str) -> None:
    """One model of outcomes (grader.core.scoring): the plugin's results.json and the batch's for the same files
    give every test the same status, points, maximum and message, and every practice the same sums. The one
    difference is by design: a test the batch's reference run could not grade says so after the plugin's reason."""
    if student == "stub":
        files = {
            n: (REPO / "assignments" / f"practice{n}" / PRACTICES[n].student_file).read_text() for n in _practices()
        }
    else:
        files = {3: _broken_dla(), 5: (REPO / "solutions" / "practice5" / "profile_parser.py").read_text()}
    plugin = _plugin_report(tmp_path, files)
    batch = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
    in_batch = {test["extra_data"]["nodeid"]: test for test in batch["tests"]}
    assert len(plugin["tests"]) == sum(
        len([t for t in batch["tests"] if t["number"].startswith(f"{n}.")]) for n in files
    )
    for mine in plugin["tests"]:
        theirs = in_batch["assignments/" + mine["extra_data"]["nodeid"]]
        same = ("name", "number", "visibility", "status", "score", "max_score")
        assert {k: mine.get(k) for k in same} == {k: theirs.get(k) for k in same}, mine["extra_data"]["nodeid"]
        if "status" in mine:
            assert mine["output"] == theirs["output"], mine["extra_data"]["nodeid"]
        else:
            assert theirs["output"].startswith(mine["output"]), mine["extra_data"]["nodeid"]
    sums = ("score", "max_score", "passed", "graded", "not_graded")
    by_practice = {p["practice"]: {k: p[k] for k in sums} for p in batch["extra_data"]["practices"]}
    for practice in plugin["extra_data"]["practices"]:
        assert {k: practice[k] for k in sums} == by_practice[practice["practice"]], practice["practice"]

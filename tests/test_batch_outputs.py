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

from grader.practices import PRACTICES
from grader.selfcheck import REPO
from tests.conftest import run_batch


def _practices() -> list[int]:
    """Practices with a suite and a test entry."""
    return [
        n
        for n in PRACTICES
        if (REPO / "grader" / "suites" / f"practice{n}").is_dir()
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
    out = root / "out"
    completed = run_batch(subs, out, "--jobs", "2", timeout=1200)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


def _rows(out: Path) -> dict[str, dict[str, str]]:
    """gradebook.csv by student."""
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def test_gradebook_columns_and_scores(out: Path) -> None:
    """id, total, max, one column per practice, status; solution 100 %, stubs 0 %."""
    rows = _rows(out)
    assert list(next(iter(rows.values()))) == ["id", "total", "max", *[f"practice{n}" for n in _practices()], "status"]
    assert set(rows) == {"solution", "solution-zip", "stub", "stub-zip"}
    for student in ("solution", "solution-zip"):
        assert rows[student]["status"] == "graded"
        assert float(rows[student]["total"]) == float(rows[student]["max"]) > 0
    for student in ("stub", "stub-zip"):
        assert rows[student]["status"] == "graded" and float(rows[student]["total"]) == 0


def test_every_output_file(out: Path) -> None:
    """report.html, manifest.json and per-student results.json (Gradescope) and feedback.md."""
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("Score distribution", "Pass rate per test", "Slowest submissions"):
        assert section in html
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

"""Done when: one class of three in each LMS layout, zipped and extracted, gets the same gradebook rows.

The class: the reference ``profile_parser.py``, the unimplemented stub and a broken copy of the
reference (``parse_perf_summary`` returns nothing), each handed in the way the LMS stores it, graded
through ``python -m grader batch ... --practices 5`` (8 batches, one module fixture; about 20 s each).
Rows are keyed by each LMS's own ids. Then the malformed exports that must stop before OUT is touched.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path

import pytest

from grader.core.paths import REPO
from tests.conftest import mutate, run_batch

SOLUTION = (REPO / "solutions" / "practice5" / "profile_parser.py").read_text(encoding="utf-8")
STUB = (REPO / "assignments" / "practice5" / "profile_parser.py").read_text(encoding="utf-8")
BROKEN = mutate(SOLUTION, "    return summary\n", "    return {}\n")
ROLES = ("reference", "stub", "broken")


def _zip(files: dict[str, str | bytes]) -> bytes:
    """A zip of ``files`` (posix path: content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# layout -> (files of the export, {id: role}); each hands the files in the way that LMS stores them
LAYOUTS: dict[str, tuple[dict[str, str | bytes], dict[str, str]]] = {
    "canvas": (
        {
            "lovelaceada_1001_2001_profile_parser.py": SOLUTION,
            "王小明_LATE_1002_2002_profile_parser-1.py": STUB,
            "chency_1003_2003_lab.zip": _zip({"lab/practice5/profile_parser.py": BROKEN}),
        },
        {"1001": "reference", "1002": "stub", "1003": "broken"},
    ),
    "moodle": (
        {
            "Ada Lovelace_501_assignsubmission_file_/profile_parser.py": SOLUTION,
            "王小明_502_assignsubmission_file/practice5/profile_parser (1).py": STUB,
            "Cy Chen_503_assignsubmission_file_profile_parser.py": BROKEN,
        },
        {"501": "reference", "502": "stub", "503": "broken"},
    ),
    "classroom": (
        {
            "trt-lab5-submissions/trt-lab5-ada/.git/HEAD": "ref: refs/heads/main\n",
            "trt-lab5-submissions/trt-lab5-ada/assignments/practice5/profile_parser.py": SOLUTION,
            "trt-lab5-submissions/trt-lab5-wxm/.git/HEAD": "ref: refs/heads/main\n",
            "trt-lab5-submissions/trt-lab5-wxm/practice5/profile_parser.py": STUB,
            "trt-lab5-submissions/trt-lab5-cy-chen/.git/HEAD": "ref: refs/heads/main\n",
            "trt-lab5-submissions/trt-lab5-cy-chen/profile_parser.py": BROKEN,
        },
        {"ada": "reference", "wxm": "stub", "cy-chen": "broken"},
    ),
    "folders": (
        {
            "ada/practice5/profile_parser.py": SOLUTION,
            "wxm.zip": _zip({"wxm/practice5/profile_parser.py": STUB}),
            "cy/trt-lab-main/assignments/practice5/profile_parser.py": BROKEN,
        },
        {"ada": "reference", "wxm": "stub", "cy": "broken"},
    ),
}
RUNS = [(layout, zipped) for layout in LAYOUTS for zipped in (False, True)]


def _export(root: Path, files: dict[str, str | bytes], zipped: bool) -> Path:
    """The export as the LMS's .zip or as its extracted folder."""
    if zipped:
        path = root / "export.zip"
        path.write_bytes(_zip(files))
        return path
    for name, content in files.items():
        target = root / "export" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return root / "export"


def _rows(out: Path) -> dict[str, dict[str, str]]:
    """gradebook.csv by id (it has a BOM)."""
    with open(out / "gradebook.csv", encoding="utf-8-sig", newline="") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], dict[str, dict[str, str]]]:
    """Every layout, extracted and zipped, graded once: gradebook rows by id, per run."""
    found = {}
    started = time.monotonic()
    for layout, zipped in RUNS:
        root = tmp_path_factory.mktemp(f"{layout}-{'zip' if zipped else 'dir'}")
        source = _export(root, LAYOUTS[layout][0], zipped)
        done = run_batch(source, root / "out", "--practices", "5", "--jobs", "2")
        assert done.returncode == 0, (layout, zipped, done.stdout[-2000:], done.stderr[-4000:])
        found[layout, zipped] = _rows(root / "out")
    print(f"\n{len(RUNS)} batches in {time.monotonic() - started:.0f} s")
    return found


@pytest.mark.parametrize(("layout", "zipped"), RUNS, ids=[f"{lay}-{'zip' if z else 'dir'}" for lay, z in RUNS])
def test_each_layout_grades_the_class_by_its_own_ids(graded: dict, layout: str, zipped: bool) -> None:
    """The reference scores full marks, the stub nothing, the broken copy part; ids are the LMS's."""
    rows = graded[layout, zipped]
    roles = LAYOUTS[layout][1]
    assert sorted(rows) == sorted(roles)
    by_role = {roles[sid]: row for sid, row in rows.items()}
    reference, stub, broken = (by_role[role] for role in ROLES)
    assert float(reference["max"]) > 0 and reference["total"] == reference["max"] == reference["practice5_max"]
    assert reference["status"] == "graded"
    assert float(stub["total"]) == 0 and float(stub["practice5"]) == 0
    assert 0 < float(broken["total"]) < float(broken["max"])


def test_every_layout_gives_the_same_rows(graded: dict) -> None:
    """(total, practice5, status) per student are the same in all four layouts, zipped or extracted."""
    table = {
        run: sorted(
            (LAYOUTS[run[0]][1][sid], row["total"], row["practice5"], row["status"]) for sid, row in rows.items()
        )
        for run, rows in graded.items()
    }
    first = table[RUNS[0]]
    assert len({tuple(rows) for rows in table.values()}) == 1, table
    assert [role for role, *_ in first] == sorted(ROLES)


def test_names_come_from_the_lms(graded: dict) -> None:
    """Canvas's and Moodle's names (any script) reach the gradebook; Classroom and folders have none."""
    assert graded["moodle", True]["502"]["name"] == "王小明"
    assert graded["canvas", False]["1002"]["name"] == "王小明"
    assert graded["moodle", False]["501"]["name"] == "Ada Lovelace"
    assert {row["name"] for row in graded["classroom", True].values()} == {""}


# ---------------------------------------------------------------- bad exports: one line, nothing written


def _one_line(done, *phrases: str) -> None:  # noqa: ANN001 - a CompletedProcess
    """The command failed with one line on stderr holding every phrase."""
    assert done.returncode != 0
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def test_a_corrupt_or_unsafe_export_stops_before_out_is_touched(tmp_path: Path) -> None:
    """A truncated zip, '..' members, one id claimed twice and an unfitting --lms: one line each, no OUT."""
    data = _zip({"ada/profile_parser.py": SOLUTION})
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    (tmp_path / "slip.zip").write_bytes(_zip({"ada/profile_parser.py": SOLUTION, "../x/profile_parser.py": STUB}))
    twice = {
        "Ada Lovelace_7_assignsubmission_file_/profile_parser.py": SOLUTION,
        "Cy Chen_7_assignsubmission_file_/profile_parser.py": STUB,
    }
    (tmp_path / "twice.zip").write_bytes(_zip(twice))
    cases = [
        (tmp_path / "cut.zip", (), ("cut.zip", "not a readable zip")),
        (tmp_path / "slip.zip", (), ("slip.zip", "unsafe path", "../x/profile_parser.py")),
        (tmp_path / "twice.zip", (), ("twice.zip", "participant id 7")),
        (tmp_path / "twice.zip", ("--lms", "canvas"), ("twice.zip", "--lms canvas does not fit")),
    ]
    for source, options, phrases in cases:
        out = tmp_path / f"out-{source.stem}-{len(options)}"
        _one_line(run_batch(source, out, "--practices", "5", *options, timeout=120), *phrases)
        assert not out.exists()

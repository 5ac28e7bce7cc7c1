"""Reading a class's hand-ins in every LMS layout, zipped and extracted, and refusing malformed exports."""

from __future__ import annotations

import ast
import io
import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader.commands.batch import submissions
from grader.commands.batch.submissions import IntakeError, Submission
from grader.practices import PRACTICES

REPO = Path(__file__).resolve().parents[1]
WHEN = (2026, 3, 1, 12, 30, 0)  # every zip entry's time unless a test says otherwise
P5 = "def parse_profile(path):\n    return []\n\n\ndef parse_layer_info(path):\n    return []\n"
P5_CONTENT = (
    P5 + "\n\ndef summarize(profile, layers, top_k=5):\n    return {}\n\n\ndef layer_memory(path):\n    return {}\n"
)
HEADER = "TRT-8601-EntropyCalibration2\ninput: 3c010a14\n"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (posix path: text or bytes) under ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def zip_bytes(files: dict[str, str | bytes], when: tuple[int, ...] = WHEN) -> bytes:
    """A zip of ``files``, every entry dated ``when``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, when), content)
    return buffer.getvalue()


def export(tmp_path: Path, files: dict[str, str | bytes], zipped: bool, name: str = "export") -> Path:
    """SUBMISSIONS holding ``files``: a folder, or the .zip an LMS gives."""
    if zipped:
        path = tmp_path / f"{name}.zip"
        path.write_bytes(zip_bytes(files))
        return path
    return write_tree(tmp_path / name, files)


def loaded(root: Path, lms: str | None = None) -> dict[str, Submission]:
    """Discover and load every student of ``root``, by id."""
    entries, _ = submissions.discover(root, lms=lms)
    return {entry.id: submissions.load(entry) for entry in entries}


def summary(entry: Submission) -> tuple:
    """What grading and the class files see of a student (everything but the source and the time)."""
    files = {n: (f.name, f.where, f.placement, f.data, sorted(f.extras.items())) for n, f in entry.files.items()}
    return entry.id, entry.name, entry.lms, entry.marked_late, files, entry.notes, entry.unmatched, entry.unreadable


def notes(entry: Submission) -> str:
    """All of a student's notes as one text."""
    return "\n".join(entry.notes)


ZIPPED = pytest.mark.parametrize("zipped", [False, True], ids=["extracted", "zipped"])


# ---------------------------------------------------------------- Practice.functions


def test_each_practice_declares_its_suites_functions() -> None:
    """Practice.functions equals the suite's SIGNATURES keys (read from the source), so they never drift."""
    for number, practice in PRACTICES.items():
        tree = ast.parse((REPO / "grader" / "practices" / f"practice{number}" / "suite.py").read_text(encoding="utf-8"))
        signatures = next(
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SIGNATURES" for t in node.targets)
        )
        assert set(practice.functions) == set(ast.literal_eval(signatures)), number
        assert len(practice.functions) == len(set(practice.functions))


# ---------------------------------------------------------------- Canvas


CANVAS = {
    "王小明_LATE_112233_445566_profile_parser-1.py": P5,
    "王小明_112233_445567_notes.txt": "my notes",
    "smithjohn_223344_556677_lab.zip": zip_bytes({"lab/practice5/profile_parser.py": "LAB = 1\n"}),
    "_334455_667788_profile_parser.py": "EMPTY_NAME = 1\n",
    "student2_445566_778899_profile_parser.py": "DIGITS = 1\n",
}


@ZIPPED
def test_canvas_download(tmp_path: Path, zipped: bool) -> None:
    """Canvas ids, names in any script, _LATE, -1 renames, an uploaded zip read as the folder, unmatched files."""
    found = loaded(export(tmp_path, CANVAS, zipped))
    assert sorted(found) == ["112233", "223344", "334455", "445566"]
    wang = found["112233"]
    assert (wang.name, wang.lms, wang.marked_late) == ("王小明", "canvas", True)
    assert wang.files[5].where == "profile_parser-1.py" and wang.files[5].name == "profile_parser.py"
    assert wang.files[5].data == P5.encode()
    assert wang.unmatched == ["notes.txt"]
    smith = found["223344"]
    assert (smith.name, smith.marked_late) == ("smithjohn", False)
    assert smith.files[5].where == "lab.zip/lab/practice5/profile_parser.py"
    assert smith.files[5].data == b"LAB = 1\n" and smith.unmatched == []
    assert found["334455"].name == "" and found["334455"].files[5].data == b"EMPTY_NAME = 1\n"
    assert found["445566"].name == "student2"
    # Canvas's zip stamps every entry with the time it was made (content_zipper.rb, rubyzip's get_output_stream):
    # not a hand-in time, so none is taken from it
    assert wang.submitted_at is None and smith.submitted_at is None


def test_canvas_latest_upload_wins_and_the_older_is_named(tmp_path: Path) -> None:
    """Two uploads of one file: the newer entry is graded, the note names the other."""
    root = tmp_path / "canvas.zip"
    with zipfile.ZipFile(root, "w") as archive:
        # one time for every entry, as Canvas writes them; the attachment ids (9 < 21 < 100) order the uploads
        archive.writestr(zipfile.ZipInfo("ann_11_9_profile_parser.py", WHEN), "OLD = 1\n")
        archive.writestr(zipfile.ZipInfo("ann_11_21_profile_parser-1.py", WHEN), "NEW = 1\n")
        archive.writestr(zipfile.ZipInfo("ann_11_100_profile_parser.py", WHEN), "NEWEST = 1\n")
    ann = loaded(root)["11"]
    assert ann.files[5].data == b"NEWEST = 1\n"  # exact names first, then the newest of them
    assert ann.files[5].where == "ann_11_100_profile_parser.py"  # two uploads of one name: Canvas's names
    assert "ignored ann_11_9_profile_parser.py, profile_parser-1.py" in notes(ann)  # exact, then renamed
    assert ann.submitted_at is None


# ---------------------------------------------------------------- Moodle


MOODLE = {
    "Ann Lee_1001_assignsubmission_file_/practice5/profile_parser.py": "ANN = 1\n",
    "Bob Wu_1002_assignsubmission_file/profile_parser (1).py": "BOB = 1\n",
    "陈静_1003_assignsubmission_file_profile_parser.py": "CHEN = 1\n",
    "Dan Ray_1004_assignsubmission_onlinetext_/onlinetext.html": "<p>see attached</p>",
    "Dan Ray_1004_assignsubmission_file_/handin/profile_parser.py": "DAN = 1\n",
}


@ZIPPED
def test_moodle_download(tmp_path: Path, zipped: bool) -> None:
    """Both folder spellings, the flat variant, '(1)' renames; online text ignored with a note."""
    root = export(tmp_path, MOODLE, zipped)
    entries, skipped = submissions.discover(root)
    found = {e.id: submissions.load(e) for e in entries}
    assert sorted(found) == ["1001", "1002", "1003", "1004"]
    assert {e.id: e.name for e in found.values()} == {
        "1001": "Ann Lee", "1002": "Bob Wu", "1003": "陈静", "1004": "Dan Ray",
    }  # fmt: skip
    assert {e.id: e.files[5].data for e in found.values()} == {
        "1001": b"ANN = 1\n", "1002": b"BOB = 1\n", "1003": b"CHEN = 1\n", "1004": b"DAN = 1\n",
    }  # fmt: skip
    assert found["1002"].files[5].where == "profile_parser (1).py" and "renamed" in notes(found["1002"])
    assert all(e.lms == "moodle" for e in found.values())
    assert any("onlinetext" in line and "ignored" in line for line in skipped)


# ---------------------------------------------------------------- GitHub Classroom


CLASSROOM = {
    "lab5-submissions/lab5-alice/.git/HEAD": "ref: refs/heads/main\n",
    "lab5-submissions/lab5-alice/assignments/practice5/profile_parser.py": "ALICE = 1\n",
    "lab5-submissions/lab5-bob-smith/.git/HEAD": "ref: refs/heads/main\n",
    "lab5-submissions/lab5-bob-smith/practice5/profile_parser.py": "BOB = 1\n",
    "lab5-submissions/lab5-bob-smith/README.md": "# lab 5\n",
}


@ZIPPED
def test_classroom_repositories(tmp_path: Path, zipped: bool) -> None:
    """Repositories inside <assignment>-submissions/: ids are the user names, .git is never read."""
    found = loaded(export(tmp_path, CLASSROOM, zipped))
    assert sorted(found) == ["alice", "bob-smith"]
    assert found["alice"].files[5].where == "assignments/practice5/profile_parser.py"
    assert found["bob-smith"].files[5].data == b"BOB = 1\n"
    assert found["bob-smith"].unmatched == ["README.md"]  # .git/HEAD is not a hand-in
    assert all(e.lms == "classroom" and e.name == "" for e in found.values())
    assert "'lab5-' removed" in notes(found["alice"])


def test_one_classroom_repository_needs_git_or_the_flag(tmp_path: Path) -> None:
    """One folder: read as a student's folder, a Classroom repository with .git, the user name only when forced."""
    plain = write_tree(tmp_path / "a", {"lab5-alice/practice5/profile_parser.py": "A = 1\n"})
    assert list(loaded(plain)) == ["lab5-alice"] and loaded(plain)["lab5-alice"].lms == "folders"
    with_git = write_tree(tmp_path / "b", {"lab5-alice/.git/HEAD": "x", "lab5-alice/profile_parser.py": "A = 1\n"})
    entry = loaded(with_git)["lab5-alice"]
    assert entry.lms == "classroom" and "only one" in notes(entry)
    forced = loaded(plain, lms="classroom")
    assert list(forced) == ["alice"] and "last '-'" in notes(forced["alice"])


def test_shared_prefix_without_git_stays_folders_and_says_so(tmp_path: Path) -> None:
    """Folders that only look like Classroom's keep their names as ids; the decision is reported."""
    root = write_tree(tmp_path / "subs", {"lab-ann/profile_parser.py": "A\n", "lab-bob/profile_parser.py": "B\n"})
    entries, skipped = submissions.discover(root)
    assert [e.id for e in entries] == ["lab-ann", "lab-bob"]
    assert any("GitHub Classroom" in line and "--lms classroom" in line for line in skipped)
    assert [e.id for e in submissions.discover(root, lms="classroom")[0]] == ["ann", "bob"]


# ---------------------------------------------------------------- folders


@ZIPPED
def test_folders_two_deep_and_repository_copies(tmp_path: Path, zipped: bool) -> None:
    """practiceN/ one folder down, or inside a copy of the lab repository (<any>/assignments/practiceN/)."""
    files = {
        "alice/lab/practice5/profile_parser.py": "ALICE = 1\n",
        "bob/trt-lab-main/assignments/practice5/profile_parser.py": "BOB = 1\n",
        "bob/trt-lab-main/assignments/practice5/test_practice5.py": "def test(): pass\n",
        "carol/a/b/practice5/profile_parser.py": "TOO_DEEP = 1\n",
    }
    found = loaded(export(tmp_path, files, zipped))
    assert found["carol"].files == {} and found["carol"].unmatched == ["a/b/practice5/profile_parser.py"]
    assert "not where the grader looks" in notes(found["carol"])
    assert found["alice"].files[5].where == "lab/practice5/profile_parser.py"
    assert found["bob"].files[5].placement == "two folders deeper" and found["bob"].files[5].data == b"BOB = 1\n"
    assert found["bob"].unmatched == ["trt-lab-main/assignments/practice5/test_practice5.py"]
    assert all(e.lms == "folders" and e.submitted_at is None for e in found.values())


@pytest.mark.parametrize("newer", ["zip", "folder"])
def test_a_students_folder_and_zip_are_one_row(tmp_path: Path, newer: str) -> None:
    """alice/ and alice.zip: one entry, the newer file of each practice graded, the merge noted."""
    root = write_tree(tmp_path / "subs", {"alice/practice5/profile_parser.py": "FOLDER = 1\n"})
    (root / "alice.zip").write_bytes(zip_bytes({"practice5/profile_parser.py": "ZIP = 1\n"}))
    folder_time = datetime(*WHEN, tzinfo=timezone.utc).timestamp() + (-3600 if newer == "zip" else 3600)
    os.utime(root / "alice" / "practice5" / "profile_parser.py", (folder_time, folder_time))
    found = loaded(root)
    assert list(found) == ["alice"]
    assert found["alice"].files[5].data == (b"ZIP = 1\n" if newer == "zip" else b"FOLDER = 1\n")
    assert "read together" in notes(found["alice"]) and "ignored" in notes(found["alice"])


# ---------------------------------------------------------------- matching by content and name


def test_a_renamed_file_is_matched_by_its_functions(tmp_path: Path) -> None:
    """A .py file defining most of a practice's functions is that practice's; a file with too few is not."""
    root = write_tree(
        tmp_path / "subs",
        {
            "ann/my_profiler.py": P5_CONTENT,  # 4 of Practice 5's 7 functions
            "ann/helpers.py": "def parse_profile(path):\n    return []\n",  # 1 of 7: not enough
            "ann/loader_v2.py": "def preprocess(image):\n    return image\n",  # 1 of Practice 2's 2: half
            "ann/broken.py": "def (:\n",
        },
    )
    ann = loaded(root)["ann"]
    assert ann.files[5].where == "my_profiler.py" and ann.files[5].name == "profile_parser.py"
    assert ann.files[5].placement == "matched by its functions"
    assert "matched by its functions" in notes(ann) and "parse_profile" in notes(ann)
    assert ann.files[2].where == "loader_v2.py"
    assert sorted(ann.unmatched) == ["broken.py", "helpers.py"]


def test_exact_name_beats_rename_beats_content(tmp_path: Path) -> None:
    """Three files claim Practice 5: the exact name is graded; the renamed one over the content match."""
    files = {"ann/my_profiler.py": P5_CONTENT, "ann/profile_parser_1.py": "RENAMED\n"}
    first = loaded(write_tree(tmp_path / "a", files))["ann"]
    assert first.files[5].where == "profile_parser_1.py"
    files["ann/profile_parser.py"] = "EXACT\n"
    second = loaded(write_tree(tmp_path / "b", files))["ann"]
    assert second.files[5].data == b"EXACT\n"
    assert "ignored" in notes(second) and "my_profiler.py" in notes(second)


def test_underscore_suffix_counts_only_on_a_practice_name(tmp_path: Path) -> None:
    """``profile_parser_1.py`` is Practice 5's; ``report_1.py`` stays unmatched under its own name."""
    ann = loaded(write_tree(tmp_path / "s", {"ann/profile_parser_1.py": "A\n", "ann/report_1.py": "B\n"}))["ann"]
    assert ann.files[5].where == "profile_parser_1.py" and ann.unmatched == ["report_1.py"]


def test_calibration_cache_by_name_or_by_its_header(tmp_path: Path) -> None:
    """calib.cache beside the loader, renamed, or any file whose first line is a TensorRT cache header."""
    root = write_tree(
        tmp_path / "subs",
        {
            "ann/data_loader.py": "A\n",
            "ann/int8.bin": HEADER,
            "bob/data_loader.py": "B\n",
            "bob/calib (1).cache": "TRT-1\n",
            "cat/data_loader.py": "C\n",
            "cat/notes.bin": "not a cache\n",
        },
    )
    found = loaded(root)
    assert found["ann"].files[2].extras == {"calib.cache": HEADER.encode()} and "int8.bin" in notes(found["ann"])
    assert found["bob"].files[2].extras == {"calib.cache": b"TRT-1\n"}
    assert found["cat"].files[2].extras == {} and found["cat"].unmatched == ["notes.bin"]


def test_nothing_is_dropped_silently(tmp_path: Path) -> None:
    """Every file no practice claims is listed (feedback, results.json, report), with the names as handed in."""
    root = write_tree(
        tmp_path / "subs", {"ann/报告.pdf": b"%PDF", "ann/data/x.csv": "1\n", "ann/profile_parser.py": "A"}
    )
    ann = loaded(root)["ann"]
    assert sorted(ann.unmatched) == ["data/x.csv", "报告.pdf"]
    assert "报告.pdf" not in notes(ann)  # listed once, as unmatched, not repeated as a note


@pytest.mark.parametrize(
    ("files", "layout"),
    [
        (CANVAS, "canvas"),
        (MOODLE, "moodle"),
        (CLASSROOM, "classroom"),
        (
            {
                "ann/practice5/profile_parser.py": "A\n",
                "ann/.gitignore": "*.pyc\n",  # hidden files are skipped in both forms
                "bob.zip": zip_bytes({"profile_parser.py": "B\n", "notes.md": "n"}),
            },
            "folders",
        ),
    ],
)
def test_a_zipped_export_reads_like_its_extracted_folder(tmp_path: Path, files: dict, layout: str) -> None:
    """Same ids, files, notes and unmatched lists whether SUBMISSIONS is the .zip or the extracted folder."""
    extracted = loaded(export(tmp_path, files, zipped=False))
    zipped = loaded(export(tmp_path, files, zipped=True))
    assert [summary(e) for e in extracted.values()] == [summary(e) for e in zipped.values()]
    assert {e.lms for e in zipped.values()} == {layout} and zipped


# ---------------------------------------------------------------- --lms


def test_lms_forces_a_layout(tmp_path: Path) -> None:
    """Moodle-named folders forced as folders keep their names; Canvas and Moodle together need --lms."""
    files = {
        "Ann Lee_1001_assignsubmission_file_/profile_parser.py": "A\n",
        "bob_11_22_profile_parser.py": "B\n",
    }
    root = export(tmp_path, files, zipped=False)
    with pytest.raises(IntakeError, match=r"export: .*Canvas.*Moodle.*--lms"):
        submissions.discover(root)
    assert list(loaded(root, lms="moodle")) == ["1001"]
    assert list(loaded(root, lms="canvas")) == ["11"]
    assert list(loaded(root, lms="folders")) == ["Ann Lee_1001_assignsubmission_file_"]


@pytest.mark.parametrize(
    ("files", "lms", "phrase"),
    [
        ({"ann/profile_parser.py": "A"}, "canvas", "no file is named like a Canvas download"),
        ({"bob_11_22_profile_parser.py": "B"}, "moodle", "named like a Moodle download"),
        ({"ann/x.py": "A", "bob/y.py": "B"}, "classroom", "share no '<assignment>-' prefix"),
        ({"bob_11_22_profile_parser.py": "B"}, "folders", "no folder or .zip per student"),
    ],
)
def test_a_forced_layout_that_does_not_fit_is_one_line(tmp_path: Path, files: dict, lms: str, phrase: str) -> None:
    """--lms X on an export of another layout names the export, the layout and what is missing."""
    root = export(tmp_path, files, zipped=False)
    with pytest.raises(IntakeError) as caught:
        submissions.discover(root, lms=lms)
    message = str(caught.value)
    assert "export" in message and f"--lms {lms}" in message and phrase in message and "\n" not in message


# ---------------------------------------------------------------- bad input


def test_a_truncated_or_corrupt_export_zip_is_refused(tmp_path: Path) -> None:
    """A cut download and a damaged entry both end in one line naming the zip."""
    data = zip_bytes({"ann/profile_parser.py": "A = 1\n" * 50, "bob/profile_parser.py": "B = 1\n" * 50})
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(IntakeError, match=r"truncated\.zip: not a readable zip"):
        submissions.discover(truncated)
    damaged = bytearray(data)
    start = data.index(b"A = 1")
    damaged[start : start + 5] = b"X = 9"
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(damaged))
    with pytest.raises(IntakeError, match=r"corrupt\.zip: .*corrupt.*ann/profile_parser\.py"):
        submissions.discover(corrupt)


@pytest.mark.parametrize("member", ["../evil/profile_parser.py", "/abs/profile_parser.py", "ann/../../x.py"])
def test_an_export_zip_with_unsafe_paths_is_refused_whole(tmp_path: Path, member: str) -> None:
    """'..' or absolute members mean a malformed export: nobody is graded from it."""
    path = tmp_path / "class.zip"
    path.write_bytes(zip_bytes({"bob/profile_parser.py": "B\n", member: "EVIL\n"}))
    with pytest.raises(IntakeError) as caught:
        submissions.discover(path)
    assert "class.zip" in str(caught.value) and member in str(caught.value) and "unsafe path" in str(caught.value)


@ZIPPED
def test_two_students_with_one_id_are_refused(tmp_path: Path, zipped: bool) -> None:
    """Moodle folders of two names with one participant id, or Canvas files likewise, name both entries."""
    moodle = {
        "Ann Lee_123_assignsubmission_file_/profile_parser.py": "A\n",
        "Bob Wu_123_assignsubmission_file_/profile_parser.py": "B\n",
    }
    with pytest.raises(IntakeError) as caught:
        submissions.discover(export(tmp_path, moodle, zipped, "moodle"))
    message = str(caught.value)
    assert "moodle" in message and "123" in message and "Ann Lee_123" in message and "Bob Wu_123" in message
    canvas = {"ann_55_1_profile_parser.py": "A\n", "bob_55_2_profile_parser.py": "B\n"}
    with pytest.raises(IntakeError, match=r"canvas.*Canvas user id 55.*ann_55_1.*bob_55_2"):
        submissions.discover(export(tmp_path, canvas, zipped, "canvas"))


def test_one_students_bad_upload_stays_a_note_on_that_student(tmp_path: Path) -> None:
    """A broken zip a student uploaded makes that student unreadable; the others are read as usual."""
    files = {
        "ann_11_21_lab.zip": b"PK\x03\x04 not a zip",
        "bob_12_22_profile_parser.py": "B\n",
        "cat_13_23_lab.zip": b"PK\x03\x04 not a zip",
        "cat_13_24_profile_parser.py": "C\n",
    }
    found = loaded(export(tmp_path, files, zipped=True))
    assert "lab.zip could not be read" in found["11"].unreadable
    assert found["12"].files[5].data == b"B\n" and not found["12"].unreadable
    assert found["13"].files[5].data == b"C\n" and "lab.zip could not be read" in notes(found["13"])


def test_unknown_lms_is_refused(tmp_path: Path) -> None:
    """A layout name discover does not know is one line listing the known ones."""
    with pytest.raises(IntakeError, match="expected one of canvas, moodle, classroom, folders"):
        submissions.discover(write_tree(tmp_path / "s", {"a/x.py": "1"}), lms="blackboard")


# ---------------------------------------------------------------- safe ids


@pytest.mark.parametrize(
    ("sid", "kept"),
    [("王小明-112233", True), ("alice_2", True), ("Ann Lee", False), ("../etc", False), ("a\x07b", False)],
)
def test_safe_ids_keep_letters_of_any_script(sid: str, kept: bool) -> None:
    """Letters and digits of any script survive; spaces, slashes, control characters and leading dots do not."""
    safe = Submission(sid, Path("x"), "folder").safe_id
    assert (safe == sid) is kept
    assert "/" not in safe and " " not in safe and safe.isprintable() and not safe.startswith(".")
    if not kept:
        assert len(safe.rsplit("-", 1)[-1]) == 6  # the short hash keeps changed ids apart


def test_utf8_names_in_a_zip_without_the_utf8_flag(tmp_path: Path) -> None:
    """Info-ZIP and Windows write UTF-8 names without the flag (Python would read cp437 mojibake): 王小明 survives."""
    name = "王小明_112233_445566_profile_parser.py"
    data = bytearray(zip_bytes({name: "A\n"}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general purpose flags, bit 11: UTF-8
        at = data.index(signature) + offset
        data[at : at + 2] = (int.from_bytes(data[at : at + 2], "little") & ~0x800).to_bytes(2, "little")
    path = tmp_path / "canvas.zip"
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).namelist() != [name]  # the flag is really gone
    assert loaded(path)["112233"].name == "王小明"


@ZIPPED
def test_canvas_anonymous_grading(tmp_path: Path, zipped: bool) -> None:
    """Anonymous grading: no name, the id is ``anon_<anonymous id>``, and LATE comes first (content_zipper.rb)."""
    files = {"anon_x1Y2z_445566_profile_parser.py": P5, "LATE_anon_Q9r8s_445567_profile_parser (1).py": P5}
    found = loaded(export(tmp_path, files, zipped))
    assert sorted(found) == ["anon_Q9r8s", "anon_x1Y2z"]
    late, on_time = found["anon_Q9r8s"], found["anon_x1Y2z"]
    assert (late.name, late.lms, late.marked_late, late.files[5].data) == ("", "canvas", True, P5.encode())
    assert (on_time.name, on_time.marked_late, sorted(on_time.files)) == ("", False, [5])

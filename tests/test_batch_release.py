"""``python -m grader release``: the student bundle works on its own and leaks no solution and no hidden test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.commands import release
from grader.core.paths import REPO
from grader.practices import PRACTICES

HIDDEN_TESTS = '''

@pytest.mark.points(1)
@pytest.mark.check("p5.release.instructor_only")
@pytest.mark.visibility("hidden")
def test_instructor_only_check() -> None:
    """an instructor-only check"""


@pytest.mark.visibility("after_due_date")
@pytest.mark.points(1)
@pytest.mark.check("p5.release.after_due_date")
def test_after_the_deadline() -> None:
    """shown after the deadline"""
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle, written by the command."""
    out = tmp_path_factory.mktemp("release") / "bundle"
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "release", str(out)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return out


def _practices() -> list[int]:
    """Practices with a test entry in assignments/."""
    return [n for n in PRACTICES if (REPO / "assignments" / f"practice{n}" / f"test_practice{n}.py").is_file()]


def test_bundle_holds_what_students_need_and_nothing_else(bundle: Path) -> None:
    """assignments, grader, photos, README and install files; no solutions, self-tests, git or CI."""
    names = {path.name for path in bundle.iterdir()}
    assert {"assignments", "grader", "calib_images", "eval_images", "README.md", "setup.sh", "pyproject.toml"} <= names
    assert not names & {"solutions", "tests", ".git", ".ci", "benchmarks", ".github"}
    assert not list(bundle.rglob("__pycache__"))
    assert "selfcheck" not in (bundle / "setup.sh").read_text()  # it would grade solutions/, which is not there
    for number in _practices():
        folder = bundle / "assignments" / f"practice{number}"
        assert (folder / PRACTICES[number].student_file).is_file() and (folder / "README.md").is_file()


def test_no_solution_file_or_function_leaked(bundle: Path) -> None:
    """No file equals a solution file; no solution function body appears anywhere."""
    release.check(REPO, bundle)
    for number in _practices():
        solution = (REPO / "solutions" / f"practice{number}" / PRACTICES[number].student_file).read_bytes()
        stub = (bundle / "assignments" / f"practice{number}" / PRACTICES[number].student_file).read_bytes()
        assert stub != solution


def test_bundle_grades_itself(bundle: Path, tmp_path: Path) -> None:
    """The bundle's own `pytest assignments/practiceN`, with its own grader, grades the stubs at 0 points."""
    env = {**os.environ, "PYTHONPATH": str(bundle)}
    where = subprocess.run(
        [sys.executable, "-c", "import grader; print(grader.__file__)"],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(bundle)
    for number in _practices():
        report = tmp_path / f"practice{number}.json"
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", f"assignments/practice{number}", "--grade-report", str(report)],
            cwd=bundle,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert report.is_file(), completed.stdout[-2000:] + completed.stderr[-2000:]
        data = json.loads(report.read_text())
        assert data["score"] == 0, number
        assert data["tests"] and all(test["visibility"] == "visible" for test in data["tests"])


def test_hidden_tests_are_cut_and_the_check_catches_them(bundle: Path, tmp_path: Path) -> None:
    """A hidden test in a suite is collected (check refuses), then cut by strip_hidden (check passes)."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    suite = copy / "grader" / "practices" / "practice5" / "suite.py"
    suite.write_text(suite.read_text(encoding="utf-8") + HIDDEN_TESTS, encoding="utf-8")
    with pytest.raises(release.ReleaseError, match="not visible are still collected"):
        release.check(REPO, copy)
    removed = release.strip_hidden(copy / "grader" / "practices")
    assert sorted(line.split("::")[1].split()[0] for line in removed) == [
        "test_after_the_deadline",
        "test_instructor_only_check",
    ]
    assert "instructor_only" not in suite.read_text(encoding="utf-8")
    release.check(REPO, copy)


def test_module_marked_hidden_is_emptied(tmp_path: Path) -> None:
    """``pytestmark = pytest.mark.visibility("hidden")`` hides a whole module."""
    suites = tmp_path / "grader" / "practices" / "practice9"
    suites.mkdir(parents=True)
    (suites / "hidden_suite.py").write_text(
        'import pytest\npytestmark = [pytest.mark.visibility("hidden")]\n\n'
        '@pytest.mark.points(1)\ndef test_secret():\n    """secret"""\n'
    )
    removed = release.strip_hidden(tmp_path / "grader" / "practices")
    assert removed and "whole module" in removed[0]
    assert "secret" not in (suites / "hidden_suite.py").read_text()


@pytest.mark.parametrize("leak", ["file", "function"])
def test_check_catches_a_leaked_solution(bundle: Path, tmp_path: Path, leak: str) -> None:
    """A solution file copied in, or a solution function pasted into a grader module, is refused."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    solution = REPO / "solutions" / "practice5" / "profile_parser.py"
    if leak == "file":
        shutil.copy(solution, copy / "grader" / "reference_parser.py")
        phrase = "is a copy of"
    else:
        helper = copy / "grader" / "helpers_for_students.py"
        helper.write_text(solution.read_text(encoding="utf-8").replace("def ", "def renamed_"), encoding="utf-8")
        phrase = "contains the solution's function"
    with pytest.raises(release.ReleaseError, match=phrase):
        release.check(REPO, copy)


def test_release_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    """An existing, non-empty OUT_DIR is kept unless --force."""
    (tmp_path / "keep.txt").write_text("mine")
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "release", str(tmp_path)], cwd=REPO, capture_output=True, text=True
    )
    assert completed.returncode != 0 and "not empty" in completed.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"


def _clone(tmp_path: Path) -> Path:
    """A clone of the repository's last commit, where an instructor can try the practices."""
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, capture_output=True)
    return clone


def test_release_ships_the_committed_stubs_whatever_the_working_tree_holds(tmp_path: Path) -> None:
    """An instructor who tried the practices (a working parser, an export, a helper file) releases the stubs:
    every student file in the bundle is git's committed one, and the command names what it left out."""
    clone = _clone(tmp_path)
    tried = clone / "assignments" / "practice5" / "profile_parser.py"
    solution = (REPO / "solutions" / "practice5" / "profile_parser.py").read_text(encoding="utf-8")
    # A working parser of the instructor's own (no function equal to the solution's: the old check let it through).
    tried.write_text(re.sub(r"(\ndef [^\n]*:\n)", r"\1    _tried = 1\n", solution), encoding="utf-8")
    (clone / "assignments" / "practice2" / "my_notes.py").write_text("ANSWER = 42\n", encoding="utf-8")
    out = tmp_path / "bundle"
    left_out = release.build(clone, out)  # this checkout's release code, the clone's files
    assert (
        "assignments/practice5/profile_parser.py (changed in your working tree: the release holds the committed "
        "version)" in left_out
    )
    assert "assignments/practice2/my_notes.py (untracked in your working tree: not released)" in left_out
    assert not (out / "assignments" / "practice2" / "my_notes.py").exists()
    for path in (out / "assignments").rglob("*"):
        if path.is_file():
            relative = path.relative_to(out).as_posix()
            committed = subprocess.run(
                ["git", "-C", str(clone), "show", f"HEAD:{relative}"], capture_output=True, check=True
            ).stdout
            assert path.read_bytes() == committed, relative
    report = tmp_path / "p5.json"
    env = {**os.environ, "PYTHONPATH": str(out)}
    subprocess.run(
        [sys.executable, "-m", "pytest", "assignments/practice5", "--grade-report", str(report)],
        cwd=out,
        env=env,
        capture_output=True,
        check=False,
    )
    assert json.loads(report.read_text())["score"] == 0


def test_release_outside_a_git_checkout_is_refused(tmp_path: Path) -> None:
    """Without git's commit there is no way to tell a stub from a tried-out practice: one clear line, nothing written."""
    copy = tmp_path / "course"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.onnx"))
    with pytest.raises(release.ReleaseError, match="not a git checkout"):
        release.build(copy, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def test_no_hidden_test_of_the_course_reaches_the_bundle(bundle: Path) -> None:
    """Every practice has real hidden tests (issue 12, item 8); none of them, by name or by source, is in the
    student release, and the bundle's suites still collect every visible test."""
    repo_tests = release.collected_visibilities(REPO)
    hidden = {nodeid.split("::")[-1] for nodeid, visibility in repo_tests.items() if visibility != "visible"}
    practices = {int(nodeid.split("/practice")[1].split("/")[0]) for nodeid, v in repo_tests.items() if v != "visible"}
    assert practices == set(_practices()), "every practice has hidden tests"
    source = "\n".join(path.read_text(encoding="utf-8") for path in (bundle / "grader").rglob("*.py"))
    for name in hidden:
        assert f"def {name.split('[')[0]}(" not in source, name
    bundle_tests = release.collected_visibilities(bundle)
    visible = {nodeid for nodeid, visibility in repo_tests.items() if visibility == "visible"}
    assert set(bundle_tests) == visible

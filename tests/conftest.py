"""Helpers for the grader's self-tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.selfcheck import REPO, FolderGrade, grade_folder


def mutate(text: str, old: str, new: str) -> str:
    """Replace ``old`` (which must occur exactly once) by ``new``: one deliberate mistake."""
    count = text.count(old)
    assert count == 1, f"mutation target occurs {count} times, expected once: {old!r}"
    return text.replace(old, new)


def make_submission(root: Path, name: str, practice: int, files: dict[str, str]) -> Path:
    """A practice folder ``root/name/practiceN`` holding ``files`` and the pristine test entry."""
    folder = root / name / f"practice{practice}"
    folder.mkdir(parents=True)
    entry = REPO / "solutions" / f"practice{practice}" / f"test_practice{practice}.py"
    shutil.copy(entry, folder / entry.name)
    for filename, text in files.items():
        (folder / filename).write_text(text, encoding="utf-8")
    return folder


def grade_outside_repo(root: Path, *extra_args: str) -> FolderGrade:
    """Grade every practice folder under ``root`` in one pytest process (the lab's config)."""
    return grade_folder(root, "-c", str(REPO / "pyproject.toml"), "--rootdir", str(root), *extra_args, quiet=True)


def results_by_submission(grade: FolderGrade) -> dict[str, dict[str, dict]]:
    """``{submission name: {test function: results.json test entry}}``."""
    out: dict[str, dict[str, dict]] = {}
    for test in grade.report["tests"]:
        nodeid = test["extra_data"]["nodeid"]
        out.setdefault(nodeid.split("/")[0], {})[nodeid.split("::")[-1]] = test
    return out


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO

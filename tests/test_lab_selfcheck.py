"""The lab's integrity: reference solutions earn every gradable point, the stubs none.

This is what `python -m grader selfcheck` checks, asserted here from the JSON reports.
"""

from __future__ import annotations

import pytest

from grader.commands.selfcheck import REPO, FolderGrade, grade_folder
from grader.practices import PRACTICES

# Module settings the stubs leave for the student to fix (not functions, so they cannot raise
# NotImplementedError): these fail with their own message instead.
STUB_SETTINGS = {"p2.settings.calib_dir_default": "CALIB_DIR"}


@pytest.fixture(scope="module")
def solutions() -> FolderGrade:
    """Every practice in solutions/, graded in one pytest process."""
    return grade_folder(REPO / "solutions", quiet=True)


@pytest.fixture(scope="module")
def assignments() -> FolderGrade:
    """Every practice in assignments/ (the untouched stubs), graded in one pytest process."""
    return grade_folder(REPO / "assignments", quiet=True)


def _practices_present() -> list[int]:
    """Practices that have a folder in both trees."""
    return [n for n, p in PRACTICES.items() if (REPO / "solutions" / p.folder).is_dir()]


def test_solutions_earn_every_gradable_point(solutions: FolderGrade) -> None:
    """solutions/ earns 100 % of what this machine can grade, in every practice."""
    assert solutions.max_score > 0
    assert solutions.score == solutions.max_score, [t for t in solutions.report["tests"] if t.get("status") == "failed"]
    graded = {p["practice"] for p in solutions.report["extra_data"]["practices"]}
    assert graded == set(_practices_present())


def test_stubs_earn_nothing(assignments: FolderGrade) -> None:
    """assignments/ earns 0, and every failure says the function is not implemented yet."""
    assert assignments.max_score > 0 and assignments.score == 0
    for test in assignments.report["tests"]:
        setting = STUB_SETTINGS.get(test["extra_data"]["check"])
        if test.get("status") == "failed":
            expected = setting or "not implemented yet"
            assert expected in test["output"], (test["name"], test["output"])


def test_same_tests_in_both_trees(solutions: FolderGrade, assignments: FolderGrade) -> None:
    """Both trees run the same suites, so their maximum scores agree."""
    assert solutions.max_score == assignments.max_score
    assert len(solutions.report["tests"]) == len(assignments.report["tests"])


def test_gpu_tier_is_not_graded_without_tensorrt(solutions: FolderGrade) -> None:
    """Without TensorRT, GPU-tier tests are skipped as 'not graded', never passed or scored 0."""
    if solutions.report["extra_data"]["fingerprint"]["tensorrt"]:
        pytest.skip("TensorRT is installed here: the GPU tier is graded")
    gpu = [t for t in solutions.report["tests"] if "TensorRT" in t["name"] and "not graded" in t["name"]]
    assert gpu, "expected at least one TensorRT test reported as not graded"
    for test in gpu:
        assert test["max_score"] == 0 and "status" not in test
        assert "not graded on this machine" in test["output"]
